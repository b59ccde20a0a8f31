package rules_test

import (
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

func noVPC(a *model.Application) { a.VPCs = model.Known([]model.VPCConfig{}) }

func vpcUnknown(a *model.Application) {
	a.VPCs = model.Unknown[[]model.VPCConfig]("template: VpcConfigurations is Fn::If")
}

func subnet(id string, routes ...model.Route) func(a *model.Application) {
	return func(a *model.Application) {
		a.Related.Subnets[id] = model.Known(model.Subnet{ID: id, VpcID: vpcID, RouteTableID: "rtb-0f9e8d7c6b5a43210", Routes: routes})
	}
}

func TestINF1PrivateSubnets(t *testing.T) {
	local := model.Route{Destination: "10.20.0.0/16", Target: "local"}
	runTable(t, "KDA.INF.1", []ruleCase{
		{name: "NAT routes only", want: rules.Compliant},
		{name: "IPv4 default route to an internet gateway", want: rules.NonCompliant, failed: strs("private-subnets"),
			contains: strs(subnetB, igwID, "private subnets"),
			mutate:   subnet(subnetB, local, model.Route{Destination: "0.0.0.0/0", Target: igwID})},
		{name: "IPv6 default route to an internet gateway", want: rules.NonCompliant, failed: strs("private-subnets"),
			mutate: subnet(subnetA, local, model.Route{Destination: "0.0.0.0/0", Target: natID}, model.Route{Destination: "::/0", Target: igwID})},
		{name: "both subnets public", want: rules.NonCompliant, failed: strs("private-subnets", "private-subnets"),
			mutate: func(a *model.Application) {
				subnet(subnetA, model.Route{Destination: "0.0.0.0/0", Target: igwID})(a)
				subnet(subnetB, model.Route{Destination: "0.0.0.0/0", Target: igwID})(a)
			}},
		{name: "IPv6 egress-only internet gateway is private", want: rules.Compliant,
			mutate: subnet(subnetA, local, model.Route{Destination: "::/0", Target: "eigw-0a1b2c3d4e5f60718"})},
		{name: "a narrower route to the internet gateway is not a default route", want: rules.Compliant,
			mutate: subnet(subnetA, local, model.Route{Destination: "203.0.113.0/24", Target: igwID})},
		{name: "isolated subnet (local only)", want: rules.Compliant, mutate: subnet(subnetA, local)},
		{name: "subnet unknown", want: rules.Unknown, contains: strs(subnetB),
			mutate: func(a *model.Application) {
				a.Related.Subnets[subnetB] = model.Unknown[model.Subnet]("ec2:DescribeRouteTables: UnauthorizedOperation")
			}},
		{name: "one public, one unknown", want: rules.NonCompliant, failed: strs("private-subnets"), contains: strs("could not verify subnet"),
			mutate: func(a *model.Application) {
				subnet(subnetA, model.Route{Destination: "0.0.0.0/0", Target: igwID})(a)
				a.Related.Subnets[subnetB] = model.Unknown[model.Subnet]("not read")
			}},
		{name: "subnets not read", want: rules.Unknown, mutate: func(a *model.Application) { a.Related.Subnets = nil }},
		{name: "not VPC-attached", want: rules.NotApplicable, mutate: noVPC},
		{name: "VPC configuration unknown", want: rules.Unknown, mutate: vpcUnknown},
	})
}

func sg(id string, others model.Fact[[]string], ingress ...model.IngressRule) func(a *model.Application) {
	return func(a *model.Application) {
		a.Related.SecurityGroups[id] = model.Known(model.SecurityGroup{ID: id, Ingress: ingress, OtherUsers: others})
	}
}

func TestINF2OpenIngress(t *testing.T) {
	alone := model.Known([]string{})
	ssh := model.IngressRule{RuleID: "sgr-0f1e2d3c4b5a69788", Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "0.0.0.0/0"}
	all6 := model.IngressRule{RuleID: "sgr-0a9b8c7d6e5f40312", Protocol: "-1", FromPort: -1, ToPort: -1, CIDR: "::/0"}
	vpcOnly := model.IngressRule{RuleID: "sgr-01234567890abcdef", Protocol: "tcp", FromPort: 443, ToPort: 443, CIDR: "10.20.0.0/16"}
	cond := "open-ingress:" + sgID
	runTable(t, "KDA.INF.2", []ruleCase{
		{name: "no ingress", want: rules.Compliant},
		{name: "ingress from the VPC only", want: rules.Compliant, mutate: sg(sgID, alone, vpcOnly)},
		{name: "open, used by this application alone: revoke those rules", want: rules.NonCompliant, failed: strs(cond),
			fixes: []fixWant{{Condition: cond, Target: sgID,
				Args: map[string]string{"GroupId": sgID, "SecurityGroupRuleIds": "sgr-0f1e2d3c4b5a69788,sgr-0a9b8c7d6e5f40312"}}},
			mutate: sg(sgID, alone, ssh, vpcOnly, all6), contains: strs(sgID)},
		{name: "open, shared group: no fix", want: rules.NonCompliant, failed: strs(cond), contains: strs("shared with", "eni-0a1b2c3d4e5f60718"),
			mutate: sg(sgID, model.Known([]string{"eni-0a1b2c3d4e5f60718 (i-0abcdef1234567890)"}), ssh)},
		{name: "open, users unknown: no fix", want: rules.NonCompliant, failed: strs(cond),
			mutate: sg(sgID, model.Unknown[[]string]("ec2:DescribeNetworkInterfaces: UnauthorizedOperation"), ssh)},
		{name: "open, rule without id (template): no fix", want: rules.NonCompliant, failed: strs(cond),
			mutate: sg(sgID, alone, model.IngressRule{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDR: "0.0.0.0/0"})},
		{name: "two groups: one fixable, one shared", want: rules.NonCompliant,
			failed: strs(cond, "open-ingress:sg-0fedcba9876543210"),
			fixes: []fixWant{{Condition: cond, Target: sgID,
				Args: map[string]string{"GroupId": sgID, "SecurityGroupRuleIds": "sgr-0f1e2d3c4b5a69788"}}},
			mutate: func(a *model.Application) {
				a.VPCs = model.Known([]model.VPCConfig{{ID: "2.1", VpcID: vpcID, SubnetIDs: []string{subnetA},
					SecurityGroupIDs: []string{sgID, "sg-0fedcba9876543210"}}})
				sg(sgID, alone, ssh)(a)
				sg("sg-0fedcba9876543210", model.Known([]string{"eni-0123456789abcdef0"}), all6)(a)
			}},
		{name: "group unknown", want: rules.Unknown, contains: strs(sgID),
			mutate: func(a *model.Application) {
				a.Related.SecurityGroups[sgID] = model.Unknown[model.SecurityGroup]("ec2:DescribeSecurityGroupRules: UnauthorizedOperation")
			}},
		{name: "groups not read", want: rules.Unknown, mutate: func(a *model.Application) { a.Related.SecurityGroups = nil }},
		{name: "not VPC-attached", want: rules.NotApplicable, mutate: noVPC},
		{name: "VPC configuration unknown", want: rules.Unknown, mutate: vpcUnknown},
	})
}
