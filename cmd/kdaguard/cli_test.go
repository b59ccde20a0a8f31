package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kdaguard/kdaguard/shared/report"
	"github.com/kdaguard/kdaguard/shared/rules"
)

// Fixtures. pipeline.yaml is a YAML template (short tags) whose runtime
// properties hold two plaintext credentials; describe-low.json is
// describe-application output whose only NON_COMPLIANT findings are LOW;
// assembly/ is a CDK cloud assembly.
const (
	pipeline    = "testdata/pipeline.yaml"
	describeLow = "testdata/describe-low.json"
	assembly    = "testdata/assembly"
	broken      = "testdata/broken.yaml"
	noResources = "testdata/no-resources.json"
	flinkFull   = "../../shared/source/describe/testdata/flink-full.json"
	sqlLegacy   = "../../shared/source/describe/testdata/sql-legacy.json"
	schemaFile  = "../../shared/report/testdata/sarif-schema-2.1.0.json"
)

// The credentials pipeline.yaml holds: no output may ever contain them.
var secrets = []string{"Tr0ub4dor-and-3-Horses", "c0rrect-h0rse-battery"}

// fixedNow is the default clock of check in these tests (no --as-of).
var fixedNow = time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	now = func() time.Time { return fixedNow }
	os.Exit(m.Run())
}

type result struct {
	code           int
	stdout, stderr string
}

func kdaguard(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	r := result{code, out.String(), errb.String()}
	for _, s := range secrets {
		if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
			t.Errorf("kdaguard %s printed a credential KDA.DP.5 flags", strings.Join(args, " "))
		}
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic:") {
		t.Errorf("kdaguard %s printed a stack trace:\n%s", strings.Join(args, " "), r.stderr)
	}
	return r
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want int
		// for exit 2: what the one-line message must contain
		stderr []string
	}{
		{"no NON_COMPLIANT finding", []string{"check", flinkFull}, 0, nil},
		{"LOW finding fails at the default --fail-on LOW", []string{"check", describeLow}, 1, nil},
		{"--fail-on LOW", []string{"check", "--fail-on", "LOW", describeLow}, 1, nil},
		{"--fail-on MEDIUM ignores LOW findings", []string{"check", "--fail-on", "MEDIUM", describeLow}, 0, nil},
		{"--fail-on HIGH ignores LOW findings", []string{"check", "--fail-on", "HIGH", describeLow}, 0, nil},
		{"--fail-on is case-insensitive", []string{"check", "--fail-on", "high", describeLow}, 0, nil},
		{"CRITICAL finding fails at --fail-on CRITICAL", []string{"check", "--fail-on", "CRITICAL", pipeline}, 1, nil},
		{"YAML template", []string{"check", pipeline}, 1, nil},
		{"CDK cloud assembly", []string{"check", "--fail-on", "HIGH", assembly}, 1, nil},
		{"compliant rules only", []string{"check", "--rule", "KDA.RES.1,KDA.RES.2", pipeline}, 0, nil},
		{"flags after the path", []string{"check", describeLow, "--fail-on", "HIGH"}, 0, nil},
		{"several paths", []string{"check", "--fail-on", "HIGH", flinkFull, describeLow}, 0, nil},

		{"missing file", []string{"check", "testdata/missing.yaml"}, 2, []string{"testdata/missing.yaml", "no such file"}},
		{"unreadable path", []string{"check", pipeline + "/nested.yaml"}, 2, []string{pipeline + "/nested.yaml", "not a directory"}},
		{"directory without manifest", []string{"check", "testdata"}, 2, []string{"testdata", "manifest.json"}},
		{"bad YAML", []string{"check", broken}, 2, []string{broken, "yaml", "line "}},
		{"not a template", []string{"check", noResources}, 2, []string{noResources, "no Resources"}},
		{"one bad input among good ones", []string{"check", flinkFull, broken}, 2, []string{broken}},
		{"bad flag", []string{"check", "--bogus", pipeline}, 2, []string{"flag provided but not defined", "-bogus"}},
		{"bad format", []string{"check", "--format", "xml", pipeline}, 2, []string{"--format", "xml"}},
		{"bad severity", []string{"check", "--fail-on", "SEVERE", pipeline}, 2, []string{"--fail-on", "SEVERE"}},
		{"bad date", []string{"check", "--as-of", "2025-13-01", pipeline}, 2, []string{"--as-of", "YYYY-MM-DD"}},
		{"unknown rule id", []string{"check", "--rule", "KDA.NOPE.1", pipeline}, 2, []string{"unknown rule id", "KDA.NOPE.1"}},
		{"bad --param value", []string{"check", "--param", "KDA.RES.5.maxSnapshotAgeHours=soon", pipeline}, 2, []string{"KDA.RES.5", "maxSnapshotAgeHours"}},
		{"bad --param name", []string{"check", "--param", "KDA.RES.5.maxAge=48", pipeline}, 2, []string{"KDA.RES.5", "unknown parameter", "maxAge"}},
		{"bad --param syntax", []string{"check", "--param", "maxSnapshotAgeHours", pipeline}, 2, []string{"RULE.NAME=VALUE"}},
		{"--param for an unknown rule", []string{"check", "--param", "KDA.NOPE.1.x=1", pipeline}, 2, []string{"unknown rule id", "KDA.NOPE.1"}},
		{"bad --param of a rule --rule leaves out", []string{"check", "--rule", "KDA.DP.1", "--param", "KDA.MON.2.allowedLogLevels=LOUD", pipeline}, 2, []string{"KDA.MON.2", "LOUD"}},
		{"no path", []string{"check"}, 2, []string{"no PATH"}},
		{"unknown command", []string{"audit", pipeline}, 2, []string{"unknown command", "audit"}},
		{"rules: bad format", []string{"rules", "--format", "yaml"}, 2, []string{"--format", "yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := kdaguard(t, tc.args...)
			if r.code != tc.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.want, r.stdout, r.stderr)
			}
			if tc.want != 2 {
				if r.stderr != "" {
					t.Errorf("unexpected stderr: %s", r.stderr)
				}
				return
			}
			if r.stdout != "" {
				t.Errorf("exit 2 printed a report:\n%s", r.stdout)
			}
			first, _, _ := strings.Cut(r.stderr, "\n")
			if !strings.HasPrefix(first, "kdaguard: ") {
				t.Errorf("stderr does not start with a kdaguard: message: %q", r.stderr)
			}
			for _, w := range tc.stderr {
				if !strings.Contains(first, w) {
					t.Errorf("first stderr line %q does not contain %q", first, w)
				}
			}
			// Input errors are exactly one line; usage errors add a hint line.
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if len(lines) > 2 || len(lines) == 2 && !strings.Contains(lines[1], "--help") {
				t.Errorf("stderr is not a one-line message:\n%s", r.stderr)
			}
		})
	}
}

func TestTemplateWithoutApplication(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bucket.yaml")
	if err := os.WriteFile(p, []byte("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := kdaguard(t, "check", "--format", "json", p)
	if r.code != 0 || !strings.Contains(r.stderr, p+": warning: no AWS::KinesisAnalyticsV2::Application") {
		t.Fatalf("exit %d, stderr %q; want 0 with a warning naming the file", r.code, r.stderr)
	}
	if out := decodeFindings(t, r.stdout); len(out.Findings) != 0 {
		t.Errorf("findings %+v", out.Findings)
	}
}

func TestUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: file permissions do not stop reads (TestExitCodes covers an unreadable path)")
	}
	p := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(p, []byte("Resources: {}\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	r := kdaguard(t, "check", p)
	if r.code != 2 || !strings.Contains(r.stderr, p) || !strings.Contains(r.stderr, "permission denied") {
		t.Fatalf("exit %d, stderr %q; want 2 naming the file and permission denied", r.code, r.stderr)
	}
}

func TestStrictMakesUnknownFail(t *testing.T) {
	// flink-full.json has no NON_COMPLIANT finding, but the related
	// resources (role, key, ...) were not read: UNKNOWN findings.
	if r := kdaguard(t, "check", flinkFull); r.code != 0 {
		t.Fatalf("without --strict: exit %d, want 0\n%s", r.code, r.stdout)
	}
	r := kdaguard(t, "check", "--strict", flinkFull)
	if r.code != 1 {
		t.Fatalf("with --strict: exit %d, want 1\n%s", r.code, r.stdout)
	}
	if !strings.Contains(r.stdout, "FAIL: NON_COMPLIANT or UNKNOWN findings at or above LOW") {
		t.Errorf("verdict line missing:\n%s", r.stdout)
	}
	// --strict honours --fail-on: KDA.IAM.1 (CRITICAL) is UNKNOWN.
	if r := kdaguard(t, "check", "--strict", "--fail-on", "CRITICAL", flinkFull); r.code != 1 {
		t.Errorf("--strict --fail-on CRITICAL: exit %d, want 1", r.code)
	}
	if r := kdaguard(t, "check", "--strict", "--rule", "KDA.RES.1,KDA.RES.2,KDA.RES.3", flinkFull); r.code != 0 {
		t.Errorf("--strict on known facts only: exit %d, want 0\n%s", r.code, r.stdout)
	}
}

func TestParamChangesOutcome(t *testing.T) {
	if r := kdaguard(t, "check", "--rule", "KDA.MON.2", describeLow); r.code != 1 {
		t.Fatalf("DEBUG log level with default allowedLogLevels: exit %d, want 1", r.code)
	}
	r := kdaguard(t, "check", "--rule", "kda.mon.2", "--param", "KDA.MON.2.allowedLogLevels=INFO,WARN,DEBUG", describeLow)
	if r.code != 0 {
		t.Fatalf("DEBUG allowed by --param: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A dates parameter: the value holds '=' and ','.
	r = kdaguard(t, "check", "--format", "json", "--rule", "KDA.RES.4",
		"--param", "KDA.RES.4.endOfSupport=FLINK-1_20=2025-01-01", "testdata/assembly")
	if r.code != 1 || !strings.Contains(r.stdout, `"severity": "CRITICAL"`) {
		t.Fatalf("FLINK-1_20 past a given end of support: exit %d, want 1 with a CRITICAL finding\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestAsOf(t *testing.T) {
	// SQL-1_0: upgrade recommended from 2025-10-15 (MEDIUM), cannot run from
	// 2026-01-27 (CRITICAL).
	for _, tc := range []struct {
		asOf, failOn string
		code         int
		status       rules.Status
		severity     string
	}{
		{"2025-06-01", "LOW", 0, rules.Compliant, "CRITICAL"},
		{"2025-11-01", "LOW", 1, rules.NonCompliant, "MEDIUM"},
		{"2025-11-01", "HIGH", 0, rules.NonCompliant, "MEDIUM"},
		{"2026-02-01", "HIGH", 1, rules.NonCompliant, "CRITICAL"},
	} {
		r := kdaguard(t, "check", "--format", "json", "--rule", "KDA.RES.4", "--as-of", tc.asOf, "--fail-on", tc.failOn, sqlLegacy)
		if r.code != tc.code {
			t.Errorf("--as-of %s --fail-on %s: exit %d, want %d", tc.asOf, tc.failOn, r.code, tc.code)
		}
		out := decodeFindings(t, r.stdout)
		if len(out.Findings) != 1 || out.Findings[0].Status != tc.status || out.Findings[0].Severity != tc.severity {
			t.Errorf("--as-of %s: findings %+v, want one %s %s", tc.asOf, out.Findings, tc.status, tc.severity)
		}
	}
}

type findingsJSON struct {
	Findings []struct {
		File, Resource, Rule, Severity, Message string
		Status                                  rules.Status
		Line                                    int
	} `json:"findings"`
	Summary map[string]int `json:"summary"`
}

func decodeFindings(t *testing.T, s string) findingsJSON {
	t.Helper()
	var out findingsJSON
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	return out
}

func TestCheckJSON(t *testing.T) {
	r := kdaguard(t, "check", "--format", "json", pipeline, flinkFull, assembly)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	var raw struct {
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	n := len(rules.All())
	if len(raw.Findings) != 3*n {
		t.Fatalf("%d findings, want %d (one per application and rule)", len(raw.Findings), 3*n)
	}
	for _, f := range raw.Findings {
		for _, k := range []string{"file", "resource", "rule", "status", "severity", "message"} {
			if s, ok := f[k].(string); !ok || s == "" {
				t.Fatalf("finding %v: field %q missing or empty", f, k)
			}
		}
	}
	out := decodeFindings(t, r.stdout)
	want := map[string]string{ // resource -> file
		"FraudScoring":        pipeline,
		"orders-enrichment":   flinkFull,
		"SessionsApp1A2B3C4D": filepath.Join(assembly, "SessionsStack.template.json"),
	}
	seen := map[string]int{}
	statuses := []rules.Status{rules.Compliant, rules.NonCompliant, rules.NotApplicable, rules.Unknown}
	for i, f := range out.Findings {
		if want[f.Resource] != f.File {
			t.Errorf("finding %d: resource %q in file %q; want file %q", i, f.Resource, f.File, want[f.Resource])
		}
		seen[f.Resource]++
		if f.Rule != rules.All()[i%n].ID {
			t.Errorf("finding %d: rule %s, want catalog order (%s)", i, f.Rule, rules.All()[i%n].ID)
		}
		if !slices.Contains(statuses, f.Status) {
			t.Errorf("finding %d: status %q", i, f.Status)
		}
		if _, err := rules.ParseSeverity(f.Severity); err != nil {
			t.Errorf("finding %d: %v", i, err)
		}
		if f.Rule == "KDA.DP.5" && f.Resource == "FraudScoring" {
			if f.Status != rules.NonCompliant || f.Severity != "CRITICAL" ||
				!strings.Contains(f.Message, "FeatureStore/jdbc.password") {
				t.Errorf("KDA.DP.5 on FraudScoring: %+v", f)
			}
		}
	}
	for res := range want {
		if seen[res] != n {
			t.Errorf("%s: %d findings, want %d", res, seen[res], n)
		}
	}
	total := 0
	for _, c := range out.Summary {
		total += c
	}
	if total != 3*n {
		t.Errorf("summary %v counts %d findings, want %d", out.Summary, total, 3*n)
	}
}

func TestCheckTable(t *testing.T) {
	r := kdaguard(t, "check", pipeline, flinkFull)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	for _, r0 := range rules.All() {
		if !strings.Contains(r.stdout, r0.ID) {
			t.Errorf("table lacks %s", r0.ID)
		}
	}
	for _, w := range []string{pipeline, flinkFull, "FraudScoring", "orders-enrichment",
		"46 findings on 2 applications:", "NON_COMPLIANT", "FAIL: NON_COMPLIANT findings at or above LOW"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("table lacks %q:\n%s", w, r.stdout)
		}
	}
	// Aligned columns: in each block, every row's RULE and RESOURCE cells
	// start where the header's do.
	var ruleCol, resCol int
	rows := 0
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "  STATUS") {
			ruleCol, resCol = strings.Index(line, "RULE"), strings.Index(line, "RESOURCE")
			continue
		}
		if !strings.HasPrefix(line, "  ") || ruleCol == 0 {
			continue
		}
		rows++
		if !strings.HasPrefix(line[ruleCol:], "KDA.") || line[resCol-1] != ' ' || line[resCol] == ' ' {
			t.Errorf("row not aligned with the header:\n%s", line)
		}
	}
	if rows != 46 {
		t.Errorf("%d table rows, want 46", rows)
	}
	sum := regexpSummary(r.stdout)
	if sum == "" {
		t.Errorf("no summary line counting every status:\n%s", r.stdout)
	}
}

// regexpSummary returns the summary line if it counts all four statuses.
func regexpSummary(out string) string {
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(line, " findings on ") && strings.Contains(line, "NON_COMPLIANT") &&
			strings.Contains(line, "UNKNOWN") && strings.Contains(line, "COMPLIANT") && strings.Contains(line, "NOT_APPLICABLE") {
			return line
		}
	}
	return ""
}

func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
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

func validateSARIF(t *testing.T, sch *jsonschema.Schema, out string) map[string]any {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatalf("SARIF output is not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("SARIF output does not validate against the SARIF 2.1.0 schema: %v", err)
	}
	return inst.(map[string]any)
}

// lineOf is the 1-based line of the first line that starts with prefix.
func lineOf(t *testing.T, file, prefix string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			return i + 1
		}
	}
	t.Fatalf("%s: no line starts with %q", file, prefix)
	return 0
}

func TestCheckSARIF(t *testing.T) {
	sch := sarifSchema(t)
	r := kdaguard(t, "check", "--format", "sarif", pipeline, flinkFull, assembly)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	doc := validateSARIF(t, sch, r.stdout)

	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string                `json:"id"`
						Name             string                `json:"name"`
						ShortDescription struct{ Text string } `json:"shortDescription"`
						FullDescription  struct{ Text string } `json:"fullDescription"`
						HelpURI          string                `json:"helpUri"`
						Properties       map[string]any        `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI       string `json:"uri"`
							URIBaseID string `json:"uriBaseId"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
					LogicalLocations []struct {
						Name, Kind string
					} `json:"logicalLocations"`
				} `json:"locations"`
				Properties map[string]string `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	b, _ := json.Marshal(doc)
	if err := json.Unmarshal(b, &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "kdaguard" {
		t.Fatalf("bad SARIF header: %+v", log)
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != len(rules.All()) {
		t.Fatalf("%d rule descriptors, want %d", len(run.Tool.Driver.Rules), len(rules.All()))
	}
	for i, d := range run.Tool.Driver.Rules {
		if d.ID != rules.All()[i].ID || d.Name == "" || d.ShortDescription.Text == "" || d.FullDescription.Text == "" ||
			!strings.HasPrefix(d.HelpURI, "https://docs.aws.amazon.com/") {
			t.Errorf("descriptor %d incomplete: %+v", i, d)
		}
		if s, _ := d.Properties["security-severity"].(string); s == "" {
			t.Errorf("%s: no security-severity", d.ID)
		}
		if tags, _ := d.Properties["tags"].([]any); !slices.Contains(tags, any("security")) {
			t.Errorf("%s: tags %v lack security", d.ID, d.Properties["tags"])
		}
	}

	appLine := lineOf(t, pipeline, "FraudScoring:")
	asmLine := lineOf(t, filepath.Join(assembly, "SessionsStack.template.json"), `"SessionsApp1A2B3C4D"`)
	var sawError, sawWarning, sawUnknown, sawDescribe, sawAssembly bool
	for _, res := range run.Results {
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s has ruleIndex %d of %s", res.RuleID, res.RuleIndex, run.Tool.Driver.Rules[res.RuleIndex].ID)
		}
		status := res.Properties["status"]
		if status != "NON_COMPLIANT" && status != "UNKNOWN" {
			t.Errorf("result of status %q; only NON_COMPLIANT and UNKNOWN are results", status)
		}
		if status == "UNKNOWN" {
			sawUnknown = true
			if res.Level != "note" {
				t.Errorf("UNKNOWN %s: level %s, want note", res.RuleID, res.Level)
			}
		}
		if len(res.Locations) != 1 {
			t.Fatalf("%s: %d locations", res.RuleID, len(res.Locations))
		}
		loc := res.Locations[0]
		uri, ln := loc.PhysicalLocation.ArtifactLocation.URI, loc.PhysicalLocation.Region
		// Relative to the working directory (uriBaseId SRCROOT), or, for a
		// file outside it (flink-full.json), an absolute file: URI.
		al := loc.PhysicalLocation.ArtifactLocation
		if al.URIBaseID == "SRCROOT" && (strings.HasPrefix(uri, "/") || strings.Contains(uri, "..") || strings.Contains(uri, ":")) ||
			al.URIBaseID == "" && !strings.HasPrefix(uri, "file:///") {
			t.Errorf("%s: artifact location %+v is neither relative nor a file: URI", res.RuleID, al)
		}
		if len(loc.LogicalLocations) != 1 || loc.LogicalLocations[0].Kind != "resource" {
			t.Errorf("%s: logical locations %+v", res.RuleID, loc.LogicalLocations)
			continue
		}
		switch name := loc.LogicalLocations[0].Name; name {
		case "FraudScoring":
			if uri != "testdata/pipeline.yaml" || ln == nil || ln.StartLine != appLine {
				t.Errorf("%s on FraudScoring: uri %q region %+v, want testdata/pipeline.yaml line %d", res.RuleID, uri, ln, appLine)
			}
			switch res.RuleID {
			case "KDA.DP.5":
				sawError = res.Level == "error"
			case "KDA.MON.2":
				sawWarning = res.Level == "warning"
			}
		case "orders-enrichment":
			sawDescribe = true
			if !strings.HasSuffix(uri, "/shared/source/describe/testdata/flink-full.json") || ln != nil {
				t.Errorf("%s on orders-enrichment: uri %q region %+v, want the describe JSON without a line", res.RuleID, uri, ln)
			}
		case "SessionsApp1A2B3C4D":
			sawAssembly = true
			if uri != "testdata/assembly/SessionsStack.template.json" || ln == nil || ln.StartLine != asmLine {
				t.Errorf("%s on SessionsApp1A2B3C4D: uri %q region %+v, want the stack template line %d", res.RuleID, uri, ln, asmLine)
			}
		default:
			t.Errorf("%s: unexpected resource %q", res.RuleID, name)
		}
	}
	if !sawError || !sawWarning || !sawUnknown || !sawDescribe || !sawAssembly {
		t.Errorf("missing results: DP.5 error %v, MON.2 warning %v, UNKNOWN note %v, describe %v, assembly %v",
			sawError, sawWarning, sawUnknown, sawDescribe, sawAssembly)
	}

	// --strict reports UNKNOWN as warnings, still valid SARIF.
	r = kdaguard(t, "check", "--format", "sarif", "--strict", flinkFull)
	if r.code != 1 {
		t.Fatalf("--strict: exit %d, want 1", r.code)
	}
	validateSARIF(t, sch, r.stdout)
	if strings.Contains(r.stdout, `"level": "note"`) || !strings.Contains(r.stdout, `"level": "warning"`) {
		t.Errorf("--strict: UNKNOWN results should be warnings")
	}
}

// The validator really enforces the schema: a broken log fails.
func TestSARIFSchemaRejectsInvalid(t *testing.T) {
	sch := sarifSchema(t)
	for name, doc := range map[string]string{
		"bad level":     `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"level":"fatal"}]}]}`,
		"no version":    `{"runs":[]}`,
		"line 0":        `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a"},"region":{"startLine":0}}}]}]}]}`,
		"relative help": `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x","rules":[{"id":"R","helpUri":"not a uri"}]}}}]}`,
	} {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if sch.Validate(inst) == nil {
			t.Errorf("%s: the schema accepted an invalid log", name)
		}
	}
}

func TestNoCredentialInAnyOutput(t *testing.T) {
	// kdaguard() fails the test when a credential appears; run every format
	// and the rule subsets that mention runtime properties.
	for _, format := range []string{"table", "json", "sarif"} {
		for _, args := range [][]string{
			{"check", "--format", format, pipeline},
			{"check", "--format", format, "--strict", "--rule", "KDA.DP.5,KDA.DP.3", pipeline},
		} {
			if r := kdaguard(t, args...); r.code != 1 {
				t.Errorf("%v: exit %d, want 1", args, r.code)
			}
		}
	}
	// The fixture does hold them, so the check above means something.
	b, err := os.ReadFile(pipeline)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if !bytes.Contains(b, []byte(s)) {
			t.Fatalf("fixture lost credential %q", s)
		}
	}
}

func TestRulesJSON(t *testing.T) {
	r := kdaguard(t, "rules", "--format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("not a JSON array: %v", err)
	}
	all := rules.All()
	if len(got) != len(all) || len(got) != 23 {
		t.Fatalf("%d rules, want %d", len(got), len(all))
	}
	topics := []string{"data-protection", "iam", "monitoring", "compliance", "resilience", "infrastructure", "best-practices"}
	for i, g := range got {
		if g["id"] != all[i].ID || g["title"] != all[i].Title {
			t.Errorf("rule %d: %v, want %s %q", i, g["id"], all[i].ID, all[i].Title)
		}
		if tp, _ := g["topic"].(string); !slices.Contains(topics, tp) {
			t.Errorf("%v: topic %v", g["id"], g["topic"])
		}
		if s, _ := g["severity"].(string); s != all[i].Severity.String() {
			t.Errorf("%v: severity %v", g["id"], g["severity"])
		}
		if rm, _ := g["remediation"].(string); !slices.Contains([]string{"auto", "opt-in", "none"}, rm) || rm != string(all[i].Remediation.Kind) {
			t.Errorf("%v: remediation %v", g["id"], g["remediation"])
		}
	}
}

func TestRulesTableAndMarkdown(t *testing.T) {
	table := kdaguard(t, "rules")
	md := kdaguard(t, "rules", "--format", "markdown")
	if table.code != 0 || md.code != 0 {
		t.Fatalf("exit %d / %d", table.code, md.code)
	}
	for _, r := range rules.All() {
		if !strings.Contains(table.stdout, r.ID) {
			t.Errorf("table lacks %s", r.ID)
		}
		if !strings.Contains(md.stdout, "## "+r.ID+": ") || !strings.Contains(md.stdout, r.Doc) {
			t.Errorf("markdown lacks the section or documentation link of %s", r.ID)
		}
		for _, p := range r.Params {
			if !strings.Contains(md.stdout, "`"+p.Name+"`") {
				t.Errorf("markdown lacks parameter %s of %s", p.Name, r.ID)
			}
		}
	}
}

// TestDocsUpToDate fails when docs/rules.md no longer matches the catalog.
func TestDocsUpToDate(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteRulesMarkdown(&b, rules.All()); err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatalf("docs/rules.md: %v: run `make docs`", err)
	}
	if !bytes.Equal(committed, b.Bytes()) {
		t.Fatalf("docs/rules.md is stale: it does not match the rule catalog; run `make docs` (or `go generate ./cmd/kdaguard`) and commit it")
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"check", "--help"}, {"rules", "-h"}} {
		r := kdaguard(t, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage") {
			t.Errorf("%v: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
	if r := kdaguard(t, "check", "--help"); !strings.Contains(r.stdout, "-fail-on") || !strings.Contains(r.stdout, "-strict") {
		t.Errorf("check --help lacks flags:\n%s", r.stdout)
	}
	if r := kdaguard(t, "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "kdaguard ") {
		t.Errorf("version: exit %d, %q", r.code, r.stdout)
	}
	if r := kdaguard(t); r.code != 2 || !strings.Contains(r.stderr, "Usage") {
		t.Errorf("no arguments: exit %d", r.code)
	}
}

func TestInternalErrorIsOneLine(t *testing.T) {
	defer func(f func() time.Time) { now = f }(now)
	now = func() time.Time { panic("clock broke\nsecond line") }
	r := kdaguard(t, "check", pipeline)
	if r.code != 2 || r.stderr != "kdaguard: internal error: clock broke; second line\n" || r.stdout != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestBinary builds kdaguard and runs it as a process: main's exit codes
// and no stack trace on bad input.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not on PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "kdaguard")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"version"}, 0, ""},
		{[]string{"check", "--fail-on", "HIGH", describeLow}, 0, ""},
		{[]string{"check", "--as-of", "2025-06-01", describeLow}, 1, ""},
		{[]string{"check", broken}, 2, "kdaguard: " + broken + ": "},
		{[]string{"check", "--fail-on", "sometimes", pipeline}, 2, "kdaguard: check: --fail-on"},
	} {
		cmd := exec.Command(bin, tc.args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out.String(), errb.String())
		}
		if tc.stderr != "" && !strings.HasPrefix(errb.String(), tc.stderr) {
			t.Errorf("%v: stderr %q, want it to start with %q", tc.args, errb.String(), tc.stderr)
		}
		if strings.Contains(errb.String(), "goroutine") || strings.Contains(errb.String(), "panic") {
			t.Errorf("%v: stack trace:\n%s", tc.args, errb.String())
		}
		if tc.code == 2 && strings.Count(strings.TrimSpace(errb.String()), "\n") > 1 {
			t.Errorf("%v: stderr is more than a message and a hint:\n%s", tc.args, errb.String())
		}
	}
}
