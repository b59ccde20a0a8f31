package template

import (
	"strings"
	"testing"
	"time"

	"github.com/kdaguard/kdaguard/shared/rules"
)

var asOf = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func evaluate(t *testing.T, name string) map[string]map[string]rules.Finding {
	t.Helper()
	sel, err := rules.Select(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]rules.Finding{}
	for _, a := range parseFile(t, name) {
		m := map[string]rules.Finding{}
		for _, f := range sel.Evaluate(a, asOf) {
			m[f.Rule.ID] = f
		}
		out[a.Origin.LogicalID] = m
	}
	return out
}

// The hardened template passes every rule it can decide: nothing in
// DP/IAM/RES/INF is NON_COMPLIANT, and what a template cannot say (status,
// snapshots, account facts) is UNKNOWN, never COMPLIANT.
func TestRulesOnCompliantTemplate(t *testing.T) {
	fs := evaluate(t, "compliant.yaml")["OrderEnricher"]
	for id, f := range fs {
		if f.Status == rules.NonCompliant {
			t.Errorf("%s: NON_COMPLIANT: %s", id, f.Message)
		}
	}
	for _, id := range []string{"KDA.DP.1", "KDA.DP.2", "KDA.DP.3", "KDA.DP.4", "KDA.DP.5", "KDA.IAM.1", "KDA.IAM.2",
		"KDA.IAM.3", "KDA.IAM.4", "KDA.MON.1", "KDA.MON.2", "KDA.MON.3", "KDA.MON.4", "KDA.RES.1", "KDA.RES.2",
		"KDA.RES.3", "KDA.RES.4", "KDA.RES.6", "KDA.INF.1", "KDA.INF.2"} {
		if fs[id].Status != rules.Compliant {
			t.Errorf("%s: %s (%s), want COMPLIANT", id, fs[id].Status, fs[id].Message)
		}
	}
	for _, id := range []string{"KDA.RES.5", "KDA.MON.5", "KDA.CMP.1"} {
		if fs[id].Status != rules.Unknown {
			t.Errorf("%s: %s, want UNKNOWN (not knowable from a template)", id, fs[id].Status)
		}
	}
}

func TestRulesOnNonCompliantTemplate(t *testing.T) {
	all := evaluate(t, "noncompliant.json")
	want := map[string]map[string][]string{ // rule -> failing conditions (message fragments)
		"ClickAnalytics": {
			"KDA.DP.1":  {"customer-managed-key"},
			"KDA.DP.3":  {"encryption:arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/clicks"},
			"KDA.DP.4":  {"public-access-block", "public-policy", "object-version"},
			"KDA.DP.5":  {"secret:ConsumerConfig/aws.access.key.id", "secret:ConsumerConfig/kafka.password", "secret:ConsumerConfig/sasl.jaas.config"},
			"KDA.IAM.1": {"trust-principals"},
			"KDA.IAM.2": {"confused-deputy"},
			"KDA.IAM.3": {"broad-managed-policy", "service-wildcard"},
			"KDA.IAM.4": {"single-application"},
			"KDA.MON.1": {"logging"},
			"KDA.MON.2": {"log-level"},
			"KDA.MON.4": {"alarms"},
			"KDA.RES.1": {"checkpointing"},
			"KDA.RES.2": {"snapshots"},
			"KDA.RES.3": {"rollback"},
			"KDA.RES.4": {"end-of-support"},
			"KDA.RES.6": {"auto-scaling"},
			"KDA.INF.1": {"private-subnets"},
			"KDA.INF.2": {"open-ingress:sg-AppGroup"},
		},
		"ClickReplay": {
			"KDA.IAM.4": {"single-application"},
			"KDA.DP.4":  {"public-access-block", "public-policy"},
		},
	}
	for app, byRule := range want {
		fs := all[app]
		for id, conds := range byRule {
			f := fs[id]
			if f.Status != rules.NonCompliant {
				t.Errorf("%s %s: %s (%s), want NON_COMPLIANT", app, id, f.Status, f.Message)
				continue
			}
			for _, c := range conds {
				found := false
				for _, got := range f.Failed {
					found = found || got == c
				}
				if !found {
					t.Errorf("%s %s: failed %v, want %q among them", app, id, f.Failed, c)
				}
			}
			if strings.Contains(f.Message, "hunter2") || strings.Contains(f.Message, "AKIAIOSFODNN7EXAMPLE") || strings.Contains(f.Message, "s3cr3t") {
				t.Errorf("%s %s: message leaks a secret: %s", app, id, f.Message)
			}
		}
	}
	// The open group is shared with an instance: no automatic fix, and template
	// rules have no id to revoke.
	if f := all["ClickAnalytics"]["KDA.INF.2"]; len(f.Fixes) != 0 || !strings.Contains(f.Message, "Bastion") {
		t.Errorf("INF.2 on a shared group: fixes %v, message %q", f.Fixes, f.Message)
	}
	if f := all["ClickReplay"]["KDA.RES.4"]; f.Status != rules.Compliant {
		t.Errorf("ClickReplay RES.4 (FLINK-1_18): %s %s", f.Status, f.Message)
	}
}

func TestRulesOnUnresolvedTemplate(t *testing.T) {
	fs := evaluate(t, "unresolved.yaml")["Sessions"]
	for _, id := range []string{"KDA.IAM.1", "KDA.IAM.3", "KDA.IAM.4", "KDA.DP.2", "KDA.MON.2", "KDA.MON.3",
		"KDA.MON.4", "KDA.RES.1", "KDA.RES.2", "KDA.INF.1", "KDA.INF.2"} {
		if fs[id].Status != rules.Unknown {
			t.Errorf("%s: %s (%s), want UNKNOWN", id, fs[id].Status, fs[id].Message)
		}
	}
	// The object version is known to be missing even though the bucket is not.
	if f := fs["KDA.DP.4"]; f.Status == rules.Compliant || !strings.Contains(f.Message, "ObjectVersion") {
		t.Errorf("DP.4: %s %s", f.Status, f.Message)
	}
	// Placeholders and NoEcho parameters are not plaintext credentials.
	if f := fs["KDA.DP.5"]; f.Status != rules.Compliant {
		t.Errorf("DP.5: %s %s", f.Status, f.Message)
	}
}
