package collect_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cfgtypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	kdatypes "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kdaguard/kdaguard/internal/localaws"
	"github.com/kdaguard/kdaguard/internal/localaws/localawstest"
	"github.com/kdaguard/kdaguard/shared/collect"
	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

var allFacets = []model.Facet{
	model.FacetRole, model.FacetRoleUsers, model.FacetKey, model.FacetLogGroups, model.FacetSubnets,
	model.FacetSecurityGroups, model.FacetBucket, model.FacetStreams, model.FacetAlarms, model.FacetSnapshots,
	model.FacetTrails, model.FacetRecorders,
}

// start runs localaws and points the SDK's environment handling at it, so
// that collect.Config is exercised exactly as in production.
func start(t *testing.T, optFns ...func(*config.LoadOptions) error) (*localawstest.Env, *collect.Clients) {
	t.Helper()
	env := localawstest.Start(t)
	env.SetEnv(t)
	t.Setenv(collect.EnvS3PathStyle, "true")
	cfg, err := collect.Config(context.Background(), optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return env, collect.NewClients(cfg)
}

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("seed %s: %v", what, err)
		}
		return v
	}
}

// world is what seed creates.
type world struct {
	RoleARN, KeyARN, LogGroup, LogStreamARN string
	VPC, PublicSubnet, PrivateSubnet, IGW   string
	PublicTable, SG, OwnENI, OtherENI       string
	Bucket, StreamARN, PolicyARN, TrailName string
	Apps                                    []string
	Account, Region                         string
}

const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}`

// seed creates, through the SDK, every resource a fully related application
// has, and the applications named (all sharing the role, bucket, key, log
// group and network).
func seed(t *testing.T, env *localawstest.Env, c *collect.Clients, apps ...string) world {
	t.Helper()
	ctx := context.Background()
	w := world{Account: env.AccountID(), Region: env.Region(), Apps: apps}

	// Kinesis stream, encrypted.
	must[*kinesis.CreateStreamOutput](t, "stream")(c.Kinesis.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("orders"), ShardCount: aws.Int32(1)}))
	must[*kinesis.StartStreamEncryptionOutput](t, "stream encryption")(c.Kinesis.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{
		StreamName: aws.String("orders"), EncryptionType: kintypes.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")}))
	sum := must[*kinesis.DescribeStreamSummaryOutput](t, "stream summary")(c.Kinesis.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("orders")}))
	w.StreamARN = aws.ToString(sum.StreamDescriptionSummary.StreamARN)

	// Role: trust, one inline policy naming the stream, one attached managed policy.
	role := must[*iam.CreateRoleOutput](t, "role")(c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("orders-role"),
		Path: aws.String("/service-role/"), AssumeRolePolicyDocument: aws.String(trust)}))
	w.RoleARN = aws.ToString(role.Role.Arn)
	must[*iam.PutRolePolicyOutput](t, "inline policy")(c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("orders-role"),
		PolicyName: aws.String("streams"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:GetRecords","kinesis:GetShardIterator","kinesis:DescribeStream"],"Resource":"` + w.StreamARN + `"}]}`)}))
	pol := must[*iam.CreatePolicyOutput](t, "managed policy")(c.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("orders-logs"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:PutLogEvents","logs:DescribeLogGroups","logs:DescribeLogStreams"],"Resource":"*"}]}`)}))
	w.PolicyARN = aws.ToString(pol.Policy.Arn)
	must[*iam.AttachRolePolicyOutput](t, "attach")(c.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("orders-role"), PolicyArn: pol.Policy.Arn}))

	// Customer managed key allowing both service principals, rotated.
	keyPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + w.Account + `:root"},"Action":"kms:*","Resource":"*"},` +
		`{"Sid":"flink","Effect":"Allow","Principal":{"Service":["kinesisanalytics.amazonaws.com","infrastructure.kinesisanalytics.amazonaws.com"]},"Action":["kms:Decrypt","kms:GenerateDataKey","kms:DescribeKey"],"Resource":"*"}]}`
	key := must[*kms.CreateKeyOutput](t, "key")(c.KMS.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(keyPolicy), Description: aws.String("flink state")}))
	w.KeyARN = aws.ToString(key.KeyMetadata.Arn)
	must[*kms.EnableKeyRotationOutput](t, "rotation")(c.KMS.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: key.KeyMetadata.KeyId}))

	// Log group with retention and KMS, and its stream.
	w.LogGroup = "/aws/kinesis-analytics/orders"
	must[*cloudwatchlogs.CreateLogGroupOutput](t, "log group")(c.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(w.LogGroup), KmsKeyId: aws.String(w.KeyARN)}))
	// A group whose name has ours as a prefix: the exact name must be picked.
	must[*cloudwatchlogs.CreateLogGroupOutput](t, "log group 2")(c.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(w.LogGroup + "-old")}))
	must[*cloudwatchlogs.CreateLogStreamOutput](t, "log stream")(c.Logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(w.LogGroup), LogStreamName: aws.String("kinesis-analytics-log-stream")}))
	must[*cloudwatchlogs.PutRetentionPolicyOutput](t, "retention")(c.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(w.LogGroup), RetentionInDays: aws.Int32(30)}))
	w.LogStreamARN = fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:log-stream:kinesis-analytics-log-stream", w.Region, w.Account, w.LogGroup)

	// Network: a public subnet (own table with 0.0.0.0/0 -> igw), a private
	// one (main table), a group open to the world used by another ENI too.
	vpc := must[*ec2.CreateVpcOutput](t, "vpc")(c.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")}))
	w.VPC = aws.ToString(vpc.Vpc.VpcId)
	pub := must[*ec2.CreateSubnetOutput](t, "subnet")(c.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.1.0/24")}))
	priv := must[*ec2.CreateSubnetOutput](t, "subnet")(c.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.0.2.0/24")}))
	w.PublicSubnet, w.PrivateSubnet = aws.ToString(pub.Subnet.SubnetId), aws.ToString(priv.Subnet.SubnetId)
	igw := must[*ec2.CreateInternetGatewayOutput](t, "igw")(c.EC2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{}))
	w.IGW = aws.ToString(igw.InternetGateway.InternetGatewayId)
	must[*ec2.AttachInternetGatewayOutput](t, "attach igw")(c.EC2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpc.Vpc.VpcId}))
	rt := must[*ec2.CreateRouteTableOutput](t, "route table")(c.EC2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpc.Vpc.VpcId}))
	w.PublicTable = aws.ToString(rt.RouteTable.RouteTableId)
	must[*ec2.CreateRouteOutput](t, "route")(c.EC2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId}))
	must[*ec2.AssociateRouteTableOutput](t, "associate")(c.EC2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: pub.Subnet.SubnetId}))
	sg := must[*ec2.CreateSecurityGroupOutput](t, "sg")(c.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("flink"), Description: aws.String("flink"), VpcId: vpc.Vpc.VpcId}))
	w.SG = aws.ToString(sg.GroupId)
	must[*ec2.AuthorizeSecurityGroupIngressOutput](t, "ingress")(c.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}, Ipv6Ranges: []ec2types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}}}))
	other := must[*ec2.CreateNetworkInterfaceOutput](t, "eni")(c.EC2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: priv.Subnet.SubnetId,
		Groups: []string{w.SG}, Description: aws.String("database proxy for orders")}))
	w.OtherENI = aws.ToString(other.NetworkInterface.NetworkInterfaceId)
	if len(apps) > 0 {
		id, err := env.AddNetworkInterface(w.PublicSubnet, []string{w.SG}, "ENI for Kinesis Analytics application arn:aws:kinesisanalytics:"+env.Region()+":"+env.AccountID()+":application/"+apps[0], "AIDAKINESISANALYTICS:kinesisanalytics")
		if err != nil {
			t.Fatalf("seed service ENI: %v", err)
		}
		w.OwnENI = id
	}

	// Code bucket: all public access blocked, KMS default encryption, no policy.
	w.Bucket = "orders-code"
	must[*s3.CreateBucketOutput](t, "bucket")(c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(w.Bucket)}))
	must[*s3.PutObjectOutput](t, "object")(c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(w.Bucket), Key: aws.String("orders.jar"), Body: strings.NewReader("jar")}))
	must[*s3.PutPublicAccessBlockOutput](t, "pab")(c.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(w.Bucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}))
	must[*s3.PutBucketEncryptionOutput](t, "bucket encryption")(c.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(w.Bucket),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(w.KeyARN)}}}}}))

	// Account: a logging multi-Region trail and a recording recorder.
	must[*s3.CreateBucketOutput](t, "trail bucket")(c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail-logs")}))
	w.TrailName = "main"
	must[*cloudtrail.CreateTrailOutput](t, "trail")(c.CloudTrail.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String(w.TrailName), S3BucketName: aws.String("trail-logs"), IsMultiRegionTrail: aws.Bool(true)}))
	must[*cloudtrail.StartLoggingOutput](t, "trail logging")(c.CloudTrail.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(w.TrailName)}))
	must[*configservice.PutConfigurationRecorderOutput](t, "recorder")(c.Config.PutConfigurationRecorder(ctx, &configservice.PutConfigurationRecorderInput{
		ConfigurationRecorder: &cfgtypes.ConfigurationRecorder{Name: aws.String("default"), RoleARN: aws.String("arn:aws:iam::" + w.Account + ":role/config"),
			RecordingGroup: &cfgtypes.RecordingGroup{AllSupported: true}}}))
	must[*configservice.StartConfigurationRecorderOutput](t, "recorder start")(c.Config.StartConfigurationRecorder(ctx, &configservice.StartConfigurationRecorderInput{ConfigurationRecorderName: aws.String("default")}))

	for _, name := range apps {
		// The recommended alarms, and one on another application.
		for _, m := range []string{"downtime", "numberOfFailedCheckpoints"} {
			must[*cloudwatch.PutMetricAlarmOutput](t, "alarm")(c.CloudWatch.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(name + "-" + m),
				Namespace: aws.String("AWS/KinesisAnalytics"), MetricName: aws.String(m), Dimensions: []cwtypes.Dimension{{Name: aws.String("Application"), Value: aws.String(name)}},
				Statistic: cwtypes.StatisticMaximum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}))
		}
		createApp(t, c, w, name)
	}
	must[*cloudwatch.PutMetricAlarmOutput](t, "alarm")(c.CloudWatch.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("someone-else"),
		Namespace: aws.String("AWS/KinesisAnalytics"), MetricName: aws.String("downtime"), Dimensions: []cwtypes.Dimension{{Name: aws.String("Application"), Value: aws.String("someone-else")}},
		Statistic: cwtypes.StatisticMaximum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}))
	return w
}

func createApp(t *testing.T, c *collect.Clients, w world, name string) {
	t.Helper()
	ctx := context.Background()
	must[*kinesisanalyticsv2.CreateApplicationOutput](t, "application "+name)(c.KDA.CreateApplication(ctx, &kinesisanalyticsv2.CreateApplicationInput{
		ApplicationName: aws.String(name), RuntimeEnvironment: kdatypes.RuntimeEnvironmentFlink120, ServiceExecutionRole: aws.String(w.RoleARN),
		CloudWatchLoggingOptions: []kdatypes.CloudWatchLoggingOption{{LogStreamARN: aws.String(w.LogStreamARN)}},
		Tags:                     []kdatypes.Tag{{Key: aws.String("team"), Value: aws.String("data")}},
		ApplicationConfiguration: &kdatypes.ApplicationConfiguration{
			ApplicationCodeConfiguration: &kdatypes.ApplicationCodeConfiguration{CodeContentType: kdatypes.CodeContentTypeZipfile,
				CodeContent: &kdatypes.CodeContent{S3ContentLocation: &kdatypes.S3ContentLocation{BucketARN: aws.String("arn:aws:s3:::" + w.Bucket),
					FileKey: aws.String("orders.jar"), ObjectVersion: aws.String("v1")}}},
			ApplicationSnapshotConfiguration:       &kdatypes.ApplicationSnapshotConfiguration{SnapshotsEnabled: aws.Bool(true)},
			ApplicationSystemRollbackConfiguration: &kdatypes.ApplicationSystemRollbackConfiguration{RollbackEnabled: aws.Bool(true)},
			ApplicationEncryptionConfiguration:     &kdatypes.ApplicationEncryptionConfiguration{KeyType: kdatypes.KeyTypeCustomerManagedKey, KeyId: aws.String(w.KeyARN)},
			VpcConfigurations:                      []kdatypes.VpcConfiguration{{SubnetIds: []string{w.PublicSubnet, w.PrivateSubnet}, SecurityGroupIds: []string{w.SG}}},
			EnvironmentProperties: &kdatypes.EnvironmentProperties{PropertyGroups: []kdatypes.PropertyGroup{{PropertyGroupId: aws.String("app"),
				PropertyMap: map[string]string{"input.stream.name": "orders"}}}},
		},
	}))
	must[*kinesisanalyticsv2.StartApplicationOutput](t, "start "+name)(c.KDA.StartApplication(ctx, &kinesisanalyticsv2.StartApplicationInput{ApplicationName: aws.String(name)}))
	must[*kinesisanalyticsv2.CreateApplicationSnapshotOutput](t, "snapshot "+name)(c.KDA.CreateApplicationSnapshot(ctx, &kinesisanalyticsv2.CreateApplicationSnapshotInput{
		ApplicationName: aws.String(name), SnapshotName: aws.String(name + "-snap-1")}))
}

func TestFullyRelatedApplication(t *testing.T) {
	env, c := start(t)
	w := seed(t, env, c, "orders")
	env.ResetJournal()
	ctx := context.Background()

	app, err := collect.NewSession(c, collect.Options{}).Application(ctx, "orders", allFacets)
	if err != nil {
		t.Fatal(err)
	}
	if tags, ok := app.Tags.Get(); !ok || tags["team"] != "data" {
		t.Errorf("tags %v (%s)", tags, app.Tags.Reason())
	}

	role, ok := app.Related.Role.Get()
	if !ok {
		t.Fatalf("role unknown: %s", app.Related.Role.Reason())
	}
	if role.Name != "orders-role" || role.ARN != w.RoleARN {
		t.Errorf("role %s %s", role.Name, role.ARN)
	}
	if tr, ok := role.Trust.Get(); !ok || len(tr.Statement) != 1 || tr.Statement[0].Principal == nil || !slices.Equal(tr.Statement[0].Principal.Service, []string{"kinesisanalytics.amazonaws.com"}) ||
		tr.Statement[0].Condition["StringEquals"]["aws:SourceAccount"][0] != "123456789012" {
		t.Errorf("trust policy %+v (%s): want the URL-decoded document", tr, role.Trust.Reason())
	}
	if in, ok := role.Inline.Get(); !ok || len(in) != 1 || in[0].Name != "streams" || !in[0].Document.Known() {
		t.Errorf("inline policies %+v (%s)", in, role.Inline.Reason())
	}
	if at, ok := role.Attached.Get(); !ok || len(at) != 1 || at[0].ARN != w.PolicyARN || !at[0].Document.Known() ||
		!at[0].Document.Value().Statement[0].Allows("logs:PutLogEvents") {
		t.Errorf("attached policies %+v (%s)", at, role.Attached.Reason())
	}
	if users, ok := app.Related.RoleUsers.Get(); !ok || !slices.Equal(users, []string{"orders"}) {
		t.Errorf("role users %v (%s)", users, app.Related.RoleUsers.Reason())
	}

	key, ok := app.Related.Key.Get()
	if !ok || key.ARN != w.KeyARN || key.State != "Enabled" || key.Spec != "SYMMETRIC_DEFAULT" || key.Manager != "CUSTOMER" {
		t.Errorf("key %+v (%s)", key, app.Related.Key.Reason())
	}
	if rot, ok := key.Rotation.Get(); !ok || !rot {
		t.Errorf("rotation %v (%s)", rot, key.Rotation.Reason())
	}
	if pol, ok := key.Policy.Get(); !ok || len(pol.Statement) != 2 {
		t.Errorf("key policy %+v (%s)", pol, key.Policy.Reason())
	}

	lg, ok := app.Related.LogGroups[w.LogGroup].Get()
	if !ok || lg.Name != w.LogGroup || lg.RetentionDays != 30 || lg.KMSKeyID != w.KeyARN {
		t.Errorf("log group %+v (%s)", lg, app.Related.LogGroups[w.LogGroup].Reason())
	}

	pub, ok := app.Related.Subnets[w.PublicSubnet].Get()
	if !ok || pub.VpcID != w.VPC || pub.RouteTableID != w.PublicTable || !slices.Contains(pub.Routes, model.Route{Destination: "0.0.0.0/0", Target: w.IGW}) {
		t.Errorf("public subnet %+v (%s)", pub, app.Related.Subnets[w.PublicSubnet].Reason())
	}
	priv, ok := app.Related.Subnets[w.PrivateSubnet].Get()
	if !ok || priv.RouteTableID == "" || priv.RouteTableID == w.PublicTable || !slices.Equal(priv.Routes, []model.Route{{Destination: "10.0.0.0/16", Target: "local"}}) {
		t.Errorf("private subnet (main table) %+v (%s)", priv, app.Related.Subnets[w.PrivateSubnet].Reason())
	}

	sg, ok := app.Related.SecurityGroups[w.SG].Get()
	if !ok {
		t.Fatalf("security group unknown: %s", app.Related.SecurityGroups[w.SG].Reason())
	}
	var cidrs []string
	for _, r := range sg.Ingress {
		cidrs = append(cidrs, r.CIDR)
		if r.RuleID == "" || r.Protocol != "tcp" || r.FromPort != 443 || r.ToPort != 443 {
			t.Errorf("ingress rule %+v", r)
		}
	}
	slices.Sort(cidrs)
	if !slices.Equal(cidrs, []string{"0.0.0.0/0", "::/0"}) {
		t.Errorf("ingress CIDRs %v, want one rule per CIDR, IPv6 included, no egress", cidrs)
	}
	others, ok := sg.OtherUsers.Get()
	if !ok || len(others) != 1 || !strings.HasPrefix(others[0], w.OtherENI) {
		t.Errorf("other users %v (%s): want only %s, not the application's own ENI %s", others, sg.OtherUsers.Reason(), w.OtherENI, w.OwnENI)
	}

	b, ok := app.Related.Bucket.Get()
	if !ok || b.Name != w.Bucket {
		t.Fatalf("bucket %+v (%s)", b, app.Related.Bucket.Reason())
	}
	if pab, ok := b.PublicAccessBlock.Get(); !ok || !pab.All() {
		t.Errorf("public access block %+v (%s)", pab, b.PublicAccessBlock.Reason())
	}
	if enc, ok := b.Encryption.Get(); !ok || enc != "aws:kms" {
		t.Errorf("bucket encryption %q (%s)", enc, b.Encryption.Reason())
	}
	if pub, ok := b.PolicyPublic.Get(); !ok || pub {
		t.Errorf("no bucket policy must be known not public: %v (%s)", pub, b.PolicyPublic.Reason())
	}

	st, ok := app.Related.Streams[w.StreamARN].Get()
	if !ok || st.EncryptionType != "KMS" || st.KeyID != "alias/aws/kinesis" || st.Name != "orders" {
		t.Errorf("stream %+v (%s) in %v", st, app.Related.Streams[w.StreamARN].Reason(), app.Related.Streams)
	}

	alarms, ok := app.Related.Alarms.Get()
	var metrics []string
	for _, a := range alarms {
		metrics = append(metrics, a.MetricName)
	}
	slices.Sort(metrics)
	if !ok || !slices.Equal(metrics, []string{"downtime", "numberOfFailedCheckpoints"}) {
		t.Errorf("alarms %+v (%s): want this application's two only", alarms, app.Related.Alarms.Reason())
	}
	if snaps, ok := app.Related.Snapshots.Get(); !ok || len(snaps) != 1 || snaps[0].Name != "orders-snap-1" || snaps[0].CreatedAt.IsZero() {
		t.Errorf("snapshots %+v (%s)", snaps, app.Related.Snapshots.Reason())
	}
	trails, ok := app.Related.Trails.Get()
	if !ok || len(trails) != 1 || !trails[0].MultiRegion || !trails[0].Logging.Value() || trails[0].Name != w.TrailName {
		t.Errorf("trails %+v (%s)", trails, app.Related.Trails.Reason())
	}
	recs, ok := app.Related.Recorders.Get()
	if !ok || len(recs) != 1 || !recs[0].Recording || !recs[0].AllSupported {
		t.Errorf("recorders %+v (%s)", recs, app.Related.Recorders.Reason())
	}

	// Streams waits for the role: no DescribeStreamSummary before the last
	// IAM read it depends on has answered.
	var lastIAM, firstStream time.Time
	for _, e := range env.Journal() {
		if e.Service == "iam" && e.Time.Add(e.Duration).After(lastIAM) {
			lastIAM = e.Time.Add(e.Duration)
		}
		if e.Operation == "DescribeStreamSummary" && (firstStream.IsZero() || e.Time.Before(firstStream)) {
			firstStream = e.Time
		}
	}
	if firstStream.Before(lastIAM) {
		t.Errorf("DescribeStreamSummary at %v before the role was read (%v)", firstStream, lastIAM)
	}
	assertReadOnce(t, env.Journal())

	// End to end: with every facet read, no rule is left UNKNOWN.
	sel, err := rules.Select(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sel.Evaluate(app, time.Now()) {
		if f.Status == rules.Unknown {
			t.Errorf("%s UNKNOWN: %s", f.Rule.ID, f.Message)
		}
	}
}

// assertReadOnce fails on any call made twice with the same parameters.
func assertReadOnce(t *testing.T, journal []localaws.Entry) {
	t.Helper()
	seen := map[string]int{}
	for _, e := range journal {
		keys := make([]string, 0, len(e.Params))
		for k, v := range e.Params {
			keys = append(keys, k+"="+v)
		}
		sort.Strings(keys)
		seen[e.Service+":"+e.Operation+"?"+strings.Join(keys, "&")]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("read %d times in one session: %s", n, k)
		}
	}
}

func TestOnlyRequestedFacetsAreRead(t *testing.T) {
	env, c := start(t)
	w := seed(t, env, c, "orders")
	ctx := context.Background()
	env.ResetJournal()

	app, err := collect.NewSession(c, collect.Options{}).Application(ctx, "orders", []model.Facet{model.FacetSubnets})
	if err != nil {
		t.Fatal(err)
	}
	if !app.Related.Subnets[w.PublicSubnet].Known() || !app.Related.Subnets[w.PrivateSubnet].Known() {
		t.Errorf("subnets not read: %v", app.Related.Subnets)
	}
	for _, e := range env.Journal() {
		switch {
		case e.Service == "kinesisanalyticsv2" && (e.Operation == "DescribeApplication" || e.Operation == "ListTagsForResource"):
		case e.Service == "ec2" && (e.Operation == "DescribeSubnets" || e.Operation == "DescribeRouteTables"):
		default:
			t.Errorf("%s:%s read though only subnets were asked for", e.Service, e.Operation)
		}
	}
	if n := env.Count("iam", ""); n != 0 {
		t.Errorf("%d iam calls", n)
	}
	for name, f := range map[string]bool{"role": app.Related.Role.Known(), "key": app.Related.Key.Known(), "bucket": app.Related.Bucket.Known(),
		"alarms": app.Related.Alarms.Known(), "trails": app.Related.Trails.Known()} {
		if f {
			t.Errorf("%s known though not asked for", name)
		}
	}
	if app.Related.Role.Reason() != "not read" || app.Related.SecurityGroups != nil {
		t.Errorf("facets not asked for stay at the zero: role %q, groups %v", app.Related.Role.Reason(), app.Related.SecurityGroups)
	}

	// Streams alone still needs the role to find the streams.
	env.ResetJournal()
	app, err = collect.NewSession(c, collect.Options{}).Application(ctx, "orders", []model.Facet{model.FacetStreams})
	if err != nil {
		t.Fatal(err)
	}
	if !app.Related.Streams[w.StreamARN].Known() {
		t.Errorf("streams %v", app.Related.Streams)
	}
	if env.Count("ec2", "") != 0 || env.Count("kms", "") != 0 || env.Count("iam", "GetRole") != 1 {
		t.Errorf("streams read ec2 %d, kms %d, GetRole %d", env.Count("ec2", ""), env.Count("kms", ""), env.Count("iam", "GetRole"))
	}
}

func TestSweepReadsEachResourceOnce(t *testing.T) {
	env, c := start(t)
	seed(t, env, c, "orders", "payments")
	ctx := context.Background()
	env.ResetJournal()

	s := collect.NewSession(c, collect.Options{Concurrency: 4})
	list, err := s.ListApplications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("listed %d applications", len(list))
	}
	var wg sync.WaitGroup
	apps := make([]*model.Application, len(list))
	errs := make([]error, len(list))
	for i, sum := range list {
		wg.Add(1)
		go func() { // concurrently: in-flight reads are shared too
			defer wg.Done()
			apps[i], errs[i] = s.Application(ctx, aws.ToString(sum.ApplicationName), allFacets)
		}()
	}
	wg.Wait()
	for i, a := range apps {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if users, ok := a.Related.RoleUsers.Get(); !ok || !slices.Equal(users, []string{"orders", "payments"}) {
			t.Errorf("%s role users %v (%s)", a.Name, users, a.Related.RoleUsers.Reason())
		}
		if !a.Related.Role.Known() || !a.Related.Key.Known() || !a.Related.Bucket.Known() {
			t.Errorf("%s: role %s, key %s, bucket %s", a.Name, a.Related.Role.Reason(), a.Related.Key.Reason(), a.Related.Bucket.Reason())
		}
	}
	for _, c := range []struct {
		service, op string
		want        int
	}{
		{"kinesisanalyticsv2", "ListApplications", 1},
		{"kinesisanalyticsv2", "DescribeApplication", 2}, // each once, though RoleUsers describes the other too
		{"iam", "GetRole", 1}, {"iam", "ListRolePolicies", 1}, {"iam", "GetRolePolicy", 1},
		{"iam", "ListAttachedRolePolicies", 1}, {"iam", "GetPolicy", 1}, {"iam", "GetPolicyVersion", 1},
		{"kms", "DescribeKey", 1}, {"kms", "GetKeyRotationStatus", 1}, {"kms", "GetKeyPolicy", 1},
		{"cloudwatchlogs", "DescribeLogGroups", 1}, {"ec2", "DescribeSubnets", 2},
		{"ec2", "DescribeSecurityGroupRules", 1}, {"ec2", "DescribeNetworkInterfaces", 1},
		{"s3", "GetPublicAccessBlock", 1}, {"s3", "GetBucketEncryption", 1}, {"s3", "GetBucketPolicyStatus", 1},
		{"kinesis", "DescribeStreamSummary", 1}, {"cloudwatch", "DescribeAlarms", 1},
		{"cloudtrail", "DescribeTrails", 1}, {"cloudtrail", "GetTrailStatus", 1},
		{"configservice", "DescribeConfigurationRecorders", 1}, {"configservice", "DescribeConfigurationRecorderStatus", 1},
		{"kinesisanalyticsv2", "ListApplicationSnapshots", 2},
	} {
		if n := env.Count(c.service, c.op); n != c.want {
			t.Errorf("%s:%s called %d times, want %d", c.service, c.op, n, c.want)
		}
	}
	assertReadOnce(t, env.Journal())
}

func TestAccessDeniedNamesThePermission(t *testing.T) {
	env, c := start(t)
	w := seed(t, env, c, "orders")
	env.SetFaults(localaws.Fault{Service: "iam", Operation: "GetRole", ErrorCode: "AccessDenied",
		ErrorMessage: "User: arn:aws:sts::123456789012:assumed-role/kdaguard/x is not authorized to perform: iam:GetRole"})
	app, err := collect.NewSession(c, collect.Options{}).Application(context.Background(), "orders",
		[]model.Facet{model.FacetRole, model.FacetSnapshots})
	if err != nil {
		t.Fatalf("a denied related read must not fail the application: %v", err)
	}
	if app.Related.Role.Known() {
		t.Fatal("role known though GetRole was denied")
	}
	want := "access denied: needs iam:GetRole on " + w.RoleARN
	if r := app.Related.Role.Reason(); r != want {
		t.Errorf("reason %q, want %q", r, want)
	}
	if !app.Related.Snapshots.Known() {
		t.Errorf("other facets are still read: snapshots %s", app.Related.Snapshots.Reason())
	}
	if n := env.Count("iam", "GetRole"); n != 1 {
		t.Errorf("AccessDenied is not retried: %d GetRole calls", n)
	}
	res := rules.All()
	for _, r := range res {
		if r.ID == "KDA.IAM.1" {
			sel, _ := rules.Select([]*rules.Rule{r}, nil)
			f := sel.Evaluate(app, time.Now())[0]
			if f.Status != rules.Unknown || !strings.Contains(f.Message, "iam:GetRole") {
				t.Errorf("KDA.IAM.1 %s: %s", f.Status, f.Message)
			}
		}
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	// More attempts keep the test sure; the retry mode is Config's own
	// (adaptive).
	env, c := start(t, config.WithRetryMaxAttempts(10))
	seed(t, env, c, "orders")
	env.ResetJournal()
	// One IAM call per 50 ms with no burst beyond one: GetRole,
	// ListRolePolicies and ListAttachedRolePolicies start together, so at
	// least two are throttled and must be retried.
	env.SetFaults(localaws.Fault{Service: "iam", RateLimit: 20, Burst: 1})
	app, err := collect.NewSession(c, collect.Options{}).Application(context.Background(), "orders", []model.Facet{model.FacetRole})
	if err != nil {
		t.Fatal(err)
	}
	role, ok := app.Related.Role.Get()
	if !ok || !role.Trust.Known() || !role.Inline.Known() || !role.Attached.Known() {
		t.Fatalf("role after throttling: %+v (%s)", role, app.Related.Role.Reason())
	}
	if n := env.CountErrors("iam", "", "Throttling"); n == 0 {
		t.Error("no IAM call was throttled: the test proves nothing")
	}
	if !app.Tags.Known() {
		t.Errorf("tags: %s", app.Tags.Reason())
	}
}

func TestConfigUsesAdaptiveRetries(t *testing.T) {
	env := localawstest.Start(t)
	env.SetEnv(t)
	cfg, err := collect.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RetryMode != aws.RetryModeAdaptive || cfg.RetryMaxAttempts != collect.DefaultMaxAttempts {
		t.Errorf("retry mode %q, attempts %d", cfg.RetryMode, cfg.RetryMaxAttempts)
	}
	// The endpoint comes from AWS_ENDPOINT_URL through the SDK, and from
	// nowhere else.
	if aws.ToString(cfg.BaseEndpoint) != env.URL {
		t.Errorf("BaseEndpoint %q, want the SDK to take %q from AWS_ENDPOINT_URL", aws.ToString(cfg.BaseEndpoint), env.URL)
	}
	t.Setenv("AWS_ENDPOINT_URL", "")
	cfg, err = collect.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseEndpoint != nil {
		t.Errorf("BaseEndpoint %q set without AWS_ENDPOINT_URL", *cfg.BaseEndpoint)
	}
	if cfg.Region != env.Region() {
		t.Errorf("Region %q", cfg.Region)
	}
}

func TestMissingApplication(t *testing.T) {
	_, c := start(t)
	_, err := collect.NewSession(c, collect.Options{}).Application(context.Background(), "nope", allFacets)
	if !errors.Is(err, collect.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	var nf *kdatypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("ErrNotFound must wrap the SDK's ResourceNotFoundException: %v", err)
	}
}

func TestConcurrencyIsBounded(t *testing.T) {
	env, c := start(t)
	seed(t, env, c, "orders", "payments")
	env.ResetJournal()
	env.SetFaults(localaws.Fault{Latency: 30 * time.Millisecond})
	const bound = 3
	s := collect.NewSession(c, collect.Options{Concurrency: bound})
	var wg sync.WaitGroup
	for _, name := range []string{"orders", "payments"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Application(context.Background(), name, allFacets); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	type ev struct {
		at    time.Time
		delta int
	}
	var evs []ev
	for _, e := range env.Journal() {
		evs = append(evs, ev{e.Time, 1}, ev{e.Time.Add(e.Duration), -1})
	}
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].at.Equal(evs[j].at) {
			return evs[i].delta < evs[j].delta // an end before a start at the same instant
		}
		return evs[i].at.Before(evs[j].at)
	})
	cur, peak := 0, 0
	for _, e := range evs {
		cur += e.delta
		peak = max(peak, cur)
	}
	if peak > bound {
		t.Errorf("%d reads in flight at once, bound %d", peak, bound)
	}
	if peak < 2 {
		t.Errorf("peak %d: independent reads should run concurrently", peak)
	}
	t.Logf("%d calls, peak %d in flight (bound %d)", len(env.Journal()), peak, bound)
}

func TestBareResources(t *testing.T) {
	env, c := start(t)
	ctx := context.Background()
	role := must[*iam.CreateRoleOutput](t, "role")(c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bare"), AssumeRolePolicyDocument: aws.String(trust)}))
	must[*s3.CreateBucketOutput](t, "bucket")(c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bare-code")}))
	// New buckets block public access by default: remove it to get
	// NoSuchPublicAccessBlockConfiguration.
	must[*s3.DeletePublicAccessBlockOutput](t, "delete pab")(c.S3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String("bare-code")}))
	stream := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/missing/group:log-stream:s", env.Region(), env.AccountID())
	must[*kinesisanalyticsv2.CreateApplicationOutput](t, "application")(c.KDA.CreateApplication(ctx, &kinesisanalyticsv2.CreateApplicationInput{
		ApplicationName: aws.String("bare"), RuntimeEnvironment: kdatypes.RuntimeEnvironmentFlink120, ServiceExecutionRole: role.Role.Arn,
		CloudWatchLoggingOptions: []kdatypes.CloudWatchLoggingOption{{LogStreamARN: aws.String(stream)}},
		ApplicationConfiguration: &kdatypes.ApplicationConfiguration{
			ApplicationCodeConfiguration: &kdatypes.ApplicationCodeConfiguration{CodeContentType: kdatypes.CodeContentTypeZipfile,
				CodeContent: &kdatypes.CodeContent{S3ContentLocation: &kdatypes.S3ContentLocation{BucketARN: aws.String("arn:aws:s3:::bare-code"), FileKey: aws.String("a.jar")}}}},
	}))
	app, err := collect.NewSession(c, collect.Options{}).Application(ctx, "bare", allFacets)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := app.Related.Bucket.Get()
	if !ok {
		t.Fatalf("bucket: %s", app.Related.Bucket.Reason())
	}
	if pab, ok := b.PublicAccessBlock.Get(); !ok || pab != (model.PublicAccessBlock{}) {
		t.Errorf("no public access block must be known and all off: %+v (%s)", pab, b.PublicAccessBlock.Reason())
	}
	if pub, ok := b.PolicyPublic.Get(); !ok || pub {
		t.Errorf("no bucket policy: %v (%s)", pub, b.PolicyPublic.Reason())
	}
	if !b.Encryption.Known() {
		t.Errorf("encryption: %s", b.Encryption.Reason())
	}
	if f := app.Related.LogGroups["/missing/group"]; f.Known() || f.Reason() != "log group does not exist" {
		t.Errorf("missing log group: %+v %q", f.Value(), f.Reason())
	}
	if in, ok := app.Related.Role.Value().Inline.Get(); !ok || len(in) != 0 {
		t.Errorf("no inline policy is known and empty: %v (%s)", in, app.Related.Role.Value().Inline.Reason())
	}
	if s, ok := app.Related.Streams, app.Related.Streams != nil; !ok || len(s) != 0 {
		t.Errorf("streams %v", s)
	}
	if vpcs := app.VPCs.Value(); len(vpcs) != 0 || len(app.Related.Subnets) != 0 || len(app.Related.SecurityGroups) != 0 {
		t.Errorf("no VPC: subnets %v, groups %v", app.Related.Subnets, app.Related.SecurityGroups)
	}
	if k := app.Related.Key; k.Known() || !strings.Contains(k.Reason(), "customer managed key") {
		t.Errorf("key of an AWS owned key: %q", k.Reason())
	}
	if tr, ok := app.Related.Trails.Get(); !ok || len(tr) != 0 {
		t.Errorf("no trail is known and empty: %v (%s)", tr, app.Related.Trails.Reason())
	}
	if rs, ok := app.Related.Recorders.Get(); !ok || len(rs) != 0 {
		t.Errorf("no recorder is known and empty: %v (%s)", rs, app.Related.Recorders.Reason())
	}
}

func TestListApplicationsAllPages(t *testing.T) {
	env, c := start(t)
	ctx := context.Background()
	const n = 53 // the service pages by 50
	for i := range n {
		must[*kinesisanalyticsv2.CreateApplicationOutput](t, "application")(c.KDA.CreateApplication(ctx, &kinesisanalyticsv2.CreateApplicationInput{
			ApplicationName: aws.String(fmt.Sprintf("app-%02d", i)), RuntimeEnvironment: kdatypes.RuntimeEnvironmentFlink120,
			ServiceExecutionRole: aws.String("arn:aws:iam::123456789012:role/r")}))
	}
	env.ResetJournal()
	s := collect.NewSession(c, collect.Options{})
	for range 2 {
		list, err := s.ListApplications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != n {
			t.Fatalf("listed %d, want %d", len(list), n)
		}
	}
	if got := env.Count("kinesisanalyticsv2", "ListApplications"); got != 2 {
		t.Errorf("%d ListApplications calls, want 2 pages once per session", got)
	}
}

// A failure in one part of a facet leaves the rest known; the "not
// configured" answers are known values.
func TestPartialFailures(t *testing.T) {
	env, c := start(t)
	w := seed(t, env, c, "orders")
	env.SetFaults(
		localaws.Fault{Service: "s3", Operation: "GetBucketEncryption", ErrorCode: "ServerSideEncryptionConfigurationNotFoundError", ErrorStatus: 404},
		localaws.Fault{Service: "s3", Operation: "GetBucketPolicyStatus", ErrorCode: "AccessDenied"},
		localaws.Fault{Service: "ec2", Operation: "DescribeNetworkInterfaces", ErrorCode: "UnauthorizedOperation"},
		localaws.Fault{Service: "kms", Operation: "GetKeyPolicy", ErrorCode: "AccessDeniedException"},
		localaws.Fault{Service: "iam", Operation: "GetPolicyVersion", ErrorCode: "AccessDenied"},
		localaws.Fault{Service: "cloudwatch", Operation: "DescribeAlarms", ServerErrorRate: 1},
	)
	app, err := collect.NewSession(c, collect.Options{}).Application(context.Background(), "orders", allFacets)
	if err != nil {
		t.Fatal(err)
	}
	b := app.Related.Bucket.Value()
	if enc, ok := b.Encryption.Get(); !ok || enc != "" {
		t.Errorf("no encryption configuration is known and empty: %q (%s)", enc, b.Encryption.Reason())
	}
	if r := b.PolicyPublic.Reason(); r != "access denied: needs s3:GetBucketPolicyStatus on arn:aws:s3:::"+w.Bucket {
		t.Errorf("policy status reason %q", r)
	}
	if !b.PublicAccessBlock.Known() {
		t.Errorf("public access block: %s", b.PublicAccessBlock.Reason())
	}
	sg := app.Related.SecurityGroups[w.SG].Value()
	if len(sg.Ingress) != 2 || sg.OtherUsers.Known() || !strings.Contains(sg.OtherUsers.Reason(), "ec2:DescribeNetworkInterfaces on "+w.SG) {
		t.Errorf("group %+v, other users %q", sg.Ingress, sg.OtherUsers.Reason())
	}
	key := app.Related.Key.Value()
	if !key.Rotation.Known() || key.Policy.Known() || !strings.HasPrefix(key.Policy.Reason(), "access denied: needs kms:GetKeyPolicy on "+w.KeyARN) {
		t.Errorf("key rotation %s, policy %q", key.Rotation.Reason(), key.Policy.Reason())
	}
	at := app.Related.Role.Value().Attached.Value()
	if len(at) != 1 || at[0].Document.Reason() != "access denied: needs iam:GetPolicyVersion on "+w.PolicyARN {
		t.Errorf("attached %+v", at)
	}
	if r := app.Related.Alarms.Reason(); !strings.HasPrefix(r, "cloudwatch:DescribeAlarms failed: InternalFailure") {
		t.Errorf("alarms after retries of a 500: %q", r)
	}
	if n := env.Count("cloudwatch", "DescribeAlarms"); n != collect.DefaultMaxAttempts {
		t.Errorf("a 500 is retried: %d attempts, want %d", n, collect.DefaultMaxAttempts)
	}
}
