package rules_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

// Fixture identity: one Flink application in eu-west-1, shaped as
// DescribeApplication and the related Describe*/Get* calls return it.
const (
	acct      = "123456789012"
	region    = "eu-west-1"
	appName   = "orders-enricher"
	appARN    = "arn:aws:kinesisanalytics:eu-west-1:123456789012:application/orders-enricher"
	roleName  = "kinesis-analytics-orders-enricher-eu-west-1"
	roleARN   = "arn:aws:iam::123456789012:role/service-role/kinesis-analytics-orders-enricher-eu-west-1"
	keyID     = "1234abcd-12ab-34cd-56ef-1234567890ab"
	keyARN    = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	logGroup  = "/aws/kinesis-analytics/orders-enricher"
	logStream = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesis-analytics/orders-enricher:log-stream:kinesis-analytics-log-stream"
	bucket    = "orders-enricher-code-123456789012"
	codeKey   = "jars/orders-enricher-1.4.2.jar"
	codeVer   = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
	inStream  = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
	outStream = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders-enriched"
	vpcID     = "vpc-0f1e2d3c4b5a69788"
	subnetA   = "subnet-0a1b2c3d4e5f60718"
	subnetB   = "subnet-0b2c3d4e5f6071829"
	sgID      = "sg-0123456789abcdef0"
	natID     = "nat-0a9b8c7d6e5f40312"
	igwID     = "igw-0c1d2e3f4a5b6c7d8"
)

// now is the fixed clock of every test.
var now = time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)

// trustGuarded is the execution role's trust policy as IAM's GetRole returns
// it: URL-encoded (RFC 3986).
const trustGuarded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C" +
	"%22Principal%22%3A%7B%22Service%22%3A%22kinesisanalytics.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%2C" +
	"%22Condition%22%3A%7B%22StringEquals%22%3A%7B%22aws%3ASourceAccount%22%3A%22123456789012%22%7D%2C" +
	"%22ArnEquals%22%3A%7B%22aws%3ASourceArn%22%3A%22arn%3Aaws%3Akinesisanalytics%3Aeu-west-1%3A123456789012%3Aapplication%2Forders-enricher%22%7D%7D%7D%5D%7D"

// trustUnguarded is the trust policy the console creates.
const trustUnguarded = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"Service": "kinesisanalytics.amazonaws.com"},
      "Action": "sts:AssumeRole"
    }
  ]
}`

// inlinePolicy is the role's inline policy: read one stream, write another,
// read the code, write the logs.
const inlinePolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadInput",
      "Effect": "Allow",
      "Action": ["kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"],
      "Resource": "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
    },
    {
      "Sid": "WriteOutput",
      "Effect": "Allow",
      "Action": ["kinesis:DescribeStream", "kinesis:PutRecord", "kinesis:PutRecords"],
      "Resource": "arn:aws:kinesis:eu-west-1:123456789012:stream/orders-enriched"
    },
    {
      "Sid": "ReadCode",
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:GetObjectVersion"],
      "Resource": "arn:aws:s3:::orders-enricher-code-123456789012/jars/*"
    },
    {
      "Sid": "Logs",
      "Effect": "Allow",
      "Action": ["logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents"],
      "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesis-analytics/orders-enricher:*"
    }
  ]
}`

// vpcPolicy is the customer managed policy a VPC-attached application needs.
const vpcPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "VPCReadOnlyPermissions",
      "Effect": "Allow",
      "Action": ["ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeDhcpOptions"],
      "Resource": "*"
    },
    {
      "Sid": "ENIReadWritePermissions",
      "Effect": "Allow",
      "Action": ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"],
      "Resource": "*"
    }
  ]
}`

// keyPolicy allows the account root and both service principals.
const keyPolicy = `{
  "Version": "2012-10-17",
  "Id": "key-policy-flink-state",
  "Statement": [
    {
      "Sid": "Enable IAM User Permissions",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
      "Action": "kms:*",
      "Resource": "*"
    },
    {
      "Sid": "Allow Managed Service for Apache Flink",
      "Effect": "Allow",
      "Principal": {"Service": ["kinesisanalytics.amazonaws.com", "infrastructure.kinesisanalytics.amazonaws.com"]},
      "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
      "Resource": "*",
      "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    }
  ]
}`

// keyPolicyDefault is the default key policy: the root only.
const keyPolicyDefault = `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}]}`

func policy(doc string) model.Fact[model.PolicyDocument] {
	p, err := model.ParsePolicy(doc)
	if err != nil {
		panic("fixture policy: " + err.Error())
	}
	return model.Known(p)
}

// newApp returns a fully populated application that every rule finds
// COMPLIANT (TestBaselineCompliant checks it). Tests break one thing at a time.
func newApp() *model.Application {
	return &model.Application{
		Name: appName, ARN: appARN, Account: acct, Region: region, Partition: "aws",
		Runtime:          model.Known("FLINK-1_20"),
		Mode:             model.ModeStreaming,
		Status:           model.Known("RUNNING"),
		VersionID:        7,
		ConditionalToken: "ZmQ3NTIzZTMtNjQ0Zi00Y2RiLTg1ZTEtMDJmZDFkNDBiN2Ux",
		Tags:             model.Known(map[string]string{"team": "orders", "env": "prod"}),
		RoleARN:          model.Known(roleARN),
		Logging: model.Known([]model.LoggingOption{{ID: "1.1", LogStreamARN: logStream,
			LogGroup: model.LogGroupFromStreamARN(logStream)}}),
		Encryption:  model.Known(model.Encryption{KeyType: model.KeyTypeCustomerManaged, KeyID: keyARN}),
		Snapshots:   model.Known(true),
		Rollback:    model.Known(true),
		Checkpoint:  model.Known(model.Checkpoint{ConfigurationType: model.ConfigDefault, Enabled: true, IntervalMs: 60000, MinPauseMs: 5000}),
		Monitoring:  model.Known(model.Monitoring{ConfigurationType: model.ConfigCustom, LogLevel: "INFO", MetricsLevel: "APPLICATION"}),
		Parallelism: model.Known(model.Parallelism{ConfigurationType: model.ConfigCustom, AutoScalingEnabled: true, Parallelism: 4, PerKPU: 1}),
		VPCs: model.Known([]model.VPCConfig{{ID: "2.1", VpcID: vpcID,
			SubnetIDs: []string{subnetA, subnetB}, SecurityGroupIDs: []string{sgID}}}),
		Properties: model.Known([]model.PropertyGroup{
			{ID: "FlinkApplicationProperties", Properties: map[string]string{
				"aws.region":             region,
				"input.stream.name":      "orders",
				"output.stream.arn":      outStream,
				"flink.stream.initpos":   "LATEST",
				"db.password.secret.arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/orders/db-AbCdEf",
			}},
		}),
		Code: model.Known(model.Code{ContentType: "ZIPFILE", Bucket: bucket, BucketARN: "arn:aws:s3:::" + bucket,
			FileKey: codeKey, ObjectVersion: codeVer}),
		Related: model.Related{
			Role: model.Known(model.Role{ARN: roleARN, Name: roleName,
				Trust:  policy(trustGuarded),
				Inline: model.Known([]model.NamedPolicy{{Name: "orders-enricher-access", Document: policy(inlinePolicy)}}),
				Attached: model.Known([]model.NamedPolicy{{Name: "orders-enricher-vpc-access",
					ARN: "arn:aws:iam::123456789012:policy/orders-enricher-vpc-access", Document: policy(vpcPolicy)}}),
			}),
			RoleUsers: model.Known([]string{appName}),
			Key: model.Known(model.Key{ID: keyID, ARN: keyARN, State: "Enabled", Spec: "SYMMETRIC_DEFAULT",
				Manager: "CUSTOMER", Rotation: model.Known(true), Policy: policy(keyPolicy)}),
			LogGroups: map[string]model.Fact[model.LogGroup]{
				logGroup: model.Known(model.LogGroup{Name: logGroup, RetentionDays: 365,
					KMSKeyID: "arn:aws:kms:eu-west-1:123456789012:key/0fedcba9-8765-4321-abcd-ef0123456789"}),
			},
			Subnets: map[string]model.Fact[model.Subnet]{
				subnetA: model.Known(privateSubnet(subnetA, "rtb-0a1b2c3d4e5f60718")),
				subnetB: model.Known(privateSubnet(subnetB, "rtb-0a1b2c3d4e5f60718")),
			},
			SecurityGroups: map[string]model.Fact[model.SecurityGroup]{
				sgID: model.Known(model.SecurityGroup{ID: sgID, OtherUsers: model.Known([]string{})}),
			},
			Bucket: model.Known(model.Bucket{Name: bucket,
				PublicAccessBlock: model.Known(model.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true,
					BlockPublicPolicy: true, RestrictPublicBuckets: true}),
				Encryption: model.Known("aws:kms"), PolicyPublic: model.Known(false)}),
			Streams: map[string]model.Fact[model.Stream]{
				inStream:  model.Known(model.Stream{ARN: inStream, Name: "orders", EncryptionType: "KMS", KeyID: "alias/aws/kinesis"}),
				outStream: model.Known(model.Stream{ARN: outStream, Name: "orders-enriched", EncryptionType: "KMS", KeyID: "alias/aws/kinesis"}),
			},
			Alarms: model.Known([]model.Alarm{
				{Name: "orders-enricher-downtime", Namespace: "AWS/KinesisAnalytics", MetricName: "downtime",
					Dimensions: map[string]string{"Application": appName}},
				{Name: "orders-enricher-failed-checkpoints", Namespace: "AWS/KinesisAnalytics", MetricName: "numberOfFailedCheckpoints",
					Dimensions: map[string]string{"Application": appName}},
			}),
			Snapshots: model.Known([]model.Snapshot{
				{Name: "nightly-2025-06-01", Status: "READY", CreatedAt: now.Add(-33 * time.Hour)},
				{Name: "nightly-2025-06-02", Status: "READY", CreatedAt: now.Add(-9 * time.Hour)},
			}),
			Trails: model.Known([]model.Trail{{Name: "management-events",
				ARN: "arn:aws:cloudtrail:eu-west-1:123456789012:trail/management-events", MultiRegion: true, Logging: model.Known(true)}}),
			Recorders: model.Known([]model.Recorder{{Name: "default", Recording: true, AllSupported: true}}),
		},
	}
}

func privateSubnet(id, rtb string) model.Subnet {
	return model.Subnet{ID: id, VpcID: vpcID, RouteTableID: rtb, Routes: []model.Route{
		{Destination: "10.20.0.0/16", Target: "local"},
		{Destination: "0.0.0.0/0", Target: natID},
	}}
}

// sqlApp turns the fixture into a Kinesis Data Analytics for SQL application.
func sqlApp(a *model.Application) {
	a.Runtime = model.Known("SQL-1_0")
	a.Checkpoint = model.Unknown[model.Checkpoint]("SQL application")
	a.Properties = model.Known([]model.PropertyGroup{})
	a.SQLInputs = []string{inStream}
	a.SQLOutputs = []string{outStream, "arn:aws:firehose:eu-west-1:123456789012:deliverystream/orders-to-s3"}
}

// studioApp turns the fixture into a Studio notebook.
func studioApp(a *model.Application) {
	a.Runtime = model.Known("ZEPPELIN-FLINK-3_0")
	a.Mode = model.ModeInteractive
}

// rule finds a rule or fails the test.
func rule(t *testing.T, id string) *rules.Rule {
	t.Helper()
	r, ok := rules.ByID(id)
	if !ok {
		t.Fatalf("rule %s not in catalog", id)
	}
	return r
}

// evaluate runs one rule through the engine and checks the invariants every
// result must hold.
func evaluate(t *testing.T, id string, app *model.Application, params map[string]string, at time.Time) rules.Result {
	t.Helper()
	r := rule(t, id)
	var over map[string]map[string]string
	if params != nil {
		over = map[string]map[string]string{id: params}
	}
	sel, err := rules.Select([]*rules.Rule{r}, over)
	if err != nil {
		t.Fatalf("Select: %v", err)
	}
	fs := sel.Evaluate(app, at)
	if len(fs) != 1 || fs[0].Rule != r {
		t.Fatalf("Evaluate returned %d findings", len(fs))
	}
	checkInvariants(t, fs[0])
	return fs[0].Result
}

// checkInvariants: message bounds, statuses, and fixes tied to failing conditions.
func checkInvariants(t *testing.T, f rules.Finding) {
	t.Helper()
	r, res := f.Rule, f.Result
	id := r.ID
	if len(res.Message) > rules.MaxMessage {
		t.Errorf("%s: message is %d bytes (> %d): %q", id, len(res.Message), rules.MaxMessage, res.Message)
	}
	if !utf8.ValidString(res.Message) {
		t.Errorf("%s: message is not valid UTF-8: %q", id, res.Message)
	}
	if res.Message == "" {
		t.Errorf("%s: empty message", id)
	}
	switch res.Status {
	case rules.Compliant, rules.NotApplicable, rules.Unknown:
		if len(res.Failed) > 0 || len(res.Fixes) > 0 {
			t.Errorf("%s: %s result carries Failed %v / %d fixes", id, res.Status, res.Failed, len(res.Fixes))
		}
	case rules.NonCompliant:
		if len(res.Failed) == 0 {
			t.Errorf("%s: NON_COMPLIANT without a failed condition", id)
		}
	default:
		t.Errorf("%s: invalid status %q", id, res.Status)
	}
	if res.Severity != 0 && (res.Severity < rules.Informational || res.Severity > rules.Critical) {
		t.Errorf("%s: invalid result severity %d", id, res.Severity)
	}
	if r.Remediation.Kind == rules.RemediationNone && len(res.Fixes) > 0 {
		t.Errorf("%s: remediation none but %d fixes planned", id, len(res.Fixes))
	}
	conds := map[string]bool{}
	for _, fx := range res.Fixes {
		if fx.Rule != id {
			t.Errorf("%s: fix.Rule = %q", id, fx.Rule)
		}
		if fx.Kind != r.Remediation.Kind {
			t.Errorf("%s: fix.Kind = %q, rule's is %q", id, fx.Kind, r.Remediation.Kind)
		}
		if fx.Call != r.Remediation.Call {
			t.Errorf("%s: fix.Call = %q, rule's is %q", id, fx.Call, r.Remediation.Call)
		}
		if !slices.Contains(res.Failed, fx.Condition) {
			t.Errorf("%s: fix for condition %q which is not in Failed %v", id, fx.Condition, res.Failed)
		}
		if conds[fx.Condition] {
			t.Errorf("%s: two fixes for condition %q", id, fx.Condition)
		}
		conds[fx.Condition] = true
		if fx.Target == "" || fx.Summary == "" {
			t.Errorf("%s: fix without target or summary: %+v", id, fx)
		}
		isUpdate := fx.Call == "kinesisanalyticsv2:UpdateApplication"
		if isUpdate != (fx.Update != nil) {
			t.Errorf("%s: fix call %s with Update %v", id, fx.Call, fx.Update)
		}
		if fx.Update != nil && fx.Update.Empty() {
			t.Errorf("%s: empty UpdateApplication fix", id)
		}
	}
}

// fixWant is what a test expects of one planned fix.
type fixWant struct {
	Condition string
	Target    string
	Args      map[string]string
	Update    *rules.AppUpdate
}

// ruleCase is one row of a rule's table.
type ruleCase struct {
	name     string
	mutate   func(a *model.Application)
	params   map[string]string
	at       time.Time // zero: now
	want     rules.Status
	severity rules.Severity // expected result severity override, 0 = none
	failed   []string       // exact Failed conditions, in order
	fixes    []fixWant      // exact fixes, in order
	contains []string       // substrings of the message
	absent   []string       // substrings that must not appear in the message
	anyOrder bool           // compare Failed and fixes sorted by condition
}

func runTable(t *testing.T, id string, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := newApp()
			if tc.mutate != nil {
				tc.mutate(app)
			}
			at := tc.at
			if at.IsZero() {
				at = now
			}
			res := evaluate(t, id, app, tc.params, at)
			if res.Status != tc.want {
				t.Fatalf("status = %s, want %s (message %q)", res.Status, tc.want, res.Message)
			}
			if res.Severity != tc.severity {
				t.Errorf("severity = %v, want %v", res.Severity, tc.severity)
			}
			if tc.anyOrder {
				slices.Sort(res.Failed)
				slices.SortFunc(res.Fixes, func(a, b rules.Fix) int { return strings.Compare(a.Condition, b.Condition) })
			}
			if tc.want == rules.NonCompliant && !slices.Equal(res.Failed, tc.failed) {
				t.Errorf("failed = %q, want %q", res.Failed, tc.failed)
			}
			if len(res.Fixes) != len(tc.fixes) {
				t.Fatalf("%d fixes, want %d: %s", len(res.Fixes), len(tc.fixes), jsonOf(res.Fixes))
			}
			for i, w := range tc.fixes {
				got := res.Fixes[i]
				if got.Condition != w.Condition {
					t.Errorf("fix %d condition = %q, want %q", i, got.Condition, w.Condition)
				}
				if w.Target != "" && got.Target != w.Target {
					t.Errorf("fix %d target = %q, want %q", i, got.Target, w.Target)
				}
				if w.Args != nil {
					if jsonOf(got.Args) != jsonOf(w.Args) {
						t.Errorf("fix %d args = %s, want %s", i, jsonOf(got.Args), jsonOf(w.Args))
					}
				}
				if jsonOf(got.Update) != jsonOf(w.Update) {
					t.Errorf("fix %d update = %s, want %s", i, jsonOf(got.Update), jsonOf(w.Update))
				}
			}
			for _, s := range tc.contains {
				if !strings.Contains(res.Message, s) {
					t.Errorf("message %q does not contain %q", res.Message, s)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(res.Message, s) {
					t.Errorf("message %q contains %q", res.Message, s)
				}
			}
		})
	}
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "!" + err.Error()
	}
	return string(b)
}

// Small mutators.

func setRole(a *model.Application, f func(r *model.Role)) {
	r := a.Related.Role.Value()
	f(&r)
	a.Related.Role = model.Known(r)
}

func setKey(a *model.Application, f func(k *model.Key)) {
	k := a.Related.Key.Value()
	f(&k)
	a.Related.Key = model.Known(k)
}

func setBucket(a *model.Application, f func(b *model.Bucket)) {
	b := a.Related.Bucket.Value()
	f(&b)
	a.Related.Bucket = model.Known(b)
}

func setCode(a *model.Application, f func(c *model.Code)) {
	c := a.Code.Value()
	f(&c)
	a.Code = model.Known(c)
}

func strs(s ...string) []string { return s }
