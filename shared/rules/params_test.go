package rules_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kdaguard/kdaguard/shared/rules"
)

func TestParamErrors(t *testing.T) {
	cases := []struct {
		rule      string
		overrides map[string]string
		want      []string // substrings of the error
	}{
		{"KDA.MON.2", map[string]string{"allowedLevels": "INFO"}, strs("KDA.MON.2", `unknown parameter "allowedLevels"`, "allowedLogLevels, targetLogLevel")},
		{"KDA.DP.5", map[string]string{"maxSecrets": "1"}, strs("KDA.DP.5", `"maxSecrets"`, "known: none")},
		{"KDA.RES.5", map[string]string{"maxSnapshotAgeHours": "one day"}, strs("KDA.RES.5", "maxSnapshotAgeHours", `"one day"`, "whole number")},
		{"KDA.RES.5", map[string]string{"maxSnapshots": "-1"}, strs("KDA.RES.5", "maxSnapshots", "whole number")},
		{"KDA.RES.5", map[string]string{"maxSnapshots": "1.5"}, strs("maxSnapshots")},
		{"KDA.MON.3", map[string]string{"retentionDays": ""}, strs("KDA.MON.3", "retentionDays")},
		{"KDA.RES.4", map[string]string{"endOfSupport": "FLINK-1_11=2025-02-30"}, strs("KDA.RES.4", "endOfSupport", "FLINK-1_11=2025-02-30", "YYYY-MM-DD")},
		{"KDA.RES.4", map[string]string{"endOfSupport": "FLINK-1_11=05/02/2025"}, strs("KDA.RES.4", "endOfSupport", "YYYY-MM-DD")},
		{"KDA.RES.4", map[string]string{"upgradeRecommended": "FLINK-1_13,FLINK-1_15=soon"}, strs("KDA.RES.4", "upgradeRecommended", "FLINK-1_15=soon")},
		{"KDA.MON.2", map[string]string{"allowedLogLevels": "INFO,TRACE"}, strs("KDA.MON.2", "allowedLogLevels", `"TRACE"`, "DEBUG, INFO, WARN, ERROR")},
		{"KDA.MON.2", map[string]string{"targetLogLevel": "INFO,WARN"}, strs("KDA.MON.2", "targetLogLevel", `"INFO,WARN"`)},
		// A blank override is an error, never "no value" (it made FLINK-1_6 COMPLIANT,
		// MON.4 COMPLIANT with no alarm, and planned calls with empty arguments).
		{"KDA.RES.4", map[string]string{"endOfSupport": ""}, strs("KDA.RES.4", "endOfSupport", "empty")},
		{"KDA.RES.4", map[string]string{"upgradeRecommended": " "}, strs("KDA.RES.4", "upgradeRecommended", "empty")},
		{"KDA.MON.4", map[string]string{"requiredMetrics": ""}, strs("KDA.MON.4", "requiredMetrics", "empty")},
		{"KDA.DP.3", map[string]string{"streamKeyId": ""}, strs("KDA.DP.3", "streamKeyId", "empty")},
		{"KDA.MON.1", map[string]string{"logGroupName": ""}, strs("KDA.MON.1", "logGroupName", "empty")},
		{"KDA.MON.1", map[string]string{"logStreamName": "  "}, strs("KDA.MON.1", "logStreamName", "empty")},
		{"KDA.MON.2", map[string]string{"allowedLogLevels": ""}, strs("KDA.MON.2", "allowedLogLevels", "empty")},
		{"KDA.MON.2", map[string]string{"targetLogLevel": ""}, strs("KDA.MON.2", "targetLogLevel", "empty")},
		// Empty and duplicate list items.
		{"KDA.MON.4", map[string]string{"requiredMetrics": "downtime,,numberOfFailedCheckpoints"}, strs("KDA.MON.4", "requiredMetrics", "empty item")},
		{"KDA.MON.4", map[string]string{"requiredMetrics": ","}, strs("KDA.MON.4", "requiredMetrics", "empty item")},
		{"KDA.MON.2", map[string]string{"allowedLogLevels": "INFO,WARN,"}, strs("KDA.MON.2", "allowedLogLevels", "empty item")},
		{"KDA.MON.2", map[string]string{"allowedLogLevels": "INFO,info"}, strs("KDA.MON.2", "allowedLogLevels", "twice")},
		{"KDA.MON.4", map[string]string{"requiredMetrics": "downtime,Downtime"}, strs("KDA.MON.4", "requiredMetrics", "twice")},
		{"KDA.RES.4", map[string]string{"endOfSupport": "FLINK-1_6=2025-02-05,FLINK-1_6=2026-01-01"}, strs("KDA.RES.4", "endOfSupport", "FLINK-1_6", "twice")},
		// Every dated item is NAME=YYYY-MM-DD: a colon is no separator.
		{"KDA.RES.4", map[string]string{"endOfSupport": "FLINK-1_6:2025-02-05"}, strs("KDA.RES.4", "endOfSupport", "FLINK-1_6:2025-02-05", "NAME=YYYY-MM-DD")},
		{"KDA.RES.4", map[string]string{"upgradeRecommended": "FLINK-1_13:2025-02-05"}, strs("KDA.RES.4", "upgradeRecommended", "NAME=YYYY-MM-DD")},
		{"KDA.RES.4", map[string]string{"endOfSupport": "FLINK-1_6"}, strs("KDA.RES.4", "endOfSupport", `"FLINK-1_6" has no date`)},
		{"KDA.RES.4", map[string]string{"endOfSupport": "=2025-02-05"}, strs("KDA.RES.4", "endOfSupport", "NAME=YYYY-MM-DD")},
		{"KDA.RES.4", map[string]string{"endOfSupport": "FLINK 1.6=2025-02-05"}, strs("KDA.RES.4", "endOfSupport", "NAME=YYYY-MM-DD")},
		{"KDA.RES.4", map[string]string{"endOfSupport": "FLINK-1_6="}, strs("KDA.RES.4", "endOfSupport", "YYYY-MM-DD")},
		// Ranges: the per-application snapshot quota is 1,000; a zero age would take a snapshot on every run.
		{"KDA.RES.5", map[string]string{"maxSnapshots": "0"}, strs("KDA.RES.5", "maxSnapshots", "between 1 and 1000")},
		{"KDA.RES.5", map[string]string{"maxSnapshots": "1001"}, strs("KDA.RES.5", "maxSnapshots", "between 1 and 1000")},
		{"KDA.RES.5", map[string]string{"maxSnapshotAgeHours": "0"}, strs("KDA.RES.5", "maxSnapshotAgeHours", "between 1 and")},
		{"KDA.RES.5", map[string]string{"maxSnapshotAgeHours": "9999999999"}, strs("KDA.RES.5", "maxSnapshotAgeHours", "between 1 and")},
		// Names the fixes pass to the APIs.
		{"KDA.MON.1", map[string]string{"logGroupName": "/aws/kinesis analytics/{application}"}, strs("KDA.MON.1", "logGroupName", "does not match")},
		{"KDA.MON.1", map[string]string{"logStreamName": "a:b"}, strs("KDA.MON.1", "logStreamName", "does not match")},
		{"KDA.DP.3", map[string]string{"streamKeyId": "my key"}, strs("KDA.DP.3", "streamKeyId", "does not match")},
	}
	for _, tc := range cases {
		r := rule(t, tc.rule)
		_, err := rules.NewParams(r, tc.overrides)
		if err == nil {
			t.Errorf("%s %v: accepted", tc.rule, tc.overrides)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %v: error %q lacks %q", tc.rule, tc.overrides, err, w)
			}
		}
		// Select reports the same error.
		if _, err := rules.Select(nil, map[string]map[string]string{tc.rule: tc.overrides}); err == nil {
			t.Errorf("Select accepted %s %v", tc.rule, tc.overrides)
		} else if !strings.Contains(err.Error(), tc.rule) {
			t.Errorf("Select error %q does not name the rule", err)
		}
	}
}

func TestParamValidValues(t *testing.T) {
	cases := []struct {
		rule      string
		overrides map[string]string
	}{
		{"KDA.MON.2", map[string]string{"ruleId": "KDA.MON.2", "allowedLogLevels": "INFO,WARN"}},
		{"KDA.MON.2", map[string]string{"allowedLogLevels": " info , warn ", "targetLogLevel": "warn"}},
		{"KDA.RES.5", map[string]string{"maxSnapshotAgeHours": " 48 ", "maxSnapshots": "1"}},
		{"KDA.RES.5", map[string]string{"maxSnapshotAgeHours": "8760", "maxSnapshots": "1000"}},
		{"KDA.RES.4", map[string]string{"endOfSupport": " FLINK-1_18 = 2027-03-01 ", "upgradeRecommended": "FLINK-1_13, FLINK-1_15=2026-01-01"}},
		{"KDA.DP.3", map[string]string{"streamKeyId": "alias/orders-streams"}},
		{"KDA.DP.3", map[string]string{"streamKeyId": "arn:aws:kms:eu-west-1:123456789012:key/5678efgh-56ef-78gh-90ij-5678901234ef"}},
		{"KDA.DP.3", map[string]string{"streamKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}},
		{"KDA.MON.1", map[string]string{"logGroupName": "/flink/{application}/app_logs#1", "logStreamName": "app stream"}},
		{"KDA.MON.4", map[string]string{"requiredMetrics": "downtime"}},
		{"KDA.DP.5", map[string]string{"ruleId": "KDA.DP.5"}},
		{"KDA.DP.5", nil},
	}
	for _, tc := range cases {
		if _, err := rules.NewParams(rule(t, tc.rule), tc.overrides); err != nil {
			t.Errorf("%s %v: %v", tc.rule, tc.overrides, err)
		}
	}
}

// TestParamDefaultsValid: every default passes the validation an override
// gets, so the documented defaults are valid input.
func TestParamDefaultsValid(t *testing.T) {
	for _, r := range rules.All() {
		all := map[string]string{}
		for _, p := range r.Params {
			if _, err := rules.NewParams(r, map[string]string{p.Name: p.Default}); err != nil {
				t.Errorf("%s default %s=%q: %v", r.ID, p.Name, p.Default, err)
			}
			all[p.Name] = p.Default
		}
		if _, err := rules.NewParams(r, all); err != nil {
			t.Errorf("%s all defaults: %v", r.ID, err)
		}
	}
}

func TestParamValues(t *testing.T) {
	r := rule(t, "KDA.RES.5")
	p, err := rules.NewParams(r, map[string]string{"maxSnapshotAgeHours": " 48 "})
	if err != nil {
		t.Fatal(err)
	}
	if p.Int("maxSnapshotAgeHours") != 48 || p.String("maxSnapshotAgeHours") != "48" {
		t.Errorf("override = %d / %q", p.Int("maxSnapshotAgeHours"), p.String("maxSnapshotAgeHours"))
	}
	if p.Int("maxSnapshots") != 900 {
		t.Errorf("default = %d", p.Int("maxSnapshots"))
	}
	if p.String("nope") != "" || p.Int("nope") != 0 {
		t.Error("an undeclared parameter has a value")
	}
	var zero rules.Params
	if zero.String("x") != "" || zero.ListHas("x", "y") {
		t.Error("zero Params has values")
	}

	m2, _ := rules.NewParams(rule(t, "KDA.MON.2"), map[string]string{"allowedLogLevels": "Info, WARN"})
	for level, want := range map[string]bool{"INFO": true, "info": true, "WARN": true, "DEBUG": false, "ERROR": false, "INF": false} {
		if m2.ListHas("allowedLogLevels", level) != want {
			t.Errorf("ListHas(%q) = %v", level, !want)
		}
	}

	r4 := rule(t, "KDA.RES.4")
	d, _ := rules.NewParams(r4, nil)
	if at, ok := d.Date("endOfSupport", "FLINK-1_11"); !ok || !at.Equal(time.Date(2025, 2, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("default FLINK-1_11 = %v, %v", at, ok)
	}
	if at, ok := d.Date("upgradeRecommended", "flink-1_13"); !ok || !at.IsZero() {
		t.Errorf("FLINK-1_13 alone = %v, %v; want zero time (always)", at, ok)
	}
	if _, ok := d.Date("endOfSupport", "FLINK-1_20"); ok {
		t.Error("FLINK-1_20 found in endOfSupport")
	}
	if _, ok := d.Date("endOfSupport", "FLINK-1"); ok {
		t.Error("prefix FLINK-1 matched")
	}
}

func TestSelect(t *testing.T) {
	sel, err := rules.Select(nil, nil)
	if err != nil || len(sel.Rules) != 23 {
		t.Fatalf("Select(nil) = %d rules, %v", len(sel.Rules), err)
	}
	if _, err := rules.Select(nil, map[string]map[string]string{"KDA.MON.9": {"x": "y"}}); err == nil ||
		!strings.Contains(err.Error(), "KDA.MON.9") {
		t.Errorf("unknown rule: %v", err)
	}
	// Overrides for a rule outside the selection are still validated against the catalog.
	one := []*rules.Rule{rule(t, "KDA.RES.1")}
	if _, err := rules.Select(one, map[string]map[string]string{"KDA.NOPE.1": {}}); err == nil {
		t.Error("unknown rule accepted with a partial selection")
	}
	sel, err = rules.Select(one, map[string]map[string]string{"KDA.MON.2": {"allowedLogLevels": "DEBUG"}})
	if err != nil || len(sel.Rules) != 1 {
		t.Errorf("partial selection: %v", err)
	}
	// The parameters reach the check.
	app := newApp()
	app.Related.Snapshots.Value()[1].CreatedAt = now.Add(-30 * time.Hour)
	sel, _ = rules.Select([]*rules.Rule{rule(t, "KDA.RES.5")}, map[string]map[string]string{"KDA.RES.5": {"maxSnapshotAgeHours": "36"}})
	if f := sel.Evaluate(app, now)[0]; f.Status != rules.Compliant {
		t.Errorf("with maxSnapshotAgeHours=36: %s %q", f.Status, f.Message)
	}
	sel, _ = rules.Select([]*rules.Rule{rule(t, "KDA.RES.5")}, nil)
	if f := sel.Evaluate(app, now)[0]; f.Status != rules.NonCompliant {
		t.Errorf("with the default 24h: %s %q", f.Status, f.Message)
	}
}

// TestParamFixTargetSatisfiesCheck: a fix target that the rule's own check
// would still reject is a remediation loop (MON.2 targetLogLevel DEBUG with
// allowed INFO,WARN updated, and restarted, a running application on every
// run); it is refused when the parameters are selected.
func TestParamFixTargetSatisfiesCheck(t *testing.T) {
	bad := []map[string]string{
		{"targetLogLevel": "DEBUG"},
		{"allowedLogLevels": "WARN,ERROR", "targetLogLevel": "INFO"},
		{"allowedLogLevels": "WARN", "targetLogLevel": "info"},
	}
	for _, o := range bad {
		_, err := rules.NewParams(rule(t, "KDA.MON.2"), o)
		if err == nil {
			t.Errorf("KDA.MON.2 %v accepted", o)
			continue
		}
		for _, w := range strs("KDA.MON.2", "targetLogLevel", "allowedLogLevels") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("KDA.MON.2 %v: error %q lacks %q", o, err, w)
			}
		}
		if _, err := rules.Select(nil, map[string]map[string]string{"kda.mon.2": o}); err == nil {
			t.Errorf("Select accepted KDA.MON.2 %v", o)
		}
	}
	for _, o := range []map[string]string{
		{"allowedLogLevels": "WARN,ERROR", "targetLogLevel": "warn"},
		{"allowedLogLevels": "WARN,ERROR"}, // the fix then sets WARN (TestMON2LogLevel)
		{"allowedLogLevels": "DEBUG,INFO"},
		{"targetLogLevel": "WARN"},
	} {
		if _, err := rules.NewParams(rule(t, "KDA.MON.2"), o); err != nil {
			t.Errorf("KDA.MON.2 %v: %v", o, err)
		}
	}
	// Overrides of a rule outside the selection are validated too.
	if _, err := rules.Select([]*rules.Rule{rule(t, "KDA.RES.1")},
		map[string]map[string]string{"KDA.MON.2": {"targetLogLevel": "DEBUG"}}); err == nil {
		t.Error("Select accepted an invalid override of a rule outside the selection")
	}
	if _, err := rules.Select([]*rules.Rule{rule(t, "KDA.RES.1")},
		map[string]map[string]string{"KDA.RES.5": {"maxSnapshots": ""}}); err == nil ||
		!strings.Contains(err.Error(), "maxSnapshots") {
		t.Errorf("Select with an empty override of a rule outside the selection: %v", err)
	}
}
