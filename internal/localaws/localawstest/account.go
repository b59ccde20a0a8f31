package localawstest

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// SeedAccount fills the emulator, through the SDK, with n applications named
// app-000, app-001, ... that have every related resource a rule reads: each
// its own execution role with an inline policy, customer managed KMS key,
// log group and stream, input stream; all of them in one VPC (two subnets,
// one security group) with their code in one bucket, and a CloudTrail
// trail. It is the account the sizing benchmarks run over, so that every
// rule's reads happen. It returns the application names.
func (e *Env) SeedAccount(ctx context.Context, n int) ([]string, error) {
	cfg := e.AWSConfig(ctx)
	iamc, kmsc, logs := iam.NewFromConfig(cfg), kms.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
	kin, kda, ec2c := kinesis.NewFromConfig(cfg), kinesisanalyticsv2.NewFromConfig(cfg), ec2.NewFromConfig(cfg)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	acct, region := e.AccountID(), e.Region()

	const bucket = "acme-flink-artifacts"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return nil, fmt.Errorf("seed account: bucket: %w", err)
	}
	if _, err := cloudtrail.NewFromConfig(cfg).CreateTrail(ctx, &cloudtrail.CreateTrailInput{
		Name: aws.String("org-trail"), S3BucketName: aws.String(bucket), IsMultiRegionTrail: aws.Bool(true)}); err != nil {
		return nil, fmt.Errorf("seed account: trail: %w", err)
	}
	vpc, err := ec2c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.20.0.0/16")})
	if err != nil {
		return nil, fmt.Errorf("seed account: vpc: %w", err)
	}
	var subnets []string
	for i, cidr := range []string{"10.20.1.0/24", "10.20.2.0/24"} {
		sn, err := ec2c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String(cidr),
			AvailabilityZone: aws.String(fmt.Sprintf("%s%c", region, 'a'+i))})
		if err != nil {
			return nil, fmt.Errorf("seed account: subnet: %w", err)
		}
		subnets = append(subnets, aws.ToString(sn.Subnet.SubnetId))
	}
	sg, err := ec2c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{VpcId: vpc.Vpc.VpcId,
		GroupName: aws.String("flink-apps"), Description: aws.String("Flink applications")})
	if err != nil {
		return nil, fmt.Errorf("seed account: security group: %w", err)
	}
	if _, err := ec2c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("10.20.0.0/16")}}}}}); err != nil {
		return nil, fmt.Errorf("seed account: ingress: %w", err)
	}

	names := make([]string, 0, n)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("app-%03d", i)
		if err := e.seedApplication(ctx, name, acct, region, bucket, subnets, aws.ToString(sg.GroupId),
			iamc, kmsc, logs, kin, kda, s3c); err != nil {
			return nil, fmt.Errorf("seed account: %s: %w", name, err)
		}
		names = append(names, name)
	}
	return names, nil
}

func (e *Env) seedApplication(ctx context.Context, name, acct, region, bucket string, subnets []string, sg string,
	iamc *iam.Client, kmsc *kms.Client, logs *cloudwatchlogs.Client, kin *kinesis.Client, kda *kinesisanalyticsv2.Client, s3c *s3.Client) error {
	role, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name + "-role"), Path: aws.String("/service-role/"),
		AssumeRolePolicyDocument: aws.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
			`"Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":`+
			`{"aws:SourceAccount":"%s"},"ArnEquals":{"aws:SourceArn":"arn:aws:kinesisanalytics:%s:%s:application/%s"}}}]}`,
			acct, region, acct, name))})
	if err != nil {
		return err
	}
	stream := name + "-in"
	if _, err := iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name + "-role"), PolicyName: aws.String("access"),
		PolicyDocument: aws.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[`+
			`{"Effect":"Allow","Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::%s/%s/*"},`+
			`{"Effect":"Allow","Action":["logs:PutLogEvents","logs:DescribeLogGroups","logs:DescribeLogStreams"],"Resource":"arn:aws:logs:%s:%s:log-group:/aws/kinesis-analytics/%s:*"},`+
			`{"Effect":"Allow","Action":["kinesis:GetRecords","kinesis:GetShardIterator","kinesis:DescribeStream","kinesis:ListShards"],"Resource":"arn:aws:kinesis:%s:%s:stream/%s"}]}`,
			bucket, name, region, acct, name, region, acct, stream))}); err != nil {
		return err
	}
	key, err := kmsc.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String(name + " state"), Policy: aws.String(fmt.Sprintf(
		`{"Version":"2012-10-17","Statement":[{"Sid":"root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"kms:*","Resource":"*"},`+
			`{"Sid":"flink","Effect":"Allow","Principal":{"Service":["kinesisanalytics.amazonaws.com","infrastructure.kinesisanalytics.amazonaws.com"]},`+
			`"Action":["kms:Decrypt","kms:GenerateDataKey*","kms:DescribeKey","kms:CreateGrant"],"Resource":"*"},`+
			`{"Sid":"logs","Effect":"Allow","Principal":{"Service":"logs.%s.amazonaws.com"},"Action":["kms:Encrypt*","kms:Decrypt*","kms:ReEncrypt*","kms:GenerateDataKey*","kms:Describe*"],"Resource":"*"}]}`,
		acct, region))})
	if err != nil {
		return err
	}
	keyARN := key.KeyMetadata.Arn
	if _, err := kmsc.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: keyARN}); err != nil {
		return err
	}
	group := "/aws/kinesis-analytics/" + name
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group), KmsKeyId: keyARN}); err != nil {
		return err
	}
	if _, err := logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(group), RetentionInDays: aws.Int32(365)}); err != nil {
		return err
	}
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("kinesis-analytics-log-stream")}); err != nil {
		return err
	}
	if _, err := kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(2)}); err != nil {
		return err
	}
	jar := name + "/" + name + "-1.0.0.jar"
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(jar)}); err != nil {
		return err
	}
	_, err = kda.CreateApplication(ctx, &kinesisanalyticsv2.CreateApplicationInput{
		ApplicationName: aws.String(name), RuntimeEnvironment: kt.RuntimeEnvironmentFlink120, ServiceExecutionRole: role.Role.Arn,
		CloudWatchLoggingOptions: []kt.CloudWatchLoggingOption{{LogStreamARN: aws.String(fmt.Sprintf(
			"arn:aws:logs:%s:%s:log-group:%s:log-stream:kinesis-analytics-log-stream", region, acct, group))}},
		Tags: []kt.Tag{{Key: aws.String("team"), Value: aws.String("streaming")}, {Key: aws.String("env"), Value: aws.String("prod")}},
		ApplicationConfiguration: &kt.ApplicationConfiguration{
			ApplicationCodeConfiguration: &kt.ApplicationCodeConfiguration{CodeContentType: kt.CodeContentTypeZipfile,
				CodeContent: &kt.CodeContent{S3ContentLocation: &kt.S3ContentLocation{BucketARN: aws.String("arn:aws:s3:::" + bucket), FileKey: aws.String(jar)}}},
			ApplicationEncryptionConfiguration:     &kt.ApplicationEncryptionConfiguration{KeyType: kt.KeyTypeCustomerManagedKey, KeyId: keyARN},
			ApplicationSnapshotConfiguration:       &kt.ApplicationSnapshotConfiguration{SnapshotsEnabled: aws.Bool(true)},
			ApplicationSystemRollbackConfiguration: &kt.ApplicationSystemRollbackConfiguration{RollbackEnabled: aws.Bool(true)},
			EnvironmentProperties: &kt.EnvironmentProperties{PropertyGroups: []kt.PropertyGroup{{PropertyGroupId: aws.String("FlinkApplicationProperties"),
				PropertyMap: map[string]string{"input.stream.name": stream, "aws.region": region}}}},
			VpcConfigurations: []kt.VpcConfiguration{{SubnetIds: subnets, SecurityGroupIds: []string{sg}}},
		}})
	return err
}
