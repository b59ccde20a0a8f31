package template

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
)

func parseFile(t *testing.T, name string) []*model.Application {
	t.Helper()
	path := filepath.Join("testdata", name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := Parse(path, data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return apps
}

func known[T any](t *testing.T, what string, f model.Fact[T]) T {
	t.Helper()
	v, ok := f.Get()
	if !ok {
		t.Fatalf("%s: unknown (%s), want known", what, f.Reason())
	}
	return v
}

func unknownWith[T any](t *testing.T, what string, f model.Fact[T], reason string) {
	t.Helper()
	if f.Known() {
		t.Errorf("%s: known (%v), want unknown with %q", what, f.Value(), reason)
		return
	}
	if !strings.Contains(f.Reason(), reason) {
		t.Errorf("%s: reason %q, want it to contain %q", what, f.Reason(), reason)
	}
}

// lineOf is the 1-based line of "  id:" (YAML) or `"id":` (JSON) in a fixture.
func lineOf(t *testing.T, name, id string) int {
	t.Helper()
	data, _ := os.ReadFile(filepath.Join("testdata", name))
	for i, l := range strings.Split(string(data), "\n") {
		tl := strings.TrimSpace(l)
		if strings.HasPrefix(tl, id+":") || strings.HasPrefix(tl, `"`+id+`":`) {
			return i + 1
		}
	}
	t.Fatalf("%s not in %s", id, name)
	return 0
}

const (
	symAccount = "${AWS::AccountId}"
	symRegion  = "${AWS::Region}"
)

func TestCompliantYAML(t *testing.T) {
	apps := parseFile(t, "compliant.yaml")
	if len(apps) != 1 {
		t.Fatalf("got %d applications, want 1", len(apps))
	}
	a := apps[0]
	if a.Name != "order-enricher" || a.Origin.LogicalID != "OrderEnricher" || a.Origin.Line != lineOf(t, "compliant.yaml", "OrderEnricher") ||
		a.Origin.File != filepath.Join("testdata", "compliant.yaml") {
		t.Errorf("identity: %q %+v", a.Name, a.Origin)
	}
	if a.Account != symAccount || a.Region != symRegion || a.Partition != "${AWS::Partition}" {
		t.Errorf("account/region/partition: %q %q %q", a.Account, a.Region, a.Partition)
	}
	if a.ARN != "arn:${AWS::Partition}:kinesisanalytics:${AWS::Region}:${AWS::AccountId}:application/order-enricher" {
		t.Errorf("ARN %q", a.ARN)
	}
	unknownWith(t, "Status", a.Status, "not deployed: template")
	if rt := known(t, "Runtime", a.Runtime); rt != "FLINK-1_20" || a.Mode != model.ModeStreaming {
		t.Errorf("runtime %q mode %q", rt, a.Mode)
	}
	if tags := known(t, "Tags", a.Tags); tags["team"] != "payments" || tags["env"] != "prod" {
		t.Errorf("tags %v", tags)
	}
	roleARN := "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/order-enricher-${AWS::Region}"
	if r := known(t, "RoleARN", a.RoleARN); r != roleARN {
		t.Errorf("RoleARN %q", r)
	}
	enc := known(t, "Encryption", a.Encryption)
	keyARN := "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/StateKey"
	if enc.KeyType != model.KeyTypeCustomerManaged || enc.KeyID != keyARN {
		t.Errorf("encryption %+v", enc)
	}
	if !known(t, "Snapshots", a.Snapshots) || !known(t, "Rollback", a.Rollback) {
		t.Error("snapshots and rollback should be on")
	}
	if c := known(t, "Checkpoint", a.Checkpoint); c.ConfigurationType != "DEFAULT" || !c.Enabled || c.IntervalMs != 60000 || c.MinPauseMs != 5000 {
		t.Errorf("checkpoint %+v", c)
	}
	if m := known(t, "Monitoring", a.Monitoring); m != (model.Monitoring{ConfigurationType: "CUSTOM", LogLevel: "INFO", MetricsLevel: "OPERATOR"}) {
		t.Errorf("monitoring %+v", m)
	}
	if p := known(t, "Parallelism", a.Parallelism); p != (model.Parallelism{ConfigurationType: "CUSTOM", AutoScalingEnabled: true, Parallelism: 4, PerKPU: 1}) {
		t.Errorf("parallelism %+v", p)
	}
	vpcs := known(t, "VPCs", a.VPCs)
	if len(vpcs) != 1 || !slices.Equal(vpcs[0].SubnetIDs, []string{"subnet-PrivateSubnetA", "subnet-PrivateSubnetB"}) ||
		!slices.Equal(vpcs[0].SecurityGroupIDs, []string{"sg-AppSecurityGroup"}) || vpcs[0].VpcID != "vpc-Vpc" {
		t.Errorf("vpcs %+v", vpcs)
	}
	props := known(t, "Properties", a.Properties)
	if len(props) != 1 || props[0].ID != "FlinkApplicationProperties" {
		t.Fatalf("properties %+v", props)
	}
	want := map[string]string{
		"input.stream.name":  "orders",
		"output.stream.arn":  "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/orders-enriched-prod",
		"aws.region":         symRegion,
		"db.password":        "{{resolve:secretsmanager:orders-db:SecretString:password}}",
		"db.master.password": model.UnresolvedPrefix + "DbPassword}}", // NoEcho: never its default
		"parallelism.hint":   "4",
	}
	for k, v := range want {
		if got := props[0].Properties[k]; got != v {
			t.Errorf("property %s = %q, want %q", k, got, v)
		}
	}
	code := known(t, "Code", a.Code)
	if code.ContentType != "ZIPFILE" || code.Bucket != "flink-code-${AWS::AccountId}-${AWS::Region}" ||
		code.FileKey != "app/order-enricher-1.4.2.jar" || code.ObjectVersion != "3sL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY" {
		t.Errorf("code %+v", code)
	}
	logs := known(t, "Logging", a.Logging)
	if len(logs) != 1 || logs[0].LogGroup != "/aws/kinesis-analytics/order-enricher" ||
		logs[0].LogStreamARN != "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/kinesis-analytics/order-enricher:log-stream:application" {
		t.Errorf("logging %+v", logs)
	}

	rel := a.Related
	role := known(t, "Role", rel.Role)
	if role.ARN != roleARN || role.Name != "order-enricher-${AWS::Region}" || !role.FromStack {
		t.Errorf("role %+v", role)
	}
	trust := known(t, "Trust", role.Trust)
	if len(trust.Statement) != 1 || trust.Statement[0].Condition["StringEquals"]["aws:SourceAccount"][0] != symAccount {
		t.Errorf("trust %+v", trust)
	}
	inline := known(t, "Inline", role.Inline)
	var names []string
	for _, p := range inline {
		names = append(names, p.Name)
		known(t, "inline "+p.Name, p.Document)
	}
	if !slices.Equal(names, []string{"read-code", "streams", "logging"}) {
		t.Errorf("inline policies %v (Policies then AWS::IAM::Policy attached via Roles)", names)
	}
	att := known(t, "Attached", role.Attached)
	if len(att) != 1 || att[0].ARN != "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/VpcAccessPolicy" || !att[0].Document.Known() {
		t.Errorf("attached %+v", att)
	}
	if users := known(t, "RoleUsers", rel.RoleUsers); !slices.Equal(users, []string{"order-enricher"}) {
		t.Errorf("role users %v", users)
	}
	key := known(t, "Key", rel.Key)
	if key.ID != "StateKey" || key.ARN != keyARN || key.State != "Enabled" || key.Spec != "SYMMETRIC_DEFAULT" || key.Manager != "CUSTOMER" ||
		!known(t, "Rotation", key.Rotation) || len(known(t, "key policy", key.Policy).Statement) != 2 {
		t.Errorf("key %+v", key)
	}
	lg := known(t, "log group", rel.LogGroups["/aws/kinesis-analytics/order-enricher"])
	if lg.RetentionDays != 365 || lg.KMSKeyID != "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/LogsKey" {
		t.Errorf("log group %+v", lg)
	}
	for _, id := range []string{"subnet-PrivateSubnetA", "subnet-PrivateSubnetB"} {
		s := known(t, id, rel.Subnets[id])
		if s.RouteTableID != "rtb-PrivateRouteTable" || len(s.Routes) != 1 || s.Routes[0] != (model.Route{Destination: "0.0.0.0/0", Target: "nat-Nat"}) {
			t.Errorf("%s: %+v", id, s)
		}
	}
	sg := known(t, "security group", rel.SecurityGroups["sg-AppSecurityGroup"])
	if len(sg.Ingress) != 0 || len(known(t, "OtherUsers", sg.OtherUsers)) != 0 {
		t.Errorf("security group %+v", sg)
	}
	b := known(t, "Bucket", rel.Bucket)
	if !known(t, "PAB", b.PublicAccessBlock).All() || known(t, "bucket encryption", b.Encryption) != "aws:kms" || known(t, "PolicyPublic", b.PolicyPublic) {
		t.Errorf("bucket %+v", b)
	}
	for _, name := range []string{"orders", "orders-enriched-prod"} {
		arn := model.StreamARN(a.Partition, a.Region, a.Account, name)
		if s := known(t, "stream "+name, rel.Streams[arn]); s.EncryptionType != "KMS" || s.Name != name {
			t.Errorf("stream %s: %+v", name, s)
		}
	}
	arns, complete, reason := a.KinesisStreams()
	if len(arns) != 2 || !complete {
		t.Errorf("KinesisStreams() = %v %v %q", arns, complete, reason)
	}
	alarms := known(t, "Alarms", rel.Alarms)
	var metrics []string
	for _, al := range alarms {
		if al.Namespace == "AWS/KinesisAnalytics" && al.Dimensions["Application"] == a.Name {
			metrics = append(metrics, al.MetricName)
		}
	}
	if !slices.Equal(metrics, []string{"downtime", "numberOfFailedCheckpoints"}) || alarms[0].Name != "order-enricher-downtime" {
		t.Errorf("alarms %+v", alarms)
	}
	unknownWith(t, "Trails", rel.Trails, "not in a template")
	unknownWith(t, "Recorders", rel.Recorders, "not in a template")
	unknownWith(t, "Snapshots", rel.Snapshots, "not in a template")
}

func TestNonCompliantJSON(t *testing.T) {
	apps := parseFile(t, "noncompliant.json")
	if len(apps) != 2 {
		t.Fatalf("got %d applications, want 2", len(apps))
	}
	a, b := apps[0], apps[1]
	if a.Name != "ClickAnalytics" || a.Origin.Line != lineOf(t, "noncompliant.json", "ClickAnalytics") || b.Name != "click-replay" {
		t.Errorf("names %q %q, origin %+v", a.Name, b.Name, a.Origin)
	}
	if e := known(t, "Encryption", a.Encryption); e.KeyType != model.KeyTypeAWSOwned {
		t.Errorf("absent encryption = %+v, want AWS_OWNED_KEY", e)
	}
	if known(t, "Rollback", a.Rollback) {
		t.Error("absent rollback must be false")
	}
	if c := known(t, "Checkpoint", a.Checkpoint); c.IsEnabled() {
		t.Errorf("checkpoint %+v", c)
	}
	if p := known(t, "Parallelism", a.Parallelism); p.AutoScaling() {
		t.Errorf("parallelism %+v (AutoScalingEnabled given as the string \"false\")", p)
	}
	// Absent checkpoint/monitoring/parallelism: DEFAULT.
	if c := known(t, "Checkpoint", b.Checkpoint); c.ConfigurationType != "DEFAULT" || !c.IsEnabled() {
		t.Errorf("default checkpoint %+v", c)
	}
	if m := known(t, "Monitoring", b.Monitoring); m.ConfigurationType != "DEFAULT" || m.EffectiveLogLevel() != "INFO" {
		t.Errorf("default monitoring %+v", m)
	}
	if p := known(t, "Parallelism", b.Parallelism); p.ConfigurationType != "DEFAULT" || !p.AutoScaling() {
		t.Errorf("default parallelism %+v", p)
	}
	if v := known(t, "VPCs", b.VPCs); len(v) != 0 {
		t.Errorf("no VpcConfigurations should be a known empty list, got %v", v)
	}
	if l := known(t, "Logging", a.Logging); len(l) != 0 {
		t.Errorf("logging %v", l)
	}
	if users := known(t, "RoleUsers", a.Related.RoleUsers); !slices.Equal(users, []string{"ClickAnalytics", "click-replay"}) {
		t.Errorf("role users %v", users)
	}
	role := known(t, "Role", a.Related.Role)
	att := known(t, "Attached", role.Attached)
	if len(att) != 1 || att[0].Name != "AdministratorAccess" || att[0].Document.Known() {
		t.Errorf("attached %+v", att)
	}
	trust := known(t, "Trust", role.Trust)
	if got := trust.Statement[1].Principal.AWS[0]; got != "arn:${AWS::Partition}:iam::111122223333:root" {
		t.Errorf("Fn::Join principal %q", got)
	}
	s := known(t, "subnet", a.Related.Subnets["subnet-PublicSubnet"])
	if len(s.Routes) != 1 || s.Routes[0] != (model.Route{Destination: "0.0.0.0/0", Target: "igw-Igw"}) {
		t.Errorf("public subnet %+v", s)
	}
	sg := known(t, "sg", a.Related.SecurityGroups["sg-AppGroup"])
	var cidrs []string
	for _, r := range sg.Ingress {
		cidrs = append(cidrs, r.CIDR)
		if r.RuleID != "" {
			t.Errorf("template rule with id %q", r.RuleID)
		}
	}
	if !slices.Equal(cidrs, []string{"0.0.0.0/0", "::/0"}) {
		t.Errorf("ingress %+v", sg.Ingress)
	}
	if u := known(t, "OtherUsers", sg.OtherUsers); !slices.Equal(u, []string{"Bastion"}) {
		t.Errorf("other users %v", u)
	}
	bk := known(t, "bucket", a.Related.Bucket)
	if bk.Name != "CodeBucket" || known(t, "PAB", bk.PublicAccessBlock).BlockPublicAcls || !known(t, "PolicyPublic", bk.PolicyPublic) ||
		known(t, "encryption", bk.Encryption) != "AES256" {
		t.Errorf("bucket %+v", bk)
	}
	arn := model.StreamARN(a.Partition, a.Region, a.Account, "clicks")
	if st := known(t, "stream", a.Related.Streams[arn]); st.EncryptionType != "NONE" {
		t.Errorf("stream %+v", st)
	}
	props := known(t, "Properties", a.Properties)[0].Properties
	if !strings.Contains(props["sasl.jaas.config"], `username="analytics"`) {
		t.Errorf("Fn::Sub with a parameter default: %q", props["sasl.jaas.config"])
	}
}

func TestUnresolved(t *testing.T) {
	a := parseFile(t, "unresolved.yaml")[0]
	if a.Name != "${AWS::StackName}-sessions" {
		t.Errorf("name %q", a.Name)
	}
	rel := a.Related
	unknownWith(t, "RoleARN", a.RoleARN, "parameter RoleArn has no default")
	unknownWith(t, "Role", rel.Role, "parameter RoleArn has no default")
	unknownWith(t, "RoleUsers", rel.RoleUsers, "RoleArn")
	unknownWith(t, "Monitoring", a.Monitoring, "parameter LogLevel is read from SSM Parameter Store")
	unknownWith(t, "Checkpoint", a.Checkpoint, "condition InUsEast1 cannot be decided")
	unknownWith(t, "Snapshots", a.Snapshots, "service default is not documented")
	unknownWith(t, "Key", rel.Key, "Fn::ImportValue security-FlinkStateKeyArn")
	unknownWith(t, "Bucket", rel.Bucket, "Fn::ImportValue artifacts-BucketArn")
	unknownWith(t, "Alarms", rel.Alarms, "condition WithAlarms")
	unknownWith(t, "log group", rel.LogGroups["/shared/flink"], "log group /shared/flink is not defined in the template")
	vpcs := known(t, "VPCs", a.VPCs)
	listPH := model.UnresolvedPrefix + "SubnetIds}}"
	if len(vpcs) != 2 || !slices.Equal(vpcs[0].SubnetIDs, []string{listPH}) {
		t.Fatalf("vpcs %+v", vpcs)
	}
	unknownWith(t, "subnet from a List parameter", rel.Subnets[listPH], "parameter SubnetIds has no default")
	unknownWith(t, "subnet without association", rel.Subnets["subnet-LocalSubnet"], "VPC's main route table")
	unknownWith(t, "security group with an imported CIDR", rel.SecurityGroups["sg-Group"], "network-AdminCidr")
	unknownWith(t, "security group of another stack", rel.SecurityGroups["sg-0123456789abcdef0"], "not defined in the template")
	props := known(t, "Properties", a.Properties)[0].Properties
	for k, v := range map[string]string{
		"bootstrap.servers": model.UnresolvedPrefix + "ImportValue:msk-BootstrapBrokers}}",
		"sasl.password":     model.UnresolvedPrefix + "KafkaPassword}}",
		"client.id":         model.UnresolvedPrefix + "LocalSubnet.AvailabilityZone}}",
	} {
		if props[k] != v {
			t.Errorf("property %s = %q, want %q", k, props[k], v)
		}
	}
}
