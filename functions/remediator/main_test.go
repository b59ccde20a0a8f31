package main_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"

	"github.com/kdaguard/kdaguard/internal/localaws/localawstest"
	"github.com/kdaguard/kdaguard/internal/rie"
)

const selfRole = "arn:aws:iam::123456789012:role/kdaguard/kdaguard-remediator-role"

func event(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"..", "..", "events"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func awsEnv(e *localawstest.Env, extra map[string]string) map[string]string {
	m := map[string]string{"AWS_ENDPOINT_URL": e.URL, "AWS_REGION": e.Region(), "AWS_DEFAULT_REGION": e.Region(),
		"AWS_ACCESS_KEY_ID": localawstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY": localawstest.SecretAccessKey,
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_S3_USE_PATH_STYLE": "true"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func invoke(t *testing.T, f *rie.Function, payload []byte) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return f.Invoke(ctx, payload)
}

func TestBinaryUnderRIE(t *testing.T) {
	rie.Emulator(t) // skip (or, under CI, fail) before any work
	env := localawstest.Start(t)
	ctx := context.Background()
	cfg := env.AWSConfig(ctx)
	iamc := iam.NewFromConfig(cfg)
	kda := kinesisanalyticsv2.NewFromConfig(cfg)
	r, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("flink"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = kda.CreateApplication(ctx, &kinesisanalyticsv2.CreateApplicationInput{ApplicationName: aws.String("orders-enrichment"),
		RuntimeEnvironment: kt.RuntimeEnvironmentFlink120, ServiceExecutionRole: r.Role.Arn,
		ApplicationConfiguration: &kt.ApplicationConfiguration{
			FlinkApplicationConfiguration: &kt.FlinkApplicationConfiguration{
				CheckpointConfiguration: &kt.CheckpointConfiguration{ConfigurationType: kt.ConfigurationTypeCustom, CheckpointingEnabled: aws.Bool(false)}},
			ApplicationSnapshotConfiguration: &kt.ApplicationSnapshotConfiguration{SnapshotsEnabled: aws.Bool(false)}}})
	if err != nil {
		t.Fatal(err)
	}
	fn := rie.Start(t, rie.Build(t, "./functions/remediator"), awsEnv(env, map[string]string{
		"KDAGUARD_MODE": "remediate", "KDAGUARD_RESTART_POLICY": "allow", "KDAGUARD_SELF_ROLE_ARN": selfRole}))
	env.ResetJournal()

	// The remediator's own call: ignored, not a single AWS call.
	if body, err := invoke(t, fn, event(t, "cloudtrail", "own-call.json")); err != nil {
		t.Fatalf("own call: %v %s", err, body)
	}
	if n := env.Count("kinesisanalyticsv2", ""); n != 0 {
		t.Errorf("own call made %d kinesisanalyticsv2 calls", n)
	}
	// Someone else's change: converged with one UpdateApplication.
	if body, err := invoke(t, fn, event(t, "cloudtrail", "UpdateApplication.json")); err != nil {
		t.Fatalf("update: %v %s", err, body)
	}
	if n := env.Count("kinesisanalyticsv2", "UpdateApplication"); n != 1 {
		t.Errorf("UpdateApplication %d, want 1", n)
	}
	d, err := kda.DescribeApplication(ctx, &kinesisanalyticsv2.DescribeApplicationInput{ApplicationName: aws.String("orders-enrichment")})
	if err != nil {
		t.Fatal(err)
	}
	if c := d.ApplicationDetail.ApplicationConfigurationDescription.FlinkApplicationConfigurationDescription.CheckpointConfigurationDescription; c.ConfigurationType != kt.ConfigurationTypeDefault {
		t.Errorf("checkpointing not fixed: %v", c.ConfigurationType)
	}
	if len(env.Events()) == 0 {
		t.Error("no audit events")
	}
	// An undecodable event is an error (Lambda retries, then the DLQ).
	_, err = invoke(t, fn, []byte(`{"detail-type":"nonsense"}`))
	var fe *rie.FunctionError
	if !errors.As(err, &fe) || !strings.Contains(fe.Message, "undecodable") {
		t.Errorf("undecodable event: %v", err)
	}
	if !strings.Contains(fn.Logs(), `"outcome":"verified"`) {
		t.Errorf("no verified audit line in the function's log")
	}
}

// Without KDAGUARD_SELF_ROLE_ARN the identity is learned from STS at start;
// an event by that principal (here an IAM user) is the remediator's own.
func TestBinarySelfFromSTS(t *testing.T) {
	rie.Emulator(t)
	env := localawstest.Start(t)
	fn := rie.Start(t, rie.Build(t, "./functions/remediator"), awsEnv(env, map[string]string{"KDAGUARD_MODE": "remediate"}))
	ev := bytes.ReplaceAll(event(t, "cloudtrail", "iam-user-call.json"), []byte("user/ci-deployer"), []byte("user/localaws"))
	if body, err := invoke(t, fn, ev); err != nil {
		t.Fatalf("%v %s", err, body)
	}
	if n := env.Count("kinesisanalyticsv2", ""); n != 0 {
		t.Errorf("own event made %d kinesisanalyticsv2 calls", n)
	}
	if env.Count("sts", "GetCallerIdentity") != 1 {
		t.Errorf("GetCallerIdentity %d, want once at init", env.Count("sts", "GetCallerIdentity"))
	}
}

// An invalid setting stops the function at start with one clear line.
func TestInvalidSettingStopsAtInit(t *testing.T) {
	bin := rie.Build(t, "./functions/remediator")
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "KDAGUARD_MODE=fix-everything", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:1")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "KDAGUARD_MODE") {
		t.Errorf("output %q", out)
	}
}
