package settings

import (
	"strings"
	"testing"
	"time"

	"github.com/kdaguard/kdaguard/shared/rules"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	s, err := Parse(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.Mode != ModeReport || s.ExemptTag != "kdaguard:exempt" || s.RestartPolicy != RestartDefer || s.MaxChanges != 10 || s.EventBus != "default" {
		t.Errorf("defaults %+v", s)
	}
}

func TestParseAll(t *testing.T) {
	s, err := Parse(env(map[string]string{
		"KDAGUARD_MODE": "remediate", "KDAGUARD_RULE_MODES": "KDA.IAM.2=remediate, kda.res.6=off",
		"KDAGUARD_EXEMPT_TAG": "sec:exempt", "KDAGUARD_RESTART_POLICY": "allow", "KDAGUARD_MAX_CHANGES": "3",
		"KDAGUARD_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:kdaguard", "KDAGUARD_EVENT_BUS": "audit",
		"KDAGUARD_SELF_ROLE_ARN": "arn:aws:iam::123456789012:role/kdaguard-remediator",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if s.ModeFor("KDA.IAM.2") != ModeRemediate || s.ModeFor("KDA.RES.6") != ModeOff || s.ModeFor("KDA.RES.1") != ModeRemediate {
		t.Errorf("modes %+v", s.RuleModes)
	}
	if s.ExemptTag != "sec:exempt" || s.RestartPolicy != RestartAllow || s.MaxChanges != 3 || s.EventBus != "audit" {
		t.Errorf("parsed %+v", s)
	}
}

func TestInvalidValuesNameTheVariable(t *testing.T) {
	for name, val := range map[string]string{
		"KDAGUARD_MODE":            "fix",
		"KDAGUARD_RULE_MODES":      "KDA.NOPE.1=off",
		"KDAGUARD_RESTART_POLICY":  "sometimes",
		"KDAGUARD_MAX_CHANGES":     "-1",
		"KDAGUARD_TOPIC_ARN":       "my-topic",
		"KDAGUARD_SELF_ROLE_ARN":   "arn:aws:sts::123456789012:assumed-role/x/y",
		"KDAGUARD_RULE_PARAMETERS": `{"KDA.MON.2": {"allowedLogLevels": "LOUD"}}`,
	} {
		_, err := Parse(env(map[string]string{name: val}))
		if err == nil || !strings.HasPrefix(err.Error(), name+":") {
			t.Errorf("%s=%q: error %v should name the variable", name, val, err)
		}
	}
	for _, bad := range []string{`[]`, `{"KDA.NOPE.1": {}}`, `{"KDA.MON.3": {"retentionDays": "42"}}`, `{"KDA.MON.3": {"nope": "1"}}`} {
		if _, err := ParseRuleParameters(bad); err == nil {
			t.Errorf("KDAGUARD_RULE_PARAMETERS=%s: want an error", bad)
		}
	}
	if p, err := ParseRuleParameters(`{"kda.mon.2": {"allowedLogLevels": "DEBUG,INFO"}}`); err != nil || p["KDA.MON.2"]["allowedLogLevels"] != "DEBUG,INFO" {
		t.Errorf("rule parameters %v %v", p, err)
	}
	if _, err := ParseRuleModes("KDA.RES.1"); err == nil {
		t.Error("RULE without =MODE must fail")
	}
}

func TestMayFix(t *testing.T) {
	s := Defaults()
	if s.MayFix("KDA.RES.1", rules.RemediationAuto) {
		t.Error("report mode must not fix")
	}
	s.Mode = ModeRemediate
	if !s.MayFix("KDA.RES.1", rules.RemediationAuto) {
		t.Error("global remediate fixes auto rules")
	}
	if s.MayFix("KDA.IAM.2", rules.RemediationOptIn) {
		t.Error("global remediate must never apply an opt-in fix")
	}
	s.RuleModes = map[string]Mode{"KDA.IAM.2": ModeRemediate, "KDA.RES.1": ModeReport}
	if !s.MayFix("KDA.IAM.2", rules.RemediationOptIn) || s.MayFix("KDA.RES.1", rules.RemediationAuto) {
		t.Error("per-rule modes override the global one")
	}
	if s.MayFix("KDA.IAM.1", rules.RemediationNone) {
		t.Error("a rule without a fix is never fixed")
	}
}

func TestExemption(t *testing.T) {
	s := Defaults()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		tags   map[string]string
		rule   string
		exempt bool
		why    string
	}{
		{nil, "KDA.RES.1", false, ""},
		{map[string]string{"kdaguard:exempt": "all"}, "KDA.RES.1", true, "exempt by tag kdaguard:exempt=all"},
		{map[string]string{"kdaguard:exempt": "KDA.RES.1, KDA.MON.2"}, "KDA.MON.2", true, "exempt by tag"},
		{map[string]string{"kdaguard:exempt": "KDA.RES.1"}, "KDA.MON.2", false, ""},
		{map[string]string{"kdaguard:exempt": "all", "kdaguard:exempt-until": "2026-11-27"}, "KDA.RES.1", true, "until 2026-11-27"},
		{map[string]string{"kdaguard:exempt": "all", "kdaguard:exempt-until": "2026-11-26"}, "KDA.RES.1", false, "lapsed"},
		{map[string]string{"kdaguard:exempt": "all", "kdaguard:exempt-until": "next week"}, "KDA.RES.1", false, "not a date"},
	}
	for _, c := range cases {
		ex, why := s.Exemption(c.tags, c.rule, now)
		if ex != c.exempt || !strings.Contains(why, c.why) {
			t.Errorf("%v %s: got %v %q, want %v containing %q", c.tags, c.rule, ex, why, c.exempt, c.why)
		}
	}
	s.ExemptTag = "sec:skip"
	if ex, _ := s.Exemption(map[string]string{"sec:skip": "all", "sec:skip-until": "2026-01-01"}, "KDA.RES.1", now); ex {
		t.Error("the -until key follows the configured exemption key")
	}
}
