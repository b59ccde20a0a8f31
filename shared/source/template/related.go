package template

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/kdaguard/kdaguard/shared/model"
)

// notInTemplateFacts are facts a template never holds.
const notInTemplateReason = "not in a template"

// logOption is a logging option resource with its ApplicationName
// resolved once.
type logOption struct {
	r    *resource
	an   *node
	name string
	u    *node
}

// indexLogging resolves every logging option's ApplicationName once and
// indexes the options by the logical ids they may reference and by name.
func (t *tmpl) indexLogging() {
	t.logByRef, t.logByNm = map[string][]int{}, map[string][]int{}
	t.logOpts = []*logOption{}
	for i, r := range t.byType("AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption") {
		an := r.props.get("ApplicationName")
		name, u := t.str(an)
		t.logOpts = append(t.logOpts, &logOption{r: r, an: an, name: name, u: u})
		seen := map[string]bool{}
		for _, id := range refCandidates(an, nil) {
			if !seen[id] {
				seen[id] = true
				t.logByRef[id] = append(t.logByRef[id], i)
			}
		}
		if u == nil {
			t.logByNm[name] = append(t.logByNm[name], i)
		} else {
			t.logUnres = append(t.logUnres, i)
		}
	}
}

// refCandidates lists every logical id refsTo(n, id) may be true for (a
// superset: refsTo decides).
func refCandidates(n *node, out []string) []string {
	if n == nil {
		return out
	}
	switch n.k {
	case kMap:
		if len(n.keys) == 1 {
			v := n.vals[0]
			switch n.keys[0] {
			case "Ref":
				if v.k == kScalar {
					out = append(out, v.s)
				}
			case "Fn::GetAtt":
				if v.k == kScalar {
					id, _, _ := strings.Cut(v.s, ".")
					out = append(out, id, v.s)
				}
				if v.k == kList && len(v.vals) > 0 && v.vals[0].k == kScalar {
					out = append(out, v.vals[0].s)
				}
			case "Fn::Sub":
				s := v
				if v.k == kList && len(v.vals) > 0 {
					s = v.vals[0]
				}
				if s.k == kScalar {
					rest := s.s
					for {
						_, after, ok := strings.Cut(rest, "${")
						if !ok {
							break
						}
						end := strings.IndexAny(after, "}.")
						if end < 0 {
							break
						}
						out = append(out, after[:end])
						rest = after
					}
				}
			}
		}
		for _, c := range n.vals {
			out = refCandidates(c, out)
		}
	case kList:
		for _, c := range n.vals {
			out = refCandidates(c, out)
		}
	}
	return out
}

// logging: the options of the application, in template order. Only the
// options that can concern it are visited (those that may reference it,
// name it, or have a name that cannot be resolved); the others would be
// skipped without effect.
func (t *tmpl) logging(a *model.Application, app *resource) model.Fact[[]model.LoggingOption] {
	if t.logOpts == nil {
		t.indexLogging()
	}
	idx := make([]int, 0, len(t.logByRef[app.id])+len(t.logByNm[a.Name])+len(t.logUnres))
	idx = append(append(append(idx, t.logByRef[app.id]...), t.logByNm[a.Name]...), t.logUnres...)
	slices.Sort(idx)
	idx = slices.Compact(idx)
	opts := []model.LoggingOption{}
	for _, i := range idx {
		lo := t.logOpts[i]
		r, an, name, u := lo.r, lo.an, lo.name, lo.u
		mine := refsTo(an, app.id) || u == nil && name == a.Name || u != nil && t.ph(u) == a.Name
		if !mine {
			if u != nil {
				return model.Unknown[[]model.LoggingOption]("logging option " + r.id + " names an application that cannot be resolved: " + u.s)
			}
			continue
		}
		if r.undecided != "" {
			return model.Unknown[[]model.LoggingOption](r.undecided)
		}
		opt := t.resolve(r.props.get("CloudWatchLoggingOption"))
		if opt != nil && opt.k == kUnres {
			return model.Unknown[[]model.LoggingOption](why("logging option "+r.id, opt))
		}
		o := model.LoggingOption{LogStreamARN: t.text(opt.get("LogStreamARN"))}
		if o.LogStreamARN == "" {
			return model.Unknown[[]model.LoggingOption]("logging option " + r.id + " has no CloudWatchLoggingOption LogStreamARN")
		}
		if strings.HasPrefix(o.LogStreamARN, model.UnresolvedPrefix) {
			o.LogGroup = o.LogStreamARN
		} else {
			o.LogGroup = model.LogGroupFromStreamARN(o.LogStreamARN)
		}
		opts = append(opts, o)
	}
	return model.Known(opts)
}

func (t *tmpl) related(a *model.Application) {
	rel := &a.Related
	rel.Snapshots = model.Unknown[[]model.Snapshot](notInTemplateReason)
	rel.Trails = model.Unknown[[]model.Trail](notInTemplateReason)
	rel.Recorders = model.Unknown[[]model.Recorder](notInTemplateReason)
	rel.RoleUsers = model.Unknown[[]string]("the execution role is not defined in the template: other applications may use it")

	if arn, ok := a.RoleARN.Get(); ok {
		rel.Role = t.role(arn)
	} else {
		rel.Role = model.Unknown[model.Role](a.RoleARN.Reason())
		rel.RoleUsers = model.Unknown[[]string](a.RoleARN.Reason())
	}

	rel.Key = model.Unknown[model.Key]("the application state does not use a customer managed key")
	if enc, ok := a.Encryption.Get(); !ok {
		rel.Key = model.Unknown[model.Key](a.Encryption.Reason())
	} else if enc.KeyType == model.KeyTypeCustomerManaged {
		rel.Key = t.key(enc.KeyID)
	}

	if opts, ok := a.Logging.Get(); ok {
		rel.LogGroups = map[string]model.Fact[model.LogGroup]{}
		for _, o := range opts {
			rel.LogGroups[o.LogGroup] = t.logGroup(o.LogGroup)
		}
	}

	if vpcs, ok := a.VPCs.Get(); ok {
		rel.Subnets = map[string]model.Fact[model.Subnet]{}
		rel.SecurityGroups = map[string]model.Fact[model.SecurityGroup]{}
		for _, c := range vpcs {
			for _, id := range c.SubnetIDs {
				rel.Subnets[id] = t.subnet(id)
			}
			for _, id := range c.SecurityGroupIDs {
				rel.SecurityGroups[id] = t.securityGroup(id, a.Origin.LogicalID)
			}
		}
	}

	rel.Bucket = model.Unknown[model.Bucket]("the application code is not in S3")
	if code, ok := a.Code.Get(); !ok {
		rel.Bucket = model.Unknown[model.Bucket](a.Code.Reason())
	} else if code.Bucket != "" {
		rel.Bucket = t.bucket(code.Bucket)
	}

	rel.Streams = map[string]model.Fact[model.Stream]{}
	for _, r := range t.byType("AWS::Kinesis::Stream") {
		s := t.stream(r)
		if v, ok := s.Get(); ok {
			rel.Streams[v.ARN] = s
		}
	}
	arns, _, _ := a.KinesisStreams()
	for _, arn := range arns {
		if _, ok := rel.Streams[arn]; !ok {
			rel.Streams[arn] = model.Unknown[model.Stream]("stream " + model.StreamName(arn) + " is not defined in the template")
		}
	}

	rel.Alarms = t.alarms()
}

// roleUsers lists the template's applications that use the same role. A
// role created by the template cannot be used by anything outside it yet.
// The list is built once per role ARN and shared, read-only, by the
// applications of that role.
func (t *tmpl) roleUsers(apps []*model.Application) {
	var byARN map[string][]string
	for _, a := range apps {
		role, ok := a.Related.Role.Get()
		if !ok || !role.FromStack {
			continue
		}
		if byARN == nil {
			byARN = map[string][]string{}
			for _, o := range apps {
				if arn, ok := o.RoleARN.Get(); ok {
					byARN[arn] = append(byARN[arn], o.Name)
				}
			}
		}
		users := byARN[role.ARN]
		if users == nil {
			users = []string{}
		}
		// Full slice expression: an append by a reader cannot write into
		// the shared array.
		a.Related.RoleUsers = model.Known(users[:len(users):len(users)])
	}
}

// policy parses a policy document property; any part the template cannot
// resolve makes the whole document unknown (a partial document could pass
// a least-privilege or trust check it should not).
func (t *tmpl) policy(raw *node, what string) model.Fact[model.PolicyDocument] {
	if raw == nil {
		return model.Unknown[model.PolicyDocument](what + " has no policy document")
	}
	n := t.resolve(raw)
	if u := firstUnres(n); u != nil {
		return model.Unknown[model.PolicyDocument](why(what, u))
	}
	var text string
	if n.k == kScalar {
		text = n.s
	} else {
		b, err := json.Marshal(toJSON(n))
		if err != nil {
			return model.Unknown[model.PolicyDocument](what + ": " + err.Error())
		}
		text = string(b)
	}
	doc, err := model.ParsePolicy(text)
	if err != nil {
		return model.Unknown[model.PolicyDocument](what + ": policy document cannot be parsed: " + err.Error())
	}
	return model.Known(doc)
}

// attachedTo reports whether the resource's list property (Roles) names the role.
func (t *tmpl) attachedTo(r *resource, prop string, role *resource, roleName string) bool {
	n := r.props.get(prop)
	if refsTo(n, role.id) {
		return true
	}
	if n != nil && n.k == kScalar {
		s, _ := t.str(n)
		return s == roleName
	}
	l, u := t.stringList(n)
	if u != nil {
		return false
	}
	for _, s := range l {
		if s == roleName {
			return true
		}
	}
	return false
}

func (t *tmpl) role(arn string) model.Fact[model.Role] {
	var rr *resource
	for _, r := range t.byType("AWS::IAM::Role") {
		if v := t.getAtt(r.id, "Arn"); v.k == kScalar && v.s == arn {
			rr = r
			break
		}
	}
	if rr == nil {
		return model.Unknown[model.Role](t.notInTemplate("execution role", arn))
	}
	nameNode := t.refValue(rr)
	name := t.text(nameNode)
	if nameNode.k == kUnres {
		name = t.ph(nameNode)
	}
	role := model.Role{ARN: arn, Name: name, FromStack: true}
	role.Trust = t.policy(rr.props.get("AssumeRolePolicyDocument"), "trust policy of "+rr.id)

	inline := []model.NamedPolicy{}
	inlineKnown := ""
	if l, u := t.list(rr.props.get("Policies")); u != nil {
		inlineKnown = why("Policies of "+rr.id, u)
	} else {
		for _, p := range l.vals {
			pn := t.text(p.get("PolicyName"))
			inline = append(inline, model.NamedPolicy{Name: pn, Document: t.policy(p.get("PolicyDocument"), "policy "+pn)})
		}
	}
	attached := []model.NamedPolicy{}
	attachedKnown := ""
	arns, u := t.stringList(rr.props.get("ManagedPolicyArns"))
	if u != nil {
		attachedKnown = why("ManagedPolicyArns of "+rr.id, u)
	}
	for _, parn := range arns {
		attached = append(attached, t.managedByARN(parn))
	}
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::RolePolicy", "AWS::IAM::ManagedPolicy"} {
		for _, r := range t.byType(typ) {
			var on bool
			if typ == "AWS::IAM::RolePolicy" {
				on = t.attachedTo(r, "RoleName", rr, name)
			} else {
				on = t.attachedTo(r, "Roles", rr, name)
			}
			if !on {
				continue
			}
			if r.undecided != "" {
				if typ == "AWS::IAM::ManagedPolicy" {
					attachedKnown = r.undecided
				} else {
					inlineKnown = r.undecided
				}
				continue
			}
			switch typ {
			case "AWS::IAM::ManagedPolicy":
				parn := t.text(t.refValue(r))
				if !containsPolicy(attached, parn) {
					attached = append(attached, t.managed(r, parn))
				}
			default:
				pn := t.text(r.props.get("PolicyName"))
				inline = append(inline, model.NamedPolicy{Name: pn, Document: t.policy(r.props.get("PolicyDocument"), "policy "+pn)})
			}
		}
	}
	if inlineKnown != "" {
		role.Inline = model.Unknown[[]model.NamedPolicy](inlineKnown)
	} else {
		role.Inline = model.Known(inline)
	}
	if attachedKnown != "" {
		role.Attached = model.Unknown[[]model.NamedPolicy](attachedKnown)
	} else {
		role.Attached = model.Known(attached)
	}
	return model.Known(role)
}

func containsPolicy(ps []model.NamedPolicy, arn string) bool {
	for _, p := range ps {
		if p.ARN == arn {
			return true
		}
	}
	return false
}

func (t *tmpl) managed(r *resource, parn string) model.NamedPolicy {
	name := parn[strings.LastIndexByte(parn, '/')+1:]
	return model.NamedPolicy{Name: name, ARN: parn, Document: t.policy(r.props.get("PolicyDocument"), "managed policy "+r.id)}
}

// managedByARN is a ManagedPolicyArns entry: a policy of the template gives
// its document; an AWS managed or other customer policy is known by name only.
func (t *tmpl) managedByARN(parn string) model.NamedPolicy {
	for _, r := range t.byType("AWS::IAM::ManagedPolicy") {
		if v := t.refValue(r); v.k == kScalar && v.s == parn {
			return t.managed(r, parn)
		}
	}
	name := parn[strings.LastIndexByte(parn, '/')+1:]
	switch {
	case strings.HasPrefix(parn, model.UnresolvedPrefix):
		return model.NamedPolicy{Name: name, ARN: parn, Document: model.Unknown[model.PolicyDocument](t.notInTemplate("managed policy", parn))}
	case strings.Contains(parn, ":iam::aws:policy/"):
		return model.NamedPolicy{Name: name, ARN: parn, Document: model.Unknown[model.PolicyDocument]("AWS managed policy " + name + ": its document is not in the template")}
	}
	return model.NamedPolicy{Name: name, ARN: parn, Document: model.Unknown[model.PolicyDocument]("managed policy " + name + " is not defined in the template")}
}

func (t *tmpl) key(id string) model.Fact[model.Key] {
	var kr *resource
	for _, r := range t.byType("AWS::KMS::Key") {
		if id == r.id || id == t.getAtt(r.id, "Arn").s {
			kr = r
			break
		}
	}
	if kr == nil {
		for _, al := range t.byType("AWS::KMS::Alias") {
			an, u := t.str(al.props.get("AliasName"))
			if u != nil || an == "" || id != an && !strings.HasSuffix(id, ":"+an) {
				continue
			}
			target, u := t.str(al.props.get("TargetKeyId"))
			if u != nil {
				return model.Unknown[model.Key](why("target of alias "+an, u))
			}
			if target != id {
				return t.key(target)
			}
		}
		return model.Unknown[model.Key](t.notInTemplate("KMS key", id))
	}
	p := kr.props
	k := model.Key{ID: kr.id, ARN: t.getAtt(kr.id, "Arn").s, State: "Enabled", Spec: "SYMMETRIC_DEFAULT", Manager: "CUSTOMER"}
	// Enabled defaults to true, EnableKeyRotation to false, KeySpec to
	// SYMMETRIC_DEFAULT (CloudFormation AWS::KMS::Key reference).
	if on, present, u := t.boolean(p.get("Enabled")); u != nil {
		return model.Unknown[model.Key](why("Enabled of key "+kr.id, u))
	} else if present && !on {
		k.State = "Disabled"
	}
	if s, u := t.str(p.get("KeySpec")); u != nil {
		return model.Unknown[model.Key](why("KeySpec of key "+kr.id, u))
	} else if s != "" {
		k.Spec = s
	}
	f := false
	k.Rotation = t.boolFact(p.get("EnableKeyRotation"), "EnableKeyRotation of key "+kr.id, &f)
	if p.get("KeyPolicy") == nil {
		// Without KeyPolicy, KMS applies its default key policy: the
		// account (root) may do everything, no service principal is named.
		k.Policy = model.Known(model.PolicyDocument{Version: "2012-10-17", Statement: []model.Statement{{
			Sid: "Enable IAM User Permissions", Effect: "Allow",
			Principal: &model.Principal{AWS: model.Strings{"arn:" + tokPartition + ":iam::" + tokAccount + ":root"}},
			Action:    model.Strings{"kms:*"}, Resource: model.Strings{"*"},
		}}})
	} else {
		k.Policy = t.policy(p.get("KeyPolicy"), "key policy of "+kr.id)
	}
	return model.Known(k)
}

func (t *tmpl) logGroup(name string) model.Fact[model.LogGroup] {
	r := t.byRef("AWS::Logs::LogGroup", name)
	if r == nil || name == "" {
		if name == "" {
			return model.Unknown[model.LogGroup]("the log stream ARN names no log group")
		}
		return model.Unknown[model.LogGroup](t.notInTemplate("log group", name))
	}
	g := model.LogGroup{Name: name}
	days, u := t.integer(r.props.get("RetentionInDays"))
	if u != nil {
		return model.Unknown[model.LogGroup](why("RetentionInDays of "+r.id, u))
	}
	g.RetentionDays = int32(days)
	if k := r.props.get("KmsKeyId"); k != nil {
		g.KMSKeyID = t.text(k)
	}
	return model.Known(g)
}

var routeTargets = []string{"GatewayId", "NatGatewayId", "EgressOnlyInternetGatewayId", "TransitGatewayId",
	"VpcEndpointId", "VpcPeeringConnectionId", "NetworkInterfaceId", "InstanceId", "CarrierGatewayId",
	"LocalGatewayId", "CoreNetworkArn"}

// subnet builds a subnet with the routes of its route table in the
// template. A route to an internet gateway counts whether or not the
// template also attaches the gateway (AWS::EC2::VPCGatewayAttachment): the
// template means the subnet to be public. Route targets keep the ids the
// template gives them; a Ref to a gateway of the template is "igw-" (or
// "nat-", "vpce-"...) followed by its logical id.
func (t *tmpl) subnet(id string) model.Fact[model.Subnet] {
	sr := t.byRef("AWS::EC2::Subnet", id)
	if sr == nil {
		return model.Unknown[model.Subnet](t.notInTemplate("subnet", id))
	}
	s := model.Subnet{ID: id, VpcID: t.text(sr.props.get("VpcId"))}
	var assoc *resource
	for _, r := range t.byType("AWS::EC2::SubnetRouteTableAssociation") {
		if v, u := t.str(r.props.get("SubnetId")); u == nil && v == id {
			assoc = r
			break
		}
	}
	if assoc == nil {
		return model.Unknown[model.Subnet]("subnet " + sr.id + " has no route table association in the template: it uses its VPC's main route table, which is not in the template")
	}
	if assoc.undecided != "" {
		return model.Unknown[model.Subnet](assoc.undecided)
	}
	rtb, u := t.str(assoc.props.get("RouteTableId"))
	if u != nil {
		return model.Unknown[model.Subnet](why("route table of subnet "+sr.id, u))
	}
	if t.byRef("AWS::EC2::RouteTable", rtb) == nil {
		return model.Unknown[model.Subnet]("route table " + rtb + " of subnet " + sr.id + " is not defined in the template")
	}
	s.RouteTableID = rtb
	s.Routes = []model.Route{}
	for _, r := range t.byType("AWS::EC2::Route") {
		if v, u := t.str(r.props.get("RouteTableId")); u != nil || v != rtb {
			if u != nil {
				return model.Unknown[model.Subnet](why("route table of route "+r.id, u))
			}
			continue
		}
		if r.undecided != "" {
			return model.Unknown[model.Subnet](r.undecided)
		}
		var route model.Route
		for _, d := range []string{"DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId"} {
			if n := r.props.get(d); n != nil {
				v, u := t.str(n)
				if u != nil {
					return model.Unknown[model.Subnet](why("destination of route "+r.id, u))
				}
				route.Destination = v
			}
		}
		for _, tg := range routeTargets {
			if n := r.props.get(tg); n != nil {
				v, u := t.str(n)
				if u != nil {
					return model.Unknown[model.Subnet](why("target of route "+r.id, u))
				}
				route.Target = v
			}
		}
		s.Routes = append(s.Routes, route)
	}
	return model.Known(s)
}

// sgShared is what a security group is for every application: the group
// (its Ingress shared read-only) and all the resources that use it.
type sgShared struct {
	fact  model.Fact[model.SecurityGroup]
	users []string
}

// securityGroup is the group as application appID sees it: OtherUsers
// leaves appID out. The group is read once per template; an application
// that is not among its users shares the users slice.
func (t *tmpl) securityGroup(id, appID string) model.Fact[model.SecurityGroup] {
	gr := t.byRef("AWS::EC2::SecurityGroup", id)
	if gr == nil {
		return model.Unknown[model.SecurityGroup](t.notInTemplate("security group", id))
	}
	if t.sgMemo == nil {
		t.sgMemo = map[string]*sgShared{}
	}
	m := t.sgMemo[id]
	if m == nil {
		m = t.securityGroup1(gr, id)
		t.sgMemo[id] = m
	}
	sg, ok := m.fact.Get()
	if !ok {
		return m.fact
	}
	sg.Ingress = sg.Ingress[:len(sg.Ingress):len(sg.Ingress)]
	if i := slices.Index(m.users, appID); i >= 0 {
		others := make([]string, 0, len(m.users)-1)
		sg.OtherUsers = model.Known(append(append(others, m.users[:i]...), m.users[i+1:]...))
	} else {
		sg.OtherUsers = model.Known(m.users[:len(m.users):len(m.users)])
	}
	return model.Known(sg)
}

// securityGroup1 reads group gr (Ref id) and every resource that uses it,
// the applications included.
func (t *tmpl) securityGroup1(gr *resource, id string) *sgShared {
	fail := func(reason string) *sgShared { return &sgShared{fact: model.Unknown[model.SecurityGroup](reason)} }
	sg := model.SecurityGroup{ID: id, Ingress: []model.IngressRule{}}
	addRule := func(n *node, where string) *node {
		r := t.resolve(n)
		if r == nil || r.k == kUnres {
			return unresOr(r, "malformed ingress rule")
		}
		if u := firstUnres(r); u != nil {
			// A rule whose source cannot be told may be open to anyone.
			return u
		}
		rule := model.IngressRule{Protocol: t.text(r.get("IpProtocol")), FromPort: -1, ToPort: -1}
		if v, u := t.integer(r.get("FromPort")); u == nil && r.get("FromPort") != nil {
			rule.FromPort = int32(v)
		}
		if v, u := t.integer(r.get("ToPort")); u == nil && r.get("ToPort") != nil {
			rule.ToPort = int32(v)
		}
		for _, k := range []string{"CidrIp", "CidrIpv6"} {
			if c := r.get(k); c != nil && c.k == kScalar {
				rule.CIDR = c.s
				sg.Ingress = append(sg.Ingress, rule)
			}
		}
		if r.get("CidrIp") == nil && r.get("CidrIpv6") == nil {
			sg.Ingress = append(sg.Ingress, rule) // from a group or prefix list
		}
		return nil
	}
	l, u := t.list(gr.props.get("SecurityGroupIngress"))
	if u != nil {
		return fail(why("ingress rules of "+gr.id, u))
	}
	for _, rn := range l.vals {
		if u := addRule(rn, gr.id); u != nil {
			return fail(why("an ingress rule of "+gr.id, u))
		}
	}
	users := []string{}
	for _, rid := range t.order {
		r := t.res[rid]
		if !r.present || rid == gr.id {
			continue
		}
		switch r.typ {
		case "AWS::EC2::SecurityGroupIngress":
			if g, u := t.str(r.props.get("GroupId")); u == nil && g == id {
				if r.undecided != "" {
					return fail(r.undecided)
				}
				if u := addRule(r.props, r.id); u != nil {
					return fail(why("ingress rule "+r.id, u))
				}
			} else if u != nil && refsTo(r.props.get("GroupId"), gr.id) {
				return fail(why("ingress rule "+r.id, u))
			}
			continue
		case "AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupEgress":
			continue // a reference from another group's rule does not use the group
		}
		if refsTo(r.props, gr.id) {
			users = append(users, rid)
		}
	}
	// The group is created by the template: only the template's resources use it.
	return &sgShared{fact: model.Known(sg), users: users}
}

// bucket: S3 defaults for a new bucket. Since January 2023 S3 encrypts
// every new object with SSE-S3 (AES256) when no default encryption is
// configured, and since April 2023 new buckets have all four Block Public
// Access settings on (S3 user guide, "Default encryption" and "Blocking
// public access"). An absent configuration therefore means AES256 and all
// four on, which is what the bucket really gets.
func (t *tmpl) bucket(name string) model.Fact[model.Bucket] {
	br := t.byRef("AWS::S3::Bucket", name)
	if br == nil {
		return model.Unknown[model.Bucket](t.notInTemplate("code bucket", name))
	}
	b := model.Bucket{Name: name}
	if pab := t.resolve(br.props.get("PublicAccessBlockConfiguration")); pab == nil {
		b.PublicAccessBlock = model.Known(model.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true})
	} else if u := firstUnres(pab); u != nil {
		b.PublicAccessBlock = model.Unknown[model.PublicAccessBlock](why("PublicAccessBlockConfiguration of "+br.id, u))
	} else {
		get := func(k string) bool { v, _, _ := t.boolean(pab.get(k)); return v }
		b.PublicAccessBlock = model.Known(model.PublicAccessBlock{BlockPublicAcls: get("BlockPublicAcls"),
			IgnorePublicAcls: get("IgnorePublicAcls"), BlockPublicPolicy: get("BlockPublicPolicy"),
			RestrictPublicBuckets: get("RestrictPublicBuckets")})
	}
	b.Encryption = model.Known("AES256")
	if enc := t.resolve(br.props.path("BucketEncryption", "ServerSideEncryptionConfiguration")); enc != nil {
		if u := firstUnres(enc); u != nil {
			b.Encryption = model.Unknown[string](why("BucketEncryption of "+br.id, u))
		} else if enc.k == kList && len(enc.vals) > 0 {
			if alg := enc.vals[0].path("ServerSideEncryptionByDefault", "SSEAlgorithm"); alg != nil && alg.k == kScalar {
				b.Encryption = model.Known(alg.s)
			}
		}
	}
	b.PolicyPublic = model.Known(false)
	for _, pr := range t.byType("AWS::S3::BucketPolicy") {
		bn, u := t.str(pr.props.get("Bucket"))
		if u != nil {
			if refsTo(pr.props.get("Bucket"), br.id) {
				b.PolicyPublic = model.Unknown[bool](why("bucket of policy "+pr.id, u))
			}
			continue
		}
		if bn != name {
			continue
		}
		if pr.undecided != "" {
			b.PolicyPublic = model.Unknown[bool](pr.undecided)
			continue
		}
		doc := t.policy(pr.props.get("PolicyDocument"), "bucket policy "+pr.id)
		d, ok := doc.Get()
		if !ok {
			b.PolicyPublic = model.Unknown[bool](doc.Reason())
			continue
		}
		if publicPolicy(d) {
			b.PolicyPublic = model.Known(true)
		}
	}
	return model.Known(b)
}

// Condition keys that make a statement with Principal "*" non-public, as
// S3's policy status evaluation treats them.
var restrictingKeys = []string{"aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceaccount",
	"aws:sourceowner", "aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:userid",
	"aws:sourceorgid", "aws:principalorgpaths", "aws:sourceorgpaths", "s3:datasourceaccount"}

func publicPolicy(d model.PolicyDocument) bool {
	for _, st := range d.Statement {
		if st.Effect != "Allow" || st.Principal == nil || !st.Principal.Any {
			continue
		}
		restricted := false
		for _, kv := range st.Condition {
			for k := range kv {
				for _, rk := range restrictingKeys {
					restricted = restricted || strings.EqualFold(k, rk)
				}
			}
		}
		if !restricted {
			return true
		}
	}
	return false
}

func (t *tmpl) stream(r *resource) model.Fact[model.Stream] {
	a := t.getAtt(r.id, "Arn")
	if a.k != kScalar {
		return model.Unknown[model.Stream](why("stream "+r.id, a))
	}
	s := model.Stream{ARN: a.s, Name: model.StreamName(a.s), EncryptionType: "NONE"}
	if enc := t.resolve(r.props.get("StreamEncryption")); enc != nil {
		et, u := t.str(enc.get("EncryptionType"))
		if u != nil {
			return model.Unknown[model.Stream](why("StreamEncryption of "+r.id, u))
		}
		if et != "" {
			s.EncryptionType = et
		}
		s.KeyID = t.text(enc.get("KeyId"))
	}
	return model.Known(s)
}

// alarms: the template's alarms are Known. A template is checked as a
// self-contained deployment unit, as logging options are: alarms on an
// application the template creates (whose name may not exist yet) belong in
// the template; one defined elsewhere is reported as missing, which the
// finding's message says how to fix.
func (t *tmpl) alarms() model.Fact[[]model.Alarm] {
	out := []model.Alarm{}
	for _, r := range t.byType("AWS::CloudWatch::Alarm") {
		if r.undecided != "" {
			return model.Unknown[[]model.Alarm](r.undecided)
		}
		name := t.text(t.refValue(r))
		add := func(m *node) {
			al := model.Alarm{Name: name, Namespace: t.text(m.get("Namespace")), MetricName: t.text(m.get("MetricName")),
				Dimensions: map[string]string{}}
			if l, u := t.list(m.get("Dimensions")); u == nil {
				for _, d := range l.vals {
					al.Dimensions[t.text(d.get("Name"))] = t.text(d.get("Value"))
				}
			}
			out = append(out, al)
		}
		if r.props.get("MetricName") != nil {
			add(r.props)
		}
		if l, u := t.list(r.props.get("Metrics")); u == nil {
			for _, m := range l.vals {
				if met := m.path("MetricStat", "Metric"); met != nil {
					add(met)
				}
			}
		}
	}
	return model.Known(out)
}
