package rules

import (
	"strings"

	"github.com/kdaguard/kdaguard/shared/model"
)

// ServicePrincipal is the principal the execution role must trust.
const ServicePrincipal = "kinesisanalytics.amazonaws.com"

func init() {
	register(&Rule{
		ID:        "KDA.IAM.1",
		Title:     "The execution role trusts only kinesisanalytics.amazonaws.com",
		Topic:     TopicIAM,
		Severity:  Critical,
		Rationale: "Any other principal in the trust policy (*, another account, another service) can assume the role and act with the application's permissions.",
		Doc:       docBase + "security_iam_service-with-iam.html",
		NIST:      []string{"AC-3", "AC-6"},
		PCI:       []string{"7.2.1", "7.2.2"},
		Needs:     []model.Facet{model.FacetRole},
		Check:     checkTrustPrincipals,
	})
	register(&Rule{
		ID:        "KDA.IAM.2",
		Title:     "The trust statement is guarded against the confused deputy (aws:SourceAccount / aws:SourceArn)",
		Topic:     TopicIAM,
		Severity:  Medium,
		Rationale: "Without aws:SourceAccount or aws:SourceArn, the service could be made to assume the role on behalf of another account's application.",
		Doc:       docBase + "iam-cross-service-confused-deputy-prevention.html",
		NIST:      []string{"AC-3", "AC-6"},
		PCI:       []string{"7.2.1", "7.2.2"},
		Needs:     []model.Facet{model.FacetRole, model.FacetRoleUsers},
		Remediation: Remediation{Kind: RemediationOptIn, Call: "iam:UpdateAssumeRolePolicy",
			Description: "Add aws:SourceAccount and aws:SourceArn conditions to the kinesisanalytics statement only, leaving every other statement byte-for-byte; SourceArn is the application's ARN when the role serves it alone, else every application of the account and Region."},
		Check: checkConfusedDeputy,
	})
	register(&Rule{
		ID:        "KDA.IAM.3",
		Title:     "The execution role is least privilege",
		Topic:     TopicIAM,
		Severity:  High,
		Rationale: "An application runs arbitrary user code with its role: AdministratorAccess, PowerUserAccess, a * action or service:* on every resource turns any code flaw into an account compromise.",
		Doc:       docBase + "security-best-practices.html",
		NIST:      []string{"AC-6", "AC-6(10)"},
		PCI:       []string{"7.2.1", "7.2.2"},
		Needs:     []model.Facet{model.FacetRole},
		Check:     checkLeastPrivilege,
	})
	register(&Rule{
		ID:        "KDA.IAM.4",
		Title:     "The execution role serves a single application",
		Topic:     TopicIAM,
		Severity:  Low,
		Rationale: "A role shared by applications grants each one the union of their needs and blurs who did what in CloudTrail.",
		Doc:       docBase + "security-best-practices.html",
		NIST:      []string{"AC-6"},
		PCI:       []string{"7.2.1", "7.2.2"},
		Needs:     []model.Facet{model.FacetRoleUsers},
		Check:     checkRoleShared,
	})
}

// trustsService reports whether the statement lets the service assume the role.
func trustsService(st model.Statement) bool {
	if st.Effect != "Allow" || st.Principal == nil {
		return false
	}
	for _, s := range st.Principal.Service {
		if strings.EqualFold(s, ServicePrincipal) {
			return true
		}
	}
	return false
}

func roleFact(a *model.Application) (model.Role, Result, bool) {
	role, ok := a.Related.Role.Get()
	if !ok {
		return role, unknown("execution role", a.Related.Role.Reason()), false
	}
	return role, Result{}, true
}

func checkTrustPrincipals(in Input) Result {
	role, res, ok := roleFact(in.App)
	if !ok {
		return res
	}
	trust, ok := role.Trust.Get()
	if !ok {
		return unknown("trust policy of "+role.Name, role.Trust.Reason())
	}
	var v verdict
	for _, st := range trust.Statement {
		if st.Effect != "Allow" {
			continue
		}
		if st.NotPrincipal != nil {
			v.fail("trust-principals", "a statement uses NotPrincipal, which trusts everyone else")
			continue
		}
		p := st.Principal
		if p == nil {
			continue
		}
		if p.Any {
			v.fail("trust-principals", "trust policy allows any principal (*)")
		}
		for _, a := range p.AWS {
			if a != "*" {
				v.fail("trust-principals", "trust policy allows AWS principal "+a)
			}
		}
		for _, s := range p.Service {
			if !strings.EqualFold(s, ServicePrincipal) {
				v.fail("trust-principals", "trust policy allows service "+s)
			}
		}
		for _, f := range p.Fed {
			v.fail("trust-principals", "trust policy allows federated principal "+f)
		}
		for _, o := range p.Other {
			v.fail("trust-principals", "trust policy allows principal "+o)
		}
	}
	if len(v.failed) > 0 {
		v.problems[0] = "role " + role.Name + ": " + v.problems[0]
		v.problems = append(v.problems, "trust only "+ServicePrincipal)
	}
	return v.result("role " + role.Name + " trusts only " + ServicePrincipal)
}

func checkConfusedDeputy(in Input) Result {
	a := in.App
	role, res, ok := roleFact(a)
	if !ok {
		return res
	}
	trust, ok := role.Trust.Get()
	if !ok {
		return unknown("trust policy of "+role.Name, role.Trust.Reason())
	}
	found := false
	for _, st := range trust.Statement {
		if !trustsService(st) {
			continue
		}
		found = true
		if model.GuardsConfusedDeputy(st, a.Account) {
			continue
		}
		if k := conditionKey(st, "aws:SourceAccount", "aws:SourceArn"); k != "" {
			// Adding a second condition on a key already conditioned could
			// contradict it (an ...IfExists on another account would then deny
			// the service outright): no automatic fix.
			return Result{Status: NonCompliant,
				Message: Clip("fix by hand: the " + ServicePrincipal + " trust statement of role " + role.Name + " conditions " + k + " without guarding (operator, wildcard or another account); use StringEquals on this account or ArnEquals/ArnLike on its applications"),
				Failed:  []string{"confused-deputy"}}
		}
		sourceArn := "arn:" + a.Partition + ":kinesisanalytics:" + a.Region + ":" + a.Account + ":application/*"
		if users, ok := a.Related.RoleUsers.Get(); ok && len(users) == 1 && users[0] == a.Name && a.ARN != "" {
			sourceArn = a.ARN
		}
		return Result{Status: NonCompliant,
			Message: Clip("trust statement of role " + role.Name + " for " + ServicePrincipal + " has no aws:SourceAccount (StringEquals this account) or aws:SourceArn (ArnEquals/ArnLike this account's applications) condition: add both"),
			Failed:  []string{"confused-deputy"},
			Fixes: []Fix{{Condition: "confused-deputy", Target: role.Name,
				Summary: "UpdateAssumeRolePolicy on " + role.Name + " adding aws:SourceAccount=" + a.Account + " and aws:SourceArn=" + sourceArn + " to the kinesisanalytics statement",
				Args:    map[string]string{"RoleName": role.Name, "SourceAccount": a.Account, "SourceArn": sourceArn}}}}
	}
	if !found {
		return notApplicable("role " + role.Name + " does not trust " + ServicePrincipal)
	}
	return pass("trust statement of role " + role.Name + " is guarded with aws:SourceAccount/aws:SourceArn")
}

// conditionKey returns the first of keys that the statement's conditions
// name, under any operator, or "".
func conditionKey(st model.Statement, keys ...string) string {
	for _, kv := range st.Condition {
		for k := range kv {
			for _, want := range keys {
				if strings.EqualFold(k, want) {
					return want
				}
			}
		}
	}
	return ""
}

// Managed policies that are never least privilege for an application role.
var broadPolicies = []string{":policy/AdministratorAccess", ":policy/PowerUserAccess"}

func checkLeastPrivilege(in Input) Result {
	role, res, ok := roleFact(in.App)
	if !ok {
		return res
	}
	var v verdict
	check := func(where string, d model.Fact[model.PolicyDocument]) {
		doc, ok := d.Get()
		if !ok {
			v.unknown(where, d.Reason())
			return
		}
		for _, st := range doc.Statement {
			if st.Effect != "Allow" {
				continue
			}
			if len(st.NotAction) > 0 {
				v.fail("wildcard-action", where+" allows NotAction (every other action)")
				continue
			}
			// NotResource grants every resource but the listed ones.
			allResources, onWhat := len(st.NotResource) > 0, " on every resource but its NotResource"
			for _, r := range st.Resource {
				if r == "*" {
					allResources, onWhat = true, " on every resource"
				}
			}
			for _, act := range st.Action {
				switch {
				case act == "*" || act == "*:*":
					v.fail("wildcard-action", where+" allows every action (*)")
				case allResources && strings.HasSuffix(act, ":*"):
					v.fail("service-wildcard", where+" allows "+act+onWhat)
				}
			}
		}
	}
	if at, ok := role.Attached.Get(); !ok {
		v.unknown("attached policies", role.Attached.Reason())
	} else {
		for _, p := range at {
			admin := false
			for _, b := range broadPolicies {
				if strings.HasSuffix(p.ARN, b) || "policy/"+p.Name == b[1:] {
					v.fail("broad-managed-policy", "role has "+p.Name+" attached")
					admin = true
				}
			}
			if !admin {
				check("policy "+p.Name, p.Document)
			}
		}
	}
	if inl, ok := role.Inline.Get(); !ok {
		v.unknown("inline policies", role.Inline.Reason())
	} else {
		for _, p := range inl {
			check("inline policy "+p.Name, p.Document)
		}
	}
	if len(v.failed) > 0 {
		v.problems = append(v.problems, "grant only the actions and resources the application uses")
	}
	return v.result("role " + role.Name + " grants no administrator, * or service:* on * permission")
}

func checkRoleShared(in Input) Result {
	a := in.App
	users, ok := a.Related.RoleUsers.Get()
	if !ok {
		return unknown("applications using the execution role", a.Related.RoleUsers.Reason())
	}
	var others []string
	for _, u := range users {
		if u != a.Name && u != a.Origin.LogicalID {
			others = append(others, u)
		}
	}
	if len(others) == 0 {
		return pass("the execution role serves this application only")
	}
	if len(others) > 5 {
		others = append(others[:5], "...")
	}
	return fail("the execution role is shared with "+strings.Join(others, ", ")+": give each application its own role", "single-application")
}
