package model_test

// Regression tests for bugs found in the model.

import (
	"slices"
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
)

// Enhanced fan-out: the documented EFO policy grants SubscribeToShard on the
// consumer ARN (and consumer/*). The stream read is "orders".
func TestKinesisStreamsEFOConsumer(t *testing.T) {
	for _, res := range []string{
		"arn:aws:kinesis:eu-west-1:123456789012:stream/orders/consumer/orders-enricher-efo:1700000000",
		"arn:aws:kinesis:eu-west-1:123456789012:stream/orders/consumer/*",
	} {
		a := flinkApp(nil, readOrders, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:SubscribeToShard","kinesis:DescribeStreamConsumer"],"Resource":"`+res+`"}]}`)
		arns, complete, reason := a.KinesisStreams()
		if !slices.Equal(arns, []string{ordersARN}) || !complete {
			t.Errorf("%s: arns %q complete %v (%s), want [%s] true", res, arns, complete, reason, ordersARN)
		}
	}
}

// Lists of non-string scalars in conditions, as IAM accepts scalars.
func TestParsePolicyConditionListOfNumbers(t *testing.T) {
	_, err := model.ParsePolicy(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NumericGreaterThan":{"aws:MultiFactorAuthAge":[3600]},"Bool":{"aws:MultiFactorAuthPresent":[false]}}}]}`)
	if err != nil {
		t.Errorf("list of numbers/booleans rejected: %v", err)
	}
}

// A template that imports its streams leaves them unresolved: the streams are
// unknown, not absent (else KDA.DP.3 would say NOT_APPLICABLE).
func TestUnresolvedStreamsAreIncomplete(t *testing.T) {
	sql := &model.Application{Runtime: model.Known("SQL-1_0"),
		SQLInputs: []string{model.UnresolvedPrefix + "Fn::ImportValue SharedStreamArn}}"}}
	if arns, complete, reason := sql.KinesisStreams(); complete || len(arns) != 0 || reason == "" {
		t.Errorf("SQL: %v %v %q", arns, complete, reason)
	}
	flink := &model.Application{Runtime: model.Known("FLINK-1_20"), Account: "${AWS::AccountId}", Region: "${AWS::Region}",
		Properties: model.Known([]model.PropertyGroup{{ID: "app", Properties: map[string]string{
			"input.stream.name": model.UnresolvedPrefix + "InputStreamParam}}"}}}),
		Related: model.Related{Role: model.Known(model.Role{Inline: model.Known([]model.NamedPolicy{}), Attached: model.Known([]model.NamedPolicy{})})}}
	if _, complete, reason := flink.KinesisStreams(); complete || reason == "" {
		t.Errorf("Flink: complete=%v %q", complete, reason)
	}
}
