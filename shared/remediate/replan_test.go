package remediate_test

import (
	"encoding/json"
	"testing"

	"github.com/kdaguard/kdaguard/shared/remediate"
	"github.com/kdaguard/kdaguard/shared/settings"
)

// Each ConcurrentModificationException re-reads and re-plans; the records
// that only report (reported, planned, deferred, skipped) are those of the
// final round, each once: in the outcome, the log and the audit events. The
// planned calls' exact inputs (IAM.2 reads the trust policy) are computed
// once too.
func TestRetriesAfterConflictsRecordThePlanOnce(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{})
	// Report mode: one load, plus the planned IAM.2 call's iam:GetRole.
	rep := settings.Defaults()
	if _, err := f.executor(rep).Converge(f.ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	perLoad := f.count("GetRole") - 1
	f.env.ResetJournal()
	before := len(f.env.Events())
	f.env.CompetingWriter("orders", 2)
	*f.logs = syncBuf{}
	out, err := f.executor(f.settings()).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	if n := f.env.CountErrors("kinesisanalyticsv2", "UpdateApplication", "ConcurrentModificationException"); n != 2 {
		t.Fatalf("ConcurrentModificationException %d, want 2", n)
	}
	planOnly := func(o string) bool {
		return o == remediate.Reported || o == remediate.Planned || o == remediate.Deferred || o == remediate.Skipped
	}
	type key struct{ rule, cond, outcome string }
	seen := map[key]int{}
	for _, a := range out.Actions {
		if planOnly(a.Outcome) {
			seen[key{a.Rule, a.Condition, a.Outcome}]++
		}
	}
	if len(seen) == 0 {
		t.Fatal("no plan-only records: the test needs some")
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%v recorded %d times, want once", k, n)
		}
	}
	logged := map[key]int{}
	for _, l := range f.logs.lines(t) {
		if l["msg"] != "kdaguard remediation" {
			continue
		}
		o, _ := l["outcome"].(string)
		if planOnly(o) {
			r, _ := l["rule"].(string)
			c, _ := l["condition"].(string)
			logged[key{r, c, o}]++
		}
	}
	for k, n := range logged {
		if n != 1 {
			t.Errorf("%v logged %d times, want once", k, n)
		}
	}
	evented := map[key]int{}
	events := f.env.Events()[before:]
	for _, e := range events {
		var a remediate.Action
		if err := json.Unmarshal([]byte(e.Detail), &a); err != nil {
			t.Fatal(err)
		}
		if planOnly(a.Outcome) {
			evented[key{a.Rule, a.Condition, a.Outcome}]++
		}
	}
	for k, n := range evented {
		if n != 1 {
			t.Errorf("%v sent as an event %d times, want once", k, n)
		}
	}
	if len(events) != len(out.Actions) {
		t.Errorf("%d events for %d actions", len(events), len(out.Actions))
	}
	// Three planning reads and the verification's: the planned IAM.2 call
	// reads the trust policy once.
	if got, want := f.count("GetRole"), 4*perLoad+1; got != want {
		t.Errorf("iam:GetRole %d times, want %d (%d per load, 1 for the planned call)", got, want, perLoad)
	}
}
