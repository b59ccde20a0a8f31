package collect

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kdaguard/kdaguard/shared/model"
)

func filter(name string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String(name), Values: values}
}

func vpcIDs(app *model.Application, pick func(model.VPCConfig) []string) ([]string, bool) {
	vpcs, ok := app.VPCs.Get()
	if !ok {
		return nil, false
	}
	var ids []string
	for _, c := range vpcs {
		for _, id := range pick(c) {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids, true
}

// subnets reads each subnet of the application's VPC configurations once:
// DescribeSubnets and DescribeRouteTables (association.subnet-id); a subnet
// without its own table uses the VPC's main table (vpc-id and
// association.main=true), read once per VPC.
func (s *Session) subnets(ctx context.Context, app *model.Application) map[string]model.Fact[model.Subnet] {
	ids, ok := vpcIDs(app, func(c model.VPCConfig) []string { return c.SubnetIDs })
	if !ok {
		return nil
	}
	return readEach(ids, func(id string) model.Fact[model.Subnet] {
		sub, err := once(ctx, s, "ec2:subnet:"+id, func(ctx context.Context) (model.Subnet, error) {
			var subs *ec2.DescribeSubnetsOutput
			var own *ec2.DescribeRouteTablesOutput
			var subErr, rtErr error
			parallel(
				func() {
					subs, subErr = call(ctx, s, func(ctx context.Context) (*ec2.DescribeSubnetsOutput, error) {
						return s.c.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})
					})
				},
				func() {
					own, rtErr = call(ctx, s, func(ctx context.Context) (*ec2.DescribeRouteTablesOutput, error) {
						return s.c.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{
							Filters: []ec2types.Filter{filter("association.subnet-id", id)}})
					})
				},
			)
			if subErr != nil {
				if isNotFound(subErr) {
					return model.Subnet{}, errors.New("subnet does not exist")
				}
				return model.Subnet{}, s.fail(ctx, "ec2:DescribeSubnets", id, subErr)
			}
			if len(subs.Subnets) == 0 {
				return model.Subnet{}, errors.New("subnet does not exist")
			}
			sub := model.Subnet{ID: id, VpcID: aws.ToString(subs.Subnets[0].VpcId)}
			if rtErr != nil {
				return model.Subnet{}, s.fail(ctx, "ec2:DescribeRouteTables", id, rtErr)
			}
			var table *ec2types.RouteTable
			if len(own.RouteTables) > 0 {
				table = &own.RouteTables[0]
			} else {
				t, err := s.mainRouteTable(ctx, sub.VpcID)
				if err != nil {
					return model.Subnet{}, err
				}
				table = t
			}
			sub.RouteTableID = aws.ToString(table.RouteTableId)
			sub.Routes = routes(table.Routes)
			return sub, nil
		})
		if err != nil {
			return model.Unknown[model.Subnet](why(err))
		}
		return model.Known(sub)
	})
}

func (s *Session) mainRouteTable(ctx context.Context, vpc string) (*ec2types.RouteTable, error) {
	return once(ctx, s, "ec2:main-route-table:"+vpc, func(ctx context.Context) (*ec2types.RouteTable, error) {
		out, err := call(ctx, s, func(ctx context.Context) (*ec2.DescribeRouteTablesOutput, error) {
			return s.c.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{
				Filters: []ec2types.Filter{filter("vpc-id", vpc), filter("association.main", "true")}})
		})
		if err != nil {
			return nil, s.fail(ctx, "ec2:DescribeRouteTables", vpc, err)
		}
		if len(out.RouteTables) == 0 {
			return nil, errors.New("VPC " + vpc + " has no main route table")
		}
		return &out.RouteTables[0], nil
	})
}

// routes keeps the active routes with their destination CIDR (or prefix
// list) and target. A blackhole route sends nothing anywhere: left out.
func routes(rs []ec2types.Route) []model.Route {
	out := make([]model.Route, 0, len(rs))
	for _, r := range rs {
		if r.State == ec2types.RouteStateBlackhole {
			continue
		}
		dest := firstOf(r.DestinationCidrBlock, r.DestinationIpv6CidrBlock, r.DestinationPrefixListId)
		target := firstOf(r.GatewayId, r.NatGatewayId, r.TransitGatewayId, r.EgressOnlyInternetGatewayId,
			r.VpcPeeringConnectionId, r.NetworkInterfaceId, r.InstanceId, r.CarrierGatewayId, r.LocalGatewayId, r.CoreNetworkArn)
		out = append(out, model.Route{Destination: dest, Target: target})
	}
	return out
}

func firstOf(ps ...*string) string {
	for _, p := range ps {
		if v := aws.ToString(p); v != "" {
			return v
		}
	}
	return ""
}

// sgRead is what is read once per security group; which ENIs are "others"
// depends on the application asking.
type sgRead struct {
	ingress []model.IngressRule
	enis    []ec2types.NetworkInterface
	eniErr  error
}

// securityGroups reads each security group of the application's VPC
// configurations once: DescribeSecurityGroupRules (group-id; ingress rules,
// one CIDR per rule) and DescribeNetworkInterfaces (group-id) for the other
// users of the group.
//
// DescribeSecurityGroupRules answers an empty list, not an error, for a
// group that does not exist; such a group has no ingress rule to report.
func (s *Session) securityGroups(ctx context.Context, app *model.Application) map[string]model.Fact[model.SecurityGroup] {
	ids, ok := vpcIDs(app, func(c model.VPCConfig) []string { return c.SecurityGroupIDs })
	if !ok {
		return nil
	}
	return readEach(ids, func(id string) model.Fact[model.SecurityGroup] {
		r, err := once(ctx, s, "ec2:security-group:"+id, func(ctx context.Context) (sgRead, error) {
			var rd sgRead
			var rulesErr error
			parallel(
				func() {
					rd.ingress = []model.IngressRule{}
					p := ec2.NewDescribeSecurityGroupRulesPaginator(s.c.EC2, &ec2.DescribeSecurityGroupRulesInput{
						Filters: []ec2types.Filter{filter("group-id", id)}})
					for p.HasMorePages() {
						page, err := call(ctx, s, func(ctx context.Context) (*ec2.DescribeSecurityGroupRulesOutput, error) { return p.NextPage(ctx) })
						if err != nil {
							rulesErr = s.fail(ctx, "ec2:DescribeSecurityGroupRules", id, err)
							return
						}
						for _, r := range page.SecurityGroupRules {
							if aws.ToBool(r.IsEgress) {
								continue
							}
							rd.ingress = append(rd.ingress, model.IngressRule{RuleID: aws.ToString(r.SecurityGroupRuleId),
								Protocol: aws.ToString(r.IpProtocol), FromPort: aws.ToInt32(r.FromPort), ToPort: aws.ToInt32(r.ToPort),
								CIDR: firstOf(r.CidrIpv4, r.CidrIpv6)})
						}
					}
				},
				func() {
					p := ec2.NewDescribeNetworkInterfacesPaginator(s.c.EC2, &ec2.DescribeNetworkInterfacesInput{
						Filters: []ec2types.Filter{filter("group-id", id)}})
					for p.HasMorePages() {
						page, err := call(ctx, s, func(ctx context.Context) (*ec2.DescribeNetworkInterfacesOutput, error) { return p.NextPage(ctx) })
						if err != nil {
							rd.eniErr = s.fail(ctx, "ec2:DescribeNetworkInterfaces", id, err)
							rd.enis = nil
							return
						}
						rd.enis = append(rd.enis, page.NetworkInterfaces...)
					}
				},
			)
			if rulesErr != nil {
				return sgRead{}, rulesErr
			}
			return rd, nil
		})
		if err != nil {
			return model.Unknown[model.SecurityGroup](why(err))
		}
		sg := model.SecurityGroup{ID: id, Ingress: r.ingress}
		if r.eniErr != nil {
			sg.OtherUsers = model.Unknown[[]string](why(r.eniErr))
		} else {
			others := []string{}
			for _, n := range r.enis {
				if !ownENI(n, app) {
					others = append(others, eniLabel(n))
				}
			}
			sg.OtherUsers = model.Known(others)
		}
		return model.Known(sg)
	})
}

// ownENI reports whether a network interface is this application's.
//
// The service's documentation says that Managed Service for Apache Flink
// creates elastic network interfaces in the configured subnets, but not how
// they are labelled (Description, RequesterId) — we could not confirm it. So
// the test is deliberately strict, since a wrong "ours" would let KDA.INF.2
// revoke rules on a group that something else relies on (a public load
// balancer "app/orders/..." is not application "orders"): an ENI is the
// application's only when it is requester-managed (created by an AWS service
// on the account's behalf, which no user-made ENI is) and its description
// names the application's full ARN, not followed by more of a name
// ("application/orders-backfill" is another application). Every other ENI
// counts as another user of the group, which at worst turns an automatic fix
// into a report.
func ownENI(n ec2types.NetworkInterface, app *model.Application) bool {
	if !aws.ToBool(n.RequesterManaged) || app.ARN == "" {
		return false
	}
	desc := aws.ToString(n.Description)
	for i := 0; ; {
		j := strings.Index(desc[i:], app.ARN)
		if j < 0 {
			return false
		}
		end := i + j + len(app.ARN)
		if end == len(desc) || !nameChar(desc[end]) && desc[end] != '/' {
			return true
		}
		i = end
	}
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// eniLabel names an ENI for a report: its id and, shortened, its description.
func eniLabel(n ec2types.NetworkInterface) string {
	id := aws.ToString(n.NetworkInterfaceId)
	desc := aws.ToString(n.Description)
	if desc == "" {
		return id
	}
	if len(desc) > 40 {
		desc = desc[:37] + "..."
	}
	return id + " (" + desc + ")"
}
