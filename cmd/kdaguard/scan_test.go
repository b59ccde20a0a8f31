package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"

	"github.com/kdaguard/kdaguard/internal/localaws"
	"github.com/kdaguard/kdaguard/internal/localaws/localawstest"
)

// startDemo starts localaws with the demo seed (the same file `make demo`
// uses) and points the default AWS configuration at it.
func startDemo(t *testing.T) *localawstest.Env {
	t.Helper()
	env := localawstest.Start(t)
	env.SetEnv(t)
	data, err := os.ReadFile("../../internal/demo/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	var calls []localaws.SeedCall
	if err := json.Unmarshal(data, &calls); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Seed(calls); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"KDAGUARD_MODE", "KDAGUARD_RULE_MODES", "KDAGUARD_MAX_CHANGES"} {
		t.Setenv(k, "")
	}
	return env
}

func TestScanReportsLiveApplicationsAndWritesNothing(t *testing.T) {
	env := startDemo(t)
	var out, errb bytes.Buffer
	code := run([]string{"scan", "--format", "json", "--as-of", "2026-11-27"}, &out, &errb)
	if code != exitFindings {
		t.Fatalf("exit %d, want 1; stderr: %s", code, errb.String())
	}
	var res struct {
		Findings []struct{ Resource, Rule, Status string }
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("json: %v\n%s", err, out.String())
	}
	got := map[string]string{}
	for _, f := range res.Findings {
		got[f.Resource+" "+f.Rule] = f.Status
	}
	for key, want := range map[string]string{
		"orders-enrichment KDA.RES.1":    "NON_COMPLIANT",
		"orders-enrichment KDA.DP.5":     "NON_COMPLIANT",
		"orders-enrichment KDA.IAM.1":    "COMPLIANT",
		"clickstream-sessions KDA.IAM.1": "NON_COMPLIANT",
		"clickstream-sessions KDA.RES.4": "NON_COMPLIANT",
	} {
		if got[key] != want {
			t.Errorf("%s = %q, want %s", key, got[key], want)
		}
	}
	if strings.Contains(out.String()+errb.String(), "demo-Plaintext-Pa55word") {
		t.Error("a planted credential reached the output")
	}
	if strings.Contains(out.String(), `"file"`) {
		t.Error("scan JSON names a file; live applications have none")
	}
	var table bytes.Buffer
	run([]string{"scan", "--rule", "KDA.RES.1"}, &table, &errb)
	if !strings.HasPrefix(table.String(), "  STATUS") {
		t.Errorf("scan table should start with its column heading, not a file heading:\n%s", table.String())
	}
	for _, e := range env.Journal() {
		if !strings.HasPrefix(e.Operation, "Describe") && !strings.HasPrefix(e.Operation, "List") && !strings.HasPrefix(e.Operation, "Get") {
			t.Errorf("scan without --apply made %s:%s", e.Service, e.Operation)
		}
	}
}

func TestScanApplyMergesFixesAndHonoursBlastRadius(t *testing.T) {
	env := startDemo(t)
	var out, errb bytes.Buffer
	code := run([]string{"scan", "--apply", "--max-changes", "1", "--app", "orders-enrichment,clickstream-sessions"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d; stderr: %s", code, errb.String())
	}
	if n := env.Count("kinesisanalyticsv2", "UpdateApplication"); n != 1 {
		t.Errorf("UpdateApplication calls = %d, want 1 (one merged update, one application within the blast radius)", n)
	}
	if !strings.Contains(out.String(), "verified") || !strings.Contains(out.String(), "blast radius") {
		t.Errorf("output should show a verified fix and a blast-radius deferral:\n%s", out.String())
	}
	if strings.Contains(out.String()+errb.String(), "demo-Plaintext-Pa55word") {
		t.Error("a planted credential reached the output or the audit log")
	}
}

// --rule narrows what --apply changes: only the selected rule's fix is made.
func TestScanApplyHonoursRuleSelection(t *testing.T) {
	env := startDemo(t)
	var out, errb bytes.Buffer
	code := run([]string{"scan", "--apply", "--rule", "KDA.MON.2", "--app", "orders-enrichment"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d; stderr: %s", code, errb.String())
	}
	if n := env.Count("kinesisanalyticsv2", "UpdateApplication"); n != 1 {
		t.Fatalf("UpdateApplication calls = %d, want 1 (MON.2's fix)", n)
	}
	for _, e := range env.Journal() {
		if e.Operation == "AddApplicationCloudWatchLoggingOption" || e.Operation == "CreateLogGroup" || e.Operation == "EnableKeyRotation" {
			t.Errorf("a rule outside --rule made %s", e.Operation)
		}
	}
	got, err := kinesisanalyticsv2.NewFromConfig(env.AWSConfig(context.Background())).DescribeApplication(context.Background(),
		&kinesisanalyticsv2.DescribeApplicationInput{ApplicationName: aws.String("orders-enrichment")})
	if err != nil {
		t.Fatal(err)
	}
	d := got.ApplicationDetail
	flink := d.ApplicationConfigurationDescription.FlinkApplicationConfigurationDescription
	if aws.ToBool(flink.CheckpointConfigurationDescription.CheckpointingEnabled) {
		t.Error("checkpointing was enabled: RES.1 was applied though only KDA.MON.2 was selected")
	}
	if flink.MonitoringConfigurationDescription.LogLevel == "DEBUG" {
		t.Error("log level still DEBUG: MON.2's fix was not applied")
	}
}

func TestScanRejectsBadUsage(t *testing.T) {
	for _, args := range [][]string{{"scan", "extra"}, {"scan", "--format", "sarif"}, {"scan", "--rule", "KDA.NOPE.1"},
		{"scan", "--rule="}, {"scan", "--rule", "KDA.RES.1,"}, {"scan", "--app="},
		{"scan", "--apply", "--max-changes", "-5"}, {"scan", "--apply", "--max-changes", "ten"}, {"scan", "--max-changes", "3"},
		{"scan", "--apply", "--as-of", "2030-01-01"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitError {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	t.Setenv("KDAGUARD_MODE", "sometimes")
	var out, errb bytes.Buffer
	if code := run([]string{"scan"}, &out, &errb); code != exitError || !strings.Contains(errb.String(), "KDAGUARD_MODE") {
		t.Errorf("bad KDAGUARD_MODE: exit %d, stderr %q", code, errb.String())
	}
}
