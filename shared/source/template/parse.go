package template

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/kdaguard/kdaguard/shared/model"
)

// ApplicationType is the CloudFormation type this package builds models from.
const ApplicationType = "AWS::KinesisAnalyticsV2::Application"

// notDeployed is the status of an application read from a template.
const notDeployed = "not deployed: template"

// Parse reads a JSON or YAML CloudFormation template (YAML short tags !Ref,
// !GetAtt, !Sub, !Join, !Select, !If... included) and returns one
// model.Application per AWS::KinesisAnalyticsV2::Application resource, in
// the order of the template, with Origin{File, LogicalID, Line}.
func Parse(file string, data []byte) (apps []*model.Application, err error) {
	defer func() {
		// A bug must not crash a CLI run over many files.
		if p := recover(); p != nil {
			apps, err = nil, fmt.Errorf("%s: internal error reading template: %v", file, p)
		}
	}()
	root, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	t, err := load(file, root)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	for _, id := range t.order {
		r := t.res[id]
		if r.typ == ApplicationType && r.present {
			apps = append(apps, t.application(r))
		}
	}
	t.roleUsers(apps)
	return apps, nil
}

func load(file string, root *node) (*tmpl, error) {
	if root == nil || root.k != kMap {
		return nil, errors.New("not a CloudFormation template: the document is not a map")
	}
	t := &tmpl{file: file, params: root.get("Parameters"), mappings: root.get("Mappings"),
		conds: root.get("Conditions"), res: map[string]*resource{}}
	resources := root.get("Resources")
	if resources == nil || resources.k != kMap {
		line := root.keyLine("Resources", 1)
		return nil, fmt.Errorf("line %d: not a CloudFormation template: no Resources map", line)
	}
	for i, id := range resources.keys {
		body := resources.vals[i]
		if !validLogicalID(id) {
			return nil, fmt.Errorf("line %d: resource logical id %q is not alphanumeric", body.line, id)
		}
		if body == nil || body.k != kMap {
			return nil, fmt.Errorf("line %d: resource %s is not a map", body.line, id)
		}
		typ := body.get("Type")
		if typ == nil || typ.k != kScalar {
			return nil, fmt.Errorf("line %d: resource %s has no Type", body.line, id)
		}
		props := body.get("Properties")
		if props != nil && props.k != kMap && props.k != kNull {
			return nil, fmt.Errorf("line %d: Properties of resource %s is not a map", props.line, id)
		}
		if props != nil && props.k == kNull {
			props = nil
		}
		t.res[id] = &resource{id: id, typ: typ.s, props: props, line: body.line, present: true}
		t.order = append(t.order, id)
	}
	for _, id := range t.order {
		r := t.res[id]
		c := resources.get(id).get("Condition")
		if c == nil || c.k != kScalar {
			continue
		}
		switch t.cond(c.s) {
		case -1:
			r.present = false
		case 0:
			r.undecided = "resource " + id + " exists only if condition " + c.s + " holds, which cannot be decided from the template"
		}
	}
	t.types = nil // built from the final present flags
	return t, nil
}

// validLogicalID: CloudFormation logical ids are alphanumeric (A-Za-z0-9).
func validLogicalID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// byType lists the present resources of a type in template order.
// The slice is shared: callers only read it.
func (t *tmpl) byType(typ string) []*resource {
	if t.types == nil {
		t.types = map[string][]*resource{}
		for _, id := range t.order {
			if r := t.res[id]; r.present {
				t.types[r.typ] = append(t.types[r.typ], r)
			}
		}
	}
	return t.types[typ]
}

// placeholder is how an unresolved runtime value is written.
func (t *tmpl) ph(u *node) string {
	s := model.UnresolvedPrefix + u.name + "}}"
	if t.reasons == nil {
		t.reasons = map[string]string{}
	}
	if _, ok := t.reasons[s]; !ok {
		t.reasons[s] = u.s
	}
	return s
}

// notInTemplate explains why a related resource named by id is unknown.
func (t *tmpl) notInTemplate(what, id string) string {
	if r, ok := t.reasons[id]; ok {
		return what + " cannot be resolved: " + r
	}
	return what + " " + id + " is not defined in the template"
}

// text resolves a string property for a plain string field: unresolved
// values become the placeholder.
func (t *tmpl) text(n *node) string {
	s, u := t.str(n)
	if u != nil {
		return t.ph(u)
	}
	return s
}

func (t *tmpl) boolean(n *node) (v bool, present bool, u *node) {
	if n == nil {
		return false, false, nil
	}
	s, u := t.str(n)
	if u != nil {
		return false, true, u
	}
	b, err := strconv.ParseBool(strings.ToLower(s))
	if err != nil {
		return false, true, unres("value", "not a boolean: "+s)
	}
	return b, true, nil
}

func (t *tmpl) integer(n *node) (int64, *node) {
	s, u := t.str(n)
	if u != nil {
		return 0, u
	}
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, unres("value", "not an integer: "+s)
	}
	return v, nil
}

func (t *tmpl) list(n *node) (*node, *node) {
	r := t.resolve(n)
	switch {
	case r == nil || r.k == kNull:
		return &node{k: kList}, nil
	case r.k == kList:
		return r, nil
	case r.k == kUnres:
		return nil, r
	}
	return nil, unres("value", "a list is expected")
}

func why(what string, u *node) string { return what + ": " + u.s }

func (t *tmpl) application(r *resource) *model.Application {
	p := r.props
	a := &model.Application{
		Account: tokAccount, Region: tokRegion, Partition: tokPartition,
		Origin: model.Origin{File: t.file, LogicalID: r.id, Line: r.line},
		Status: model.Unknown[string](notDeployed),
	}
	if name, u := t.physical(r, "ApplicationName"); u != nil {
		a.Name = t.ph(u)
	} else {
		a.Name = name
	}
	a.ARN = arn("kinesisanalytics", tokRegion, tokAccount, "application/"+a.Name)
	a.Runtime = t.strFact(p.get("RuntimeEnvironment"), "RuntimeEnvironment")
	a.Mode = model.ModeStreaming
	if m := p.get("ApplicationMode"); m != nil {
		if s, u := t.str(m); u == nil && s != "" {
			a.Mode = s
		}
	}
	a.Tags = t.tags(p.get("Tags"))
	a.RoleARN = t.strFact(p.get("ServiceExecutionRole"), "ServiceExecutionRole")

	cfg := t.resolve(p.get("ApplicationConfiguration"))
	if u := cfg; u != nil && u.k == kUnres {
		reason := why("ApplicationConfiguration", u)
		a.Encryption = model.Unknown[model.Encryption](reason)
		a.Snapshots, a.Rollback = model.Unknown[bool](reason), model.Unknown[bool](reason)
		a.Checkpoint = model.Unknown[model.Checkpoint](reason)
		a.Monitoring = model.Unknown[model.Monitoring](reason)
		a.Parallelism = model.Unknown[model.Parallelism](reason)
		a.VPCs = model.Unknown[[]model.VPCConfig](reason)
		a.Properties = model.Unknown[[]model.PropertyGroup](reason)
		a.Code = model.Unknown[model.Code](reason)
	} else {
		t.configuration(a, cfg)
	}
	a.Logging = t.logging(a, r)
	// SQL outputs are separate AWS::KinesisAnalyticsV2::ApplicationOutput resources.
	for _, o := range t.byType("AWS::KinesisAnalyticsV2::ApplicationOutput") {
		an := o.props.get("ApplicationName")
		if name, u := t.str(an); !refsTo(an, r.id) && (u != nil || name != a.Name) {
			continue
		}
		for _, k := range []string{"KinesisStreamsOutput", "KinesisFirehoseOutput", "LambdaOutput"} {
			if arn := o.props.path("Output", k, "ResourceARN"); arn != nil {
				a.SQLOutputs = append(a.SQLOutputs, t.text(arn))
			}
		}
	}
	t.related(a)
	return a
}

func (t *tmpl) strFact(n *node, what string) model.Fact[string] {
	if n == nil {
		return model.Unknown[string](what + " is not set in the template")
	}
	s, u := t.str(n)
	if u != nil {
		return model.Unknown[string](why(what, u))
	}
	return model.Known(s)
}

func (t *tmpl) tags(n *node) model.Fact[map[string]string] {
	out := map[string]string{}
	l, u := t.list(n)
	if u != nil {
		return model.Unknown[map[string]string](why("Tags", u))
	}
	for _, e := range l.vals {
		k, uk := t.str(e.get("Key"))
		if uk != nil {
			return model.Unknown[map[string]string](why("a tag key", uk))
		}
		out[k] = t.text(e.get("Value"))
	}
	return model.Known(out)
}

// configuration fills the settings of ApplicationConfiguration (already
// resolved: unresolved leaves are kUnres nodes).
func (t *tmpl) configuration(a *model.Application, cfg *node) {
	flink := cfg.get("FlinkApplicationConfiguration")

	// Encryption: absent means AWS owned key (API reference,
	// ApplicationEncryptionConfiguration; the security guide: state is
	// encrypted with AWS owned keys by default).
	if enc := cfg.get("ApplicationEncryptionConfiguration"); enc == nil {
		a.Encryption = model.Known(model.Encryption{KeyType: model.KeyTypeAWSOwned})
	} else {
		kt, u := t.str(enc.get("KeyType"))
		if u != nil {
			a.Encryption = model.Unknown[model.Encryption](why("encryption KeyType", u))
		} else {
			if kt == "" {
				kt = model.KeyTypeAWSOwned
			}
			e := model.Encryption{KeyType: kt}
			if k := enc.get("KeyId"); k != nil {
				e.KeyID = t.text(k)
			}
			a.Encryption = model.Known(e)
		}
	}

	// Snapshots: ApplicationSnapshotConfiguration.SnapshotsEnabled is
	// required inside the structure, but neither the CloudFormation nor the
	// API reference (CreateApplication, ApplicationSnapshotConfiguration)
	// documents what the service applies when the structure is absent, so
	// an absent setting is unknown rather than guessed.
	if s := cfg.get("ApplicationSnapshotConfiguration"); s == nil {
		a.Snapshots = model.Unknown[bool]("ApplicationSnapshotConfiguration is not set in the template and the service default is not documented: set SnapshotsEnabled explicitly")
	} else {
		a.Snapshots = t.boolFact(s.get("SnapshotsEnabled"), "SnapshotsEnabled", nil)
	}

	// System rollback is opt-in: absent means disabled (API reference,
	// ApplicationSystemRollbackConfiguration; the guide's resilience page).
	f := false
	a.Rollback = t.boolFact(cfg.path("ApplicationSystemRollbackConfiguration", "RollbackEnabled"), "RollbackEnabled", &f)

	a.Checkpoint = t.checkpoint(flink.get("CheckpointConfiguration"))
	a.Monitoring = t.monitoring(flink.get("MonitoringConfiguration"), cfg.path("ZeppelinApplicationConfiguration", "MonitoringConfiguration"))
	a.Parallelism = t.parallelism(flink.get("ParallelismConfiguration"))
	a.VPCs = t.vpcs(cfg.get("VpcConfigurations"))
	a.Properties = t.properties(cfg.path("EnvironmentProperties", "PropertyGroups"))
	a.Code = t.code(cfg.get("ApplicationCodeConfiguration"))

	switch ins := cfg.path("SqlApplicationConfiguration", "Inputs"); {
	case ins != nil && ins.k == kUnres:
		// The inputs cannot be told: one placeholder stands for them.
		a.SQLInputs = append(a.SQLInputs, t.ph(ins))
	case ins != nil && ins.k == kList:
		for _, in := range ins.vals {
			if in != nil && in.k == kUnres {
				a.SQLInputs = append(a.SQLInputs, t.ph(in))
				continue
			}
			for _, k := range []string{"KinesisStreamsInput", "KinesisFirehoseInput"} {
				if arn := in.path(k, "ResourceARN"); arn != nil {
					a.SQLInputs = append(a.SQLInputs, t.text(arn))
				}
			}
		}
	}
}

func (t *tmpl) boolFact(n *node, what string, def *bool) model.Fact[bool] {
	v, present, u := t.boolean(n)
	switch {
	case u != nil:
		return model.Unknown[bool](why(what, u))
	case !present && def != nil:
		return model.Known(*def)
	case !present:
		return model.Unknown[bool](what + " is not set in the template")
	}
	return model.Known(v)
}

func (t *tmpl) configType(n *node) (string, *node) {
	ct, u := t.str(n.get("ConfigurationType"))
	if u != nil {
		return "", u
	}
	if ct == "" {
		ct = model.ConfigDefault
	}
	return strings.ToUpper(ct), nil
}

// checkpoint: absent means DEFAULT, which is enabled, 60000 ms interval and
// 5000 ms minimum pause and overrides any CUSTOM values (API reference,
// CheckpointConfiguration).
func (t *tmpl) checkpoint(n *node) model.Fact[model.Checkpoint] {
	def := model.Checkpoint{ConfigurationType: model.ConfigDefault, Enabled: true, IntervalMs: 60000, MinPauseMs: 5000}
	if n == nil {
		return model.Known(def)
	}
	ct, u := t.configType(n)
	if u != nil {
		return model.Unknown[model.Checkpoint](why("checkpoint ConfigurationType", u))
	}
	if ct != model.ConfigCustom {
		return model.Known(def)
	}
	c := model.Checkpoint{ConfigurationType: ct}
	on, present, u := t.boolean(n.get("CheckpointingEnabled"))
	switch {
	case u != nil:
		return model.Unknown[model.Checkpoint](why("CheckpointingEnabled", u))
	case !present:
		return model.Unknown[model.Checkpoint]("CUSTOM checkpoint configuration without CheckpointingEnabled: the service default is not documented")
	}
	c.Enabled = on
	c.IntervalMs, _ = t.integer(n.get("CheckpointInterval"))
	c.MinPauseMs, _ = t.integer(n.get("MinPauseBetweenCheckpoints"))
	return model.Known(c)
}

// monitoring: absent means DEFAULT (log level INFO, metrics level
// APPLICATION: API reference, MonitoringConfiguration). A Studio notebook's
// ZeppelinMonitoringConfiguration has only LogLevel, which applies as set.
func (t *tmpl) monitoring(flink, zeppelin *node) model.Fact[model.Monitoring] {
	if zeppelin != nil {
		lvl, u := t.str(zeppelin.get("LogLevel"))
		if u != nil {
			return model.Unknown[model.Monitoring](why("Zeppelin LogLevel", u))
		}
		if lvl != "" {
			return model.Known(model.Monitoring{ConfigurationType: model.ConfigCustom, LogLevel: strings.ToUpper(lvl)})
		}
	}
	def := model.Monitoring{ConfigurationType: model.ConfigDefault, LogLevel: "INFO", MetricsLevel: "APPLICATION"}
	if flink == nil {
		return model.Known(def)
	}
	ct, u := t.configType(flink)
	if u != nil {
		return model.Unknown[model.Monitoring](why("monitoring ConfigurationType", u))
	}
	if ct != model.ConfigCustom {
		return model.Known(def)
	}
	lvl, u := t.str(flink.get("LogLevel"))
	if u != nil {
		return model.Unknown[model.Monitoring](why("LogLevel", u))
	}
	if lvl == "" {
		return model.Unknown[model.Monitoring]("CUSTOM monitoring configuration without LogLevel: the service default is not documented")
	}
	ml, _ := t.str(flink.get("MetricsLevel"))
	return model.Known(model.Monitoring{ConfigurationType: ct, LogLevel: strings.ToUpper(lvl), MetricsLevel: strings.ToUpper(ml)})
}

// parallelism: absent means DEFAULT (auto scaling on: API reference,
// ParallelismConfiguration; the model's Parallelism.AutoScaling).
func (t *tmpl) parallelism(n *node) model.Fact[model.Parallelism] {
	def := model.Parallelism{ConfigurationType: model.ConfigDefault, AutoScalingEnabled: true, Parallelism: 1, PerKPU: 1}
	if n == nil {
		return model.Known(def)
	}
	ct, u := t.configType(n)
	if u != nil {
		return model.Unknown[model.Parallelism](why("parallelism ConfigurationType", u))
	}
	if ct != model.ConfigCustom {
		return model.Known(def)
	}
	on, present, u := t.boolean(n.get("AutoScalingEnabled"))
	switch {
	case u != nil:
		return model.Unknown[model.Parallelism](why("AutoScalingEnabled", u))
	case !present:
		return model.Unknown[model.Parallelism]("CUSTOM parallelism configuration without AutoScalingEnabled: the service default is not documented")
	}
	par, _ := t.integer(n.get("Parallelism"))
	per, _ := t.integer(n.get("ParallelismPerKPU"))
	return model.Known(model.Parallelism{ConfigurationType: ct, AutoScalingEnabled: on, Parallelism: int32(par), PerKPU: int32(per)})
}

// stringList resolves a list of strings. A list the template cannot
// resolve (a List parameter without default, an import) stands as one
// placeholder element, so that the facts keyed by it are unknown with the
// reason while the rest of the structure stays known.
func (t *tmpl) stringList(n *node) ([]string, *node) {
	l, u := t.list(n)
	if u != nil {
		if u.k == kUnres {
			return []string{t.ph(u)}, nil
		}
		return nil, u
	}
	var out []string
	for _, v := range l.vals {
		switch {
		case v == nil || v.k == kNull:
		case v.k == kScalar:
			out = append(out, v.s)
		case v.k == kUnres:
			out = append(out, t.ph(v))
		case v.k == kList: // a List parameter spliced in
			for _, e := range v.vals {
				out = append(out, t.text(e))
			}
		}
	}
	return out, nil
}

func (t *tmpl) vpcs(n *node) model.Fact[[]model.VPCConfig] {
	l, u := t.list(n)
	if u != nil {
		return model.Unknown[[]model.VPCConfig](why("VpcConfigurations", u))
	}
	out := []model.VPCConfig{}
	for _, v := range l.vals {
		c := model.VPCConfig{}
		var u1, u2 *node
		c.SubnetIDs, u1 = t.stringList(v.get("SubnetIds"))
		c.SecurityGroupIDs, u2 = t.stringList(v.get("SecurityGroupIds"))
		if u1 != nil {
			return model.Unknown[[]model.VPCConfig](why("SubnetIds", u1))
		}
		if u2 != nil {
			return model.Unknown[[]model.VPCConfig](why("SecurityGroupIds", u2))
		}
		for _, s := range c.SubnetIDs {
			if sr := t.byRef("AWS::EC2::Subnet", s); sr != nil {
				if vpc, u := t.str(sr.props.get("VpcId")); u == nil {
					c.VpcID = vpc
					break
				}
			}
		}
		out = append(out, c)
	}
	return model.Known(out)
}

func (t *tmpl) properties(n *node) model.Fact[[]model.PropertyGroup] {
	l, u := t.list(n)
	if u != nil {
		return model.Unknown[[]model.PropertyGroup](why("PropertyGroups", u))
	}
	out := []model.PropertyGroup{}
	for _, g := range l.vals {
		pg := model.PropertyGroup{ID: t.text(g.get("PropertyGroupId")), Properties: map[string]string{}}
		pm := g.get("PropertyMap")
		if pm != nil && pm.k == kUnres {
			return model.Unknown[[]model.PropertyGroup](why("PropertyMap of "+pg.ID, pm))
		}
		if pm != nil && pm.k == kMap {
			for i, k := range pm.keys {
				v := pm.vals[i]
				switch {
				case v == nil || v.k == kNull:
					pg.Properties[k] = ""
				case v.k == kScalar:
					pg.Properties[k] = v.s
				case v.k == kUnres:
					pg.Properties[k] = t.ph(v)
				default:
					b, _ := json.Marshal(toJSON(v))
					pg.Properties[k] = string(b)
				}
			}
		}
		out = append(out, pg)
	}
	return model.Known(out)
}

func (t *tmpl) code(n *node) model.Fact[model.Code] {
	if n == nil {
		return model.Known(model.Code{})
	}
	cc := n.get("CodeContent")
	s3 := cc.get("S3ContentLocation")
	if s3 != nil && s3.k == kUnres {
		return model.Unknown[model.Code](why("ApplicationCodeConfiguration", s3))
	}
	c := model.Code{ContentType: t.text(n.get("CodeContentType"))}
	if s3 != nil {
		c.BucketARN = t.text(s3.get("BucketARN"))
		c.FileKey = t.text(s3.get("FileKey"))
		c.ObjectVersion = t.text(s3.get("ObjectVersion"))
		c.Bucket = bucketName(c.BucketARN)
	}
	return model.Known(c)
}

// bucketName is the name in arn:PARTITION:s3:::NAME, or the whole value
// (a placeholder) when it is not an ARN.
func bucketName(arn string) string {
	if _, name, ok := strings.Cut(arn, ":s3:::"); ok {
		name, _, _ = strings.Cut(name, "/")
		return name
	}
	return arn
}

// byRef finds the resource of a type whose Ref (or id attribute) is value.
// Resources are looked at in template order and only as far as needed, as
// a plain scan would (their Ref values are evaluated in the same order);
// what was seen is remembered, so a lookup does not rescan.
func (t *tmpl) byRef(typ, value string) *resource {
	if t.refs == nil {
		t.refs = map[string]*refIndex{}
	}
	x := t.refs[typ]
	if x == nil {
		x = &refIndex{list: t.byType(typ), first: map[string]*resource{}}
		t.refs[typ] = x
	}
	if r, ok := x.first[value]; ok {
		return r
	}
	for x.next < len(x.list) {
		r := x.list[x.next]
		x.next++
		if v := t.refValue(r); v.k == kScalar {
			if _, seen := x.first[v.s]; !seen {
				x.first[v.s] = r
			}
			if v.s == value {
				return r
			}
		}
	}
	return nil
}

// refIndex: the first resource of list[:next] for each Ref value.
type refIndex struct {
	list  []*resource
	next  int
	first map[string]*resource
}

// refsTo reports whether the raw node n references resource id (Ref,
// GetAtt or a Sub variable).
func refsTo(n *node, id string) bool {
	if n == nil {
		return false
	}
	switch n.k {
	case kMap:
		if len(n.keys) == 1 {
			v := n.vals[0]
			switch n.keys[0] {
			case "Ref":
				if v.k == kScalar && v.s == id {
					return true
				}
			case "Fn::GetAtt":
				if v.k == kScalar && (v.s == id || strings.HasPrefix(v.s, id+".")) {
					return true
				}
				if v.k == kList && len(v.vals) > 0 && v.vals[0].k == kScalar && v.vals[0].s == id {
					return true
				}
			case "Fn::Sub":
				s := v
				if v.k == kList && len(v.vals) > 0 {
					s = v.vals[0]
				}
				if s.k == kScalar && (strings.Contains(s.s, "${"+id+"}") || strings.Contains(s.s, "${"+id+".")) {
					return true
				}
			}
		}
		for _, c := range n.vals {
			if refsTo(c, id) {
				return true
			}
		}
	case kList:
		for _, c := range n.vals {
			if refsTo(c, id) {
				return true
			}
		}
	}
	return false
}

// LoadAssembly reads a CDK cloud assembly folder (cdk.out): its
// manifest.json lists artifacts; each of type aws:cloudformation:stack names
// its template in properties.templateFile, which is read with Parse (the
// applications' Origin.File is the template's path). Nested assemblies
// (cdk:cloud-assembly, e.g. stages) are followed.
func LoadAssembly(dir string) ([]*model.Application, error) {
	return loadAssembly(dir, 0)
}

func loadAssembly(dir string, depth int) ([]*model.Application, error) {
	if depth > 8 {
		return nil, fmt.Errorf("%s: cloud assemblies nested too deeply", dir)
	}
	mf := filepath.Join(dir, "manifest.json")
	data, err := os.ReadFile(mf)
	if err != nil {
		return nil, fmt.Errorf("not a CDK cloud assembly: %w", err)
	}
	var m struct {
		Artifacts map[string]struct {
			Type       string `json:"type"`
			Properties struct {
				TemplateFile  string `json:"templateFile"`
				DirectoryName string `json:"directoryName"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", mf, err)
	}
	names := make([]string, 0, len(m.Artifacts))
	for n := range m.Artifacts {
		names = append(names, n)
	}
	sort.Strings(names)
	var apps []*model.Application
	for _, n := range names {
		art := m.Artifacts[n]
		switch art.Type {
		case "aws:cloudformation:stack":
			if art.Properties.TemplateFile == "" {
				return nil, fmt.Errorf("%s: stack artifact %s has no templateFile", mf, n)
			}
			path := filepath.Join(dir, filepath.FromSlash(art.Properties.TemplateFile))
			tb, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("%s: stack %s: %w", mf, n, err)
			}
			got, err := Parse(path, tb)
			if err != nil {
				return nil, err
			}
			apps = append(apps, got...)
		case "cdk:cloud-assembly":
			if art.Properties.DirectoryName == "" {
				continue
			}
			got, err := loadAssembly(filepath.Join(dir, filepath.FromSlash(art.Properties.DirectoryName)), depth+1)
			if err != nil {
				return nil, err
			}
			apps = append(apps, got...)
		}
	}
	return apps, nil
}
