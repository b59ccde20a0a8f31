package rules

import (
	"strings"

	"github.com/kdaguard/kdaguard/shared/model"
)

func init() {
	register(&Rule{
		ID:        "KDA.INF.1",
		Title:     "A VPC-attached application uses private subnets only",
		Topic:     TopicInfrastructure,
		Severity:  Medium,
		Rationale: "A VPC-attached application \"should only be configured with private subnets\": a subnet whose route table sends 0.0.0.0/0 or ::/0 to an internet gateway is public.",
		Doc:       docBase + "vpc.html",
		NIST:      []string{"SC-7"},
		PCI:       []string{"1.3.1", "1.4.1"},
		Needs:     []model.Facet{model.FacetSubnets},
		Check:     checkPrivateSubnets,
	})
	register(&Rule{
		ID:        "KDA.INF.2",
		Title:     "The application's security groups allow no ingress from 0.0.0.0/0 or ::/0",
		Topic:     TopicInfrastructure,
		Severity:  High,
		Rationale: "The application's network interfaces need no inbound rule; ingress from anywhere only widens the attack surface.",
		Doc:       docBase + "vpc.html",
		NIST:      []string{"AC-4", "SC-7"},
		PCI:       []string{"1.3.1", "1.4.1"},
		Needs:     []model.Facet{model.FacetSecurityGroups},
		Remediation: Remediation{Kind: RemediationOptIn, Call: "ec2:RevokeSecurityGroupIngress",
			Description: "Revoke the open ingress rules, only when the group is used by this application alone."},
		Check: checkOpenIngress,
	})
}

func vpcConfigs(a *model.Application) ([]model.VPCConfig, Result, bool) {
	vpcs, ok := a.VPCs.Get()
	if !ok {
		return nil, unknown("VPC configuration", a.VPCs.Reason()), false
	}
	if len(vpcs) == 0 {
		return nil, notApplicable("the application is not attached to a VPC"), false
	}
	return vpcs, Result{}, true
}

func isAnywhere(cidr string) bool { return cidr == "0.0.0.0/0" || cidr == "::/0" }

func checkPrivateSubnets(in Input) Result {
	vpcs, res, ok := vpcConfigs(in.App)
	if !ok {
		return res
	}
	var v verdict
	for _, c := range vpcs {
		for _, id := range c.SubnetIDs {
			f := in.App.Related.Subnets[id]
			s, ok := f.Get()
			if !ok {
				v.unknown("subnet "+id, f.Reason())
				continue
			}
			for _, r := range s.Routes {
				if isAnywhere(r.Destination) && strings.HasPrefix(r.Target, "igw-") {
					v.fail("private-subnets", "subnet "+id+" is public (route "+r.Destination+" to "+r.Target+")")
					break
				}
			}
		}
	}
	if len(v.failed) > 0 {
		v.problems = append(v.problems, "use private subnets (a NAT gateway or VPC endpoints for egress)")
	}
	return v.result("the application uses private subnets only")
}

func checkOpenIngress(in Input) Result {
	vpcs, res, ok := vpcConfigs(in.App)
	if !ok {
		return res
	}
	var v verdict
	for _, c := range vpcs {
		for _, id := range c.SecurityGroupIDs {
			f := in.App.Related.SecurityGroups[id]
			sg, ok := f.Get()
			if !ok {
				v.unknown("security group "+id, f.Reason())
				continue
			}
			var open []string
			for _, r := range sg.Ingress {
				if isAnywhere(r.CIDR) {
					open = append(open, r.RuleID)
				}
			}
			cond := "open-ingress:" + id
			if len(open) == 0 {
				v.hold(cond)
				continue
			}
			what := "security group " + id + " allows ingress from anywhere: remove those rules"
			others, known := sg.OtherUsers.Get()
			if known && len(others) == 0 && !slicesHasEmpty(open) {
				v.fix(cond, what, Fix{Target: id,
					Summary: "RevokeSecurityGroupIngress on " + id + " rules " + strings.Join(open, ","),
					Args:    map[string]string{"GroupId": id, "SecurityGroupRuleIds": strings.Join(open, ",")}})
				continue
			}
			if known {
				what += " (shared with " + strings.Join(others, ", ") + ": not fixed automatically)"
			}
			v.fail(cond, what)
		}
	}
	return v.result("no security group of the application allows ingress from anywhere")
}

// slicesHasEmpty reports a rule without an id (from a template): such a rule
// cannot be revoked by id, so no fix is planned for it.
func slicesHasEmpty(ids []string) bool {
	for _, id := range ids {
		if id == "" {
			return true
		}
	}
	return false
}
