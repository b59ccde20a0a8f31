package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
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
)

const selfRole = "arn:aws:iam::123456789012:role/kdaguard/kdaguard-remediator-role"

// build compiles the function for the host (as `make build` does for the RIE).
func build(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	return out
}

func rieBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{filepath.Join("..", "..", "bin", "aws-lambda-rie")} {
		if _, err := os.Stat(p); err == nil {
			abs, _ := filepath.Abs(p)
			return abs
		}
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("aws-lambda-rie is not installed (make tools): under CI a missing tool fails")
	}
	t.Skip("aws-lambda-rie is not installed (make tools)")
	return ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// rie runs the binary under the Lambda Runtime Interface Emulator on
// loopback addresses and returns the invoke URL.
func rie(t *testing.T, bin string, env []string) string {
	t.Helper()
	emu, api := freeAddr(t), freeAddr(t)
	cmd := exec.Command(rieBinary(t), "--runtime-interface-emulator-address", emu, "--runtime-api-address", api, bin)
	cmd.Env = append(os.Environ(), env...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("RIE output:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", emu, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("RIE did not listen on %s", emu)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "http://" + emu + "/2015-03-31/functions/function/invocations"
}

func invoke(t *testing.T, url string, payload []byte) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func event(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"..", "..", "events"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func awsEnv(e *localawstest.Env) []string {
	return []string{"AWS_ENDPOINT_URL=" + e.URL, "AWS_REGION=" + e.Region(), "AWS_DEFAULT_REGION=" + e.Region(),
		"AWS_ACCESS_KEY_ID=" + localawstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + localawstest.SecretAccessKey,
		"AWS_SESSION_TOKEN=", "AWS_PROFILE=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_S3_USE_PATH_STYLE=true"}
}

func TestBinaryUnderRIE(t *testing.T) {
	rieBinary(t) // skip (or, under CI, fail) before any work
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
	url := rie(t, build(t), append(awsEnv(env), "KDAGUARD_MODE=remediate", "KDAGUARD_RESTART_POLICY=allow", "KDAGUARD_SELF_ROLE_ARN="+selfRole))
	env.ResetJournal()

	// The remediator's own call: ignored, not a single AWS call.
	if code, body := invoke(t, url, event(t, "cloudtrail", "own-call.json")); code != 200 || strings.Contains(body, "errorMessage") {
		t.Fatalf("own call: %d %s", code, body)
	}
	if n := env.Count("kinesisanalyticsv2", ""); n != 0 {
		t.Errorf("own call made %d kinesisanalyticsv2 calls", n)
	}
	// Someone else's change: converged with one UpdateApplication.
	if code, body := invoke(t, url, event(t, "cloudtrail", "UpdateApplication.json")); code != 200 || strings.Contains(body, "errorMessage") {
		t.Fatalf("update: %d %s", code, body)
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
	code, body := invoke(t, url, []byte(`{"detail-type":"nonsense"}`))
	var fe struct{ ErrorMessage, ErrorType string }
	if json.Unmarshal([]byte(body), &fe) != nil || !strings.Contains(fe.ErrorMessage, "undecodable") {
		t.Errorf("undecodable event: %d %s", code, body)
	}
}

// An invalid setting stops the function at start with one clear line.
func TestInvalidSettingStopsAtInit(t *testing.T) {
	bin := build(t)
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
