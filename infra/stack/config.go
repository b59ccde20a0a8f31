// Package stack is kdaguard's CDK stack: the Config rule evaluator, the
// EventBridge remediator, one AWS Config custom rule per catalog rule, the
// notification topic, alarms and a dashboard. The app in ../ (package main)
// reads the context parameters with ConfigFromContext and calls New.
package stack

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kdaguard/kdaguard/shared/rules"
	"github.com/kdaguard/kdaguard/shared/settings"
)

// Context parameter names (cdk.json "context" or `cdk synth -c name=value`).
// infra/README.md documents each one; keep the two in step.
const (
	CtxMode                  = "mode"
	CtxRuleModes             = "ruleModes"
	CtxExemptTag             = "exemptTag"
	CtxNotificationEmail     = "notificationEmail"
	CtxScheduleFrequency     = "scheduleFrequency"
	CtxRestartPolicy         = "restartPolicy"
	CtxDisabledRules         = "disabledRules"
	CtxMaxChanges            = "maxChanges"
	CtxRemediatorConcurrency = "remediatorConcurrency"
	CtxEvaluatorConcurrency  = "evaluatorConcurrency"
	CtxRuleParameters        = "ruleParameters"
	CtxEventBus              = "eventBus"
	CtxLogRetentionDays      = "logRetentionDays"
)

// ContextParams lists every context parameter the stack reads.
var ContextParams = []string{CtxMode, CtxRuleModes, CtxExemptTag, CtxNotificationEmail,
	CtxScheduleFrequency, CtxRestartPolicy, CtxDisabledRules, CtxMaxChanges,
	CtxRemediatorConcurrency, CtxEvaluatorConcurrency, CtxRuleParameters, CtxEventBus, CtxLogRetentionDays}

// Frequencies AWS Config accepts for periodic rules (MaximumExecutionFrequency).
var Frequencies = []string{"One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"}

// RetentionDays are the values CloudWatch Logs accepts that also meet the
// AWS Control Tower control CT.CLOUDWATCH.PR.2 (at least 365 days).
var RetentionDays = []int{365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Config is the validated configuration of one kdaguard deployment.
type Config struct {
	Mode                  settings.Mode
	RuleModes             map[string]settings.Mode // explicit per-rule modes (disabled rules excluded)
	ExemptTag             string
	NotificationEmail     string
	ScheduleFrequency     string
	RestartPolicy         settings.RestartPolicy
	DisabledRules         []string // catalog ids, catalog order
	MaxChanges            int
	RemediatorConcurrency int
	EvaluatorConcurrency  int
	RuleParameters        map[string]map[string]string // rule id -> parameter -> value
	EventBus              string
	LogRetentionDays      int
}

// DefaultConfig is the configuration with no context.
func DefaultConfig() Config {
	d := settings.Defaults()
	return Config{
		Mode:                  d.Mode,
		ExemptTag:             d.ExemptTag,
		ScheduleFrequency:     "TwentyFour_Hours",
		RestartPolicy:         d.RestartPolicy,
		MaxChanges:            d.MaxChanges,
		RemediatorConcurrency: 5,
		EvaluatorConcurrency:  5,
		EventBus:              d.EventBus,
		LogRetentionDays:      365,
	}
}

// ParamError is a bad context value; its message names the parameter.
type ParamError struct {
	Param string
	Err   error
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("context parameter %q: %v (see infra/README.md)", e.Param, e.Err)
}

func (e *ParamError) Unwrap() error { return e.Err }

func bad(param, format string, a ...any) error {
	return &ParamError{Param: param, Err: fmt.Errorf(format, a...)}
}

// ConfigFromContext reads and validates the context parameters. lookup
// returns a context value or nil (app.Node().TryGetContext). Values given with
// -c are strings; cdk.json may give numbers, lists and objects.
func ConfigFromContext(lookup func(key string) any) (Config, error) {
	c := DefaultConfig()
	str := func(key string) (string, bool, error) {
		v := lookup(key)
		switch v := v.(type) {
		case nil:
			return "", false, nil
		case string:
			v = strings.TrimSpace(v)
			return v, v != "", nil
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64), true, nil
		case bool:
			return strconv.FormatBool(v), true, nil
		case []any:
			parts := make([]string, 0, len(v))
			for _, p := range v {
				s, ok := p.(string)
				if !ok {
					return "", false, bad(key, "list items must be strings, got %v", p)
				}
				parts = append(parts, strings.TrimSpace(s))
			}
			return strings.Join(parts, ","), len(parts) > 0, nil
		default:
			return "", false, bad(key, "want a string, got %T", v)
		}
	}
	integer := func(key string, dst *int, lo, hi int) error {
		v, ok, err := str(key)
		if err != nil || !ok {
			return err
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return bad(key, "%q is not a whole number from %d to %d", v, lo, hi)
		}
		*dst = n
		return nil
	}

	if v, ok, err := str(CtxMode); err != nil {
		return c, err
	} else if ok {
		m, err := settings.ParseMode(v)
		if err != nil {
			return c, &ParamError{CtxMode, err}
		}
		c.Mode = m
	}
	if v, ok, err := str(CtxRuleModes); err != nil {
		return c, err
	} else if ok {
		m, err := settings.ParseRuleModes(v)
		if err != nil {
			return c, &ParamError{CtxRuleModes, err}
		}
		c.RuleModes = m
	}
	if v, ok, err := str(CtxDisabledRules); err != nil {
		return c, err
	} else if ok {
		for id := range strings.SplitSeq(v, ",") {
			id = strings.TrimSpace(id)
			if id == "" {
				continue
			}
			r, found := rules.ByID(id)
			if !found {
				return c, bad(CtxDisabledRules, "unknown rule %q", id)
			}
			if _, set := c.RuleModes[r.ID]; set {
				return c, bad(CtxDisabledRules, "%s is disabled and also given a mode in %q: pick one", r.ID, CtxRuleModes)
			}
			if !slices.Contains(c.DisabledRules, r.ID) {
				c.DisabledRules = append(c.DisabledRules, r.ID)
			}
		}
		slices.SortFunc(c.DisabledRules, func(a, b string) int { return catalogIndex(a) - catalogIndex(b) })
	}
	if v, ok, err := str(CtxExemptTag); err != nil {
		return c, err
	} else if ok {
		if err := validTagKey(v); err != nil {
			return c, &ParamError{CtxExemptTag, err}
		}
		c.ExemptTag = v
	}
	if v, ok, err := str(CtxNotificationEmail); err != nil {
		return c, err
	} else if ok {
		a, err := mail.ParseAddress(v)
		if err != nil || a.Address != v || a.Name != "" {
			return c, bad(CtxNotificationEmail, "%q is not a plain e-mail address", v)
		}
		c.NotificationEmail = v
	}
	if v, ok, err := str(CtxScheduleFrequency); err != nil {
		return c, err
	} else if ok {
		if !slices.Contains(Frequencies, v) {
			return c, bad(CtxScheduleFrequency, "%q is not one of %s", v, strings.Join(Frequencies, ", "))
		}
		c.ScheduleFrequency = v
	}
	if v, ok, err := str(CtxRestartPolicy); err != nil {
		return c, err
	} else if ok {
		switch p := settings.RestartPolicy(strings.ToLower(v)); p {
		case settings.RestartDefer, settings.RestartAllow:
			c.RestartPolicy = p
		default:
			return c, bad(CtxRestartPolicy, "%q is not defer or allow", v)
		}
	}
	if err := integer(CtxMaxChanges, &c.MaxChanges, 0, 1000); err != nil {
		return c, err
	}
	// Reserved concurrency must leave the account's 100 unreserved executions.
	if err := integer(CtxRemediatorConcurrency, &c.RemediatorConcurrency, 1, 100); err != nil {
		return c, err
	}
	if err := integer(CtxEvaluatorConcurrency, &c.EvaluatorConcurrency, 1, 100); err != nil {
		return c, err
	}
	if err := integer(CtxLogRetentionDays, &c.LogRetentionDays, 1, 3653); err != nil {
		return c, err
	}
	if !slices.Contains(RetentionDays, c.LogRetentionDays) {
		return c, bad(CtxLogRetentionDays, "%d is not one of %v (CloudWatch Logs values of at least 365 days)", c.LogRetentionDays, RetentionDays)
	}
	if v, ok, err := str(CtxEventBus); err != nil {
		return c, err
	} else if ok {
		if !eventBusName.MatchString(v) {
			return c, bad(CtxEventBus, "%q is not an event bus name in this account (letters, digits, . - _; no ARN)", v)
		}
		c.EventBus = v
	}
	params, err := ruleParameters(lookup(CtxRuleParameters))
	if err != nil {
		return c, err
	}
	c.RuleParameters = params

	// Last, the functions' own parser must accept the environment built from
	// this configuration: what synth accepts, the functions start with.
	if _, err := settings.Parse(func(k string) (string, bool) {
		v, ok := c.sharedEnv()[k]
		return v, ok
	}); err != nil {
		return c, fmt.Errorf("the functions would reject this configuration: %w", err)
	}
	return c, nil
}

var eventBusName = regexp.MustCompile(`^[A-Za-z0-9._\-]{1,256}$`)

// validTagKey follows the tag key rules of the tagging API, leaving room for
// the "-until" key that goes with the exemption key.
func validTagKey(k string) error {
	if len(k) > 128-len("-until") {
		return fmt.Errorf("%q is too long: the key plus -until must fit 128 characters", k)
	}
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return fmt.Errorf("%q: keys starting with aws: are reserved", k)
	}
	if !tagKey.MatchString(k) {
		return fmt.Errorf("%q has characters a tag key cannot hold", k)
	}
	return nil
}

var tagKey = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)

// ruleParameters reads {"KDA.MON.3": {"retentionDays": "90"}} from an object
// (cdk.json) or a JSON string (-c), and validates it against the catalog.
func ruleParameters(v any) (map[string]map[string]string, error) {
	var raw map[string]any
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		if strings.TrimSpace(v) == "" {
			return nil, nil
		}
		if err := json.Unmarshal([]byte(v), &raw); err != nil {
			return nil, bad(CtxRuleParameters, "not a JSON object of rule id to {parameter: value}: %v", err)
		}
	case map[string]any:
		raw = v
	default:
		return nil, bad(CtxRuleParameters, "want an object of rule id to {parameter: value}, got %T", v)
	}
	out := map[string]map[string]string{}
	for id, ps := range raw {
		r, ok := rules.ByID(id)
		if !ok {
			return nil, bad(CtxRuleParameters, "unknown rule %q", id)
		}
		m, ok := ps.(map[string]any)
		if !ok {
			return nil, bad(CtxRuleParameters, "%s: want an object of parameter to value, got %T", r.ID, ps)
		}
		vals := map[string]string{}
		for name, pv := range m {
			if name == "ruleId" {
				return nil, bad(CtxRuleParameters, "%s: ruleId is set by the stack", r.ID)
			}
			switch pv := pv.(type) {
			case string:
				vals[name] = pv
			case float64:
				vals[name] = strconv.FormatFloat(pv, 'f', -1, 64)
			case bool:
				vals[name] = strconv.FormatBool(pv)
			default:
				return nil, bad(CtxRuleParameters, "%s.%s: want a string or number, got %T", r.ID, name, pv)
			}
		}
		if _, err := rules.NewParams(r, vals); err != nil {
			return nil, &ParamError{CtxRuleParameters, err}
		}
		out[r.ID] = vals
	}
	return out, nil
}

func catalogIndex(id string) int {
	for i, r := range rules.All() {
		if r.ID == id {
			return i
		}
	}
	return len(rules.All())
}

// Disabled reports whether a rule is disabled.
func (c Config) Disabled(id string) bool { return slices.Contains(c.DisabledRules, id) }

// EnabledRules are the catalog rules that get a Config rule, in catalog order.
func (c Config) EnabledRules() []*rules.Rule {
	var out []*rules.Rule
	for _, r := range rules.All() {
		if !c.Disabled(r.ID) {
			out = append(out, r)
		}
	}
	return out
}

// RuleModesEnv is KDAGUARD_RULE_MODES: the explicit modes, and off for every
// disabled rule, in catalog order.
func (c Config) RuleModesEnv() string {
	var parts []string
	for _, r := range rules.All() {
		if c.Disabled(r.ID) {
			parts = append(parts, r.ID+"="+string(settings.ModeOff))
		} else if m, ok := c.RuleModes[r.ID]; ok {
			parts = append(parts, r.ID+"="+string(m))
		}
	}
	return strings.Join(parts, ",")
}

// sharedEnv is the environment both functions get. The remediator adds
// KDAGUARD_TOPIC_ARN and KDAGUARD_SELF_ROLE_ARN, which are only known at
// deployment.
func (c Config) sharedEnv() map[string]string {
	env := map[string]string{
		"KDAGUARD_MODE":           string(c.Mode),
		"KDAGUARD_EXEMPT_TAG":     c.ExemptTag,
		"KDAGUARD_RESTART_POLICY": string(c.RestartPolicy),
		"KDAGUARD_MAX_CHANGES":    strconv.Itoa(c.MaxChanges),
		"KDAGUARD_EVENT_BUS":      c.EventBus,
	}
	if s := c.RuleModesEnv(); s != "" {
		env["KDAGUARD_RULE_MODES"] = s
	}
	// The remediator judges with the Config rules' parameters, so that it
	// never "fixes" what Config reports compliant.
	if len(c.RuleParameters) > 0 {
		b, _ := json.Marshal(c.RuleParameters) // map[string]map[string]string: cannot fail
		env["KDAGUARD_RULE_PARAMETERS"] = string(b)
	}
	return env
}

// MayRemediate reports whether this configuration lets the remediator apply
// a rule's fix: auto fixes when the rule's mode (its own, else the global
// mode) is remediate, opt-in fixes only when the rule's own mode is. The same
// decision as settings.Settings.MayFix, which the functions use.
func (c Config) MayRemediate(r *rules.Rule) bool {
	if c.Disabled(r.ID) {
		return false
	}
	s := settings.Settings{Mode: c.Mode, RuleModes: c.RuleModes}
	return s.MayFix(r.ID, r.Remediation.Kind)
}

// InputParameters is a Config rule's input: the rule id and its overrides.
func (c Config) InputParameters(id string) map[string]string {
	out := map[string]string{"ruleId": id}
	for k, v := range c.RuleParameters[id] {
		out[k] = v
	}
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
