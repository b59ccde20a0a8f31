package describe

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"

	"github.com/kdaguard/kdaguard/shared/model"
)

func load(t *testing.T, name string) *model.Application {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if !IsDescribeJSON(data) {
		t.Fatalf("%s not recognised as describe-application output", name)
	}
	a, err := ParseJSON(data)
	if err != nil {
		t.Fatalf("ParseJSON(%s): %v", name, err)
	}
	return a
}

func TestParseFlinkApplication(t *testing.T) {
	a := load(t, "flink-full.json")
	if a.Name != "orders-enrichment" || a.Account != "123456789012" || a.Region != "eu-west-1" || a.Partition != "aws" {
		t.Errorf("identity = %q %q %q %q", a.Name, a.Account, a.Region, a.Partition)
	}
	if a.VersionID != 7 || a.ConditionalToken != "d3f1c2b4a5e6978812ab34cd56ef7890" {
		t.Errorf("version %d token %q", a.VersionID, a.ConditionalToken)
	}
	if st, _ := a.Status.Get(); st != "RUNNING" {
		t.Errorf("status %q", st)
	}
	if !a.IsFlinkStreaming() || a.IsSQL() || a.IsStudio() {
		t.Error("FLINK-1_20 STREAMING must be a Flink streaming application")
	}
	enc, _ := a.Encryption.Get()
	if enc.KeyType != model.KeyTypeCustomerManaged || enc.KeyID != "arn:aws:kms:eu-west-1:123456789012:key/5c1f2e3d-8a9b-4c7d-9e0f-1a2b3c4d5e6f" {
		t.Errorf("encryption %+v", enc)
	}
	cp, _ := a.Checkpoint.Get()
	if !cp.IsEnabled() || cp.IntervalMs != 60000 || cp.MinPauseMs != 5000 {
		t.Errorf("checkpoint %+v", cp)
	}
	if m, _ := a.Monitoring.Get(); m.EffectiveLogLevel() != "INFO" || m.MetricsLevel != "OPERATOR" {
		t.Errorf("monitoring %+v", m)
	}
	if p, _ := a.Parallelism.Get(); !p.AutoScaling() || p.Parallelism != 4 || p.PerKPU != 1 {
		t.Errorf("parallelism %+v", p)
	}
	if s, ok := a.Snapshots.Get(); !ok || !s {
		t.Error("snapshots should be known and enabled")
	}
	if r, ok := a.Rollback.Get(); !ok || !r {
		t.Error("rollback should be known and enabled")
	}
	logging, _ := a.Logging.Get()
	if len(logging) != 1 || logging[0].LogGroup != "/aws/kinesis-analytics/orders-enrichment" || logging[0].ID != "1.1" {
		t.Errorf("logging %+v", logging)
	}
	vpcs, _ := a.VPCs.Get()
	if len(vpcs) != 1 || vpcs[0].VpcID != "vpc-0a1b2c3d4e5f60718" || len(vpcs[0].SubnetIDs) != 2 || vpcs[0].SecurityGroupIDs[0] != "sg-0a9b8c7d6e5f40312" {
		t.Errorf("vpcs %+v", vpcs)
	}
	groups, _ := a.Properties.Get()
	if len(groups) != 2 || groups[0].ID != "FlinkApplicationProperties" || groups[0].Properties["input.stream.name"] != "orders-raw" {
		t.Errorf("properties %+v", groups)
	}
	code, _ := a.Code.Get()
	want := model.Code{ContentType: "ZIPFILE", Bucket: "acme-flink-artifacts-eu-west-1", BucketARN: "arn:aws:s3:::acme-flink-artifacts-eu-west-1",
		FileKey: "orders-enrichment/orders-enrichment-2.4.1.jar", ObjectVersion: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"}
	if code != want {
		t.Errorf("code %+v, want %+v", code, want)
	}
	if a.Tags.Known() || a.Related.Role.Known() {
		t.Error("tags and related resources are not in DescribeApplication: they must stay unknown")
	}
}

func TestParseSQLApplicationWithEpochTimestamps(t *testing.T) {
	a := load(t, "sql-legacy.json")
	if !a.IsSQL() || a.IsFlinkStreaming() {
		t.Fatal("SQL-1_0 must be a SQL application")
	}
	want := []string{"arn:aws:kinesis:us-east-1:123456789012:stream/clickstream"}
	if !reflect.DeepEqual(a.SQLInputs, want) {
		t.Errorf("inputs %v", a.SQLInputs)
	}
	if len(a.SQLOutputs) != 1 || a.SQLOutputs[0] != "arn:aws:kinesis:us-east-1:123456789012:stream/clickstream-aggregates" {
		t.Errorf("outputs %v", a.SQLOutputs)
	}
	if l, ok := a.Logging.Get(); !ok || len(l) != 0 {
		t.Errorf("an empty logging list is known and empty, got %v %v", l, ok)
	}
	if enc, _ := a.Encryption.Get(); enc.KeyType != model.KeyTypeAWSOwned {
		t.Errorf("no encryption description means AWS owned key, got %+v", enc)
	}
	if a.Checkpoint.Known() || a.Snapshots.Known() {
		t.Error("a SQL application has no checkpoint or snapshot configuration: unknown, not false")
	}
	arns, complete, _ := a.KinesisStreams()
	if !complete || len(arns) != 2 {
		t.Errorf("SQL streams %v complete=%v", arns, complete)
	}
}

func TestFromDetailSDK(t *testing.T) {
	d := &types.ApplicationDetail{
		ApplicationARN:       aws.String("arn:aws-cn:kinesisanalytics:cn-north-1:210987654321:application/notebook"),
		ApplicationName:      aws.String("notebook"),
		ApplicationStatus:    types.ApplicationStatusReady,
		ApplicationVersionId: aws.Int64(2),
		RuntimeEnvironment:   types.RuntimeEnvironmentZeppelinFlink30,
		ApplicationMode:      types.ApplicationModeInteractive,
		ServiceExecutionRole: aws.String("arn:aws-cn:iam::210987654321:role/notebook"),
		ApplicationConfigurationDescription: &types.ApplicationConfigurationDescription{
			ZeppelinApplicationConfigurationDescription: &types.ZeppelinApplicationConfigurationDescription{
				MonitoringConfigurationDescription: &types.ZeppelinMonitoringConfigurationDescription{LogLevel: types.LogLevelDebug},
			},
		},
	}
	a := FromDetail(d)
	if a.Partition != "aws-cn" || a.Region != "cn-north-1" || a.Account != "210987654321" {
		t.Errorf("ARN split: %q %q %q", a.Partition, a.Region, a.Account)
	}
	if !a.IsStudio() {
		t.Error("INTERACTIVE must be Studio")
	}
	if m, ok := a.Monitoring.Get(); !ok || m.EffectiveLogLevel() != "DEBUG" {
		t.Errorf("Studio log level %+v %v", m, ok)
	}
	if a.Checkpoint.Known() {
		t.Error("no Flink configuration: checkpoint must be unknown")
	}
	empty := FromDetail(&types.ApplicationDetail{ApplicationName: aws.String("x")})
	if empty.Encryption.Known() || empty.Properties.Known() || empty.Code.Known() {
		t.Error("no configuration description: settings must be unknown")
	}
	if empty.Encryption.Reason() == "" {
		t.Error("unknown settings need a reason")
	}
}

func TestParseJSONErrors(t *testing.T) {
	for name, in := range map[string]string{
		"not json":       `{"ApplicationDetail": `,
		"other document": `{"Resources": {}}`,
		"no name":        `{"ApplicationDetail": {"ApplicationARN": "arn:aws:kinesisanalytics:us-east-1:1:application/x"}}`,
		"wrong type":     `{"ApplicationDetail": {"ApplicationName": 12}}`,
	} {
		_, err := ParseJSON([]byte(in))
		if err == nil {
			t.Errorf("%s: want an error", name)
		}
		if name == "other document" && !errors.Is(err, ErrNotDescribe) {
			t.Errorf("%s: want ErrNotDescribe, got %v", name, err)
		}
	}
	if IsDescribeJSON([]byte("Resources:\n  App: {}")) {
		t.Error("YAML template taken for describe output")
	}
	// The member may stand after others, however long they are; a template
	// that merely mentions the word is not describe output.
	late := `{"ResponseMetadata":{"RequestId":"` + strings.Repeat("0", 300) + `"},"ApplicationDetail":{"ApplicationName":"a"}}`
	if !IsDescribeJSON([]byte(late)) {
		t.Error("describe output with ApplicationDetail after byte 256 not recognised")
	}
	if IsDescribeJSON([]byte(`{"Resources":{"App":{"Type":"AWS::KinesisAnalyticsV2::Application","Metadata":{"ApplicationDetail":"x"}}}}`)) {
		t.Error("a template mentioning ApplicationDetail below the top level taken for describe output")
	}
}

// An empty RuntimeEnvironment or ApplicationStatus is not a fact: it is
// unknown with a reason (it read as "runtime  is in support" and "the
// application is , not RUNNING").
func TestEmptyRuntimeAndStatusAreUnknown(t *testing.T) {
	a := FromDetail(&types.ApplicationDetail{ApplicationName: aws.String("orders")})
	if rt, ok := a.Runtime.Get(); ok {
		t.Errorf("empty runtime is known: %q", rt)
	} else if a.Runtime.Reason() == "" {
		t.Error("empty runtime has no reason")
	}
	if st, ok := a.Status.Get(); ok {
		t.Errorf("empty status is known: %q", st)
	} else if a.Status.Reason() == "" {
		t.Error("empty status has no reason")
	}
	a = FromDetail(&types.ApplicationDetail{ApplicationName: aws.String("orders"),
		RuntimeEnvironment: types.RuntimeEnvironmentFlink120, ApplicationStatus: types.ApplicationStatusRunning})
	if rt, _ := a.Runtime.Get(); rt != "FLINK-1_20" {
		t.Errorf("runtime %q", rt)
	}
	if st, _ := a.Status.Get(); st != "RUNNING" {
		t.Errorf("status %q", st)
	}
}
