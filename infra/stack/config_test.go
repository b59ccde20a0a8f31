package stack

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kdaguard/kdaguard/shared/collect"
	"github.com/kdaguard/kdaguard/shared/rules"
	"github.com/kdaguard/kdaguard/shared/settings"
)

func lookup(m map[string]any) func(string) any {
	return func(k string) any { return m[k] }
}

func TestConfigDefaults(t *testing.T) {
	c, err := ConfigFromContext(lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != settings.ModeReport || c.ExemptTag != "kdaguard:exempt" || c.RestartPolicy != settings.RestartDefer ||
		c.MaxChanges != 10 || c.RemediatorConcurrency != 5 || c.EvaluatorConcurrency != 5 || c.ScheduleFrequency != "TwentyFour_Hours" ||
		c.EventBus != "default" || c.LogRetentionDays != 365 || c.NotificationEmail != "" {
		t.Errorf("defaults: %+v", c)
	}
	if got := len(c.EnabledRules()); got != len(rules.All()) {
		t.Errorf("enabled rules %d, catalog %d", got, len(rules.All()))
	}
}

func TestConfigValues(t *testing.T) {
	c, err := ConfigFromContext(lookup(map[string]any{
		CtxMode: "remediate", CtxRuleModes: "KDA.IAM.2=remediate, KDA.RES.6=off",
		CtxDisabledRules: []any{"KDA.RES.4", "kda.dp.5"}, CtxExemptTag: "team:exempt",
		CtxNotificationEmail: "sec@example.com", CtxScheduleFrequency: "Six_Hours",
		CtxRestartPolicy: "allow", CtxMaxChanges: float64(3), CtxRemediatorConcurrency: "2", CtxEvaluatorConcurrency: float64(3),
		CtxRuleParameters: `{"KDA.MON.3": {"retentionDays": 731}}`, CtxEventBus: "audit", CtxLogRetentionDays: "731",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxChanges != 3 || c.RemediatorConcurrency != 2 || c.EvaluatorConcurrency != 3 || c.LogRetentionDays != 731 || c.EventBus != "audit" {
		t.Errorf("numbers: %+v", c)
	}
	if !slices.Equal(c.DisabledRules, []string{"KDA.DP.5", "KDA.RES.4"}) {
		t.Errorf("disabled %v (catalog order, canonical ids)", c.DisabledRules)
	}
	want := "KDA.DP.5=off,KDA.IAM.2=remediate,KDA.RES.4=off,KDA.RES.6=off"
	if got := c.RuleModesEnv(); got != want {
		t.Errorf("KDAGUARD_RULE_MODES %q, want %q", got, want)
	}
	if got := c.InputParameters("KDA.MON.3"); got["ruleId"] != "KDA.MON.3" || got["retentionDays"] != "731" {
		t.Errorf("input parameters %v", got)
	}
	// The functions' parser accepts what the stack sets.
	s, err := settings.Parse(func(k string) (string, bool) { v, ok := c.sharedEnv()[k]; return v, ok })
	if err != nil || s.ModeFor("KDA.RES.4") != settings.ModeOff || s.ModeFor("KDA.IAM.2") != settings.ModeRemediate {
		t.Errorf("settings.Parse: %v %+v", err, s)
	}
	// ...including the Config rules' parameters, so the remediator judges as Config does.
	if got := s.RuleParameters["KDA.MON.3"]["retentionDays"]; got != "731" {
		t.Errorf("KDAGUARD_RULE_PARAMETERS carries retentionDays %q, want 731", got)
	}
}

// Every bad value fails with an error that names the parameter.
func TestConfigBadValuesNameTheParameter(t *testing.T) {
	cases := []struct {
		param string
		value any
	}{
		{CtxMode, "enforce"},
		{CtxRuleModes, "KDA.NOPE.1=report"},
		{CtxRuleModes, "KDA.IAM.2=fix"},
		{CtxRuleModes, "KDA.IAM.2"},
		{CtxDisabledRules, "KDA.RES.1,KDA.X.9"},
		{CtxExemptTag, "aws:exempt"},
		{CtxExemptTag, strings.Repeat("k", 123)},
		{CtxExemptTag, "bad{key}"},
		{CtxNotificationEmail, "not-an-address"},
		{CtxNotificationEmail, "Sec <sec@example.com>"},
		{CtxScheduleFrequency, "Hourly"},
		{CtxRestartPolicy, "always"},
		{CtxMaxChanges, "ten"},
		{CtxMaxChanges, "-1"},
		{CtxRemediatorConcurrency, "0"},
		{CtxRemediatorConcurrency, "500"},
		{CtxEvaluatorConcurrency, "0"},
		{CtxEvaluatorConcurrency, "none"},
		{CtxRuleParameters, `{"KDA.MON.3": {"retentionDays": "forever"}}`},
		{CtxRuleParameters, `{"KDA.MON.3": {"nope": "1"}}`},
		{CtxRuleParameters, `{"KDA.ZZZ.3": {}}`},
		{CtxRuleParameters, `not json`},
		{CtxRuleParameters, `{"KDA.MON.3": {"ruleId": "KDA.RES.1"}}`},
		{CtxEventBus, "arn:aws:events:eu-west-1:1:event-bus/x"},
		{CtxLogRetentionDays, "30"},
		{CtxLogRetentionDays, "lots"},
		{CtxMode, map[string]any{"a": 1}},
	}
	for _, tc := range cases {
		_, err := ConfigFromContext(lookup(map[string]any{tc.param: tc.value}))
		var pe *ParamError
		if err == nil || !errors.As(err, &pe) || pe.Param != tc.param || !strings.Contains(err.Error(), `"`+tc.param+`"`) {
			t.Errorf("%s=%v: got %v, want an error naming %q", tc.param, tc.value, err, tc.param)
		}
	}
	// A rule both disabled and given a mode names both.
	_, err := ConfigFromContext(lookup(map[string]any{CtxRuleModes: "KDA.RES.1=remediate", CtxDisabledRules: "KDA.RES.1"}))
	if err == nil || !strings.Contains(err.Error(), CtxDisabledRules) || !strings.Contains(err.Error(), CtxRuleModes) {
		t.Errorf("disabled and moded: %v", err)
	}
}

func TestEveryRemediationHasAScopedStatement(t *testing.T) {
	for _, r := range rules.All() {
		if r.Remediation.Kind == rules.RemediationNone {
			continue
		}
		gs, ok := remediationWrites[r.Remediation.Call]
		if !ok {
			t.Errorf("%s: %s has no IAM statement", r.ID, r.Remediation.Call)
		}
		for _, g := range gs {
			for _, res := range g.Resources {
				if res == "*" {
					t.Errorf("%s: %s is granted on every resource", r.ID, g.Sid)
				}
				if !strings.Contains(res, "${AWS::AccountId}") && g.Condition == nil {
					t.Errorf("%s: %s resource %s is not limited to this account", r.ID, g.Sid, res)
				}
			}
		}
	}
	if err := CheckGrants(slices.Concat(readStatements, EvaluatorGrants)); err != nil {
		t.Error(err)
	}
	for _, gs := range remediationWrites {
		if err := CheckGrants(gs); err != nil {
			t.Error(err)
		}
	}
	if CheckGrants([]Grant{{Sid: "x", Actions: []string{"iam:PassRole"}}}) == nil ||
		CheckGrants([]Grant{{Sid: "x", Actions: []string{"s3:*"}}}) == nil ||
		CheckGrants([]Grant{{Sid: "x", Actions: []string{"*"}}}) == nil {
		t.Error("CheckGrants lets a wildcard or PassRole through")
	}
}

// Writes follow the modes: none in report mode, auto fixes in remediate mode,
// opt-in fixes only by their own rule mode.
func TestRemediatorWritesFollowModes(t *testing.T) {
	actions := func(ctx map[string]any) []string {
		t.Helper()
		c, err := ConfigFromContext(lookup(ctx))
		if err != nil {
			t.Fatal(err)
		}
		gs, err := RemediatorWriteGrants(c)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, g := range gs {
			out = append(out, g.Actions...)
		}
		slices.Sort(out)
		return out
	}
	if got := actions(nil); len(got) != 0 {
		t.Errorf("report mode grants writes: %v", got)
	}
	auto := []string{"kinesisanalytics:AddApplicationCloudWatchLoggingOption", "kinesisanalytics:UpdateApplication",
		"kms:EnableKeyRotation", "logs:CreateLogGroup", "logs:CreateLogStream"}
	if got := actions(map[string]any{CtxMode: "remediate"}); !slices.Equal(got, auto) {
		t.Errorf("remediate mode: %v, want %v", got, auto)
	}
	got := actions(map[string]any{CtxMode: "remediate", CtxRuleModes: "KDA.IAM.2=remediate,KDA.DP.4=remediate"})
	if !slices.Contains(got, "iam:UpdateAssumeRolePolicy") || !slices.Contains(got, "s3:PutBucketPublicAccessBlock") ||
		slices.Contains(got, "ec2:RevokeSecurityGroupIngress") {
		t.Errorf("opt-in by rule mode: %v", got)
	}
	got = actions(map[string]any{CtxMode: "remediate", CtxDisabledRules: "KDA.DP.2"})
	if slices.Contains(got, "kms:EnableKeyRotation") {
		t.Errorf("a disabled rule's write is granted: %v", got)
	}
}

func TestRoleSuppressionsHaveReasons(t *testing.T) {
	for _, sp := range RoleSuppressions(readStatements, EvaluatorGrants) {
		if len(sp.AppliesTo) != 1 || !strings.HasPrefix(sp.AppliesTo[0], "Resource::") || len(sp.Reason) < 40 {
			t.Errorf("suppression %+v", sp)
		}
	}
}

// The reads are exactly what the collector says the enabled rules need.
func TestReadsFollowTheCollector(t *testing.T) {
	actions := func(c Config) []string {
		t.Helper()
		gs, err := ReadGrants(c)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, g := range gs {
			out = append(out, g.Actions...)
		}
		slices.Sort(out)
		return out
	}
	full := actions(DefaultConfig())
	want := append(collect.Permissions(rules.Needs(rules.All())), "sts:GetCallerIdentity")
	slices.Sort(want)
	if !slices.Equal(full, slices.Compact(want)) {
		t.Errorf("reads %v\nwant   %v", full, want)
	}
	for _, a := range []string{"kinesisanalytics:DescribeApplication", "iam:GetRolePolicy", "kms:GetKeyRotationStatus",
		"config:DescribeConfigurationRecorderStatus", "cloudtrail:GetTrailStatus", "s3:GetBucketPublicAccessBlock"} {
		if !slices.Contains(full, a) {
			t.Errorf("reads lack %s", a)
		}
	}
	// Disabling the account-level rules drops the account reads.
	c, err := ConfigFromContext(lookup(map[string]any{CtxDisabledRules: "KDA.MON.5,KDA.CMP.1"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(c); slices.Contains(got, "cloudtrail:DescribeTrails") || slices.Contains(got, "config:DescribeConfigurationRecorders") {
		t.Errorf("account reads kept for disabled rules: %v", got)
	}
}
