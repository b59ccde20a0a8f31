package remediate_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"

	"github.com/kdaguard/kdaguard/shared/remediate"
	"github.com/kdaguard/kdaguard/shared/settings"
)

const (
	ruleOpenIngress = "KDA.INF.2"
	ruleStreams     = "KDA.DP.3"
)

// vpcNet is what vpcApp creates around the application.
type vpcNet struct {
	vpc      string
	subnets  []string
	sg       string
	open     []string // the 0.0.0.0/0 and ::/0 ingress rules (Flink web UI, 8081)
	internal string   // the 10.0.0.0/16 ingress rule (9249, metrics scraped from inside the VPC)
	appENIs  []string
}

// vpcApp creates the fixture's application (f.app) attached to a VPC: two
// private subnets in two Availability Zones, one security group that
// allows tcp/8081 from 0.0.0.0/0 and ::/0 and tcp/9249 from the VPC's own
// CIDR, and the service's requester-managed ENIs, one per subnet, whose
// description names the application's ARN. The application is RUNNING.
func (f *fixture) vpcApp(name string) vpcNet {
	t, ctx := f.t, f.ctx
	t.Helper()
	f.app(name, appOpts{})
	var n vpcNet
	vpc, err := f.c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	n.vpc = aws.ToString(vpc.Vpc.VpcId)
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		sn, err := f.c.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, AvailabilityZone: aws.String(az),
			CidrBlock: aws.String([]string{"10.0.16.0/20", "10.0.32.0/20"}[i])})
		if err != nil {
			t.Fatal(err)
		}
		n.subnets = append(n.subnets, aws.ToString(sn.Subnet.SubnetId))
	}
	sg, err := f.c.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name + "-flink"),
		Description: aws.String("Managed Service for Apache Flink application " + name), VpcId: vpc.Vpc.VpcId})
	if err != nil {
		t.Fatal(err)
	}
	n.sg = aws.ToString(sg.GroupId)
	in, err := f.c.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []ec2types.IpPermission{
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8081), ToPort: aws.Int32(8081),
				IpRanges:   []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0"), Description: aws.String("Flink web UI (debugging)")}},
				Ipv6Ranges: []ec2types.Ipv6Range{{CidrIpv6: aws.String("::/0"), Description: aws.String("Flink web UI (debugging)")}}},
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(9249), ToPort: aws.Int32(9249),
				IpRanges: []ec2types.IpRange{{CidrIp: aws.String("10.0.0.0/16"), Description: aws.String("Prometheus inside the VPC")}}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range in.SecurityGroupRules {
		switch c := aws.ToString(r.CidrIpv4) + aws.ToString(r.CidrIpv6); c {
		case "0.0.0.0/0", "::/0":
			n.open = append(n.open, aws.ToString(r.SecurityGroupRuleId))
		case "10.0.0.0/16":
			n.internal = aws.ToString(r.SecurityGroupRuleId)
		default:
			t.Fatalf("unexpected rule %s", c)
		}
	}
	if len(n.open) != 2 || n.internal == "" {
		t.Fatalf("rules: open %v, internal %q", n.open, n.internal)
	}
	d := f.describe(name)
	if _, err := f.c.KDA.AddApplicationVpcConfiguration(ctx, &kinesisanalyticsv2.AddApplicationVpcConfigurationInput{ApplicationName: aws.String(name),
		ConditionalToken: d.ConditionalToken, VpcConfiguration: &kt.VpcConfiguration{SubnetIds: n.subnets, SecurityGroupIds: []string{n.sg}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.KDA.StartApplication(ctx, &kinesisanalyticsv2.StartApplicationInput{ApplicationName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	for _, sn := range n.subnets {
		id, err := f.env.AddNetworkInterface(sn, []string{n.sg}, "ENI for Kinesis Analytics application "+aws.ToString(d.ApplicationARN), "AROAKINESISANALYTICS:kinesisanalytics")
		if err != nil {
			t.Fatal(err)
		}
		n.appENIs = append(n.appENIs, id)
	}
	f.env.ResetJournal()
	return n
}

// ingress is the group's ingress rules: id -> CIDR.
func (f *fixture) ingress(sg string) map[string]string {
	f.t.Helper()
	out, err := f.c.EC2.DescribeSecurityGroupRules(f.ctx, &ec2.DescribeSecurityGroupRulesInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{sg}}}})
	if err != nil {
		f.t.Fatal(err)
	}
	m := map[string]string{}
	for _, r := range out.SecurityGroupRules {
		if !aws.ToBool(r.IsEgress) {
			m[aws.ToString(r.SecurityGroupRuleId)] = aws.ToString(r.CidrIpv4) + aws.ToString(r.CidrIpv6)
		}
	}
	return m
}

// ruleActions are the audit records of one rule.
func ruleActions(o remediate.Outcome, rule string) []remediate.Action {
	var out []remediate.Action
	for _, a := range o.Actions {
		if a.Rule == rule {
			out = append(out, a)
		}
	}
	return out
}

// show renders audit records readably in failure messages.
func show(as []remediate.Action) string {
	var b strings.Builder
	for _, a := range as {
		b.WriteString("\n  " + a.Outcome + " " + a.Condition + " " + a.Call + " input=" + string(a.Input) + " before=" + string(a.Before) + " reason=" + a.Reason)
	}
	if b.Len() == 0 {
		return "(none)"
	}
	return b.String()
}

// revokeInput decodes an INF.2 action's exact call.
func revokeInput(t *testing.T, a remediate.Action) (group string, ids []string) {
	t.Helper()
	var in struct {
		GroupId              string
		SecurityGroupRuleIds []string
	}
	if err := json.Unmarshal(a.Input, &in); err != nil {
		t.Fatalf("input %s: %v", a.Input, err)
	}
	slices.Sort(in.SecurityGroupRuleIds)
	return in.GroupId, in.SecurityGroupRuleIds
}

func optIn(rule string) func(*settings.Settings) {
	return func(s *settings.Settings) { s.RuleModes = map[string]settings.Mode{rule: settings.ModeRemediate} }
}

// The group is used by the application's own ENIs only: the two open rules
// (0.0.0.0/0 and ::/0) go in one RevokeSecurityGroupIngress by rule id, the
// VPC-internal rule stays, and the re-read verifies it.
func TestOpenIngressRevokedWhenTheGroupIsTheApplicationsAlone(t *testing.T) {
	f := start(t)
	n := f.vpcApp("orders")
	out, err := f.executor(f.settings(optIn(ruleOpenIngress))).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	if c := f.count("RevokeSecurityGroupIngress"); c != 1 {
		t.Fatalf("RevokeSecurityGroupIngress %d times, want 1\n%s", c, f.logs.String())
	}
	if f.env.CountErrors("ec2", "", "") != 0 {
		t.Errorf("failed EC2 calls: %+v", f.env.Journal())
	}
	for _, j := range f.env.Journal() {
		if j.Operation == "RevokeSecurityGroupIngress" && j.Params["GroupId"] != n.sg {
			t.Errorf("revoked on %q, want %s", j.Params["GroupId"], n.sg)
		}
		if j.Operation == "RevokeSecurityGroupEgress" || j.Operation == "AuthorizeSecurityGroupIngress" {
			t.Errorf("unexpected %s", j.Operation)
		}
	}
	as := ruleActions(out, ruleOpenIngress)
	if len(as) != 1 || as[0].Outcome != remediate.Verified {
		t.Fatalf("INF.2 actions %s, want one verified\n%s", show(as), f.logs.String())
	}
	a := as[0]
	if a.Condition != "open-ingress:"+n.sg || a.Call != "ec2:RevokeSecurityGroupIngress" || a.Target != n.sg {
		t.Errorf("action condition %q call %q target %q", a.Condition, a.Call, a.Target)
	}
	want := slices.Sorted(slices.Values(n.open))
	if g, ids := revokeInput(t, a); g != n.sg || !slices.Equal(ids, want) {
		t.Errorf("revoke input group %s rules %v, want %s %v", g, ids, n.sg, want)
	}
	if got := f.ingress(n.sg); len(got) != 1 || got[n.internal] != "10.0.0.0/16" {
		t.Errorf("ingress after the fix %v, want only %s (10.0.0.0/16)", got, n.internal)
	}
	// Nothing left to do for INF.2.
	f.env.ResetJournal()
	out, err = f.executor(f.settings(optIn(ruleOpenIngress))).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if c := f.count("RevokeSecurityGroupIngress"); c != 0 || len(ruleActions(out, ruleOpenIngress)) != 0 {
		t.Errorf("second run: %d revokes, actions %s", c, show(ruleActions(out, ruleOpenIngress)))
	}
}

// The same group is also used by an EC2 instance's network interface:
// nothing is revoked; the finding is reported (not planned as a fix) and
// names the other user.
func TestOpenIngressOnASharedGroupIsReportedOnly(t *testing.T) {
	f := start(t)
	n := f.vpcApp("orders")
	eni, err := f.c.EC2.CreateNetworkInterface(f.ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(n.subnets[1]),
		Groups: []string{n.sg}, Description: aws.String("Primary network interface")})
	if err != nil {
		t.Fatal(err)
	}
	other := aws.ToString(eni.NetworkInterface.NetworkInterfaceId)
	f.env.ResetJournal()
	out, err := f.executor(f.settings(optIn(ruleOpenIngress))).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	if c := f.count("RevokeSecurityGroupIngress"); c != 0 {
		t.Fatalf("RevokeSecurityGroupIngress %d times on a shared group", c)
	}
	as := ruleActions(out, ruleOpenIngress)
	if len(as) != 1 || as[0].Outcome != remediate.Reported || as[0].Condition != "open-ingress:"+n.sg || as[0].Input != nil {
		t.Fatalf("INF.2 actions %s, want one reported, without a call", show(as))
	}
	if !strings.Contains(string(as[0].Before), other) {
		t.Errorf("the finding does not name the other user %s: %s", other, as[0].Before)
	}
	for _, own := range n.appENIs {
		if strings.Contains(string(as[0].Before), own) {
			t.Errorf("the application's own ENI %s is named as another user: %s", own, as[0].Before)
		}
	}
	if got := f.ingress(n.sg); len(got) != 3 {
		t.Errorf("ingress changed: %v", got)
	}
}

// Without the rule's own mode, the global mode remediate does not revoke:
// the exact call is planned (opt-in).
func TestOpenIngressIsOptIn(t *testing.T) {
	f := start(t)
	n := f.vpcApp("orders")
	out, err := f.executor(f.settings()).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	if c := f.count("RevokeSecurityGroupIngress"); c != 0 {
		t.Fatalf("RevokeSecurityGroupIngress %d times under the global mode", c)
	}
	as := ruleActions(out, ruleOpenIngress)
	if len(as) != 1 || as[0].Outcome != remediate.Planned || !strings.Contains(as[0].Reason, "opt-in") {
		t.Fatalf("INF.2 actions %s, want one planned (opt-in)", show(as))
	}
	if g, ids := revokeInput(t, as[0]); g != n.sg || !slices.Equal(ids, slices.Sorted(slices.Values(n.open))) {
		t.Errorf("planned call on %s rules %v, want %s %v", g, ids, n.sg, n.open)
	}
	if got := f.ingress(n.sg); len(got) != 3 {
		t.Errorf("ingress changed: %v", got)
	}
}

// streams is what streamApp creates.
type streams struct {
	raw, enriched string // ARNs
}

// streamApp creates the fixture's application (READY) reading the
// unencrypted stream orders-raw (its role allows kinesis:GetRecords on the
// stream's ARN) and writing orders-enriched, encrypted with the AWS managed
// key (named by the fixture's runtime property output.stream and by the
// role's kinesis:PutRecords).
func (f *fixture) streamApp(name string) streams {
	t, ctx := f.t, f.ctx
	t.Helper()
	f.app(name, appOpts{})
	var s streams
	for _, st := range []string{"orders-raw", "orders-enriched"} {
		if _, err := f.c.Kinesis.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(st), ShardCount: aws.Int32(2)}); err != nil {
			t.Fatal(err)
		}
		d, err := f.c.Kinesis.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(st)})
		if err != nil {
			t.Fatal(err)
		}
		arn := aws.ToString(d.StreamDescriptionSummary.StreamARN)
		if st == "orders-raw" {
			s.raw = arn
		} else {
			s.enriched = arn
		}
	}
	if _, err := f.c.Kinesis.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamARN: aws.String(s.enriched),
		EncryptionType: kintypes.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")}); err != nil {
		t.Fatal(err)
	}
	pol := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"ReadSource","Effect":"Allow","Action":["kinesis:DescribeStreamSummary","kinesis:GetRecords","kinesis:GetShardIterator","kinesis:ListShards"],"Resource":"` + s.raw + `"},` +
		`{"Sid":"WriteSink","Effect":"Allow","Action":["kinesis:DescribeStreamSummary","kinesis:PutRecord","kinesis:PutRecords"],"Resource":"` + s.enriched + `"}]}`
	if _, err := f.c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("flink-" + name), PolicyName: aws.String("kinesis"), PolicyDocument: aws.String(pol)}); err != nil {
		t.Fatal(err)
	}
	f.env.ResetJournal()
	return s
}

func (f *fixture) streamEncryption(arn string) (string, string) {
	f.t.Helper()
	d, err := f.c.Kinesis.DescribeStreamSummary(f.ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(arn)})
	if err != nil {
		f.t.Fatal(err)
	}
	return string(d.StreamDescriptionSummary.EncryptionType), aws.ToString(d.StreamDescriptionSummary.KeyId)
}

// streamInput decodes a DP.3 action's exact call.
func streamInput(t *testing.T, a remediate.Action) (arn, typ, key string) {
	t.Helper()
	var in struct{ StreamARN, EncryptionType, KeyId string }
	if err := json.Unmarshal(a.Input, &in); err != nil {
		t.Fatalf("input %s: %v", a.Input, err)
	}
	return in.StreamARN, in.EncryptionType, in.KeyId
}

// The role reads an unencrypted stream: with DP.3's own mode remediate, one
// StartStreamEncryption on that stream's ARN, verified; the encrypted sink
// is not touched; a second Converge writes nothing.
func TestStreamEncryptionStartedWhenOptedIn(t *testing.T) {
	f := start(t)
	s := f.streamApp("orders")
	set := f.settings(optIn(ruleStreams))
	out, err := f.executor(set).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	if c := f.count("StartStreamEncryption"); c != 1 {
		t.Fatalf("StartStreamEncryption %d times, want 1\n%s", c, f.logs.String())
	}
	as := ruleActions(out, ruleStreams)
	if len(as) != 1 || as[0].Outcome != remediate.Verified || as[0].Condition != "encryption:"+s.raw || as[0].Target != s.raw {
		t.Fatalf("DP.3 actions %s, want one verified on %s\n%s", show(as), s.raw, f.logs.String())
	}
	if arn, typ, key := streamInput(t, as[0]); arn != s.raw || typ != "KMS" || key != "alias/aws/kinesis" {
		t.Errorf("call on %s %s %s", arn, typ, key)
	}
	if typ, key := f.streamEncryption(s.raw); typ != "KMS" || key != "alias/aws/kinesis" {
		t.Errorf("orders-raw encryption %s %s", typ, key)
	}
	f.env.ResetJournal()
	out, err = f.executor(set).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, f.logs.String())
	}
	if m := f.mutating(); len(m) != 0 || out.Changed {
		t.Errorf("second run wrote %v (changed %v)", m, out.Changed)
	}
	if as := ruleActions(out, ruleStreams); len(as) != 0 {
		t.Errorf("second run DP.3 actions %s", show(as))
	}
}

// Under the global mode alone DP.3's fix is planned, never made.
func TestStreamEncryptionIsOptIn(t *testing.T) {
	f := start(t)
	s := f.streamApp("orders")
	out, err := f.executor(f.settings()).Converge(f.ctx, "orders")
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	if c := f.count("StartStreamEncryption"); c != 0 {
		t.Fatalf("StartStreamEncryption %d times under the global mode", c)
	}
	as := ruleActions(out, ruleStreams)
	if len(as) != 1 || as[0].Outcome != remediate.Planned || !strings.Contains(as[0].Reason, "opt-in") {
		t.Fatalf("DP.3 actions %s, want one planned (opt-in)", show(as))
	}
	if arn, _, _ := streamInput(t, as[0]); arn != s.raw {
		t.Errorf("planned on %s, want %s", arn, s.raw)
	}
	if typ, _ := f.streamEncryption(s.raw); typ != "NONE" {
		t.Errorf("orders-raw encryption %s", typ)
	}
}

// Stream encryption takes time in AWS: the stream is UPDATING and shows
// its old encryption until the change completes, and so does localaws
// with a transition delay. Verification must wait (re-read) within
// VerifyPatience instead of calling the fix failed, and say failed when
// the encryption has not shown by then.
func TestStreamEncryptionIsAwaited(t *testing.T) {
	for _, tc := range []struct {
		name      string
		patience  time.Duration
		want      string
		minReads  int
		wantError bool
	}{
		{"shows within patience", 10 * time.Second, remediate.Verified, 2, false},
		{"not shown in time", 50 * time.Millisecond, remediate.Failed, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t)
			f.streamApp("orders")
			f.env.SetTransitionDelay(1500 * time.Millisecond)
			// Report mode but for DP.3: only the stream is written.
			set := settings.Defaults()
			set.TopicARN = f.topic
			optIn(ruleStreams)(&set)
			ex := f.executor(set)
			ex.VerifyPatience = tc.patience
			began := time.Now()
			out, err := ex.Converge(f.ctx, "orders")
			took := time.Since(began)
			if (err != nil) != tc.wantError {
				t.Errorf("err %v, want error %v", err, tc.wantError)
			}
			as := ruleActions(out, ruleStreams)
			if len(as) != 1 || as[0].Outcome != tc.want {
				t.Fatalf("DP.3 actions %s, want one %s\n%s", show(as), tc.want, f.logs.String())
			}
			if c := f.count("StartStreamEncryption"); c != 1 {
				t.Errorf("StartStreamEncryption %d times, want 1", c)
			}
			if m := f.mutating(); !slices.Equal(m, []string{"kinesis:StartStreamEncryption"}) {
				t.Errorf("writes %v, want the stream encryption only", m)
			}
			// Reads of the stream after the call: the verification's re-reads.
			reads, called := 0, false
			for _, e := range f.env.Journal() {
				switch {
				case e.Operation == "StartStreamEncryption":
					called = true
				case called && e.Operation == "DescribeStreamSummary":
					reads++
				}
			}
			if reads < tc.minReads {
				t.Errorf("%d reads of the stream after the call, want at least %d", reads, tc.minReads)
			}
			if tc.want == remediate.Verified && took < time.Second {
				t.Errorf("verified after %v: it did not wait", took)
			}
		})
	}
}

// A stream already UPDATING (the encryption an earlier delivery started, or
// someone else's change) refuses StartStreamEncryption with
// ResourceInUseException. That is not a failed fix: verification waits for
// the change under way and reports what it finds: when that change leaves
// the stream unencrypted (StopStreamEncryption), the fix is failed.
func TestStreamChangeAlreadyUnderWay(t *testing.T) {
	for _, tc := range []struct {
		name    string
		start   bool // the change under way: start (true) or stop encryption
		want    string
		wantErr bool
	}{
		{"encryption under way", true, remediate.Verified, false},
		{"decryption under way", false, remediate.Failed, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t)
			s := f.streamApp("orders")
			f.env.SetTransitionDelay(time.Second)
			if tc.start {
				if _, err := f.c.Kinesis.StartStreamEncryption(f.ctx, &kinesis.StartStreamEncryptionInput{StreamARN: aws.String(s.raw),
					EncryptionType: kintypes.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")}); err != nil {
					t.Fatal(err)
				}
			} else {
				// A change under way that leaves the stream unencrypted.
				if _, err := f.c.Kinesis.StopStreamEncryption(f.ctx, &kinesis.StopStreamEncryptionInput{StreamARN: aws.String(s.raw),
					EncryptionType: kintypes.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")}); err != nil {
					t.Fatal(err)
				}
			}
			f.env.ResetJournal()
			set := settings.Defaults()
			set.TopicARN = f.topic
			optIn(ruleStreams)(&set)
			ex := f.executor(set)
			ex.VerifyPatience = 2500 * time.Millisecond
			out, err := ex.Converge(f.ctx, "orders")
			if (err != nil) != tc.wantErr {
				t.Errorf("err %v, want error %v", err, tc.wantErr)
			}
			as := ruleActions(out, ruleStreams)
			var raw *remediate.Action
			for i := range as {
				if strings.Contains(string(as[i].Input), s.raw) {
					raw = &as[i]
				}
			}
			if raw == nil || raw.Outcome != tc.want {
				t.Fatalf("DP.3 actions %s: want the raw stream's %s\n%s", show(as), tc.want, f.logs.String())
			}
			if n := f.env.CountErrors("kinesis", "StartStreamEncryption", "ResourceInUseException"); n != 1 {
				t.Errorf("StartStreamEncryption refused %d times, want once (the stream was UPDATING)", n)
			}
		})
	}
}

// Requester-managed ENIs of something else whose description merely
// mentions the application are other users of the group: nothing may be
// revoked. An Application Load Balancer named like the application
// (requester amazon-elb, description "ELB app/orders/<id>") is exactly the
// kind of user that needs ingress from anywhere; another Flink application
// whose name starts with this one's has a description that contains this
// application's ARN as a prefix.
func TestOpenIngressLookalikeENIsAreOtherUsers(t *testing.T) {
	for _, tc := range []struct {
		name, desc, requester string
	}{
		{"load balancer named like the application", "ELB app/orders/50dc6c495c0c9188", "amazon-elb"},
		{"application whose ARN extends this one's", "ENI for Kinesis Analytics application arn:aws:kinesisanalytics:us-east-1:123456789012:application/orders-backfill", "AROAKINESISANALYTICS:kinesisanalytics"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t)
			n := f.vpcApp("orders")
			other, err := f.env.AddNetworkInterface(n.subnets[0], []string{n.sg}, tc.desc, tc.requester)
			if err != nil {
				t.Fatal(err)
			}
			f.env.ResetJournal()
			out, err := f.executor(f.settings(optIn(ruleOpenIngress))).Converge(f.ctx, "orders")
			if err != nil {
				t.Fatalf("%v\n%s", err, f.logs.String())
			}
			if c := f.count("RevokeSecurityGroupIngress"); c != 0 {
				t.Errorf("RevokeSecurityGroupIngress %d times on a group shared with %s; ingress now %v", c, other, f.ingress(n.sg))
			}
			as := ruleActions(out, ruleOpenIngress)
			if len(as) != 1 || as[0].Outcome != remediate.Reported || !strings.Contains(string(as[0].Before), other) {
				t.Errorf("INF.2 actions %s, want one reported naming %s", show(as), other)
			}
		})
	}
}

// The role also grants PutRecords on a stream pattern (orders-enriched-*),
// so DP.3 cannot list every stream: the named unencrypted stream is still
// fixed, and once it is encrypted the rest is unknown, as before the fix.
// The fix did what it targets (the re-read shows the stream KMS-encrypted):
// it is verified, and the convergence is not an error.
func TestStreamFixVerifiedWhenOtherStreamsAreUnknown(t *testing.T) {
	f := start(t)
	s := f.streamApp("orders")
	pol := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"ReadSource","Effect":"Allow","Action":["kinesis:DescribeStreamSummary","kinesis:GetRecords","kinesis:GetShardIterator","kinesis:ListShards"],"Resource":"` + s.raw + `"},` +
		`{"Sid":"WriteSinks","Effect":"Allow","Action":["kinesis:DescribeStreamSummary","kinesis:PutRecords"],"Resource":"arn:aws:kinesis:us-east-1:123456789012:stream/orders-enriched-*"}]}`
	if _, err := f.c.IAM.PutRolePolicy(f.ctx, &iam.PutRolePolicyInput{RoleName: aws.String("flink-orders"), PolicyName: aws.String("kinesis"), PolicyDocument: aws.String(pol)}); err != nil {
		t.Fatal(err)
	}
	f.env.ResetJournal()
	out, err := f.executor(f.settings(optIn(ruleStreams))).Converge(f.ctx, "orders")
	if c := f.count("StartStreamEncryption"); c != 1 {
		t.Fatalf("StartStreamEncryption %d times, want 1", c)
	}
	if typ, _ := f.streamEncryption(s.raw); typ != "KMS" {
		t.Fatalf("orders-raw encryption %s", typ)
	}
	if as := ruleActions(out, ruleStreams); len(as) != 1 || as[0].Outcome != remediate.Verified {
		t.Errorf("DP.3 actions %s, want one verified", show(as))
	}
	if err != nil {
		t.Errorf("Converge: %v", err)
	}
}
