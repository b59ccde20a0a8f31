// Package localawstest starts a localaws emulator for Go tests.
package localawstest

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kdaguard/kdaguard/internal/localaws"
)

// Env is a running emulator: the Server (journal, faults, ...) and its URL.
type Env struct {
	*localaws.Server
	URL string
}

// Test credentials; the emulator does not check signatures.
const (
	AccessKeyID     = "AKIALOCALAWSTEST0001"
	SecretAccessKey = "localaws-test-secret-access-key"
)

// Start runs a new emulator with clean state on a free 127.0.0.1 port and
// closes it when the test ends. At most one Options is used.
func Start(tb testing.TB, opts ...localaws.Options) *Env {
	tb.Helper()
	var o localaws.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	srv := localaws.New(o)
	hs := httptest.NewServer(srv)
	tb.Cleanup(hs.Close)
	return &Env{Server: srv, URL: hs.URL}
}

// AWSConfig returns an aws.Config with static credentials, the emulator's
// Region and BaseEndpoint set to its URL. S3 clients also need
// o.UsePathStyle = true (see S3PathStyle).
func (e *Env) AWSConfig(ctx context.Context) aws.Config {
	cfg := aws.Config{
		Region:       e.Region(),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(e.URL),
	}
	return cfg
}

// SetEnv points config.LoadDefaultConfig at the emulator through the
// standard environment variables (t.Setenv, so not in parallel tests).
func (e *Env) SetEnv(tb testing.TB) {
	tb.Helper()
	tb.Setenv("AWS_ENDPOINT_URL", e.URL)
	tb.Setenv("AWS_REGION", e.Region())
	tb.Setenv("AWS_DEFAULT_REGION", e.Region())
	tb.Setenv("AWS_ACCESS_KEY_ID", AccessKeyID)
	tb.Setenv("AWS_SECRET_ACCESS_KEY", SecretAccessKey)
	tb.Setenv("AWS_SESSION_TOKEN", "")
	tb.Setenv("AWS_PROFILE", "")
	tb.Setenv("AWS_CONFIG_FILE", "/dev/null")
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	tb.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}
