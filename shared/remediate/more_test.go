package remediate_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kdaguard/kdaguard/shared/remediate"
	"github.com/kdaguard/kdaguard/shared/settings"
)

func TestTransitionalStatusIsRetriedLater(t *testing.T) {
	f := start(t)
	f.env.SetTransitionDelay(time.Hour)
	f.app("orders", appOpts{running: true}) // STARTING for an hour
	out, err := f.executor(f.settings()).Converge(f.ctx, "orders")
	if !errors.Is(err, remediate.ErrBusy) {
		t.Fatalf("err %v, want ErrBusy so that Lambda retries", err)
	}
	if n := f.count("UpdateApplication") + f.count("AddApplicationCloudWatchLoggingOption"); n != 0 {
		t.Errorf("%d configuration calls on a STARTING application", n)
	}
	if got := outcomes(out); got["KDA.RES.1"] != remediate.Skipped || got["KDA.DP.2"] != remediate.Verified {
		t.Errorf("outcomes %v", got)
	}
}

func TestScheduledSweepThroughHandler(t *testing.T) {
	f := start(t)
	for _, n := range []string{"a1", "a2", "a3"} {
		f.app(n, appOpts{})
	}
	h := f.handler(f.settings(func(s *settings.Settings) { s.MaxChanges = 1 }))
	ev := []byte(`{"version":"0","id":"89d1a02d-5ec7-412e-82f5-13505f849b41","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-03-02T10:00:00Z","region":"us-east-1","resources":[],"detail":{}}`)
	if err := h.Handle(f.ctx, ev); err != nil {
		t.Fatal(err)
	}
	if n := f.count("UpdateApplication"); n != 1 {
		t.Errorf("UpdateApplication %d, want 1 (MaxChanges)", n)
	}
}

// The planted credential appears nowhere: log lines, audit events and
// notifications, in report mode, remediation and failure alike; the DP.5
// finding names the property key only.
func TestPlantedSecretNeverLeaks(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{})
	s := settings.Defaults()
	s.TopicARN = f.topic
	if _, err := f.executor(s).Converge(f.ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	f.env.SetFaults(faultCode("kms", "EnableKeyRotation", "AccessDeniedException"))
	f.env.CompetingWriter("orders", 1)
	_, _ = f.executor(f.settings()).Converge(f.ctx, "orders")
	f.noSecret()
	if !strings.Contains(f.logs.String(), "app/aws.secret.access.key") {
		t.Errorf("the DP.5 finding does not name the property:\n%s", f.logs.String())
	}
	if len(f.env.Events()) == 0 || len(f.env.Published()) == 0 {
		t.Error("nothing was audited")
	}
}

func TestOptInRetentionAndSnapshot(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{running: true})
	s := f.settings(func(s *settings.Settings) {
		s.RuleModes = map[string]settings.Mode{"KDA.MON.3": settings.ModeRemediate, "KDA.RES.5": settings.ModeRemediate}
	})
	out, err := f.executor(s).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	// Snapshots were disabled (RES.2): RES.5 is reported, not fixed, until
	// the merged update turned them on.
	if got := outcomes(out); got["KDA.RES.5"] != "" || got["KDA.MON.1"] != remediate.Verified || got["KDA.RES.2"] != remediate.Verified {
		t.Errorf("first run: %v", got)
	}
	// The log group MON.1 created never expires and no snapshot exists:
	// the next run sets retention and takes one.
	out, err = f.executor(s).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	if got := outcomes(out); got["KDA.MON.3"] != remediate.Verified || got["KDA.RES.5"] != remediate.Verified {
		t.Errorf("second run: %v", got)
	}
	if f.count("PutRetentionPolicy") != 1 || f.count("CreateApplicationSnapshot") != 1 {
		t.Errorf("PutRetentionPolicy %d, CreateApplicationSnapshot %d", f.count("PutRetentionPolicy"), f.count("CreateApplicationSnapshot"))
	}
	// MON.3's other condition (no KMS key on the group) stays reported and
	// does not make the retention fix a failure.
	if !strings.Contains(f.logs.String(), `"condition":"kms:/aws/kinesis-analytics/orders"`) {
		t.Errorf("the unfixed condition is not reported:\n%s", f.logs.String())
	}
}

// A snapshot is CREATING for a while after CreateApplicationSnapshot
// returns: verification waits for it within VerifyPatience, and says
// failed, not verified, when it has not shown by then.
func TestAsynchronousFixIsAwaitedNotAssumed(t *testing.T) {
	for _, tc := range []struct {
		name     string
		patience time.Duration
		want     string
	}{
		{"shows within patience", 10 * time.Second, remediate.Verified},
		{"not shown in time", 50 * time.Millisecond, remediate.Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t)
			f.app("orders", appOpts{running: true})
			s := f.settings(func(s *settings.Settings) {
				s.RuleModes = map[string]settings.Mode{"KDA.RES.5": settings.ModeRemediate}
			})
			if _, err := f.executor(s).Converge(f.ctx, "orders"); err != nil { // turns snapshots on (RES.2)
				t.Fatalf("%v\n%s", err, f.logs.String())
			}
			f.env.SetTransitionDelay(1200 * time.Millisecond)
			ex := f.executor(s)
			ex.VerifyPatience = tc.patience
			out, _ := ex.Converge(f.ctx, "orders")
			if got := outcomes(out)["KDA.RES.5"]; got != tc.want {
				t.Errorf("RES.5 outcome %q, want %q\n%s", got, tc.want, f.logs.String())
			}
			if n := f.count("CreateApplicationSnapshot"); n != 1 {
				t.Errorf("CreateApplicationSnapshot %d times, want 1", n)
			}
		})
	}
}

// The remediator judges with the Config rules' parameters: a log level the
// operator allowed is not "fixed" back to INFO.
func TestRuleParametersAreHonoured(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{})
	ex := f.executor(f.settings())
	ex.Params = map[string]map[string]string{"KDA.MON.2": {"allowedLogLevels": "DEBUG,INFO"}}
	out, err := ex.Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	got := outcomes(out)
	if got["KDA.MON.2"] != "" || got["KDA.RES.1"] != remediate.Verified {
		t.Errorf("outcomes %v: MON.2 must be left alone, RES.1 fixed", got)
	}
	if strings.Contains(f.logs.String(), "LogLevelUpdate") {
		t.Errorf("the update changed the log level:\n%s", f.logs.String())
	}
}
