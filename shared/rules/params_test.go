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
		{"KDA.MON.2", map[string]string{"allowedLogLevels": " info , warn ,", "targetLogLevel": "warn"}},
		{"KDA.RES.5", map[string]string{"maxSnapshotAgeHours": " 48 ", "maxSnapshots": "0"}},
		{"KDA.RES.4", map[string]string{"endOfSupport": "", "upgradeRecommended": "FLINK-1_13, FLINK-1_15=2026-01-01,"}},
		{"KDA.DP.3", map[string]string{"streamKeyId": "alias/orders-streams"}},
		{"KDA.DP.5", map[string]string{"ruleId": "KDA.DP.5"}},
		{"KDA.DP.5", nil},
	}
	for _, tc := range cases {
		if _, err := rules.NewParams(rule(t, tc.rule), tc.overrides); err != nil {
			t.Errorf("%s %v: %v", tc.rule, tc.overrides, err)
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
