// Package rules is kdaguard's catalog: every security rule for Flink
// applications as one small, self-describing unit, and the engine that runs
// them. Checks are pure functions of the model, their parameters and a clock
// passed in; fixes are data that the remediation executor carries out.
package rules

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kdaguard/kdaguard/shared/model"
)

// Rule is one security rule.
type Rule struct {
	ID        string
	Title     string
	Topic     Topic
	Severity  Severity
	Rationale string
	Doc       string // documentation page the rule comes from
	NIST      []string
	PCI       []string
	Params    []Param
	// CheckParams, when set, checks the parameters together once each is
	// valid on its own (a fix target that the rule's own check must accept,
	// so that the fix cannot loop).
	CheckParams func(Params) error
	Needs       []model.Facet
	Scope       Scope
	Remediation Remediation
	// Check judges the application. It must not do I/O and must not read the
	// clock other than in.Now.
	Check func(in Input) Result
}

// Input is what a check reads.
type Input struct {
	App    *model.Application
	Params Params
	Now    time.Time
}

// Result of one rule on one application.
type Result struct {
	Status Status
	// Severity overrides the rule's own when the finding is graver or lighter
	// than usual (KDA.RES.4); zero means the rule's.
	Severity Severity
	Message  string
	// Failed names the conditions that fail, so that a fix can be verified
	// against the one it targets while the others stay reported.
	Failed []string
	// Held names the conditions of a multi-condition rule that were read and
	// hold, so that a fix can be verified even when the rule's other
	// conditions fail or could not be read. A COMPLIANT result holds all.
	Held []string
	// Fixes are planned only for failing conditions that have a fix.
	Fixes []Fix
}

// Status of a result.
type Status string

// Statuses. UNKNOWN is never reported as COMPLIANT anywhere.
const (
	Compliant     Status = "COMPLIANT"
	NonCompliant  Status = "NON_COMPLIANT"
	NotApplicable Status = "NOT_APPLICABLE"
	Unknown       Status = "UNKNOWN"
)

// Topic of the security guide.
type Topic string

// Topics.
const (
	TopicDataProtection Topic = "data-protection"
	TopicIAM            Topic = "iam"
	TopicMonitoring     Topic = "monitoring"
	TopicCompliance     Topic = "compliance"
	TopicResilience     Topic = "resilience"
	TopicInfrastructure Topic = "infrastructure"
	TopicBestPractices  Topic = "best-practices"
)

// Scope says what a rule's result is about.
type Scope string

// Scopes: account-level rules are reported against AWS::::Account.
const (
	ScopeApplication Scope = "application"
	ScopeAccount     Scope = "account"
)

// Severity of a rule or finding; larger is graver.
type Severity int

// Severities.
const (
	Informational Severity = iota + 1
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"", "INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

func (s Severity) String() string {
	if s < Informational || s > Critical {
		return "UNSET"
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name, case-insensitively.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if i > 0 && strings.EqualFold(n, s) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of %s)", s, strings.Join(severityNames[1:], ", "))
}

// MarshalText writes the name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// RemediationKind says whether and how a rule can be fixed.
type RemediationKind string

// Remediation kinds: auto fixes run when the mode is remediate; opt-in fixes
// only when that rule's own mode is remediate.
const (
	RemediationAuto  RemediationKind = "auto"
	RemediationOptIn RemediationKind = "opt-in"
	RemediationNone  RemediationKind = "none"
)

// Remediation describes a rule's fix declaratively.
type Remediation struct {
	Kind        RemediationKind
	Call        string // API call it makes, e.g. "kms:EnableKeyRotation"
	Description string
}

// Fix is one planned change for one failing condition.
type Fix struct {
	Rule      string
	Condition string
	Kind      RemediationKind
	Call      string // e.g. "kinesisanalyticsv2:UpdateApplication"
	Target    string // the resource changed (application name, key ARN, bucket...)
	Summary   string
	// Update is set for UpdateApplication fixes, which the executor merges
	// into one call per application.
	Update *AppUpdate `json:",omitempty"`
	// Args carries the other calls' parameters.
	Args map[string]string `json:",omitempty"`
}

// AppUpdate is the part of an UpdateApplication a fix needs. Fixes only ever
// turn protections on, so merging is a union.
type AppUpdate struct {
	CheckpointingDefault bool   `json:",omitempty"` // CheckpointConfigurationUpdate{ConfigurationTypeUpdate: DEFAULT}
	EnableSnapshots      bool   `json:",omitempty"`
	EnableRollback       bool   `json:",omitempty"`
	EnableAutoScaling    bool   `json:",omitempty"` // ParallelismConfigurationUpdate{CUSTOM, AutoScalingEnabledUpdate: true}
	LogLevel             string `json:",omitempty"` // MonitoringConfigurationUpdate{CUSTOM, LogLevelUpdate}
}

// Merge adds another fix's update to u.
func (u *AppUpdate) Merge(o AppUpdate) {
	u.CheckpointingDefault = u.CheckpointingDefault || o.CheckpointingDefault
	u.EnableSnapshots = u.EnableSnapshots || o.EnableSnapshots
	u.EnableRollback = u.EnableRollback || o.EnableRollback
	u.EnableAutoScaling = u.EnableAutoScaling || o.EnableAutoScaling
	if o.LogLevel != "" {
		u.LogLevel = o.LogLevel
	}
}

// Empty reports whether the update changes nothing.
func (u AppUpdate) Empty() bool { return u == AppUpdate{} }

// MaxMessage is AWS Config's annotation limit, which every message honours.
const MaxMessage = 256

// Clip shortens a message to MaxMessage bytes (AWS Config's annotation limit) on a rune boundary.
func Clip(s string) string {
	if len(s) <= MaxMessage {
		return s
	}
	cut := MaxMessage - 3
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}

// Helpers that build results; checks use them so messages stay in bounds.

func pass(msg string) Result { return Result{Status: Compliant, Message: Clip(msg)} }

func notApplicable(msg string) Result { return Result{Status: NotApplicable, Message: Clip(msg)} }

func unknown(what, reason string) Result {
	return Result{Status: Unknown, Message: Clip(what + ": " + reason)}
}

func fail(msg string, failed ...string) Result {
	return Result{Status: NonCompliant, Message: Clip(msg), Failed: failed}
}

// MarshalJSON writes a rule's description (not its check) for `kdaguard rules`.
func (r *Rule) MarshalJSON() ([]byte, error) {
	type param struct {
		Name        string `json:"name"`
		Type        string `json:"type"`
		Default     string `json:"default"`
		Description string `json:"description"`
	}
	ps := make([]param, 0, len(r.Params))
	for _, p := range r.Params {
		ps = append(ps, param{p.Name, string(p.Type), p.Default, p.Description})
	}
	return json.Marshal(struct {
		ID          string          `json:"id"`
		Title       string          `json:"title"`
		Topic       Topic           `json:"topic"`
		Severity    Severity        `json:"severity"`
		Scope       Scope           `json:"scope"`
		Remediation RemediationKind `json:"remediation"`
		FixCall     string          `json:"remediationCall,omitempty"`
		FixText     string          `json:"remediationDescription,omitempty"`
		Rationale   string          `json:"rationale"`
		Doc         string          `json:"documentation"`
		NIST        []string        `json:"nist800_53"`
		PCI         []string        `json:"pciDss4"`
		Params      []param         `json:"parameters"`
		Needs       []model.Facet   `json:"reads"`
	}{r.ID, r.Title, r.Topic, r.Severity, r.Scope, r.Remediation.Kind, r.Remediation.Call,
		r.Remediation.Description, r.Rationale, r.Doc, r.NIST, r.PCI, ps, r.Needs})
}
