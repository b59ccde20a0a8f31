package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kdaguard/kdaguard/internal/localaws/localawstest"
	"github.com/kdaguard/kdaguard/internal/rie"
	"github.com/kdaguard/kdaguard/shared/rules"
)

// BenchmarkScheduledRun sizes the evaluator's Lambda memory. One function
// serves every kdaguard Config rule, so one warm process receives the
// scheduled notification of each rule in turn; an op is that round (every
// catalog rule, each over the whole account) through the compiled
// bootstrap under the RIE against localaws. peak-RSS-MB is the function
// process's VmHWM after all ops (what Lambda reports as Max Memory Used);
// ms/rule-run is one rule's scheduled run and cpu-ms/rule-run the CPU time
// the function used for it (Lambda's CPU share grows with memory, so this
// is what a smaller size slows). Loopback localaws answers in about 0.3 ms
// where AWS takes 10 to 50 ms, so wall times here are a floor.
func BenchmarkScheduledRun(b *testing.B) {
	for _, n := range []int{100, 500} {
		b.Run(fmt.Sprintf("apps=%d", n), func(b *testing.B) {
			env := localawstest.Start(b)
			ctx := context.Background()
			if _, err := env.SeedAccount(ctx, n); err != nil {
				b.Fatal(err)
			}
			fn := rie.Start(b, rie.Build(b, "./functions/configrule"), functionEnv(env, nil))
			catalog := rules.All()
			want := 0 // evaluations per round: every application per application rule, the account per account rule
			for _, r := range catalog {
				if r.Scope == rules.ScopeAccount {
					want++
				} else {
					want += n
				}
			}
			payloads := make([][]byte, len(catalog))
			for i, r := range catalog {
				id := r.ID
				payloads[i] = sample(b, env, "scheduled.json", func(ev *events.ConfigEvent) {
					ev.RuleParameters = fmt.Sprintf(`{"ruleId":%q}`, id)
					ev.ConfigRuleName = "kdaguard-" + id
					ev.ResultToken = env.IssueResultToken(ev.ConfigRuleName)
				})
			}
			ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
			defer cancel()
			// The cold start (Lambda's init) is not part of a round.
			if out, err := fn.Invoke(ctx, payloads[0]); err != nil {
				b.Fatalf("warm-up: %v (%s)", err, out)
			}
			cpu0, err := fn.CPUTime()
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				before := len(env.Evaluations())
				for i, p := range payloads {
					if out, err := fn.Invoke(ctx, p); err != nil {
						b.Fatalf("%s: %v (%s)", catalog[i].ID, err, out)
					}
				}
				evs := env.Evaluations()[before:]
				if len(evs) != want {
					b.Fatalf("%d evaluations in a round, want %d", len(evs), want)
				}
				for _, e := range evs {
					// The account is built to comply: an UNKNOWN means a read failed and
					// the round measured less work than a real one.
					if strings.HasPrefix(e.Annotation, "could not verify") {
						b.Fatalf("%s %s: %s", e.ConfigRuleName, e.ComplianceResourceID, e.Annotation)
					}
				}
			}
			b.StopTimer()
			peak, err := fn.PeakRSS()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
			cpu1, err := fn.CPUTime()
			if err != nil {
				b.Fatal(err)
			}
			runs := float64(b.N * len(catalog))
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/runs, "ms/rule-run")
			b.ReportMetric(float64((cpu1-cpu0).Milliseconds())/runs, "cpu-ms/rule-run")
		})
	}
}
