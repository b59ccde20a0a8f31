package rules

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"

	"github.com/kdaguard/kdaguard/shared/model"
)

func init() {
	register(&Rule{
		ID:        "KDA.RES.1",
		Title:     "Checkpointing is enabled",
		Topic:     TopicResilience,
		Severity:  High,
		Rationale: "\"We recommend that you leave checkpointing enabled.\" Without checkpoints a restart loses the application's state.",
		Doc:       docBase + "disaster-recovery-resiliency.html",
		NIST:      []string{"CP-10", "SI-13"},
		Remediation: Remediation{Kind: RemediationAuto, Call: "kinesisanalyticsv2:UpdateApplication",
			Description: "Set CheckpointConfiguration to DEFAULT (enabled, 60 s interval, 5 s minimum pause), in the application's one merged update."},
		Check: checkCheckpointing,
	})
	register(&Rule{
		ID:        "KDA.RES.2",
		Title:     "Snapshots are enabled",
		Topic:     TopicResilience,
		Severity:  High,
		Rationale: "Disabling snapshots \"will lead to data loss during application updates\".",
		Doc:       docBase + "disaster-recovery-resiliency.html",
		NIST:      []string{"CP-9", "CP-10"},
		Remediation: Remediation{Kind: RemediationAuto, Call: "kinesisanalyticsv2:UpdateApplication",
			Description: "Set SnapshotsEnabled to true, in the application's one merged update."},
		Check: checkSnapshotsEnabled,
	})
	register(&Rule{
		ID:        "KDA.RES.3",
		Title:     "System rollback is enabled",
		Topic:     TopicResilience,
		Severity:  Low,
		Rationale: "With system rollback, a failed update or restart returns the application to its last running version instead of leaving it down.",
		Doc:       docBase + "how-system-rollbacks.html",
		NIST:      []string{"CP-10"},
		Remediation: Remediation{Kind: RemediationAuto, Call: "kinesisanalyticsv2:UpdateApplication",
			Description: "Set ApplicationSystemRollbackConfiguration RollbackEnabled to true, in the application's one merged update."},
		Check: checkRollback,
	})
	register(&Rule{
		ID:        "KDA.RES.4",
		Title:     "The runtime is in support",
		Topic:     TopicResilience,
		Severity:  Critical,
		Rationale: "Runtimes past end of support get no security fixes; past their final date they can no longer be created, started or run. CRITICAL when the runtime can no longer run, MEDIUM when it is only past recommended support.",
		Doc:       docBase + "limits.html",
		NIST:      []string{"SI-2", "SA-22"},
		PCI:       []string{"6.3.3"},
		Params: []Param{
			{Name: "endOfSupport", Type: TypeDates, Default: "FLINK-1_6=2025-02-05,FLINK-1_8=2025-02-05,FLINK-1_11=2025-02-05,SQL-1_0=2026-01-27",
				Description: "RUNTIME=YYYY-MM-DD items from which the runtime can no longer run (CRITICAL)."},
			{Name: "upgradeRecommended", Type: TypeDates, Default: "FLINK-1_6=2024-11-05,FLINK-1_8=2024-11-05,FLINK-1_11=2024-11-05,SQL-1_0=2025-10-15,FLINK-1_13,FLINK-1_15,ZEPPELIN-FLINK-1_0,ZEPPELIN-FLINK-2_0,ZEPPELIN-FLINK-3_0",
				BareNames:   true,
				Description: "RUNTIME=YYYY-MM-DD items (or RUNTIME alone: now) from which an upgrade is recommended (MEDIUM)."},
		},
		Check: checkRuntime,
	})
	register(&Rule{
		ID:        "KDA.RES.5",
		Title:     "A running application has a recent snapshot, and fewer than the quota",
		Topic:     TopicResilience,
		Severity:  Low,
		Rationale: "A recent snapshot is the restore point for a bad update; the service never deletes snapshots and allows 1,000 per application, after which new ones fail.",
		Doc:       docBase + "how-snapshots.html",
		NIST:      []string{"CP-9"},
		Needs:     []model.Facet{model.FacetSnapshots},
		Params: []Param{
			{Name: "maxSnapshotAgeHours", Type: TypeInt, Default: "24", Min: 1, Max: 8760,
				Description: "Age of the newest READY snapshot above which the application is non-compliant (1 to 8760)."},
			{Name: "maxSnapshots", Type: TypeInt, Default: "900", Min: 1, Max: 1000,
				Description: "Snapshot count at or above which the application is non-compliant (1 to 1000: the quota is 1,000)."},
		},
		Remediation: Remediation{Kind: RemediationOptIn, Call: "kinesisanalyticsv2:CreateApplicationSnapshot",
			Description: "Take a snapshot named kdaguard-<time>; the count is reported only (deleting snapshots is the owner's decision)."},
		Check: checkRecentSnapshot,
	})
	register(&Rule{
		ID:        "KDA.RES.6",
		Title:     "Parallelism auto scaling is enabled",
		Topic:     TopicResilience,
		Severity:  Low,
		Rationale: "Without auto scaling a load spike backs up the sources until records expire, and an overloaded application fails checkpoints.",
		Doc:       docBase + "how-scaling.html",
		NIST:      []string{"SC-5"},
		Remediation: Remediation{Kind: RemediationAuto, Call: "kinesisanalyticsv2:UpdateApplication",
			Description: "Set ParallelismConfiguration to CUSTOM with AutoScalingEnabled true, keeping the current parallelism, in the application's one merged update."},
		Check: checkAutoScaling,
	})
}

func flinkOnly(a *model.Application) (Result, bool) {
	switch {
	case a.IsSQL():
		return notApplicable("not a Flink streaming application (SQL)"), false
	case a.IsStudio():
		return notApplicable("not a Flink streaming application (Studio notebook)"), false
	}
	return Result{}, true
}

func checkCheckpointing(in Input) Result {
	a := in.App
	if r, ok := flinkOnly(a); !ok {
		return r
	}
	c, ok := a.Checkpoint.Get()
	if !ok {
		return unknown("checkpoint configuration", a.Checkpoint.Reason())
	}
	if c.IsEnabled() {
		return pass("checkpointing is enabled")
	}
	return Result{Status: NonCompliant, Message: "checkpointing is disabled: set CheckpointConfiguration to DEFAULT",
		Failed: []string{"checkpointing"},
		Fixes: []Fix{{Condition: "checkpointing", Target: a.Name, Summary: "UpdateApplication CheckpointConfiguration DEFAULT",
			Update: &AppUpdate{CheckpointingDefault: true}}}}
}

func checkSnapshotsEnabled(in Input) Result {
	a := in.App
	if r, ok := flinkOnly(a); !ok {
		return r
	}
	on, ok := a.Snapshots.Get()
	if !ok {
		return unknown("snapshot configuration", a.Snapshots.Reason())
	}
	if on {
		return pass("snapshots are enabled")
	}
	return Result{Status: NonCompliant, Message: "snapshots are disabled: set SnapshotsEnabled to true",
		Failed: []string{"snapshots"},
		Fixes: []Fix{{Condition: "snapshots", Target: a.Name, Summary: "UpdateApplication SnapshotsEnabled true",
			Update: &AppUpdate{EnableSnapshots: true}}}}
}

func checkRollback(in Input) Result {
	a := in.App
	if r, ok := flinkOnly(a); !ok {
		return r
	}
	on, ok := a.Rollback.Get()
	if !ok {
		return unknown("system rollback configuration", a.Rollback.Reason())
	}
	if on {
		return pass("system rollback is enabled")
	}
	return Result{Status: NonCompliant, Message: "system rollback is disabled: set RollbackEnabled to true",
		Failed: []string{"rollback"},
		Fixes: []Fix{{Condition: "rollback", Target: a.Name, Summary: "UpdateApplication RollbackEnabled true",
			Update: &AppUpdate{EnableRollback: true}}}}
}

func checkRuntime(in Input) Result {
	a := in.App
	rt, ok := a.Runtime.Get()
	if !ok {
		return unknown("runtime environment", a.Runtime.Reason())
	}
	if rt == "" {
		return unknown("runtime environment", "the application names no runtime")
	}
	end, inEnd := in.Params.Date("endOfSupport", rt)
	from, inUpgrade := in.Params.Date("upgradeRecommended", rt)
	if !inEnd && !inUpgrade && !knownRuntime(rt) {
		return Result{Status: Unknown, Message: Clip("runtime " + rt + " is not known to kdaguard: its support cannot be judged (list it in endOfSupport or upgradeRecommended to judge it)")}
	}
	if inEnd && !in.Now.Before(end) {
		return Result{Status: NonCompliant, Severity: Critical, Failed: []string{"end-of-support"},
			Message: Clip("runtime " + rt + " reached end of support on " + end.Format(time.DateOnly) + " and can no longer be started or run: upgrade to a supported Flink runtime")}
	}
	if inUpgrade && !in.Now.Before(from) {
		return Result{Status: NonCompliant, Severity: Medium, Failed: []string{"upgrade-recommended"},
			Message: Clip("runtime " + rt + " is past recommended support: plan an upgrade to a current Flink runtime")}
	}
	return pass("runtime " + rt + " is in support")
}

// knownRuntime reports whether rt is a runtime of the SDK's enum.
func knownRuntime(rt string) bool {
	return slices.ContainsFunc(types.RuntimeEnvironment("").Values(), func(v types.RuntimeEnvironment) bool {
		return strings.EqualFold(string(v), rt)
	})
}

// snapshotQuota is the service's limit of snapshots per application.
const snapshotQuota = 1000

func checkRecentSnapshot(in Input) Result {
	a := in.App
	if r, ok := flinkOnly(a); !ok {
		return r
	}
	status, ok := a.Status.Get()
	if !ok {
		return unknown("application status", a.Status.Reason())
	}
	if status == "" {
		return unknown("application status", "the application reports no status")
	}
	if status != "RUNNING" {
		return notApplicable("the application is " + status + ", not RUNNING")
	}
	snaps, ok := a.Related.Snapshots.Get()
	if !ok {
		return unknown("snapshots", a.Related.Snapshots.Reason())
	}
	var v verdict
	if max := in.Params.Int("maxSnapshots"); len(snaps) >= max {
		v.fail("snapshot-count", strconv.Itoa(len(snaps))+" snapshots, at or above "+strconv.Itoa(max)+" (quota 1,000): delete old ones")
	}
	var newest time.Time
	creating := ""
	maxAge := time.Duration(in.Params.Int("maxSnapshotAgeHours")) * time.Hour
	for _, s := range snaps {
		switch {
		case s.Status == "READY" && s.CreatedAt.After(newest):
			newest = s.CreatedAt
		case s.Status == "CREATING" && in.Now.Sub(s.CreatedAt) <= maxAge:
			creating = s.Name
		}
	}
	if !newest.IsZero() && in.Now.Sub(newest) <= maxAge {
		v.hold("recent-snapshot")
	} else {
		what := "no READY snapshot in the last " + strconv.Itoa(in.Params.Int("maxSnapshotAgeHours")) + " hours"
		if creating != "" {
			// One is on its way: taking another would only add to the count.
			v.fail("recent-snapshot", what+" (snapshot "+creating+" is being created)")
		} else if on, known := a.Snapshots.Get(); known && !on {
			v.fail("recent-snapshot", what+" and snapshots are disabled (see KDA.RES.2)")
		} else if len(snaps) >= snapshotQuota {
			// CreateApplicationSnapshot would be refused.
			v.fail("recent-snapshot", what+" and the application has reached the quota of 1,000 snapshots: delete old ones first")
		} else {
			name := "kdaguard-" + in.Now.UTC().Format("20060102-150405")
			v.fix("recent-snapshot", what+": take a snapshot", Fix{Target: a.Name,
				Summary: "CreateApplicationSnapshot " + name,
				Args:    map[string]string{"ApplicationName": a.Name, "SnapshotName": name}})
		}
	}
	return v.result("a READY snapshot is recent and the count is under the quota")
}

func checkAutoScaling(in Input) Result {
	a := in.App
	if r, ok := flinkOnly(a); !ok {
		return r
	}
	p, ok := a.Parallelism.Get()
	if !ok {
		return unknown("parallelism configuration", a.Parallelism.Reason())
	}
	if p.AutoScaling() {
		return pass("parallelism auto scaling is enabled")
	}
	return Result{Status: NonCompliant, Message: "parallelism auto scaling is disabled: set AutoScalingEnabled to true",
		Failed: []string{"auto-scaling"},
		Fixes: []Fix{{Condition: "auto-scaling", Target: a.Name, Summary: "UpdateApplication ParallelismConfiguration CUSTOM, AutoScalingEnabled true",
			Update: &AppUpdate{EnableAutoScaling: true}}}}
}
