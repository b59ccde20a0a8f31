package rules_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func runtime(rt string) func(a *model.Application) {
	return func(a *model.Application) { a.Runtime = model.Known(rt) }
}

// flinkOnlyCases are the NOT_APPLICABLE rows shared by the Flink-only rules.
func flinkOnlyCases() []ruleCase {
	return []ruleCase{
		{name: "SQL application", want: rules.NotApplicable, mutate: sqlApp, contains: strs("SQL")},
		{name: "Studio notebook by mode", want: rules.NotApplicable, contains: strs("Studio"),
			mutate: func(a *model.Application) { a.Mode = model.ModeInteractive }},
		{name: "Studio notebook by runtime", want: rules.NotApplicable, mutate: runtime("ZEPPELIN-FLINK-2_0")},
	}
}

func TestRES1Checkpointing(t *testing.T) {
	fix := []fixWant{{Condition: "checkpointing", Target: appName, Update: &rules.AppUpdate{CheckpointingDefault: true}}}
	cp := func(c model.Checkpoint) func(a *model.Application) {
		return func(a *model.Application) { a.Checkpoint = model.Known(c) }
	}
	runTable(t, "KDA.RES.1", append(flinkOnlyCases(),
		ruleCase{name: "DEFAULT", want: rules.Compliant},
		ruleCase{name: "DEFAULT overrides a disabled CUSTOM value", want: rules.Compliant,
			mutate: cp(model.Checkpoint{ConfigurationType: model.ConfigDefault, Enabled: false})},
		ruleCase{name: "CUSTOM enabled", want: rules.Compliant,
			mutate: cp(model.Checkpoint{ConfigurationType: model.ConfigCustom, Enabled: true, IntervalMs: 120000, MinPauseMs: 10000})},
		ruleCase{name: "CUSTOM disabled", want: rules.NonCompliant, failed: strs("checkpointing"), fixes: fix,
			mutate: cp(model.Checkpoint{ConfigurationType: model.ConfigCustom, IntervalMs: 60000}), contains: strs("DEFAULT")},
		ruleCase{name: "unknown runtime is treated as Flink", want: rules.NonCompliant, failed: strs("checkpointing"), fixes: fix,
			mutate: func(a *model.Application) {
				a.Runtime = model.Unknown[string]("template: RuntimeEnvironment is a parameter")
				a.Checkpoint = model.Known(model.Checkpoint{ConfigurationType: model.ConfigCustom})
			}},
		ruleCase{name: "checkpoint configuration unknown", want: rules.Unknown,
			mutate: func(a *model.Application) { a.Checkpoint = model.Unknown[model.Checkpoint]("not read") }},
	))
}

func TestRES2Snapshots(t *testing.T) {
	runTable(t, "KDA.RES.2", append(flinkOnlyCases(),
		ruleCase{name: "enabled", want: rules.Compliant},
		ruleCase{name: "disabled", want: rules.NonCompliant, failed: strs("snapshots"),
			fixes:  []fixWant{{Condition: "snapshots", Target: appName, Update: &rules.AppUpdate{EnableSnapshots: true}}},
			mutate: func(a *model.Application) { a.Snapshots = model.Known(false) }},
		ruleCase{name: "unknown", want: rules.Unknown,
			mutate: func(a *model.Application) { a.Snapshots = model.Unknown[bool]("template: Fn::If") }},
	))
}

func TestRES3Rollback(t *testing.T) {
	runTable(t, "KDA.RES.3", append(flinkOnlyCases(),
		ruleCase{name: "enabled", want: rules.Compliant},
		ruleCase{name: "disabled", want: rules.NonCompliant, failed: strs("rollback"),
			fixes:  []fixWant{{Condition: "rollback", Target: appName, Update: &rules.AppUpdate{EnableRollback: true}}},
			mutate: func(a *model.Application) { a.Rollback = model.Known(false) }},
		ruleCase{name: "unknown", want: rules.Unknown,
			mutate: func(a *model.Application) { a.Rollback = model.Unknown[bool]("not read") }},
	))
}

func TestRES4Runtime(t *testing.T) {
	runTable(t, "KDA.RES.4", []ruleCase{
		{name: "FLINK-1_20", want: rules.Compliant, contains: strs("FLINK-1_20")},
		{name: "FLINK-1_11 before any date", want: rules.Compliant, mutate: runtime("FLINK-1_11"), at: day("2024-11-04")},
		{name: "FLINK-1_11 on the no-new-applications date", want: rules.NonCompliant, severity: rules.Medium,
			failed: strs("upgrade-recommended"), mutate: runtime("FLINK-1_11"), at: day("2024-11-05")},
		{name: "FLINK-1_11 the day before end of support", want: rules.NonCompliant, severity: rules.Medium,
			failed: strs("upgrade-recommended"), mutate: runtime("FLINK-1_11"), at: day("2025-02-04").Add(23*time.Hour + 59*time.Minute)},
		{name: "FLINK-1_11 on end of support", want: rules.NonCompliant, severity: rules.Critical,
			failed: strs("end-of-support"), mutate: runtime("FLINK-1_11"), at: day("2025-02-05"), contains: strs("2025-02-05", "can no longer")},
		{name: "FLINK-1_6 now", want: rules.NonCompliant, severity: rules.Critical, failed: strs("end-of-support"), mutate: runtime("FLINK-1_6")},
		{name: "FLINK-1_8 now", want: rules.NonCompliant, severity: rules.Critical, failed: strs("end-of-support"), mutate: runtime("FLINK-1_8")},
		{name: "FLINK-1_13: upgrade recommended, always", want: rules.NonCompliant, severity: rules.Medium,
			failed: strs("upgrade-recommended"), mutate: runtime("FLINK-1_13"), at: day("2020-01-01")},
		{name: "FLINK-1_15", want: rules.NonCompliant, severity: rules.Medium, failed: strs("upgrade-recommended"), mutate: runtime("FLINK-1_15")},
		{name: "Zeppelin 3", want: rules.NonCompliant, severity: rules.Medium, failed: strs("upgrade-recommended"), mutate: runtime("ZEPPELIN-FLINK-3_0")},
		{name: "SQL-1_0 before 2025-10-15", want: rules.Compliant, mutate: runtime("SQL-1_0"), at: day("2025-10-14")},
		{name: "SQL-1_0 after 2025-10-15", want: rules.NonCompliant, severity: rules.Medium, failed: strs("upgrade-recommended"),
			mutate: runtime("SQL-1_0"), at: day("2025-12-01")},
		{name: "SQL-1_0 deleted from 2026-01-27", want: rules.NonCompliant, severity: rules.Critical, failed: strs("end-of-support"),
			mutate: runtime("SQL-1_0"), at: day("2026-01-27")},
		{name: "FLINK-1_18, 1_19 and 2_2 not listed", want: rules.Compliant, mutate: runtime("FLINK-2_2"), at: day("2030-01-01")},
		{name: "overridden table: FLINK-1_18 ends", want: rules.NonCompliant, severity: rules.Critical, failed: strs("end-of-support"),
			mutate: runtime("FLINK-1_18"), at: day("2027-06-01"),
			params: map[string]string{"endOfSupport": "FLINK-1_18=2027-03-01", "upgradeRecommended": "FLINK-1_18=2026-06-01"}},
		{name: "overridden table: FLINK-1_18 upgrade recommended", want: rules.NonCompliant, severity: rules.Medium,
			failed: strs("upgrade-recommended"), mutate: runtime("FLINK-1_18"), at: day("2026-07-01"),
			params: map[string]string{"endOfSupport": "FLINK-1_18=2027-03-01", "upgradeRecommended": "FLINK-1_18=2026-06-01"}},
		{name: "overridden table: FLINK-1_18 still supported", want: rules.Compliant, mutate: runtime("FLINK-1_18"), at: day("2026-05-31"),
			params: map[string]string{"endOfSupport": "FLINK-1_18=2027-03-01", "upgradeRecommended": "FLINK-1_18=2026-06-01"}},
		{name: "overriding endOfSupport replaces the default table", want: rules.NonCompliant, severity: rules.Medium,
			failed: strs("upgrade-recommended"), mutate: runtime("FLINK-1_11"), at: day("2025-06-01"),
			params: map[string]string{"endOfSupport": "FLINK-1_18=2027-03-01"}},
		{name: "runtime id case-insensitive, spaces in the table", want: rules.NonCompliant, severity: rules.Critical,
			failed: strs("end-of-support"), mutate: runtime("flink-1_19"), params: map[string]string{"endOfSupport": " FLINK-1_19 = 2025-01-01 "}},
		{name: "runtime unknown", want: rules.Unknown,
			mutate: func(a *model.Application) {
				a.Runtime = model.Unknown[string]("template: RuntimeEnvironment is a parameter")
			}},
		// Neither empty nor unrecognised runtimes are "in support".
		{name: "empty runtime", want: rules.Unknown, contains: strs("runtime"), absent: strs("in support"), mutate: runtime("")},
		{name: "runtime not known to kdaguard", want: rules.Unknown, contains: strs("FLINK-9_9", "not known to kdaguard"),
			mutate: runtime("FLINK-9_9"), at: day("2020-01-01")},
		{name: "every SDK runtime is known", want: rules.Compliant, mutate: runtime("FLINK-1_20")},
		{name: "a runtime named only in an overridden table is known", want: rules.Compliant, mutate: runtime("FLINK-3_0"),
			at: day("2030-01-01"), params: map[string]string{"upgradeRecommended": "FLINK-3_0=2031-01-01"}},
	})
}

func snapshotsOf(s ...model.Snapshot) func(a *model.Application) {
	return func(a *model.Application) { a.Related.Snapshots = model.Known(s) }
}

func TestRES5RecentSnapshot(t *testing.T) {
	name := "kdaguard-" + now.Format("20060102-150405")
	fix := []fixWant{{Condition: "recent-snapshot", Target: appName,
		Args: map[string]string{"ApplicationName": appName, "SnapshotName": name}}}
	many := func(n int, age time.Duration) []model.Snapshot {
		s := make([]model.Snapshot, n)
		for i := range s {
			s[i] = model.Snapshot{Name: "nightly-" + strconv.Itoa(i), Status: "READY", CreatedAt: now.Add(-age - time.Duration(i)*time.Hour)}
		}
		return s
	}
	runTable(t, "KDA.RES.5", append(flinkOnlyCases(),
		ruleCase{name: "recent snapshot", want: rules.Compliant},
		ruleCase{name: "none: take one", want: rules.NonCompliant, failed: strs("recent-snapshot"), fixes: fix, mutate: snapshotsOf()},
		ruleCase{name: "only old ones", want: rules.NonCompliant, failed: strs("recent-snapshot"), fixes: fix, contains: strs("24 hours"),
			mutate: snapshotsOf(model.Snapshot{Name: "weekly", Status: "READY", CreatedAt: now.Add(-25 * time.Hour)})},
		ruleCase{name: "recent one failed: take one", want: rules.NonCompliant, failed: strs("recent-snapshot"), fixes: fix,
			mutate: snapshotsOf(model.Snapshot{Name: "b", Status: "FAILED", CreatedAt: now.Add(-time.Hour)})},
		// A duplicate event or a second sweep must not take a second one.
		ruleCase{name: "recent one still creating: no second", want: rules.NonCompliant, failed: strs("recent-snapshot"),
			contains: strs("being created"),
			mutate: snapshotsOf(model.Snapshot{Name: "a", Status: "CREATING", CreatedAt: now.Add(-time.Minute)},
				model.Snapshot{Name: "b", Status: "FAILED", CreatedAt: now.Add(-time.Hour)})},
		ruleCase{name: "age parameter", want: rules.Compliant, params: map[string]string{"maxSnapshotAgeHours": "168"},
			mutate: snapshotsOf(model.Snapshot{Name: "weekly", Status: "READY", CreatedAt: now.Add(-100 * time.Hour)})},
		ruleCase{name: "snapshots disabled: no fix (see RES.2)", want: rules.NonCompliant, failed: strs("recent-snapshot"),
			contains: strs("KDA.RES.2"), mutate: func(a *model.Application) {
				a.Snapshots = model.Known(false)
				a.Related.Snapshots = model.Known([]model.Snapshot{})
			}},
		ruleCase{name: "at the count limit, recent: reported only", want: rules.NonCompliant, failed: strs("snapshot-count"),
			mutate: snapshotsOf(many(900, time.Hour)...), contains: strs("900")},
		ruleCase{name: "count under a lowered limit", want: rules.Compliant, params: map[string]string{"maxSnapshots": "10"},
			mutate: snapshotsOf(many(9, time.Hour)...)},
		ruleCase{name: "count over and none recent: fix for recency only", want: rules.NonCompliant,
			failed: strs("snapshot-count", "recent-snapshot"), fixes: fix, params: map[string]string{"maxSnapshots": "10"},
			mutate: snapshotsOf(many(12, 48*time.Hour)...)},
		ruleCase{name: "at the 1,000 quota and none recent: no fix (CreateApplicationSnapshot would be refused)", want: rules.NonCompliant,
			failed: strs("snapshot-count", "recent-snapshot"), params: map[string]string{"maxSnapshots": "1000"},
			mutate: snapshotsOf(many(1000, 48*time.Hour)...), contains: strs("quota")},
		ruleCase{name: "not running", want: rules.NotApplicable, contains: strs("READY"),
			mutate: func(a *model.Application) {
				a.Status = model.Known("READY")
				a.Related.Snapshots = model.Known([]model.Snapshot{})
			}},
		ruleCase{name: "status unknown (template)", want: rules.Unknown,
			mutate: func(a *model.Application) { a.Status = model.Unknown[string]("template") }},
		ruleCase{name: "empty status is unknown, not \"the application is ,\"", want: rules.Unknown, contains: strs("status"),
			absent: strs("is ,"), mutate: func(a *model.Application) { a.Status = model.Known("") }},
		ruleCase{name: "snapshots unknown", want: rules.Unknown,
			mutate: func(a *model.Application) {
				a.Related.Snapshots = model.Unknown[[]model.Snapshot]("kinesisanalyticsv2:ListApplicationSnapshots: throttled")
			}},
	))
}

func TestRES6AutoScaling(t *testing.T) {
	par := func(p model.Parallelism) func(a *model.Application) {
		return func(a *model.Application) { a.Parallelism = model.Known(p) }
	}
	runTable(t, "KDA.RES.6", append(flinkOnlyCases(),
		ruleCase{name: "CUSTOM with auto scaling", want: rules.Compliant},
		ruleCase{name: "DEFAULT", want: rules.Compliant, mutate: par(model.Parallelism{ConfigurationType: model.ConfigDefault})},
		ruleCase{name: "CUSTOM without auto scaling", want: rules.NonCompliant, failed: strs("auto-scaling"),
			fixes:  []fixWant{{Condition: "auto-scaling", Target: appName, Update: &rules.AppUpdate{EnableAutoScaling: true}}},
			mutate: par(model.Parallelism{ConfigurationType: model.ConfigCustom, Parallelism: 8, PerKPU: 2})},
		ruleCase{name: "unknown", want: rules.Unknown,
			mutate: func(a *model.Application) { a.Parallelism = model.Unknown[model.Parallelism]("not read") }},
	))
}
