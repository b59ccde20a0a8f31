// Package report renders kdaguard's rule catalog and the findings of a check
// for people and machines: an aligned table, JSON, SARIF 2.1.0 and Markdown.
//
// Nothing here prints a runtime property's value. Messages come from the
// rules, which name a flagged property by group and key only, and Redact
// removes any value that KDA.DP.5 flags from a rendered report as a second
// line of defence.
package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

// Item is one rule's finding on one application read from File.
type Item struct {
	// File is the file the application was read from, as the user named it
	// (the template inside a cloud assembly for a cdk.out folder); "" for an
	// application read live (scan), which then has no file heading.
	File    string
	App     *model.Application
	Finding rules.Finding
}

// Resource names the application as reports do: the template's logical id,
// else the application name.
func (it Item) Resource() string {
	if it.App == nil {
		return ""
	}
	return it.App.Resource()
}

// Line is the 1-based line of the resource in File, 0 when unknown.
func (it Item) Line() int {
	if it.App == nil {
		return 0
	}
	return it.App.Origin.Line
}

// Statuses in the order summaries list them.
var statusOrder = []rules.Status{rules.NonCompliant, rules.Unknown, rules.Compliant, rules.NotApplicable}

// Summary counts findings per status.
type Summary map[rules.Status]int

// Summarize counts the items per status.
func Summarize(items []Item) Summary {
	s := Summary{}
	for _, it := range items {
		s[it.Finding.Status]++
	}
	return s
}

// String is "3 NON_COMPLIANT, 1 UNKNOWN, 17 COMPLIANT, 2 NOT_APPLICABLE".
func (s Summary) String() string {
	parts := make([]string, 0, len(statusOrder))
	for _, st := range statusOrder {
		parts = append(parts, fmt.Sprintf("%d %s", s[st], st))
	}
	return strings.Join(parts, ", ")
}

// MarshalJSON writes every status, zero counts included.
func (s Summary) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, st := range statusOrder {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%d", st, s[st])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// jsonFinding is one finding of `kdaguard check --format json`.
type jsonFinding struct {
	File     string         `json:"file,omitempty"`
	Resource string         `json:"resource"`
	Line     int            `json:"line,omitempty"`
	Rule     string         `json:"rule"`
	Title    string         `json:"title"`
	Status   rules.Status   `json:"status"`
	Severity rules.Severity `json:"severity"`
	Message  string         `json:"message"`
}

// WriteJSON writes {"findings": [...], "summary": {...}}: one finding per
// application and rule, with the finding's effective severity.
func WriteJSON(w io.Writer, items []Item) error {
	out := struct {
		Findings []jsonFinding `json:"findings"`
		Summary  Summary       `json:"summary"`
	}{Findings: make([]jsonFinding, 0, len(items)), Summary: Summarize(items)}
	for _, it := range items {
		out.Findings = append(out.Findings, jsonFinding{
			File: it.File, Resource: it.Resource(), Line: it.Line(), Rule: it.Finding.Rule.ID,
			Title: it.Finding.Rule.Title, Status: it.Finding.Status,
			Severity: it.Finding.EffectiveSeverity(), Message: it.Finding.Message,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// WriteTable writes one aligned block per file (STATUS, SEVERITY, RULE,
// RESOURCE, MESSAGE), findings in catalog order per application, then a
// summary line counting each status.
func WriteTable(w io.Writer, items []Item) error {
	var b bytes.Buffer
	apps := 0
	var lastApp *model.Application
	for i, it := range items {
		if i == 0 || it.File != items[i-1].File {
			if i > 0 {
				b.WriteByte('\n')
			}
			if it.File != "" {
				b.WriteString(it.File + "\n")
			}
			tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "  STATUS\tSEVERITY\tRULE\tRESOURCE\tMESSAGE")
			for _, jt := range items[i:] {
				if jt.File != it.File {
					break
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", jt.Finding.Status, jt.Finding.EffectiveSeverity(),
					jt.Finding.Rule.ID, cell(jt.Resource()), cell(jt.Finding.Message))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		if it.App != lastApp {
			apps++
			lastApp = it.App
		}
	}
	if len(items) > 0 {
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%d findings on %d %s: %s\n", len(items), apps, plural(apps, "application", "applications"), Summarize(items))
	_, err := w.Write(b.Bytes())
	return err
}

// cell keeps a table cell on one line and out of tabwriter's way.
func cell(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// WriteRulesJSON writes the catalog as a JSON array (Rule.MarshalJSON).
func WriteRulesJSON(w io.Writer, rs []*rules.Rule) error {
	if rs == nil {
		rs = []*rules.Rule{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rs)
}

// WriteRulesTable writes the catalog as an aligned table.
func WriteRulesTable(w io.Writer, rs []*rules.Rule) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tTOPIC\tREMEDIATION\tTITLE")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.Topic, r.Remediation.Kind, cell(r.Title))
	}
	return tw.Flush()
}

// Secrets returns the runtime property values that KDA.DP.5 flags in apps,
// longest first, for Redact.
func Secrets(apps []*model.Application) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range apps {
		groups, ok := a.Properties.Get()
		if !ok {
			continue
		}
		for _, ref := range rules.FindSecrets(groups) {
			for _, g := range groups {
				if g.ID != ref.Group {
					continue
				}
				if v := g.Properties[ref.Key]; len(strings.TrimSpace(v)) >= minSecret && !seen[v] {
					seen[v] = true
					out = append(out, v)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return cmp.Or(len(out[j])-len(out[i]), strings.Compare(out[i], out[j])) < 0 })
	return out
}

// minSecret keeps Redact from rewriting short, common strings.
const minSecret = 4

// Redacted replaces a secret value in reports.
const Redacted = "[REDACTED]"

// Redact replaces every secret in a rendered report, as written and as JSON
// would escape it. A message clipped to its limit ends in "..." and may end
// in the first part of a secret: that part is replaced too. One pass over
// the report, however many secrets there are.
func Redact(b []byte, secrets []string) []byte {
	var pairs []string
	for _, s := range secrets { // whole values first: earlier pairs win
		for _, f := range forms(s) {
			pairs = append(pairs, f, Redacted)
		}
	}
	for _, s := range secrets {
		for k := len(s) - 1; k >= minSecret; k-- {
			if !utf8.RuneStart(s[k]) {
				continue
			}
			for _, f := range forms(s[:k]) {
				pairs = append(pairs, f+"...", Redacted+"...")
			}
		}
	}
	if len(pairs) == 0 {
		return b
	}
	return []byte(strings.NewReplacer(pairs...).Replace(string(b)))
}

// forms are s as written and as JSON writes it inside a string, with and
// without HTML escaping.
func forms(s string) []string {
	out := []string{s}
	for _, html := range []bool{false, true} {
		var q bytes.Buffer
		enc := json.NewEncoder(&q)
		enc.SetEscapeHTML(html)
		if enc.Encode(s) != nil {
			continue
		}
		esc := strings.TrimSuffix(q.String(), "\n")
		esc = esc[1 : len(esc)-1]
		if !slices.Contains(out, esc) {
			out = append(out, esc)
		}
	}
	return out
}
