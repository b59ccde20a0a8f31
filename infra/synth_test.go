package main

// These tests run the real thing: `cdk synth` of cdk.json's app through the
// npm CLI, offline, on the Makefile's dist/ binaries, then cfn-guard from
// @cdklabs/cdk-validator-cfnguard with its AWS Control Tower rules on the
// template. `make test` installs the tools and builds dist/ first; a plain
// `go test ./...` works after `make tools build`. With CI=true a missing tool
// or binary fails the test instead of skipping it.

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kdaguard/kdaguard/infra/stack"
	"github.com/kdaguard/kdaguard/shared/rules"
)

func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// unavailable fails under CI and skips elsewhere.
func unavailable(t *testing.T, format string, a ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, a...)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: a missing tool fails)")
	}
	t.Skip(msg)
}

func cdkBin(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		unavailable(t, "node is not installed")
	}
	p := filepath.Join(root(t), "node_modules", ".bin", "cdk")
	if _, err := os.Stat(p); err != nil {
		unavailable(t, "%s missing: run `make tools` (npm ci)", p)
	}
	return p
}

func guardBin(t *testing.T) (bin, rulesDir string) {
	t.Helper()
	pkg := filepath.Join(root(t), "node_modules", "@cdklabs", "cdk-validator-cfnguard")
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	osDir := map[string]string{"linux": "ubuntu", "darwin": "macos"}[runtime.GOOS]
	bin = filepath.Join(pkg, "bin", osDir, arch, "cfn-guard")
	rulesDir = filepath.Join(pkg, "rules", "control-tower", "cfn-guard")
	for _, p := range []string{bin, rulesDir} {
		if _, err := os.Stat(p); err != nil {
			unavailable(t, "%s missing: run `make tools` (npm ci)", p)
		}
	}
	return bin, rulesDir
}

func distDir(t *testing.T) string {
	t.Helper()
	d := os.Getenv("KDAGUARD_DIST_DIR")
	if d == "" {
		d = filepath.Join(root(t), "dist")
	} else if !filepath.IsAbs(d) {
		d = filepath.Join(root(t), d)
	}
	if err := stack.CheckDist(d); err != nil {
		unavailable(t, "%v", err)
	}
	return d
}

// cdkSynth runs `cdk synth` from the repository root, offline: every proxy
// points at a closed port, Go may not download modules, IMDS is off.
func cdkSynth(t *testing.T, dist string, args ...string) (outDir string, output []byte, err error) {
	t.Helper()
	outDir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cdkBin(t), append([]string{"synth", "-q", "--no-notices", "-o", outDir}, args...)...)
	cmd.Dir = root(t)
	cmd.Env = append(os.Environ(),
		"KDAGUARD_DIST_DIR="+dist,
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20",
		"AWS_EC2_METADATA_DISABLED=true",
		"CDK_DISABLE_CLI_TELEMETRY=true",
		"HTTP_PROXY=http://127.0.0.1:9", "HTTPS_PROXY=http://127.0.0.1:9",
		"http_proxy=http://127.0.0.1:9", "https_proxy=http://127.0.0.1:9", "NO_PROXY=", "no_proxy=",
		"GOPROXY=off", "GOFLAGS=-mod=readonly",
	)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err = cmd.Run()
	return outDir, buf.Bytes(), err
}

// TestSynthAndControlTower synthesizes the app with the CLI and validates
// the template with cfn-guard against the AWS Control Tower rules.
func TestSynthAndControlTower(t *testing.T) {
	dist := distDir(t)
	guard, rulesDir := guardBin(t)
	start := time.Now()
	out, output, err := cdkSynth(t, dist)
	t.Logf("cdk synth (offline) took %s", time.Since(start).Round(100*time.Millisecond))
	if err != nil {
		t.Fatalf("cdk synth: %v\n%s", err, output)
	}
	tmplPath := filepath.Join(out, "Kdaguard.template.json")
	raw, err := os.ReadFile(tmplPath)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range tmpl.Resources {
		if r.Type == "AWS::Config::ConfigRule" {
			n++
		}
	}
	if n != len(rules.All()) {
		t.Errorf("%d Config rules, catalog has %d", n, len(rules.All()))
	}
	checkAssets(t, out)

	// cfn-guard writes one JSON document per rule file; exit code 19 means
	// some rule failed, which the exceptions decide.
	cmd := exec.Command(guard, "validate", "-r", rulesDir, "-d", tmplPath, "--show-summary", "none", "-o", "json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 19) {
		t.Fatalf("cfn-guard: %v\n%s", err, stderr.String())
	}
	failures, checked, err := guardFailures(&stdout)
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("cfn-guard reported on only %d rules", checked)
	}
	exc := loadExceptions(t)
	used := make([]bool, len(exc))
	var keys []string
	for k := range failures {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		rule, res, _ := strings.Cut(k, " ")
		ok := false
		for i, e := range exc {
			if e.Rule == rule && e.matches(res) {
				ok, used[i] = true, true
			}
		}
		if !ok {
			t.Errorf("cfn-guard %s fails on %s, and infra/cfn-guard-exceptions.json does not justify it:\n%s", rule, res, failures[k])
		} else {
			t.Logf("accepted (see exceptions): %s on %s", rule, res)
		}
	}
	for i, e := range exc {
		if !used[i] {
			t.Errorf("exception %s (%v) matches no finding any more: remove it", e.Rule, e.Resources)
		}
	}
	t.Logf("cfn-guard: %d Control Tower rules evaluated, %d findings, all justified", checked, len(failures))
}

// checkAssets: each function's asset is the Makefile's linux/arm64 binary.
func checkAssets(t *testing.T, out string) {
	var manifest struct {
		Files map[string]struct {
			Source struct{ Path string }
		}
	}
	raw, err := os.ReadFile(filepath.Join(out, "Kdaguard.assets.json"))
	if err == nil {
		err = json.Unmarshal(raw, &manifest)
	}
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range manifest.Files {
		p := filepath.Join(out, f.Source.Path, "bootstrap")
		if _, err := os.Stat(p); err != nil {
			continue
		}
		n++
		e, err := elf.Open(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if e.Machine != elf.EM_AARCH64 {
			t.Errorf("%s is %v, want linux/arm64", p, e.Machine)
		}
		e.Close()
	}
	if n == 0 {
		t.Error("no function asset with a bootstrap in the cloud assembly")
	}
}

var resourcePath = regexp.MustCompile(`^/Resources/([^/]+)`)

// guardFailures reads cfn-guard's JSON stream and returns "rule resource" ->
// first message for every failing rule and resource, and how many rules
// reported.
func guardFailures(r io.Reader) (map[string]string, int, error) {
	dec := json.NewDecoder(r)
	out := map[string]string{}
	n := 0
	for {
		var doc struct {
			Status       string
			NotCompliant []any `json:"not_compliant"`
		}
		if err := dec.Decode(&doc); err == io.EOF {
			return out, n, nil
		} else if err != nil {
			return nil, n, fmt.Errorf("cfn-guard output: %w", err)
		}
		n++
		for _, nc := range doc.NotCompliant {
			rule, _ := nc.(map[string]any)["Rule"].(map[string]any)
			name, _ := rule["name"].(string)
			var msg string
			walk(rule, func(k string, v any) {
				if s, ok := v.(string); ok {
					if k == "path" {
						if m := resourcePath.FindStringSubmatch(s); m != nil {
							if _, seen := out[name+" "+m[1]]; !seen {
								out[name+" "+m[1]] = strings.TrimSpace(msg)
							}
						}
					}
					if k == "custom_message" && msg == "" {
						msg = s
					}
				}
			})
		}
	}
}

func walk(v any, f func(k string, v any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			f(k, x)
			walk(x, f)
		}
	case []any:
		for _, x := range v {
			walk(x, f)
		}
	}
}

type exception struct {
	Rule      string   `json:"rule"`
	Control   string   `json:"control"`
	Resources []string `json:"resources"`
	Reason    string   `json:"reason"`
}

func (e exception) matches(id string) bool {
	for _, p := range e.Resources {
		if ok, _ := path.Match(p, id); ok {
			return true
		}
	}
	return false
}

func loadExceptions(t *testing.T) []exception {
	raw, err := os.ReadFile(filepath.Join(root(t), "infra", "cfn-guard-exceptions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Exceptions []exception `json:"exceptions"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("cfn-guard-exceptions.json: %v", err)
	}
	for _, e := range f.Exceptions {
		if e.Rule == "" || e.Control == "" || len(e.Resources) == 0 || len(e.Reason) < 80 {
			t.Errorf("exception %+v: needs rule, control, resources and a written reason", e)
		}
	}
	return f.Exceptions
}

// A bad context value and missing binaries stop synth with a message that
// says what to do.
func TestSynthRefuses(t *testing.T) {
	dist := distDir(t)
	_, output, err := cdkSynth(t, dist, "-c", "scheduleFrequency=Hourly")
	if err == nil || !strings.Contains(string(output), `context parameter "scheduleFrequency"`) {
		t.Errorf("bad scheduleFrequency: err %v, output:\n%s", err, output)
	}
	_, output, err = cdkSynth(t, t.TempDir())
	if err == nil || !strings.Contains(string(output), "run `make build`") {
		t.Errorf("missing binaries: err %v, output:\n%s", err, output)
	}
}
