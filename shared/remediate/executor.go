// Package remediate converges one application at a time: read the live state
// (collect), judge it (rules), plan one merged UpdateApplication plus the
// other calls, act guarded by the version token and limited by modes,
// exemptions, the restart policy and the blast radius, then re-read and
// re-evaluate before calling anything a success. Every action leaves an
// audit record (a JSON log line, an EventBridge event and, for changes,
// deferrals and failures, an SNS notification).
package remediate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kdaguard/kdaguard/shared/collect"
	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
	"github.com/kdaguard/kdaguard/shared/settings"
)

// MaxAttempts bounds read-evaluate-plan-act rounds on ConcurrentModificationException.
const MaxAttempts = 3

// Outcomes of an action.
const (
	Planned  = "planned"  // computed, not made (report mode, opt-in rule not enabled, blast radius)
	Applied  = "applied"  // the call succeeded; verification follows
	Verified = "verified" // re-read and re-evaluated: the targeted condition holds
	Failed   = "failed"   // the call failed, or the condition still fails after it
	Deferred = "deferred" // a RUNNING application would restart: restart policy defer
	Skipped  = "skipped"  // exempt by tag, or nothing can be done safely
	Reported = "reported" // non-compliant with no automatic remediation: report only
)

// ErrBusy is returned when the application is in a transitional status
// (UPDATING, STARTING, ...): a later retry can converge it.
var ErrBusy = errors.New("application is busy")

// Executor converges applications. Clients, Settings and Audit are set by
// the caller; the zero values of the rest are usable.
type Executor struct {
	Clients  *collect.Clients
	Settings settings.Settings
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives the audit log lines (default JSON to stdout).
	Logger *slog.Logger
	// Audit sends audit events and notifications; nil logs only.
	Audit *Audit
	// Params are rule parameter overrides (rule id -> name -> value).
	Params map[string]map[string]string
	// Load reads an application with a new collect session each time
	// (default); tests may replace it.
	Load func(ctx context.Context, name string, needs []model.Facet) (*model.Application, error)
	// VerifyPatience bounds how long verification keeps re-reading while an
	// asynchronous fix (a snapshot being created, a stream being encrypted)
	// has not shown yet (default 30 s; re-reads back off from 1 s).
	VerifyPatience time.Duration

	initOnce sync.Once
	initErr  error
	sel      *rules.Selection
	needs    []model.Facet
	locks    sync.Map // application name -> *sync.Mutex
}

// Outcome of converging one application.
type Outcome struct {
	Application string
	Account     string
	Region      string
	// Gone is true when the application does not exist (deleted).
	Gone bool
	// Changed is true when at least one write was made.
	Changed bool
	Actions []Action
}

// Counts tallies actions by outcome.
func (o Outcome) Counts() map[string]int {
	m := map[string]int{}
	for _, a := range o.Actions {
		m[a.Outcome]++
	}
	return m
}

func (e *Executor) init() error {
	e.initOnce.Do(func() {
		var rs []*rules.Rule
		for _, r := range rules.All() {
			if r.Scope != rules.ScopeApplication {
				continue // account-level rules have nothing to fix on an application
			}
			if e.Settings.ModeFor(r.ID) == settings.ModeOff {
				continue
			}
			rs = append(rs, r)
		}
		params := map[string]map[string]string{}
		for id, p := range e.Params {
			params[id] = p
		}
		sel, err := rules.Select(rs, params)
		if err != nil {
			e.initErr = fmt.Errorf("rule parameters: %w", err)
			return
		}
		e.sel = sel
		e.needs = rules.Needs(rs)
		// MON.1's fix checks the role's logs:PutLogEvents before acting.
		if slices.ContainsFunc(rs, func(r *rules.Rule) bool { return r.ID == ruleLogging }) && !slices.Contains(e.needs, model.FacetRole) {
			e.needs = append(e.needs, model.FacetRole)
		}
	})
	return e.initErr
}

func (e *Executor) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Executor) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.New(slog.NewJSONHandler(os.Stdout, nil))
}

func (e *Executor) load(ctx context.Context, name string) (*model.Application, error) {
	if e.Load != nil {
		return e.Load(ctx, name, e.needs)
	}
	if e.Clients == nil {
		return nil, errors.New("remediate: no AWS clients")
	}
	// A new session every time: a session is a snapshot, and a re-read
	// after a change must see the change.
	return collect.NewSession(e.Clients, collect.Options{Logger: e.Logger}).Application(ctx, name, e.needs)
}

func (e *Executor) lock(name string) func() {
	m, _ := e.locks.LoadOrStore(name, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// Converge reads the application, evaluates every rule whose mode is not
// off, and applies the fixes the settings allow. The event path has no
// blast-radius limit of its own (it touches one application; the
// remediator's reserved concurrency bounds it). It returns an error when a
// fix failed (after the SDK's retries and MaxAttempts rounds), so that
// Lambda retries the event; an application that no longer exists is not an
// error.
func (e *Executor) Converge(ctx context.Context, name string) (Outcome, error) {
	return e.converge(ctx, name, func() bool { return true })
}

// Sweep converges the named applications, changing at most
// Settings.MaxChanges of them; the rest are reported (planned) only. It
// returns every outcome and the errors joined.
func (e *Executor) Sweep(ctx context.Context, names []string) ([]Outcome, error) {
	var changed atomic.Int64
	max := int64(e.Settings.MaxChanges)
	budget := func() bool {
		for {
			n := changed.Load()
			if n >= max {
				return false
			}
			if changed.CompareAndSwap(n, n+1) {
				return true
			}
		}
	}
	out := make([]Outcome, len(names))
	errs := make([]error, len(names))
	// A bounded number of applications at a time: each one's reads are
	// already concurrent, and the account's API rate is shared.
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = e.converge(ctx, n, budget)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// pending is a fix on its way through one round.
type pending struct {
	fix    rules.Fix
	before Before
	// input is the exact API call (set when planned).
	input any
}

// Before is a rule's state before a fix: what the audit shows.
type Before struct {
	Status  rules.Status `json:"status"`
	Failed  []string     `json:"failed,omitempty"`
	Message string       `json:"message,omitempty"`
}

func (e *Executor) converge(ctx context.Context, name string, budget func() bool) (Outcome, error) {
	if err := e.init(); err != nil {
		return Outcome{Application: name}, err
	}
	defer e.lock(name)()
	rec := &recorder{e: e, ctx: ctx}
	defer rec.flush()
	out := Outcome{Application: name}
	var applied []Action // writes that succeeded, to verify
	var failures []error // failed writes
	var budgetAsked, allowed bool
	busy := false // ErrBusy is among the failures (once)
	addBusy := func(err error) {
		if err != nil && !busy {
			busy = true
			failures = append(failures, err)
		}
	}
	for attempt := 1; ; attempt++ {
		app, err := e.load(ctx, name)
		if errors.Is(err, collect.ErrNotFound) {
			out.Gone = true
			e.logger().InfoContext(ctx, "application not found: nothing to converge", "application", name)
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read %s: %w", name, err)
		}
		out.Account, out.Region = app.Account, app.Region
		rec.app = app
		rec.redact.add(app)
		now := e.now()
		// The plan's own records are held back: a round that ends in a
		// conflict is planned again, and only the final round's plan is
		// recorded, each record once.
		rec.stage()
		plan := e.plan(ctx, app, e.sel.Evaluate(app, now), rec)
		rec.hold() // the writes' own records are made as they happen
		final := func() {
			rec.commit()
			e.describe(ctx, app, plan, rec)
			if plan.busy != "" {
				// On any attempt: a re-read after a conflict may find the
				// application busy, and its fixes are then "retried later".
				addBusy(fmt.Errorf("%w: %s is %s", ErrBusy, name, plan.busy))
			}
		}
		if plan.empty() {
			final()
			break
		}
		if !budgetAsked {
			budgetAsked, allowed = true, budget()
		}
		if !allowed {
			final()
			for _, p := range plan.writes() {
				rec.action(p, Planned, "blast radius: at most "+fmt.Sprint(e.Settings.MaxChanges)+" applications are changed per run; this one is reported only", nil)
			}
			break
		}
		conflict, errs, done, busyErr := e.execute(ctx, app, plan, rec)
		applied = append(applied, done...)
		failures = append(failures, errs...)
		addBusy(busyErr)
		if len(done) > 0 {
			out.Changed = true
		}
		if conflict == nil {
			final()
			break
		}
		if attempt >= MaxAttempts {
			final()
			for _, p := range conflict {
				rec.action(p, Failed, fmt.Sprintf("ConcurrentModificationException on %d attempts: another writer keeps changing the application; nothing of theirs was overwritten", MaxAttempts), nil)
			}
			failures = append(failures, fmt.Errorf("%s: concurrent modification after %d attempts", name, MaxAttempts))
			break
		}
		rec.discard()
		e.logger().InfoContext(ctx, "concurrent modification: re-reading", "application", name, "attempt", attempt)
	}
	if len(applied) > 0 {
		if err := e.verify(ctx, name, applied, rec); err != nil {
			failures = append(failures, err)
		}
	}
	out.Actions = rec.actions
	failures = append(failures, rec.failed...)
	if err := errors.Join(failures...); err != nil {
		// The handler logs this error: it gets the audit's redaction too.
		return out, redactedError{msg: rec.redact.text(err.Error()), err: err}
	}
	return out, nil
}

// redactedError shows a redacted message and keeps the cause for errors.Is.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

// asyncCalls are fixes whose effect shows some time after the call
// returns: verification waits for them (within VerifyPatience) rather than
// call them failed while AWS is still working.
var asyncCalls = []string{"kinesisanalyticsv2:CreateApplicationSnapshot", "kinesis:StartStreamEncryption"}

// patience is VerifyPatience or its default.
func (e *Executor) patience() time.Duration {
	if e.VerifyPatience > 0 {
		return e.VerifyPatience
	}
	return 30 * time.Second
}

// verify re-reads (a new session), re-evaluates and reports each applied fix
// verified only when the condition it targets no longer fails.
func (e *Executor) verify(ctx context.Context, name string, applied []Action, rec *recorder) error {
	deadline := time.Now().Add(e.patience())
	wait := time.Second
	var byRule map[string]rules.Finding
	for {
		app, err := e.load(ctx, name)
		if err != nil {
			for _, a := range applied {
				rec.final(a, Failed, "could not verify: re-read failed: "+err.Error(), nil)
			}
			return fmt.Errorf("verify %s: %w", name, err)
		}
		rec.redact.add(app)
		byRule = map[string]rules.Finding{}
		for _, f := range e.sel.Evaluate(app, e.now()) {
			byRule[f.Rule.ID] = f
		}
		if !asyncPending(applied, byRule) || time.Now().Add(wait).After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		if ctx.Err() != nil {
			break
		}
		wait = min(2*wait, 8*time.Second)
	}
	var errs []error
	for _, a := range applied {
		f, ok := byRule[a.Rule]
		after := &Before{}
		if ok {
			after = &Before{Status: f.Status, Failed: f.Failed, Message: f.Message}
		}
		// Verified needs positive evidence: the rule passes, or the re-read
		// shows the targeted condition holding. A condition that is neither
		// failing nor shown holding was not read: not verified.
		switch {
		case !ok:
			rec.final(a, Failed, "could not verify: rule not evaluated", after)
			errs = append(errs, fmt.Errorf("%s %s: not verified", name, a.Rule))
		case slices.Contains(f.Failed, a.Condition):
			rec.final(a, Failed, "the call succeeded but condition "+a.Condition+" still fails after a re-read", after)
			errs = append(errs, fmt.Errorf("%s %s: condition %s still fails after the fix", name, a.Rule, a.Condition))
		case f.Status == rules.Compliant:
			rec.final(a, Verified, "condition "+a.Condition+" holds after a re-read", after)
		case slices.Contains(f.Held, a.Condition):
			reason := "condition " + a.Condition + " holds after a re-read"
			if len(f.Failed) > 0 {
				reason += "; the rule's other conditions still fail and stay reported: " + strings.Join(f.Failed, ", ")
			}
			if f.Status == rules.Unknown {
				reason += "; the rule's other facts could not be read: " + f.Message
			}
			rec.final(a, Verified, reason, after)
		default:
			rec.final(a, Failed, "could not verify condition "+a.Condition+": "+f.Message, after)
			errs = append(errs, fmt.Errorf("%s %s: could not verify condition %s: %s", name, a.Rule, a.Condition, f.Message))
		}
	}
	return errors.Join(errs...)
}

// asyncPending reports whether an asynchronous fix has not shown yet.
func asyncPending(applied []Action, byRule map[string]rules.Finding) bool {
	for _, a := range applied {
		if f, ok := byRule[a.Rule]; ok && slices.Contains(asyncCalls, a.Call) && slices.Contains(f.Failed, a.Condition) {
			return true
		}
	}
	return false
}
