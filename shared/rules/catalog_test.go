package rules_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

// expected is the catalog as issue 2 specifies it.
var expected = []struct {
	id       string
	topic    rules.Topic
	severity rules.Severity
	fix      rules.RemediationKind
	nist     []string
	pci      []string
}{
	{"KDA.DP.1", rules.TopicDataProtection, rules.Medium, rules.RemediationNone, strs("SC-12", "SC-28"), strs("3.6", "3.7")},
	{"KDA.DP.2", rules.TopicDataProtection, rules.Medium, rules.RemediationAuto, strs("SC-12", "SC-12(2)"), strs("3.6", "3.7")},
	{"KDA.DP.3", rules.TopicDataProtection, rules.High, rules.RemediationOptIn, strs("SC-28"), strs("3.5.1")},
	{"KDA.DP.4", rules.TopicDataProtection, rules.High, rules.RemediationOptIn, strs("AC-3", "AC-21", "SC-28"), strs("3.5.1")},
	{"KDA.DP.5", rules.TopicBestPractices, rules.Critical, rules.RemediationNone, strs("IA-5(7)", "SC-28"), strs("8.3.2", "8.6.2")},
	{"KDA.IAM.1", rules.TopicIAM, rules.Critical, rules.RemediationNone, strs("AC-3", "AC-6"), strs("7.2.1", "7.2.2")},
	{"KDA.IAM.2", rules.TopicIAM, rules.Medium, rules.RemediationOptIn, strs("AC-3", "AC-6"), strs("7.2.1", "7.2.2")},
	{"KDA.IAM.3", rules.TopicIAM, rules.High, rules.RemediationNone, strs("AC-6", "AC-6(10)"), strs("7.2.1", "7.2.2")},
	{"KDA.IAM.4", rules.TopicIAM, rules.Low, rules.RemediationNone, strs("AC-6"), strs("7.2.1", "7.2.2")},
	{"KDA.MON.1", rules.TopicMonitoring, rules.Medium, rules.RemediationAuto, strs("AU-2", "AU-12", "SI-4"), strs("10.2.1")},
	{"KDA.MON.2", rules.TopicMonitoring, rules.Low, rules.RemediationAuto, strs("AU-12"), strs("10.2.1")},
	{"KDA.MON.3", rules.TopicMonitoring, rules.Low, rules.RemediationOptIn, strs("AU-9", "AU-11"), strs("10.5.1")},
	{"KDA.MON.4", rules.TopicMonitoring, rules.Low, rules.RemediationNone, strs("SI-4"), strs("10.2.1")},
	{"KDA.MON.5", rules.TopicMonitoring, rules.Medium, rules.RemediationNone, strs("AU-2", "AU-12"), strs("10.2.1")},
	{"KDA.CMP.1", rules.TopicCompliance, rules.Low, rules.RemediationNone, strs("CM-8", "CA-7"), strs("12.5.1")},
	{"KDA.RES.1", rules.TopicResilience, rules.High, rules.RemediationAuto, strs("CP-10", "SI-13"), nil},
	{"KDA.RES.2", rules.TopicResilience, rules.High, rules.RemediationAuto, strs("CP-9", "CP-10"), nil},
	{"KDA.RES.3", rules.TopicResilience, rules.Low, rules.RemediationAuto, strs("CP-10"), nil},
	{"KDA.RES.4", rules.TopicResilience, rules.Critical, rules.RemediationNone, strs("SI-2", "SA-22"), strs("6.3.3")},
	{"KDA.RES.5", rules.TopicResilience, rules.Low, rules.RemediationOptIn, strs("CP-9"), nil},
	{"KDA.RES.6", rules.TopicResilience, rules.Low, rules.RemediationAuto, strs("SC-5"), nil},
	{"KDA.INF.1", rules.TopicInfrastructure, rules.Medium, rules.RemediationNone, strs("SC-7"), strs("1.3.1", "1.4.1")},
	{"KDA.INF.2", rules.TopicInfrastructure, rules.High, rules.RemediationOptIn, strs("AC-4", "SC-7"), strs("1.3.1", "1.4.1")},
}

func TestCatalogMatchesSpecification(t *testing.T) {
	all := rules.All()
	if len(all) != 23 {
		t.Fatalf("catalog has %d rules, want 23", len(all))
	}
	for i, w := range expected {
		r := all[i]
		if r.ID != w.id {
			t.Errorf("rule %d is %s, want %s (catalog order)", i, r.ID, w.id)
			continue
		}
		if r.Topic != w.topic {
			t.Errorf("%s topic = %s, want %s", r.ID, r.Topic, w.topic)
		}
		if r.Severity != w.severity {
			t.Errorf("%s severity = %s, want %s", r.ID, r.Severity, w.severity)
		}
		if r.Remediation.Kind != w.fix {
			t.Errorf("%s remediation = %s, want %s", r.ID, r.Remediation.Kind, w.fix)
		}
		if !slices.Equal(r.NIST, w.nist) {
			t.Errorf("%s NIST = %v, want %v", r.ID, r.NIST, w.nist)
		}
		if !slices.Equal(r.PCI, w.pci) {
			t.Errorf("%s PCI = %v, want %v", r.ID, r.PCI, w.pci)
		}
	}
}

func TestCatalogInvariants(t *testing.T) {
	seen := map[string]bool{}
	topics := []rules.Topic{rules.TopicDataProtection, rules.TopicIAM, rules.TopicMonitoring, rules.TopicCompliance,
		rules.TopicResilience, rules.TopicInfrastructure, rules.TopicBestPractices}
	for _, r := range rules.All() {
		if seen[r.ID] {
			t.Errorf("duplicate id %s", r.ID)
		}
		seen[r.ID] = true
		if !strings.HasPrefix(r.ID, "KDA.") || strings.Count(r.ID, ".") != 2 {
			t.Errorf("id %q is not KDA.TOPIC.N", r.ID)
		}
		if r.Title == "" || r.Rationale == "" || r.Check == nil {
			t.Errorf("%s: missing title, rationale or check", r.ID)
		}
		if !slices.Contains(topics, r.Topic) {
			t.Errorf("%s: topic %q", r.ID, r.Topic)
		}
		if r.Severity < rules.Informational || r.Severity > rules.Critical {
			t.Errorf("%s: severity %d", r.ID, r.Severity)
		}
		if !strings.HasPrefix(r.Doc, "https://docs.aws.amazon.com/") {
			t.Errorf("%s: doc %q", r.ID, r.Doc)
		}
		if len(r.NIST) == 0 {
			t.Errorf("%s: no NIST mapping", r.ID)
		}
		switch r.Remediation.Kind {
		case rules.RemediationNone:
			if r.Remediation.Call != "" {
				t.Errorf("%s: remediation none with call %q", r.ID, r.Remediation.Call)
			}
		case rules.RemediationAuto, rules.RemediationOptIn:
			if r.Remediation.Call == "" || r.Remediation.Description == "" {
				t.Errorf("%s: %s remediation without call or description", r.ID, r.Remediation.Kind)
			}
			if c, _, ok := strings.Cut(r.Remediation.Call, ":"); !ok || c == "" {
				t.Errorf("%s: call %q is not service:Action", r.ID, r.Remediation.Call)
			}
		default:
			t.Errorf("%s: remediation kind %q", r.ID, r.Remediation.Kind)
		}
		wantScope := rules.ScopeApplication
		if r.ID == "KDA.MON.5" || r.ID == "KDA.CMP.1" {
			wantScope = rules.ScopeAccount
		}
		if r.Scope != wantScope {
			t.Errorf("%s: scope %q, want %q", r.ID, r.Scope, wantScope)
		}
		names := map[string]bool{}
		for _, p := range r.Params {
			if p.Name == "" || p.Description == "" || names[p.Name] {
				t.Errorf("%s: parameter %+v unnamed, undocumented or duplicate", r.ID, p)
			}
			names[p.Name] = true
			// Every default must pass the parameter's own validation.
			if _, err := rules.NewParams(r, map[string]string{p.Name: p.Default}); err != nil {
				t.Errorf("%s: default of %s does not validate: %v", r.ID, p.Name, err)
			}
		}
	}
}

// Every remediable rule plans a fix somewhere in its table, and the fix's call
// is the one the rule declares; rules without remediation never plan one (the
// invariant is checked on every evaluation by checkInvariants).
func TestRemediationKindMatchesFixes(t *testing.T) {
	breakers := map[string]func(a *model.Application){
		"KDA.DP.2": func(a *model.Application) { setKey(a, func(k *model.Key) { k.Rotation = model.Known(false) }) },
		"KDA.DP.3": func(a *model.Application) {
			a.Related.Streams[inStream] = model.Known(model.Stream{ARN: inStream, Name: "orders", EncryptionType: "NONE"})
		},
		"KDA.DP.4": func(a *model.Application) {
			setBucket(a, func(b *model.Bucket) { b.PublicAccessBlock = model.Known(model.PublicAccessBlock{}) })
		},
		"KDA.IAM.2": func(a *model.Application) { setRole(a, func(r *model.Role) { r.Trust = policy(trustUnguarded) }) },
		"KDA.MON.1": func(a *model.Application) { a.Logging = model.Known([]model.LoggingOption{}) },
		"KDA.MON.2": func(a *model.Application) {
			a.Monitoring = model.Known(model.Monitoring{ConfigurationType: model.ConfigCustom, LogLevel: "DEBUG"})
		},
		"KDA.MON.3": func(a *model.Application) {
			a.Related.LogGroups[logGroup] = model.Known(model.LogGroup{Name: logGroup, KMSKeyID: keyARN})
		},
		"KDA.RES.1": func(a *model.Application) {
			a.Checkpoint = model.Known(model.Checkpoint{ConfigurationType: model.ConfigCustom})
		},
		"KDA.RES.2": func(a *model.Application) { a.Snapshots = model.Known(false) },
		"KDA.RES.3": func(a *model.Application) { a.Rollback = model.Known(false) },
		"KDA.RES.5": func(a *model.Application) { a.Related.Snapshots = model.Known([]model.Snapshot{}) },
		"KDA.RES.6": func(a *model.Application) {
			a.Parallelism = model.Known(model.Parallelism{ConfigurationType: model.ConfigCustom, Parallelism: 4, PerKPU: 1})
		},
		"KDA.INF.2": func(a *model.Application) {
			a.Related.SecurityGroups[sgID] = model.Known(model.SecurityGroup{ID: sgID, OtherUsers: model.Known([]string{}),
				Ingress: []model.IngressRule{{RuleID: "sgr-0f1e2d3c4b5a69788", Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "0.0.0.0/0"}}})
		},
	}
	for _, r := range rules.All() {
		brk, ok := breakers[r.ID]
		if r.Remediation.Kind == rules.RemediationNone {
			if ok {
				t.Errorf("%s has a breaker but no remediation", r.ID)
			}
			continue
		}
		if !ok {
			t.Errorf("%s is %s but no test plans its fix", r.ID, r.Remediation.Kind)
			continue
		}
		app := newApp()
		brk(app)
		res := evaluate(t, r.ID, app, nil, now)
		if res.Status != rules.NonCompliant || len(res.Fixes) != 1 {
			t.Errorf("%s: %s with %d fixes, want NON_COMPLIANT with one fix: %s", r.ID, res.Status, len(res.Fixes), res.Message)
		}
	}
}

func TestBaselineCompliant(t *testing.T) {
	sel, err := rules.Select(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sel.Evaluate(newApp(), now) {
		checkInvariants(t, f)
		if f.Status != rules.Compliant {
			t.Errorf("%s: %s %q, want COMPLIANT on the baseline fixture", f.Rule.ID, f.Status, f.Message)
		}
		if f.EffectiveSeverity() != f.Rule.Severity {
			t.Errorf("%s: effective severity %s", f.Rule.ID, f.EffectiveSeverity())
		}
	}
}

// An application about which nothing was read is UNKNOWN for every rule:
// never COMPLIANT, never a panic, never a fix.
func TestNothingKnownIsUnknown(t *testing.T) {
	sel, err := rules.Select(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, app := range []*model.Application{
		{},
		{Name: appName, ARN: appARN, Account: acct, Region: region, Partition: "aws"},
	} {
		for _, f := range sel.Evaluate(app, now) {
			checkInvariants(t, f)
			if f.Status != rules.Unknown {
				t.Errorf("%s: %s %q, want UNKNOWN", f.Rule.ID, f.Status, f.Message)
			}
			if strings.Contains(f.Message, "internal error") {
				t.Errorf("%s panicked: %s", f.Rule.ID, f.Message)
			}
		}
	}
}

// Needs is what a collector loads: a rule must not depend on a facet it does
// not declare. Leaving an undeclared facet unread must not change its result.
func TestRulesReadOnlyDeclaredFacets(t *testing.T) {
	drop := map[model.Facet]func(a *model.Application){
		model.FacetRole:           func(a *model.Application) { a.Related.Role = model.Unknown[model.Role]("") },
		model.FacetRoleUsers:      func(a *model.Application) { a.Related.RoleUsers = model.Unknown[[]string]("") },
		model.FacetKey:            func(a *model.Application) { a.Related.Key = model.Unknown[model.Key]("") },
		model.FacetLogGroups:      func(a *model.Application) { a.Related.LogGroups = nil },
		model.FacetSubnets:        func(a *model.Application) { a.Related.Subnets = nil },
		model.FacetSecurityGroups: func(a *model.Application) { a.Related.SecurityGroups = nil },
		model.FacetBucket:         func(a *model.Application) { a.Related.Bucket = model.Unknown[model.Bucket]("") },
		model.FacetStreams:        func(a *model.Application) { a.Related.Streams = nil },
		model.FacetAlarms:         func(a *model.Application) { a.Related.Alarms = model.Unknown[[]model.Alarm]("") },
		model.FacetSnapshots:      func(a *model.Application) { a.Related.Snapshots = model.Unknown[[]model.Snapshot]("") },
		model.FacetTrails:         func(a *model.Application) { a.Related.Trails = model.Unknown[[]model.Trail]("") },
		model.FacetRecorders:      func(a *model.Application) { a.Related.Recorders = model.Unknown[[]model.Recorder]("") },
	}
	// A failing variant too, so that fixes are compared as well.
	failing := func(a *model.Application) {
		a.Logging = model.Known([]model.LoggingOption{})
		a.Snapshots = model.Known(false)
		a.Related.Snapshots = model.Known([]model.Snapshot{})
	}
	for _, r := range rules.All() {
		for _, base := range []func(*model.Application){nil, failing} {
			ref := newApp()
			if base != nil {
				base(ref)
			}
			want := evaluate(t, r.ID, ref, nil, now)
			for facet, d := range drop {
				if slices.Contains(r.Needs, facet) {
					// A declared facet left unread must never give COMPLIANT
					// unless the rule does not need it for this application.
					continue
				}
				app := newApp()
				if base != nil {
					base(app)
				}
				d(app)
				got := evaluate(t, r.ID, app, nil, now)
				if jsonOf(got) != jsonOf(want) {
					t.Errorf("%s reads facet %s without declaring it: %s %q, with it %s %q",
						r.ID, facet, got.Status, got.Message, want.Status, want.Message)
				}
			}
		}
	}
}

func TestNeeds(t *testing.T) {
	all := rules.Needs(rules.All())
	for _, f := range []model.Facet{model.FacetRole, model.FacetRoleUsers, model.FacetKey, model.FacetLogGroups,
		model.FacetSubnets, model.FacetSecurityGroups, model.FacetBucket, model.FacetStreams, model.FacetAlarms,
		model.FacetSnapshots, model.FacetTrails, model.FacetRecorders} {
		if c := strings.Count(jsonOf(all), `"`+string(f)+`"`); c != 1 {
			t.Errorf("facet %s appears %d times in Needs(all) = %v", f, c, all)
		}
	}
	// Streams are found through the role: whatever the order of the rules,
	// the role is loaded first.
	rev := slices.Clone(rules.All())
	slices.Reverse(rev)
	for _, rs := range [][]*rules.Rule{rules.All(), rev, {rule(t, "KDA.DP.3")}} {
		n := rules.Needs(rs)
		if slices.Index(n, model.FacetRole) > slices.Index(n, model.FacetStreams) {
			t.Errorf("Needs = %v: streams before role", n)
		}
	}
	if n := rules.Needs([]*rules.Rule{rule(t, "KDA.RES.1"), rule(t, "KDA.DP.5")}); len(n) != 0 {
		t.Errorf("Needs of application-only rules = %v, want none", n)
	}
	if n := rules.Needs([]*rules.Rule{rule(t, "KDA.IAM.2"), rule(t, "KDA.IAM.4")}); !slices.Equal(n,
		[]model.Facet{model.FacetRole, model.FacetRoleUsers}) {
		t.Errorf("Needs(IAM.2, IAM.4) = %v", n)
	}
}

func TestByID(t *testing.T) {
	for _, id := range []string{"KDA.RES.4", "kda.res.4", "Kda.Res.4"} {
		if r, ok := rules.ByID(id); !ok || r.ID != "KDA.RES.4" {
			t.Errorf("ByID(%q) = %v, %v", id, r, ok)
		}
	}
	for _, id := range []string{"", "KDA.RES.40", "RES.4", "KDA.RES"} {
		if _, ok := rules.ByID(id); ok {
			t.Errorf("ByID(%q) found a rule", id)
		}
	}
}

// The catalog sorts numerically inside a topic and topics in the guide's order.
func TestCatalogOrder(t *testing.T) {
	var ids []string
	for _, r := range rules.All() {
		ids = append(ids, r.ID)
	}
	want := []string{"KDA.DP.1", "KDA.DP.2", "KDA.DP.3", "KDA.DP.4", "KDA.DP.5", "KDA.IAM.1", "KDA.IAM.2", "KDA.IAM.3",
		"KDA.IAM.4", "KDA.MON.1", "KDA.MON.2", "KDA.MON.3", "KDA.MON.4", "KDA.MON.5", "KDA.CMP.1", "KDA.RES.1", "KDA.RES.2",
		"KDA.RES.3", "KDA.RES.4", "KDA.RES.5", "KDA.RES.6", "KDA.INF.1", "KDA.INF.2"}
	if !slices.Equal(ids, want) {
		t.Errorf("order = %v", ids)
	}
}

func TestEvaluatePanicIsUnknown(t *testing.T) {
	boom := &rules.Rule{ID: "KDA.TEST.1", Title: "panics", Topic: rules.TopicIAM, Severity: rules.High,
		Remediation: rules.Remediation{Kind: rules.RemediationNone},
		Check: func(in rules.Input) rules.Result {
			return rules.Result{Status: rules.Compliant, Message: in.App.Runtime.Reason()}
		}}
	nilDeref := &rules.Rule{ID: "KDA.TEST.2", Title: "panics too", Topic: rules.TopicIAM, Severity: rules.Low,
		Remediation: rules.Remediation{Kind: rules.RemediationNone},
		Check: func(in rules.Input) rules.Result {
			var m map[string]int
			m["x"] = 1
			return rules.Result{Status: rules.Compliant, Message: "unreachable"}
		}}
	ok := rule(t, "KDA.RES.1")
	sel, err := rules.Select([]*rules.Rule{boom, nilDeref, ok}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fs := sel.Evaluate(nil, now) // nil application: the first check dereferences it
	if len(fs) != 3 {
		t.Fatalf("%d findings", len(fs))
	}
	for _, f := range fs {
		if f.Status != rules.Unknown {
			t.Errorf("%s: %s, want UNKNOWN", f.Rule.ID, f.Status)
		}
		if !strings.Contains(f.Message, "internal error") {
			t.Errorf("%s: message %q does not say internal error", f.Rule.ID, f.Message)
		}
		if len(f.Message) > rules.MaxMessage {
			t.Errorf("%s: message %d bytes", f.Rule.ID, len(f.Message))
		}
	}
	if !strings.Contains(fs[1].Message, "nil map") {
		t.Errorf("panic value not in message: %q", fs[1].Message)
	}
	// The other rules still run on a real application.
	fs = sel.Evaluate(newApp(), now)
	if fs[0].Status != rules.Compliant || fs[1].Status != rules.Unknown || fs[2].Status != rules.Compliant {
		t.Errorf("statuses %s %s %s", fs[0].Status, fs[1].Status, fs[2].Status)
	}
}

// The engine fills Rule, Kind and Call on fixes and clips messages, whatever
// the check returned.
func TestEvaluateNormalisesResults(t *testing.T) {
	r := &rules.Rule{ID: "KDA.TEST.3", Title: "t", Topic: rules.TopicResilience, Severity: rules.Low,
		Remediation: rules.Remediation{Kind: rules.RemediationOptIn, Call: "kinesisanalyticsv2:CreateApplicationSnapshot"},
		Check: func(rules.Input) rules.Result {
			return rules.Result{Status: rules.NonCompliant, Message: strings.Repeat("é", 300), Failed: []string{"c"},
				Fixes: []rules.Fix{{Condition: "c", Target: "x", Summary: "s"},
					{Condition: "c", Target: "y", Summary: "s", Kind: rules.RemediationAuto, Call: "kms:EnableKeyRotation"}}}
		}}
	sel, err := rules.Select([]*rules.Rule{r}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := sel.Evaluate(newApp(), now)[0]
	if len(f.Message) > rules.MaxMessage || !strings.HasSuffix(f.Message, "...") {
		t.Errorf("message not clipped: %d bytes", len(f.Message))
	}
	if !strings.HasPrefix(f.Message, "éé") || strings.ContainsRune(f.Message, '\uFFFD') {
		t.Errorf("message cut inside a rune: %q", f.Message)
	}
	if fx := f.Fixes[0]; fx.Rule != r.ID || fx.Kind != rules.RemediationOptIn || fx.Call != r.Remediation.Call {
		t.Errorf("defaults not filled: %+v", fx)
	}
	if fx := f.Fixes[1]; fx.Rule != r.ID || fx.Kind != rules.RemediationAuto || fx.Call != "kms:EnableKeyRotation" {
		t.Errorf("explicit values overwritten: %+v", fx)
	}
}

// Messages stay within AWS Config's annotation limit with names at their
// service maximums, on every rule and every failing path.
func TestMessagesWithinLimitForLongNames(t *testing.T) {
	long := func(prefix string, n int) string { return prefix + strings.Repeat("x", n-len(prefix)) }
	name := long("app-", 128)
	lg := long("/aws/kinesis-analytics/", 512)
	role := long("role-", 64)
	bkt := long("bucket-", 63)
	streams := map[string]model.Fact[model.Stream]{}
	var resources []string
	for i := range 12 {
		arn := model.StreamARN("aws", region, acct, long("s"+string(rune('a'+i))+"-", 128))
		resources = append(resources, `"`+arn+`"`)
		streams[arn] = model.Known(model.Stream{ARN: arn, EncryptionType: "NONE"})
	}
	streamPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:GetRecords","kinesis:PutRecords"],"Resource":[` +
		strings.Join(resources, ",") + `]},{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	props := map[string]string{}
	for i := range 20 {
		props[long("password-"+string(rune('a'+i))+"-", 200)] = "hunter2"
	}
	sgs := map[string]model.Fact[model.SecurityGroup]{}
	var sgIDs, subnetIDs []string
	subnets := map[string]model.Fact[model.Subnet]{}
	for i := range 5 {
		id := "sg-0123456789abcdef" + string(rune('a'+i))
		sgIDs = append(sgIDs, id)
		var others []string
		for j := range 30 {
			others = append(others, "eni-0123456789abcdef"+string(rune('a'+j%26)))
		}
		sgs[id] = model.Known(model.SecurityGroup{ID: id, OtherUsers: model.Known(others),
			Ingress: []model.IngressRule{{RuleID: "sgr-0123456789abcdef0", Protocol: "-1", CIDR: "0.0.0.0/0"}}})
		sn := "subnet-0123456789abcdef" + string(rune('a'+i))
		subnetIDs = append(subnetIDs, sn)
		subnets[sn] = model.Known(model.Subnet{ID: sn, Routes: []model.Route{{Destination: "0.0.0.0/0", Target: igwID}}})
	}
	var users []string
	for i := range 8 {
		users = append(users, long("other-app-"+string(rune('a'+i))+"-", 128))
	}
	app := &model.Application{
		Name: name, ARN: "arn:aws:kinesisanalytics:eu-west-1:123456789012:application/" + name,
		Account: acct, Region: region, Partition: "aws",
		Runtime: model.Known("FLINK-1_11"), Status: model.Known("RUNNING"),
		Logging:     model.Known([]model.LoggingOption{{LogStreamARN: "arn:aws:logs:eu-west-1:123456789012:log-group:" + lg + ":log-stream:s", LogGroup: lg}}),
		Encryption:  model.Known(model.Encryption{KeyType: model.KeyTypeCustomerManaged, KeyID: keyARN}),
		Snapshots:   model.Known(false),
		Rollback:    model.Known(false),
		Checkpoint:  model.Known(model.Checkpoint{ConfigurationType: model.ConfigCustom}),
		Monitoring:  model.Known(model.Monitoring{ConfigurationType: model.ConfigCustom, LogLevel: "DEBUG"}),
		Parallelism: model.Known(model.Parallelism{ConfigurationType: model.ConfigCustom}),
		VPCs:        model.Known([]model.VPCConfig{{VpcID: vpcID, SubnetIDs: subnetIDs, SecurityGroupIDs: sgIDs}}),
		Properties:  model.Known([]model.PropertyGroup{{ID: long("グループ", 200), Properties: props}}),
		Code:        model.Known(model.Code{Bucket: bkt, FileKey: long("jars/", 1024)}),
		Related: model.Related{
			Role: model.Known(model.Role{ARN: "arn:aws:iam::123456789012:role/" + role, Name: role,
				Trust:  policy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::210987654321:root","arn:aws:iam::111122223333:root"],"Service":["kinesisanalytics.amazonaws.com","ec2.amazonaws.com","lambda.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`),
				Inline: model.Known([]model.NamedPolicy{{Name: long("inline-", 128), Document: policy(streamPolicy)}}),
				Attached: model.Known([]model.NamedPolicy{{Name: "AdministratorAccess", ARN: "arn:aws:iam::aws:policy/AdministratorAccess"},
					{Name: "PowerUserAccess", ARN: "arn:aws:iam::aws:policy/PowerUserAccess"}})}),
			RoleUsers: model.Known(append([]string{name}, users...)),
			Key: model.Known(model.Key{ID: keyID, ARN: keyARN, State: "PendingDeletion", Spec: "RSA_4096",
				Rotation: model.Known(false), Policy: policy(keyPolicyDefault)}),
			LogGroups:      map[string]model.Fact[model.LogGroup]{lg: model.Known(model.LogGroup{Name: lg})},
			Subnets:        subnets,
			SecurityGroups: sgs,
			Bucket: model.Known(model.Bucket{Name: bkt, PublicAccessBlock: model.Known(model.PublicAccessBlock{}),
				Encryption: model.Known(""), PolicyPublic: model.Known(true)}),
			Streams:   streams,
			Alarms:    model.Known([]model.Alarm{}),
			Snapshots: model.Known(make([]model.Snapshot, 1000)),
			Trails:    model.Known([]model.Trail{}),
			Recorders: model.Known([]model.Recorder{{Name: long("recorder-", 256), AllSupported: true}}),
		},
	}
	sel, err := rules.Select(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sel.Evaluate(app, now) {
		checkInvariants(t, f)
		// DP.1 and MON.1 pass here: the key is customer managed, logging is on.
		want := rules.NonCompliant
		if f.Rule.ID == "KDA.DP.1" || f.Rule.ID == "KDA.MON.1" {
			want = rules.Compliant
		}
		if f.Status != want {
			t.Errorf("%s: %s %q, want %s", f.Rule.ID, f.Status, f.Message, want)
		}
	}
	// And the passing messages, which name things too.
	ok := newApp()
	ok.Name, ok.Logging = name, app.Logging
	ok.Related.LogGroups = map[string]model.Fact[model.LogGroup]{lg: model.Known(model.LogGroup{Name: lg, RetentionDays: 30, KMSKeyID: keyARN})}
	ok.Encryption = model.Known(model.Encryption{KeyType: model.KeyTypeCustomerManaged, KeyID: "alias/" + long("k", 250)})
	setKey(ok, func(k *model.Key) { k.ID = long("mrk-", 300) })
	for _, f := range sel.Evaluate(ok, now) {
		checkInvariants(t, f)
	}
}

func TestSeverity(t *testing.T) {
	for s, name := range map[rules.Severity]string{rules.Informational: "INFORMATIONAL", rules.Low: "LOW",
		rules.Medium: "MEDIUM", rules.High: "HIGH", rules.Critical: "CRITICAL", 0: "UNSET", 9: "UNSET"} {
		if s.String() != name {
			t.Errorf("%d.String() = %s, want %s", s, s.String(), name)
		}
	}
	for _, in := range []string{"critical", "CRITICAL", "Critical"} {
		if s, err := rules.ParseSeverity(in); err != nil || s != rules.Critical {
			t.Errorf("ParseSeverity(%q) = %v, %v", in, s, err)
		}
	}
	for _, in := range []string{"", "UNSET", "SEVERE", "5"} {
		if _, err := rules.ParseSeverity(in); err == nil {
			t.Errorf("ParseSeverity(%q) accepted", in)
		} else if !strings.Contains(err.Error(), "CRITICAL") {
			t.Errorf("error %q does not list the severities", err)
		}
	}
	b, _ := json.Marshal(struct{ S rules.Severity }{rules.High})
	if string(b) != `{"S":"HIGH"}` {
		t.Errorf("marshal = %s", b)
	}
	var v struct{ S rules.Severity }
	if err := json.Unmarshal([]byte(`{"S":"low"}`), &v); err != nil || v.S != rules.Low {
		t.Errorf("unmarshal = %v, %v", v.S, err)
	}
	if err := json.Unmarshal([]byte(`{"S":"urgent"}`), &v); err == nil {
		t.Error("unmarshal of an unknown severity accepted")
	}
}

func TestRuleJSON(t *testing.T) {
	b, err := json.Marshal(rules.All())
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if len(out) != 23 {
		t.Fatalf("%d rules in JSON", len(out))
	}
	for _, k := range []string{"id", "title", "topic", "severity", "remediation", "scope", "rationale", "documentation",
		"nist800_53", "pciDss4", "parameters", "reads"} {
		if _, ok := out[0][k]; !ok {
			t.Errorf("rule JSON has no %q: %s", k, b[:200])
		}
	}
	if strings.Contains(string(b), `"Check"`) {
		t.Error("rule JSON exposes the check")
	}
	var res4 map[string]any
	for _, r := range out {
		if r["id"] == "KDA.RES.4" {
			res4 = r
		}
	}
	if res4["severity"] != "CRITICAL" || res4["remediation"] != "none" || res4["topic"] != "resilience" {
		t.Errorf("KDA.RES.4 JSON = %v", res4)
	}
	ps, _ := res4["parameters"].([]any)
	if len(ps) != 2 {
		t.Fatalf("KDA.RES.4 parameters = %v", res4["parameters"])
	}
	p0 := ps[0].(map[string]any)
	if p0["name"] != "endOfSupport" || p0["type"] != "dates" || !strings.Contains(p0["default"].(string), "FLINK-1_11=2025-02-05") {
		t.Errorf("parameter JSON = %v", p0)
	}
	var dp2 map[string]any
	for _, r := range out {
		if r["id"] == "KDA.DP.2" {
			dp2 = r
		}
	}
	if dp2["remediationCall"] != "kms:EnableKeyRotation" || dp2["remediation"] != "auto" {
		t.Errorf("KDA.DP.2 JSON = %v", dp2)
	}
}

func TestAppUpdateMerge(t *testing.T) {
	var u rules.AppUpdate
	if !u.Empty() {
		t.Fatal("zero update not empty")
	}
	u.Merge(rules.AppUpdate{CheckpointingDefault: true})
	u.Merge(rules.AppUpdate{EnableSnapshots: true, LogLevel: "INFO"})
	u.Merge(rules.AppUpdate{EnableRollback: true})
	u.Merge(rules.AppUpdate{EnableAutoScaling: true})
	u.Merge(rules.AppUpdate{}) // merging nothing keeps everything, the log level included
	want := rules.AppUpdate{CheckpointingDefault: true, EnableSnapshots: true, EnableRollback: true, EnableAutoScaling: true, LogLevel: "INFO"}
	if u != want || u.Empty() {
		t.Errorf("merged = %+v", u)
	}
	// One update per application from every UpdateApplication fix of the catalog.
	app := newApp()
	app.Checkpoint = model.Known(model.Checkpoint{ConfigurationType: model.ConfigCustom})
	app.Snapshots = model.Known(false)
	app.Rollback = model.Known(false)
	app.Parallelism = model.Known(model.Parallelism{ConfigurationType: model.ConfigCustom, Parallelism: 2, PerKPU: 1})
	app.Monitoring = model.Known(model.Monitoring{ConfigurationType: model.ConfigCustom, LogLevel: "ERROR"})
	sel, _ := rules.Select(nil, nil)
	var merged rules.AppUpdate
	n := 0
	for _, f := range sel.Evaluate(app, now) {
		for _, fx := range f.Fixes {
			if fx.Update != nil {
				merged.Merge(*fx.Update)
				n++
				if fx.Target != appName {
					t.Errorf("%s: update targets %q", f.Rule.ID, fx.Target)
				}
			}
		}
	}
	if n != 5 || merged != want {
		t.Errorf("%d updates merged into %+v, want 5 into %+v", n, merged, want)
	}
}

func TestFindingEffectiveSeverity(t *testing.T) {
	r := rule(t, "KDA.RES.4")
	if s := (rules.Finding{Rule: r}).EffectiveSeverity(); s != rules.Critical {
		t.Errorf("rule's severity = %s", s)
	}
	if s := (rules.Finding{Rule: r, Result: rules.Result{Severity: rules.Medium}}).EffectiveSeverity(); s != rules.Medium {
		t.Errorf("result's severity = %s", s)
	}
}

// The engine passes its clock to checks: the same input evaluated at two
// dates gives two results (no check reads time.Now).
func TestEvaluateUsesGivenClock(t *testing.T) {
	app := newApp()
	app.Runtime = model.Known("FLINK-1_11")
	sel, _ := rules.Select([]*rules.Rule{rule(t, "KDA.RES.4")}, nil)
	before := sel.Evaluate(app, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))[0]
	after := sel.Evaluate(app, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))[0]
	if before.Status != rules.Compliant || after.Status != rules.NonCompliant {
		t.Errorf("2024: %s, 2030: %s", before.Status, after.Status)
	}
}
