package template

import (
	"strconv"
	"strings"
)

// Symbolic pseudo-parameters: constant within one stack, unknown before deployment.
const (
	tokAccount   = "${AWS::AccountId}"
	tokRegion    = "${AWS::Region}"
	tokPartition = "${AWS::Partition}"
)

var symbolicPseudo = map[string]bool{
	"AWS::AccountId": true, "AWS::Region": true, "AWS::Partition": true,
	"AWS::StackName": true, "AWS::StackId": true, "AWS::URLSuffix": true,
}

type resource struct {
	id, typ string
	props   *node // raw properties (may be nil)
	line    int
	// present is false when the resource's Condition is false; undecided
	// holds the reason when the condition cannot be decided.
	present   bool
	undecided string
}

type tmpl struct {
	file      string
	params    *node
	mappings  *node
	conds     *node
	res       map[string]*resource
	order     []string
	depth     int
	condState map[string]int8   // 1 true, -1 false, 2 undecided, 3 in progress
	reasons   map[string]string // placeholder -> why it is unresolved
	memo      map[string]*node  // Ref and GetAtt results by resource
	// condDepth > 0 while a condition is evaluated: parameters then stand
	// for any value they may take at deployment (see condParam), and Ref
	// and GetAtt results go to condMemo so that they do not leak out.
	condDepth int
	condMemo  map[string]*node

	// Indexes built once per template, so that n applications cost n times
	// one (see BenchmarkParseManyApplications). Their slices are shared
	// read-only.
	types    map[string][]*resource // byType
	refs     map[string]*refIndex   // byRef, by type
	logOpts  []*logOption           // logging options, template order
	logByRef map[string][]int       // logical id -> logOpts it may reference
	logByNm  map[string][]int       // resolved ApplicationName -> logOpts
	logUnres []int                  // logOpts whose ApplicationName is unresolved
	sgMemo   map[string]*sgShared   // securityGroup, by group id
}

const maxResolveDepth = 64

// resolve replaces intrinsic functions in n by what they evaluate to.
func (t *tmpl) resolve(n *node) *node {
	if n == nil {
		return nil
	}
	t.depth++
	defer func() { t.depth-- }()
	if t.depth > maxResolveDepth {
		return unres("cycle", "references too deep or circular")
	}
	switch n.k {
	case kList:
		out := &node{k: kList, line: n.line}
		for _, v := range n.vals {
			r := t.resolve(v)
			if r != nil && r.k == kNoValue {
				continue
			}
			out.vals = append(out.vals, r)
		}
		return out
	case kMap:
		if len(n.keys) == 1 && (n.keys[0] == "Ref" || strings.HasPrefix(n.keys[0], "Fn::")) {
			r := t.intrinsic(n.keys[0], n.vals[0])
			if r.line == 0 {
				r.line = n.line
			}
			return r
		}
		out := &node{k: kMap, line: n.line}
		for i, k := range n.keys {
			r := t.resolve(n.vals[i])
			if r != nil && r.k == kNoValue {
				continue
			}
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, r)
		}
		return out
	}
	return n
}

// str resolves n to a string; u is the unresolved value when it is not one.
func (t *tmpl) str(n *node) (s string, u *node) {
	r := t.resolve(n)
	switch {
	case r == nil || r.k == kNull || r.k == kNoValue:
		return "", nil
	case r.k == kScalar:
		return r.s, nil
	case r.k == kUnres:
		return "", r
	}
	return "", unres("value", "a list or map where a string is expected")
}

func (t *tmpl) intrinsic(fn string, arg *node) *node {
	switch fn {
	case "Ref":
		name, u := t.str(arg)
		if u != nil {
			return u
		}
		return t.ref(name)
	case "Fn::GetAtt":
		var id, attr string
		r := t.resolve(arg)
		switch {
		case r != nil && r.k == kScalar:
			id, attr, _ = strings.Cut(r.s, ".")
		case r != nil && r.k == kList && len(r.vals) == 2 && r.vals[0].k == kScalar && r.vals[1].k == kScalar:
			id, attr = r.vals[0].s, r.vals[1].s
		case r != nil && r.k == kUnres:
			return r
		default:
			return unres("GetAtt", "malformed Fn::GetAtt")
		}
		return t.getAtt(id, attr)
	case "Fn::Sub":
		return t.sub(arg)
	case "Fn::Join":
		a := t.resolve(arg)
		if a == nil || a.k != kList || len(a.vals) != 2 {
			return unresOr(a, "malformed Fn::Join")
		}
		if a.vals[0] == nil || a.vals[0].k != kScalar {
			return unresOr(a.vals[0], "malformed Fn::Join delimiter")
		}
		list := a.vals[1]
		if list == nil || list.k != kList {
			return unresOr(list, "malformed Fn::Join list")
		}
		parts := make([]string, 0, len(list.vals))
		for _, v := range list.vals {
			switch {
			case v == nil || v.k == kNull:
			case v.k == kScalar:
				parts = append(parts, v.s)
			default:
				return unresOr(v, "Fn::Join of a non-string")
			}
		}
		return scalar(strings.Join(parts, a.vals[0].s))
	case "Fn::Select":
		a := t.resolve(arg)
		if a == nil || a.k != kList || len(a.vals) != 2 {
			return unresOr(a, "malformed Fn::Select")
		}
		if a.vals[0] == nil || a.vals[0].k != kScalar {
			return unresOr(a.vals[0], "malformed Fn::Select index")
		}
		i, err := strconv.Atoi(a.vals[0].s)
		list := a.vals[1]
		if list == nil || list.k != kList {
			return unresOr(list, "malformed Fn::Select list")
		}
		if err != nil || i < 0 || i >= len(list.vals) {
			return unres("Select", "Fn::Select index out of range")
		}
		return list.vals[i]
	case "Fn::Split":
		a := t.resolve(arg)
		if a == nil || a.k != kList || len(a.vals) != 2 || a.vals[0] == nil || a.vals[0].k != kScalar {
			return unresOr(a, "malformed Fn::Split")
		}
		s := a.vals[1]
		if s == nil || s.k != kScalar {
			return unresOr(s, "malformed Fn::Split string")
		}
		if a.vals[0].s == "" {
			return unres("Split", "Fn::Split with an empty delimiter")
		}
		out := &node{k: kList}
		for _, p := range strings.Split(s.s, a.vals[0].s) {
			out.vals = append(out.vals, scalar(p))
		}
		return out
	case "Fn::If":
		if arg == nil || arg.k != kList || len(arg.vals) != 3 || arg.vals[0].k != kScalar {
			return unres("If", "malformed Fn::If")
		}
		name := arg.vals[0].s
		switch t.cond(name) {
		case 1:
			return t.resolve(arg.vals[1])
		case -1:
			return t.resolve(arg.vals[2])
		}
		return unres("If:"+name, "condition "+name+" cannot be decided from the template")
	case "Fn::FindInMap":
		a := t.resolve(arg)
		if a == nil || a.k != kList || len(a.vals) < 3 {
			return unresOr(a, "malformed Fn::FindInMap")
		}
		cur := t.mappings
		for _, k := range a.vals[:3] {
			if k == nil || k.k != kScalar {
				return unresOr(k, "Fn::FindInMap key cannot be resolved")
			}
			cur = cur.get(k.s)
		}
		if cur == nil {
			if len(a.vals) > 3 {
				if def := a.vals[3].get("DefaultValue"); def != nil {
					return def
				}
			}
			return unres("FindInMap", "Fn::FindInMap key not in Mappings")
		}
		return t.resolve(cur)
	case "Fn::Base64":
		return t.resolve(arg)
	case "Fn::ImportValue":
		name, u := t.str(arg)
		if u != nil {
			return unres("ImportValue", "Fn::ImportValue of a name that cannot be resolved: "+u.s)
		}
		return unres("ImportValue:"+name, "Fn::ImportValue "+name+" is exported by another stack")
	}
	return unres(strings.TrimPrefix(fn, "Fn::"), fn+" is only evaluated at deployment")
}

func unresOr(n *node, reason string) *node {
	if n != nil && n.k == kUnres {
		return n
	}
	return unres("value", reason)
}

// ref evaluates Ref name.
func (t *tmpl) ref(name string) *node {
	if symbolicPseudo[name] {
		return scalar("${" + name + "}")
	}
	switch name {
	case "AWS::NoValue":
		return &node{k: kNoValue}
	case "AWS::NotificationARNs":
		return unres(name, name+" is given at deployment")
	}
	if p := t.params.get(name); p != nil {
		if t.condDepth > 0 {
			return t.condParam(name, p)
		}
		return t.param(name, p)
	}
	if r, ok := t.res[name]; ok {
		return t.refValue(r)
	}
	return unres(name, "Ref to "+name+", which is neither a parameter nor a resource of the template")
}

func (t *tmpl) param(name string, p *node) *node {
	typ := p.get("Type")
	ts := ""
	if typ != nil {
		ts = typ.s
	}
	if ne := p.get("NoEcho"); ne != nil && strings.EqualFold(ne.s, "true") {
		return unres(name, "parameter "+name+" is NoEcho: its value is not in the template")
	}
	if strings.HasPrefix(ts, "AWS::SSM::Parameter::Value") {
		return unres(name, "parameter "+name+" is read from SSM Parameter Store at deployment")
	}
	def := p.get("Default")
	if def == nil || def.k == kNull {
		return unres(name, "parameter "+name+" has no default: its value is given at deployment")
	}
	if def.k != kScalar {
		if def.k == kList {
			return def
		}
		return unres(name, "parameter "+name+" has a malformed default")
	}
	if strings.HasPrefix(ts, "List<") || ts == "CommaDelimitedList" {
		out := &node{k: kList, line: def.line}
		for _, s := range strings.Split(def.s, ",") {
			out.vals = append(out.vals, scalar(strings.TrimSpace(s)))
		}
		return out
	}
	return &node{k: kScalar, s: def.s, tag: "str", line: def.line}
}

// condParam is a parameter's value inside a condition. Its default can be
// overridden at deployment, so it decides nothing; only AllowedValues of
// exactly one value fix it (except for SSM parameter types, whose allowed
// values constrain the parameter's name, not the value read).
func (t *tmpl) condParam(name string, p *node) *node {
	typ, _ := t.str(p.get("Type"))
	if !strings.HasPrefix(typ, "AWS::SSM::Parameter::Value") && !strings.HasPrefix(typ, "List<") && typ != "CommaDelimitedList" {
		if av := p.get("AllowedValues"); av != nil && av.k == kList && len(av.vals) == 1 && av.vals[0] != nil && av.vals[0].k == kScalar {
			return &node{k: kScalar, s: av.vals[0].s, tag: "str", line: av.vals[0].line}
		}
	}
	return unres(name, "parameter "+name+" is given at deployment (a default can be overridden)")
}

// physical returns the resource's physical name from prop, else its logical
// id, which stands for the generated name (symbolic, stable in the template).
func (t *tmpl) physical(r *resource, prop string) (string, *node) {
	if p := r.props.get(prop); p != nil {
		s, u := t.str(p)
		if u != nil {
			return "", u
		}
		if s != "" {
			return s, nil
		}
	}
	return r.id, nil
}

var idPrefixes = map[string]string{
	"AWS::EC2::SecurityGroup": "sg-", "AWS::EC2::Subnet": "subnet-", "AWS::EC2::RouteTable": "rtb-",
	"AWS::EC2::InternetGateway": "igw-", "AWS::EC2::NatGateway": "nat-", "AWS::EC2::VPC": "vpc-",
	"AWS::EC2::EgressOnlyInternetGateway": "eigw-", "AWS::EC2::VPCEndpoint": "vpce-",
	"AWS::EC2::TransitGateway": "tgw-", "AWS::EC2::VPCPeeringConnection": "pcx-",
	"AWS::EC2::NetworkInterface": "eni-", "AWS::EC2::Instance": "i-", "AWS::EC2::PrefixList": "pl-",
}

func arn(service, region, account, rest string) string {
	return "arn:" + tokPartition + ":" + service + ":" + region + ":" + account + ":" + rest
}

// memoized evaluates f once per key: names built from other resources'
// names would otherwise be re-evaluated exponentially often, and a
// reference back to a name being computed is a cycle.
func (t *tmpl) memoized(key string, f func() *node) *node {
	if t.memo == nil {
		t.memo = map[string]*node{}
	}
	if v, ok := t.memo[key]; ok {
		if v == nil {
			return unres("cycle", "circular reference through "+key)
		}
		return v
	}
	t.memo[key] = nil
	v := f()
	t.memo[key] = v
	return v
}

// refValue is what Ref returns for a resource.
func (t *tmpl) refValue(r *resource) *node {
	return t.memoized("Ref "+r.id, func() *node { return t.refValue1(r) })
}

func (t *tmpl) refValue1(r *resource) *node {
	if p, ok := idPrefixes[r.typ]; ok {
		return scalar(p + r.id)
	}
	var prop string
	switch r.typ {
	case "AWS::IAM::Role":
		prop = "RoleName"
	case "AWS::IAM::ManagedPolicy":
		return t.getAtt(r.id, "PolicyArn")
	case "AWS::IAM::Policy", "AWS::IAM::RolePolicy":
		prop = "PolicyName"
	case "AWS::KMS::Alias":
		prop = "AliasName"
	case "AWS::Logs::LogGroup":
		prop = "LogGroupName"
	case "AWS::Logs::LogStream":
		prop = "LogStreamName"
	case "AWS::Kinesis::Stream":
		prop = "Name"
	case "AWS::S3::Bucket":
		prop = "BucketName"
	case "AWS::KinesisAnalyticsV2::Application":
		prop = "ApplicationName"
	case "AWS::CloudWatch::Alarm":
		prop = "AlarmName"
	case "AWS::SNS::Topic":
		return t.getAtt(r.id, "TopicArn")
	}
	if prop == "" {
		return scalar(r.id)
	}
	s, u := t.physical(r, prop)
	if u != nil {
		return u
	}
	return scalar(s)
}

func (t *tmpl) getAtt(id, attr string) *node {
	return t.memoized("GetAtt "+id+"."+attr, func() *node { return t.getAtt1(id, attr) })
}

func (t *tmpl) getAtt1(id, attr string) *node {
	r, ok := t.res[id]
	if !ok {
		return unres(id+"."+attr, "Fn::GetAtt "+id+"."+attr+": no such resource in the template")
	}
	name := func(prop string) (string, *node) { return t.physical(r, prop) }
	var s string
	var u *node
	switch r.typ + "." + attr {
	case "AWS::IAM::Role.Arn":
		s, u = name("RoleName")
		path := "/"
		if p := r.props.get("Path"); p != nil {
			ps, pu := t.str(p)
			if pu != nil {
				return pu
			}
			if ps != "" {
				path = ps
			}
		}
		s = "arn:" + tokPartition + ":iam::" + tokAccount + ":role" + path + s
	case "AWS::IAM::ManagedPolicy.PolicyArn":
		s, u = name("ManagedPolicyName")
		path := "/"
		if p := r.props.get("Path"); p != nil {
			if ps, _ := t.str(p); ps != "" {
				path = ps
			}
		}
		s = "arn:" + tokPartition + ":iam::" + tokAccount + ":policy" + path + s
	case "AWS::Kinesis::Stream.Arn":
		s, u = name("Name")
		s = arn("kinesis", tokRegion, tokAccount, "stream/"+s)
	case "AWS::Logs::LogGroup.Arn":
		s, u = name("LogGroupName")
		s = arn("logs", tokRegion, tokAccount, "log-group:"+s+":*")
	case "AWS::KMS::Key.Arn":
		s = arn("kms", tokRegion, tokAccount, "key/"+r.id)
	case "AWS::KMS::Key.KeyId":
		s = r.id
	case "AWS::S3::Bucket.Arn":
		s, u = name("BucketName")
		s = "arn:" + tokPartition + ":s3:::" + s
	case "AWS::EC2::SecurityGroup.GroupId", "AWS::EC2::Subnet.SubnetId", "AWS::EC2::RouteTable.RouteTableId",
		"AWS::EC2::InternetGateway.InternetGatewayId", "AWS::EC2::VPC.VpcId", "AWS::EC2::NatGateway.NatGatewayId":
		return t.refValue(r)
	case "AWS::EC2::SecurityGroup.VpcId", "AWS::EC2::Subnet.VpcId":
		return t.resolve(r.props.get("VpcId"))
	case "AWS::SNS::Topic.TopicArn":
		s, u = name("TopicName")
		s = arn("sns", tokRegion, tokAccount, s)
	case "AWS::CloudWatch::Alarm.Arn":
		s, u = name("AlarmName")
		s = arn("cloudwatch", tokRegion, tokAccount, "alarm:"+s)
	case "AWS::KMS::Alias.AliasName":
		s, u = name("AliasName")
	default:
		return unres(id+"."+attr, "Fn::GetAtt "+id+"."+attr+" is only known after deployment")
	}
	if u != nil {
		return u
	}
	return scalar(s)
}

// sub evaluates Fn::Sub in its string and [string, map] forms.
func (t *tmpl) sub(arg *node) *node {
	var str *node
	var vars *node
	switch {
	case arg != nil && arg.k == kScalar:
		str = arg
	case arg != nil && arg.k == kList && len(arg.vals) >= 1:
		str = t.resolve(arg.vals[0])
		if len(arg.vals) > 1 {
			vars = arg.vals[1]
		}
	default:
		return unres("Sub", "malformed Fn::Sub")
	}
	if str == nil || str.k != kScalar {
		return unresOr(str, "malformed Fn::Sub string")
	}
	s := str.s
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		if strings.HasPrefix(rest, "!") {
			b.WriteString("${")
			s = rest[1:]
			continue
		}
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		v := strings.TrimSpace(rest[:j])
		s = rest[j+1:]
		var val *node
		switch {
		case vars.get(v) != nil:
			val = t.resolve(vars.get(v))
		case symbolicPseudo[v]:
			val = scalar("${" + v + "}")
		case strings.Contains(v, ".") && t.params.get(v) == nil:
			id, attr, _ := strings.Cut(v, ".")
			val = t.getAtt(id, attr)
		default:
			val = t.ref(v)
		}
		switch {
		case val == nil || val.k == kNoValue || val.k == kNull:
		case val.k == kScalar:
			b.WriteString(val.s)
		default:
			return unresOr(val, "Fn::Sub variable "+v+" is not a string")
		}
	}
	return scalar(b.String())
}

// cond evaluates a named condition: 1 true, -1 false, 0 undecided.
func (t *tmpl) cond(name string) int8 {
	if t.condState == nil {
		t.condState = map[string]int8{}
	}
	switch t.condState[name] {
	case 1:
		return 1
	case -1:
		return -1
	case 2, 3:
		return 0
	}
	t.condState[name] = 3
	if t.condMemo == nil {
		t.condMemo = map[string]*node{}
	}
	saved := t.memo
	t.memo = t.condMemo
	t.condDepth++
	v := t.condExpr(t.conds.get(name), 0)
	t.condDepth--
	t.memo = saved
	switch v {
	case 1, -1:
		t.condState[name] = v
	default:
		t.condState[name] = 2
	}
	return v
}

func (t *tmpl) condExpr(n *node, depth int) int8 {
	if n == nil || n.k != kMap || len(n.keys) != 1 || depth > maxResolveDepth {
		return 0
	}
	arg := n.vals[0]
	switch n.keys[0] {
	case "Condition":
		if arg.k != kScalar {
			return 0
		}
		return t.cond(arg.s)
	case "Fn::Not":
		if arg.k != kList || len(arg.vals) != 1 {
			return 0
		}
		return -t.condExpr(arg.vals[0], depth+1)
	case "Fn::And", "Fn::Or":
		if arg.k != kList {
			return 0
		}
		and := n.keys[0] == "Fn::And"
		res := int8(1)
		if !and {
			res = -1
		}
		for _, c := range arg.vals {
			v := t.condExpr(c, depth+1)
			switch {
			case and && v == -1:
				return -1
			case !and && v == 1:
				return 1
			case v == 0:
				res = 0
			}
		}
		return res
	case "Fn::Equals":
		if arg.k != kList || len(arg.vals) != 2 {
			return 0
		}
		a, ua := t.str(arg.vals[0])
		b, ub := t.str(arg.vals[1])
		if ua != nil || ub != nil {
			return 0
		}
		if a == b {
			return 1
		}
		if strings.Contains(a, "${AWS::") || strings.Contains(b, "${AWS::") {
			return 0 // the pseudo-parameter's value is not known
		}
		return -1
	}
	return 0
}
