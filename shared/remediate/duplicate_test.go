package remediate_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/remediate"
	"github.com/kdaguard/kdaguard/shared/settings"
)

// A second delivery (another Lambda instance) revoked the open rules after
// this one read them: RevokeSecurityGroupIngress answers
// InvalidSecurityGroupRuleId.NotFound. The change is done, not failed:
// verification decides, and verifies it.
func TestOpenIngressAlreadyRevokedByAnotherDelivery(t *testing.T) {
	f := start(t)
	n := f.vpcApp("orders")
	ex := f.executor(f.settings(optIn(ruleOpenIngress)))
	inner := f.executor(f.settings(optIn(ruleOpenIngress)))
	loads := 0
	ex.Load = func(ctx context.Context, name string, needs []model.Facet) (*model.Application, error) {
		loads++
		a, err := loadWith(ctx, inner, name, needs)
		if loads == 1 {
			if _, err := f.c.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(n.sg), SecurityGroupRuleIds: n.open}); err != nil {
				t.Fatal(err)
			}
		}
		return a, err
	}
	out, err := ex.Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	if c := f.env.CountErrors("ec2", "RevokeSecurityGroupIngress", "InvalidSecurityGroupRuleId.NotFound"); c != 1 {
		t.Fatalf("RevokeSecurityGroupIngress refused %d times, want 1 (the test needs the duplicate)", c)
	}
	if as := ruleActions(out, ruleOpenIngress); len(as) != 1 || as[0].Outcome != remediate.Verified {
		t.Errorf("INF.2 actions %s, want one verified", show(as))
	}
}

// Two deliveries take RES.5's snapshot in the same second: the names do
// not collide, and neither is a failure.
func TestSnapshotsInTheSameSecondDoNotCollide(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{running: true})
	s := f.settings(func(s *settings.Settings) {
		s.RuleModes = map[string]settings.Mode{"KDA.RES.5": settings.ModeRemediate}
	})
	if _, err := f.executor(s).Converge(f.ctx, "orders"); err != nil { // turns snapshots on (RES.2)
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	now := time.Now().UTC().Truncate(time.Second)
	ex := f.executor(s)
	ex.Now = func() time.Time { return now }
	inner := f.executor(s)
	loads := 0
	ex.Load = func(ctx context.Context, name string, needs []model.Facet) (*model.Application, error) {
		loads++
		a, err := loadWith(ctx, inner, name, needs)
		if loads == 1 {
			// The other delivery's snapshot, named in the same second the
			// way a second-granular name would be.
			if _, err := f.c.KDA.CreateApplicationSnapshot(ctx, &kinesisanalyticsv2.CreateApplicationSnapshotInput{ApplicationName: aws.String(name),
				SnapshotName: aws.String("kdaguard-" + now.Format("20060102-150405"))}); err != nil {
				t.Fatal(err)
			}
		}
		return a, err
	}
	out, err := ex.Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	if got := outcomes(out)["KDA.RES.5"]; got != remediate.Verified {
		t.Errorf("RES.5 %q, want verified\n%s", got, f.logs.String())
	}
	if c := f.env.CountErrors("kinesisanalyticsv2", "CreateApplicationSnapshot", ""); c != 0 {
		t.Errorf("CreateApplicationSnapshot refused %d times", c)
	}
	for _, a := range ruleActions(out, "KDA.RES.5") {
		if !strings.Contains(a.Summary, "kdaguard-"+now.Format("20060102-150405")+"-") || !strings.Contains(string(a.Input), a.Summary[len("CreateApplicationSnapshot "):]) {
			t.Errorf("summary %q does not name the snapshot of input %s", a.Summary, a.Input)
		}
	}
}
