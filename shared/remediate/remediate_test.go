package remediate_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kdaguard/kdaguard/shared/remediate"
	"github.com/kdaguard/kdaguard/shared/settings"
)

var mergedRules = []string{"KDA.RES.1", "KDA.RES.2", "KDA.RES.3", "KDA.RES.6", "KDA.MON.2"}

func TestMergedUpdateThenLoggingThenKeyRotation(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{})
	e := f.executor(f.settings())
	out, err := e.Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("converge: %v\n%s", err, f.logs.String())
	}
	got := outcomes(out)
	for _, r := range append(slices.Clone(mergedRules), "KDA.MON.1", "KDA.DP.2") {
		if got[r] != remediate.Verified {
			t.Errorf("%s: outcome %q, want verified", r, got[r])
		}
	}
	if n := f.count("UpdateApplication"); n != 1 {
		t.Errorf("UpdateApplication calls = %d, want exactly 1", n)
	}
	// MON.1 is a second call after the merged update, with the new token.
	var order []string
	for _, j := range f.env.Journal() {
		if j.Operation == "UpdateApplication" || j.Operation == "AddApplicationCloudWatchLoggingOption" || j.Operation == "CreateLogGroup" || j.Operation == "CreateLogStream" {
			order = append(order, j.Operation)
		}
		if j.ErrorCode != "" && !strings.HasPrefix(j.Operation, "Get") && !strings.HasPrefix(j.Operation, "Describe") {
			t.Errorf("failed call %s:%s %s", j.Service, j.Operation, j.ErrorCode)
		}
	}
	if want := []string{"UpdateApplication", "CreateLogGroup", "CreateLogStream", "AddApplicationCloudWatchLoggingOption"}; !slices.Equal(order, want) {
		t.Errorf("call order %v, want %v", order, want)
	}
	if n := f.count("EnableKeyRotation"); n != 1 {
		t.Errorf("EnableKeyRotation = %d, want 1", n)
	}
	// Opt-in fixes are not applied by the global mode.
	for _, op := range []string{"UpdateAssumeRolePolicy", "PutPublicAccessBlock", "PutRetentionPolicy", "CreateApplicationSnapshot", "RevokeSecurityGroupIngress", "StartStreamEncryption"} {
		if n := f.count(op); n != 0 {
			t.Errorf("opt-in %s called %d times under the global mode", op, n)
		}
	}
	d := f.describe("orders")
	fc := d.ApplicationConfigurationDescription.FlinkApplicationConfigurationDescription
	if fc.CheckpointConfigurationDescription.ConfigurationType != kt.ConfigurationTypeDefault {
		t.Errorf("checkpointing %v", fc.CheckpointConfigurationDescription.ConfigurationType)
	}
	m := fc.MonitoringConfigurationDescription
	if m.ConfigurationType != kt.ConfigurationTypeCustom || m.LogLevel != kt.LogLevelInfo || m.MetricsLevel != kt.MetricsLevelTask {
		t.Errorf("monitoring %+v: want CUSTOM, INFO, metrics level kept TASK", *m)
	}
	p := fc.ParallelismConfigurationDescription
	if p.ConfigurationType != kt.ConfigurationTypeCustom || !aws.ToBool(p.AutoScalingEnabled) || aws.ToInt32(p.Parallelism) != 4 || aws.ToInt32(p.ParallelismPerKPU) != 2 {
		t.Errorf("parallelism %+v: want CUSTOM, auto scaling, parallelism 4/2 kept", *p)
	}
	if len(d.CloudWatchLoggingOptionDescriptions) != 1 {
		t.Errorf("logging options %d", len(d.CloudWatchLoggingOptionDescriptions))
	}
	// The properties are untouched.
	pg := d.ApplicationConfigurationDescription.EnvironmentPropertyDescriptions.PropertyGroupDescriptions
	if len(pg) != 1 || pg[0].PropertyMap["aws.secret.access.key"] != planted {
		t.Errorf("runtime properties changed: %d groups", len(pg))
	}
	// Audit: events for every action, one notification with the console link.
	if len(f.env.Events()) == 0 {
		t.Error("no audit events")
	}
	for _, ev := range f.env.Events() {
		if ev.Source != "kdaguard" || ev.DetailType != "kdaguard Remediation" || ev.EventBusName != "default" {
			t.Errorf("event %+v", ev)
		}
	}
	pub := f.env.Published()
	if len(pub) != 1 || !strings.Contains(pub[0].Message, "https://us-east-1.console.aws.amazon.com/flink/home?region=us-east-1#/applications/orders") ||
		!strings.Contains(pub[0].Message, "123456789012") {
		t.Errorf("notifications %+v", pub)
	}
	f.noSecret()

	// Converging again changes nothing: level-triggered and idempotent.
	f.env.ResetJournal()
	out, err = e.Converge(f.ctx, "orders")
	if err != nil || len(f.mutating()) != 0 || out.Changed {
		t.Errorf("second converge: err %v, writes %v, changed %v", err, f.mutating(), out.Changed)
	}
}

func TestReportModeLogsTheExactCallAndWritesNothing(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{})
	token := aws.ToString(f.describe("orders").ConditionalToken)
	f.env.ResetJournal()
	s := settings.Defaults() // report
	s.TopicARN = f.topic
	out, err := f.executor(s).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if w := f.mutating(); len(w) != 0 {
		t.Fatalf("report mode wrote: %v", w)
	}
	if out.Changed {
		t.Error("Changed in report mode")
	}
	found := 0
	for _, l := range f.logs.lines(t) {
		if l["outcome"] != remediate.Planned || !slices.Contains(mergedRules, l["rule"].(string)) {
			continue
		}
		found++
		in, _ := l["input"].(map[string]any)
		if in["ConditionalToken"] != token || in["ApplicationName"] != "orders" {
			t.Errorf("%s: planned input %v", l["rule"], in)
		}
		acu := in["ApplicationConfigurationUpdate"].(map[string]any)
		fl := acu["FlinkApplicationConfigurationUpdate"].(map[string]any)
		if fl["CheckpointConfigurationUpdate"].(map[string]any)["ConfigurationTypeUpdate"] != "DEFAULT" ||
			fl["MonitoringConfigurationUpdate"].(map[string]any)["ConfigurationTypeUpdate"] != "CUSTOM" ||
			fl["MonitoringConfigurationUpdate"].(map[string]any)["LogLevelUpdate"] != "INFO" ||
			fl["ParallelismConfigurationUpdate"].(map[string]any)["AutoScalingEnabledUpdate"] != true ||
			acu["ApplicationSnapshotConfigurationUpdate"].(map[string]any)["SnapshotsEnabledUpdate"] != true ||
			acu["ApplicationSystemRollbackConfigurationUpdate"].(map[string]any)["RollbackEnabledUpdate"] != true {
			t.Errorf("%s: planned merged input %v", l["rule"], in)
		}
		if l["call"] != "kinesisanalyticsv2:UpdateApplication" || l["before"] == nil {
			t.Errorf("log line %v", l)
		}
	}
	if found != len(mergedRules) {
		t.Errorf("%d planned UpdateApplication lines, want %d\n%s", found, len(mergedRules), f.logs.String())
	}
	if !strings.Contains(f.logs.String(), `"call":"kms:EnableKeyRotation"`) || !strings.Contains(f.logs.String(), `"CreateLogGroup":{"LogGroupName":"/aws/kinesis-analytics/orders"}`) {
		t.Errorf("the other planned calls are not logged with their input:\n%s", f.logs.String())
	}
	if len(f.env.Published()) != 0 {
		t.Errorf("report mode notified: %+v", f.env.Published())
	}
	f.noSecret()
}

func TestOptInOnlyByTheRuleOwnMode(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{})
	s := settings.Defaults()
	s.RuleModes = map[string]settings.Mode{"KDA.IAM.2": settings.ModeRemediate, "KDA.DP.4": settings.ModeRemediate}
	out, err := f.executor(s).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	got := outcomes(out)
	if got["KDA.IAM.2"] != remediate.Verified || got["KDA.DP.4"] != remediate.Verified {
		t.Errorf("outcomes %v", got)
	}
	if w := f.mutating(); !slices.Equal(w, []string{"iam:UpdateAssumeRolePolicy", "s3:PutPublicAccessBlock"}) && !slices.Equal(w, []string{"s3:PutPublicAccessBlock", "iam:UpdateAssumeRolePolicy"}) {
		t.Errorf("writes %v", w)
	}
	r, err := f.c.IAM.GetRole(f.ctx, &iam.GetRoleInput{RoleName: aws.String("flink-orders")})
	if err != nil {
		t.Fatal(err)
	}
	doc := aws.ToString(r.Role.AssumeRolePolicyDocument)
	if d, err := urlDecode(doc); err == nil {
		doc = d
	}
	if !strings.Contains(doc, otherStatement) {
		t.Errorf("the other statement is not byte-for-byte intact:\n%s", doc)
	}
	var pd struct{ Statement []map[string]any }
	if err := json.Unmarshal([]byte(doc), &pd); err != nil {
		t.Fatal(err)
	}
	cond, _ := pd.Statement[0]["Condition"].(map[string]any)
	if cond["StringEquals"].(map[string]any)["aws:SourceAccount"] != "123456789012" || cond["ArnLike"].(map[string]any)["aws:SourceArn"] == nil {
		t.Errorf("kinesisanalytics statement conditions %v", cond)
	}
	if _, ok := pd.Statement[1]["Condition"]; ok {
		t.Error("the other statement got a condition")
	}
}

func TestLoggingReportedWhenRoleCannotWriteLogs(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{noLogsPolicy: true})
	out, err := f.executor(f.settings()).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	if got := outcomes(out); got["KDA.MON.1"] != remediate.Skipped {
		t.Errorf("MON.1 %q, want skipped", got["KDA.MON.1"])
	}
	for _, op := range []string{"CreateLogGroup", "CreateLogStream", "AddApplicationCloudWatchLoggingOption"} {
		if n := f.count(op); n != 0 {
			t.Errorf("%s called: half-fixed", op)
		}
	}
	if !strings.Contains(f.logs.String(), "lacks logs:PutLogEvents") {
		t.Error("no reason logged")
	}
	if p := f.env.Published(); len(p) != 1 || !strings.Contains(p[0].Message, "KDA.MON.1 SKIPPED") {
		t.Errorf("notification %+v", p)
	}
}

func TestRestartPolicyDefer(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{running: true})
	out, err := f.executor(f.settings(func(s *settings.Settings) { s.RestartPolicy = settings.RestartDefer })).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	got := outcomes(out)
	for _, r := range append(slices.Clone(mergedRules), "KDA.MON.1") {
		if got[r] != remediate.Deferred {
			t.Errorf("%s: %q, want deferred", r, got[r])
		}
	}
	if got["KDA.DP.2"] != remediate.Verified {
		t.Errorf("DP.2 (no restart) %q, want verified", got["KDA.DP.2"])
	}
	if n := f.count("UpdateApplication") + f.count("AddApplicationCloudWatchLoggingOption"); n != 0 {
		t.Errorf("%d restarting calls under defer", n)
	}
	if p := f.env.Published(); len(p) != 1 || !strings.Contains(p[0].Message, "DEFERRED") {
		t.Errorf("notification %+v", p)
	}
	if d := f.describe("orders"); d.ApplicationStatus != kt.ApplicationStatusRunning {
		t.Errorf("status %s", d.ApplicationStatus)
	}
}

func TestRestartPolicyAllowUpdatesRunningApplication(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{running: true})
	out, err := f.executor(f.settings()).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	if got := outcomes(out); got["KDA.RES.1"] != remediate.Verified || got["KDA.MON.1"] != remediate.Verified {
		t.Errorf("outcomes %v", got)
	}
	if n := f.count("UpdateApplication"); n != 1 {
		t.Errorf("UpdateApplication %d", n)
	}
}

func TestExemptionsAndExpiry(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{tags: map[string]string{"kdaguard:exempt": "KDA.RES.1, KDA.DP.2", "kdaguard:exempt-until": "2026-06-30"}})
	e := f.executor(f.settings())
	e.Now = func() time.Time { return time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC) }
	out, err := e.Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	got := outcomes(out)
	if got["KDA.RES.1"] != remediate.Skipped || got["KDA.DP.2"] != remediate.Skipped || got["KDA.RES.2"] != remediate.Verified {
		t.Errorf("outcomes %v", got)
	}
	if f.count("EnableKeyRotation") != 0 {
		t.Error("exempt DP.2 remediated")
	}
	fc := f.describe("orders").ApplicationConfigurationDescription.FlinkApplicationConfigurationDescription
	if fc.CheckpointConfigurationDescription.ConfigurationType != kt.ConfigurationTypeCustom {
		t.Error("exempt RES.1 remediated")
	}
	if !strings.Contains(f.logs.String(), "exempt by tag kdaguard:exempt") {
		t.Error("exemption reason not logged")
	}
	// The day after the -until date the exemption lapses.
	f.env.ResetJournal()
	e2 := f.executor(f.settings())
	e2.Now = func() time.Time { return time.Date(2026, 7, 1, 0, 0, 1, 0, time.UTC) }
	out, err = e2.Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	if got := outcomes(out); got["KDA.RES.1"] != remediate.Verified || got["KDA.DP.2"] != remediate.Verified {
		t.Errorf("after expiry: %v", got)
	}
}

func TestExemptAll(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{tags: map[string]string{"kdaguard:exempt": "all"}})
	if _, err := f.executor(f.settings()).Converge(f.ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	if w := f.mutating(); len(w) != 0 {
		t.Errorf("exempt application written: %v", w)
	}
}

func TestBlastRadius(t *testing.T) {
	f := start(t)
	names := []string{"app-a", "app-b", "app-c", "app-d", "app-e"}
	for _, n := range names {
		f.app(n, appOpts{})
	}
	e := f.executor(f.settings(func(s *settings.Settings) { s.MaxChanges = 2 }))
	outs, err := e.Sweep(f.ctx, names)
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	changed, reported := 0, 0
	for _, o := range outs {
		if o.Changed {
			changed++
			continue
		}
		if outcomes(o)["KDA.RES.1"] == remediate.Planned {
			reported++
		}
	}
	if changed != 2 || reported != 3 {
		t.Errorf("changed %d, reported %d; want 2 and 3", changed, reported)
	}
	if n := f.count("UpdateApplication"); n != 2 {
		t.Errorf("UpdateApplication %d, want 2", n)
	}
	if !strings.Contains(f.logs.String(), "blast radius") {
		t.Error("blast radius not explained in the log")
	}
}

func TestKeyRotationAccessDeniedIsAFailure(t *testing.T) {
	f := start(t)
	f.app("orders", appOpts{})
	k := keyOf(t, f, "orders")
	f.env.SetFaults(faultCode("kms", "EnableKeyRotation", "AccessDeniedException"))
	out, err := f.executor(f.settings()).Converge(f.ctx, "orders")
	if err == nil {
		t.Fatal("no error for a failed fix")
	}
	got := outcomes(out)
	if got["KDA.DP.2"] != remediate.Failed || got["KDA.RES.1"] != remediate.Verified {
		t.Errorf("outcomes %v", got)
	}
	if p := f.env.Published(); len(p) != 1 || !strings.Contains(p[0].Message, "KDA.DP.2 FAILED") || !strings.Contains(p[0].Message, "AccessDenied") {
		t.Errorf("notification %+v", p)
	}
	rot, _ := f.c.KMS.GetKeyRotationStatus(f.ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(k)})
	if rot.KeyRotationEnabled {
		t.Error("rotation on despite the fault")
	}
}

func keyOf(t *testing.T, f *fixture, name string) string {
	d := f.describe(name)
	return aws.ToString(d.ApplicationConfigurationDescription.ApplicationEncryptionConfigurationDescription.KeyId)
}

var _ = errors.Is
