// Package settings reads kdaguard's configuration from KDAGUARD_* environment
// variables (set by the CDK stack). An invalid value is an error naming the
// variable: a function stops at start rather than run on a silent default.
package settings

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kdaguard/kdaguard/shared/rules"
)

// Mode of a rule.
type Mode string

// Modes. Report is the default: compute and log the exact call, make none.
const (
	ModeOff       Mode = "off"
	ModeReport    Mode = "report"
	ModeRemediate Mode = "remediate"
)

// RestartPolicy for RUNNING applications, which an update restarts.
type RestartPolicy string

// Restart policies. Defer (the default) reports and notifies instead.
const (
	RestartDefer RestartPolicy = "defer"
	RestartAllow RestartPolicy = "allow"
)

// Settings of the functions and the CLI's scan.
type Settings struct {
	Mode          Mode
	RuleModes     map[string]Mode // rule id -> mode override
	ExemptTag     string
	RestartPolicy RestartPolicy
	MaxChanges    int
	TopicARN      string
	EventBus      string
	SelfRoleARN   string
	// RuleParameters are rule parameter overrides (rule id -> name -> value),
	// the same the AWS Config rules get, so that the remediator judges an
	// application as Config does.
	RuleParameters map[string]map[string]string
}

// Defaults are the settings with no environment.
func Defaults() Settings {
	return Settings{Mode: ModeReport, ExemptTag: "kdaguard:exempt", RestartPolicy: RestartDefer, MaxChanges: 10, EventBus: "default"}
}

// FromEnv reads the settings from the environment.
func FromEnv() (Settings, error) { return Parse(os.LookupEnv) }

// Parse reads the settings through lookup (os.LookupEnv in production).
func Parse(lookup func(string) (string, bool)) (Settings, error) {
	s := Defaults()
	get := func(name string) (string, bool) {
		v, ok := lookup(name)
		return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
	}
	if v, ok := get("KDAGUARD_MODE"); ok {
		m, err := ParseMode(v)
		if err != nil {
			return s, fmt.Errorf("KDAGUARD_MODE: %w", err)
		}
		s.Mode = m
	}
	if v, ok := get("KDAGUARD_RULE_MODES"); ok {
		m, err := ParseRuleModes(v)
		if err != nil {
			return s, fmt.Errorf("KDAGUARD_RULE_MODES: %w", err)
		}
		s.RuleModes = m
	}
	if v, ok := get("KDAGUARD_EXEMPT_TAG"); ok {
		if len(v) > 128-len("-until") {
			return s, fmt.Errorf("KDAGUARD_EXEMPT_TAG: %q is too long for a tag key with -until", v)
		}
		s.ExemptTag = v
	}
	if v, ok := get("KDAGUARD_RESTART_POLICY"); ok {
		switch RestartPolicy(strings.ToLower(v)) {
		case RestartDefer, RestartAllow:
			s.RestartPolicy = RestartPolicy(strings.ToLower(v))
		default:
			return s, fmt.Errorf("KDAGUARD_RESTART_POLICY: %q is not defer or allow", v)
		}
	}
	if v, ok := get("KDAGUARD_MAX_CHANGES"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s, fmt.Errorf("KDAGUARD_MAX_CHANGES: %q is not a whole number >= 0", v)
		}
		s.MaxChanges = n
	}
	if v, ok := get("KDAGUARD_TOPIC_ARN"); ok {
		if !strings.HasPrefix(v, "arn:") || !strings.Contains(v, ":sns:") {
			return s, fmt.Errorf("KDAGUARD_TOPIC_ARN: %q is not an SNS topic ARN", v)
		}
		s.TopicARN = v
	}
	if v, ok := get("KDAGUARD_EVENT_BUS"); ok {
		s.EventBus = v
	}
	if v, ok := get("KDAGUARD_RULE_PARAMETERS"); ok {
		p, err := ParseRuleParameters(v)
		if err != nil {
			return s, fmt.Errorf("KDAGUARD_RULE_PARAMETERS: %w", err)
		}
		s.RuleParameters = p
	}
	if v, ok := get("KDAGUARD_SELF_ROLE_ARN"); ok {
		if !strings.HasPrefix(v, "arn:") || !strings.Contains(v, ":iam::") || !strings.Contains(v, ":role/") {
			return s, fmt.Errorf("KDAGUARD_SELF_ROLE_ARN: %q is not an IAM role ARN", v)
		}
		s.SelfRoleARN = v
	}
	return s, nil
}

// ParseMode reads off, report or remediate.
func ParseMode(v string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(v))); m {
	case ModeOff, ModeReport, ModeRemediate:
		return m, nil
	}
	return "", fmt.Errorf("%q is not off, report or remediate", v)
}

// ParseRuleModes reads "KDA.IAM.2=remediate,KDA.RES.6=off"; every id must be
// in the catalog.
func ParseRuleModes(v string) (map[string]Mode, error) {
	out := map[string]Mode{}
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, m, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want RULE=MODE", item)
		}
		r, found := rules.ByID(strings.TrimSpace(id))
		if !found {
			return nil, fmt.Errorf("%q: unknown rule %q", item, id)
		}
		mode, err := ParseMode(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.ID, err)
		}
		out[r.ID] = mode
	}
	return out, nil
}

// ParseRuleParameters reads {"KDA.MON.2": {"allowedLogLevels": "INFO,WARN"}}
// and validates every rule id and parameter against the catalog.
func ParseRuleParameters(v string) (map[string]map[string]string, error) {
	var raw map[string]map[string]string
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return nil, fmt.Errorf("want a JSON object of rule id to {parameter: value} (string values): %w", err)
	}
	out := make(map[string]map[string]string, len(raw))
	for id, ps := range raw {
		r, ok := rules.ByID(id)
		if !ok {
			return nil, fmt.Errorf("unknown rule %q", id)
		}
		if _, err := rules.NewParams(r, ps); err != nil {
			return nil, err
		}
		out[r.ID] = ps
	}
	return out, nil
}

// ModeFor is the mode of a rule: its own override, else the global mode.
func (s Settings) ModeFor(ruleID string) Mode {
	if m, ok := s.RuleModes[ruleID]; ok {
		return m
	}
	return s.Mode
}

// MayFix reports whether a fix of the given kind for the rule may be applied:
// auto fixes when the rule's mode is remediate; opt-in fixes only when that
// rule's own mode is remediate, never by the global mode.
func (s Settings) MayFix(ruleID string, kind rules.RemediationKind) bool {
	switch kind {
	case rules.RemediationAuto:
		return s.ModeFor(ruleID) == ModeRemediate
	case rules.RemediationOptIn:
		return s.RuleModes[ruleID] == ModeRemediate
	}
	return false
}

// Exemption says whether a rule is exempt for an application by its tags:
// tag ExemptTag = "all" or a comma-separated list of rule ids, with an
// optional ExemptTag+"-until" date (YYYY-MM-DD, or RFC 3339) after which the
// exemption lapses. A malformed -until date does not exempt (fail safe) and
// says why.
func (s Settings) Exemption(tags map[string]string, ruleID string, now time.Time) (exempt bool, why string) {
	v, ok := tags[s.ExemptTag]
	if !ok {
		return false, ""
	}
	listed := false
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		listed = listed || strings.EqualFold(item, "all") || strings.EqualFold(item, ruleID)
	}
	if !listed {
		return false, ""
	}
	untilKey := s.ExemptTag + "-until"
	until, has := tags[untilKey]
	if !has {
		return true, "exempt by tag " + s.ExemptTag + "=" + v
	}
	t, err := parseUntil(until)
	if err != nil {
		return false, "tag " + untilKey + "=" + until + " is not a date (YYYY-MM-DD): exemption ignored"
	}
	if !now.Before(t) {
		return false, "exemption by tag " + s.ExemptTag + " lapsed on " + until
	}
	return true, "exempt by tag " + s.ExemptTag + "=" + v + " until " + until
}

// parseUntil reads a date; a bare date lapses at the end of that day (UTC).
func parseUntil(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t.Add(24 * time.Hour), nil
	}
	return time.Parse(time.RFC3339, v)
}
