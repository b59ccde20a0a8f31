package template

import (
	"strings"
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

// A property block behind an Fn::If that cannot be decided is neither
// present nor absent: every fact read through it is unknown with the
// condition as reason, never the service default.
func TestUnresolvedIfBlocks(t *testing.T) {
	a := parseFile(t, "unresolved-if.yaml")[0]
	const reason = "condition IsProd cannot be decided"
	unknownWith(t, "Properties", a.Properties, reason)
	unknownWith(t, "Checkpoint", a.Checkpoint, reason)
	unknownWith(t, "Monitoring", a.Monitoring, reason)
	unknownWith(t, "Parallelism", a.Parallelism, reason)
	unknownWith(t, "Snapshots", a.Snapshots, reason)
	unknownWith(t, "Rollback", a.Rollback, reason)
	unknownWith(t, "Encryption", a.Encryption, reason)
	unknownWith(t, "Code", a.Code, reason)
	unknownWith(t, "VPCs", a.VPCs, reason)

	fs := evaluate(t, "unresolved-if.yaml")["App"]
	for _, id := range []string{"KDA.DP.1", "KDA.DP.5", "KDA.MON.2", "KDA.RES.1", "KDA.RES.2", "KDA.RES.3", "KDA.RES.6"} {
		if fs[id].Status != rules.Unknown {
			t.Errorf("%s: %s (%s), want UNKNOWN", id, fs[id].Status, fs[id].Message)
		}
	}
}

// SQL inputs behind an undecidable Fn::If stand as one placeholder, so the
// streams they name are unknown rather than absent.
func TestUnresolvedIfSQLInputs(t *testing.T) {
	apps, err := Parse("sql.yaml", []byte(`Parameters:
  Stage: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  App:
    Type: AWS::KinesisAnalyticsV2::Application
    Properties:
      RuntimeEnvironment: SQL-1_0
      ServiceExecutionRole: arn:aws:iam::123456789012:role/x
      ApplicationConfiguration:
        SqlApplicationConfiguration: !If
          - IsProd
          - !Ref AWS::NoValue
          - Inputs: [{KinesisStreamsInput: {ResourceARN: arn:aws:kinesis:eu-west-1:123456789012:stream/in}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if in := apps[0].SQLInputs; len(in) != 1 || !strings.HasPrefix(in[0], model.UnresolvedPrefix) {
		t.Errorf("SQL inputs %q, want one placeholder", in)
	}
}

// A resource whose condition depends on a parameter with a default is kept:
// the default can be overridden at deployment, so whether it exists is
// undecided, and the related resources behind such a condition make the
// facts built from them unknown.
func TestConditionOnParameterDefault(t *testing.T) {
	apps, err := Parse("default.yaml", []byte(`Parameters:
  Env:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Log:
    Type: AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption
    Condition: IsProd
    Properties:
      ApplicationName: !Ref App
      CloudWatchLoggingOption: {LogStreamARN: arn:aws:logs:eu-west-1:123456789012:log-group:g:log-stream:s}
  App:
    Type: AWS::KinesisAnalyticsV2::Application
    Condition: IsProd
    Properties:
      RuntimeEnvironment: FLINK-1_20
      ServiceExecutionRole: arn:aws:iam::123456789012:role/x
      ApplicationConfiguration:
        ApplicationSnapshotConfiguration: {SnapshotsEnabled: false}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 {
		t.Fatalf("got %d applications, want the one whose condition depends on a default", len(apps))
	}
	if known(t, "Snapshots", apps[0].Snapshots) {
		t.Error("SnapshotsEnabled false read as true")
	}
	unknownWith(t, "Logging", apps[0].Logging, "condition IsProd")
}

// A parameter whose AllowedValues leave one value decides its conditions.
func TestConditionOnSingleAllowedValue(t *testing.T) {
	apps, err := Parse("single.yaml", []byte(`Parameters:
  Env: {Type: String, Default: prod, AllowedValues: [prod]}
Conditions:
  IsDev: !Equals [!Ref Env, dev]
Resources:
  Dev:
    Type: AWS::KinesisAnalyticsV2::Application
    Condition: IsDev
    Properties: {RuntimeEnvironment: FLINK-1_20}
  App:
    Type: AWS::KinesisAnalyticsV2::Application
    Properties:
      RuntimeEnvironment: !If [IsDev, FLINK-1_15, FLINK-1_20]
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || apps[0].Origin.LogicalID != "App" {
		t.Fatalf("got %d applications, want App only", len(apps))
	}
	if rt := known(t, "Runtime", apps[0].Runtime); rt != "FLINK-1_20" {
		t.Errorf("runtime %q", rt)
	}
}

// The same holds for the blocks of related resources: a logging option or a
// stream encryption behind an undecidable Fn::If is unknown, not absent.
func TestUnresolvedIfRelatedBlocks(t *testing.T) {
	a := parseFile(t, "unresolved-if-related.yaml")[0]
	unknownWith(t, "Logging", a.Logging, "condition IsProd cannot be decided")
	arn := "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/s"
	if s, ok := a.Related.Streams[arn]; ok && s.Known() {
		t.Errorf("stream encryption behind Fn::If read as %+v", s.Value())
	}
}

// A logging option without its log stream is not logging.
func TestLoggingOptionWithoutStream(t *testing.T) {
	apps, err := Parse("log.yaml", []byte(`Resources:
  Log:
    Type: AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption
    Properties:
      ApplicationName: !Ref App
      CloudWatchLoggingOption: {}
  App:
    Type: AWS::KinesisAnalyticsV2::Application
    Properties: {RuntimeEnvironment: FLINK-1_20}
`))
	if err != nil {
		t.Fatal(err)
	}
	unknownWith(t, "Logging", apps[0].Logging, "has no CloudWatchLoggingOption LogStreamARN")
}
