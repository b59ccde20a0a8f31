package remediate_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kdaguard/kdaguard/internal/localaws"
	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/remediate"
	"github.com/kdaguard/kdaguard/shared/settings"
	"github.com/kdaguard/kdaguard/shared/trigger"
)

const selfRole = "arn:aws:iam::123456789012:role/kdaguard/kdaguard-remediator-role"

func sample(t *testing.T, parts ...string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"..", "..", "events"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) handler(s settings.Settings) *remediate.Handler {
	return &remediate.Handler{Exec: f.executor(s), Self: trigger.SelfFromRoleARN(selfRole), Account: "123456789012", Region: "us-east-1"}
}

func TestOwnEventsAreIgnoredNoLoop(t *testing.T) {
	f := start(t)
	f.app("orders-enrichment", appOpts{})
	h := f.handler(f.settings())
	for _, ev := range []string{"own-call.json", "failed-call.json", "v1-api-call.json"} {
		if err := h.Handle(f.ctx, sample(t, "cloudtrail", ev)); err != nil {
			t.Errorf("%s: %v", ev, err)
		}
	}
	if j := f.env.Journal(); len(j) != 0 {
		t.Errorf("ignored events made %d calls, first %s:%s", len(j), j[0].Service, j[0].Operation)
	}
	// Self learned from STS: an assumed-role ARN (no path) works too.
	h.Self = trigger.SelfFromCallerARN("arn:aws:sts::123456789012:assumed-role/kdaguard-remediator-role/kdaguard-remediator")
	if err := h.Handle(f.ctx, sample(t, "cloudtrail", "own-call.json")); err != nil || len(f.env.Journal()) != 0 {
		t.Errorf("own call with learned identity: %v, %d calls", err, len(f.env.Journal()))
	}
	// Someone else's change converges; the remediator's own resulting
	// event then converges nothing.
	if err := h.Handle(f.ctx, sample(t, "cloudtrail", "iam-user-call.json")); err != nil {
		t.Fatal(err)
	}
	if f.count("UpdateApplication") != 1 {
		t.Fatalf("UpdateApplication %d", f.count("UpdateApplication"))
	}
	f.env.ResetJournal()
	if err := h.Handle(f.ctx, sample(t, "cloudtrail", "own-call.json")); err != nil || len(f.mutating()) != 0 {
		t.Errorf("own event after a fix: %v, writes %v", err, f.mutating())
	}
	// And a compliance change re-evaluates: already converged, no write.
	if err := h.Handle(f.ctx, sample(t, "compliance", "non-compliant.json")); err != nil || len(f.mutating()) != 0 {
		t.Errorf("compliance change: %v, writes %v", err, f.mutating())
	}
}

func TestUndecodableEventIsAnError(t *testing.T) {
	f := start(t)
	h := f.handler(f.settings())
	if err := h.Handle(f.ctx, json.RawMessage(`{"hello":"world"}`)); !errors.Is(err, trigger.ErrUndecodable) {
		t.Errorf("got %v", err)
	}
}

func TestDeletedApplicationIsNotAnError(t *testing.T) {
	f := start(t)
	h := f.handler(f.settings())
	if err := h.Handle(f.ctx, sample(t, "cloudtrail", "DeleteApplication.json")); err != nil {
		t.Errorf("got %v", err)
	}
}

func TestOtherRegionIgnored(t *testing.T) {
	f := start(t)
	f.app("orders-enrichment", appOpts{})
	h := f.handler(f.settings())
	h.Region = "eu-west-1"
	if err := h.Handle(f.ctx, sample(t, "cloudtrail", "UpdateApplication.json")); err != nil || len(f.env.Journal()) != 0 {
		t.Errorf("event for another Region: %v, %d calls", err, len(f.env.Journal()))
	}
}

func TestDuplicateDeliveriesOneUpdate(t *testing.T) {
	f := start(t)
	f.app("orders-enrichment", appOpts{})
	h := f.handler(f.settings())
	ev := sample(t, "cloudtrail", "UpdateApplication.json")
	sem := make(chan struct{}, 20)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := h.Handle(f.ctx, ev); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d errors, first: %v", len(errs), errs[0])
	}
	if n := f.count("UpdateApplication"); n != 1 {
		t.Errorf("UpdateApplication calls = %d, want exactly 1", n)
	}
	if n := f.count("AddApplicationCloudWatchLoggingOption"); n != 1 {
		t.Errorf("AddApplicationCloudWatchLoggingOption calls = %d, want exactly 1", n)
	}
	if n := f.count("EnableKeyRotation"); n != 1 {
		t.Errorf("EnableKeyRotation calls = %d, want exactly 1", n)
	}
	if p := f.env.Published(); len(p) != 1 {
		t.Errorf("%d notifications, want 1", len(p))
	}
}

// Two executors (two Lambda execution environments) share nothing but the
// token: the loser of the race re-reads and finds nothing left to do.
func TestDuplicateDeliveriesAcrossEnvironments(t *testing.T) {
	f := start(t)
	f.app("orders-enrichment", appOpts{})
	ev := sample(t, "cloudtrail", "UpdateApplication.json")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range 8 {
		h := f.handler(f.settings())
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = h.Handle(f.ctx, ev)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	ok := f.count("UpdateApplication") - f.env.CountErrors("kinesisanalyticsv2", "UpdateApplication", "ConcurrentModificationException")
	if ok != 1 {
		t.Errorf("successful UpdateApplication = %d, want 1", ok)
	}
	if n := f.env.CountErrors("kinesisanalyticsv2", "UpdateApplication", ""); n != f.env.CountErrors("kinesisanalyticsv2", "UpdateApplication", "ConcurrentModificationException") {
		t.Errorf("UpdateApplication failures other than the token guard: %d", n)
	}
}

func competingWrites(t *testing.T, f *fixture, name string) string {
	t.Helper()
	for _, g := range f.describe(name).ApplicationConfigurationDescription.EnvironmentPropertyDescriptions.PropertyGroupDescriptions {
		if aws.ToString(g.PropertyGroupId) == "localaws.competing-writer" {
			return g.PropertyMap["writes"]
		}
	}
	return ""
}

func TestCompetingWriterReReadsAndNeverOverwrites(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{})
	f.env.CompetingWriter("orders", 1)
	out, err := f.executor(f.settings()).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	if n := f.env.CountErrors("kinesisanalyticsv2", "UpdateApplication", "ConcurrentModificationException"); n != 1 {
		t.Errorf("ConcurrentModificationException %d, want 1", n)
	}
	if ok := f.count("UpdateApplication") - 1; ok != 1 {
		t.Errorf("successful updates %d", ok)
	}
	if got := outcomes(out); got["KDA.RES.1"] != remediate.Verified {
		t.Errorf("outcomes %v", got)
	}
	if w := competingWrites(t, f, "orders"); w != "1" {
		t.Errorf("the other writer's change is gone: writes=%q", w)
	}
	f.noSecret()
}

func TestCompetingWriterThatNeverStopsFailsAfterThreeAttempts(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{})
	f.env.CompetingWriter("orders", 100)
	out, err := f.executor(f.settings()).Converge(f.ctx, "orders")
	if err == nil {
		t.Fatal("no error")
	}
	if n := f.count("UpdateApplication"); n != remediate.MaxAttempts {
		t.Errorf("UpdateApplication attempts %d, want %d", n, remediate.MaxAttempts)
	}
	if got := outcomes(out); got["KDA.RES.1"] != remediate.Failed {
		t.Errorf("outcomes %v", got)
	}
	if !strings.Contains(f.logs.String(), "ConcurrentModificationException on 3 attempts") {
		t.Error("no reason")
	}
	if p := f.env.Published(); len(p) != 1 || !strings.Contains(p[0].Message, "FAILED") {
		t.Errorf("notification %+v", p)
	}
}

func TestTransientFaultsAreRetried(t *testing.T) {
	for _, fault := range []localaws.Fault{
		// At most two failures in a row: the SDK's five attempts always get
		// through, so the test does not depend on luck.
		{Service: "kinesisanalyticsv2", ThrottleRate: 0.5, MaxConsecutive: 2},
		{Service: "*", ServerErrorRate: 0.3, MaxConsecutive: 2},
	} {
		f := start(t)
		f.app("orders", appOpts{})
		f.env.SetFaults(fault)
		out, err := f.executor(f.settings()).Converge(f.ctx, "orders")
		f.env.SetFaults()
		if err != nil {
			t.Errorf("%+v: %v", fault, err)
			continue
		}
		if got := outcomes(out); got["KDA.RES.1"] != remediate.Verified || got["KDA.MON.1"] != remediate.Verified {
			t.Errorf("%+v: outcomes %v", fault, got)
		}
		fc := f.describe("orders").ApplicationConfigurationDescription.FlinkApplicationConfigurationDescription
		if fc.CheckpointConfigurationDescription.ConfigurationType != "DEFAULT" {
			t.Errorf("%+v: not converged", fault)
		}
		if f.env.CountErrors("", "", "") == 0 {
			t.Errorf("%+v: no fault was injected", fault)
		}
	}
}

func TestPersistentThrottlingFailsThenRetryConverges(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{})
	f.env.SetFaults(localaws.Fault{Service: "kinesisanalyticsv2", Operation: "UpdateApplication", ThrottleRate: 1})
	out, err := f.executor(f.settings()).Converge(f.ctx, "orders")
	if err == nil {
		t.Fatal("no error: Lambda would not retry")
	}
	if got := outcomes(out); got["KDA.RES.1"] != remediate.Failed {
		t.Errorf("outcomes %v", got)
	}
	f.env.SetFaults()
	out, err = f.executor(f.settings()).Converge(f.ctx, "orders")
	if err != nil || outcomes(out)["KDA.RES.1"] != remediate.Verified {
		t.Errorf("retry: %v %v", err, outcomes(out))
	}
}

func TestAccessDeniedOnUpdate(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{})
	f.env.SetFaults(faultCode("kinesisanalyticsv2", "UpdateApplication", "AccessDeniedException"))
	out, err := f.executor(f.settings()).Converge(f.ctx, "orders")
	if err == nil {
		t.Fatal("no error")
	}
	got := outcomes(out)
	for _, r := range mergedRules {
		if got[r] != remediate.Failed {
			t.Errorf("%s %q, want failed", r, got[r])
		}
	}
	// MON.1 does not depend on the update's success: the version is unchanged.
	if got["KDA.MON.1"] != remediate.Verified || got["KDA.DP.2"] != remediate.Verified {
		t.Errorf("outcomes %v", got)
	}
	if n := f.count("UpdateApplication"); n != 1 {
		t.Errorf("AccessDenied retried: %d calls", n)
	}
}

// A call that succeeds but does not take effect is reported failed, never
// "remediated": the re-read decides.
func TestVerificationFailureIsReported(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{})
	e := f.executor(f.settings())
	var first *model.Application
	calls := 0
	inner := f.executor(f.settings())
	e.Load = func(ctx context.Context, name string, needs []model.Facet) (*model.Application, error) {
		calls++
		if calls == 1 {
			a, err := loadWith(ctx, inner, name, needs)
			first = a
			return a, err
		}
		return first, nil // the re-read still sees the old state
	}
	out, err := e.Converge(f.ctx, "orders")
	if err == nil {
		t.Fatal("no error for an unverified fix")
	}
	if got := outcomes(out); got["KDA.RES.1"] != remediate.Failed || got["KDA.DP.2"] != remediate.Failed {
		t.Errorf("outcomes %v", got)
	}
	if !strings.Contains(f.logs.String(), "still fails after a re-read") {
		t.Error("no reason")
	}
	if p := f.env.Published(); len(p) != 1 || strings.Contains(p[0].Message, "VERIFIED") {
		t.Errorf("notification %+v", p)
	}
}

func TestVerificationReadFailureIsReported(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{})
	e := f.executor(f.settings())
	inner := f.executor(f.settings())
	calls := 0
	e.Load = func(ctx context.Context, name string, needs []model.Facet) (*model.Application, error) {
		calls++
		if calls == 1 {
			return loadWith(ctx, inner, name, needs)
		}
		return nil, errors.New("AccessDeniedException: not authorized to perform kinesisanalytics:DescribeApplication")
	}
	out, err := e.Converge(f.ctx, "orders")
	if err == nil || outcomes(out)["KDA.RES.1"] != remediate.Failed || !strings.Contains(f.logs.String(), "could not verify") {
		t.Errorf("err %v, outcomes %v", err, outcomes(out))
	}
}

// loadWith reads through the default collector (Load unset).
func loadWith(ctx context.Context, e *remediate.Executor, name string, needs []model.Facet) (*model.Application, error) {
	return remediate.LoadForTest(ctx, e, name, needs)
}
