package remediate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kdaguard/kdaguard/shared/collect"
	"github.com/kdaguard/kdaguard/shared/trigger"
)

// Handler is the remediator's Lambda handler: decode the event to an
// identity, ignore on purpose what must be ignored, converge the rest.
type Handler struct {
	Exec *Executor
	// Self identifies the remediator's own calls (never remediated again).
	Self trigger.Self
	// Account and Region this remediator serves; an event for another one
	// is ignored (its name would denote another application here). Empty
	// means not checked.
	Account, Region string
	// List lists the applications of the Region for a sweep (default: collect).
	List func(ctx context.Context) ([]string, error)
}

// Handle processes one EventBridge event. It returns an error for an event
// it cannot decode and for a failure that persists after retries, so that
// Lambda's retries and the dead-letter queue apply; events ignored on
// purpose succeed.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) error {
	lg := h.Exec.logger()
	t, err := trigger.Decode(raw, h.Self)
	if err != nil {
		lg.ErrorContext(ctx, "event not decodable", "error", err.Error())
		return err
	}
	switch {
	case t.Kind == trigger.KindIgnore:
		lg.InfoContext(ctx, "event ignored", "reason", t.Reason, "eventId", t.EventID)
		return nil
	case h.Account != "" && t.Account != "" && t.Account != h.Account, h.Region != "" && t.Region != "" && t.Region != h.Region:
		lg.WarnContext(ctx, "event ignored: another account or Region", "eventAccount", t.Account, "eventRegion", t.Region,
			"account", h.Account, "region", h.Region, "eventId", t.EventID)
		return nil
	case t.Kind == trigger.KindSweep:
		names, err := h.list(ctx)
		if err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		lg.InfoContext(ctx, "sweep", "applications", len(names), "maxChanges", h.Exec.Settings.MaxChanges, "eventId", t.EventID)
		_, err = h.Exec.Sweep(ctx, names)
		return err
	}
	lg.InfoContext(ctx, "converge", "application", t.Application, "account", t.Account, "region", t.Region, "cause", t.Cause, "eventId", t.EventID)
	out, err := h.Exec.Converge(ctx, t.Application)
	lg.InfoContext(ctx, "converged", "application", t.Application, "gone", out.Gone, "changed", out.Changed, "outcomes", out.Counts(), "error", errString(err))
	return err
}

func (h *Handler) list(ctx context.Context) ([]string, error) {
	if h.List != nil {
		return h.List(ctx)
	}
	if h.Exec.Clients == nil {
		return nil, errors.New("no AWS clients")
	}
	sums, err := collect.NewSession(h.Exec.Clients, collect.Options{Logger: h.Exec.Logger}).ListApplications(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(sums))
	for _, s := range sums {
		if s.ApplicationName != nil {
			names = append(names, *s.ApplicationName)
		}
	}
	return names, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
