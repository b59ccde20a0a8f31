package localaws_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	kda "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kdaguard/kdaguard/internal/localaws"
	"github.com/kdaguard/kdaguard/internal/localaws/localawstest"
)

// fastRetry keeps the SDK's standard retryer (and its classification) but
// without real backoff.
func fastRetry(maxAttempts int) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
			o.RateLimiter = noRateLimit{}
		})
	}
}

type noRateLimit struct{}

func (noRateLimit) GetToken(context.Context, uint) (func() error, error) {
	return func() error { return nil }, nil
}
func (noRateLimit) AddTokens(uint) error { return nil }

func TestFaultThrottlingIsRetriedByTheSDK(t *testing.T) {
	env := localawstest.Start(t)
	cfg := env.AWSConfig(context.Background())
	cfg.Retryer = fastRetry(50)
	c := kda.NewFromConfig(cfg)
	createApp(t, c, "app")
	env.ResetJournal()
	env.SetFaults(localaws.Fault{Service: "kinesisanalyticsv2", Operation: "DescribeApplication", ThrottleRate: 0.5})
	for i := 0; i < 20; i++ {
		if _, err := c.DescribeApplication(context.Background(), &kda.DescribeApplicationInput{ApplicationName: aws.String("app")}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	throttled := env.CountErrors("kinesisanalyticsv2", "DescribeApplication", "ThrottlingException")
	if throttled == 0 || env.Count("kinesisanalyticsv2", "DescribeApplication") != 20+throttled {
		t.Fatalf("throttled=%d total=%d", throttled, env.Count("kinesisanalyticsv2", "DescribeApplication"))
	}
	// Always throttled: the SDK gives up with the typed throttle error.
	env.SetFaults(localaws.Fault{Service: "kinesisanalytics", Operation: "*", ThrottleRate: 1})
	cfg.Retryer = fastRetry(3)
	c = kda.NewFromConfig(cfg)
	env.ResetJournal()
	_, err := c.DescribeApplication(context.Background(), &kda.DescribeApplicationInput{ApplicationName: aws.String("app")})
	var maxErr *retry.MaxAttemptsError
	if !errors.As(err, &maxErr) || apiCode(err) != "ThrottlingException" || env.Count("kinesisanalyticsv2", "DescribeApplication") != 3 {
		t.Fatalf("err=%v count=%d", err, env.Count("kinesisanalyticsv2", "DescribeApplication"))
	}
}

func TestFaultThrottleCodesPerProtocol(t *testing.T) {
	env := localawstest.Start(t)
	cfg := env.AWSConfig(context.Background())
	cfg.Retryer = fastRetry(2)
	ctx := context.Background()
	env.SetFaults(localaws.Fault{ThrottleRate: 1})
	_, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
	if apiCode(err) != "Throttling" {
		t.Errorf("iam: %v", err)
	}
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if apiCode(err) != "Throttling" {
		t.Errorf("sts: %v", err)
	}
	_, err = ec2.NewFromConfig(cfg).DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if apiCode(err) != "RequestLimitExceeded" {
		t.Errorf("ec2: %v", err)
	}
	_, err = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("b")})
	if apiCode(err) != "SlowDown" {
		t.Errorf("s3: %v", err)
	}
	for _, svc := range []string{"iam", "sts", "ec2", "s3"} {
		if n := env.Count(svc, "*"); n != 2 {
			t.Errorf("%s: %d attempts, want 2 (one retry)", svc, n)
		}
	}
}

func TestFaultServerErrorAndErrorCode(t *testing.T) {
	env := localawstest.Start(t)
	cfg := env.AWSConfig(context.Background())
	cfg.Retryer = fastRetry(3)
	ctx := context.Background()
	env.SetFaults(localaws.Fault{Service: "kinesisanalyticsv2", ServerErrorRate: 1})
	_, err := kda.NewFromConfig(cfg).ListApplications(ctx, &kda.ListApplicationsInput{})
	if apiCode(err) != "InternalFailure" || env.Count("kinesisanalyticsv2", "ListApplications") != 3 {
		t.Fatalf("5xx: %v, %d attempts", err, env.Count("kinesisanalyticsv2", "ListApplications"))
	}
	for _, e := range env.Journal() {
		if e.Status != 500 {
			t.Fatalf("status %d", e.Status)
		}
	}
	env.SetFaults(localaws.Fault{Service: "iam", Operation: "GetRole", ErrorCode: "AccessDenied", ErrorMessage: "not authorized to perform iam:GetRole"})
	c := iam.NewFromConfig(cfg)
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	env.ResetJournal()
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
	if apiCode(err) != "AccessDenied" || !strings.Contains(err.Error(), "iam:GetRole") || env.Count("iam", "GetRole") != 1 {
		t.Fatalf("AccessDenied: %v (%d attempts)", err, env.Count("iam", "GetRole"))
	}
	if j := env.Journal(); j[0].Status != 403 || j[0].Params["RoleName"] != "r" {
		t.Fatalf("journal: %+v", j[0])
	}
	// Typed errors still decode under an injected modeled code.
	env.SetFaults(localaws.Fault{Service: "iam", Operation: "GetRole", ErrorCode: "NoSuchEntity", ErrorRate: 1})
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("injected NoSuchEntity: %v", err)
	}
	env.SetFaults()
	if _, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")}); err != nil {
		t.Fatal(err)
	}
}

func TestFaultLatencyAndRateLimit(t *testing.T) {
	env := localawstest.Start(t, localaws.Options{Faults: []localaws.Fault{{Service: "sts", Latency: 50 * time.Millisecond}}})
	cfg := env.AWSConfig(context.Background())
	cfg.Retryer = fastRetry(1)
	ctx := context.Background()
	start := time.Now()
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("latency not applied: %v", d)
	}
	env.SetFaults(localaws.Fault{Service: "kinesisanalyticsv2", RateLimit: 5, Burst: 5})
	c := kda.NewFromConfig(cfg)
	ok, throttled := 0, 0
	for i := 0; i < 10; i++ {
		_, err := c.ListApplications(ctx, &kda.ListApplicationsInput{})
		switch {
		case err == nil:
			ok++
		case apiCode(err) == "ThrottlingException":
			throttled++
		default:
			t.Fatal(err)
		}
	}
	if ok < 5 || ok > 6 || throttled < 4 {
		t.Fatalf("rate limit: ok=%d throttled=%d", ok, throttled)
	}
	time.Sleep(450 * time.Millisecond) // refills about 2 tokens
	if _, err := c.ListApplications(ctx, &kda.ListApplicationsInput{}); err != nil {
		t.Fatalf("after refill: %v", err)
	}
}

func TestJournalAndAdmin(t *testing.T) {
	env := localawstest.Start(t)
	c := kda.NewFromConfig(env.AWSConfig(context.Background()))
	createApp(t, c, "j")
	_, _ = c.DescribeApplication(context.Background(), &kda.DescribeApplicationInput{ApplicationName: aws.String("missing")})
	j := env.Journal()
	if len(j) != 2 || j[0].Operation != "CreateApplication" || j[0].Params["ApplicationName"] != "j" || j[0].Status != 200 ||
		j[1].ErrorCode != "ResourceNotFoundException" || j[1].Status != 400 || j[1].Service != "kinesisanalyticsv2" {
		t.Fatalf("journal: %+v", j)
	}
	get := func(path string) []byte {
		resp, err := http.Get(env.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var raw json.RawMessage
		if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
			t.Fatal(err)
		}
		return raw
	}
	var entries []localaws.Entry
	if err := json.Unmarshal(get("/_localaws/journal?operation=CreateApplication"), &entries); err != nil || len(entries) != 1 {
		t.Fatalf("admin journal: %v %d", err, len(entries))
	}
	post := func(path, body string) int {
		resp, err := http.Post(env.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := post("/_localaws/faults", `[{"service":"kinesisanalyticsv2","operation":"ListApplications","errorCode":"AccessDeniedException","latency":"1ms"}]`); st != 200 {
		t.Fatalf("PUT faults: %d", st)
	}
	if f := env.Faults(); len(f) != 1 || f[0].Latency != time.Millisecond {
		t.Fatalf("faults: %+v", f)
	}
	if st := post("/_localaws/faults", `[{"throttleRate":2}]`); st != 400 {
		t.Fatalf("invalid fault accepted: %d", st)
	}
	if st := post("/_localaws/seed", `[{"service":"iam","operation":"CreateRole","input":{"RoleName":"seeded","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[]},"Tags":[{"Key":"a","Value":"b"}]}},
		{"service":"ec2","operation":"CreateVpc","input":{"CidrBlock":"10.1.0.0/16"}},
		{"service":"s3","operation":"CreateBucket","input":{"Bucket":"seeded-bucket"}},
		{"service":"kinesisanalyticsv2","operation":"CreateApplication","input":{"ApplicationName":"seeded","RuntimeEnvironment":"FLINK-1_20","ServiceExecutionRole":"arn:aws:iam::123456789012:role/seeded"}}]`); st != 200 {
		t.Fatalf("seed: %d", st)
	}
	if _, err := iam.NewFromConfig(env.AWSConfig(context.Background())).GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("seeded")}); err != nil {
		t.Fatalf("seeded role: %v", err)
	}
	if st := post("/_localaws/seed", `[{"service":"kinesisanalyticsv2","operation":"DescribeApplication","input":{"ApplicationName":"nope"}}]`); st != 400 {
		t.Fatalf("failing seed: %d", st)
	}
	if st := post("/_localaws/reset", ``); st != 200 || len(env.Journal()) != 0 {
		t.Fatalf("reset: %d", st)
	}
	if _, err := c.DescribeApplication(context.Background(), &kda.DescribeApplicationInput{ApplicationName: aws.String("j")}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("state not reset: %v", err)
	}
}

func TestSetEnvReachesLoadDefaultConfig(t *testing.T) {
	env := localawstest.Start(t)
	env.SetEnv(t)
	cfg, err := loadDefault(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Account) != env.AccountID() {
		t.Fatalf("GetCallerIdentity via env: %v", err)
	}
	if env.Count("sts", "GetCallerIdentity") != 1 {
		t.Fatal("request did not reach the emulator")
	}
}

func BenchmarkDescribeApplication(b *testing.B) {
	env := localawstest.Start(b)
	c := kda.NewFromConfig(env.AWSConfig(context.Background()))
	ctx := context.Background()
	if _, err := env.Seed([]localaws.SeedCall{{Service: "kinesisanalyticsv2", Operation: "CreateApplication", Input: map[string]any{
		"ApplicationName": "bench", "RuntimeEnvironment": "FLINK-1_20", "ServiceExecutionRole": roleARN}}}); err != nil {
		b.Fatal(err)
	}
	in := &kda.DescribeApplicationInput{ApplicationName: aws.String("bench")}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.DescribeApplication(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// MaxConsecutive caps a rule's failures in a row per operation, so a test can
// assert that a client rides out transient faults without depending on luck.
func TestFaultMaxConsecutive(t *testing.T) {
	env := localawstest.Start(t)
	cfg := env.AWSConfig(context.Background())
	cfg.Retryer = fastRetry(1) // no retries: every call shows the fault or not
	c := kda.NewFromConfig(cfg)
	env.SetFaults(localaws.Fault{Service: "kinesisanalyticsv2", ThrottleRate: 1, MaxConsecutive: 2})
	var got []bool
	for range 6 {
		_, err := c.ListApplications(context.Background(), &kda.ListApplicationsInput{})
		got = append(got, err == nil)
	}
	want := []bool{false, false, true, false, false, true}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("calls succeeded %v, want %v", got, want)
		}
	}
}
