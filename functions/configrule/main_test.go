package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kdaguard/kdaguard/internal/localaws"
	"github.com/kdaguard/kdaguard/internal/localaws/localawstest"
	"github.com/kdaguard/kdaguard/internal/rie"
)

const secret = "Pl4nted-RIE-S3cret-4b3c"

// functionEnv is the function's whole environment: localaws endpoint,
// fake credentials, Region, and the KDAGUARD_* settings.
func functionEnv(env *localawstest.Env, extra map[string]string) map[string]string {
	m := map[string]string{
		"AWS_ENDPOINT_URL":            env.URL,
		"AWS_REGION":                  env.Region(),
		"AWS_ACCESS_KEY_ID":           localawstest.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       localawstest.SecretAccessKey,
		"AWS_S3_USE_PATH_STYLE":       "true",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"KDAGUARD_MODE":               "report",
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func sample(t testing.TB, env *localawstest.Env, file string, edit func(*events.ConfigEvent)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "config", file))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.ConfigEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ResultToken != "TESTMODE" {
		ev.ResultToken = env.IssueResultToken(ev.ConfigRuleName)
	}
	if edit != nil {
		edit(&ev)
	}
	out, _ := json.Marshal(ev)
	return out
}

// TestUnderRIE runs the compiled bootstrap (-tags lambda.norpc) under the
// Lambda Runtime Interface Emulator against localaws, one invocation per
// notification type, and checks what reached PutEvaluations.
func TestUnderRIE(t *testing.T) {
	env := localawstest.Start(t)
	seed, err := os.ReadFile(filepath.Join("..", "..", "events", "config", "localaws-seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var calls []localaws.SeedCall
	if err := json.Unmarshal(seed, &calls); err != nil {
		t.Fatal(err)
	}
	// A third application with a planted credential in its properties.
	calls = append(calls, localaws.SeedCall{Service: "kinesisanalyticsv2", Operation: "CreateApplication", Input: map[string]any{
		"ApplicationName": "leaky", "RuntimeEnvironment": "FLINK-1_20",
		"ServiceExecutionRole": "arn:aws:iam::123456789012:role/orders-enrichment-flink",
		"ApplicationConfiguration": map[string]any{"EnvironmentProperties": map[string]any{"PropertyGroups": []any{
			map[string]any{"PropertyGroupId": "db", "PropertyMap": map[string]any{"db.password": secret}}}}},
	}})
	if res, err := env.Seed(calls); err != nil {
		t.Fatal(err)
	} else {
		for _, r := range res {
			if r.Error != "" {
				t.Fatalf("seed %s: %s", r.Operation, r.Error)
			}
		}
	}

	bin := rie.Build(t, "./functions/configrule")
	fn := rie.Start(t, bin, functionEnv(env, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	type step struct {
		file string
		edit func(*events.ConfigEvent)
		// want: resource id -> compliance type of the evaluations this invocation adds
		want     map[string]string
		testMode bool
	}
	dp5 := func(ev *events.ConfigEvent) {
		ev.RuleParameters = `{"ruleId":"KDA.DP.5"}`
		ev.ConfigRuleName = "kdaguard-KDA.DP.5"
		ev.ResultToken = env.IssueResultToken(ev.ConfigRuleName)
	}
	steps := []step{
		{file: "change.json", want: map[string]string{"orders-enrichment": "NON_COMPLIANT"}},
		{file: "oversized.json", want: map[string]string{"orders-enrichment": "NON_COMPLIANT"}},
		{file: "change-testmode.json", want: map[string]string{"orders-enrichment": "NON_COMPLIANT"}, testMode: true},
		{file: "scheduled.json", want: map[string]string{"orders-enrichment": "NON_COMPLIANT", "clickstream-sessionizer": "COMPLIANT", "leaky": "COMPLIANT"}},
		{file: "scheduled.json", edit: dp5, want: map[string]string{"orders-enrichment": "COMPLIANT", "clickstream-sessionizer": "COMPLIANT", "leaky": "NON_COMPLIANT"}},
		{file: "scheduled-account.json", want: map[string]string{"123456789012": "NON_COMPLIANT"}},
		{file: "deleted.json", want: map[string]string{"orders-enrichment": "NOT_APPLICABLE"}},
		{file: "deleted-not-recorded.json", want: map[string]string{"orders-enrichment": "NOT_APPLICABLE"}},
		{file: "left-scope.json", want: map[string]string{"orders-enrichment": "NOT_APPLICABLE"}},
	}
	for i, s := range steps {
		before := len(env.Evaluations())
		start := time.Now()
		out, err := fn.Invoke(ctx, sample(t, env, s.file, s.edit))
		took := time.Since(start)
		if err != nil {
			t.Fatalf("%s: %v (%s)", s.file, err, out)
		}
		if i == 0 {
			t.Logf("cold invoke (%s): %v", s.file, took)
		} else {
			t.Logf("warm invoke (%s): %v", s.file, took)
		}
		got := map[string]string{}
		for _, e := range env.Evaluations()[before:] {
			got[e.ComplianceResourceID] = e.ComplianceType
			if e.TestMode != s.testMode {
				t.Errorf("%s: TestMode %v", s.file, e.TestMode)
			}
			if strings.Contains(e.Annotation, secret) {
				t.Errorf("%s: annotation contains the planted secret", s.file)
			}
		}
		if len(got) != len(s.want) {
			t.Errorf("%s: evaluations %v, want %v", s.file, got, s.want)
		}
		for id, want := range s.want {
			if got[id] != want {
				t.Errorf("%s: %s is %q, want %s", s.file, id, got[id], want)
			}
		}
	}

	// A bad parameter is a function error (Lambda retries; it shows in Errors).
	out, err := fn.Invoke(ctx, sample(t, env, "change.json", func(ev *events.ConfigEvent) {
		ev.RuleParameters = `{"ruleId":"KDA.MON.2","allowedLogLevels":"LOUD"}`
	}))
	var fe *rie.FunctionError
	if !errors.As(err, &fe) || !strings.Contains(fe.Message, "allowedLogLevels") {
		t.Errorf("bad parameter: want a function error naming allowedLogLevels, got %v (%s)", err, out)
	}
	logs := fn.Logs()
	if strings.Contains(logs, secret) {
		t.Errorf("the function's logs contain the planted secret")
	}
	if !strings.Contains(logs, `"msg":"evaluation"`) || !strings.Contains(logs, `"rule":"KDA.DP.5"`) {
		t.Errorf("the function's JSON logs lack evaluation lines:\n%s", logs)
	}
}

// TestUnderRIEInvalidSettings: an invalid KDAGUARD_* value stops the
// function at init with a message naming the variable.
func TestUnderRIEInvalidSettings(t *testing.T) {
	env := localawstest.Start(t)
	fn := rie.Start(t, rie.Build(t, "./functions/configrule"), functionEnv(env, map[string]string{"KDAGUARD_RULE_MODES": "KDA.RES.1=sometimes"}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := fn.Invoke(ctx, sample(t, env, "change.json", nil))
	if err == nil {
		t.Fatalf("invoke succeeded with invalid settings: %s", out)
	}
	if n := len(env.Evaluations()); n != 0 {
		t.Errorf("%d evaluations reported with invalid settings", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(fn.Logs(), "KDAGUARD_RULE_MODES") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(fn.Logs(), "KDAGUARD_RULE_MODES") {
		t.Errorf("init failure does not name the variable:\n%s", fn.Logs())
	}
}
