package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"

	"github.com/kdaguard/kdaguard/shared/collect"
	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/remediate"
	"github.com/kdaguard/kdaguard/shared/report"
	"github.com/kdaguard/kdaguard/shared/rules"
	"github.com/kdaguard/kdaguard/shared/settings"
	"github.com/kdaguard/kdaguard/shared/source"
)

const scanSynopsis = "kdaguard scan [flags] [--app NAME ...] [--apply [--max-changes N]]"

// runScan evaluates the live applications of the account and Region of the
// default AWS configuration (profile, AWS_REGION, AWS_ENDPOINT_URL...). With
// --apply it converges them like the remediator, within the blast radius.
func runScan(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlags("scan", scanSynopsis, stdout)
	ef := addEvalFlags(fs, "table or json")
	var apps listFlag
	fs.Var(&apps, "app", "scan only these applications: NAME[,NAME...] (repeatable); default every application in the Region")
	apply := fs.Bool("apply", false, "apply the fixes the KDAGUARD_* settings allow (global mode remediate unless KDAGUARD_MODE says otherwise; opt-in rules need KDAGUARD_RULE_MODES)")
	maxChanges := fs.String("max-changes", "", "with --apply: change at most N applications, N >= 0 (default KDAGUARD_MAX_CHANGES, else 10)")
	pos, err := parse(fs, args)
	if err != nil {
		return exitError, err
	}
	if len(pos) > 0 {
		return exitError, usageError{fmt.Sprintf("scan: unexpected argument %q (use --app NAME)", pos[0])}
	}
	o, err := ef.options(nil)
	if err != nil {
		return exitError, err
	}
	if o.format == "sarif" {
		return exitError, usageError{"scan: --format sarif points at files: use check for templates, table or json here"}
	}
	set, err := settings.FromEnv()
	if err != nil {
		return exitError, err
	}
	if *apply && os.Getenv("KDAGUARD_MODE") == "" {
		set.Mode = settings.ModeRemediate
	}
	set.ExemptTag = o.exemptTag
	if *maxChanges != "" {
		n, err := strconv.Atoi(*maxChanges)
		if err != nil || n < 0 {
			return exitError, usageError{fmt.Sprintf("scan: --max-changes %q: want a whole number, 0 or more", *maxChanges)}
		}
		set.MaxChanges = n
	}
	if *apply && *ef.asOf != "" {
		// Fixes act on today's state and their audit records carry today's time.
		return exitError, usageError{"scan: --as-of cannot be used with --apply"}
	}
	if *maxChanges != "" && !*apply {
		return exitError, usageError{"scan: --max-changes needs --apply"}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// The SDK's own log lines (an IMDS fallback WARN) would break the
	// one-line error promise; failures come back as errors anyway.
	cfg, err := collect.Config(ctx, config.WithLogger(logging.Nop{}))
	if err != nil {
		return exitError, fmt.Errorf("AWS configuration: %w", err)
	}
	clients := collect.NewClients(cfg)
	session := collect.NewSession(clients, collect.Options{})
	names := []string(apps)
	if len(names) == 0 {
		list, err := session.ListApplications(ctx)
		if err != nil {
			return exitError, err // it says "list applications: ..." already
		}
		for _, a := range list {
			names = append(names, *a.ApplicationName)
		}
	}

	if *apply {
		// --param overrides KDAGUARD_RULE_PARAMETERS, rule by rule and name by name.
		params := map[string]map[string]string{}
		for _, src := range []map[string]map[string]string{set.RuleParameters, o.overrides} {
			for id, ps := range src {
				if params[id] == nil {
					params[id] = map[string]string{}
				}
				maps.Copy(params[id], ps)
			}
		}
		// --rule narrows what --apply may change, not only what is shown: the
		// rules left out are off for this run.
		set.RuleModes = maps.Clone(set.RuleModes)
		if set.RuleModes == nil {
			set.RuleModes = map[string]settings.Mode{}
		}
		for _, r := range rules.All() {
			if !slices.Contains(o.selection.Rules, r) {
				set.RuleModes[r.ID] = settings.ModeOff
			}
		}
		ex := &remediate.Executor{Clients: clients, Settings: set, Params: params,
			Logger: slog.New(slog.NewJSONHandler(stderr, nil))}
		outcomes, err := ex.Sweep(ctx, names)
		if werr := writeOutcomes(stdout, o.format, outcomes); werr != nil {
			return exitError, werr
		}
		if err != nil {
			fmt.Fprintf(stderr, "kdaguard: %s\n", source.OneLine(err.Error()))
			return exitFindings, nil
		}
		return exitOK, nil
	}

	var items []report.Item
	var all []*model.Application
	code := exitOK
	for _, name := range names {
		app, err := session.Application(ctx, name, rules.Needs(o.selection.Rules))
		if err != nil {
			return exitError, fmt.Errorf("read application %s: %w", name, err)
		}
		all = append(all, app)
		for _, f := range o.evaluate(app) {
			items = append(items, report.Item{App: app, Finding: f})
			if fails(f, o) {
				code = exitFindings
			}
		}
	}
	if len(names) == 0 {
		fmt.Fprintln(stderr, "kdaguard: scan: no application in this account and Region")
	}
	return code, writeFindings(stdout, items, all, o, code)
}

// writeOutcomes prints what --apply did, one line per action.
func writeOutcomes(w io.Writer, format string, outcomes []remediate.Outcome) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"outcomes": outcomes})
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OUTCOME\tRULE\tAPPLICATION\tCALL\tDETAIL")
	n := 0
	for _, o := range outcomes {
		for _, a := range o.Actions {
			n++
			detail := a.Summary
			if a.Reason != "" {
				detail += " (" + a.Reason + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Outcome, a.Rule, a.Application, a.Call, source.OneLine(detail))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d actions on %d applications\n", n, len(outcomes))
	return err
}
