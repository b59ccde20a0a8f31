package collect

import (
	"slices"

	"github.com/kdaguard/kdaguard/shared/model"
)

// baseActions are read for every application, whatever the facets.
var baseActions = []string{"kinesisanalytics:DescribeApplication", "kinesisanalytics:ListTagsForResource"}

// facetActions are the IAM actions each facet's reads need; an AccessDenied
// reason names the same action.
var facetActions = map[model.Facet][]string{
	model.FacetRole: {"iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy",
		"iam:ListAttachedRolePolicies", "iam:GetPolicy", "iam:GetPolicyVersion"},
	model.FacetRoleUsers:      {"kinesisanalytics:ListApplications", "kinesisanalytics:DescribeApplication"},
	model.FacetKey:            {"kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:GetKeyPolicy"},
	model.FacetLogGroups:      {"logs:DescribeLogGroups"},
	model.FacetSubnets:        {"ec2:DescribeSubnets", "ec2:DescribeRouteTables"},
	model.FacetSecurityGroups: {"ec2:DescribeSecurityGroupRules", "ec2:DescribeNetworkInterfaces"},
	model.FacetBucket:         {"s3:GetBucketPublicAccessBlock", "s3:GetEncryptionConfiguration", "s3:GetBucketPolicyStatus"},
	model.FacetStreams:        {"kinesis:DescribeStreamSummary"},
	model.FacetAlarms:         {"cloudwatch:DescribeAlarms"},
	model.FacetSnapshots:      {"kinesisanalytics:ListApplicationSnapshots"},
	model.FacetTrails:         {"cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus"},
	model.FacetRecorders:      {"config:DescribeConfigurationRecorders", "config:DescribeConfigurationRecorderStatus"},
}

// Permissions lists, sorted and without duplicates, the IAM actions the
// collector needs to read an application with the given facets (for a
// function's role: pass every facet of the rules it runs), ListApplications
// included for sweeps. Streams needs the role's actions too.
func Permissions(needs []model.Facet) []string {
	out := append([]string{"kinesisanalytics:ListApplications"}, baseActions...)
	for _, f := range needs {
		out = append(out, facetActions[f]...)
		if f == model.FacetStreams {
			out = append(out, facetActions[model.FacetRole]...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
