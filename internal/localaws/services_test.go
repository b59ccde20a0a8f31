package localaws_test

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cfgtypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	kda "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kdaguard/kdaguard/internal/localaws/localawstest"
)

func TestConfigService(t *testing.T) {
	env := localawstest.Start(t)
	ctx := context.Background()
	c := configservice.NewFromConfig(env.AWSConfig(ctx))
	tok := env.IssueResultToken("kdaguard-rule")
	now := time.Now().UTC().Truncate(time.Second)
	ev := func(id string, ct cfgtypes.ComplianceType, at time.Time) cfgtypes.Evaluation {
		return cfgtypes.Evaluation{ComplianceResourceType: aws.String("AWS::KinesisAnalyticsV2::Application"), ComplianceResourceId: aws.String(id), ComplianceType: ct, OrderingTimestamp: aws.Time(at), Annotation: aws.String("checked")}
	}
	if _, err := c.PutEvaluations(ctx, &configservice.PutEvaluationsInput{ResultToken: aws.String(tok), Evaluations: []cfgtypes.Evaluation{
		ev("a", cfgtypes.ComplianceTypeNonCompliant, now), ev("b", cfgtypes.ComplianceTypeCompliant, now)}}); err != nil {
		t.Fatal(err)
	}
	// Newer evaluation for a wins; TestMode results are not stored.
	if _, err := c.PutEvaluations(ctx, &configservice.PutEvaluationsInput{ResultToken: aws.String(tok), Evaluations: []cfgtypes.Evaluation{ev("a", cfgtypes.ComplianceTypeCompliant, now.Add(time.Minute))}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutEvaluations(ctx, &configservice.PutEvaluationsInput{ResultToken: aws.String("TESTMODE"), TestMode: true, Evaluations: []cfgtypes.Evaluation{ev("c", cfgtypes.ComplianceTypeNonCompliant, now)}}); err != nil {
		t.Fatal(err)
	}
	evs := env.Evaluations()
	if len(evs) != 4 || evs[0].ConfigRuleName != "kdaguard-rule" || !evs[3].TestMode {
		t.Fatalf("Evaluations() = %+v", evs)
	}
	// Too many, empty token, INSUFFICIENT_DATA, long annotation.
	many := make([]cfgtypes.Evaluation, 101)
	for i := range many {
		many[i] = ev("x", cfgtypes.ComplianceTypeCompliant, now)
	}
	_, err := c.PutEvaluations(ctx, &configservice.PutEvaluationsInput{ResultToken: aws.String(tok), Evaluations: many})
	if code := apiCode(err); code != "ValidationException" {
		t.Errorf("101 evaluations: %v", err)
	}
	_, err = c.PutEvaluations(ctx, &configservice.PutEvaluationsInput{ResultToken: aws.String(""), Evaluations: many[:1]})
	var badTok *cfgtypes.InvalidResultTokenException
	if !errors.As(err, &badTok) {
		t.Errorf("empty token: %v", err)
	}
	_, err = c.PutEvaluations(ctx, &configservice.PutEvaluationsInput{ResultToken: aws.String(tok), Evaluations: []cfgtypes.Evaluation{ev("x", cfgtypes.ComplianceTypeInsufficientData, now)}})
	var badParam *cfgtypes.InvalidParameterValueException
	if !errors.As(err, &badParam) {
		t.Errorf("INSUFFICIENT_DATA: %v", err)
	}
	long := ev("x", cfgtypes.ComplianceTypeCompliant, now)
	long.Annotation = aws.String(strings.Repeat("a", 257))
	_, err = c.PutEvaluations(ctx, &configservice.PutEvaluationsInput{ResultToken: aws.String(tok), Evaluations: []cfgtypes.Evaluation{long}})
	if apiCode(err) != "ValidationException" {
		t.Errorf("long annotation: %v", err)
	}
	var results []cfgtypes.EvaluationResult
	p := configservice.NewGetComplianceDetailsByConfigRulePaginator(c, &configservice.GetComplianceDetailsByConfigRuleInput{ConfigRuleName: aws.String("kdaguard-rule"), Limit: 1})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, out.EvaluationResults...)
	}
	if len(results) != 2 || results[0].ComplianceType != cfgtypes.ComplianceTypeCompliant || aws.ToString(results[0].EvaluationResultIdentifier.EvaluationResultQualifier.ResourceId) != "a" {
		t.Fatalf("results: %+v", results)
	}
	nc, err := c.GetComplianceDetailsByConfigRule(ctx, &configservice.GetComplianceDetailsByConfigRuleInput{ConfigRuleName: aws.String("kdaguard-rule"), ComplianceTypes: []cfgtypes.ComplianceType{cfgtypes.ComplianceTypeNonCompliant}})
	if err != nil || len(nc.EvaluationResults) != 0 {
		t.Fatalf("NON_COMPLIANT filter: %v %d", err, len(nc.EvaluationResults))
	}
	_, err = c.GetComplianceDetailsByConfigRule(ctx, &configservice.GetComplianceDetailsByConfigRuleInput{ConfigRuleName: aws.String("nope")})
	var noRule *cfgtypes.NoSuchConfigRuleException
	if !errors.As(err, &noRule) {
		t.Errorf("unknown rule: %v", err)
	}

	// Recorders.
	st, err := c.DescribeConfigurationRecorderStatus(ctx, &configservice.DescribeConfigurationRecorderStatusInput{})
	if err != nil || len(st.ConfigurationRecordersStatus) != 0 {
		t.Fatalf("fresh account recorders: %v %+v", err, st)
	}
	if _, err := c.PutConfigurationRecorder(ctx, &configservice.PutConfigurationRecorderInput{ConfigurationRecorder: &cfgtypes.ConfigurationRecorder{Name: aws.String("default"), RoleARN: aws.String(roleARN),
		RecordingGroup: &cfgtypes.RecordingGroup{AllSupported: true, IncludeGlobalResourceTypes: true}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartConfigurationRecorder(ctx, &configservice.StartConfigurationRecorderInput{ConfigurationRecorderName: aws.String("default")}); err != nil {
		t.Fatal(err)
	}
	recs, err := c.DescribeConfigurationRecorders(ctx, &configservice.DescribeConfigurationRecordersInput{})
	if err != nil || len(recs.ConfigurationRecorders) != 1 || !recs.ConfigurationRecorders[0].RecordingGroup.AllSupported {
		t.Fatalf("recorders: %v %+v", err, recs)
	}
	st, err = c.DescribeConfigurationRecorderStatus(ctx, &configservice.DescribeConfigurationRecorderStatusInput{ConfigurationRecorderNames: []string{"default"}})
	if err != nil || !st.ConfigurationRecordersStatus[0].Recording || st.ConfigurationRecordersStatus[0].LastStatus != cfgtypes.RecorderStatusSuccess {
		t.Fatalf("recorder status: %v %+v", err, st)
	}

	// Resource history of an application.
	kc := kda.NewFromConfig(env.AWSConfig(ctx))
	d := createApp(t, kc, "hist")
	if _, err := kc.UpdateApplication(ctx, &kda.UpdateApplicationInput{ApplicationName: aws.String("hist"), CurrentApplicationVersionId: aws.Int64(1),
		ApplicationConfigurationUpdate: &kt.ApplicationConfigurationUpdate{ApplicationSnapshotConfigurationUpdate: &kt.ApplicationSnapshotConfigurationUpdate{SnapshotsEnabledUpdate: aws.Bool(true)}}}); err != nil {
		t.Fatal(err)
	}
	h, err := c.GetResourceConfigHistory(ctx, &configservice.GetResourceConfigHistoryInput{ResourceType: cfgtypes.ResourceTypeKinesisAnalyticsV2Application, ResourceId: aws.String("hist"), Limit: 1})
	if err != nil || len(h.ConfigurationItems) != 1 || h.NextToken == nil {
		t.Fatalf("history: %v %+v", err, h)
	}
	it := h.ConfigurationItems[0]
	if it.ConfigurationItemStatus != cfgtypes.ConfigurationItemStatusOk || aws.ToString(it.Arn) != aws.ToString(d.ApplicationARN) ||
		!strings.Contains(aws.ToString(it.Configuration), `"CheckpointConfiguration"`) || strings.Contains(aws.ToString(it.Configuration), "Description\"") {
		t.Fatalf("item: %+v", it)
	}
	_, err = c.GetResourceConfigHistory(ctx, &configservice.GetResourceConfigHistoryInput{ResourceType: cfgtypes.ResourceTypeKinesisAnalyticsV2Application, ResourceId: aws.String("nope")})
	var nd *cfgtypes.ResourceNotDiscoveredException
	if !errors.As(err, &nd) {
		t.Errorf("undiscovered: %v", err)
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func TestIAMAndSTS(t *testing.T) {
	env := localawstest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(env.AWSConfig(ctx))
	r, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("flink-role"), AssumeRolePolicyDocument: aws.String(trust), Path: aws.String("/service/"),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("data")}}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(r.Role.Arn) != "arn:aws:iam::123456789012:role/service/flink-role" || !strings.HasPrefix(aws.ToString(r.Role.RoleId), "AROA") {
		t.Fatalf("role: %+v", r.Role)
	}
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("flink-role"), AssumeRolePolicyDocument: aws.String(trust)})
	var exists *iamtypes.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("duplicate role: %v", err)
	}
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad"), AssumeRolePolicyDocument: aws.String("{not json")})
	var malformed *iamtypes.MalformedPolicyDocumentException
	if !errors.As(err, &malformed) {
		t.Fatalf("malformed: %v", err)
	}
	g, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("flink-role")})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := url.QueryUnescape(aws.ToString(g.Role.AssumeRolePolicyDocument))
	if err != nil || doc != trust || !strings.Contains(aws.ToString(g.Role.AssumeRolePolicyDocument), "%22") {
		t.Fatalf("trust document not URL-encoded as IAM does: %q", aws.ToString(g.Role.AssumeRolePolicyDocument))
	}
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("missing")})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Fatalf("missing role: %v", err)
	}
	newTrust := strings.Replace(trust, `"Action"`, `"Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}},"Action"`, 1)
	if _, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("flink-role"), PolicyDocument: aws.String(newTrust)}); err != nil {
		t.Fatal(err)
	}
	inline := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}`
	for _, n := range []string{"p1", "p2", "p3"} {
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("flink-role"), PolicyName: aws.String(n), PolicyDocument: aws.String(inline)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	pp := iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: aws.String("flink-role"), MaxItems: aws.Int32(2)})
	for pp.HasMorePages() {
		out, err := pp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, out.PolicyNames...)
	}
	if strings.Join(names, ",") != "p1,p2,p3" {
		t.Fatalf("policy names %v", names)
	}
	gp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("flink-role"), PolicyName: aws.String("p1")})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := url.QueryUnescape(aws.ToString(gp.PolicyDocument)); d != inline {
		t.Fatalf("inline doc %q", d)
	}
	cp, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("logs"), PolicyDocument: aws.String(inline)})
	if err != nil {
		t.Fatal(err)
	}
	for _, arn := range []string{aws.ToString(cp.Policy.Arn), "arn:aws:iam::aws:policy/AdministratorAccess"} {
		if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("flink-role"), PolicyArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("flink-role"), PolicyArn: aws.String("arn:aws:iam::123456789012:policy/none")})
	if !errors.As(err, &nse) {
		t.Fatalf("attach missing: %v", err)
	}
	ap, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("flink-role")})
	if err != nil || len(ap.AttachedPolicies) != 2 || aws.ToString(ap.AttachedPolicies[1].PolicyName) != "AdministratorAccess" {
		t.Fatalf("attached: %v %+v", err, ap)
	}
	pol, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: cp.Policy.Arn})
	if err != nil || aws.ToString(pol.Policy.DefaultVersionId) != "v1" || aws.ToInt32(pol.Policy.AttachmentCount) != 1 {
		t.Fatalf("policy: %v %+v", err, pol)
	}
	pv, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess"), VersionId: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := url.QueryUnescape(aws.ToString(pv.PolicyVersion.Document)); !strings.Contains(d, `"Action":"*"`) {
		t.Fatalf("admin doc %q", d)
	}
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("flink-role")})
	var conflict *iamtypes.DeleteConflictException
	if !errors.As(err, &conflict) {
		t.Fatalf("delete with policies: %v", err)
	}

	sc := sts.NewFromConfig(env.AWSConfig(ctx))
	id, err := sc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "123456789012" {
		t.Fatalf("GetCallerIdentity: %v %+v", err, id)
	}
	ar, err := sc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: r.Role.Arn, RoleSessionName: aws.String("s")})
	if err != nil || !strings.Contains(aws.ToString(ar.AssumedRoleUser.Arn), "assumed-role/flink-role/s") {
		t.Fatalf("AssumeRole: %v", err)
	}
}

func TestEC2AndVPCApplication(t *testing.T) {
	env := localawstest.Start(t)
	ctx := context.Background()
	c := ec2.NewFromConfig(env.AWSConfig(ctx))
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := vpc.Vpc.VpcId
	pub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.0.1.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	priv, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.0.2.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.0.2.0/25")})
	if apiCode(err) != "InvalidSubnet.Conflict" {
		t.Fatalf("overlap: %v", err)
	}
	igw, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpcID})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId})
	if apiCode(err) != "InvalidParameterValue" {
		t.Fatalf("route to detached igw: %v", err)
	}
	if _, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpcID}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId}); err != nil {
		t.Fatal(err)
	}
	as, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: pub.Subnet.SubnetId})
	if err != nil || !strings.HasPrefix(aws.ToString(as.AssociationId), "rtbassoc-") {
		t.Fatal(err)
	}
	tables, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{*vpcID}}}})
	if err != nil || len(tables.RouteTables) != 2 {
		t.Fatalf("tables: %v %d", err, len(tables.RouteTables))
	}
	mains, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{*vpcID}}, {Name: aws.String("association.main"), Values: []string{"true"}}}})
	if err != nil || len(mains.RouteTables) != 1 || !aws.ToBool(mains.RouteTables[0].Associations[0].Main) || aws.ToString(mains.RouteTables[0].Routes[0].GatewayId) != "local" {
		t.Fatalf("main table: %v %+v", err, mains)
	}
	byAssoc, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{*pub.Subnet.SubnetId}}}})
	if err != nil || len(byAssoc.RouteTables) != 1 || len(byAssoc.RouteTables[0].Routes) != 2 || aws.ToString(byAssoc.RouteTables[0].Routes[1].GatewayId) != *igw.InternetGateway.InternetGatewayId {
		t.Fatalf("subnet table: %v %+v", err, byAssoc)
	}
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("flink"), Description: aws.String("flink app"), VpcId: vpcID})
	if err != nil {
		t.Fatal(err)
	}
	perm := []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}
	au, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: perm})
	if err != nil || len(au.SecurityGroupRules) != 1 {
		t.Fatalf("authorize: %v", err)
	}
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: perm})
	if apiCode(err) != "InvalidPermission.Duplicate" {
		t.Fatalf("duplicate rule: %v", err)
	}
	groups, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{*sg.GroupId}})
	if err != nil || len(groups.SecurityGroups) != 1 {
		t.Fatal(err)
	}
	g := groups.SecurityGroups[0]
	if len(g.IpPermissions) != 1 || aws.ToInt32(g.IpPermissions[0].FromPort) != 22 || aws.ToString(g.IpPermissions[0].IpRanges[0].CidrIp) != "0.0.0.0/0" || len(g.IpPermissionsEgress) != 1 {
		t.Fatalf("group: %+v", g)
	}
	rules, err := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{*sg.GroupId}}}})
	if err != nil || len(rules.SecurityGroupRules) != 2 {
		t.Fatalf("rules: %v %+v", err, rules)
	}
	if _, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: sg.GroupId, SecurityGroupRuleIds: []string{*au.SecurityGroupRules[0].SecurityGroupRuleId}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: perm})
	if apiCode(err) != "InvalidPermission.NotFound" {
		t.Fatalf("revoke missing: %v", err)
	}
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0000"}})
	if apiCode(err) != "InvalidGroup.NotFound" {
		t.Fatalf("missing group: %v", err)
	}
	eni, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: priv.Subnet.SubnetId, Groups: []string{*sg.GroupId}, Description: aws.String("flink eni")})
	if err != nil {
		t.Fatal(err)
	}
	enis, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{*sg.GroupId}}}})
	if err != nil || len(enis.NetworkInterfaces) != 1 || aws.ToString(enis.NetworkInterfaces[0].NetworkInterfaceId) != aws.ToString(eni.NetworkInterface.NetworkInterfaceId) {
		t.Fatalf("enis: %v %+v", err, enis)
	}
	subs, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{*vpcID}}}})
	if err != nil || len(subs.Subnets) != 2 {
		t.Fatalf("subnets: %v", err)
	}
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	if apiCode(err) != "InvalidParameterValue" {
		t.Fatalf("bad filter: %v", err)
	}

	// A VPC application is validated against this state.
	kc := kda.NewFromConfig(env.AWSConfig(ctx))
	createApp(t, kc, "vpcapp")
	_, err = kc.AddApplicationVpcConfiguration(ctx, &kda.AddApplicationVpcConfigurationInput{ApplicationName: aws.String("vpcapp"), CurrentApplicationVersionId: aws.Int64(1),
		VpcConfiguration: &kt.VpcConfiguration{SubnetIds: []string{"subnet-missing"}, SecurityGroupIds: []string{*sg.GroupId}}})
	var invalid *kt.InvalidArgumentException
	if !errors.As(err, &invalid) {
		t.Fatalf("missing subnet: %v", err)
	}
	av, err := kc.AddApplicationVpcConfiguration(ctx, &kda.AddApplicationVpcConfigurationInput{ApplicationName: aws.String("vpcapp"), CurrentApplicationVersionId: aws.Int64(1),
		VpcConfiguration: &kt.VpcConfiguration{SubnetIds: []string{*pub.Subnet.SubnetId, *priv.Subnet.SubnetId}, SecurityGroupIds: []string{*sg.GroupId}}})
	if err != nil || aws.ToString(av.VpcConfigurationDescription.VpcId) != *vpcID || aws.ToInt64(av.ApplicationVersionId) != 2 {
		t.Fatalf("add vpc: %v %+v", err, av)
	}
	d := describe(t, kc, "vpcapp")
	if len(d.ApplicationConfigurationDescription.VpcConfigurationDescriptions) != 1 {
		t.Fatalf("vpc descriptions: %+v", d.ApplicationConfigurationDescription.VpcConfigurationDescriptions)
	}
	if _, err := kc.DeleteApplicationVpcConfiguration(ctx, &kda.DeleteApplicationVpcConfigurationInput{ApplicationName: aws.String("vpcapp"), CurrentApplicationVersionId: aws.Int64(2),
		VpcConfigurationId: av.VpcConfigurationDescription.VpcConfigurationId}); err != nil {
		t.Fatal(err)
	}
}

func TestLogsKMSKinesisTrail(t *testing.T) {
	env := localawstest.Start(t)
	ctx := context.Background()
	cfg := env.AWSConfig(ctx)

	km := kms.NewFromConfig(cfg)
	key, err := km.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("flink state")})
	if err != nil {
		t.Fatal(err)
	}
	keyARN := aws.ToString(key.KeyMetadata.Arn)
	if _, err := km.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/flink"), TargetKeyId: key.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	dk, err := km.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/flink")})
	if err != nil || aws.ToString(dk.KeyMetadata.KeyId) != aws.ToString(key.KeyMetadata.KeyId) || dk.KeyMetadata.KeyState != kmstypes.KeyStateEnabled {
		t.Fatalf("describe key: %v", err)
	}
	rs, err := km.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(keyARN)})
	if err != nil || rs.KeyRotationEnabled {
		t.Fatalf("rotation: %v", err)
	}
	if _, err := km.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: key.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	if rs, _ = km.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: key.KeyMetadata.KeyId}); !rs.KeyRotationEnabled {
		t.Fatal("rotation not enabled")
	}
	_, err = km.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/none")})
	var nf *kmstypes.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("missing key: %v", err)
	}
	// The default key policy does not allow Kinesis Analytics: the service refuses it.
	kc := kda.NewFromConfig(cfg)
	createApp(t, kc, "enc")
	encUpd := func(v int64) error {
		_, err := kc.UpdateApplication(ctx, &kda.UpdateApplicationInput{ApplicationName: aws.String("enc"), CurrentApplicationVersionId: aws.Int64(v),
			ApplicationConfigurationUpdate: &kt.ApplicationConfigurationUpdate{ApplicationEncryptionConfigurationUpdate: &kt.ApplicationEncryptionConfigurationUpdate{KeyTypeUpdate: kt.KeyTypeCustomerManagedKey, KeyIdUpdate: aws.String(keyARN)}}})
		return err
	}
	var invalid *kt.InvalidArgumentException
	if err := encUpd(1); !errors.As(err, &invalid) {
		t.Fatalf("key policy without service principal: %v", err)
	}
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["kinesisanalytics.amazonaws.com","infrastructure.kinesisanalytics.amazonaws.com","logs.us-east-1.amazonaws.com"]},"Action":"kms:*","Resource":"*"}]}`
	if _, err := km.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: key.KeyMetadata.KeyId, Policy: aws.String(pol), PolicyName: aws.String("default")}); err != nil {
		t.Fatal(err)
	}
	gp, err := km.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: key.KeyMetadata.KeyId, PolicyName: aws.String("default")})
	if err != nil || aws.ToString(gp.Policy) != pol {
		t.Fatalf("key policy: %v", err)
	}
	if err := encUpd(1); err != nil {
		t.Fatal(err)
	}
	al, err := km.ListAliases(ctx, &kms.ListAliasesInput{})
	if err != nil || len(al.Aliases) != 1 {
		t.Fatalf("aliases: %v", err)
	}

	lc := cloudwatchlogs.NewFromConfig(cfg)
	if _, err := lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/flink/app")}); err != nil {
		t.Fatal(err)
	}
	_, err = lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/flink/app")})
	var exists *logstypes.ResourceAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("duplicate log group: %v", err)
	}
	if _, err := lc.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/flink/app"), LogStreamName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	_, err = lc.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("/flink/app"), RetentionInDays: aws.Int32(2)})
	var badParam *logstypes.InvalidParameterException
	if !errors.As(err, &badParam) {
		t.Fatalf("bad retention: %v", err)
	}
	if _, err := lc.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("/flink/app"), RetentionInDays: aws.Int32(365)}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.AssociateKmsKey(ctx, &cloudwatchlogs.AssociateKmsKeyInput{LogGroupName: aws.String("/flink/app"), KmsKeyId: aws.String(keyARN)}); err != nil {
		t.Fatal(err)
	}
	lg, err := lc.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/flink")})
	if err != nil || len(lg.LogGroups) != 1 || aws.ToInt32(lg.LogGroups[0].RetentionInDays) != 365 || aws.ToString(lg.LogGroups[0].KmsKeyId) != keyARN || aws.ToInt64(lg.LogGroups[0].CreationTime) == 0 {
		t.Fatalf("log groups: %v %+v", err, lg)
	}
	ls, err := lc.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/flink/app")})
	if err != nil || len(ls.LogStreams) != 1 || aws.ToString(ls.LogStreams[0].LogStreamName) != "app" {
		t.Fatalf("log streams: %v", err)
	}
	_, err = lc.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/none")})
	var lnf *logstypes.ResourceNotFoundException
	if !errors.As(err, &lnf) {
		t.Fatalf("missing group: %v", err)
	}

	kin := kinesis.NewFromConfig(cfg)
	if _, err := kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("in"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := kin.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String("in"), EncryptionType: kintypes.EncryptionTypeKms, KeyId: aws.String("alias/flink")}); err != nil {
		t.Fatal(err)
	}
	sum, err := kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("in")})
	if err != nil || sum.StreamDescriptionSummary.EncryptionType != kintypes.EncryptionTypeKms || sum.StreamDescriptionSummary.StreamStatus != kintypes.StreamStatusActive {
		t.Fatalf("stream: %v %+v", err, sum)
	}
	streams, err := kin.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil || len(streams.StreamNames) != 1 {
		t.Fatalf("streams: %v", err)
	}
	_, err = kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("none")})
	var snf *kintypes.ResourceNotFoundException
	if !errors.As(err, &snf) {
		t.Fatalf("missing stream: %v", err)
	}

	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail-logs")}); err != nil {
		t.Fatal(err)
	}
	ct := cloudtrail.NewFromConfig(cfg)
	if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("trail-logs"), IsMultiRegionTrail: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
	trails, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil || len(trails.TrailList) != 1 || !aws.ToBool(trails.TrailList[0].IsMultiRegionTrail) {
		t.Fatalf("trails: %v", err)
	}
	ts, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("main")})
	if err != nil || !aws.ToBool(ts.IsLogging) {
		t.Fatalf("trail status: %v", err)
	}
	_, err = ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("none")})
	if apiCode(err) != "TrailNotFoundException" {
		t.Fatalf("missing trail: %v", err)
	}
}

func TestS3CloudWatchSNSEventBridge(t *testing.T) {
	env := localawstest.Start(t)
	ctx := context.Background()
	cfg := env.AWSConfig(ctx)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("code")}); err != nil {
		t.Fatal(err)
	}
	pab, err := s3c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String("code")})
	if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicPolicy) {
		t.Fatalf("default public access block: %v", err)
	}
	enc, err := s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("code")})
	if err != nil || enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
		t.Fatalf("default encryption: %v", err)
	}
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::code/*"}]}`
	_, err = s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("code"), Policy: aws.String(public)})
	if apiCode(err) != "AccessDenied" {
		t.Fatalf("public policy under BlockPublicPolicy: %v", err)
	}
	if _, err := s3c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String("code"), PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
		BlockPublicAcls: aws.Bool(false), IgnorePublicAcls: aws.Bool(false), BlockPublicPolicy: aws.Bool(false), RestrictPublicBuckets: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("code"), Policy: aws.String(public)}); err != nil {
		t.Fatal(err)
	}
	ps, err := s3c.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String("code")})
	if err != nil || !aws.ToBool(ps.PolicyStatus.IsPublic) {
		t.Fatalf("policy status: %v", err)
	}
	if _, err := s3c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("code"), ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
		Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("arn:aws:kms:us-east-1:123456789012:key/x")}}}}}); err != nil {
		t.Fatal(err)
	}
	enc, err = s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("code")})
	if err != nil || enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms {
		t.Fatalf("kms encryption: %v", err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("code"), Key: aws.String("app.jar"), Body: strings.NewReader("jar bytes")}); err != nil {
		t.Fatal(err)
	}
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("code"), Key: aws.String("app.jar")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if string(body) != "jar bytes" {
		t.Fatalf("object = %q", body)
	}
	v, err := s3c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("code")})
	if err != nil || v.Status != "" {
		t.Fatalf("versioning: %v %q", err, v.Status)
	}
	_, err = s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("none")})
	if apiCode(err) != "NoSuchBucket" {
		t.Fatalf("missing bucket: %v", err)
	}

	cw := cloudwatch.NewFromConfig(cfg)
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("app-downtime"), Namespace: aws.String("AWS/KinesisAnalytics"), MetricName: aws.String("downtime"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("Application"), Value: aws.String("app")}}, Statistic: cwtypes.StatisticMaximum, Period: aws.Int32(60),
		EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}); err != nil {
		t.Fatal(err)
	}
	al, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("app-")})
	if err != nil || len(al.MetricAlarms) != 1 {
		t.Fatalf("alarms: %v", err)
	}
	a := al.MetricAlarms[0]
	if aws.ToString(a.MetricName) != "downtime" || aws.ToString(a.Dimensions[0].Value) != "app" || a.StateValue != cwtypes.StateValueInsufficientData || aws.ToFloat64(a.Threshold) != 0 || a.AlarmConfigurationUpdatedTimestamp == nil {
		t.Fatalf("alarm: %+v", a)
	}
	_, err = cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("x"), EvaluationPeriods: aws.Int32(1), ComparisonOperator: "Sideways"})
	if err == nil {
		t.Fatal("bad comparison operator accepted")
	}

	sc := sns.NewFromConfig(cfg)
	tp, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("findings")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("a@example.com")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Publish(ctx, &sns.PublishInput{TopicArn: tp.TopicArn, Subject: aws.String("finding"), Message: aws.String(`{"check":"MON.1"}`)}); err != nil {
		t.Fatal(err)
	}
	if pub := env.Published(); len(pub) != 1 || pub[0].Message != `{"check":"MON.1"}` || pub[0].Subject != "finding" {
		t.Fatalf("published: %+v", pub)
	}
	_, err = sc.Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:none"), Message: aws.String("x")})
	if apiCode(err) != "NotFound" {
		t.Fatalf("missing topic: %v", err)
	}

	eb := eventbridge.NewFromConfig(cfg)
	out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("kdaguard"), DetailType: aws.String("Finding"), Detail: aws.String(`{"a":1}`)},
		{Source: aws.String("kdaguard"), DetailType: aws.String("Finding"), Detail: aws.String(`not json`)},
	}})
	if err != nil || out.FailedEntryCount != 1 || aws.ToString(out.Entries[1].ErrorCode) != "MalformedDetail" {
		t.Fatalf("PutEvents: %v %+v", err, out)
	}
	if evs := env.Events(); len(evs) != 1 || evs[0].Detail != `{"a":1}` {
		t.Fatalf("events: %+v", evs)
	}
}

// Stream encryption is asynchronous in Kinesis: with a transition delay the
// stream is UPDATING, keeps showing its old encryption, and refuses another
// change until the delay has passed.
func TestStreamEncryptionTakesTheTransitionDelay(t *testing.T) {
	env := localawstest.Start(t)
	env.SetTransitionDelay(150 * time.Millisecond)
	ctx := context.Background()
	kin := kinesis.NewFromConfig(env.AWSConfig(ctx))
	if _, err := kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("in"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	summary := func() *kintypes.StreamDescriptionSummary {
		t.Helper()
		out, err := kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("in")})
		if err != nil {
			t.Fatal(err)
		}
		return out.StreamDescriptionSummary
	}
	start := &kinesis.StartStreamEncryptionInput{StreamName: aws.String("in"), EncryptionType: kintypes.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")}
	if _, err := kin.StartStreamEncryption(ctx, start); err != nil {
		t.Fatal(err)
	}
	if s := summary(); s.StreamStatus != kintypes.StreamStatusUpdating || s.EncryptionType != kintypes.EncryptionTypeNone {
		t.Fatalf("during the change: %s %s, want UPDATING NONE", s.StreamStatus, s.EncryptionType)
	}
	_, err := kin.StartStreamEncryption(ctx, start)
	var inUse *kintypes.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Fatalf("a second change while UPDATING: %v, want ResourceInUseException", err)
	}
	time.Sleep(200 * time.Millisecond)
	if s := summary(); s.StreamStatus != kintypes.StreamStatusActive || s.EncryptionType != kintypes.EncryptionTypeKms || aws.ToString(s.KeyId) != "alias/aws/kinesis" {
		t.Fatalf("after the delay: %s %s %s, want ACTIVE KMS alias/aws/kinesis", s.StreamStatus, s.EncryptionType, aws.ToString(s.KeyId))
	}
}
