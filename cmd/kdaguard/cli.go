package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/report"
	"github.com/kdaguard/kdaguard/shared/rules"
	"github.com/kdaguard/kdaguard/shared/settings"
	"github.com/kdaguard/kdaguard/shared/source"
)

// Exit codes.
const (
	exitOK       = 0
	exitFindings = 1
	exitError    = 2
)

// version is set at build time (-ldflags "-X main.version=v1.2.3"); else the
// module version from the build info, else "devel".
var version = ""

func kdaguardVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// now is the clock of check when --as-of is not given; tests replace it.
var now = time.Now

const usage = `kdaguard checks Amazon Managed Service for Apache Flink applications against
a catalog of security rules.

Usage:
  kdaguard rules [--format table|json|markdown]
  kdaguard check [flags] PATH...
  kdaguard scan [flags] [--app NAME ...] [--apply]
  kdaguard version

PATH is a CloudFormation template (JSON or YAML), a CDK cloud assembly folder
(cdk.out, read through its manifest.json), or the JSON output of
'aws kinesisanalyticsv2 describe-application'.

scan reads the live applications of the account and Region that the default
AWS configuration names (profile, AWS_REGION, AWS_ENDPOINT_URL); with --apply
it applies the fixes the KDAGUARD_* settings allow, like the remediator, and
changes at most --max-changes applications.

Run 'kdaguard check --help' or 'kdaguard scan --help' for their flags.

Exit codes (check, scan): 0 no NON_COMPLIANT finding at or above --fail-on; 1
there is one (UNKNOWN counts too with --strict), or a fix failed (scan --apply);
2 bad usage, or an input that cannot be read or parsed.
`

// usageError is bad usage: the message, then a hint, exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run is the whole CLI; main only wires it to the process. It never panics:
// a bug becomes a one-line internal error and exit code 2.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "kdaguard: internal error: %s\n", source.OneLine(fmt.Sprint(p)))
			code = exitError
		}
	}()
	if len(args) == 0 {
		io.WriteString(stderr, usage)
		return exitError
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "check":
		code, err = runCheck(rest, stdout, stderr)
	case "rules":
		code, err = runRules(rest, stdout, stderr)
	case "scan":
		code, err = runScan(rest, stdout, stderr)
	case "version", "--version", "-version", "-v":
		fmt.Fprintf(stdout, "kdaguard %s\n", kdaguardVersion())
		return exitOK
	case "help", "--help", "-help", "-h":
		io.WriteString(stdout, usage)
		return exitOK
	default:
		err = usageError{fmt.Sprintf("unknown command %q (want check, scan, rules or version)", cmd)}
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "kdaguard: %s\n", source.OneLine(err.Error()))
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(stderr, "Run 'kdaguard --help' for usage.")
		}
		return exitError
	}
	return code
}

// flags is a subcommand's flag set. Errors are returned to the caller rather
// than printed; --help prints the synopsis and flags on stdout.
type flags struct {
	*flag.FlagSet
	synopsis string
	stdout   io.Writer
}

func newFlags(name, synopsis string, stdout io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // flag calls it on every error; help is printed by parse
	return &flags{fs, synopsis, stdout}
}

func (f *flags) help() {
	fmt.Fprintf(f.stdout, "Usage: %s\n\nFlags:\n", f.synopsis)
	f.SetOutput(f.stdout)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}

// parse parses flags anywhere among the arguments (`check t.yaml --strict`
// works as well as `check --strict t.yaml`); "--" ends the flags.
func parse(fs *flags, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.help()
				return nil, err
			}
			return nil, usageError{fs.Name() + ": " + err.Error()}
		}
		rest := fs.Args()
		// fs.Parse stops before the first positional argument, or after "--",
		// which makes everything after it positional.
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func runRules(args []string, stdout, _ io.Writer) (int, error) {
	fs := newFlags("rules", "kdaguard rules [--format table|json|markdown]", stdout)
	format := fs.String("format", "table", "output format: table, json or markdown")
	pos, err := parse(fs, args)
	if err != nil {
		return exitError, err
	}
	if len(pos) > 0 {
		return exitError, usageError{fmt.Sprintf("rules: unexpected argument %q", pos[0])}
	}
	var b bytes.Buffer
	switch strings.ToLower(*format) {
	case "table":
		err = report.WriteRulesTable(&b, rules.All())
	case "json":
		err = report.WriteRulesJSON(&b, rules.All())
	case "markdown", "md":
		err = report.WriteRulesMarkdown(&b, rules.All())
	default:
		return exitError, usageError{fmt.Sprintf("rules: unknown --format %q (want table, json or markdown)", *format)}
	}
	if err != nil {
		return exitError, err
	}
	if _, err := stdout.Write(b.Bytes()); err != nil {
		return exitError, fmt.Errorf("write output: %w", err)
	}
	return exitOK, nil
}

// listFlag collects a repeatable flag whose values may also be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			// "--rule=" would otherwise mean "every rule" and "--app=" "every application".
			return fmt.Errorf("empty item in %q", v)
		}
		*l = append(*l, item)
	}
	return nil
}

// paramFlag collects --param RULE.NAME=VALUE; a value may hold commas and '='.
type paramFlag []string

func (p *paramFlag) String() string { return strings.Join(*p, " ") }

func (p *paramFlag) Set(v string) error { *p = append(*p, v); return nil }

// checkOptions are the parsed flags of check.
type checkOptions struct {
	format    string
	failOn    rules.Severity
	strict    bool
	asOf      time.Time
	selection *rules.Selection
	overrides map[string]map[string]string
	exemptTag string
	paths     []string
}

// evaluate runs the selected rules on app, honouring exemption tags as the
// functions do: an exempt rule is NOT_APPLICABLE, naming the tag; a lapsed
// or malformed exemption is said beside the finding.
func (o *checkOptions) evaluate(app *model.Application) []rules.Finding {
	out := o.selection.Evaluate(app, o.asOf)
	tags, ok := app.Tags.Get()
	if !ok {
		return out
	}
	s := settings.Settings{ExemptTag: o.exemptTag}
	for i, f := range out {
		exempt, why := s.Exemption(tags, f.Rule.ID, o.asOf)
		switch {
		case exempt:
			out[i].Result = rules.Result{Status: rules.NotApplicable, Message: rules.Clip(why)}
		case why != "":
			out[i].Message = rules.Clip(f.Message + " (" + why + ")")
		}
	}
	return out
}

// evalFlags are the flags check and scan share.
type evalFlags struct {
	name                 string
	format, failOn, asOf *string
	strict               *bool
	exemptTag            *string
	ruleIDs              listFlag
	params               paramFlag
}

func addEvalFlags(fs *flags, formats string) *evalFlags {
	e := &evalFlags{name: fs.Name()}
	e.format = fs.String("format", "table", "output format: "+formats)
	e.failOn = fs.String("fail-on", "LOW", "lowest severity of a NON_COMPLIANT finding that fails the run (exit 1): INFORMATIONAL, LOW, MEDIUM, HIGH or CRITICAL")
	e.strict = fs.Bool("strict", false, "UNKNOWN findings (facts that could not be read) fail the run like NON_COMPLIANT ones")
	e.asOf = fs.String("as-of", "", "evaluate as of this date, YYYY-MM-DD (runtime end-of-support, KDA.RES.4); default today")
	fs.Var(&e.ruleIDs, "rule", "run only these rules: ID[,ID...] (repeatable); default all")
	fs.Var(&e.params, "param", "override a rule parameter: RULE.NAME=VALUE, e.g. KDA.MON.2.allowedLogLevels=INFO,WARN (repeatable)")
	e.exemptTag = fs.String("exempt-tag", "", "tag key that exempts an application from rules (value all or RULE,RULE; KEY-until=YYYY-MM-DD ends it); default KDAGUARD_EXEMPT_TAG, else kdaguard:exempt")
	return e
}

// options validates the shared flags once parsed.
func (e *evalFlags) options(pos []string) (*checkOptions, error) {
	o := &checkOptions{format: strings.ToLower(*e.format), strict: *e.strict, paths: pos}
	o.exemptTag = settings.Defaults().ExemptTag
	if v := os.Getenv("KDAGUARD_EXEMPT_TAG"); v != "" {
		o.exemptTag = v
	}
	if *e.exemptTag != "" {
		o.exemptTag = *e.exemptTag
	}
	switch o.format {
	case "table", "json", "sarif":
	default:
		return nil, usageError{fmt.Sprintf("%s: unknown --format %q (want table, json or sarif)", e.name, *e.format)}
	}
	var err error
	if o.failOn, err = rules.ParseSeverity(*e.failOn); err != nil {
		return nil, usageError{e.name + ": --fail-on: " + err.Error()}
	}
	o.asOf = now()
	if *e.asOf != "" {
		if o.asOf, err = time.Parse(time.DateOnly, *e.asOf); err != nil {
			return nil, usageError{fmt.Sprintf("%s: --as-of %q: want a date YYYY-MM-DD", e.name, *e.asOf)}
		}
	}
	var selected []*rules.Rule
	for _, id := range e.ruleIDs {
		r, ok := rules.ByID(id)
		if !ok {
			return nil, usageError{fmt.Sprintf("%s: --rule: unknown rule id %q (see 'kdaguard rules')", e.name, id)}
		}
		if !slices.Contains(selected, r) {
			selected = append(selected, r)
		}
	}
	if selected != nil { // catalog order, whatever the order given
		sel := make([]*rules.Rule, 0, len(selected))
		for _, r := range rules.All() {
			if slices.Contains(selected, r) {
				sel = append(sel, r)
			}
		}
		selected = sel
	}
	if o.overrides, err = parseParams(e.name, e.params); err != nil {
		return nil, err
	}
	if o.selection, err = rules.Select(selected, o.overrides); err != nil {
		return nil, usageError{e.name + ": --param " + err.Error()}
	}
	return o, nil
}

func parseCheck(args []string, stdout io.Writer) (*checkOptions, error) {
	fs := newFlags("check", "kdaguard check [flags] PATH...", stdout)
	ef := addEvalFlags(fs, "table, json or sarif")
	pos, err := parse(fs, args)
	if err != nil {
		return nil, err
	}
	o, err := ef.options(pos)
	if err != nil {
		return nil, err
	}
	if len(o.paths) == 0 {
		return nil, usageError{"check: no PATH given (a template, a cdk.out folder or describe-application JSON)"}
	}
	return o, nil
}

// parseParams reads RULE.NAME=VALUE flags into overrides keyed by canonical
// rule id, validating each against its rule even when --rule leaves it out.
func parseParams(cmd string, params []string) (map[string]map[string]string, error) {
	if len(params) == 0 {
		return nil, nil
	}
	out := map[string]map[string]string{}
	for _, p := range params {
		key, value, ok := strings.Cut(p, "=")
		dot := strings.LastIndex(key, ".")
		if !ok || dot <= 0 || dot == len(key)-1 {
			return nil, usageError{fmt.Sprintf("%s: --param %q: want RULE.NAME=VALUE, e.g. KDA.RES.5.maxSnapshotAgeHours=48", cmd, truncate(p, 60))}
		}
		id, name := strings.TrimSpace(key[:dot]), strings.TrimSpace(key[dot+1:])
		r, found := rules.ByID(id)
		if !found {
			return nil, usageError{fmt.Sprintf("%s: --param: unknown rule id %q (see 'kdaguard rules')", cmd, id)}
		}
		if out[r.ID] == nil {
			out[r.ID] = map[string]string{}
		}
		out[r.ID][name] = value
	}
	for id, ov := range out {
		r, _ := rules.ByID(id)
		if _, err := rules.NewParams(r, ov); err != nil {
			return nil, usageError{cmd + ": --param " + err.Error()}
		}
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func runCheck(args []string, stdout, stderr io.Writer) (int, error) {
	o, err := parseCheck(args, stdout)
	if err != nil {
		return exitError, err
	}
	// Read every input before reporting anything: one bad input fails the
	// run (exit 2) with one line per unreadable file and no partial report.
	type input struct {
		path string
		apps []*model.Application
	}
	var inputs []input
	var failed bool
	for _, p := range o.paths {
		apps, err := source.Load(p)
		if err != nil {
			fmt.Fprintf(stderr, "kdaguard: %s\n", source.OneLine(err.Error()))
			failed = true
			continue
		}
		if len(apps) == 0 {
			fmt.Fprintf(stderr, "kdaguard: %s: warning: no AWS::KinesisAnalyticsV2::Application found\n", p)
		}
		inputs = append(inputs, input{p, apps})
	}
	if failed {
		return exitError, nil
	}

	var items []report.Item
	var all []*model.Application
	code := exitOK
	for _, in := range inputs {
		for _, app := range in.apps {
			all = append(all, app)
			file := in.path
			if app.Origin.File != "" {
				file = app.Origin.File
			}
			for _, f := range o.evaluate(app) {
				items = append(items, report.Item{File: file, App: app, Finding: f})
				if fails(f, o) {
					code = exitFindings
				}
			}
		}
	}

	if err := writeFindings(stdout, items, all, o, code); err != nil {
		return exitError, err
	}
	return code, nil
}

// writeFindings renders the findings in the chosen format, with every value
// KDA.DP.5 flags scrubbed as a backstop.
func writeFindings(stdout io.Writer, items []report.Item, apps []*model.Application, o *checkOptions, code int) error {
	var b bytes.Buffer
	var err error
	switch o.format {
	case "json":
		err = report.WriteJSON(&b, items)
	case "sarif":
		wd, _ := os.Getwd()
		err = report.WriteSARIF(&b, items, report.SARIFOptions{Version: kdaguardVersion(), BaseDir: wd,
			Strict: o.strict, Rules: o.selection.Rules})
	default:
		err = report.WriteTable(&b, items)
		if err == nil {
			fmt.Fprintf(&b, "%s\n", verdictLine(code, o))
		}
	}
	if err != nil {
		return err
	}
	if _, err := stdout.Write(report.Redact(b.Bytes(), report.Secrets(apps))); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// fails reports whether a finding fails the check.
func fails(f rules.Finding, o *checkOptions) bool {
	switch f.Status {
	case rules.NonCompliant:
		return f.EffectiveSeverity() >= o.failOn
	case rules.Unknown:
		return o.strict && f.EffectiveSeverity() >= o.failOn
	}
	return false
}

func verdictLine(code int, o *checkOptions) string {
	what := "NON_COMPLIANT"
	if o.strict {
		what = "NON_COMPLIANT or UNKNOWN"
	}
	if code == exitFindings {
		return fmt.Sprintf("FAIL: %s findings at or above %s", what, o.failOn)
	}
	return fmt.Sprintf("PASS: no %s finding at or above %s", what, o.failOn)
}
