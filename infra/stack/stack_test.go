package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/kdaguard/kdaguard/shared/rules"
)

// The stack tests build the stack in-process with placeholder bootstrap files
// (an asset is only hashed and copied at synth); the real binaries are
// synthesized and checked by ../synth_test.go through the cdk CLI.
var fakeDist string

func TestMain(m *testing.M) {
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	dir, err := os.MkdirTemp("", "kdaguard-dist-")
	if err != nil {
		panic(err)
	}
	for _, fn := range Functions {
		os.MkdirAll(filepath.Join(dir, fn), 0o755)
		os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("placeholder "+fn), 0o755)
	}
	fakeDist = dir
	code := m.Run()
	jsii.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// must runs a jsii assertion: a failing one panics inside jsii instead of
// calling t.Fatal, so the panic is recovered and becomes a test failure.
func must(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

type built struct {
	stack *Stack
	tmpl  assertions.Template
	json  map[string]any
}

// cdkJSONContext is cdk.json's context (feature flags and defaults), which
// the CLI gives the app; the tests build the stack with it too.
func cdkJSONContext(t *testing.T) map[string]any {
	raw, err := os.ReadFile(filepath.Join("..", "..", "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Context map[string]any }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f.Context
}

// synth builds the stack for a context (over cdk.json's) the way the app
// does, with the cdk-nag checks applied.
func synth(t *testing.T, extra map[string]any) *built {
	t.Helper()
	ctx := cdkJSONContext(t)
	for k, v := range extra {
		ctx[k] = v
	}
	var b *built
	must(t, "synth", func() {
		// Not t.TempDir: the default stack outlives the test that built it.
		out, err := os.MkdirTemp(fakeDist, "cdk.out-")
		if err != nil {
			t.Fatal(err)
		}
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(out)})
		cfg, err := ConfigFromContext(func(k string) any { return app.Node().TryGetContext(jsii.String(k)) })
		if err != nil {
			t.Fatal(err)
		}
		st, err := New(app, "Kdaguard", &Props{Config: cfg, DistDir: fakeDist})
		if err != nil {
			t.Fatal(err)
		}
		AddChecks(app)
		tmpl := assertions.Template_FromStack(st.Stack, nil)
		raw, _ := json.Marshal(tmpl.ToJSON())
		var m map[string]any
		json.Unmarshal(raw, &m)
		b = &built{stack: st, tmpl: tmpl, json: m}
	})
	if b == nil {
		t.FailNow()
	}
	return b
}

var (
	defaultOnce  sync.Once
	defaultBuilt *built
)

// defaults is the stack with no context, built once for the tests that only read it.
func defaults(t *testing.T) *built {
	defaultOnce.Do(func() { defaultBuilt = synth(t, map[string]any{}) })
	if defaultBuilt == nil {
		t.Fatal("default stack did not build")
	}
	return defaultBuilt
}

func (b *built) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range b.json["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

func props(r map[string]any) map[string]any { p, _ := r["Properties"].(map[string]any); return p }

func TestFunctions(t *testing.T) {
	b := defaults(t)
	if got := GoMemLimit(128); got != "102MiB" {
		t.Errorf("GoMemLimit(128) = %s, want 102MiB", got)
	}
	must(t, "function count", func() { b.tmpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(2)) })
	for _, fn := range []struct {
		name        string
		memory      float64
		concurrency any
	}{{"evaluator", EvaluatorMemoryMB, 5.0}, {"remediator", RemediatorMemoryMB, 5.0}} {
		want := map[string]any{
			"Architectures": []any{"arm64"},
			"Runtime":       "provided.al2023",
			"Handler":       "bootstrap",
			"MemorySize":    fn.memory,
			"LoggingConfig": map[string]any{"LogFormat": "JSON", "LogGroup": assertions.Match_AnyValue()},
			"DeadLetterConfig": map[string]any{"TargetArn": map[string]any{
				"Fn::GetAtt": assertions.Match_ArrayWith(&[]any{assertions.Match_StringLikeRegexp(jsii.String("DeadLetters"))})}},
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
				"KDAGUARD_MODE": "report", "KDAGUARD_EXEMPT_TAG": "kdaguard:exempt", "GOMEMLIMIT": GoMemLimit(fn.memory)})},
		}
		want["ReservedConcurrentExecutions"] = fn.concurrency
		if fn.name == "remediator" {
			want["Environment"] = map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
				"KDAGUARD_MODE": "report", "KDAGUARD_RESTART_POLICY": "defer", "KDAGUARD_MAX_CHANGES": "10", "KDAGUARD_EVENT_BUS": "default",
				"GOMEMLIMIT":             GoMemLimit(fn.memory),
				"KDAGUARD_TOPIC_ARN":     map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Notifications"))},
				"KDAGUARD_SELF_ROLE_ARN": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^RemediatorRole")), "Arn"}},
			})}
		}
		must(t, fn.name, func() { b.tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), want) })
	}
	// Each function has its own log group, retained, encrypted, kept a year.
	must(t, "log groups", func() {
		b.tmpl.ResourcePropertiesCountIs(jsii.String("AWS::Logs::LogGroup"), map[string]any{
			"RetentionInDays": 365.0,
			"KmsKeyId":        map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^Key")), "Arn"}},
		}, jsii.Number(2))
	})
	must(t, "dead-letter queues", func() {
		b.tmpl.ResourcePropertiesCountIs(jsii.String("AWS::SQS::Queue"), map[string]any{
			"KmsMasterKeyId": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^Key")), "Arn"}},
		}, jsii.Number(3))
	})
	must(t, "async retries", func() {
		b.tmpl.ResourcePropertiesCountIs(jsii.String("AWS::Lambda::EventInvokeConfig"), map[string]any{"MaximumRetryAttempts": 2.0}, jsii.Number(2))
	})
	// Config may invoke the evaluator for this account only.
	must(t, "config permission", func() {
		b.tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
			"Principal": "config.amazonaws.com", "Action": "lambda:InvokeFunction",
			"SourceAccount": map[string]any{"Ref": "AWS::AccountId"},
		})
	})
	for id, p := range b.resources("AWS::Lambda::Permission") {
		pp := props(p)
		if pp["SourceAccount"] == nil && pp["SourceArn"] == nil {
			t.Errorf("permission %s has neither SourceAccount nor SourceArn", id)
		}
	}
}

func TestNotificationsAlarmsDashboard(t *testing.T) {
	b := defaults(t)
	must(t, "topic", func() {
		b.tmpl.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]any{
			"KmsMasterKeyId": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^Key")), "Arn"}}})
		b.tmpl.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(0))
		b.tmpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{"EnableKeyRotation": true})
	})
	alarms := b.resources("AWS::CloudWatch::Alarm")
	metrics := map[string]int{}
	for id, a := range alarms {
		p := props(a)
		if len(p["AlarmActions"].([]any)) == 0 {
			t.Errorf("alarm %s has no action", id)
		}
		metrics[fmt.Sprint(p["MetricName"])]++
		if p["MetricName"] == "AsyncEventAge" && (p["Threshold"] != float64(MaxEventWaitMinutes*60*1000) || p["Statistic"] != "Maximum") {
			t.Errorf("alarm %s: event age threshold %v (%v), want %d minutes in ms, Maximum", id, p["Threshold"], p["Statistic"], MaxEventWaitMinutes)
		}
	}
	want := map[string]int{"Errors": 2, "AsyncEventAge": 2, "ApproximateNumberOfMessagesVisible": 3, "DeadLetterErrors": 2, FailedMetricName: 1}
	if !reflect.DeepEqual(metrics, want) {
		t.Errorf("alarms by metric %v, want %v", metrics, want)
	}
	must(t, "failed remediations filter", func() {
		b.tmpl.HasResourceProperties(jsii.String("AWS::Logs::MetricFilter"), map[string]any{
			"FilterPattern": FailedFilterPattern,
			"LogGroupName":  map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^RemediatorLogs"))},
			"MetricTransformations": []any{map[string]any{
				"MetricNamespace": MetricNamespace, "MetricName": FailedMetricName, "MetricValue": "1", "DefaultValue": 0.0}},
		})
		b.tmpl.ResourceCountIs(jsii.String("AWS::CloudWatch::Dashboard"), jsii.Number(1))
	})

	withEmail := synth(t, map[string]any{CtxNotificationEmail: "security@example.com"})
	must(t, "email subscription", func() {
		withEmail.tmpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
			"Protocol": "email", "Endpoint": "security@example.com"})
	})
}

func TestConfigRules(t *testing.T) {
	b := defaults(t)
	crs := b.resources("AWS::Config::ConfigRule")
	if len(crs) != len(rules.All()) {
		t.Fatalf("%d Config rules for %d catalog rules", len(crs), len(rules.All()))
	}
	byName := map[string]map[string]any{}
	for _, r := range crs {
		p := props(r)
		byName[p["ConfigRuleName"].(string)] = p
	}
	appSources := []any{
		map[string]any{"EventSource": "aws.config", "MessageType": "ConfigurationItemChangeNotification"},
		map[string]any{"EventSource": "aws.config", "MessageType": "OversizedConfigurationItemChangeNotification"},
		map[string]any{"EventSource": "aws.config", "MessageType": "ScheduledNotification", "MaximumExecutionFrequency": "TwentyFour_Hours"},
	}
	for _, r := range rules.All() {
		p, ok := byName["kdaguard-"+r.ID]
		if !ok {
			t.Errorf("no Config rule kdaguard-%s", r.ID)
			continue
		}
		src := p["Source"].(map[string]any)
		if src["Owner"] != "CUSTOM_LAMBDA" || !strings.Contains(fmt.Sprint(src["SourceIdentifier"]), "Configrule") {
			t.Errorf("%s: source %v", r.ID, src)
		}
		if !reflect.DeepEqual(p["InputParameters"], map[string]any{"ruleId": r.ID}) {
			t.Errorf("%s: input parameters %v", r.ID, p["InputParameters"])
		}
		if r.Scope == rules.ScopeAccount {
			if p["Scope"] != nil || !reflect.DeepEqual(src["SourceDetails"], appSources[2:]) {
				t.Errorf("%s (account-level) must be periodic only and unscoped: scope %v, sources %v", r.ID, p["Scope"], src["SourceDetails"])
			}
			continue
		}
		if !reflect.DeepEqual(p["Scope"], map[string]any{"ComplianceResourceTypes": []any{ApplicationType}}) {
			t.Errorf("%s: scope %v", r.ID, p["Scope"])
		}
		if !reflect.DeepEqual(src["SourceDetails"], appSources) {
			t.Errorf("%s: sources %v", r.ID, src["SourceDetails"])
		}
	}
	if byName["kdaguard-KDA.MON.5"] == nil || byName["kdaguard-KDA.CMP.1"] == nil {
		t.Error("account-level rules missing")
	}

	// Disabled rules: no Config rule, mode off; overrides and frequency arrive.
	c := synth(t, map[string]any{CtxDisabledRules: "KDA.RES.4,KDA.DP.5", CtxScheduleFrequency: "One_Hour",
		CtxRuleParameters: map[string]any{"KDA.MON.3": map[string]any{"retentionDays": "731"}}})
	crs = c.resources("AWS::Config::ConfigRule")
	if len(crs) != len(rules.All())-2 {
		t.Errorf("%d Config rules with two disabled", len(crs))
	}
	for _, r := range crs {
		p := props(r)
		name := p["ConfigRuleName"].(string)
		if name == "kdaguard-KDA.RES.4" || name == "kdaguard-KDA.DP.5" {
			t.Errorf("disabled rule %s created", name)
		}
		details := p["Source"].(map[string]any)["SourceDetails"].([]any)
		if f := details[len(details)-1].(map[string]any)["MaximumExecutionFrequency"]; f != "One_Hour" {
			t.Errorf("%s frequency %v", name, f)
		}
		if name == "kdaguard-KDA.MON.3" && !reflect.DeepEqual(p["InputParameters"], map[string]any{"ruleId": "KDA.MON.3", "retentionDays": "731"}) {
			t.Errorf("overrides: %v", p["InputParameters"])
		}
	}
	must(t, "disabled rules are off", func() {
		c.tmpl.ResourcePropertiesCountIs(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
				"KDAGUARD_RULE_MODES": "KDA.DP.5=off,KDA.RES.4=off"})}}, jsii.Number(2))
	})
}

// The event patterns, compared as exact JSON.
func TestEventPatterns(t *testing.T) {
	b := defaults(t)
	var change, compliance map[string]any
	for id, r := range b.resources("AWS::Events::Rule") {
		p := props(r)
		switch {
		case strings.HasPrefix(id, "ApplicationChanges"):
			change = p
		case strings.HasPrefix(id, "ComplianceChanges"):
			compliance = p
		}
		targets := p["Targets"].([]any)
		tg := targets[0].(map[string]any)
		if len(targets) != 1 || !strings.Contains(fmt.Sprint(tg["Arn"]), "Remediator") || tg["DeadLetterConfig"] == nil {
			t.Errorf("rule %s targets %v", id, targets)
		}
	}
	names := make([]string, len(MutatingEvents))
	for i, e := range MutatingEvents {
		names[i] = fmt.Sprintf("%q", e)
	}
	wantChange := `{
	  "source": ["aws.kinesisanalytics"],
	  "detail-type": ["AWS API Call via CloudTrail"],
	  "detail": {
	    "eventSource": ["kinesisanalytics.amazonaws.com"],
	    "eventName": [` + strings.Join(names, ",") + `],
	    "errorCode": [{"exists": false}],
	    "userIdentity": {"arn": [{"anything-but": {"prefix": {"Fn::Join": ["", [
	      "arn:", {"Ref": "AWS::Partition"}, ":sts::", {"Ref": "AWS::AccountId"}, ":assumed-role/",
	      {"Ref": "` + roleID(t, b, "RemediatorRole") + `"}, "/"]]}}}]}
	  }
	}`
	wantCompliance := `{
	  "source": ["aws.config"],
	  "detail-type": ["Config Rules Compliance Change"],
	  "detail": {
	    "configRuleName": [{"prefix": "kdaguard-"}],
	    "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]}
	  }
	}`
	for _, c := range []struct {
		name string
		got  map[string]any
		want string
	}{{"CloudTrail changes", change, wantChange}, {"compliance changes", compliance, wantCompliance}} {
		if c.got == nil {
			t.Errorf("%s: no rule", c.name)
			continue
		}
		var want any
		if err := json.Unmarshal([]byte(c.want), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c.got["EventPattern"], want) {
			g, _ := json.MarshalIndent(c.got["EventPattern"], "", " ")
			t.Errorf("%s pattern:\n%s", c.name, g)
		}
	}
	if len(MutatingEvents) != 22 {
		t.Errorf("%d mutating event names, the facts list 22", len(MutatingEvents))
	}
}

func roleID(t *testing.T, b *built, prefix string) string {
	for id := range b.resources("AWS::IAM::Role") {
		if strings.HasPrefix(id, prefix) {
			return id
		}
	}
	t.Fatalf("no role %s", prefix)
	return ""
}

// statements returns every policy statement in the template: identity
// policies, trust policies, key, queue and topic policies.
func statements(b *built) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	add := func(where string, doc any) {
		d, ok := doc.(map[string]any)
		if !ok {
			return
		}
		switch st := d["Statement"].(type) {
		case []any:
			for _, s := range st {
				out[where] = append(out[where], s.(map[string]any))
			}
		case map[string]any:
			out[where] = append(out[where], st)
		}
	}
	for id, r := range b.json["Resources"].(map[string]any) {
		p := props(r.(map[string]any))
		for _, k := range []string{"PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument"} {
			add(id, p[k])
		}
		if ps, ok := p["Policies"].([]any); ok {
			for _, pol := range ps {
				add(id, pol.(map[string]any)["PolicyDocument"])
			}
		}
	}
	return out
}

func actionsOf(s map[string]any) []string {
	switch a := s["Action"].(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, len(a))
		for i, v := range a {
			out[i] = fmt.Sprint(v)
		}
		return out
	}
	return nil
}

// No Allow statement anywhere grants "*", "service:*" or any wildcard
// action, none uses NotAction, and iam:PassRole appears nowhere.
func TestNoWildcardActionsNoPassRole(t *testing.T) {
	for _, ctx := range []map[string]any{{}, {CtxMode: "remediate", CtxRuleModes: optInAll()}} {
		b := defaults(t)
		if len(ctx) > 0 {
			b = synth(t, ctx)
		}
		n := 0
		for where, sts := range statements(b) {
			for _, s := range sts {
				n++
				if s["NotAction"] != nil && s["Effect"] == "Allow" {
					t.Errorf("%s: Allow with NotAction", where)
				}
				for _, a := range actionsOf(s) {
					if strings.EqualFold(a, "iam:PassRole") {
						t.Errorf("%s: iam:PassRole", where)
					}
					if s["Effect"] == "Allow" && strings.Contains(a, "*") {
						t.Errorf("%s: Allow of wildcard action %q", where, a)
					}
				}
			}
		}
		if n < 20 {
			t.Errorf("only %d statements found: the walk is broken", n)
		}
	}
}

func optInAll() string {
	var parts []string
	for _, r := range rules.All() {
		if r.Remediation.Kind == rules.RemediationOptIn {
			parts = append(parts, r.ID+"=remediate")
		}
	}
	return strings.Join(parts, ",")
}

// The evaluator writes nothing but its evaluations, logs and dead letters;
// the remediator writes only what its configuration lets it fix, scoped to
// this account and Region.
func TestRolePermissions(t *testing.T) {
	reads := map[string]bool{}
	for _, g := range readStatements {
		for _, a := range g.Actions {
			reads[a] = true
		}
	}
	own := []string{"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage", "kms:GenerateDataKey", "kms:Decrypt"}
	policyActions := func(b *built, role string) map[string][]any {
		out := map[string][]any{}
		for id, sts := range statements(b) {
			if !strings.HasPrefix(id, role+"DefaultPolicy") {
				continue
			}
			for _, s := range sts {
				for _, a := range actionsOf(s) {
					out[a] = append(out[a], s["Resource"])
				}
			}
		}
		return out
	}
	b := defaults(t)
	for a := range policyActions(b, "EvaluatorRole") {
		if !reads[a] && !slices.Contains(own, a) && a != "config:PutEvaluations" && a != "config:GetComplianceDetailsByConfigRule" {
			t.Errorf("evaluator may %s", a)
		}
	}
	rem := policyActions(b, "RemediatorRole")
	for a := range rem {
		if !reads[a] && !slices.Contains(own, a) && a != "sns:Publish" && a != "events:PutEvents" {
			t.Errorf("remediator in report mode may %s", a)
		}
	}
	full := synth(t, map[string]any{CtxMode: "remediate", CtxRuleModes: optInAll()})
	rem = policyActions(full, "RemediatorRole")
	wantScoped := map[string]string{
		"kinesisanalytics:UpdateApplication":                     "arn:${AWS::Partition}:kinesisanalytics:${AWS::Region}:${AWS::AccountId}:application/*",
		"kinesisanalytics:AddApplicationCloudWatchLoggingOption": "arn:${AWS::Partition}:kinesisanalytics:${AWS::Region}:${AWS::AccountId}:application/*",
		"kinesisanalytics:CreateApplicationSnapshot":             "arn:${AWS::Partition}:kinesisanalytics:${AWS::Region}:${AWS::AccountId}:application/*",
		"kms:EnableKeyRotation":                                  "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*",
		"logs:PutRetentionPolicy":                                "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*",
		"s3:PutBucketPublicAccessBlock":                          "arn:${AWS::Partition}:s3:::*",
		"iam:UpdateAssumeRolePolicy":                             "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*",
		"ec2:RevokeSecurityGroupIngress":                         "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:security-group/*",
		"kinesis:StartStreamEncryption":                          "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/*",
	}
	for a, res := range wantScoped {
		got, ok := rem[a]
		if !ok || !reflect.DeepEqual(got, []any{map[string]any{"Fn::Sub": res}}) {
			t.Errorf("remediator %s on %v, want %s only", a, got, res)
		}
	}
	must(t, "events:PutEvents on the bus", func() {
		full.tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
				"Action": "events:PutEvents", "Effect": "Allow", "Sid": "AuditEvents",
				"Resource": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"}}})}})
		full.tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
				"Action": "sns:Publish", "Effect": "Allow", "Sid": "Notify",
				"Resource": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Notifications"))}}})}})
	})
}

// cdk-nag AwsSolutions: no unsuppressed error, and every suppression in the
// template carries a written reason.
func TestCdkNag(t *testing.T) {
	for _, ctx := range []map[string]any{{}, {CtxMode: "remediate", CtxRuleModes: optInAll(), CtxNotificationEmail: "a@example.com"}} {
		b := defaults(t)
		if len(ctx) > 0 {
			b = synth(t, ctx)
		}
		must(t, "nag", func() {
			an := assertions.Annotations_FromStack(b.stack.Stack)
			errs := an.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
			for _, e := range *errs {
				t.Errorf("cdk-nag: %s %v", *e.Id, e.Entry.Data)
			}
			warns := an.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
			for _, w := range *warns {
				t.Logf("cdk-nag warning: %s %v", *w.Id, w.Entry.Data)
			}
		})
		n := 0
		for id, r := range b.json["Resources"].(map[string]any) {
			md, _ := r.(map[string]any)["Metadata"].(map[string]any)
			nag, _ := md["cdk_nag"].(map[string]any)
			sups, _ := nag["rules_to_suppress"].([]any)
			for _, s := range sups {
				n++
				if reason, _ := s.(map[string]any)["reason"].(string); len(reason) < 40 {
					t.Errorf("%s: suppression %v without a written reason", id, s)
				}
			}
		}
		if n == 0 {
			t.Error("no suppression metadata found: the walk is broken")
		}
	}
}

// A bad context value fails through the app's own path with the name.
func TestBadContextThroughApp(t *testing.T) {
	must(t, "app context", func() {
		ctx := map[string]any{CtxRemediatorConcurrency: "lots"}
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
		_, err := ConfigFromContext(func(k string) any { return app.Node().TryGetContext(jsii.String(k)) })
		if err == nil || !strings.Contains(err.Error(), `"remediatorConcurrency"`) {
			t.Errorf("got %v", err)
		}
	})
	if _, err := New(awscdk.NewApp(nil), "X", &Props{Config: DefaultConfig(), DistDir: t.TempDir()}); err == nil ||
		!strings.Contains(err.Error(), "make build") {
		t.Errorf("missing binaries: %v", err)
	}
}
