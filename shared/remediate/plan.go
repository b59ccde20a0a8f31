package remediate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
	"github.com/kdaguard/kdaguard/shared/settings"
)

const (
	ruleLogging    = "KDA.MON.1"
	callUpdate     = "kinesisanalyticsv2:UpdateApplication"
	callAddLogging = "kinesisanalyticsv2:AddApplicationCloudWatchLoggingOption"
	statusRunning  = "RUNNING"
	statusReady    = "READY"
	statusDeleting = "DELETING"
)

// plan is one round's writes for one application.
type plan struct {
	update  []pending // merged into one UpdateApplication
	merged  rules.AppUpdate
	logging *pending // MON.1, after the update with the new token
	others  []pending
	busy    string // transitional status that blocks the application's own calls
	// planned and deferred are recorded with their exact calls by
	// describe, for the final round only.
	planned, deferred []pending
}

func (p *plan) writes() []pending {
	out := slices.Clone(p.update)
	if p.logging != nil {
		out = append(out, *p.logging)
	}
	return append(out, p.others...)
}

func (p *plan) empty() bool { return len(p.update) == 0 && p.logging == nil && len(p.others) == 0 }

// plan judges the findings: exempt rules are skipped, non-compliant
// conditions without a fix reported, fixes the settings do not allow
// planned (with their exact call), and the rest returned as writes.
func (e *Executor) plan(ctx context.Context, app *model.Application, findings []rules.Finding, rec *recorder) *plan {
	tags, tagsKnown := app.Tags.Get()
	now := e.now()
	status := app.Status.Value()
	p := &plan{}
	var planned, deferred []pending
	// The resources the fixes act on are named in the audit as they are,
	// even when a runtime property happens to hold the same value.
	for _, f := range findings {
		for _, fx := range f.Fixes {
			rec.redact.protect(fx.Target)
			for _, v := range fx.Args {
				rec.redact.protect(v)
			}
		}
	}
	for _, f := range findings {
		if f.Status != rules.NonCompliant {
			continue
		}
		before := Before{Status: f.Status, Failed: f.Failed, Message: f.Message}
		exempt, why := e.Settings.Exemption(tags, f.Rule.ID, now)
		if !tagsKnown {
			exempt, why = true, "tags could not be read ("+app.Tags.Reason()+"): an exemption cannot be ruled out, nothing is changed"
		}
		if exempt {
			rec.action(pending{fix: rules.Fix{Rule: f.Rule.ID, Call: f.Rule.Remediation.Call, Target: app.Name}, before: before}, Skipped, why, nil)
			continue
		}
		note := ""
		if why != "" {
			note = " (" + why + ")"
		}
		var fixed []string
		for _, fx := range f.Fixes {
			fixed = append(fixed, fx.Condition)
		}
		var unfixable []string
		for _, c := range f.Failed {
			if !slices.Contains(fixed, c) {
				unfixable = append(unfixable, c)
			}
		}
		if len(unfixable) > 0 {
			rec.action(pending{fix: rules.Fix{Rule: f.Rule.ID, Condition: strings.Join(unfixable, ","), Target: app.Name}, before: before},
				Reported, "no automatic remediation for "+strings.Join(unfixable, ", ")+": report only"+note, nil)
		}
		for _, fx := range f.Fixes {
			pd := pending{fix: fx, before: before}
			if !e.Settings.MayFix(f.Rule.ID, fx.Kind) {
				pd.input = nil
				planned = append(planned, pd)
				continue
			}
			kdaCall := fx.Update != nil || fx.Rule == ruleLogging
			switch {
			case kdaCall && status == statusDeleting:
				rec.action(pd, Skipped, "the application is being deleted", nil)
			case kdaCall && status != statusReady && status != statusRunning:
				p.busy = status
				rec.action(pd, Skipped, "the application is "+status+": its configuration cannot change now; retried later", nil)
			case kdaCall && status == statusRunning && e.Settings.RestartPolicy == settings.RestartDefer:
				deferred = append(deferred, pd)
			case fx.Update != nil:
				p.update = append(p.update, pd)
				p.merged.Merge(*fx.Update)
			case fx.Rule == ruleLogging:
				p.logging = &pd
			default:
				p.others = append(p.others, pd)
			}
		}
	}
	p.planned, p.deferred = planned, deferred
	// The inputs of the writes.
	if len(p.update) > 0 {
		in := updateInput(app, p.merged)
		for i := range p.update {
			p.update[i].input = in
		}
	}
	if p.logging != nil {
		in, problem := e.loggingInput(app, p.logging.fix, len(p.update) > 0)
		if problem != "" {
			rec.notice(*p.logging, Skipped, problem+": reported instead of half-fixing")
			p.logging = nil
		} else {
			p.logging.input = in
		}
	}
	kept := p.others[:0]
	for _, o := range p.others {
		in, err := e.otherInput(ctx, app, o.fix)
		if err != nil {
			rec.action(o, Failed, "cannot compute the call: "+err.Error(), nil)
			rec.fail(fmt.Errorf("%s %s: %w", app.Name, o.fix.Rule, err))
			continue
		}
		o.input = in
		kept = append(kept, named(o))
	}
	p.others = kept
	return p
}

// describe records what the plan only reports: the exact calls for what is
// planned or deferred (the merged update of their UpdateApplication fixes,
// and each other call on its own). It runs for the final round only: the
// calls may need reads of their own (IAM.2 reads the trust policy).
func (e *Executor) describe(ctx context.Context, app *model.Application, p *plan, rec *recorder) {
	e.describePlanned(ctx, app, p.planned, rec, Planned, func(pd pending) string {
		if pd.fix.Kind == rules.RemediationOptIn {
			return "opt-in remediation: applied only when the rule's own mode is remediate (KDAGUARD_RULE_MODES=" + pd.fix.Rule + "=remediate)"
		}
		return "mode " + string(e.Settings.ModeFor(pd.fix.Rule)) + ": the call is computed and not made"
	})
	e.describePlanned(ctx, app, p.deferred, rec, Deferred, func(pending) string {
		return "the application is RUNNING and would restart; restart policy is defer (KDAGUARD_RESTART_POLICY=allow to apply)"
	})
}

// describePlanned computes each fix's exact call and records it.
func (e *Executor) describePlanned(ctx context.Context, app *model.Application, ps []pending, rec *recorder, outcome string, why func(pending) string) {
	var merged rules.AppUpdate
	var hasUpdate bool
	for _, pd := range ps {
		if pd.fix.Update != nil {
			merged.Merge(*pd.fix.Update)
			hasUpdate = true
		}
	}
	for _, pd := range ps {
		reason := why(pd)
		switch {
		case pd.fix.Update != nil:
			pd.input = updateInput(app, merged)
		case pd.fix.Rule == ruleLogging:
			in, problem := e.loggingInput(app, pd.fix, hasUpdate)
			if problem != "" {
				reason += "; it would be reported instead: " + problem
			}
			pd.input = in
		default:
			in, err := e.otherInput(ctx, app, pd.fix)
			if err != nil {
				reason += "; the exact call cannot be computed: " + err.Error()
			}
			pd.input = in
			pd = named(pd)
		}
		rec.action(pd, outcome, reason, nil)
	}
}

// updateInput is the one UpdateApplication for the merged fixes, guarded by
// the ConditionalToken (or the version id when the token is missing). Only
// the settings the fixes turn on are sent: nothing else of the application
// is touched, so another writer's change cannot be undone by it.
func updateInput(app *model.Application, u rules.AppUpdate) *kinesisanalyticsv2.UpdateApplicationInput {
	in := &kinesisanalyticsv2.UpdateApplicationInput{ApplicationName: aws.String(app.Name)}
	if app.ConditionalToken != "" {
		in.ConditionalToken = aws.String(app.ConditionalToken)
	} else {
		in.CurrentApplicationVersionId = aws.Int64(app.VersionID)
	}
	acu := &kt.ApplicationConfigurationUpdate{}
	flink := &kt.FlinkApplicationConfigurationUpdate{}
	if u.CheckpointingDefault {
		flink.CheckpointConfigurationUpdate = &kt.CheckpointConfigurationUpdate{ConfigurationTypeUpdate: kt.ConfigurationTypeDefault}
	}
	if u.LogLevel != "" {
		if app.IsStudio() {
			acu.ZeppelinApplicationConfigurationUpdate = &kt.ZeppelinApplicationConfigurationUpdate{
				MonitoringConfigurationUpdate: &kt.ZeppelinMonitoringConfigurationUpdate{LogLevelUpdate: kt.LogLevel(u.LogLevel)}}
		} else {
			m := app.Monitoring.Value()
			metrics := m.MetricsLevel
			if m.ConfigurationType != model.ConfigCustom || metrics == "" {
				metrics = string(kt.MetricsLevelApplication) // what DEFAULT means
			}
			flink.MonitoringConfigurationUpdate = &kt.MonitoringConfigurationUpdate{ConfigurationTypeUpdate: kt.ConfigurationTypeCustom,
				LogLevelUpdate: kt.LogLevel(u.LogLevel), MetricsLevelUpdate: kt.MetricsLevel(metrics)}
		}
	}
	if u.EnableAutoScaling {
		pc := app.Parallelism.Value()
		pu := &kt.ParallelismConfigurationUpdate{ConfigurationTypeUpdate: kt.ConfigurationTypeCustom, AutoScalingEnabledUpdate: aws.Bool(true)}
		if pc.Parallelism > 0 {
			pu.ParallelismUpdate = aws.Int32(pc.Parallelism)
		}
		if pc.PerKPU > 0 {
			pu.ParallelismPerKPUUpdate = aws.Int32(pc.PerKPU)
		}
		flink.ParallelismConfigurationUpdate = pu
	}
	if flink.CheckpointConfigurationUpdate != nil || flink.MonitoringConfigurationUpdate != nil || flink.ParallelismConfigurationUpdate != nil {
		acu.FlinkApplicationConfigurationUpdate = flink
	}
	if u.EnableSnapshots {
		acu.ApplicationSnapshotConfigurationUpdate = &kt.ApplicationSnapshotConfigurationUpdate{SnapshotsEnabledUpdate: aws.Bool(true)}
	}
	if u.EnableRollback {
		acu.ApplicationSystemRollbackConfigurationUpdate = &kt.ApplicationSystemRollbackConfigurationUpdate{RollbackEnabledUpdate: aws.Bool(true)}
	}
	in.ApplicationConfigurationUpdate = acu
	return in
}
