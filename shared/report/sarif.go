package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/kdaguard/kdaguard/shared/rules"
)

// SARIF 2.1.0 output, for code scanning (GitHub, GitLab, Azure DevOps...).
//
// Results: a NON_COMPLIANT finding is a result of level "error" (CRITICAL,
// HIGH), "warning" (MEDIUM, LOW) or "note" (INFORMATIONAL). An UNKNOWN finding
// (a fact kdaguard could not read) is always reported, so that what was not
// verified is visible: level "note" by default, "warning" with Strict, the
// mode in which UNKNOWN fails the check. COMPLIANT and NOT_APPLICABLE
// findings are not results.
//
// Each result points at the file the application was read from
// (artifactLocation.uri relative to SARIFOptions.BaseDir when the file is
// under it) and, when known, at the resource's line; its logical location is
// the resource (template logical id or application name).

// SARIFSchemaURI is the schema the output declares.
const SARIFSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// SARIFOptions tune the SARIF output.
type SARIFOptions struct {
	Version string // kdaguard's version
	// BaseDir is the directory relative URIs are taken from (the working
	// directory); files outside it get absolute file: URIs.
	BaseDir string
	Strict  bool // UNKNOWN fails the check: report it as a warning
	// Rules described in tool.driver.rules; nil means the whole catalog.
	Rules []*rules.Rule
}

// InformationURI is kdaguard's home page.
const InformationURI = "https://github.com/kdaguard/kdaguard"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                   `json:"tool"`
	OriginalURIBaseIDs map[string]sarifArtifactLoc `json:"originalUriBaseIds,omitempty"`
	Results            []sarifResult               `json:"results"`
	ColumnKind         string                      `json:"columnKind,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string            `json:"name"`
	Version        string            `json:"version,omitempty"`
	InformationURI string            `json:"informationUri"`
	Rules          []sarifDescriptor `json:"rules"`
}

type sarifMultiformatMsg struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifDescriptor struct {
	ID                   string              `json:"id"`
	Name                 string              `json:"name"`
	ShortDescription     sarifMultiformatMsg `json:"shortDescription"`
	FullDescription      sarifMultiformatMsg `json:"fullDescription"`
	HelpURI              string              `json:"helpUri,omitempty"`
	Help                 sarifMultiformatMsg `json:"help"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
	Properties sarifRuleProps `json:"properties"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity"`
	Precision        string   `json:"precision"`
	ProblemSeverity  string   `json:"problem.severity"`
	Severity         string   `json:"kdaguard.severity"`
	Topic            string   `json:"kdaguard.topic"`
	Remediation      string   `json:"kdaguard.remediation"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifMessage      `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]string `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
	Region           *sarifRegion     `json:"region,omitempty"`
}

type sarifArtifactLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind"`
}

// srcRoot is the uriBaseId of relative artifact URIs.
const srcRoot = "SRCROOT"

// WriteSARIF writes items as a SARIF 2.1.0 log with one run.
func WriteSARIF(w io.Writer, items []Item, opt SARIFOptions) error {
	rs := opt.Rules
	if rs == nil {
		rs = rules.All()
	}
	index := make(map[string]int, len(rs))
	drv := sarifDriver{Name: "kdaguard", Version: opt.Version, InformationURI: InformationURI,
		Rules: make([]sarifDescriptor, 0, len(rs))}
	for i, r := range rs {
		index[r.ID] = i
		drv.Rules = append(drv.Rules, descriptor(r))
	}
	run := sarifRun{Tool: sarifTool{Driver: drv}, Results: []sarifResult{}, ColumnKind: "unicodeCodePoints"}
	relative := false
	for _, it := range items {
		f := it.Finding
		var level string
		switch f.Status {
		case rules.NonCompliant:
			level = severityLevel(f.EffectiveSeverity())
		case rules.Unknown:
			level = "note"
			if opt.Strict {
				level = "warning"
			}
		default:
			continue
		}
		idx, ok := index[f.Rule.ID]
		if !ok { // a rule outside opt.Rules: describe it too
			idx = len(run.Tool.Driver.Rules)
			index[f.Rule.ID] = idx
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, descriptor(f.Rule))
		}
		loc := artifact(it.File, opt.BaseDir)
		relative = relative || loc.URIBaseID != ""
		phys := sarifPhysical{ArtifactLocation: loc}
		if line := it.Line(); line > 0 {
			phys.Region = &sarifRegion{StartLine: line}
		}
		res := it.Resource()
		var logical []sarifLogical
		if res != "" {
			logical = []sarifLogical{{Name: res, FullyQualifiedName: loc.URI + "#" + res, Kind: "resource"}}
		}
		sum := sha256.Sum256([]byte(f.Rule.ID + "\x00" + loc.URI + "\x00" + res))
		run.Results = append(run.Results, sarifResult{
			RuleID: f.Rule.ID, RuleIndex: idx, Level: level,
			Message:             sarifMessage{Text: messageText(f)},
			Locations:           []sarifLocation{{PhysicalLocation: phys, LogicalLocations: logical}},
			PartialFingerprints: map[string]string{"kdaguardFinding/v1": hex.EncodeToString(sum[:16])},
			Properties: map[string]string{"status": string(f.Status), "severity": f.EffectiveSeverity().String(),
				"resource": res},
		})
	}
	if relative {
		run.OriginalURIBaseIDs = map[string]sarifArtifactLoc{srcRoot: {URI: dirURI(opt.BaseDir)}}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{Schema: SARIFSchemaURI, Version: "2.1.0", Runs: []sarifRun{run}})
}

func messageText(f rules.Finding) string {
	msg := f.Message
	if msg == "" {
		msg = f.Rule.Title
	}
	if f.Status == rules.Unknown {
		return f.Rule.Title + ": not verified: " + msg
	}
	return msg
}

// severityLevel maps a NON_COMPLIANT finding's severity to a SARIF level.
func severityLevel(s rules.Severity) string {
	switch {
	case s >= rules.High:
		return "error"
	case s >= rules.Low:
		return "warning"
	default:
		return "note"
	}
}

// SecuritySeverity is the CVSS-like score code scanning sorts by (GitHub:
// 9.0+ critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low).
func SecuritySeverity(s rules.Severity) string {
	switch s {
	case rules.Critical:
		return "9.5"
	case rules.High:
		return "8.0"
	case rules.Medium:
		return "5.5"
	case rules.Low:
		return "3.0"
	default:
		return "0.0"
	}
}

func descriptor(r *rules.Rule) sarifDescriptor {
	d := sarifDescriptor{
		ID:               r.ID,
		Name:             pascal(r.Title),
		ShortDescription: sarifMultiformatMsg{Text: r.Title},
		FullDescription:  sarifMultiformatMsg{Text: r.Rationale},
		HelpURI:          r.Doc,
	}
	help := r.Rationale
	if r.Remediation.Kind != rules.RemediationNone && r.Remediation.Description != "" {
		help += "\n\nRemediation (" + string(r.Remediation.Kind) + ", " + r.Remediation.Call + "): " + r.Remediation.Description
	}
	if r.Doc != "" {
		help += "\n\nDocumentation: " + r.Doc
	}
	d.Help = sarifMultiformatMsg{Text: help}
	d.DefaultConfiguration.Level = severityLevel(r.Severity)
	tags := []string{"security", string(r.Topic)}
	for _, n := range r.NIST {
		tags = append(tags, "NIST-800-53:"+n)
	}
	for _, p := range r.PCI {
		tags = append(tags, "PCI-DSS-4.0:"+p)
	}
	d.Properties = sarifRuleProps{Tags: tags, SecuritySeverity: SecuritySeverity(r.Severity), Precision: "high",
		ProblemSeverity: problemSeverity(r.Severity), Severity: r.Severity.String(), Topic: string(r.Topic),
		Remediation: string(r.Remediation.Kind)}
	return d
}

func problemSeverity(s rules.Severity) string {
	switch severityLevel(s) {
	case "error":
		return "error"
	case "warning":
		return "warning"
	default:
		return "recommendation"
	}
}

// pascal turns a title into a rule name: "Snapshots are enabled" ->
// "SnapshotsAreEnabled".
func pascal(title string) string {
	var b strings.Builder
	up := true
	for _, r := range title {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// artifact locates file: relative to base (with uriBaseId) when under it,
// else as an absolute file: URI.
func artifact(file, base string) sarifArtifactLoc {
	if file == "" {
		return sarifArtifactLoc{URI: "unknown"}
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return sarifArtifactLoc{URI: pathURI(filepath.ToSlash(file))}
	}
	if base != "" {
		if absBase, err := filepath.Abs(base); err == nil {
			if rel, err := filepath.Rel(absBase, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return sarifArtifactLoc{URI: pathURI(filepath.ToSlash(rel)), URIBaseID: srcRoot}
			}
		}
	}
	return sarifArtifactLoc{URI: (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()}
}

// pathURI escapes a relative slash path as a URI reference.
func pathURI(p string) string { return (&url.URL{Path: p}).String() }

// dirURI is base as an absolute file: URI ending in a slash.
func dirURI(base string) string {
	abs, err := filepath.Abs(base)
	if err != nil {
		abs = base
	}
	p := filepath.ToSlash(abs)
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}
