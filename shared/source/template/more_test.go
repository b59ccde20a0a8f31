package template

import (
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
)

const studioTemplate = `
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      Enabled: false
  KeyAlias:
    Type: AWS::KMS::Alias
    Properties:
      AliasName: alias/notebook-state
      TargetKeyId: !Ref Key
  Bucket:
    Type: AWS::S3::Bucket
  Policy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      ManagedPolicyName: notebook-access
      Path: /flink/
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: glue:*
            Resource: "*"
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: kinesisanalytics.amazonaws.com}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - !Ref Policy
        - !Sub arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess
  Notebook:
    Type: AWS::KinesisAnalyticsV2::Application
    Properties:
      ApplicationName: notebook
      ApplicationMode: INTERACTIVE
      RuntimeEnvironment: ZEPPELIN-FLINK-3_0
      ServiceExecutionRole: !GetAtt Role.Arn
      ApplicationConfiguration:
        ApplicationEncryptionConfiguration:
          KeyType: CUSTOMER_MANAGED_KEY
          KeyId: alias/notebook-state
        ZeppelinApplicationConfiguration:
          MonitoringConfiguration:
            LogLevel: DEBUG
        ApplicationCodeConfiguration:
          CodeContentType: ZIPFILE
          CodeContent:
            S3ContentLocation:
              BucketARN: !GetAtt Bucket.Arn
              FileKey: notebook.zip
`

func TestStudioKeyAliasAndDefaults(t *testing.T) {
	apps, err := Parse("studio.yaml", []byte(studioTemplate))
	if err != nil {
		t.Fatal(err)
	}
	a := apps[0]
	if !a.IsStudio() || a.Mode != model.ModeInteractive {
		t.Errorf("mode %q", a.Mode)
	}
	if m := known(t, "Monitoring", a.Monitoring); m.EffectiveLogLevel() != "DEBUG" {
		t.Errorf("Zeppelin log level %+v", m)
	}
	key := known(t, "Key via alias", a.Related.Key)
	if key.ID != "Key" || key.State != "Disabled" || key.Spec != "SYMMETRIC_DEFAULT" || known(t, "rotation", key.Rotation) {
		t.Errorf("key %+v (Enabled false, rotation absent = false)", key)
	}
	pol := known(t, "default key policy", key.Policy)
	if len(pol.Statement) != 1 || pol.Statement[0].Principal.AWS[0] != "arn:${AWS::Partition}:iam::${AWS::AccountId}:root" {
		t.Errorf("default key policy %+v", pol)
	}
	role := known(t, "Role", a.Related.Role)
	if role.Name != "Role" || role.ARN != "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/Role" {
		t.Errorf("generated role name: %+v", role)
	}
	att := known(t, "Attached", role.Attached)
	if len(att) != 2 || att[0].ARN != "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/flink/notebook-access" || !att[0].Document.Known() {
		t.Fatalf("attached %+v", att)
	}
	unknownWith(t, "AWS managed policy", att[1].Document, "AWS managed policy ReadOnlyAccess")
	// A bucket without settings gets S3's defaults for new buckets.
	b := known(t, "Bucket", a.Related.Bucket)
	if b.Name != "Bucket" || !known(t, "PAB", b.PublicAccessBlock).All() || known(t, "encryption", b.Encryption) != "AES256" || known(t, "policy", b.PolicyPublic) {
		t.Errorf("bucket defaults %+v", b)
	}
	unknownWith(t, "Snapshots", a.Snapshots, "not documented")
}
