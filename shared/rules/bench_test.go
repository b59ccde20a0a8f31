package rules_test

import (
	"os"
	"testing"
	"time"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
	"github.com/kdaguard/kdaguard/shared/source/describe"
)

const fullFixture = "../source/describe/testdata/flink-full.json"

func mustPolicy(tb testing.TB, doc string) model.Fact[model.PolicyDocument] {
	tb.Helper()
	p, err := model.ParsePolicy(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return model.Known(p)
}

// fullApplication is the committed DescribeApplication fixture with every
// related fact read, as the collector would leave it for the whole catalog.
func fullApplication(tb testing.TB) *model.Application {
	tb.Helper()
	data, err := os.ReadFile(fullFixture)
	if err != nil {
		tb.Fatal(err)
	}
	a, err := describe.ParseJSON(data)
	if err != nil {
		tb.Fatal(err)
	}
	a.Tags = model.Known(map[string]string{"team": "orders", "env": "prod"})
	r := &a.Related
	r.Role = model.Known(model.Role{
		ARN: "arn:aws:iam::123456789012:role/service-role/kinesis-analytics-orders-enrichment-eu-west-1", Name: "kinesis-analytics-orders-enrichment-eu-west-1",
		Trust: mustPolicy(tb, `%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22kinesisanalytics.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%2C%22Condition%22%3A%7B%22StringEquals%22%3A%7B%22aws%3ASourceAccount%22%3A%22123456789012%22%7D%7D%7D%5D%7D`),
		Inline: model.Known([]model.NamedPolicy{{Name: "orders-enrichment-access", Document: mustPolicy(tb, `{"Version":"2012-10-17","Statement":[
			{"Sid":"ReadCode","Effect":"Allow","Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::acme-flink-artifacts-eu-west-1/orders-enrichment/*"},
			{"Sid":"Logs","Effect":"Allow","Action":["logs:PutLogEvents","logs:DescribeLogGroups","logs:DescribeLogStreams"],"Resource":"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesis-analytics/orders-enrichment:*"},
			{"Sid":"ReadOrders","Effect":"Allow","Action":["kinesis:DescribeStream","kinesis:GetShardIterator","kinesis:GetRecords","kinesis:ListShards"],"Resource":"arn:aws:kinesis:eu-west-1:123456789012:stream/orders-raw"},
			{"Sid":"WriteEnriched","Effect":"Allow","Action":["kinesis:PutRecord","kinesis:PutRecords"],"Resource":"arn:aws:kinesis:eu-west-1:123456789012:stream/orders-enriched"},
			{"Sid":"Secret","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/orders/db-AbCdEf"},
			{"Sid":"Vpc","Effect":"Allow","Action":["ec2:DescribeVpcs","ec2:DescribeSubnets","ec2:DescribeSecurityGroups","ec2:DescribeDhcpOptions","ec2:CreateNetworkInterface","ec2:CreateNetworkInterfacePermission","ec2:DescribeNetworkInterfaces","ec2:DeleteNetworkInterface"],"Resource":"*"}]}`)}}),
		Attached: model.Known([]model.NamedPolicy{{Name: "orders-kms-use", ARN: "arn:aws:iam::123456789012:policy/orders-kms-use",
			Document: mustPolicy(tb, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"arn:aws:kms:eu-west-1:123456789012:key/5c1f2e3d-8a9b-4c7d-9e0f-1a2b3c4d5e6f"}}`)}}),
	})
	r.RoleUsers = model.Known([]string{"orders-enrichment"})
	r.Key = model.Known(model.Key{ID: "5c1f2e3d-8a9b-4c7d-9e0f-1a2b3c4d5e6f", ARN: "arn:aws:kms:eu-west-1:123456789012:key/5c1f2e3d-8a9b-4c7d-9e0f-1a2b3c4d5e6f",
		State: "Enabled", Spec: "SYMMETRIC_DEFAULT", Manager: "CUSTOMER", Rotation: model.Known(true),
		Policy: mustPolicy(tb, `{"Version":"2012-10-17","Id":"key-default-1","Statement":[
			{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},
			{"Sid":"Allow Managed Flink","Effect":"Allow","Principal":{"Service":["kinesisanalytics.amazonaws.com","infrastructure.kinesisanalytics.amazonaws.com"]},"Action":["kms:Decrypt","kms:GenerateDataKey","kms:DescribeKey","kms:CreateGrant"],"Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}`)})
	r.LogGroups = map[string]model.Fact[model.LogGroup]{"/aws/kinesis-analytics/orders-enrichment": model.Known(model.LogGroup{
		Name: "/aws/kinesis-analytics/orders-enrichment", RetentionDays: 90, KMSKeyID: "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"})}
	r.Subnets = map[string]model.Fact[model.Subnet]{
		"subnet-0123456789abcdef0": model.Known(model.Subnet{ID: "subnet-0123456789abcdef0", VpcID: "vpc-0a1b2c3d4e5f60718", RouteTableID: "rtb-0aa11bb22cc33dd44",
			Routes: []model.Route{{Destination: "10.20.0.0/16", Target: "local"}, {Destination: "0.0.0.0/0", Target: "nat-0f1e2d3c4b5a69788"}}}),
		"subnet-0fedcba9876543210": model.Known(model.Subnet{ID: "subnet-0fedcba9876543210", VpcID: "vpc-0a1b2c3d4e5f60718", RouteTableID: "rtb-0aa11bb22cc33dd44",
			Routes: []model.Route{{Destination: "10.20.0.0/16", Target: "local"}, {Destination: "0.0.0.0/0", Target: "nat-0f1e2d3c4b5a69788"}}}),
	}
	r.SecurityGroups = map[string]model.Fact[model.SecurityGroup]{"sg-0a9b8c7d6e5f40312": model.Known(model.SecurityGroup{ID: "sg-0a9b8c7d6e5f40312",
		Ingress: []model.IngressRule{{RuleID: "sgr-0123abcd4567ef890", Protocol: "tcp", FromPort: 443, ToPort: 443, CIDR: "10.20.0.0/16"}}, OtherUsers: model.Known([]string{})})}
	r.Bucket = model.Known(model.Bucket{Name: "acme-flink-artifacts-eu-west-1",
		PublicAccessBlock: model.Known(model.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}),
		Encryption:        model.Known("aws:kms"), PolicyPublic: model.Known(false)})
	r.Streams = map[string]model.Fact[model.Stream]{
		"arn:aws:kinesis:eu-west-1:123456789012:stream/orders-raw":      model.Known(model.Stream{ARN: "arn:aws:kinesis:eu-west-1:123456789012:stream/orders-raw", Name: "orders-raw", EncryptionType: "KMS", KeyID: "alias/aws/kinesis"}),
		"arn:aws:kinesis:eu-west-1:123456789012:stream/orders-enriched": model.Known(model.Stream{ARN: "arn:aws:kinesis:eu-west-1:123456789012:stream/orders-enriched", Name: "orders-enriched", EncryptionType: "KMS", KeyID: "alias/aws/kinesis"}),
	}
	r.Alarms = model.Known([]model.Alarm{
		{Name: "orders-enrichment-downtime", Namespace: rules.MetricsNamespace, MetricName: "downtime", Dimensions: map[string]string{"Application": "orders-enrichment"}},
		{Name: "orders-enrichment-failed-checkpoints", Namespace: rules.MetricsNamespace, MetricName: "numberOfFailedCheckpoints", Dimensions: map[string]string{"Application": "orders-enrichment"}},
	})
	r.Snapshots = model.Known([]model.Snapshot{{Name: "nightly-20261126", Status: "READY", CreatedAt: time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)}})
	r.Trails = model.Known([]model.Trail{{Name: "org-trail", MultiRegion: true, Logging: model.Known(true)}})
	r.Recorders = model.Known([]model.Recorder{{Name: "default", Recording: true, AllSupported: true}})
	return a
}

var benchNow = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

// TestFullFixtureIsCompliant keeps the benchmark honest: the populated
// application passes every rule, so the benchmark measures real checks, not
// early exits on unknown facts.
func TestFullFixtureIsCompliant(t *testing.T) {
	sel, err := rules.Select(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sel.Evaluate(fullApplication(t), benchNow) {
		if f.Status != rules.Compliant {
			t.Errorf("%s: %s %s", f.Rule.ID, f.Status, f.Message)
		}
	}
}

// BenchmarkCatalog and BenchmarkDecodeDescribeJSON run side by side: the
// whole catalog should cost at most half of decoding the application.
func BenchmarkCatalog(b *testing.B) {
	sel, err := rules.Select(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	app := fullApplication(b)
	b.ReportAllocs()
	for b.Loop() {
		sel.Evaluate(app, benchNow)
	}
}

func BenchmarkDecodeDescribeJSON(b *testing.B) {
	data, err := os.ReadFile(fullFixture)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := describe.ParseJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}
