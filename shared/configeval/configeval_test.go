package configeval_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"

	"github.com/kdaguard/kdaguard/internal/localaws"
	"github.com/kdaguard/kdaguard/internal/localaws/localawstest"
	"github.com/kdaguard/kdaguard/shared/collect"
	"github.com/kdaguard/kdaguard/shared/configeval"
	"github.com/kdaguard/kdaguard/shared/settings"
)

// now is the rules' clock in these tests.
var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

const (
	account   = "123456789012"
	roleARN   = "arn:aws:iam::123456789012:role/orders-enrichment-flink"
	plantedPw = "Pl4nted-S3cret-Value-9f8e7d" // must never appear in an annotation or a log line
	plantedAK = "AKIAPLANTEDSECRET123"
)

// fixture is one emulator, a handler on it, and the handler's captured logs.
type fixture struct {
	env  *localawstest.Env
	h    *configeval.Handler
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newFixture starts localaws and a handler with the production AWS config
// (collect.Config: adaptive retry) pointed at it.
func newFixture(t *testing.T, st settings.Settings) *fixture {
	t.Helper()
	env := localawstest.Start(t)
	ctx := context.Background()
	cfg, err := collect.Config(ctx,
		config.WithRegion(env.Region()),
		config.WithBaseEndpoint(env.URL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(localawstest.AccessKeyID, localawstest.SecretAccessKey, "")),
		config.WithSharedConfigFiles(nil), config.WithSharedCredentialsFiles(nil),
	)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	h := &configeval.Handler{
		Clients:  collect.NewClients(cfg),
		Settings: st,
		Now:      func() time.Time { return now },
		Logger:   slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("handler logs:\n%s", logs.String())
		}
	})
	return &fixture{env: env, h: h, logs: logs}
}

// seed applies localaws seed calls and fails the test on any error.
func (f *fixture) seed(t *testing.T, calls ...localaws.SeedCall) {
	t.Helper()
	res, err := f.env.Seed(calls)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	for _, r := range res {
		if r.Error != "" {
			t.Fatalf("seed %s %s: %s", r.Service, r.Operation, r.Error)
		}
	}
}

func role(name string) localaws.SeedCall {
	return localaws.SeedCall{Service: "iam", Operation: "CreateRole", Input: map[string]any{
		"RoleName":                 name,
		"AssumeRolePolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
	}}
}

// app creates a Flink application; checkpointing off makes KDA.RES.1 fail.
func app(name string, checkpointing bool, tags map[string]string, props map[string]string) localaws.SeedCall {
	cp := map[string]any{"ConfigurationType": "DEFAULT"}
	if !checkpointing {
		cp = map[string]any{"ConfigurationType": "CUSTOM", "CheckpointingEnabled": false, "CheckpointInterval": 60000, "MinPauseBetweenCheckpoints": 5000}
	}
	cfg := map[string]any{"FlinkApplicationConfiguration": map[string]any{"CheckpointConfiguration": cp}}
	if props != nil {
		cfg["EnvironmentProperties"] = map[string]any{"PropertyGroups": []any{
			map[string]any{"PropertyGroupId": "FlinkApplicationProperties", "PropertyMap": props}}}
	}
	in := map[string]any{
		"ApplicationName":          name,
		"RuntimeEnvironment":       "FLINK-1_20",
		"ServiceExecutionRole":     roleARN,
		"ApplicationConfiguration": cfg,
	}
	if len(tags) > 0 {
		var ts []any
		for k, v := range tags {
			ts = append(ts, map[string]any{"Key": k, "Value": v})
		}
		in["Tags"] = ts
	}
	return localaws.SeedCall{Service: "kinesisanalyticsv2", Operation: "CreateApplication", Input: in}
}

// sample loads an event from events/config and gives it a result token
// issued by the emulator for its Config rule (unless TESTMODE).
func (f *fixture) sample(t *testing.T, file string) events.ConfigEvent {
	t.Helper()
	b, err := readSample(file)
	if err != nil {
		t.Fatal(err)
	}
	ev := decodeSample(t, b)
	if ev.ResultToken != configeval.TestModeToken {
		ev.ResultToken = f.env.IssueResultToken(ev.ConfigRuleName)
	}
	return ev
}

func readSample(file string) ([]byte, error) {
	return os.ReadFile(filepath.Join("..", "..", "events", "config", file))
}

func decodeSample(t *testing.T, b []byte) events.ConfigEvent {
	t.Helper()
	var ev events.ConfigEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// withRule returns ev for another rule (ruleParameters and rule name).
func withRule(ev events.ConfigEvent, params map[string]string) events.ConfigEvent {
	b, _ := json.Marshal(params)
	ev.RuleParameters = string(b)
	ev.ConfigRuleName = "kdaguard-" + params["ruleId"]
	return ev
}

// scheduledEvent is a ScheduledNotification for a rule.
func (f *fixture) scheduledEvent(t *testing.T, ruleID string) events.ConfigEvent {
	ev := f.sample(t, "scheduled.json")
	ev = withRule(ev, map[string]string{"ruleId": ruleID})
	ev.ResultToken = f.env.IssueResultToken(ev.ConfigRuleName)
	return ev
}

func (f *fixture) handle(t *testing.T, ev events.ConfigEvent) {
	t.Helper()
	if err := f.h.Handle(context.Background(), ev); err != nil {
		t.Fatalf("Handle: %v", err)
	}
}

// sameMilli compares timestamps to the millisecond: awsJson carries them as
// epoch seconds in a float.
func sameMilli(a, b time.Time) bool { return a.Sub(b).Abs() < time.Millisecond }

// byID indexes evaluations by resource id, failing on a duplicate.
func byID(t *testing.T, evs []localaws.Evaluation) map[string]localaws.Evaluation {
	t.Helper()
	m := map[string]localaws.Evaluation{}
	for _, e := range evs {
		if _, dup := m[e.ComplianceResourceID]; dup {
			t.Fatalf("two evaluations for %s", e.ComplianceResourceID)
		}
		m[e.ComplianceResourceID] = e
	}
	return m
}

// checkAnnotations asserts what every evaluation must satisfy.
func checkAnnotations(t *testing.T, evs []localaws.Evaluation) {
	t.Helper()
	for _, e := range evs {
		if len(e.Annotation) > configeval.MaxAnnotation || !utf8.ValidString(e.Annotation) {
			t.Errorf("%s: annotation of %d bytes or invalid UTF-8", e.ComplianceResourceID, len(e.Annotation))
		}
		switch e.ComplianceType {
		case "COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE":
		default:
			t.Errorf("%s: compliance type %s", e.ComplianceResourceID, e.ComplianceType)
		}
		if e.ComplianceType == "COMPLIANT" && strings.Contains(e.Annotation, "could not verify") {
			t.Errorf("%s: COMPLIANT but %q", e.ComplianceResourceID, e.Annotation)
		}
	}
}

func TestChangeNotification(t *testing.T) {
	f := newFixture(t, settings.Defaults())
	f.seed(t, role("orders-enrichment-flink"), app("orders-enrichment", false, nil, nil))
	ev := f.sample(t, "change.json")
	f.handle(t, ev)

	evs := f.env.Evaluations()
	if len(evs) != 1 {
		t.Fatalf("%d evaluations, want 1: %+v", len(evs), evs)
	}
	e := evs[0]
	if e.ComplianceResourceType != "AWS::KinesisAnalyticsV2::Application" || e.ComplianceResourceID != "orders-enrichment" ||
		e.ComplianceType != "NON_COMPLIANT" || e.ResultToken != ev.ResultToken || e.TestMode || e.ConfigRuleName != "kdaguard-KDA.RES.1" {
		t.Fatalf("evaluation %+v", e)
	}
	// The item's capture time orders the result, not the notification time.
	if want := time.Date(2026, 11, 27, 9, 14, 31, 962e6, time.UTC); !sameMilli(e.OrderingTimestamp, want) {
		t.Errorf("OrderingTimestamp %v, want %v", e.OrderingTimestamp, want)
	}
	// The state was read live: the item in the event says checkpointing is
	// CUSTOM/off too, so also fix the app and check the verdict follows the API.
	if f.env.Count("kinesisanalyticsv2", "DescribeApplication") != 1 {
		t.Errorf("DescribeApplication calls: %d", f.env.Count("kinesisanalyticsv2", "DescribeApplication"))
	}
	f.env.Reset()
	f.seed(t, role("orders-enrichment-flink"), app("orders-enrichment", true, nil, nil))
	ev = f.sample(t, "change.json")
	f.handle(t, ev)
	if evs := f.env.Evaluations(); len(evs) != 1 || evs[0].ComplianceType != "COMPLIANT" {
		t.Fatalf("after the live state changed: %+v (the item must not be used as state)", evs)
	}
}

func TestOversizedNotification(t *testing.T) {
	f := newFixture(t, settings.Defaults())
	f.seed(t, role("orders-enrichment-flink"), app("orders-enrichment", false, nil, nil))
	f.handle(t, f.sample(t, "oversized.json"))
	evs := f.env.Evaluations()
	if len(evs) != 1 || evs[0].ComplianceResourceID != "orders-enrichment" || evs[0].ComplianceType != "NON_COMPLIANT" {
		t.Fatalf("evaluations %+v", evs)
	}
	if want := time.Date(2026, 11, 27, 9, 14, 31, 962e6, time.UTC); !sameMilli(evs[0].OrderingTimestamp, want) {
		t.Errorf("OrderingTimestamp %v, want the summary's capture time %v", evs[0].OrderingTimestamp, want)
	}
	// Identity from the summary is enough: no configuration history read.
	if n := f.env.Count("configservice", "GetResourceConfigHistory"); n != 0 {
		t.Errorf("GetResourceConfigHistory called %d times", n)
	}
}

func TestDeletedAndLeftScopeReadNothing(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"deleted.json", "ResourceDeleted"},
		{"deleted-not-recorded.json", "ResourceDeletedNotRecorded"},
		{"left-scope.json", "left the rule's scope"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f := newFixture(t, settings.Defaults())
			// The application still exists (and is non-compliant): the
			// notification decides, nothing is read.
			f.seed(t, role("orders-enrichment-flink"), app("orders-enrichment", false, nil, nil))
			f.handle(t, f.sample(t, tc.file))
			evs := f.env.Evaluations()
			if len(evs) != 1 || evs[0].ComplianceType != "NOT_APPLICABLE" || evs[0].ComplianceResourceID != "orders-enrichment" ||
				!strings.Contains(evs[0].Annotation, tc.want) {
				t.Fatalf("evaluations %+v", evs)
			}
			if n := f.env.Count("kinesisanalyticsv2", "*"); n != 0 {
				t.Errorf("%d kinesisanalyticsv2 calls for a %s event", n, tc.file)
			}
		})
	}
}

func TestChangeForMissingApplicationIsNotApplicable(t *testing.T) {
	f := newFixture(t, settings.Defaults())
	f.handle(t, f.sample(t, "change.json")) // no application seeded
	evs := f.env.Evaluations()
	if len(evs) != 1 || evs[0].ComplianceType != "NOT_APPLICABLE" || !strings.Contains(evs[0].Annotation, "no longer exists") {
		t.Fatalf("evaluations %+v", evs)
	}
}

func TestScheduledClearsVanishedApplications(t *testing.T) {
	f := newFixture(t, settings.Defaults())
	f.seed(t, role("orders-enrichment-flink"),
		app("a-good", true, nil, nil), app("b-bad", false, nil, nil), app("c-doomed", false, nil, nil))

	f.handle(t, f.scheduledEvent(t, "KDA.RES.1"))
	first := byID(t, f.env.Evaluations())
	if len(first) != 3 || first["a-good"].ComplianceType != "COMPLIANT" || first["b-bad"].ComplianceType != "NON_COMPLIANT" ||
		first["c-doomed"].ComplianceType != "NON_COMPLIANT" {
		t.Fatalf("first run: %+v", first)
	}
	notified := time.Date(2026, 11, 27, 10, 0, 0, 373e6, time.UTC)
	for id, e := range first {
		if !sameMilli(e.OrderingTimestamp, notified) {
			t.Errorf("%s: OrderingTimestamp %v, want the notification time %v", id, e.OrderingTimestamp, notified)
		}
	}

	// c-doomed is deleted between runs.
	kda := f.h.Clients.KDA
	ctx := context.Background()
	d, err := kda.DescribeApplication(ctx, &kinesisanalyticsv2.DescribeApplicationInput{ApplicationName: aws.String("c-doomed")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kda.DeleteApplication(ctx, &kinesisanalyticsv2.DeleteApplicationInput{ApplicationName: aws.String("c-doomed"),
		CreateTimestamp: d.ApplicationDetail.CreateTimestamp}); err != nil {
		t.Fatal(err)
	}

	n := len(f.env.Evaluations())
	f.handle(t, f.scheduledEvent(t, "KDA.RES.1"))
	second := byID(t, f.env.Evaluations()[n:])
	if len(second) != 3 || second["c-doomed"].ComplianceType != "NOT_APPLICABLE" ||
		!strings.Contains(second["c-doomed"].Annotation, "no longer exists") || second["b-bad"].ComplianceType != "NON_COMPLIANT" {
		t.Fatalf("second run: %+v", second)
	}
	if c := f.env.Count("configservice", "GetComplianceDetailsByConfigRule"); c < 2 {
		t.Errorf("GetComplianceDetailsByConfigRule calls: %d", c)
	}

	// Once NOT_APPLICABLE, a vanished application is not reported again.
	n = len(f.env.Evaluations())
	f.handle(t, f.scheduledEvent(t, "KDA.RES.1"))
	third := byID(t, f.env.Evaluations()[n:])
	if _, again := third["c-doomed"]; again || len(third) != 2 {
		t.Fatalf("third run: %+v", third)
	}
}

// TestScheduledBatchesOf100 seeds 230 applications: every PutEvaluations
// call carries at most 100, all 230 arrive, and each application is
// described exactly once while shared reads (the role) happen once.
func TestScheduledBatchesOf100(t *testing.T) {
	f := newFixture(t, settings.Defaults())
	calls := []localaws.SeedCall{role("orders-enrichment-flink")}
	for i := range 230 {
		calls = append(calls, app(fmt.Sprintf("app-%03d", i), i%2 == 0, nil, nil))
	}
	f.seed(t, calls...)
	f.env.ResetJournal()

	ev := f.scheduledEvent(t, "KDA.IAM.1") // reads the shared execution role
	f.handle(t, ev)

	evs := byID(t, f.env.Evaluations())
	if len(evs) != 230 {
		t.Fatalf("%d evaluations, want 230", len(evs))
	}
	puts := 0
	for _, e := range f.env.Journal() {
		if e.Service != "configservice" || e.Operation != "PutEvaluations" {
			continue
		}
		puts++
		n, _ := strconv.Atoi(e.Params["Evaluations"])
		if n < 1 || n > 100 || e.Status != 200 {
			t.Errorf("PutEvaluations with %s evaluations, status %d", e.Params["Evaluations"], e.Status)
		}
	}
	if puts != 3 {
		t.Errorf("%d PutEvaluations calls, want 3", puts)
	}
	for id, e := range evs {
		if e.ResultToken != ev.ResultToken || e.ComplianceType != "COMPLIANT" {
			t.Fatalf("%s: %+v", id, e)
		}
	}
	if n := f.env.Count("kinesisanalyticsv2", "DescribeApplication"); n != 230 {
		t.Errorf("DescribeApplication %d times, want 230", n)
	}
	if n := f.env.Count("iam", "GetRole"); n != 1 {
		t.Errorf("iam:GetRole %d times for one shared role, want 1", n)
	}
	checkAnnotations(t, f.env.Evaluations())
}

func TestUnknownIsNonCompliantCouldNotVerify(t *testing.T) {
	f := newFixture(t, settings.Defaults())
	f.seed(t, role("orders-enrichment-flink"), app("orders-enrichment", true, nil, nil))
	f.env.SetFaults(localaws.Fault{Service: "iam", Operation: "GetRole", ErrorCode: "AccessDenied"})
	ev := withRule(f.sample(t, "change.json"), map[string]string{"ruleId": "KDA.IAM.1"})
	ev.ResultToken = f.env.IssueResultToken(ev.ConfigRuleName)
	f.handle(t, ev)
	evs := f.env.Evaluations()
	if len(evs) != 1 {
		t.Fatalf("evaluations %+v", evs)
	}
	e := evs[0]
	if e.ComplianceType != "NON_COMPLIANT" || !strings.HasPrefix(e.Annotation, "could not verify:") ||
		!strings.Contains(e.Annotation, "iam:GetRole") {
		t.Fatalf("want NON_COMPLIANT \"could not verify: ... iam:GetRole\", got %s %q", e.ComplianceType, e.Annotation)
	}
	checkAnnotations(t, evs)
}

func TestExemptionAndExpiry(t *testing.T) {
	f := newFixture(t, settings.Defaults())
	f.seed(t, role("orders-enrichment-flink"),
		app("exempt-forever", false, map[string]string{"kdaguard:exempt": "KDA.RES.1"}, nil),
		app("exempt-all-until-later", false, map[string]string{"kdaguard:exempt": "all", "kdaguard:exempt-until": "2026-12-31"}, nil),
		app("exempt-lapsed", false, map[string]string{"kdaguard:exempt": "KDA.RES.1,KDA.RES.2", "kdaguard:exempt-until": "2026-11-01"}, nil),
		app("exempt-other-rule", false, map[string]string{"kdaguard:exempt": "KDA.IAM.1"}, nil),
	)
	f.handle(t, f.scheduledEvent(t, "KDA.RES.1"))
	evs := byID(t, f.env.Evaluations())
	for id, want := range map[string]string{"exempt-forever": "NOT_APPLICABLE", "exempt-all-until-later": "NOT_APPLICABLE",
		"exempt-lapsed": "NON_COMPLIANT", "exempt-other-rule": "NON_COMPLIANT"} {
		if evs[id].ComplianceType != want {
			t.Errorf("%s: %s %q, want %s", id, evs[id].ComplianceType, evs[id].Annotation, want)
		}
	}
	if a := evs["exempt-forever"].Annotation; !strings.Contains(a, "kdaguard:exempt") {
		t.Errorf("exemption annotation %q does not name the tag", a)
	}
	if a := evs["exempt-all-until-later"].Annotation; !strings.Contains(a, "kdaguard:exempt") || !strings.Contains(a, "2026-12-31") {
		t.Errorf("exemption annotation %q", a)
	}
	if a := evs["exempt-lapsed"].Annotation; !strings.Contains(a, "checkpointing") || !strings.Contains(a, "lapsed") {
		t.Errorf("a lapsed exemption should keep the finding and say it lapsed: %q", a)
	}

	// The same exemption, one day after its date: evaluated again.
	f.h.Now = func() time.Time { return time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC) }
	n := len(f.env.Evaluations())
	f.handle(t, f.scheduledEvent(t, "KDA.RES.1"))
	later := byID(t, f.env.Evaluations()[n:])
	if later["exempt-all-until-later"].ComplianceType != "NON_COMPLIANT" || later["exempt-forever"].ComplianceType != "NOT_APPLICABLE" {
		t.Fatalf("after expiry: %+v", later)
	}
	checkAnnotations(t, f.env.Evaluations())
}

// Tags that cannot be read leave an exemption possible: a NON_COMPLIANT
// result says so (the remediator changes nothing then); a COMPLIANT one
// does not need to.
func TestUnreadableTagsAreNamedBesideAFailure(t *testing.T) {
	f := newFixture(t, settings.Defaults())
	f.seed(t, role("orders-enrichment-flink"),
		app("failing", false, map[string]string{"kdaguard:exempt": "KDA.RES.1"}, nil))
	f.env.SetFaults(localaws.Fault{Service: "kinesisanalyticsv2", Operation: "ListTagsForResource", ErrorCode: "AccessDeniedException"})
	f.handle(t, f.scheduledEvent(t, "KDA.RES.1"))
	e := byID(t, f.env.Evaluations())["failing"]
	if e.ComplianceType != "NON_COMPLIANT" || !strings.Contains(e.Annotation, "exemption tag could not be read") ||
		!strings.Contains(e.Annotation, "ListTagsForResource") {
		t.Errorf("unreadable tags: %s %q, want NON_COMPLIANT naming the unreadable exemption tag", e.ComplianceType, e.Annotation)
	}
	checkAnnotations(t, f.env.Evaluations())
}

func TestTestMode(t *testing.T) {
	f := newFixture(t, settings.Defaults())
	f.seed(t, role("orders-enrichment-flink"), app("orders-enrichment", false, nil, nil))
	f.handle(t, f.sample(t, "change-testmode.json"))
	evs := f.env.Evaluations()
	if len(evs) != 1 || !evs[0].TestMode || evs[0].ResultToken != "TESTMODE" {
		t.Fatalf("evaluations %+v", evs)
	}
}

func TestAccountRule(t *testing.T) {
	f := newFixture(t, settings.Defaults())
	f.seed(t, role("orders-enrichment-flink"), app("orders-enrichment", false, nil, nil), app("second", true, nil, nil))
	f.handle(t, f.sample(t, "scheduled-account.json"))
	// A change notification for an account rule evaluates the account too.
	ev := withRule(f.sample(t, "change.json"), map[string]string{"ruleId": "KDA.CMP.1"})
	ev.ResultToken = f.env.IssueResultToken(ev.ConfigRuleName)
	f.handle(t, ev)
	evs := f.env.Evaluations()
	if len(evs) != 2 {
		t.Fatalf("evaluations %+v", evs)
	}
	for _, e := range evs {
		if e.ComplianceResourceType != "AWS::::Account" || e.ComplianceResourceID != account || e.ComplianceType != "NON_COMPLIANT" {
			t.Errorf("evaluation %+v", e)
		}
		if strings.HasPrefix(e.Annotation, "could not verify") {
			t.Errorf("account facts not read: %q", e.Annotation)
		}
	}
	if n := f.env.Count("cloudtrail", "DescribeTrails"); n > 1 {
		t.Errorf("DescribeTrails %d times", n)
	}
}

func TestAccountRuleEdges(t *testing.T) {
	t.Run("no application", func(t *testing.T) {
		// The account's facts are read on their own: an account without a
		// logging trail is reported whether or not it has an application yet.
		f := newFixture(t, settings.Defaults())
		f.handle(t, f.sample(t, "scheduled-account.json"))
		evs := f.env.Evaluations()
		if len(evs) != 1 || evs[0].ComplianceResourceType != "AWS::::Account" || evs[0].ComplianceType != "NON_COMPLIANT" ||
			strings.HasPrefix(evs[0].Annotation, "could not verify") {
			t.Fatalf("evaluations %+v", evs)
		}
		if n := f.env.Count("kinesisanalyticsv2", "ListApplications"); n != 0 {
			t.Errorf("account facts need no application: ListApplications called %d times", n)
		}
	})
	t.Run("trails denied", func(t *testing.T) {
		f := newFixture(t, settings.Defaults())
		f.seed(t, role("orders-enrichment-flink"), app("orders-enrichment", true, nil, nil))
		f.env.SetFaults(localaws.Fault{Service: "cloudtrail", ErrorCode: "AccessDeniedException"})
		f.handle(t, f.sample(t, "scheduled-account.json"))
		evs := f.env.Evaluations()
		if len(evs) != 1 || evs[0].ComplianceType != "NON_COMPLIANT" || !strings.HasPrefix(evs[0].Annotation, "could not verify:") ||
			!strings.Contains(evs[0].Annotation, "cloudtrail:") {
			t.Fatalf("evaluations %+v", evs)
		}
	})
}

func TestRuleModeOffReadsNothing(t *testing.T) {
	st := settings.Defaults()
	st.RuleModes = map[string]settings.Mode{"KDA.RES.1": settings.ModeOff}
	f := newFixture(t, st)
	f.seed(t, role("orders-enrichment-flink"), app("orders-enrichment", false, nil, nil))
	f.handle(t, f.sample(t, "change.json"))
	evs := f.env.Evaluations()
	if len(evs) != 1 || evs[0].ComplianceType != "NOT_APPLICABLE" || !strings.Contains(evs[0].Annotation, "is off") {
		t.Fatalf("evaluations %+v", evs)
	}
	if n := f.env.Count("kinesisanalyticsv2", "DescribeApplication"); n != 0 {
		t.Errorf("DescribeApplication %d times for a rule that is off", n)
	}
}

func TestRuleParameters(t *testing.T) {
	f := newFixture(t, settings.Defaults())
	f.seed(t, role("orders-enrichment-flink"), app("orders-enrichment", false, nil, nil))
	base := f.sample(t, "change.json")
	for _, tc := range []struct{ params, wantErr string }{
		{`{}`, "ruleId"},
		{``, "ruleId"},
		{`{"ruleId":"KDA.NOPE.1"}`, "KDA.NOPE.1"},
		{`{"ruleId":"KDA.MON.2","allowedLogLevels":"LOUD"}`, "allowedLogLevels"},
		{`{"ruleId":"KDA.MON.2","allowedLogLevel":"INFO"}`, "allowedLogLevel"},
		{`{"ruleId":"KDA.MON.3","retentionDays":"-3"}`, "retentionDays"},
		{`{"ruleId":"KDA.MON.3","retentionDays":{"days":3}}`, "retentionDays"},
		{`not json`, "ruleParameters"},
	} {
		ev := base
		ev.RuleParameters = tc.params
		err := f.h.Handle(context.Background(), ev)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ruleParameters %s: error %v, want one naming %s", tc.params, err, tc.wantErr)
		}
	}
	if n := f.env.Count("configservice", "PutEvaluations"); n != 0 {
		t.Errorf("PutEvaluations called %d times for invalid events", n)
	}

	// Valid overrides are applied: the log level INFO is not allowed by this rule's parameters.
	ev := withRule(f.sample(t, "change-params.json"), map[string]string{"ruleId": "KDA.MON.2", "allowedLogLevels": "WARN,ERROR", "targetLogLevel": "WARN"})
	ev.ResultToken = f.env.IssueResultToken(ev.ConfigRuleName)
	f.handle(t, ev)
	evs := f.env.Evaluations()
	if len(evs) != 1 || evs[0].ComplianceType != "NON_COMPLIANT" {
		t.Fatalf("evaluations %+v", evs)
	}
	// Numbers in ruleParameters are taken as their text.
	ev.RuleParameters = `{"ruleId":"KDA.MON.3","retentionDays":30}`
	if err := f.h.Handle(context.Background(), ev); err != nil {
		t.Fatalf("numeric parameter: %v", err)
	}
}

func TestInvalidInvokingEvent(t *testing.T) {
	f := newFixture(t, settings.Defaults())
	base := f.sample(t, "change.json")
	for _, tc := range []struct{ inv, wantErr string }{
		{``, "invokingEvent"},
		{`{"messageType":"ConfigurationSnapshotDeliveryCompleted"}`, "ConfigurationSnapshotDeliveryCompleted"},
		{`{"messageType":"ConfigurationItemChangeNotification"}`, "configurationItem"},
		{`{"messageType":"OversizedConfigurationItemChangeNotification"}`, "configurationItemSummary"},
	} {
		ev := base
		ev.InvokingEvent = tc.inv
		if err := f.h.Handle(context.Background(), ev); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("invokingEvent %s: error %v, want one naming %s", tc.inv, err, tc.wantErr)
		}
	}
	ev := base
	ev.ResultToken = ""
	if err := f.h.Handle(context.Background(), ev); err == nil || !strings.Contains(err.Error(), "resultToken") {
		t.Errorf("no resultToken: %v", err)
	}
}

// TestThrottlingAnd5xxAreRetried injects throttling and 500s on every
// kinesisanalyticsv2 and configservice call: the SDK's retries absorb them
// and every application is reported with its real verdict.
func TestThrottlingAnd5xxAreRetried(t *testing.T) {
	f := newFixture(t, settings.Defaults())
	calls := []localaws.SeedCall{role("orders-enrichment-flink")}
	for i := range 40 {
		calls = append(calls, app(fmt.Sprintf("app-%02d", i), i%3 != 0, nil, nil))
	}
	f.seed(t, calls...)
	// At most three failures in a row, so the SDK's five attempts always get
	// through; rates high enough that about 80 calls always meet faults.
	f.env.SetFaults(
		localaws.Fault{Service: "kinesisanalyticsv2", ThrottleRate: 0.06, ServerErrorRate: 0.04, MaxConsecutive: 3},
		localaws.Fault{Service: "configservice", ThrottleRate: 0.06, ServerErrorRate: 0.04, MaxConsecutive: 3},
	)
	f.handle(t, f.scheduledEvent(t, "KDA.RES.1"))
	evs := byID(t, f.env.Evaluations())
	if len(evs) != 40 {
		t.Fatalf("%d evaluations, want 40", len(evs))
	}
	for i := range 40 {
		id := fmt.Sprintf("app-%02d", i)
		want := "COMPLIANT"
		if i%3 == 0 {
			want = "NON_COMPLIANT"
		}
		if evs[id].ComplianceType != want || strings.HasPrefix(evs[id].Annotation, "could not verify") {
			t.Errorf("%s: %s %q, want %s", id, evs[id].ComplianceType, evs[id].Annotation, want)
		}
	}
	if n := f.env.CountErrors("*", "*", ""); n == 0 {
		t.Errorf("no fault was injected: the test proves nothing")
	} else {
		t.Logf("%d faults injected and retried", n)
	}
}

func TestPutEvaluationsFailureReturnsError(t *testing.T) {
	t.Run("rejected", func(t *testing.T) {
		f := newFixture(t, settings.Defaults())
		f.env.SetFaults(localaws.Fault{Service: "configservice", Operation: "PutEvaluations", ErrorCode: "InvalidResultTokenException"})
		err := f.h.Handle(context.Background(), f.sample(t, "deleted.json"))
		if err == nil || !strings.Contains(err.Error(), "PutEvaluations") || !strings.Contains(err.Error(), "InvalidResultTokenException") {
			t.Fatalf("want a PutEvaluations error, got %v", err)
		}
	})
	t.Run("5xx after retries", func(t *testing.T) {
		f := newFixture(t, settings.Defaults())
		f.env.SetFaults(localaws.Fault{Service: "configservice", Operation: "PutEvaluations", ServerErrorRate: 1})
		err := f.h.Handle(context.Background(), f.sample(t, "deleted.json"))
		if err == nil || !strings.Contains(err.Error(), "PutEvaluations") {
			t.Fatalf("want a PutEvaluations error, got %v", err)
		}
		if n := f.env.Count("configservice", "PutEvaluations"); n != collect.DefaultMaxAttempts {
			t.Errorf("PutEvaluations attempted %d times, want %d (the SDK's retries)", n, collect.DefaultMaxAttempts)
		}
	})
	t.Run("listing fails", func(t *testing.T) {
		f := newFixture(t, settings.Defaults())
		f.env.SetFaults(localaws.Fault{Service: "kinesisanalyticsv2", Operation: "ListApplications", ErrorCode: "AccessDeniedException"})
		err := f.h.Handle(context.Background(), f.scheduledEvent(t, "KDA.RES.1"))
		if err == nil || !strings.Contains(err.Error(), "ListApplications") {
			t.Fatalf("want a ListApplications error, got %v", err)
		}
		if n := f.env.Count("configservice", "PutEvaluations"); n != 0 {
			t.Errorf("PutEvaluations called %d times when nothing could be evaluated", n)
		}
	})
}

// TestPlantedSecretNeverLeaks plants credentials in runtime properties:
// KDA.DP.5 flags them, and no value appears in an annotation or a log line.
func TestPlantedSecretNeverLeaks(t *testing.T) {
	f := newFixture(t, settings.Defaults())
	props := map[string]string{"db.password": plantedPw, "aws.access.key.id": plantedAK, "input.stream": "orders",
		"jdbc.url": "jdbc:postgresql://db.internal:5432/orders?user=app&password=" + plantedPw}
	f.seed(t, role("orders-enrichment-flink"), app("orders-enrichment", true, nil, props), app("leaky-two", true, nil, props))
	f.env.SetFaults() // none

	ev := withRule(f.sample(t, "change.json"), map[string]string{"ruleId": "KDA.DP.5"})
	ev.ResultToken = f.env.IssueResultToken(ev.ConfigRuleName)
	f.handle(t, ev)
	f.handle(t, f.scheduledEvent(t, "KDA.DP.5"))
	// Also through every other rule, which all read the same application.
	for _, id := range []string{"KDA.RES.1", "KDA.IAM.1", "KDA.MON.2"} {
		f.handle(t, f.scheduledEvent(t, id))
	}

	evs := f.env.Evaluations()
	flagged := 0
	for _, e := range evs {
		for _, s := range []string{plantedPw, plantedAK} {
			if strings.Contains(e.Annotation, s) {
				t.Errorf("annotation for %s contains a planted secret: %q", e.ComplianceResourceID, e.Annotation)
			}
		}
		if e.ConfigRuleName == "kdaguard-KDA.DP.5" && e.ComplianceType == "NON_COMPLIANT" {
			flagged++
		}
	}
	if flagged != 3 {
		t.Errorf("KDA.DP.5 flagged %d times, want 3 (one change, two scheduled)", flagged)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, `"rule":"KDA.DP.5"`) || !strings.Contains(logs, "orders-enrichment") {
		t.Fatalf("logs lack the evaluation lines:\n%s", logs)
	}
	for _, s := range []string{plantedPw, plantedAK} {
		if strings.Contains(logs, s) {
			t.Errorf("a log line contains a planted secret")
		}
	}
	// Every log line is JSON with the rule named.
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if m["msg"] == "evaluation" && (m["rule"] == nil || m["application"] == nil || m["status"] == nil) {
			t.Errorf("evaluation line without rule, application or status: %s", line)
		}
	}
}
