package rules_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/remediate"
	"github.com/kdaguard/kdaguard/shared/rules"
)

// trustWith is the service's trust statement with the given Condition JSON.
func trustWith(cond string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole","Condition":` + cond + `}]}`
}

// A condition key under the wrong operator, with a wildcard, or naming
// another account does not guard against the confused deputy.
func TestReviewIAM2WeakConditions(t *testing.T) {
	weak := map[string]string{
		"Null SourceAccount":                 `{"Null":{"aws:SourceAccount":"false"}}`,
		"StringLike SourceAccount *":         `{"StringLike":{"aws:SourceAccount":"*"}}`,
		"StringEquals SourceAccount other":   `{"StringEquals":{"aws:SourceAccount":"210987654321"}}`,
		"StringEqualsIfExists SourceAccount": `{"StringEqualsIfExists":{"aws:SourceAccount":"123456789012"}}`,
		"StringNotEquals SourceAccount":      `{"StringNotEquals":{"aws:SourceAccount":"210987654321"}}`,
		"ForAllValues SourceAccount":         `{"ForAllValues:StringEquals":{"aws:SourceAccount":"123456789012"}}`,
		"one good one bad account":           `{"StringEquals":{"aws:SourceAccount":["123456789012","210987654321"]}}`,
		"Null SourceArn":                     `{"Null":{"aws:SourceArn":"false"}}`,
		"ArnLike SourceArn *":                `{"ArnLike":{"aws:SourceArn":"*"}}`,
		"ArnLike SourceArn any account":      `{"ArnLike":{"aws:SourceArn":"arn:aws:kinesisanalytics:*:*:application/*"}}`,
		"ArnLike SourceArn other service":    `{"ArnLike":{"aws:SourceArn":"arn:aws:lambda:eu-west-1:123456789012:function:x"}}`,
		"ArnLikeIfExists SourceArn":          `{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:kinesisanalytics:eu-west-1:123456789012:application/*"}}`,
		"StringLike SourceArn no account":    `{"StringLike":{"aws:SourceArn":"arn:aws:kinesisanalytics:*:application/*"}}`,
		"ArnEquals SourceArn other account":  `{"ArnEquals":{"aws:SourceArn":"arn:aws:kinesisanalytics:eu-west-1:210987654321:application/orders-enricher"}}`,
	}
	var cases []ruleCase
	for _, name := range slices.Sorted(maps.Keys(weak)) {
		cond := weak[name]
		// No automatic fix: a second condition on a key already conditioned
		// could contradict the first and deny the service.
		cases = append(cases, ruleCase{name: name, want: rules.NonCompliant, failed: strs("confused-deputy"),
			contains: strs("fix by hand"), mutate: withTrust(trustWith(cond))})
	}
	strong := map[string]string{
		"StringEquals SourceAccount":            `{"StringEquals":{"aws:SourceAccount":"123456789012"}}`,
		"StringLike literal SourceAccount":      `{"StringLike":{"aws:SourceAccount":"123456789012"}}`,
		"ArnEquals SourceArn":                   `{"ArnEquals":{"aws:SourceArn":"arn:aws:kinesisanalytics:eu-west-1:123456789012:application/orders-enricher"}}`,
		"StringLike SourceArn wildcard name":    `{"StringLike":{"aws:SourceArn":"arn:aws:kinesisanalytics:*:123456789012:application/*"}}`,
		"weak SourceAccount, good SourceArn":    `{"Null":{"aws:SourceAccount":"false"},"ArnLike":{"aws:SourceArn":"arn:aws:kinesisanalytics:eu-west-1:123456789012:application/*"}}`,
		"StringEquals SourceArn two apps":       `{"StringEquals":{"aws:SourceArn":["arn:aws:kinesisanalytics:eu-west-1:123456789012:application/a","arn:aws:kinesisanalytics:eu-west-1:123456789012:application/b"]}}`,
		"operator and key case (as IAM allows)": `{"stringequals":{"AWS:SourceAccount":"123456789012"}}`,
	}
	for _, name := range slices.Sorted(maps.Keys(strong)) {
		cond := strong[name]
		cases = append(cases, ruleCase{name: name, want: rules.Compliant, mutate: withTrust(trustWith(cond))})
	}
	runTable(t, "KDA.IAM.2", cases)
}

// A template's application names its account with a pseudo-parameter.
func TestReviewIAM2TemplateAccount(t *testing.T) {
	const tok = "${AWS::AccountId}"
	tmpl := func(cond string) func(a *model.Application) {
		return func(a *model.Application) {
			a.Account, a.Partition, a.Region = tok, "${AWS::Partition}", "${AWS::Region}"
			a.ARN = "arn:${AWS::Partition}:kinesisanalytics:${AWS::Region}:" + tok + ":application/" + appName
			withTrust(trustWith(cond))(a)
		}
	}
	runTable(t, "KDA.IAM.2", []ruleCase{
		{name: "symbolic SourceAccount", want: rules.Compliant,
			mutate: tmpl(`{"StringEquals":{"aws:SourceAccount":"${AWS::AccountId}"}}`)},
		{name: "symbolic SourceArn", want: rules.Compliant,
			mutate: tmpl(`{"ArnLike":{"aws:SourceArn":"arn:${AWS::Partition}:kinesisanalytics:${AWS::Region}:${AWS::AccountId}:application/*"}}`)},
		{name: "literal account (not checkable before deploy)", want: rules.Compliant,
			mutate: tmpl(`{"StringEquals":{"aws:SourceAccount":"123456789012"}}`)},
		{name: "symbolic SourceArn with wildcard account", want: rules.NonCompliant, failed: strs("confused-deputy"),
			mutate: tmpl(`{"ArnLike":{"aws:SourceArn":"arn:${AWS::Partition}:kinesisanalytics:${AWS::Region}:*:application/*"}}`)},
	})
}

// The remediator's own output must satisfy the rule, and leave other
// statements byte for byte.
func TestReviewIAM2FixOutputPasses(t *testing.T) {
	for _, users := range [][]string{{appName}, {appName, "payments-enricher"}} {
		app := newApp()
		withTrust(trustUnguarded)(app)
		app.Related.RoleUsers = model.Known(users)
		res := evaluate(t, "KDA.IAM.2", app, nil, now)
		if res.Status != rules.NonCompliant || len(res.Fixes) != 1 {
			t.Fatalf("before: %s %q", res.Status, res.Message)
		}
		args := res.Fixes[0].Args
		doc, changed, err := remediate.AddConfusedDeputyConditions(trustUnguarded, args["SourceAccount"], args["SourceArn"])
		if err != nil || !changed {
			t.Fatalf("AddConfusedDeputyConditions: changed=%v err=%v", changed, err)
		}
		withTrust(doc)(app)
		if res := evaluate(t, "KDA.IAM.2", app, nil, now); res.Status != rules.Compliant {
			t.Errorf("users %v: after the fix %s %q (policy %s)", users, res.Status, res.Message, doc)
		}
	}
}

// NotResource in an Allow statement means every resource but the listed ones.
func TestReviewIAM3NotResource(t *testing.T) {
	runTable(t, "KDA.IAM.3", []ruleCase{
		{name: "service:* with NotResource", want: rules.NonCompliant, failed: strs("service-wildcard"), contains: strs("kinesis:*", "NotResource"),
			mutate: withPolicies(inline(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","NotResource":"arn:aws:kinesis:eu-west-1:123456789012:stream/audit"}]}`), nil)},
		{name: "* with NotResource", want: rules.NonCompliant, failed: strs("wildcard-action"),
			mutate: withPolicies(inline(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","NotResource":"arn:aws:iam::123456789012:role/*"}]}`), nil)},
		{name: "NotAction with NotResource", want: rules.NonCompliant, failed: strs("wildcard-action"),
			mutate: withPolicies(inline(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:iam::123456789012:role/*"}]}`), nil)},
		{name: "Deny with NotResource is no grant", want: rules.Compliant,
			mutate: withPolicies(inline(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kinesis:*","NotResource":"arn:aws:kinesis:eu-west-1:123456789012:stream/orders"},{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::orders-enricher-code-123456789012/*"}]}`), nil)},
	})
}

// DP.3: a role that reaches streams through NotResource leaves the stream set
// unknown: never NOT_APPLICABLE or COMPLIANT.
func TestReviewDP3NotResourceUnknown(t *testing.T) {
	runTable(t, "KDA.DP.3", []ruleCase{
		{name: "only a NotResource grant", want: rules.Unknown, contains: strs("NotResource"),
			mutate: func(a *model.Application) {
				a.Properties = model.Known([]model.PropertyGroup{})
				withPolicies(inline(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:GetRecords","kinesis:GetShardIterator"],"NotResource":"arn:aws:kinesis:eu-west-1:123456789012:stream/audit"}]}`), []model.NamedPolicy{})(a)
			}},
	})
}

// KDA.DP.3 names streams in its message (and so in AWS Config annotations):
// a credential-looking runtime property never becomes one.
func TestReviewDP3NoCredentialAsStream(t *testing.T) {
	const sup = "Sup3rS3cret"
	for _, kv := range []map[string]string{
		{"passphrase": "arn:aws:kinesis:eu-west-1:123456789012:stream/" + sup},
		{"source.stream": "AKIAIOSFODNN7EXAMPLE"},
	} {
		app := newApp()
		app.Properties = model.Known([]model.PropertyGroup{{ID: "FlinkApplicationProperties", Properties: kv}})
		res := evaluate(t, "KDA.DP.3", app, nil, now)
		for _, s := range []string{sup, "AKIAIOSFODNN7EXAMPLE"} {
			if strings.Contains(res.Message, s) || slices.ContainsFunc(res.Failed, func(f string) bool { return strings.Contains(f, s) }) {
				t.Errorf("%v: DP.3 result carries the value: %q %q", kv, res.Message, res.Failed)
			}
			for _, f := range res.Fixes {
				if strings.Contains(f.Summary+f.Target+f.Args["StreamARN"], s) {
					t.Errorf("%v: DP.3 fix carries the value: %+v", kv, f)
				}
			}
		}
	}
}
