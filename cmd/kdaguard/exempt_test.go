package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const exemptTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Resources:
  OrdersApp:
    Type: AWS::KinesisAnalyticsV2::Application
    Properties:
      ApplicationName: orders
      RuntimeEnvironment: FLINK-1_20
      ServiceExecutionRole: arn:aws:iam::123456789012:role/orders-flink
      ApplicationConfiguration:
        FlinkApplicationConfiguration:
          CheckpointConfiguration:
            ConfigurationType: CUSTOM
            CheckpointingEnabled: false
      Tags:
        - Key: %KEY%
          Value: KDA.RES.1
        - Key: %KEY%-until
          Value: "2027-01-31"
`

// Exemption tags are honoured by check as by the functions: the exempt rule
// is NOT_APPLICABLE naming the tag until the -until date, then reported again.
func TestCheckHonoursExemptionTags(t *testing.T) {
	for _, tc := range []struct {
		name, key, asOf string
		flags           []string
		want, contains  string
	}{
		{"exempt", "kdaguard:exempt", "2026-11-27", nil, "NOT_APPLICABLE", "exempt by tag kdaguard:exempt"},
		{"lapsed", "kdaguard:exempt", "2027-02-01", nil, "NON_COMPLIANT", "lapsed"},
		{"other tag key", "team:exempt", "2026-11-27", nil, "NON_COMPLIANT", "checkpointing"},
		{"--exempt-tag", "team:exempt", "2026-11-27", []string{"--exempt-tag", "team:exempt"}, "NOT_APPLICABLE", "team:exempt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KDAGUARD_EXEMPT_TAG", "")
			path := filepath.Join(t.TempDir(), "app.yaml")
			if err := os.WriteFile(path, []byte(strings.ReplaceAll(exemptTemplate, "%KEY%", tc.key)), 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"check", "--format", "json", "--rule", "KDA.RES.1", "--as-of", tc.asOf}, tc.flags...)
			var out, errb bytes.Buffer
			run(append(args, path), &out, &errb)
			var res struct {
				Findings []struct{ Status, Message string }
			}
			if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res.Findings) != 1 {
				t.Fatalf("output %q (%v), stderr %q", out.String(), err, errb.String())
			}
			if f := res.Findings[0]; f.Status != tc.want || !strings.Contains(f.Message, tc.contains) {
				t.Errorf("got %s %q, want %s containing %q", f.Status, f.Message, tc.want, tc.contains)
			}
		})
	}
}
