// Package collect builds the application model from the live AWS APIs with
// the AWS SDK for Go v2.
//
// A Session serves one invocation (one Lambda event, one CLI run): it reads
// an application's own settings (DescribeApplication, ListTagsForResource)
// and then only the related facets the selected rules need
// (rules.Needs). Every related resource is read at most once per Session,
// even across applications, and concurrent callers share reads in flight.
// Reads that do not depend on each other run concurrently, with at most
// Options.Concurrency API calls in flight. A read that fails becomes an
// unknown fact with its reason; only the application itself failing to be
// described is an error.
package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// DefaultMaxAttempts is the number of attempts per call (the first one
// included) that Config sets unless an option says otherwise. The service
// publishes no TPS for its read calls; one attempt more than the SDK's
// default 3 lets the adaptive retryer ride out a burst of throttling in a
// sweep across many applications.
const DefaultMaxAttempts = 5

// Config loads the default AWS config (credential chain, Region) with the
// SDK's adaptive retry mode on. Endpoints come only from the SDK's own
// environment handling (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>):
// production code never sets BaseEndpoint. optFns are applied after the
// defaults and may override them.
func Config(ctx context.Context, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	opts := append([]func(*config.LoadOptions) error{
		config.WithRetryMode(aws.RetryModeAdaptive),
		config.WithRetryMaxAttempts(DefaultMaxAttempts),
	}, optFns...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}

// Clients are the service clients the collector reads with.
type Clients struct {
	KDA        *kinesisanalyticsv2.Client
	IAM        *iam.Client
	EC2        *ec2.Client
	KMS        *kms.Client
	Logs       *cloudwatchlogs.Client
	CloudWatch *cloudwatch.Client
	S3         *s3.Client
	Kinesis    *kinesis.Client
	CloudTrail *cloudtrail.Client
	Config     *configservice.Client
	STS        *sts.Client
}

// EnvS3PathStyle, set to "true", makes the S3 client use path-style
// addressing (an emulator on a loopback address cannot serve virtual-hosted
// bucket names).
const EnvS3PathStyle = "AWS_S3_USE_PATH_STYLE"

// NewClients builds every client from cfg. Nothing is customised except S3
// path-style addressing when AWS_S3_USE_PATH_STYLE=true.
func NewClients(cfg aws.Config) *Clients {
	pathStyle := os.Getenv(EnvS3PathStyle) == "true"
	return &Clients{
		KDA:        kinesisanalyticsv2.NewFromConfig(cfg),
		IAM:        iam.NewFromConfig(cfg),
		EC2:        ec2.NewFromConfig(cfg),
		KMS:        kms.NewFromConfig(cfg),
		Logs:       cloudwatchlogs.NewFromConfig(cfg),
		CloudWatch: cloudwatch.NewFromConfig(cfg),
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = pathStyle
		}),
		Kinesis:    kinesis.NewFromConfig(cfg),
		CloudTrail: cloudtrail.NewFromConfig(cfg),
		Config:     configservice.NewFromConfig(cfg),
		STS:        sts.NewFromConfig(cfg),
	}
}

// DefaultConcurrency bounds the API calls in flight when Options leaves it 0.
const DefaultConcurrency = 8

// Options tune a Session.
type Options struct {
	// Concurrency bounds the API calls in flight at once (default 8).
	Concurrency int
	// Logger receives a line per failed read, a warning for a missing
	// permission (default slog.Default()).
	Logger *slog.Logger
}

// ErrNotFound is returned (wrapping the SDK's ResourceNotFoundException) when
// the application does not exist.
var ErrNotFound = errors.New("application not found")

// Session caches reads for one invocation: each related resource is read at
// most once per Session, even across applications (a sweep), and concurrent
// callers share reads in flight. It is safe for concurrent use.
//
// A Session is a snapshot: to verify a change (a remediation), read again
// with a new Session, which is cheap.
type Session struct {
	c   *Clients
	sem chan struct{}
	log *slog.Logger

	mu    sync.Mutex
	cache map[string]*flight
}

// flight is one read, in progress or done.
type flight struct {
	done chan struct{}
	val  any
	err  error
}

// NewSession starts a session over the clients.
func NewSession(c *Clients, opts Options) *Session {
	n := opts.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.Default()
	}
	return &Session{c: c, sem: make(chan struct{}, n), log: lg, cache: map[string]*flight{}}
}

// once runs fn for key at most once per session and gives every caller its
// result. Concurrent callers wait for the first one. A result that is only a
// cancelled context is not kept: the next caller reads again.
func once[T any](ctx context.Context, s *Session, key string, fn func(context.Context) (T, error)) (T, error) {
	for {
		s.mu.Lock()
		f, ok := s.cache[key]
		if !ok {
			f = &flight{done: make(chan struct{})}
			s.cache[key] = f
			s.mu.Unlock()
			return lead(ctx, s, key, f, fn)
		}
		s.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
		if isContextErr(f.err) && ctx.Err() == nil {
			continue // the leader gave up, not the read: read again
		}
		v, _ := f.val.(T)
		return v, f.err
	}
}

func lead[T any](ctx context.Context, s *Session, key string, f *flight, fn func(context.Context) (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("read %s panicked: %v", key, p)
		}
		f.val, f.err = v, err
		if isContextErr(err) {
			s.mu.Lock()
			delete(s.cache, key)
			s.mu.Unlock()
		}
		close(f.done)
	}()
	return fn(ctx)
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// call makes one API call within the concurrency bound.
func call[T any](ctx context.Context, s *Session, fn func(context.Context) (T, error)) (T, error) {
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	defer func() { <-s.sem }()
	return fn(ctx)
}

// readError is a failed read, with the IAM action and resource it needed.
type readError struct {
	Action, Resource string
	Err              error
}

func (e *readError) Error() string { return reason(e.Action, e.Resource, e.Err) }
func (e *readError) Unwrap() error { return e.Err }

// fail wraps err with the action and resource it concerns and logs it.
func (s *Session) fail(ctx context.Context, action, resource string, err error) error {
	if err == nil {
		return nil
	}
	level := slog.LevelDebug
	if isAccessDenied(err) {
		level = slog.LevelWarn // the operator has a permission to grant
	}
	s.log.Log(ctx, level, "read failed", "action", action, "resource", resource, "error", errorCode(err))
	return &readError{Action: action, Resource: resource, Err: err}
}

// why turns a read error into the reason of an unknown fact.
func why(err error) string {
	var re *readError
	if errors.As(err, &re) {
		return re.Error()
	}
	return err.Error()
}

// reason words a failed read for a report: an AccessDenied names the missing
// permission.
func reason(action, resource string, err error) string {
	on := action
	if resource != "" {
		on += " on " + resource
	}
	switch {
	case isAccessDenied(err):
		return "access denied: needs " + on
	case isContextErr(err):
		return on + ": " + err.Error()
	case isThrottle(err):
		return on + ": throttled after retries (" + errorCode(err) + ")"
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := ae.ErrorMessage()
		if len(msg) > 120 {
			msg = msg[:120] + "..."
		}
		if msg == "" {
			return on + " failed: " + ae.ErrorCode()
		}
		return on + " failed: " + ae.ErrorCode() + ": " + msg
	}
	return on + " failed: " + err.Error()
}

// errorCode is the API error code, else the error text.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return err.Error()
}

func hasCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	c := ae.ErrorCode()
	for _, x := range codes {
		if c == x {
			return true
		}
	}
	return false
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func isAccessDenied(err error) bool {
	if hasCode(err, "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess",
		"AuthorizationError", "AuthorizationErrorException", "Forbidden", "NotAuthorized") {
		return true
	}
	var ae smithy.APIError
	return !errors.As(err, &ae) && httpStatus(err) == http.StatusForbidden
}

func isThrottle(err error) bool {
	return hasCode(err, "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
		"SlowDown", "TooManyRequestsException", "RequestThrottled", "RequestThrottledException",
		"LimitExceededException", "ProvisionedThroughputExceededException")
}

func isNotFound(err error) bool {
	if hasCode(err, "ResourceNotFoundException", "NoSuchEntity", "NotFoundException", "NoSuchBucket",
		"TrailNotFoundException", "NoSuchConfigurationRecorderException") {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && strings.HasSuffix(ae.ErrorCode(), ".NotFound")
}
