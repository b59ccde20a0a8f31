package collect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfgtypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/kdaguard/kdaguard/shared/model"
)

func TestOnceSharesInFlightReadsAndCachesResults(t *testing.T) {
	s := NewSession(&Clients{}, Options{})
	var calls atomic.Int32
	release := make(chan struct{})
	read := func(ctx context.Context) (string, error) {
		calls.Add(1)
		<-release
		return "v", nil
	}
	var wg sync.WaitGroup
	got := make([]string, 20)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = once(context.Background(), s, "k", read)
		}()
	}
	time.Sleep(20 * time.Millisecond) // let them all queue on the one flight
	close(release)
	wg.Wait()
	if v, _ := once(context.Background(), s, "k", read); v != "v" {
		t.Errorf("cached value %q", v)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("read %d times, want once", n)
	}
	for i, v := range got {
		if v != "v" {
			t.Errorf("caller %d got %q", i, v)
		}
	}
}

func TestOnceKeepsErrorsButNotCancellations(t *testing.T) {
	s := NewSession(&Clients{}, Options{})
	var calls int
	boom := errors.New("boom")
	for range 2 {
		if _, err := once(context.Background(), s, "err", func(context.Context) (int, error) { calls++; return 0, boom }); !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
	}
	if calls != 1 {
		t.Errorf("a failed read is an answer too: read %d times, want 1", calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	_, err := once(ctx, s, "ctx", func(ctx context.Context) (int, error) { calls++; return 0, ctx.Err() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	v, err := once(context.Background(), s, "ctx", func(context.Context) (int, error) { calls++; return 7, nil })
	if err != nil || v != 7 || calls != 2 {
		t.Errorf("after a cancelled read the next caller reads again: v=%d err=%v calls=%d", v, err, calls)
	}
}

func TestOncePanicDoesNotHangWaiters(t *testing.T) {
	s := NewSession(&Clients{}, Options{})
	_, err := once(context.Background(), s, "p", func(context.Context) (int, error) { panic("bad") })
	if err == nil {
		t.Fatal("a panicking read must fail")
	}
	if _, err2 := once(context.Background(), s, "p", func(context.Context) (int, error) { return 1, nil }); err2 == nil {
		t.Error("the failure is the session's answer for that key")
	}
}

func TestCallBoundsConcurrency(t *testing.T) {
	s := NewSession(&Clients{}, Options{Concurrency: 3})
	var cur, peak atomic.Int32
	var wg sync.WaitGroup
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = call(context.Background(), s, func(context.Context) (int, error) {
				n := cur.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(2 * time.Millisecond)
				cur.Add(-1)
				return 0, nil
			})
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak in flight %d, want 3 at most (and some concurrency)", p)
	}
}

func TestReasons(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "User: x is not authorized to perform: iam:GetRole"}
	err := fmt.Errorf("op: %w", denied)
	if got, want := reason("iam:GetRole", "arn:aws:iam::123456789012:role/x", err), "access denied: needs iam:GetRole on arn:aws:iam::123456789012:role/x"; got != want {
		t.Errorf("reason = %q, want %q", got, want)
	}
	for _, code := range []string{"AccessDeniedException", "UnauthorizedOperation"} {
		if !isAccessDenied(&smithy.GenericAPIError{Code: code}) {
			t.Errorf("%s is an access denial", code)
		}
	}
	thr := reason("ec2:DescribeSubnets", "subnet-1", &smithy.GenericAPIError{Code: "RequestLimitExceeded"})
	if thr != "ec2:DescribeSubnets on subnet-1: throttled after retries (RequestLimitExceeded)" {
		t.Errorf("throttle reason %q", thr)
	}
	other := reason("kms:DescribeKey", "k", &smithy.GenericAPIError{Code: "KMSInternalException", Message: "oops"})
	if other != "kms:DescribeKey on k failed: KMSInternalException: oops" {
		t.Errorf("other reason %q", other)
	}
	if !isNotFound(&smithy.GenericAPIError{Code: "InvalidSubnetID.NotFound"}) || isNotFound(denied) {
		t.Error("not-found classification")
	}
}

func TestOwnENI(t *testing.T) {
	app := &model.Application{Name: "orders", ARN: "arn:aws:kinesisanalytics:us-east-1:123456789012:application/orders"}
	eni := func(desc string, managed bool) ec2types.NetworkInterface {
		return ec2types.NetworkInterface{NetworkInterfaceId: aws.String("eni-1"), Description: aws.String(desc), RequesterManaged: aws.Bool(managed)}
	}
	for _, c := range []struct {
		desc    string
		managed bool
		own     bool
	}{
		{"Managed Flink " + app.ARN, true, true},
		{"ENI for " + app.ARN + " (subnet-0a1b)", true, true},
		{"ENI for Kinesis Analytics application orders", true, false}, // a name alone is not proof
		{"ELB app/orders/50dc6c495c0c9188", true, false},              // a load balancer named orders
		{"ENI for " + app.ARN + "-backfill", true, false},             // another application's ARN
		{"ENI for " + app.ARN + "/x", true, false},
		{"ENI for " + app.ARN, false, false}, // made by a user, whatever it says
		{"AWS Lambda VPC ENI-fn", true, false},
		{"", true, false},
	} {
		if got := ownENI(eni(c.desc, c.managed), app); got != c.own {
			t.Errorf("ownENI(%q, managed=%v) = %v, want %v", c.desc, c.managed, got, c.own)
		}
	}
	if l := eniLabel(eni("a very long description that goes on and on and on", false)); len(l) > 60 {
		t.Errorf("label too long: %q", l)
	}
}

func TestRecorderExclusionStrategy(t *testing.T) {
	r := recorder(cfgtypes.ConfigurationRecorder{Name: aws.String("default"), RecordingGroup: &cfgtypes.RecordingGroup{
		RecordingStrategy:        &cfgtypes.RecordingStrategy{UseOnly: cfgtypes.RecordingStrategyTypeExclusionByResourceTypes},
		ExclusionByResourceTypes: &cfgtypes.ExclusionByResourceTypes{ResourceTypes: []cfgtypes.ResourceType{cfgtypes.ResourceTypeKinesisAnalyticsV2Application}},
	}}, true)
	if !r.AllSupported || !slices.Equal(r.Exclusions, []string{"AWS::KinesisAnalyticsV2::Application"}) || !r.Recording {
		t.Errorf("exclusion recorder %+v", r)
	}
	r = recorder(cfgtypes.ConfigurationRecorder{Name: aws.String("x"), RecordingGroup: &cfgtypes.RecordingGroup{
		ResourceTypes:     []cfgtypes.ResourceType{cfgtypes.ResourceTypeKinesisAnalyticsV2Application},
		RecordingStrategy: &cfgtypes.RecordingStrategy{UseOnly: cfgtypes.RecordingStrategyTypeInclusionByResourceTypes},
	}}, false)
	if r.AllSupported || len(r.ResourceTypes) != 1 || r.Recording {
		t.Errorf("inclusion recorder %+v", r)
	}
}

func TestRoutes(t *testing.T) {
	got := routes([]ec2types.Route{
		{DestinationCidrBlock: aws.String("10.0.0.0/16"), GatewayId: aws.String("local"), State: ec2types.RouteStateActive},
		{DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String("nat-1"), State: ec2types.RouteStateActive},
		{DestinationIpv6CidrBlock: aws.String("::/0"), EgressOnlyInternetGatewayId: aws.String("eigw-1")},
		{DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String("igw-gone"), State: ec2types.RouteStateBlackhole},
	})
	want := []model.Route{{Destination: "10.0.0.0/16", Target: "local"}, {Destination: "0.0.0.0/0", Target: "nat-1"}, {Destination: "::/0", Target: "eigw-1"}}
	if !slices.Equal(got, want) {
		t.Errorf("routes %+v, want %+v", got, want)
	}
}

func TestRoleName(t *testing.T) {
	if n := roleName("arn:aws:iam::123456789012:role/service-role/flink/orders"); n != "orders" {
		t.Errorf("roleName = %q", n)
	}
}

func TestApplicationHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := NewSession(&Clients{}, Options{}).Application(ctx, "x", nil)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestPermissions(t *testing.T) {
	all := []model.Facet{model.FacetRole, model.FacetRoleUsers, model.FacetKey, model.FacetLogGroups, model.FacetSubnets,
		model.FacetSecurityGroups, model.FacetBucket, model.FacetStreams, model.FacetAlarms, model.FacetSnapshots,
		model.FacetTrails, model.FacetRecorders}
	for _, f := range all {
		if len(facetActions[f]) == 0 {
			t.Errorf("facet %s has no actions", f)
		}
	}
	got := Permissions([]model.Facet{model.FacetStreams})
	for _, a := range []string{"kinesis:DescribeStreamSummary", "iam:GetRole", "kinesisanalytics:DescribeApplication"} {
		if !slices.Contains(got, a) {
			t.Errorf("Permissions(streams) lacks %s: %v", a, got)
		}
	}
	if slices.Contains(got, "ec2:DescribeSubnets") {
		t.Errorf("Permissions(streams) has ec2: %v", got)
	}
	if n := len(Permissions(all)); n != 27 {
		t.Errorf("%d actions for every facet: %v", n, Permissions(all))
	}
}
