package remediate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/remediate"
)

// A RUNNING application is UPDATING for a while after the merged update
// (restart policy allow): MON.1's AddApplicationCloudWatchLoggingOption
// waits until it is RUNNING again instead of being refused with
// ResourceInUseException.
func TestLoggingWaitsUntilTheUpdateSettles(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{running: true})
	f.env.SetTransitionDelay(2 * time.Second)
	ex := f.executor(f.settings())
	ex.VerifyPatience = 10 * time.Second
	out, err := ex.Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("converge: %v\n%s", err, f.logs.String())
	}
	if got := outcomes(out); got["KDA.MON.1"] != remediate.Verified || got["KDA.RES.1"] != remediate.Verified {
		t.Errorf("outcomes %v\n%s", got, f.logs.String())
	}
	if n := f.env.CountErrors("kinesisanalyticsv2", "AddApplicationCloudWatchLoggingOption", ""); n != 0 {
		t.Errorf("AddApplicationCloudWatchLoggingOption refused %d times", n)
	}
	if n := f.count("UpdateApplication"); n != 1 {
		t.Errorf("UpdateApplication %d, want 1", n)
	}
	if d := f.describe("orders"); len(d.CloudWatchLoggingOptionDescriptions) != 1 {
		t.Errorf("logging options %d", len(d.CloudWatchLoggingOptionDescriptions))
	}
	for _, p := range f.env.Published() {
		if strings.Contains(p.Message, "FAILED") {
			t.Errorf("failure notified: %s", p.Message)
		}
	}
}

// When the update has not settled within the executor's patience, MON.1
// is left for a retry (skipped, "retried later"), not failed, and Converge
// returns ErrBusy so that Lambda retries; the retry converges.
func TestLoggingRetriedLaterWhenTheUpdateDoesNotSettle(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{running: true})
	f.env.SetTransitionDelay(3 * time.Second)
	ex := f.executor(f.settings())
	ex.VerifyPatience = 300 * time.Millisecond
	out, err := ex.Converge(f.ctx, "orders")
	if !errors.Is(err, remediate.ErrBusy) {
		t.Fatalf("err %v, want ErrBusy so that Lambda retries", err)
	}
	got := outcomes(out)
	if got["KDA.MON.1"] != remediate.Skipped || got["KDA.RES.1"] != remediate.Verified {
		t.Errorf("outcomes %v\n%s", got, f.logs.String())
	}
	if !strings.Contains(f.logs.String(), "retried later") {
		t.Error("no 'retried later' reason")
	}
	if n := f.count("AddApplicationCloudWatchLoggingOption"); n != 0 {
		t.Errorf("AddApplicationCloudWatchLoggingOption sent %d times to an UPDATING application", n)
	}
	for _, p := range f.env.Published() {
		if strings.Contains(p.Message, "MON.1 FAILED") {
			t.Errorf("MON.1 failure notified: %s", p.Message)
		}
	}
	time.Sleep(3 * time.Second)
	out, err = f.executor(f.settings()).Converge(f.ctx, "orders")
	if err != nil || outcomes(out)["KDA.MON.1"] != remediate.Verified {
		t.Errorf("retry: %v %v", err, outcomes(out))
	}
}

// Another writer changes the application while the remediator waits for
// its update to settle: the newer version is not ours, so MON.1 is not sent
// with the other writer's token; the round re-reads (as on
// ConcurrentModificationException) and nothing of theirs is overwritten.
func TestAnotherWriterWhileSettlingIsAConflict(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{running: true})
	f.env.SetTransitionDelay(500 * time.Millisecond)
	ex := f.executor(f.settings())
	ex.VerifyPatience = 10 * time.Second
	inner := f.executor(f.settings())
	loads := 0
	ex.Load = func(ctx context.Context, name string, needs []model.Facet) (*model.Application, error) {
		loads++
		a, err := loadWith(ctx, inner, name, needs)
		if loads == 1 {
			// The next DescribeApplication (the wait for the update to
			// settle) is followed by another writer's change.
			f.env.CompetingWriter("orders", 1)
		}
		return a, err
	}
	out, err := ex.Converge(f.ctx, "orders")
	if err != nil && !errors.Is(err, remediate.ErrBusy) {
		t.Fatalf("converge: %v\n%s", err, f.logs.String())
	}
	if w := competingWrites(t, f, "orders"); w != "1" {
		t.Errorf("the other writer's change is gone: writes=%q", w)
	}
	if got := outcomes(out); got["KDA.MON.1"] == remediate.Failed || got["KDA.RES.1"] != remediate.Verified {
		t.Errorf("outcomes %v\n%s", got, f.logs.String())
	}
	if n := f.env.CountErrors("kinesisanalyticsv2", "AddApplicationCloudWatchLoggingOption", ""); n != 0 {
		t.Errorf("AddApplicationCloudWatchLoggingOption refused %d times", n)
	}
	if loads < 2 || !strings.Contains(f.logs.String(), "another writer changed the application after the update") {
		t.Errorf("no re-read after the other writer's change (%d loads)\n%s", loads, f.logs.String())
	}
}

// A conflict's re-read that finds the application in a transitional status
// (here: started by someone else meanwhile) leaves the fixes "retried
// later": Converge must return ErrBusy then too, or nothing retries.
func TestBusyAfterAConflictIsRetried(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{})
	f.env.SetTransitionDelay(time.Hour)
	ex := f.executor(f.settings())
	inner := f.executor(f.settings())
	loads := 0
	ex.Load = func(ctx context.Context, name string, needs []model.Facet) (*model.Application, error) {
		loads++
		if loads == 2 {
			// Someone starts the application: STARTING for an hour.
			if _, err := f.c.KDA.StartApplication(ctx, &kinesisanalyticsv2.StartApplicationInput{ApplicationName: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
		}
		a, err := loadWith(ctx, inner, name, needs)
		if loads == 1 {
			// Another writer's change after our read: our update is stale.
			f.env.CompetingWriter(name, 1)
			f.describe(name)
		}
		return a, err
	}
	out, err := ex.Converge(f.ctx, "orders")
	if !errors.Is(err, remediate.ErrBusy) {
		t.Fatalf("err %v, want ErrBusy so that Lambda retries\n%s", err, f.logs.String())
	}
	if n := f.env.CountErrors("kinesisanalyticsv2", "UpdateApplication", "ConcurrentModificationException"); n != 1 {
		t.Errorf("ConcurrentModificationException %d, want 1", n)
	}
	if got := outcomes(out); got["KDA.RES.1"] != remediate.Skipped {
		t.Errorf("outcomes %v", got)
	}
	if c := strings.Count(err.Error(), remediate.ErrBusy.Error()); c != 1 {
		t.Errorf("ErrBusy %d times in %q, want once", c, err)
	}
}
