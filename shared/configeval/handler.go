// Package configeval is the AWS Config custom rule evaluator behind
// functions/configrule: one Lambda function serves one Config rule per
// catalog rule, named by "ruleId" in the rule's ruleParameters.
//
// The invoking event gives identity only (which application, which account);
// the state is always read live through the collector, never taken from the
// configuration item, whose shape differs from the API's. Results go back
// with PutEvaluations in batches of at most 100:
//
//   - COMPLIANT, NON_COMPLIANT and NOT_APPLICABLE as the rule says;
//   - UNKNOWN (a fact that could not be read) as NON_COMPLIANT with an
//     annotation starting "could not verify:" and the reason: never COMPLIANT;
//   - an application exempt by tag as NOT_APPLICABLE naming the tag;
//   - deleted resources, resources that left the rule's scope, applications
//     that no longer exist, and (in a scheduled run) applications reported
//     before that have disappeared since, as NOT_APPLICABLE;
//   - a rule whose mode is "off" (KDAGUARD_MODE / KDAGUARD_RULE_MODES) is not
//     evaluated and nothing about the application is read: every resource it
//     is invoked for is reported NOT_APPLICABLE "rule ... is off", so that
//     the Config console shows the rule switched off rather than a stale
//     verdict.
//
// Account-level rules (Scope account) report one evaluation against
// AWS::::Account with the account id, whatever the trigger.
//
// An invocation that cannot report (a bad event or ruleParameters, a listing
// that fails, PutEvaluations failing after the SDK's retries) returns an
// error so that Lambda retries it and the failure shows in the function's
// errors.
package configeval

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cfgtypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
	"github.com/aws/smithy-go"

	"github.com/kdaguard/kdaguard/shared/collect"
	"github.com/kdaguard/kdaguard/shared/rules"
	"github.com/kdaguard/kdaguard/shared/settings"
)

// Compliance types AWS Config accepts from a custom rule.
const (
	Compliant     = "COMPLIANT"
	NonCompliant  = "NON_COMPLIANT"
	NotApplicable = "NOT_APPLICABLE"
)

// MaxBatch is PutEvaluations' limit of evaluations per call.
const MaxBatch = 100

// MaxAnnotation is the annotation limit of an evaluation.
const MaxAnnotation = 256

// TestModeToken is the result token of a test invocation.
const TestModeToken = "TESTMODE"

// CouldNotVerify starts the annotation of an UNKNOWN result.
const CouldNotVerify = "could not verify: "

// DefaultConcurrency is how many applications a scheduled run evaluates at
// once when Handler.Concurrency is 0. API calls are bounded separately by
// the collector's session.
const DefaultConcurrency = 8

// Handler handles AWS Config custom rule invocations.
type Handler struct {
	Clients  *collect.Clients
	Settings settings.Settings
	// Now is the rules' clock (default time.Now).
	Now func() time.Time
	// Logger gets JSON lines: one per application and one per batch
	// (default slog.Default()).
	Logger *slog.Logger
	// Concurrency bounds the applications evaluated at once in a scheduled
	// run (default DefaultConcurrency).
	Concurrency int
}

// evaluation is one result to report.
type evaluation struct {
	ResourceType string
	ResourceID   string
	Compliance   string
	Annotation   string
	At           time.Time
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// run is one invocation's context.
type run struct {
	h       *Handler
	ev      events.ConfigEvent
	ie      *invokingEvent
	rc      *RuleConfig
	now     time.Time
	at      time.Time // ordering timestamp
	account string
	off     bool
	sess    *collect.Session
	log     *slog.Logger
}

// Handle evaluates the rule named by the event's ruleParameters and reports
// the results to AWS Config.
func (h *Handler) Handle(ctx context.Context, ev events.ConfigEvent) error {
	lg := h.log().With("configRule", ev.ConfigRuleName)
	ie, rc, err := decodeEvent(ev)
	if err != nil {
		lg.ErrorContext(ctx, "invalid Config rule event", "error", err.Error())
		return err
	}
	if h.Clients == nil || h.Clients.Config == nil {
		return errors.New("configeval: Handler.Clients is not set")
	}
	now := h.now()
	r := &run{h: h, ev: ev, ie: ie, rc: rc, now: now, at: ie.orderingTime(now),
		account: firstNonEmpty(ev.AccountID, ie.AWSAccountID),
		off:     h.Settings.ModeFor(rc.Rule.ID) == settings.ModeOff,
		log:     lg.With("rule", rc.Rule.ID, "messageType", ie.MessageType),
	}
	if it := ie.item(); it != nil && r.account == "" {
		r.account = it.AWSAccountID
	}
	r.sess = collect.NewSession(h.Clients, collect.Options{Logger: r.log})

	var evals []evaluation
	var evalErr error
	switch {
	case rc.Rule.Scope == rules.ScopeAccount:
		if r.account == "" {
			return errors.New("event names no account (accountId): cannot report an account-level rule")
		}
		evals = []evaluation{r.evaluateAccount(ctx)}
	case ie.MessageType == MsgScheduled:
		evals, evalErr = r.scheduled(ctx)
		if evals == nil && evalErr != nil {
			r.log.ErrorContext(ctx, "scheduled evaluation failed", "error", evalErr.Error())
			return evalErr
		}
	default:
		evals = []evaluation{r.change(ctx)}
	}
	putErr := r.put(ctx, evals)
	if err := errors.Join(evalErr, putErr); err != nil {
		r.log.ErrorContext(ctx, "invocation failed", "error", err.Error())
		return err
	}
	return nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (r *run) offNote() string {
	return "rule " + r.rc.Rule.ID + " is off (KDAGUARD_MODE / KDAGUARD_RULE_MODES): not evaluated"
}

// change handles a (possibly oversized) configuration item change.
func (r *run) change(ctx context.Context) evaluation {
	it := r.ie.item()
	id := it.id()
	na := func(why string) evaluation {
		return r.logged(ctx, evaluation{ResourceType: it.ResourceType, ResourceID: id, Compliance: NotApplicable, Annotation: why, At: r.at})
	}
	switch {
	case it.ResourceType != rules.ResourceType:
		return na("resource type " + it.ResourceType + " is not evaluated by " + r.rc.Rule.ID)
	case r.ev.EventLeftScope:
		return na("the resource left the rule's scope")
	case it.deleted():
		return na("the application was deleted (" + it.ConfigurationItemStatus + ")")
	case r.off:
		return na(r.offNote())
	}
	return r.logged(ctx, r.evaluateApp(ctx, id))
}

// scheduled evaluates every application in the Region and clears the
// results of those that disappeared. It returns the evaluations it could
// make even when a step fails, with the error.
func (r *run) scheduled(ctx context.Context) ([]evaluation, error) {
	apps, err := r.sess.ListApplications(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(apps))
	for _, a := range apps {
		if n := aws.ToString(a.ApplicationName); n != "" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	evals := make([]evaluation, len(names))
	if r.off {
		for i, n := range names {
			evals[i] = r.logged(ctx, evaluation{ResourceType: rules.ResourceType, ResourceID: n, Compliance: NotApplicable, Annotation: r.offNote(), At: r.at})
		}
	} else {
		workers := r.h.Concurrency
		if workers <= 0 {
			workers = DefaultConcurrency
		}
		sem := make(chan struct{}, workers)
		var wg sync.WaitGroup
		for i, n := range names {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				evals[i] = r.logged(ctx, r.evaluateApp(ctx, n))
			}()
		}
		wg.Wait()
	}

	gone, err := r.vanished(ctx, names)
	for _, id := range gone {
		evals = append(evals, r.logged(ctx, evaluation{ResourceType: rules.ResourceType, ResourceID: id, Compliance: NotApplicable,
			Annotation: "the application no longer exists", At: r.at}))
	}
	if err != nil {
		err = fmt.Errorf("applications that disappeared could not be cleared: %w", err)
	}
	return evals, err
}

// vanished returns the applications the rule has a COMPLIANT or
// NON_COMPLIANT result for that are not in names.
func (r *run) vanished(ctx context.Context, names []string) ([]string, error) {
	if r.ev.ConfigRuleName == "" {
		r.log.WarnContext(ctx, "event names no configRuleName: results of deleted applications are not cleared")
		return nil, nil
	}
	live := make(map[string]bool, len(names))
	for _, n := range names {
		live[n] = true
	}
	var gone []string
	p := configservice.NewGetComplianceDetailsByConfigRulePaginator(r.h.Clients.Config, &configservice.GetComplianceDetailsByConfigRuleInput{
		ConfigRuleName:  aws.String(r.ev.ConfigRuleName),
		ComplianceTypes: []cfgtypes.ComplianceType{cfgtypes.ComplianceTypeCompliant, cfgtypes.ComplianceTypeNonCompliant},
		Limit:           100,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			var ae smithy.APIError
			if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchConfigRuleException" {
				// A test invocation of a rule that does not exist (yet): nothing was reported before.
				r.log.WarnContext(ctx, "config rule not found: no earlier results to clear")
				return gone, nil
			}
			return gone, fmt.Errorf("config:GetComplianceDetailsByConfigRule %s: %w", r.ev.ConfigRuleName, err)
		}
		for _, er := range page.EvaluationResults {
			if er.EvaluationResultIdentifier == nil || er.EvaluationResultIdentifier.EvaluationResultQualifier == nil {
				continue
			}
			q := er.EvaluationResultIdentifier.EvaluationResultQualifier
			id := aws.ToString(q.ResourceId)
			if aws.ToString(q.ResourceType) != rules.ResourceType || id == "" || live[id] {
				continue
			}
			live[id] = true // once, even if listed twice
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	return gone, nil
}

// evaluateApp reads one application live and judges it.
func (r *run) evaluateApp(ctx context.Context, name string) evaluation {
	ev := evaluation{ResourceType: rules.ResourceType, ResourceID: name, At: r.at}
	rule := r.rc.Rule
	app, err := r.sess.Application(ctx, name, rules.Needs([]*rules.Rule{rule}))
	switch {
	case errors.Is(err, collect.ErrNotFound):
		ev.Compliance, ev.Annotation = NotApplicable, "the application no longer exists"
		return ev
	case err != nil:
		ev.Compliance, ev.Annotation = NonCompliant, CouldNotVerify+err.Error()
		return ev
	}
	var note string
	if tags, ok := app.Tags.Get(); ok {
		exempt, why := r.h.Settings.Exemption(tags, rule.ID, r.now)
		if exempt {
			ev.Compliance, ev.Annotation = NotApplicable, why
			return ev
		}
		note = why // a lapsed or malformed exemption: said beside the result
	}
	f := r.rc.Selection.Evaluate(app, r.now)[0]
	ev.Compliance, ev.Annotation = complianceOf(f.Result)
	if !app.Tags.Known() && ev.Compliance == NonCompliant {
		// The remediator changes nothing in this case; Config says why the
		// result may not stand.
		note = "exemption tag could not be read: " + app.Tags.Reason()
	}
	if note != "" {
		ev.Annotation = joinNote(ev.Annotation, note)
	}
	return ev
}

// joinNote adds a note after a result's message; the message, which says
// what is wrong, keeps priority when the annotation has to be cut.
func joinNote(msg, note string) string {
	if msg == "" {
		return note
	}
	return msg + " (" + note + ")"
}

// complianceOf maps a rule result to what Config accepts.
func complianceOf(res rules.Result) (compliance, annotation string) {
	switch res.Status {
	case rules.Compliant:
		return Compliant, res.Message
	case rules.NonCompliant:
		return NonCompliant, res.Message
	case rules.NotApplicable:
		return NotApplicable, res.Message
	}
	// UNKNOWN, or anything unexpected: never COMPLIANT.
	msg := res.Message
	if msg == "" {
		msg = "the rule returned " + string(res.Status) + " without a reason"
	}
	return NonCompliant, CouldNotVerify + msg
}

// evaluateAccount judges an account-level rule once for the account.
func (r *run) evaluateAccount(ctx context.Context) evaluation {
	ev := evaluation{ResourceType: AccountResourceType, ResourceID: r.account, At: r.at}
	if r.off {
		ev.Compliance, ev.Annotation = NotApplicable, r.offNote()
		return r.logged(ctx, ev)
	}
	app, err := r.sess.Account(ctx, r.account, rules.Needs([]*rules.Rule{r.rc.Rule}))
	if err != nil {
		ev.Compliance, ev.Annotation = NonCompliant, CouldNotVerify+err.Error()
		return r.logged(ctx, ev)
	}
	f := r.rc.Selection.Evaluate(app, r.now)[0]
	ev.Compliance, ev.Annotation = complianceOf(f.Result)
	return r.logged(ctx, ev)
}

// logged finishes an evaluation (annotation within bounds) and logs it.
func (r *run) logged(ctx context.Context, ev evaluation) evaluation {
	ev.Annotation = rules.Clip(ev.Annotation)
	r.log.InfoContext(ctx, "evaluation", "resourceType", ev.ResourceType, "application", ev.ResourceID,
		"status", ev.Compliance, "annotation", ev.Annotation)
	return ev
}
