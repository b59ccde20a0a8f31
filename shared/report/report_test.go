package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/report"
	"github.com/kdaguard/kdaguard/shared/rules"
)

func rule(t *testing.T, id string) *rules.Rule {
	t.Helper()
	r, ok := rules.ByID(id)
	if !ok {
		t.Fatalf("no rule %s", id)
	}
	return r
}

// items: a template application with a line, a describe-application one
// without, and findings of every status.
func items(t *testing.T, dir string) []report.Item {
	tmpl := &model.Application{Name: "orders", Origin: model.Origin{File: filepath.Join(dir, "stacks", "app stack.yaml"), LogicalID: "OrdersApp", Line: 42}}
	live := &model.Application{Name: "clicks"}
	f := func(app *model.Application, file, id string, st rules.Status, sev rules.Severity, msg string) report.Item {
		return report.Item{File: file, App: app, Finding: rules.Finding{Rule: rule(t, id), Result: rules.Result{Status: st, Severity: sev, Message: msg}}}
	}
	return []report.Item{
		f(tmpl, tmpl.Origin.File, "KDA.DP.5", rules.NonCompliant, 0, "plaintext credentials in runtime properties: Db/password (secret-named key)"),
		f(tmpl, tmpl.Origin.File, "KDA.MON.2", rules.NonCompliant, 0, "log level is DEBUG: set INFO"),
		f(tmpl, tmpl.Origin.File, "KDA.RES.4", rules.NonCompliant, rules.Medium, "runtime FLINK-1_15 is past recommended support"),
		f(tmpl, tmpl.Origin.File, "KDA.MON.5", rules.Unknown, 0, "CloudTrail trails: not in a template"),
		f(tmpl, tmpl.Origin.File, "KDA.RES.1", rules.Compliant, 0, "checkpointing is enabled"),
		f(live, "/elsewhere/clicks.json", "KDA.INF.1", rules.NotApplicable, 0, "the application is not attached to a VPC"),
		f(live, "/elsewhere/clicks.json", "KDA.IAM.1", rules.Unknown, 0, "execution role: not read"),
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteJSON(&b, items(t, "/work")); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Findings []map[string]any `json:"findings"`
		Summary  map[string]int   `json:"summary"`
	}
	if err := json.Unmarshal(b.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) != 7 {
		t.Fatalf("%d findings", len(out.Findings))
	}
	first := out.Findings[0]
	for k, v := range map[string]any{"file": "/work/stacks/app stack.yaml", "resource": "OrdersApp", "rule": "KDA.DP.5",
		"status": "NON_COMPLIANT", "severity": "CRITICAL", "line": float64(42)} {
		if first[k] != v {
			t.Errorf("%s = %v, want %v", k, first[k], v)
		}
	}
	if out.Findings[2]["severity"] != "MEDIUM" {
		t.Errorf("a finding's own severity overrides the rule's: got %v", out.Findings[2]["severity"])
	}
	if out.Findings[5]["resource"] != "clicks" {
		t.Errorf("resource of a describe-application finding is the application name: %v", out.Findings[5]["resource"])
	}
	if _, ok := out.Findings[5]["line"]; ok {
		t.Errorf("unknown line is omitted")
	}
	want := map[string]int{"NON_COMPLIANT": 3, "UNKNOWN": 2, "COMPLIANT": 1, "NOT_APPLICABLE": 1}
	for k, v := range want {
		if out.Summary[k] != v {
			t.Errorf("summary[%s] = %d, want %d", k, out.Summary[k], v)
		}
	}
	// An empty check is an empty list, not null.
	b.Reset()
	report.WriteJSON(&b, nil)
	if !strings.Contains(b.String(), `"findings": []`) {
		t.Errorf("empty findings: %s", b.String())
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteTable(&b, items(t, "/work")); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, w := range []string{"/work/stacks/app stack.yaml\n", "/elsewhere/clicks.json\n", "KDA.DP.5", "OrdersApp", "clicks",
		"7 findings on 2 applications: 3 NON_COMPLIANT, 2 UNKNOWN, 1 COMPLIANT, 1 NOT_APPLICABLE\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("table lacks %q:\n%s", w, out)
		}
	}
	// Each block is aligned: the MESSAGE column starts at the same offset.
	for block := range strings.SplitSeq(out, "\n\n") {
		lines := strings.Split(block, "\n")
		if len(lines) < 3 {
			continue
		}
		col := strings.Index(lines[1], "MESSAGE")
		for _, l := range lines[2:] {
			if l == "" {
				continue
			}
			if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
				t.Errorf("row not aligned at column %d:\n%s\n%s", col, lines[1], l)
			}
		}
	}
	b.Reset()
	report.WriteTable(&b, nil)
	if b.String() != "0 findings on 0 applications: 0 NON_COMPLIANT, 0 UNKNOWN, 0 COMPLIANT, 0 NOT_APPLICABLE\n" {
		t.Errorf("empty table: %q", b.String())
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestWriteSARIF(t *testing.T) {
	sch := compileSchema(t)
	base := t.TempDir()
	for _, strict := range []bool{false, true} {
		var b bytes.Buffer
		err := report.WriteSARIF(&b, items(t, base), report.SARIFOptions{Version: "1.2.3", BaseDir: base, Strict: strict,
			Rules: []*rules.Rule{rule(t, "KDA.DP.5"), rule(t, "KDA.MON.2")}})
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Fatalf("strict=%v: invalid SARIF: %v\n%s", strict, err, b.String())
		}
		var log struct {
			Runs []struct {
				Tool struct {
					Driver struct {
						Version string
						Rules   []struct{ ID string }
					}
				}
				OriginalURIBaseIDs map[string]struct{ URI string } `json:"originalUriBaseIds"`
				Results            []struct {
					RuleID    string
					RuleIndex int
					Level     string
					Message   struct{ Text string }
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI, URIBaseID string }
							Region           *struct{ StartLine int }
						}
						LogicalLocations []struct{ Name, FullyQualifiedName, Kind string }
					}
					PartialFingerprints map[string]string
				}
			}
		}
		if err := json.Unmarshal(b.Bytes(), &log); err != nil {
			t.Fatal(err)
		}
		run := log.Runs[0]
		if run.Tool.Driver.Version != "1.2.3" {
			t.Errorf("driver version %q", run.Tool.Driver.Version)
		}
		// The two listed rules, then the rules of results outside the list.
		var ids []string
		for _, r := range run.Tool.Driver.Rules {
			ids = append(ids, r.ID)
		}
		if got := strings.Join(ids, ","); got != "KDA.DP.5,KDA.MON.2,KDA.RES.4,KDA.MON.5,KDA.IAM.1" {
			t.Errorf("rules %s", got)
		}
		if !strings.HasPrefix(run.OriginalURIBaseIDs["SRCROOT"].URI, "file:///") || !strings.HasSuffix(run.OriginalURIBaseIDs["SRCROOT"].URI, "/") {
			t.Errorf("SRCROOT = %q", run.OriginalURIBaseIDs["SRCROOT"].URI)
		}
		wantLevel := map[string]string{"KDA.DP.5": "error", "KDA.MON.2": "warning", "KDA.RES.4": "warning", "KDA.MON.5": "note", "KDA.IAM.1": "note"}
		if strict {
			wantLevel["KDA.MON.5"], wantLevel["KDA.IAM.1"] = "warning", "warning"
		}
		if len(run.Results) != 5 {
			t.Fatalf("%d results, want 5 (NON_COMPLIANT and UNKNOWN only)", len(run.Results))
		}
		fps := map[string]bool{}
		for _, res := range run.Results {
			if res.Level != wantLevel[res.RuleID] {
				t.Errorf("strict=%v %s: level %s, want %s", strict, res.RuleID, res.Level, wantLevel[res.RuleID])
			}
			if ids[res.RuleIndex] != res.RuleID {
				t.Errorf("%s: ruleIndex %d", res.RuleID, res.RuleIndex)
			}
			loc := res.Locations[0]
			switch res.RuleID {
			case "KDA.IAM.1": // /elsewhere: outside the base, absolute URI, no line
				if loc.PhysicalLocation.ArtifactLocation.URI != "file:///elsewhere/clicks.json" || loc.PhysicalLocation.ArtifactLocation.URIBaseID != "" ||
					loc.PhysicalLocation.Region != nil || loc.LogicalLocations[0].Name != "clicks" {
					t.Errorf("IAM.1 location %+v", loc)
				}
				if !strings.HasPrefix(res.Message.Text, rule(t, "KDA.IAM.1").Title+": not verified: ") {
					t.Errorf("UNKNOWN message %q", res.Message.Text)
				}
			default:
				if loc.PhysicalLocation.ArtifactLocation.URI != "stacks/app%20stack.yaml" || loc.PhysicalLocation.ArtifactLocation.URIBaseID != "SRCROOT" ||
					loc.PhysicalLocation.Region == nil || loc.PhysicalLocation.Region.StartLine != 42 {
					t.Errorf("%s location %+v", res.RuleID, loc.PhysicalLocation)
				}
				if ll := loc.LogicalLocations; len(ll) != 1 || ll[0].Name != "OrdersApp" || ll[0].Kind != "resource" {
					t.Errorf("%s logical location %+v", res.RuleID, ll)
				}
			}
			fp := res.PartialFingerprints["kdaguardFinding/v1"]
			if fp == "" || fps[fp] {
				t.Errorf("%s: fingerprint %q missing or repeated", res.RuleID, fp)
			}
			fps[fp] = true
		}
	}
}

func TestSecuritySeverityBands(t *testing.T) {
	// GitHub code scanning: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
	for s, band := range map[rules.Severity][2]float64{rules.Critical: {9, 10}, rules.High: {7, 8.9}, rules.Medium: {4, 6.9}, rules.Low: {0.1, 3.9}} {
		var v float64
		if err := json.Unmarshal([]byte(report.SecuritySeverity(s)), &v); err != nil || v < band[0] || v > band[1] {
			t.Errorf("%s: security-severity %s outside %v", s, report.SecuritySeverity(s), band)
		}
	}
}

func TestRedact(t *testing.T) {
	app := &model.Application{Properties: model.Known([]model.PropertyGroup{{ID: "Db", Properties: map[string]string{
		"password":   `s3cr<e>t"pass`,
		"jdbc.url":   "jdbc:postgresql://db:5432/app",
		"aws.region": "eu-west-1",
	}}})}
	secrets := report.Secrets([]*model.Application{app, {Properties: model.Unknown[[]model.PropertyGroup]("not read")}})
	if len(secrets) != 1 || secrets[0] != `s3cr<e>t"pass` {
		t.Fatalf("secrets %q", secrets)
	}
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(map[string]string{"message": "value s3cr<e>t\"pass leaked"})
	in := "raw s3cr<e>t\"pass; " + b.String()
	out := string(report.Redact([]byte(in), secrets))
	if strings.Contains(out, "s3cr") || strings.Count(out, report.Redacted) != 2 {
		t.Errorf("Redact left the value: %q", out)
	}
	if got := string(report.Redact([]byte("eu-west-1"), secrets)); got != "eu-west-1" {
		t.Errorf("Redact changed a non-secret: %q", got)
	}
	// A message clipped at its limit can end in the first part of a secret.
	clipped := rules.Clip("stream " + strings.Repeat("x", rules.MaxMessage-17) + ` s3cr<e>t"pass`)
	if !strings.HasSuffix(clipped, "...") || !strings.Contains(clipped, "s3cr") {
		t.Fatalf("test setup: %q does not end in a clipped secret", clipped)
	}
	var j bytes.Buffer
	json.NewEncoder(&j).Encode(map[string]string{"message": clipped})
	for _, form := range []string{clipped, j.String()} {
		if out := string(report.Redact([]byte(form), secrets)); strings.Contains(out, "s3cr") || !strings.Contains(out, report.Redacted+"...") {
			t.Errorf("Redact left a clipped secret: %q", out)
		}
	}
	if out := string(report.Redact([]byte("see s3..."), secrets)); out != "see s3..." {
		t.Errorf("Redact replaced a prefix shorter than a secret can be: %q", out)
	}
}

func TestRulesRenderers(t *testing.T) {
	var j, tb, md bytes.Buffer
	if err := report.WriteRulesJSON(&j, rules.All()); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteRulesTable(&tb, rules.All()); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteRulesMarkdown(&md, rules.All()); err != nil {
		t.Fatal(err)
	}
	var arr []map[string]any
	if err := json.Unmarshal(j.Bytes(), &arr); err != nil || len(arr) != len(rules.All()) {
		t.Fatalf("rules JSON: %v, %d entries", err, len(arr))
	}
	m := md.String()
	for _, w := range []string{"| [KDA.RES.4](#kda-res-4) |", "<a id=\"kda-res-4\"></a>", "## KDA.RES.4: The runtime is in support",
		"- **NIST SP 800-53 rev. 5:** SI-2, SA-22", "- **PCI DSS v4.0:** 6.3.3", "- **PCI DSS v4.0:** none",
		"| `maxSnapshotAgeHours` | int | `24` |", "- **Remediation:** auto (`kms:EnableKeyRotation`): "} {
		if !strings.Contains(m, w) {
			t.Errorf("markdown lacks %q", w)
		}
	}
	// Table rows of the summary hold five cells whatever the text holds.
	for l := range strings.SplitSeq(m, "\n") {
		if strings.HasPrefix(l, "| [KDA.") && strings.Count(strings.ReplaceAll(l, `\|`, ""), "|") != 6 {
			t.Errorf("broken summary row: %s", l)
		}
	}
	if !strings.HasPrefix(tb.String(), "ID ") || strings.Count(tb.String(), "\n") != len(rules.All())+1 {
		t.Errorf("rules table:\n%s", tb.String())
	}
}
