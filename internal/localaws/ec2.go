package localaws

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ec2 (ec2Query, version 2016-11-15): the networking slice kdaguard reads.

type ec2VPC struct {
	ID, Cidr string
	Tags     []map[string]string
}

type ec2Subnet struct {
	ID, VpcID, Cidr, AZ string
	Tags                []map[string]string
}

type ec2Route struct {
	Dest, GatewayID, NatGatewayID, ENI, PeeringID, TGWID, Origin string
}

type ec2Assoc struct {
	ID, SubnetID string
	Main         bool
}

type ec2RouteTable struct {
	ID, VpcID string
	Routes    []ec2Route
	Assocs    []ec2Assoc
	Tags      []map[string]string
}

type ec2IGW struct {
	ID    string
	VpcID string // attachment
	Tags  []map[string]string
}

type ec2Group struct {
	ID, Name, Description, VpcID string
	Tags                         []map[string]string
}

type ec2Rule struct {
	ID, GroupID                                 string
	Egress                                      bool
	Proto                                       string
	From, To                                    int64
	CidrV4, CidrV6, RefGroup, PrefixList, Descr string
}

type ec2ENI struct {
	ID, SubnetID, VpcID, AZ, Description, PrivateIP, InterfaceType, RequesterID string
	Groups                                                                      []string
	Tags                                                                        []map[string]string
}

type ec2State struct {
	vpcs    map[string]*ec2VPC
	subnets map[string]*ec2Subnet
	tables  map[string]*ec2RouteTable
	igws    map[string]*ec2IGW
	groups  map[string]*ec2Group
	rules   []*ec2Rule
	enis    map[string]*ec2ENI
}

func newEC2State() *ec2State {
	return &ec2State{vpcs: map[string]*ec2VPC{}, subnets: map[string]*ec2Subnet{}, tables: map[string]*ec2RouteTable{}, igws: map[string]*ec2IGW{}, groups: map[string]*ec2Group{}, enis: map[string]*ec2ENI{}}
}

func init() {
	register("ec2", map[string]handlerFunc{
		"CreateVpc":                     (*Server).ec2CreateVpc,
		"DescribeVpcs":                  (*Server).ec2DescribeVpcs,
		"CreateSubnet":                  (*Server).ec2CreateSubnet,
		"DescribeSubnets":               (*Server).ec2DescribeSubnets,
		"CreateRouteTable":              (*Server).ec2CreateRouteTable,
		"CreateRoute":                   (*Server).ec2CreateRoute,
		"AssociateRouteTable":           (*Server).ec2AssociateRouteTable,
		"DescribeRouteTables":           (*Server).ec2DescribeRouteTables,
		"CreateInternetGateway":         (*Server).ec2CreateInternetGateway,
		"AttachInternetGateway":         (*Server).ec2AttachInternetGateway,
		"CreateSecurityGroup":           (*Server).ec2CreateSecurityGroup,
		"AuthorizeSecurityGroupIngress": func(s *Server, c *call) (any, *apiError) { return s.ec2Authorize(c, false) },
		"AuthorizeSecurityGroupEgress":  func(s *Server, c *call) (any, *apiError) { return s.ec2Authorize(c, true) },
		"RevokeSecurityGroupIngress":    func(s *Server, c *call) (any, *apiError) { return s.ec2Revoke(c, false) },
		"RevokeSecurityGroupEgress":     func(s *Server, c *call) (any, *apiError) { return s.ec2Revoke(c, true) },
		"DescribeSecurityGroups":        (*Server).ec2DescribeSecurityGroups,
		"DescribeSecurityGroupRules":    (*Server).ec2DescribeSecurityGroupRules,
		"CreateNetworkInterface":        (*Server).ec2CreateNetworkInterface,
		"DeleteNetworkInterface":        (*Server).ec2DeleteNetworkInterface,
		"DescribeNetworkInterfaces":     (*Server).ec2DescribeNetworkInterfaces,
	})
}

func ec2ID(prefix string) string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])[:17]
}

func ec2Missing(name string) *apiError {
	return errf(400, "MissingParameter", "The request must contain the parameter %s", name)
}

func ec2Tags(c *call, resourceType string) []map[string]string {
	var out []map[string]string
	for i := 1; ; i++ {
		p := "TagSpecification." + strconv.Itoa(i)
		if _, ok := c.form[p+".ResourceType"]; !ok {
			return out
		}
		if c.fv(p+".ResourceType") != resourceType {
			continue
		}
		out = append(out, c.formStructs(p+".Tag", "")...)
	}
}

func tagSet(tags []map[string]string) any {
	l := []any{}
	for _, t := range tags {
		l = append(l, map[string]any{"key": t["Key"], "value": t["Value"]})
	}
	return xmlList{item: "item", items: l}
}

func tagValues(tags []map[string]string, key string) []string {
	var out []string
	for _, t := range tags {
		if t["Key"] == key {
			out = append(out, t["Value"])
		}
	}
	return out
}

// ec2Filters parses Filter.N.Name / Filter.N.Value.M.
func ec2Filters(c *call) map[string][]string {
	f := map[string][]string{}
	for i := 1; ; i++ {
		name := c.fv("Filter." + strconv.Itoa(i) + ".Name")
		if name == "" {
			return f
		}
		f[name] = append(f[name], c.formList("Filter."+strconv.Itoa(i)+".Value", "")...)
	}
}

// filterMatch checks every filter against the resource's values for it;
// known lists the supported names.
func filterMatch(filters map[string][]string, values func(name string) ([]string, bool)) (bool, *apiError) {
	for name, want := range filters {
		have, ok := values(name)
		if !ok {
			return false, errf(400, "InvalidParameterValue", "The filter '%s' is invalid", name)
		}
		hit := false
		for _, w := range want {
			for _, h := range have {
				if globMatch(w, h) {
					hit = true
				}
			}
		}
		if !hit {
			return false, nil
		}
	}
	return true, nil
}

func globMatch(pattern, v string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == v
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(v, parts[0]) {
		return false
	}
	v = v[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(v, p)
		if i < 0 {
			return false
		}
		v = v[i+len(p):]
	}
	return strings.HasSuffix(v, parts[len(parts)-1])
}

// ec2Page paginates sorted ids with MaxResults (5..1000) / NextToken.
func ec2Page(c *call, ids []string) ([]string, string, *apiError) {
	sort.Strings(ids)
	max := len(ids)
	if v := c.fv("MaxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 1000 {
			return nil, "", errf(400, "InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", v)
		}
		max = n
	}
	start := 0
	if t := c.fv("NextToken"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > len(ids) {
			return nil, "", errf(400, "InvalidPaginationToken", "Invalid pagination token")
		}
		start = n
	}
	end := min(len(ids), start+max)
	next := ""
	if end < len(ids) {
		next = strconv.Itoa(end)
	}
	return ids[start:end], next, nil
}

// ec2Describe is the shared body of the Describe* calls over a map of
// resources: the ids asked for in idParam must all exist (else notFound's
// error); the rest must pass keep (nil: all) and the request's filters,
// whose values fields gives; the answer is one sorted page of ids.
func ec2Describe[T any](c *call, idParam string, all map[string]T, notFound func(id string) *apiError,
	keep func(T) bool, fields func(v T, filter string) ([]string, bool)) ([]string, string, *apiError) {
	want := c.formList(idParam, "")
	for _, id := range want {
		if _, ok := all[id]; !ok {
			return nil, "", notFound(id)
		}
	}
	filters := ec2Filters(c)
	var ids []string
	for id, v := range all {
		if len(want) > 0 && !slices.Contains(want, id) || keep != nil && !keep(v) {
			continue
		}
		ok, e := filterMatch(filters, func(n string) ([]string, bool) { return fields(v, n) })
		if e != nil {
			return nil, "", e
		}
		if ok {
			ids = append(ids, id)
		}
	}
	return ec2Page(c, ids)
}

func withNext(m map[string]any, next string) map[string]any {
	if next != "" {
		m["nextToken"] = next
	}
	return m
}

func (s *Server) vpcTree(v *ec2VPC) map[string]any {
	return map[string]any{"vpcId": v.ID, "cidrBlock": v.Cidr, "state": "available", "ownerId": s.opts.AccountID, "instanceTenancy": "default", "isDefault": false, "dhcpOptionsId": "dopt-localaws", "tagSet": tagSet(v.Tags)}
}

func (s *Server) ec2CreateVpc(c *call) (any, *apiError) {
	cidr := c.fv("CidrBlock")
	if cidr == "" {
		return nil, ec2Missing("CidrBlock")
	}
	_, n, err := net.ParseCIDR(cidr)
	if err != nil || n.IP.To4() == nil {
		return nil, errf(400, "InvalidParameterValue", "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", cidr)
	}
	if ones, _ := n.Mask.Size(); ones < 16 || ones > 28 {
		return nil, errf(400, "InvalidVpc.Range", "The CIDR '%s' is invalid.", cidr)
	}
	v := &ec2VPC{ID: ec2ID("vpc"), Cidr: n.String(), Tags: ec2Tags(c, "vpc")}
	s.ec2.vpcs[v.ID] = v
	rt := &ec2RouteTable{ID: ec2ID("rtb"), VpcID: v.ID, Routes: []ec2Route{{Dest: v.Cidr, GatewayID: "local", Origin: "CreateRouteTable"}}, Assocs: []ec2Assoc{{ID: ec2ID("rtbassoc"), Main: true}}}
	s.ec2.tables[rt.ID] = rt
	g := &ec2Group{ID: ec2ID("sg"), Name: "default", Description: "default VPC security group", VpcID: v.ID}
	s.ec2.groups[g.ID] = g
	s.ec2.rules = append(s.ec2.rules,
		&ec2Rule{ID: ec2ID("sgr"), GroupID: g.ID, Proto: "-1", From: -1, To: -1, RefGroup: g.ID},
		&ec2Rule{ID: ec2ID("sgr"), GroupID: g.ID, Egress: true, Proto: "-1", From: -1, To: -1, CidrV4: "0.0.0.0/0"})
	c.param("VpcId", v.ID)
	return map[string]any{"vpc": s.vpcTree(v)}, nil
}

func (s *Server) ec2DescribeVpcs(c *call) (any, *apiError) {
	page, next, e := ec2Describe(c, "VpcId", s.ec2.vpcs,
		func(id string) *apiError {
			return errf(400, "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
		},
		nil,
		func(v *ec2VPC, n string) ([]string, bool) {
			switch {
			case n == "vpc-id":
				return []string{v.ID}, true
			case n == "cidr" || n == "cidr-block-association.cidr-block":
				return []string{v.Cidr}, true
			case strings.HasPrefix(n, "tag:"):
				return tagValues(v.Tags, n[4:]), true
			}
			return nil, false
		})
	if e != nil {
		return nil, e
	}
	l := []any{}
	for _, id := range page {
		l = append(l, s.vpcTree(s.ec2.vpcs[id]))
	}
	return withNext(map[string]any{"vpcSet": xmlList{item: "item", items: l}}, next), nil
}

func cidrContains(outer, inner string) bool {
	_, o, err1 := net.ParseCIDR(outer)
	_, i, err2 := net.ParseCIDR(inner)
	if err1 != nil || err2 != nil {
		return false
	}
	oo, _ := o.Mask.Size()
	io, _ := i.Mask.Size()
	return o.Contains(i.IP) && io >= oo
}

func cidrOverlap(a, b string) bool {
	_, x, err1 := net.ParseCIDR(a)
	_, y, err2 := net.ParseCIDR(b)
	return err1 == nil && err2 == nil && (x.Contains(y.IP) || y.Contains(x.IP))
}

func (s *Server) subnetTree(sn *ec2Subnet) map[string]any {
	return map[string]any{"subnetId": sn.ID, "vpcId": sn.VpcID, "cidrBlock": sn.Cidr, "availabilityZone": sn.AZ, "availabilityZoneId": "use1-az1", "state": "available",
		"availableIpAddressCount": 251, "defaultForAz": false, "mapPublicIpOnLaunch": false, "ownerId": s.opts.AccountID,
		"subnetArn": fmt.Sprintf("arn:aws:ec2:%s:%s:subnet/%s", s.opts.Region, s.opts.AccountID, sn.ID), "tagSet": tagSet(sn.Tags)}
}

func (s *Server) ec2CreateSubnet(c *call) (any, *apiError) {
	vpcID, cidr := c.fv("VpcId"), c.fv("CidrBlock")
	if vpcID == "" {
		return nil, ec2Missing("VpcId")
	}
	if cidr == "" {
		return nil, ec2Missing("CidrBlock")
	}
	v := s.ec2.vpcs[vpcID]
	if v == nil {
		return nil, errf(400, "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpcID)
	}
	if _, _, err := net.ParseCIDR(cidr); err != nil {
		return nil, errf(400, "InvalidParameterValue", "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", cidr)
	}
	if !cidrContains(v.Cidr, cidr) {
		return nil, errf(400, "InvalidSubnet.Range", "The CIDR '%s' is invalid.", cidr)
	}
	for _, o := range s.ec2.subnets {
		if o.VpcID == vpcID && cidrOverlap(o.Cidr, cidr) {
			return nil, errf(400, "InvalidSubnet.Conflict", "The CIDR '%s' conflicts with another subnet", cidr)
		}
	}
	az := c.fv("AvailabilityZone")
	if az == "" {
		az = s.opts.Region + "a"
	}
	sn := &ec2Subnet{ID: ec2ID("subnet"), VpcID: vpcID, Cidr: cidr, AZ: az, Tags: ec2Tags(c, "subnet")}
	s.ec2.subnets[sn.ID] = sn
	c.param("SubnetId", sn.ID)
	return map[string]any{"subnet": s.subnetTree(sn)}, nil
}

func (s *Server) ec2DescribeSubnets(c *call) (any, *apiError) {
	page, next, e := ec2Describe(c, "SubnetId", s.ec2.subnets,
		func(id string) *apiError {
			return errf(400, "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
		},
		nil,
		func(sn *ec2Subnet, n string) ([]string, bool) {
			switch {
			case n == "vpc-id":
				return []string{sn.VpcID}, true
			case n == "subnet-id":
				return []string{sn.ID}, true
			case n == "availability-zone":
				return []string{sn.AZ}, true
			case n == "cidr-block" || n == "cidr":
				return []string{sn.Cidr}, true
			case strings.HasPrefix(n, "tag:"):
				return tagValues(sn.Tags, n[4:]), true
			}
			return nil, false
		})
	if e != nil {
		return nil, e
	}
	l := []any{}
	for _, id := range page {
		l = append(l, s.subnetTree(s.ec2.subnets[id]))
	}
	return withNext(map[string]any{"subnetSet": xmlList{item: "item", items: l}}, next), nil
}

func (s *Server) tableTree(t *ec2RouteTable) map[string]any {
	routes := []any{}
	for _, r := range t.Routes {
		m := map[string]any{"destinationCidrBlock": r.Dest, "origin": r.Origin, "state": "active"}
		for k, v := range map[string]string{"gatewayId": r.GatewayID, "natGatewayId": r.NatGatewayID, "networkInterfaceId": r.ENI, "vpcPeeringConnectionId": r.PeeringID, "transitGatewayId": r.TGWID} {
			if v != "" {
				m[k] = v
			}
		}
		if r.GatewayID != "" && r.GatewayID != "local" {
			if g := s.ec2.igws[r.GatewayID]; g == nil || g.VpcID != t.VpcID {
				m["state"] = "blackhole"
			}
		}
		routes = append(routes, m)
	}
	assocs := []any{}
	for _, a := range t.Assocs {
		m := map[string]any{"routeTableAssociationId": a.ID, "routeTableId": t.ID, "main": a.Main, "associationState": map[string]any{"state": "associated"}}
		if a.SubnetID != "" {
			m["subnetId"] = a.SubnetID
		}
		assocs = append(assocs, m)
	}
	return map[string]any{"routeTableId": t.ID, "vpcId": t.VpcID, "ownerId": s.opts.AccountID, "routeSet": xmlList{item: "item", items: routes},
		"associationSet": xmlList{item: "item", items: assocs}, "propagatingVgwSet": xmlList{item: "item"}, "tagSet": tagSet(t.Tags)}
}

func (s *Server) ec2CreateRouteTable(c *call) (any, *apiError) {
	vpcID := c.fv("VpcId")
	if vpcID == "" {
		return nil, ec2Missing("VpcId")
	}
	v := s.ec2.vpcs[vpcID]
	if v == nil {
		return nil, errf(400, "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpcID)
	}
	t := &ec2RouteTable{ID: ec2ID("rtb"), VpcID: vpcID, Routes: []ec2Route{{Dest: v.Cidr, GatewayID: "local", Origin: "CreateRouteTable"}}, Tags: ec2Tags(c, "route-table")}
	s.ec2.tables[t.ID] = t
	c.param("RouteTableId", t.ID)
	return map[string]any{"routeTable": s.tableTree(t)}, nil
}

func (s *Server) table(c *call) (*ec2RouteTable, *apiError) {
	id := c.fv("RouteTableId")
	if id == "" {
		return nil, ec2Missing("RouteTableId")
	}
	t := s.ec2.tables[id]
	if t == nil {
		return nil, errf(400, "InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist", id)
	}
	return t, nil
}

func (s *Server) ec2CreateRoute(c *call) (any, *apiError) {
	t, e := s.table(c)
	if e != nil {
		return nil, e
	}
	dest := c.fv("DestinationCidrBlock")
	if dest == "" {
		return nil, ec2Missing("DestinationCidrBlock")
	}
	if _, _, err := net.ParseCIDR(dest); err != nil {
		return nil, errf(400, "InvalidParameterValue", "Value (%s) for parameter destinationCidrBlock is invalid.", dest)
	}
	r := ec2Route{Dest: dest, GatewayID: c.fv("GatewayId"), NatGatewayID: c.fv("NatGatewayId"), ENI: c.fv("NetworkInterfaceId"), PeeringID: c.fv("VpcPeeringConnectionId"), TGWID: c.fv("TransitGatewayId"), Origin: "CreateRoute"}
	if r.GatewayID == "" && r.NatGatewayID == "" && r.ENI == "" && r.PeeringID == "" && r.TGWID == "" {
		return nil, errf(400, "InvalidParameterCombination", "No route target specified.")
	}
	if strings.HasPrefix(r.GatewayID, "igw-") {
		g := s.ec2.igws[r.GatewayID]
		if g == nil {
			return nil, errf(400, "InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", r.GatewayID)
		}
		if g.VpcID != t.VpcID {
			return nil, errf(400, "InvalidParameterValue", "route table %s and network gateway %s belong to different networks", t.ID, r.GatewayID)
		}
	}
	for _, o := range t.Routes {
		if o.Dest == dest {
			return nil, errf(400, "RouteAlreadyExists", "The route identified by %s already exists.", dest)
		}
	}
	t.Routes = append(t.Routes, r)
	return map[string]any{"return": true}, nil
}

func (s *Server) ec2AssociateRouteTable(c *call) (any, *apiError) {
	t, e := s.table(c)
	if e != nil {
		return nil, e
	}
	sid := c.fv("SubnetId")
	if sid == "" {
		return nil, ec2Missing("SubnetId")
	}
	sn := s.ec2.subnets[sid]
	if sn == nil {
		return nil, errf(400, "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", sid)
	}
	if sn.VpcID != t.VpcID {
		return nil, errf(400, "InvalidParameterValue", "Route table %s and subnet %s belong to different networks", t.ID, sid)
	}
	for _, o := range s.ec2.tables {
		for _, a := range o.Assocs {
			if a.SubnetID == sid {
				return nil, errf(400, "Resource.AlreadyAssociated", "the specified association for route table %s conflicts with an existing association", t.ID)
			}
		}
	}
	a := ec2Assoc{ID: ec2ID("rtbassoc"), SubnetID: sid}
	t.Assocs = append(t.Assocs, a)
	return map[string]any{"associationId": a.ID, "associationState": map[string]any{"state": "associated"}}, nil
}

func (s *Server) ec2DescribeRouteTables(c *call) (any, *apiError) {
	page, next, e := ec2Describe(c, "RouteTableId", s.ec2.tables,
		func(id string) *apiError {
			return errf(400, "InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist", id)
		},
		nil,
		func(t *ec2RouteTable, n string) ([]string, bool) {
			var vals []string
			switch {
			case n == "vpc-id":
				return []string{t.VpcID}, true
			case n == "route-table-id":
				return []string{t.ID}, true
			case n == "association.subnet-id":
				for _, a := range t.Assocs {
					if a.SubnetID != "" {
						vals = append(vals, a.SubnetID)
					}
				}
				return vals, true
			case n == "association.main":
				for _, a := range t.Assocs {
					vals = append(vals, strconv.FormatBool(a.Main))
				}
				return vals, true
			case n == "association.route-table-association-id":
				for _, a := range t.Assocs {
					vals = append(vals, a.ID)
				}
				return vals, true
			case n == "route.gateway-id":
				for _, r := range t.Routes {
					vals = append(vals, r.GatewayID)
				}
				return vals, true
			case n == "route.destination-cidr-block":
				for _, r := range t.Routes {
					vals = append(vals, r.Dest)
				}
				return vals, true
			case strings.HasPrefix(n, "tag:"):
				return tagValues(t.Tags, n[4:]), true
			}
			return nil, false
		})
	if e != nil {
		return nil, e
	}
	l := []any{}
	for _, id := range page {
		l = append(l, s.tableTree(s.ec2.tables[id]))
	}
	return withNext(map[string]any{"routeTableSet": xmlList{item: "item", items: l}}, next), nil
}

func (s *Server) igwTree(g *ec2IGW) map[string]any {
	att := []any{}
	if g.VpcID != "" {
		att = append(att, map[string]any{"vpcId": g.VpcID, "state": "available"})
	}
	return map[string]any{"internetGatewayId": g.ID, "ownerId": s.opts.AccountID, "attachmentSet": xmlList{item: "item", items: att}, "tagSet": tagSet(g.Tags)}
}

func (s *Server) ec2CreateInternetGateway(c *call) (any, *apiError) {
	g := &ec2IGW{ID: ec2ID("igw"), Tags: ec2Tags(c, "internet-gateway")}
	s.ec2.igws[g.ID] = g
	c.param("InternetGatewayId", g.ID)
	return map[string]any{"internetGateway": s.igwTree(g)}, nil
}

func (s *Server) ec2AttachInternetGateway(c *call) (any, *apiError) {
	id, vpcID := c.fv("InternetGatewayId"), c.fv("VpcId")
	g := s.ec2.igws[id]
	if g == nil {
		return nil, errf(400, "InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", id)
	}
	if s.ec2.vpcs[vpcID] == nil {
		return nil, errf(400, "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpcID)
	}
	if g.VpcID != "" {
		return nil, errf(400, "Resource.AlreadyAssociated", "resource %s is already attached to network %s", id, g.VpcID)
	}
	g.VpcID = vpcID
	return map[string]any{"return": true}, nil
}

func (s *Server) ec2CreateSecurityGroup(c *call) (any, *apiError) {
	name, desc, vpcID := c.fv("GroupName"), c.fv("GroupDescription"), c.fv("VpcId")
	if name == "" {
		return nil, ec2Missing("GroupName")
	}
	if desc == "" {
		return nil, ec2Missing("GroupDescription")
	}
	if vpcID == "" {
		return nil, errf(400, "VPCIdNotSpecified", "No default VPC for this user")
	}
	if s.ec2.vpcs[vpcID] == nil {
		return nil, errf(400, "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpcID)
	}
	if strings.HasPrefix(strings.ToLower(name), "sg-") {
		return nil, errf(400, "InvalidParameterValue", "Group names may not be in the format sg-*.")
	}
	for _, g := range s.ec2.groups {
		if g.VpcID == vpcID && g.Name == name {
			return nil, errf(400, "InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpcID)
		}
	}
	g := &ec2Group{ID: ec2ID("sg"), Name: name, Description: desc, VpcID: vpcID, Tags: ec2Tags(c, "security-group")}
	s.ec2.groups[g.ID] = g
	s.ec2.rules = append(s.ec2.rules, &ec2Rule{ID: ec2ID("sgr"), GroupID: g.ID, Egress: true, Proto: "-1", From: -1, To: -1, CidrV4: "0.0.0.0/0"})
	c.param("GroupId", g.ID)
	return map[string]any{"groupId": g.ID, "securityGroupArn": s.sgARN(g.ID), "tagSet": tagSet(g.Tags)}, nil
}

func (s *Server) sgARN(id string) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", s.opts.Region, s.opts.AccountID, id)
}

func (s *Server) groupByParams(c *call) (*ec2Group, *apiError) {
	id, name := c.fv("GroupId"), c.fv("GroupName")
	if id != "" {
		g := s.ec2.groups[id]
		if g == nil {
			return nil, errf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
		return g, nil
	}
	if name != "" {
		for _, g := range s.ec2.groups {
			if g.Name == name {
				return g, nil
			}
		}
		return nil, errf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC", name)
	}
	return nil, ec2Missing("GroupId")
}

func normProto(p string) string {
	switch strings.ToLower(p) {
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "1":
		return "icmp"
	case "all", "-1":
		return "-1"
	}
	return strings.ToLower(p)
}

// permissionRules expands the request's permissions into rules.
func (s *Server) permissionRules(c *call, g *ec2Group, egress bool) ([]*ec2Rule, *apiError) {
	var out []*ec2Rule
	type perm struct {
		proto, from, to string
		prefix          string
	}
	var perms []perm
	for i := 1; ; i++ {
		p := "IpPermissions." + strconv.Itoa(i)
		found := false
		for k := range c.form {
			if strings.HasPrefix(k, p+".") {
				found = true
				break
			}
		}
		if !found {
			break
		}
		perms = append(perms, perm{c.fv(p + ".IpProtocol"), c.fv(p + ".FromPort"), c.fv(p + ".ToPort"), p})
	}
	if len(perms) == 0 && c.fv("IpProtocol") != "" {
		r := &ec2Rule{GroupID: g.ID, Egress: egress, Proto: normProto(c.fv("IpProtocol")), CidrV4: c.fv("CidrIp")}
		r.From, r.To = portsOf(r.Proto, c.fv("FromPort"), c.fv("ToPort"))
		if r.CidrV4 == "" {
			return nil, errf(400, "InvalidParameterCombination", "No source specified.")
		}
		return []*ec2Rule{r}, nil
	}
	for _, p := range perms {
		if p.proto == "" {
			return nil, ec2Missing("IpPermissions.IpProtocol")
		}
		proto := normProto(p.proto)
		from, to := portsOf(proto, p.from, p.to)
		if (proto == "tcp" || proto == "udp") && (from < 0 || to > 65535 || from > to) {
			return nil, errf(400, "InvalidParameterValue", "Invalid port range %d-%d.", from, to)
		}
		mk := func() *ec2Rule { return &ec2Rule{GroupID: g.ID, Egress: egress, Proto: proto, From: from, To: to} }
		n := 0
		for _, r := range c.formStructs(p.prefix+".IpRanges", "") {
			x := mk()
			x.CidrV4, x.Descr = r["CidrIp"], r["Description"]
			if _, _, err := net.ParseCIDR(x.CidrV4); err != nil {
				return nil, errf(400, "InvalidParameterValue", "CIDR block %s is malformed", x.CidrV4)
			}
			out = append(out, x)
			n++
		}
		for _, r := range c.formStructs(p.prefix+".Ipv6Ranges", "") {
			x := mk()
			x.CidrV6, x.Descr = r["CidrIpv6"], r["Description"]
			out = append(out, x)
			n++
		}
		for _, r := range c.formStructs(p.prefix+".Groups", "") {
			x := mk()
			x.RefGroup, x.Descr = r["GroupId"], r["Description"]
			if s.ec2.groups[x.RefGroup] == nil {
				return nil, errf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist", x.RefGroup)
			}
			out = append(out, x)
			n++
		}
		for _, r := range c.formStructs(p.prefix+".PrefixListIds", "") {
			x := mk()
			x.PrefixList, x.Descr = r["PrefixListId"], r["Description"]
			out = append(out, x)
			n++
		}
		if n == 0 {
			return nil, errf(400, "InvalidParameterValue", "The request must specify at least one source or destination.")
		}
	}
	return out, nil
}

func portsOf(proto, from, to string) (int64, int64) {
	if proto == "-1" {
		return -1, -1
	}
	f, err1 := strconv.ParseInt(from, 10, 64)
	t, err2 := strconv.ParseInt(to, 10, 64)
	if err1 != nil {
		f = -1
	}
	if err2 != nil {
		t = -1
	}
	return f, t
}

func sameRule(a, b *ec2Rule) bool {
	return a.GroupID == b.GroupID && a.Egress == b.Egress && a.Proto == b.Proto && a.From == b.From && a.To == b.To &&
		a.CidrV4 == b.CidrV4 && a.CidrV6 == b.CidrV6 && a.RefGroup == b.RefGroup && a.PrefixList == b.PrefixList
}

func (s *Server) ec2Authorize(c *call, egress bool) (any, *apiError) {
	g, e := s.groupByParams(c)
	if e != nil {
		return nil, e
	}
	rules, e := s.permissionRules(c, g, egress)
	if e != nil {
		return nil, e
	}
	for _, r := range rules {
		for _, o := range s.ec2.rules {
			if sameRule(r, o) {
				return nil, errf(400, "InvalidPermission.Duplicate", "the specified rule \"peer: %s, %s, ALLOW\" already exists", firstNonEmpty(r.CidrV4, r.CidrV6, r.RefGroup, r.PrefixList), r.Proto)
			}
		}
	}
	l := []any{}
	for _, r := range rules {
		r.ID = ec2ID("sgr")
		s.ec2.rules = append(s.ec2.rules, r)
		l = append(l, s.ruleTree(r))
	}
	return map[string]any{"return": true, "securityGroupRuleSet": xmlList{item: "item", items: l}}, nil
}

func firstNonEmpty(v ...string) string {
	for _, x := range v {
		if x != "" {
			return x
		}
	}
	return ""
}

func (s *Server) ec2Revoke(c *call, egress bool) (any, *apiError) {
	g, e := s.groupByParams(c)
	if e != nil {
		return nil, e
	}
	var victims []*ec2Rule
	if ids := c.formList("SecurityGroupRuleId", ""); len(ids) > 0 {
		for _, id := range ids {
			i := slices.IndexFunc(s.ec2.rules, func(r *ec2Rule) bool { return r.ID == id && r.GroupID == g.ID && r.Egress == egress })
			if i < 0 {
				return nil, errf(400, "InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
			}
			victims = append(victims, s.ec2.rules[i])
		}
	} else {
		rules, e := s.permissionRules(c, g, egress)
		if e != nil {
			return nil, e
		}
		for _, r := range rules {
			i := slices.IndexFunc(s.ec2.rules, func(o *ec2Rule) bool { return sameRule(r, o) })
			if i < 0 {
				return nil, errf(400, "InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
			}
			victims = append(victims, s.ec2.rules[i])
		}
	}
	l := []any{}
	for _, v := range victims {
		l = append(l, map[string]any{"securityGroupRuleId": v.ID, "groupId": v.GroupID, "isEgress": v.Egress, "ipProtocol": v.Proto, "fromPort": v.From, "toPort": v.To, "cidrIpv4": nilIfEmpty(v.CidrV4)})
	}
	s.ec2.rules = slices.DeleteFunc(s.ec2.rules, func(r *ec2Rule) bool { return slices.Contains(victims, r) })
	return map[string]any{"return": true, "revokedSecurityGroupRuleSet": xmlList{item: "item", items: l}}, nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) ruleTree(r *ec2Rule) map[string]any {
	m := map[string]any{"securityGroupRuleId": r.ID, "groupId": r.GroupID, "groupOwnerId": s.opts.AccountID, "isEgress": r.Egress, "ipProtocol": r.Proto,
		"fromPort": r.From, "toPort": r.To, "securityGroupRuleArn": fmt.Sprintf("arn:aws:ec2:%s:%s:security-group-rule/%s", s.opts.Region, s.opts.AccountID, r.ID), "tagSet": xmlList{item: "item"}}
	for k, v := range map[string]string{"cidrIpv4": r.CidrV4, "cidrIpv6": r.CidrV6, "prefixListId": r.PrefixList, "description": r.Descr} {
		if v != "" {
			m[k] = v
		}
	}
	if r.RefGroup != "" {
		m["referencedGroupInfo"] = map[string]any{"groupId": r.RefGroup, "userId": s.opts.AccountID}
	}
	return m
}

// permissions aggregates a group's rules into IpPermissions as AWS does.
func (s *Server) permissions(groupID string, egress bool) any {
	type key struct {
		proto    string
		from, to int64
	}
	var order []key
	agg := map[key]map[string][]any{}
	for _, r := range s.ec2.rules {
		if r.GroupID != groupID || r.Egress != egress {
			continue
		}
		k := key{r.Proto, r.From, r.To}
		if agg[k] == nil {
			agg[k] = map[string][]any{}
			order = append(order, k)
		}
		switch {
		case r.CidrV4 != "":
			agg[k]["ipRanges"] = append(agg[k]["ipRanges"], map[string]any{"cidrIp": r.CidrV4, "description": nilIfEmpty(r.Descr)})
		case r.CidrV6 != "":
			agg[k]["ipv6Ranges"] = append(agg[k]["ipv6Ranges"], map[string]any{"cidrIpv6": r.CidrV6, "description": nilIfEmpty(r.Descr)})
		case r.RefGroup != "":
			agg[k]["groups"] = append(agg[k]["groups"], map[string]any{"groupId": r.RefGroup, "userId": s.opts.AccountID, "description": nilIfEmpty(r.Descr)})
		case r.PrefixList != "":
			agg[k]["prefixListIds"] = append(agg[k]["prefixListIds"], map[string]any{"prefixListId": r.PrefixList, "description": nilIfEmpty(r.Descr)})
		}
	}
	l := []any{}
	for _, k := range order {
		m := map[string]any{"ipProtocol": k.proto}
		if k.proto != "-1" {
			m["fromPort"], m["toPort"] = k.from, k.to
		}
		for _, n := range []string{"ipRanges", "ipv6Ranges", "groups", "prefixListIds"} {
			m[n] = xmlList{item: "item", items: agg[k][n]}
		}
		l = append(l, m)
	}
	return xmlList{item: "item", items: l}
}

func (s *Server) ec2DescribeSecurityGroups(c *call) (any, *apiError) {
	names := c.formList("GroupName", "")
	page, next, e := ec2Describe(c, "GroupId", s.ec2.groups,
		func(id string) *apiError {
			return errf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		},
		func(g *ec2Group) bool { return len(names) == 0 || slices.Contains(names, g.Name) },
		func(g *ec2Group, n string) ([]string, bool) {
			switch {
			case n == "group-id":
				return []string{g.ID}, true
			case n == "group-name":
				return []string{g.Name}, true
			case n == "vpc-id":
				return []string{g.VpcID}, true
			case n == "description":
				return []string{g.Description}, true
			case strings.HasPrefix(n, "tag:"):
				return tagValues(g.Tags, n[4:]), true
			}
			return nil, false
		})
	if e != nil {
		return nil, e
	}
	l := []any{}
	for _, id := range page {
		g := s.ec2.groups[id]
		l = append(l, map[string]any{"groupId": g.ID, "groupName": g.Name, "groupDescription": g.Description, "vpcId": g.VpcID, "ownerId": s.opts.AccountID,
			"securityGroupArn": s.sgARN(g.ID), "ipPermissions": s.permissions(g.ID, false), "ipPermissionsEgress": s.permissions(g.ID, true), "tagSet": tagSet(g.Tags)})
	}
	return withNext(map[string]any{"securityGroupInfo": xmlList{item: "item", items: l}}, next), nil
}

func (s *Server) ec2DescribeSecurityGroupRules(c *call) (any, *apiError) {
	want := c.formList("SecurityGroupRuleId", "")
	filters := ec2Filters(c)
	byID := map[string]*ec2Rule{}
	var ids []string
	for _, r := range s.ec2.rules {
		byID[r.ID] = r
		if len(want) > 0 && !slices.Contains(want, r.ID) {
			continue
		}
		ok, e := filterMatch(filters, func(n string) ([]string, bool) {
			switch n {
			case "group-id":
				return []string{r.GroupID}, true
			case "security-group-rule-id":
				return []string{r.ID}, true
			}
			return nil, false
		})
		if e != nil {
			return nil, e
		}
		if ok {
			ids = append(ids, r.ID)
		}
	}
	for _, id := range want {
		if byID[id] == nil {
			return nil, errf(400, "InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
		}
	}
	page, next, e := ec2Page(c, ids)
	if e != nil {
		return nil, e
	}
	l := []any{}
	for _, id := range page {
		l = append(l, s.ruleTree(byID[id]))
	}
	return withNext(map[string]any{"securityGroupRuleSet": xmlList{item: "item", items: l}}, next), nil
}

func (s *Server) eniTree(n *ec2ENI) map[string]any {
	groups := []any{}
	for _, g := range n.Groups {
		name := ""
		if x := s.ec2.groups[g]; x != nil {
			name = x.Name
		}
		groups = append(groups, map[string]any{"groupId": g, "groupName": name})
	}
	m := map[string]any{"networkInterfaceId": n.ID, "subnetId": n.SubnetID, "vpcId": n.VpcID, "availabilityZone": n.AZ, "description": n.Description,
		"ownerId": s.opts.AccountID, "privateIpAddress": n.PrivateIP, "status": "available", "interfaceType": n.InterfaceType, "sourceDestCheck": true,
		"macAddress": "02:00:00:00:00:01", "requesterManaged": n.RequesterID != "", "groupSet": xmlList{item: "item", items: groups}, "tagSet": tagSet(n.Tags)}
	if n.RequesterID != "" {
		m["requesterId"] = n.RequesterID
	}
	return m
}

// AddNetworkInterface creates an ENI as a service would (e.g. the ENIs a
// VPC-attached Flink application gets), with a requester id.
func (s *Server) AddNetworkInterface(subnetID string, groupIDs []string, description, requesterID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, e := s.newENI(subnetID, groupIDs, description)
	if e != nil {
		return "", e
	}
	n.RequesterID = requesterID
	return n.ID, nil
}

func (s *Server) newENI(subnetID string, groups []string, desc string) (*ec2ENI, *apiError) {
	sn := s.ec2.subnets[subnetID]
	if sn == nil {
		return nil, errf(400, "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", subnetID)
	}
	if len(groups) == 0 {
		for _, g := range s.ec2.groups {
			if g.VpcID == sn.VpcID && g.Name == "default" {
				groups = []string{g.ID}
			}
		}
	}
	for _, g := range groups {
		x := s.ec2.groups[g]
		if x == nil {
			return nil, errf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist", g)
		}
		if x.VpcID != sn.VpcID {
			return nil, errf(400, "InvalidParameter", "Security group %s and subnet %s belong to different networks.", g, subnetID)
		}
	}
	ip := "10.0.0.10"
	if _, n, err := net.ParseCIDR(sn.Cidr); err == nil && n.IP.To4() != nil {
		v := binary.BigEndian.Uint32(n.IP.To4()) + uint32(4+len(s.ec2.enis))
		b := make(net.IP, 4)
		binary.BigEndian.PutUint32(b, v)
		ip = b.String()
	}
	e := &ec2ENI{ID: ec2ID("eni"), SubnetID: subnetID, VpcID: sn.VpcID, AZ: sn.AZ, Description: desc, PrivateIP: ip, InterfaceType: "interface", Groups: slices.Clone(groups)}
	s.ec2.enis[e.ID] = e
	return e, nil
}

func (s *Server) ec2CreateNetworkInterface(c *call) (any, *apiError) {
	sid := c.fv("SubnetId")
	if sid == "" {
		return nil, ec2Missing("SubnetId")
	}
	n, e := s.newENI(sid, c.formList("SecurityGroupId", ""), c.fv("Description"))
	if e != nil {
		return nil, e
	}
	n.Tags = ec2Tags(c, "network-interface")
	c.param("NetworkInterfaceId", n.ID)
	return map[string]any{"networkInterface": s.eniTree(n)}, nil
}

func (s *Server) ec2DeleteNetworkInterface(c *call) (any, *apiError) {
	id := c.fv("NetworkInterfaceId")
	if s.ec2.enis[id] == nil {
		return nil, errf(400, "InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", id)
	}
	delete(s.ec2.enis, id)
	return map[string]any{"return": true}, nil
}

func (s *Server) ec2DescribeNetworkInterfaces(c *call) (any, *apiError) {
	page, next, e := ec2Describe(c, "NetworkInterfaceId", s.ec2.enis,
		func(id string) *apiError {
			return errf(400, "InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", id)
		},
		nil,
		func(n *ec2ENI, f string) ([]string, bool) {
			switch {
			case f == "group-id":
				return n.Groups, true
			case f == "vpc-id":
				return []string{n.VpcID}, true
			case f == "subnet-id":
				return []string{n.SubnetID}, true
			case f == "network-interface-id":
				return []string{n.ID}, true
			case f == "description":
				return []string{n.Description}, true
			case f == "requester-id":
				return []string{n.RequesterID}, true
			case f == "interface-type":
				return []string{n.InterfaceType}, true
			case f == "status":
				return []string{"available"}, true
			case strings.HasPrefix(f, "tag:"):
				return tagValues(n.Tags, f[4:]), true
			}
			return nil, false
		})
	if e != nil {
		return nil, e
	}
	l := []any{}
	for _, id := range page {
		l = append(l, s.eniTree(s.ec2.enis[id]))
	}
	return withNext(map[string]any{"networkInterfaceSet": xmlList{item: "item", items: l}}, next), nil
}
