package stack

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kdaguard/kdaguard/shared/collect"
	"github.com/kdaguard/kdaguard/shared/rules"
)

// Grant is one IAM statement of a function's role. Resources are templates
// for awscdk.Fn_Sub: ${AWS::Partition}, ${AWS::Region}, ${AWS::AccountId}.
// Actions are exact: no "*" and no wildcard in any action name.
type Grant struct {
	Sid       string
	Actions   []string
	Resources []string
	// Condition, when set, is the statement's condition block.
	Condition map[string]any
	// Why is the reason any resource is wider than one ARN; it becomes the
	// cdk-nag AwsSolutions-IAM5 suppression reason.
	Why string
}

const (
	appARN      = "arn:${AWS::Partition}:kinesisanalytics:${AWS::Region}:${AWS::AccountId}:application/*"
	roleARN     = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"
	keyARN      = "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"
	logGroupARN = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
	bucketARN   = "arn:${AWS::Partition}:s3:::*"
	streamARN   = "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/*"
	sgARN       = "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:security-group/*"
	ruleARN     = "arn:${AWS::Partition}:config:${AWS::Region}:${AWS::AccountId}:config-rule/*"
)

// readStatements scope every read the collector can make, for both
// functions: each application and the resources it points at (role and
// policies, key, log group, alarms, bucket, streams, security groups and
// subnets), and the account facts (trails, Config recorder). ReadGrants keeps
// the actions the enabled rules need.
var readStatements = []Grant{
	{Sid: "ReadApplications", Actions: []string{
		"kinesisanalytics:DescribeApplication",
		"kinesisanalytics:ListTagsForResource",
		"kinesisanalytics:ListApplicationSnapshots",
	}, Resources: []string{appARN}, Why: "any Flink application in this account and Region is evaluated; names are not known at deployment"},
	{Sid: "ListApplications", Actions: []string{
		"kinesisanalytics:ListApplications",
		"ec2:DescribeSecurityGroups",
		"ec2:DescribeSecurityGroupRules",
		"ec2:DescribeSubnets",
		"ec2:DescribeRouteTables",
		"ec2:DescribeNetworkInterfaces",
		"logs:DescribeLogGroups",
		"cloudwatch:DescribeAlarms",
		"cloudtrail:DescribeTrails",
		"cloudtrail:GetTrailStatus",
		"config:DescribeConfigurationRecorders",
		"config:DescribeConfigurationRecorderStatus",
		"sts:GetCallerIdentity",
	}, Resources: []string{"*"}, Why: "list and describe calls that support no resource-level permission (IAM service authorization reference)"},
	{Sid: "ReadRoles", Actions: []string{
		"iam:GetRole",
		"iam:ListRolePolicies",
		"iam:GetRolePolicy",
		"iam:ListAttachedRolePolicies",
	}, Resources: []string{roleARN}, Why: "an application's service execution role can be any role of this account"},
	{Sid: "ReadPolicies", Actions: []string{
		"iam:GetPolicy",
		"iam:GetPolicyVersion",
	}, Resources: []string{
		"arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/*",
		"arn:${AWS::Partition}:iam::aws:policy/*",
	}, Why: "managed policies attached to an execution role: this account's and AWS managed ones"},
	{Sid: "ReadKeys", Actions: []string{
		"kms:DescribeKey",
		"kms:GetKeyRotationStatus",
		"kms:GetKeyPolicy",
	}, Resources: []string{keyARN}, Why: "an application's state key can be any key of this account and Region"},
	{Sid: "ReadBuckets", Actions: []string{
		"s3:GetBucketPublicAccessBlock",
		"s3:GetEncryptionConfiguration",
		"s3:GetBucketPolicyStatus",
	}, Resources: []string{bucketARN}, Why: "an application's code bucket can be any bucket; bucket ARNs carry no account"},
	{Sid: "ReadStreams", Actions: []string{
		"kinesis:DescribeStreamSummary",
	}, Resources: []string{streamARN}, Why: "sources and sinks can be any stream of this account and Region"},
}

// ReadGrants are the read statements for the configuration: exactly the
// actions shared/collect says the enabled rules' facets need
// (collect.Permissions), plus sts:GetCallerIdentity, each scoped by
// readStatements. An action the collector needs that has no scoped statement
// here fails synth.
func ReadGrants(c Config) ([]Grant, error) {
	need := append(collect.Permissions(rules.Needs(c.EnabledRules())), "sts:GetCallerIdentity")
	var out []Grant
	covered := map[string]bool{}
	for _, g := range readStatements {
		var acts []string
		for _, a := range g.Actions {
			if slices.Contains(need, a) {
				acts = append(acts, a)
				covered[a] = true
			}
		}
		if len(acts) > 0 {
			g.Actions = acts
			out = append(out, g)
		}
	}
	for _, a := range need {
		if !covered[a] {
			return nil, fmt.Errorf("the collector needs %s, which has no scoped statement in infra/stack/permissions.go: add one", a)
		}
	}
	return out, nil
}

// EvaluatorGrants are the evaluator's own Config calls. PutEvaluations has no
// resource-level permission.
var EvaluatorGrants = []Grant{
	{Sid: "PutEvaluations", Actions: []string{"config:PutEvaluations"}, Resources: []string{"*"},
		Why: "config:PutEvaluations supports no resource-level permission"},
	{Sid: "ReadOwnResults", Actions: []string{"config:GetComplianceDetailsByConfigRule"}, Resources: []string{ruleARN},
		Why: "Config rule ARNs end in a generated id (config-rule-xxxxxx), not the rule name"},
}

// remediationWrites maps a catalog rule's Remediation.Call to the IAM
// statements its fix needs, scoped to this account and Region. A rule whose
// call is missing here fails synth (RemediatorWriteGrants), so a new kind of
// fix cannot ship without its permission being reviewed.
var remediationWrites = map[string][]Grant{
	"kinesisanalyticsv2:UpdateApplication": {{Sid: "FixApplications",
		Actions: []string{"kinesisanalytics:UpdateApplication"}, Resources: []string{appARN},
		Why: "any Flink application in this account and Region may need the fix"}},
	"kinesisanalyticsv2:AddApplicationCloudWatchLoggingOption": {
		{Sid: "AddLogging", Actions: []string{"kinesisanalytics:AddApplicationCloudWatchLoggingOption"}, Resources: []string{appARN},
			Why: "any Flink application in this account and Region may need the fix"},
		{Sid: "CreateApplicationLogs", Actions: []string{"logs:CreateLogGroup", "logs:CreateLogStream"}, Resources: []string{logGroupARN},
			Why: "the log group the fix creates is named after the application"},
	},
	"kinesisanalyticsv2:CreateApplicationSnapshot": {{Sid: "Snapshot",
		Actions: []string{"kinesisanalytics:CreateApplicationSnapshot"}, Resources: []string{appARN},
		Why: "any Flink application in this account and Region may need the fix"}},
	"kms:EnableKeyRotation": {{Sid: "RotateKeys",
		Actions: []string{"kms:EnableKeyRotation"}, Resources: []string{keyARN},
		Why: "an application's key can be any customer managed key of this account and Region"}},
	"logs:PutRetentionPolicy": {{Sid: "LogRetention",
		Actions: []string{"logs:PutRetentionPolicy"}, Resources: []string{logGroupARN},
		Why: "an application's log group can be any log group of this account and Region"}},
	"s3:PutPublicAccessBlock": {{Sid: "BlockPublicBuckets",
		Actions: []string{"s3:PutBucketPublicAccessBlock"}, Resources: []string{bucketARN},
		Condition: map[string]any{"StringEquals": map[string]any{"s3:ResourceAccount": "${AWS::AccountId}"}},
		Why:       "bucket ARNs carry no account: the s3:ResourceAccount condition keeps it to this account's buckets"}},
	"iam:UpdateAssumeRolePolicy": {{Sid: "TrustPolicies",
		Actions: []string{"iam:UpdateAssumeRolePolicy"}, Resources: []string{roleARN},
		Why: "an application's execution role can be any role of this account"}},
	"ec2:RevokeSecurityGroupIngress": {{Sid: "RevokeIngress",
		Actions: []string{"ec2:RevokeSecurityGroupIngress"}, Resources: []string{sgARN},
		Why: "an application's security groups can be any group of this account and Region"}},
	"kinesis:StartStreamEncryption": {{Sid: "EncryptStreams",
		Actions: []string{"kinesis:StartStreamEncryption"}, Resources: []string{streamARN},
		Why: "sources and sinks can be any stream of this account and Region"}},
}

// RemediatorWriteGrants are the write statements for the fixes this
// configuration lets the remediator apply (Config.MayRemediate): none in
// report mode, and only the opt-in fixes whose rule mode is remediate. A
// write the configuration cannot use is not granted. Statements are merged by
// Sid and returned in a stable order.
func RemediatorWriteGrants(c Config) ([]Grant, error) {
	var out []Grant
	for _, r := range rules.All() {
		if r.Remediation.Kind == rules.RemediationNone {
			continue
		}
		gs, ok := remediationWrites[r.Remediation.Call]
		if !ok {
			return nil, fmt.Errorf("rule %s: remediation call %q has no IAM statement in infra/stack/permissions.go: add one, scoped to this account and Region", r.ID, r.Remediation.Call)
		}
		if !c.MayRemediate(r) {
			continue
		}
		for _, g := range gs {
			if !slices.ContainsFunc(out, func(o Grant) bool { return o.Sid == g.Sid }) {
				out = append(out, g)
			}
		}
	}
	return out, nil
}

// CheckGrants refuses a "*" action, a wildcard in an action name and
// iam:PassRole; the stack calls it on every statement it writes.
func CheckGrants(gs []Grant) error {
	for _, g := range gs {
		for _, a := range g.Actions {
			if strings.Contains(a, "*") || !strings.Contains(a, ":") {
				return fmt.Errorf("statement %s: action %q is not one exact action", g.Sid, a)
			}
			if strings.EqualFold(a, "iam:PassRole") {
				return fmt.Errorf("statement %s: iam:PassRole is never granted", g.Sid)
			}
		}
	}
	return nil
}
