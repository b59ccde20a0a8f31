package remediate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/kdaguard/kdaguard/internal/localaws/localawstest"
	"github.com/kdaguard/kdaguard/shared/collect"
	"github.com/kdaguard/kdaguard/shared/remediate"
	"github.com/kdaguard/kdaguard/shared/settings"
)

// planted is a credential in the application's runtime properties: it must
// appear in no log line, event or notification.
const planted = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYPLANTEDxKEY"

// otherStatement is a second trust statement with its own formatting, which
// the IAM.2 fix must keep byte for byte.
const otherStatement = `{ "Sid" : "Ops",   "Effect":"Allow",
      "Principal": {"AWS": "arn:aws:iam::123456789012:role/ops-breakglass"},
      "Action": "sts:AssumeRole" }`

const trustPolicy = `{"Version":"2012-10-17","Statement":[
    {"Sid":"KDA","Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole"},
    ` + otherStatement + `
  ]}`

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lines returns the log lines as maps.
func (s *syncBuf) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, l)
		}
		out = append(out, m)
	}
	return out
}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	env   *localawstest.Env
	cfg   aws.Config
	c     *collect.Clients
	logs  *syncBuf
	topic string
}

// fastRetry is the SDK's standard retry with production's attempts but
// short backoffs and no client-side rate limit, so fault tests do not sleep
// for seconds (the adaptive mode's own pacing is the collector's to test).
func fastRetry() aws.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = collect.DefaultMaxAttempts
		so.MaxBackoff = 20 * time.Millisecond
		so.RateLimiter = ratelimit.None
	})
}

func start(t *testing.T) *fixture {
	t.Helper()
	env := localawstest.Start(t)
	env.SetEnv(t)
	t.Setenv(collect.EnvS3PathStyle, "true")
	ctx := context.Background()
	cfg, err := collect.Config(ctx, config.WithRetryer(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, env: env, cfg: cfg, c: collect.NewClients(cfg), logs: &syncBuf{}}
	out, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("kdaguard-notifications")})
	if err != nil {
		t.Fatal(err)
	}
	f.topic = aws.ToString(out.TopicArn)
	return f
}

// settings: remediate everything automatic, restart allowed, notifications on.
func (f *fixture) settings(mut ...func(*settings.Settings)) settings.Settings {
	s := settings.Defaults()
	s.Mode = settings.ModeRemediate
	s.RestartPolicy = settings.RestartAllow
	s.TopicARN = f.topic
	for _, m := range mut {
		m(&s)
	}
	return s
}

func (f *fixture) executor(s settings.Settings) *remediate.Executor {
	return &remediate.Executor{Clients: f.c, Settings: s, Logger: slog.New(slog.NewJSONHandler(f.logs, nil)),
		Audit: &remediate.Audit{Events: eventbridge.NewFromConfig(f.cfg), SNS: sns.NewFromConfig(f.cfg)}}
}

type appOpts struct {
	running      bool
	tags         map[string]string
	noLogsPolicy bool // the role cannot write logs (MON.1 must not half-fix)
}

// app creates a Flink application that fails RES.1, RES.2, RES.3, RES.6,
// MON.1, MON.2 and DP.2 (and, opt-in, IAM.2 and DP.4), with a planted
// credential in its runtime properties.
func (f *fixture) app(name string, o appOpts) {
	t, ctx := f.t, f.ctx
	t.Helper()
	role := "flink-" + name
	r, err := f.c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(role), AssumeRolePolicyDocument: aws.String(trustPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::code-` + name + `/*"}`
	if !o.noLogsPolicy {
		pol += `,{"Effect":"Allow","Action":["logs:PutLogEvents","logs:DescribeLog*"],"Resource":"arn:aws:logs:*:*:log-group:/aws/kinesis-analytics/*"}`
	}
	pol += `]}`
	if _, err := f.c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("app"), PolicyDocument: aws.String(pol)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("code-" + name)}); err != nil {
		t.Fatal(err)
	}
	// New buckets block public access; this one was opened (KDA.DP.4).
	if _, err := f.c.S3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String("code-" + name)}); err != nil {
		t.Fatal(err)
	}
	keyPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},` +
		`{"Sid":"flink","Effect":"Allow","Principal":{"Service":["kinesisanalytics.amazonaws.com","infrastructure.kinesisanalytics.amazonaws.com"]},"Action":["kms:Decrypt","kms:GenerateDataKey*","kms:DescribeKey","kms:CreateGrant"],"Resource":"*"}]}`
	k, err := f.c.KMS.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(keyPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	var tags []kt.Tag
	for key, v := range o.tags {
		tags = append(tags, kt.Tag{Key: aws.String(key), Value: aws.String(v)})
	}
	_, err = f.c.KDA.CreateApplication(ctx, &kinesisanalyticsv2.CreateApplicationInput{
		ApplicationName:      aws.String(name),
		RuntimeEnvironment:   kt.RuntimeEnvironmentFlink120,
		ServiceExecutionRole: r.Role.Arn,
		Tags:                 tags,
		ApplicationConfiguration: &kt.ApplicationConfiguration{
			ApplicationCodeConfiguration: &kt.ApplicationCodeConfiguration{CodeContentType: kt.CodeContentTypeZipfile,
				CodeContent: &kt.CodeContent{S3ContentLocation: &kt.S3ContentLocation{BucketARN: aws.String("arn:aws:s3:::code-" + name), FileKey: aws.String("app.jar")}}},
			FlinkApplicationConfiguration: &kt.FlinkApplicationConfiguration{
				CheckpointConfiguration: &kt.CheckpointConfiguration{ConfigurationType: kt.ConfigurationTypeCustom, CheckpointingEnabled: aws.Bool(false)},
				MonitoringConfiguration: &kt.MonitoringConfiguration{ConfigurationType: kt.ConfigurationTypeCustom, LogLevel: kt.LogLevelDebug, MetricsLevel: kt.MetricsLevelTask},
				ParallelismConfiguration: &kt.ParallelismConfiguration{ConfigurationType: kt.ConfigurationTypeCustom, AutoScalingEnabled: aws.Bool(false),
					Parallelism: aws.Int32(4), ParallelismPerKPU: aws.Int32(2)},
			},
			ApplicationSnapshotConfiguration:       &kt.ApplicationSnapshotConfiguration{SnapshotsEnabled: aws.Bool(false)},
			ApplicationSystemRollbackConfiguration: &kt.ApplicationSystemRollbackConfiguration{RollbackEnabled: aws.Bool(false)},
			ApplicationEncryptionConfiguration:     &kt.ApplicationEncryptionConfiguration{KeyType: kt.KeyTypeCustomerManagedKey, KeyId: k.KeyMetadata.Arn},
			EnvironmentProperties: &kt.EnvironmentProperties{PropertyGroups: []kt.PropertyGroup{{PropertyGroupId: aws.String("app"),
				PropertyMap: map[string]string{"aws.secret.access.key": planted, "output.stream": "orders-enriched"}}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.running {
		if _, err := f.c.KDA.StartApplication(ctx, &kinesisanalyticsv2.StartApplicationInput{ApplicationName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	f.env.ResetJournal()
}

func (f *fixture) describe(name string) *kt.ApplicationDetail {
	f.t.Helper()
	out, err := f.c.KDA.DescribeApplication(f.ctx, &kinesisanalyticsv2.DescribeApplicationInput{ApplicationName: aws.String(name)})
	if err != nil {
		f.t.Fatal(err)
	}
	return out.ApplicationDetail
}

// mutating counts successful and failed calls that could change a
// resource: everything but reads, STS and the audit's own EventBridge/SNS.
func (f *fixture) mutating() []string {
	var out []string
	for _, e := range f.env.Journal() {
		switch e.Service {
		case "eventbridge", "sns", "sts", "localaws":
			continue
		}
		if strings.HasPrefix(e.Operation, "Describe") || strings.HasPrefix(e.Operation, "List") || strings.HasPrefix(e.Operation, "Get") || strings.HasPrefix(e.Operation, "Head") {
			continue
		}
		out = append(out, e.Service+":"+e.Operation)
	}
	return out
}

func (f *fixture) count(op string) int { return f.env.Count("", op) }

// outcomes maps rule -> outcome of the fixes (not the report-only lines).
func outcomes(o remediate.Outcome) map[string]string {
	m := map[string]string{}
	for _, a := range o.Actions {
		if a.Outcome == remediate.Reported {
			continue
		}
		m[a.Rule] = a.Outcome
	}
	return m
}

// noSecret checks every log line, audit event and notification.
func (f *fixture) noSecret() {
	f.t.Helper()
	if strings.Contains(f.logs.String(), planted) || strings.Contains(f.logs.String(), "K7MDENG") {
		f.t.Errorf("the planted secret is in the log")
	}
	for _, e := range f.env.Events() {
		if strings.Contains(e.Detail, "K7MDENG") {
			f.t.Errorf("the planted secret is in an event: %s", e.Detail)
		}
	}
	for _, p := range f.env.Published() {
		if strings.Contains(p.Message+p.Subject, "K7MDENG") {
			f.t.Errorf("the planted secret is in a notification")
		}
	}
}
