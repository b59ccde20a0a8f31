package source_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdaguard/kdaguard/shared/source"
)

const describeJSON = "describe/testdata/flink-full.json"

const yamlTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: kinesisanalytics.amazonaws.com}
            Action: sts:AssumeRole
  Sessions:
    Type: AWS::KinesisAnalyticsV2::Application
    Properties:
      ApplicationName: !Sub sessions-${AWS::Region}
      RuntimeEnvironment: FLINK-1_20
      ServiceExecutionRole: !GetAtt Role.Arn
`

const jsonTemplate = `{
  "Resources": {
    "Clicks": {
      "Type": "AWS::KinesisAnalyticsV2::Application",
      "Properties": {"ApplicationName": "clicks", "RuntimeEnvironment": "FLINK-1_20", "ServiceExecutionRole": "arn:aws:iam::123456789012:role/clicks"}
    }
  }
}
`

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadDescribeJSON(t *testing.T) {
	apps, err := source.Load(describeJSON)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 {
		t.Fatalf("%d applications", len(apps))
	}
	a := apps[0]
	if a.Name != "orders-enrichment" || a.Origin.File != describeJSON || a.Origin.LogicalID != "" || a.Resource() != "orders-enrichment" {
		t.Errorf("application %q origin %+v resource %q", a.Name, a.Origin, a.Resource())
	}
}

func TestLoadTemplates(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content, logicalID string
		line                     int
	}{
		{"app.yaml", yamlTemplate, "Sessions", 12},
		{"app.template.json", jsonTemplate, "Clicks", 3},
	} {
		p := write(t, dir, tc.name, tc.content)
		apps, err := source.Load(p)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(apps) != 1 || apps[0].Origin.LogicalID != tc.logicalID || apps[0].Origin.File != p || apps[0].Origin.Line != tc.line {
			t.Fatalf("%s: %d apps, origin %+v; want %s line %d", tc.name, len(apps), apps[0].Origin, tc.logicalID, tc.line)
		}
		if apps[0].Resource() != tc.logicalID {
			t.Errorf("%s: resource %q", tc.name, apps[0].Resource())
		}
	}
	// A template without an application is no error.
	p := write(t, dir, "empty.yaml", "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n")
	if apps, err := source.Load(p); err != nil || len(apps) != 0 {
		t.Errorf("template without application: %d apps, %v", len(apps), err)
	}
}

func TestLoadAssembly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cdk.out")
	write(t, dir, "manifest.json", `{"version": "36.0.0", "artifacts": {"Stack": {"type": "aws:cloudformation:stack",
		"environment": "aws://unknown-account/unknown-region", "properties": {"templateFile": "Stack.template.json"}}}}`)
	tmpl := write(t, dir, "Stack.template.json", jsonTemplate)
	apps, err := source.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || apps[0].Origin.LogicalID != "Clicks" || apps[0].Origin.File != tmpl {
		t.Fatalf("assembly: %d apps, origin %+v; want Clicks in %s", len(apps), apps[0].Origin, tmpl)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	badYAML := write(t, dir, "bad.yaml", "Resources:\n  App: [unclosed\n")
	notTemplate := write(t, dir, "other.json", `{"Description": "no resources"}`)
	badDescribe := write(t, dir, "describe.json", `{"ApplicationDetail": {"ApplicationName": 7}}`)
	badManifest := write(t, filepath.Join(dir, "cdk.out"), "manifest.json", "{not json")
	plainDir := filepath.Join(dir, "plain")
	os.Mkdir(plainDir, 0o755)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{filepath.Join(dir, "missing.yaml"), []string{"no such file or directory"}},
		{filepath.Join(badYAML, "under-a-file.yaml"), []string{"not a directory"}},
		{plainDir, []string{"without manifest.json"}},
		{badYAML, []string{"line"}},
		{notTemplate, []string{"no Resources"}},
		{badDescribe, []string{"DescribeApplication"}},
		{filepath.Dir(badManifest), []string{"manifest.json"}},
	} {
		_, err := source.Load(tc.path)
		if err == nil {
			t.Errorf("%s: no error", tc.path)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, tc.path) {
			t.Errorf("%s: error does not start with the path: %q", tc.path, msg)
		}
		if strings.Count(msg, tc.path+":") != 1 && !strings.Contains(tc.path, "cdk.out") {
			t.Errorf("%s: path repeated: %q", tc.path, msg)
		}
		if strings.ContainsAny(msg, "\r\n") {
			t.Errorf("%s: multi-line error %q", tc.path, msg)
		}
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: error %q lacks %q", tc.path, msg, w)
			}
		}
	}
	if _, err := source.Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, fs.ErrNotExist) && !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.json")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(source.MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := source.Load(p); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("huge file: %v", err)
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                   "plain",
		"a\nb":                    "a; b",
		" first \r\n  second\n\n": "first; second",
	} {
		if got := source.OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
