package configeval_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/configservice"

	"github.com/kdaguard/kdaguard/shared/collect"
	"github.com/kdaguard/kdaguard/shared/configeval"
	"github.com/kdaguard/kdaguard/shared/settings"
)

// fakeConfig answers PutEvaluations with the FailedEvaluations it is told
// to, which localaws never returns.
type fakeConfig struct {
	mu     sync.Mutex
	calls  [][]map[string]any
	failN  []int // per call: how many of the sent evaluations come back failed
	status int
}

func (f *fakeConfig) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var in struct{ Evaluations []map[string]any }
	_ = json.Unmarshal(b, &in)
	f.mu.Lock()
	i := len(f.calls)
	f.calls = append(f.calls, in.Evaluations)
	n := 0
	if i < len(f.failN) {
		n = min(f.failN[i], len(in.Evaluations))
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{"FailedEvaluations": in.Evaluations[:n]})
}

func fakeHandler(t *testing.T, f *fakeConfig) *configeval.Handler {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake", "")}
	return &configeval.Handler{Clients: &collect.Clients{Config: configservice.NewFromConfig(cfg)}, Settings: settings.Defaults()}
}

func deletedEvent(t *testing.T) []byte {
	t.Helper()
	b, err := readSample("deleted.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFailedEvaluationsRetriedOnce(t *testing.T) {
	t.Run("second attempt succeeds", func(t *testing.T) {
		f := &fakeConfig{failN: []int{1, 0}}
		h := fakeHandler(t, f)
		if err := h.Handle(context.Background(), decodeSample(t, deletedEvent(t))); err != nil {
			t.Fatalf("Handle: %v", err)
		}
		if len(f.calls) != 2 || len(f.calls[1]) != 1 || f.calls[1][0]["ComplianceResourceId"] != "orders-enrichment" {
			t.Fatalf("calls %v", f.calls)
		}
	})
	t.Run("still failing is an error", func(t *testing.T) {
		f := &fakeConfig{failN: []int{1, 1, 1}}
		h := fakeHandler(t, f)
		err := h.Handle(context.Background(), decodeSample(t, deletedEvent(t)))
		if err == nil || !strings.Contains(err.Error(), "rejected") {
			t.Fatalf("want an error, got %v", err)
		}
		if len(f.calls) != 2 {
			t.Fatalf("%d calls, want 2 (one retry only)", len(f.calls))
		}
	})
}
