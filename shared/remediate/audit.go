package remediate

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/kdaguard/kdaguard/shared/model"
)

// Audit event source and detail type.
const (
	EventSource     = "kdaguard"
	EventDetailType = "kdaguard Remediation"
)

// EventsAPI is the part of the EventBridge client the audit uses.
type EventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// SNSAPI is the part of the SNS client the audit uses.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Audit sends the audit events (bus Settings.EventBus) and the
// notifications (topic Settings.TopicARN, when set).
type Audit struct {
	Events EventsAPI
	SNS    SNSAPI
}

// Action is one audit record.
type Action struct {
	Time        time.Time       `json:"time"`
	Rule        string          `json:"rule"`
	Condition   string          `json:"condition,omitempty"`
	Application string          `json:"application"`
	Account     string          `json:"account,omitempty"`
	Region      string          `json:"region,omitempty"`
	Call        string          `json:"call,omitempty"`
	Target      string          `json:"target,omitempty"`
	Summary     string          `json:"summary,omitempty"`
	Input       json.RawMessage `json:"input,omitempty"` // the exact API call (pruned of empty members)
	Before      json.RawMessage `json:"before,omitempty"`
	After       json.RawMessage `json:"after,omitempty"`
	Outcome     string          `json:"outcome"`
	Reason      string          `json:"reason,omitempty"`
	Console     string          `json:"console,omitempty"`

	id     int
	notify bool // a fix that could not run safely: notified like a failure
}

// ConsoleURL links to the application in the Managed Service for Apache Flink console.
func ConsoleURL(region, name string) string {
	return "https://" + region + ".console.aws.amazon.com/flink/home?region=" + region + "#/applications/" + name
}

// recorder collects one convergence's audit records.
type recorder struct {
	e       *Executor
	ctx     context.Context
	app     *model.Application
	redact  redactor
	actions []Action
	failed  []error // errors found while planning

	// While staging, records and planning errors are held back: a round
	// that ends in a conflict is planned again, and only the final round's
	// plan is recorded (commit), each record once.
	staging      bool
	staged       []Action
	stagedFailed []error
}

// stage holds back the records that follow until commit or discard.
func (r *recorder) stage() {
	r.staging, r.staged, r.stagedFailed = true, nil, nil
}

// hold stops holding back new records; those held so far wait for commit
// or discard.
func (r *recorder) hold() { r.staging = false }

// commit records (and logs) what was held back.
func (r *recorder) commit() {
	staged, failed := r.staged, r.stagedFailed
	r.staging, r.staged, r.stagedFailed = false, nil, nil
	for _, a := range staged {
		a.id = len(r.actions)
		r.actions = append(r.actions, a)
		r.log(a)
	}
	r.failed = append(r.failed, failed...)
}

// discard forgets what was held back: the round is planned again.
func (r *recorder) discard() {
	r.staging, r.staged, r.stagedFailed = false, nil, nil
}

// fail notes an error found while planning.
func (r *recorder) fail(err error) {
	if r.staging {
		r.stagedFailed = append(r.stagedFailed, err)
		return
	}
	r.failed = append(r.failed, err)
}

// notice records a fix that could not run safely: notified like a failure.
func (r *recorder) notice(p pending, outcome, reason string) Action {
	return r.record(p, outcome, reason, nil, true)
}

// action records (and logs) an action.
func (r *recorder) action(p pending, outcome, reason string, after any) Action {
	return r.record(p, outcome, reason, after, false)
}

func (r *recorder) record(p pending, outcome, reason string, after any, notify bool) Action {
	a := Action{Time: r.e.now().UTC(), Rule: p.fix.Rule, Condition: p.fix.Condition, Call: p.fix.Call, Target: p.fix.Target,
		Summary: p.fix.Summary, Outcome: outcome, Reason: reason}
	if r.app != nil {
		a.Application, a.Account, a.Region = r.app.Name, r.app.Account, r.app.Region
		a.Console = ConsoleURL(r.app.Region, r.app.Name)
	}
	if p.input != nil {
		a.Input = r.redact.json(prune(p.input))
	}
	if p.before.Status != "" {
		a.Before = r.redact.json(p.before)
	}
	if after != nil {
		a.After = r.redact.json(after)
	} else if outcome == Planned || outcome == Deferred {
		a.After = r.redact.json(map[string]string{"change": p.fix.Summary})
	}
	a.Summary, a.Reason = r.redact.text(a.Summary), r.redact.text(a.Reason)
	a.notify = notify
	if r.staging {
		a.id = -1
		r.staged = append(r.staged, a)
		return a
	}
	a.id = len(r.actions)
	r.actions = append(r.actions, a)
	r.log(a)
	return a
}

// final replaces an applied action's outcome after verification.
func (r *recorder) final(a Action, outcome, reason string, after any) {
	a.Time, a.Outcome, a.Reason = r.e.now().UTC(), outcome, r.redact.text(reason)
	if after != nil {
		a.After = r.redact.json(after)
	}
	r.actions[a.id] = a
	r.log(a)
}

func (r *recorder) log(a Action) {
	level := slog.LevelInfo
	if a.Outcome == Failed {
		level = slog.LevelError
	} else if a.Outcome == Deferred || a.notify {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.String("rule", a.Rule), slog.String("application", a.Application),
		slog.String("account", a.Account), slog.String("region", a.Region), slog.String("call", a.Call),
		slog.String("target", a.Target), slog.String("outcome", a.Outcome)}
	if a.Condition != "" {
		attrs = append(attrs, slog.String("condition", a.Condition))
	}
	if a.Reason != "" {
		attrs = append(attrs, slog.String("reason", a.Reason))
	}
	if a.Summary != "" {
		attrs = append(attrs, slog.String("summary", a.Summary))
	}
	if a.Input != nil {
		attrs = append(attrs, slog.Any("input", a.Input))
	}
	if a.Before != nil {
		attrs = append(attrs, slog.Any("before", a.Before))
	}
	if a.After != nil {
		attrs = append(attrs, slog.Any("after", a.After))
	}
	r.e.logger().LogAttrs(r.ctx, level, "kdaguard remediation", attrs...)
}

// flush sends the audit events and, when something changed, was deferred
// or failed, one notification. An audit delivery failure is logged: the
// log line is the record of last resort, and the convergence itself stands.
func (r *recorder) flush() {
	au := r.e.Audit
	if au == nil || len(r.actions) == 0 {
		return
	}
	ctx := context.WithoutCancel(r.ctx)
	lg := r.e.logger()
	if au.Events != nil {
		var entries []ebtypes.PutEventsRequestEntry
		for _, a := range r.actions {
			b, _ := json.Marshal(a)
			e := ebtypes.PutEventsRequestEntry{Source: aws.String(EventSource), DetailType: aws.String(EventDetailType),
				Detail: aws.String(string(b)), EventBusName: aws.String(r.e.Settings.EventBus), Time: aws.Time(a.Time)}
			if r.app != nil && r.app.ARN != "" {
				e.Resources = []string{r.app.ARN}
			}
			entries = append(entries, e)
		}
		for len(entries) > 0 {
			n := min(10, len(entries)) // PutEvents takes at most 10 entries
			out, err := au.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries[:n]})
			switch {
			case err != nil:
				lg.ErrorContext(ctx, "audit events not sent", "error", errText(err), "count", n)
			case out.FailedEntryCount > 0:
				lg.ErrorContext(ctx, "audit events partly not sent", "failed", out.FailedEntryCount, "count", n)
			}
			entries = entries[n:]
		}
	}
	if au.SNS == nil || r.e.Settings.TopicARN == "" {
		return
	}
	var lines []string
	counts := map[string]int{}
	for _, a := range r.actions {
		switch {
		case a.Outcome == Verified || a.Outcome == Applied || a.Outcome == Failed || a.Outcome == Deferred,
			a.notify:
		default:
			continue
		}
		counts[a.Outcome]++
		line := fmt.Sprintf("- %s %s: %s", a.Rule, strings.ToUpper(a.Outcome), firstNonEmpty(a.Summary, a.Call))
		if a.Reason != "" {
			line += " (" + a.Reason + ")"
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return
	}
	name, account, region := "", "", ""
	if r.app != nil {
		name, account, region = r.app.Name, r.app.Account, r.app.Region
	}
	var parts []string
	for _, o := range []string{Verified, Applied, Failed, Deferred, Skipped} {
		if counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
		}
	}
	subject := "kdaguard: " + name + ": " + strings.Join(parts, ", ")
	if len(subject) > 100 { // SNS subject limit
		subject = subject[:97] + "..."
	}
	msg := fmt.Sprintf("kdaguard remediation\n\nApplication: %s\nAccount: %s\nRegion: %s\nConsole: %s\n\n%s\n",
		name, account, region, ConsoleURL(region, name), strings.Join(lines, "\n"))
	msg = r.redact.text(msg)
	if _, err := au.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(r.e.Settings.TopicARN), Subject: aws.String(r.redact.text(subject)), Message: aws.String(msg)}); err != nil {
		lg.ErrorContext(ctx, "notification not sent", "error", errText(err), "topic", r.e.Settings.TopicARN)
	}
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// prune marshals an SDK input and drops null and empty members, so the
// audit shows the call as it is sent.
func prune(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T", v)
	}
	var t any
	if json.Unmarshal(b, &t) != nil {
		return string(b)
	}
	return pruneTree(t)
}

func pruneTree(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := pruneTree(e)
			if p == nil {
				delete(x, k)
				continue
			}
			if m, ok := p.(map[string]any); ok && len(m) == 0 {
				delete(x, k)
				continue
			}
			if l, ok := p.([]any); ok && len(l) == 0 {
				delete(x, k)
				continue
			}
			if s, ok := p.(string); ok && s == "" {
				delete(x, k)
				continue
			}
			x[k] = p
		}
		return x
	case []any:
		for i := range x {
			x[i] = pruneTree(x[i])
		}
		return x
	}
	return v
}

// redactor removes runtime property values from everything the audit
// writes: properties may hold credentials (KDA.DP.5), and no record may
// carry one. Rules never put values in messages; this is the second fence.
//
// It never cuts into the identifiers an audit record must show: the
// application's name and ARN, its Region and account, and the resources
// the fixes act on (their target and arguments). A property that merely
// equals one of them (aws.region=us-east-1, the application's own name) is
// no secret; every other occurrence of a property value is still redacted,
// and so is one that extends beyond such an identifier.
type redactor struct {
	values []string
	keep   []string
}

// minSecret is the shortest value redacted: shorter ones ("true", "1")
// would blank ordinary words and cannot be credentials.
const minSecret = 6

func (r *redactor) add(app *model.Application) {
	if app == nil {
		return
	}
	r.protect(app.Name, app.ARN, app.Region, app.Account)
	groups, _ := app.Properties.Get()
	for _, g := range groups {
		for _, v := range g.Properties {
			if len(v) < minSecret {
				continue
			}
			r.values = appendVariants(r.values, v)
		}
	}
}

// protect marks identifiers the audit must show as they are.
func (r *redactor) protect(vs ...string) {
	for _, v := range vs {
		if v != "" {
			r.keep = appendVariants(r.keep, v)
		}
	}
}

// appendVariants adds v and its JSON-escaped form (as it appears inside a
// marshalled record), each once.
func appendVariants(list []string, v string) []string {
	if !slices.Contains(list, v) {
		list = append(list, v)
	}
	if b, err := json.Marshal(v); err == nil {
		if esc := string(b[1 : len(b)-1]); esc != v && !slices.Contains(list, esc) {
			list = append(list, esc)
		}
	}
	return list
}

const redacted = "[REDACTED]"

// spans are the byte ranges of every occurrence (overlapping ones too) of
// the values in s.
func spans(s string, values []string) [][2]int {
	var out [][2]int
	for _, v := range values {
		for i := 0; i < len(s); {
			j := strings.Index(s[i:], v)
			if j < 0 {
				break
			}
			out = append(out, [2]int{i + j, i + j + len(v)})
			i += j + 1
		}
	}
	return out
}

func (r *redactor) text(s string) string {
	secrets := spans(s, r.values)
	if len(secrets) == 0 {
		return s
	}
	kept := spans(s, r.keep)
	// An occurrence wholly inside a protected identifier is that
	// identifier, not a leak; any other is redacted.
	secrets = slices.DeleteFunc(secrets, func(sp [2]int) bool {
		return slices.ContainsFunc(kept, func(k [2]int) bool { return k[0] <= sp[0] && sp[1] <= k[1] })
	})
	if len(secrets) == 0 {
		return s
	}
	// Overlapping occurrences become one redacted span: no part of either
	// value is left over.
	slices.SortFunc(secrets, func(a, b [2]int) int { return a[0] - b[0] })
	var b strings.Builder
	pos := 0
	for i := 0; i < len(secrets); {
		start, end := secrets[i][0], secrets[i][1]
		for i++; i < len(secrets) && secrets[i][0] < end; i++ {
			end = max(end, secrets[i][1])
		}
		b.WriteString(s[pos:start])
		b.WriteString(redacted)
		pos = end
	}
	b.WriteString(s[pos:])
	return b.String()
}

func (r *redactor) json(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(fmt.Sprint(v))
	}
	s := r.text(string(b))
	if !json.Valid([]byte(s)) {
		b, _ = json.Marshal(redacted)
		return b
	}
	return json.RawMessage(s)
}
