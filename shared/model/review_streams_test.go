package model_test

import (
	"slices"
	"strings"
	"testing"
)

// An Allow statement with NotResource reaches every stream but the listed
// ones; NotAction grants every action but the listed ones.
func TestReviewKinesisStreamsNotResourceNotAction(t *testing.T) {
	cases := []struct {
		name     string
		policy   string
		want     []string
		complete bool
		reason   string
	}{
		{name: "data actions with NotResource: incomplete",
			policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:GetRecords","kinesis:GetShardIterator"],"NotResource":"arn:aws:kinesis:eu-west-1:123456789012:stream/orders"}]}`,
			reason: "NotResource"},
		{name: "NotResource on another service still reaches every stream",
			policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:PutRecords","NotResource":"arn:aws:s3:::orders-bucket/*"}]}`,
			reason: "NotResource"},
		{name: "NotAction and NotResource: incomplete",
			policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:iam::123456789012:role/*"}]}`,
			reason: "NotResource"},
		{name: "NotAction on *: incomplete",
			policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`,
			reason: "*"},
		{name: "NotAction on one stream: that stream", want: strs(ordersARN), complete: true,
			policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"arn:aws:kinesis:eu-west-1:123456789012:stream/orders"}]}`},
		{name: "NotAction excluding the data actions does not count", complete: true,
			policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"kinesis:*","NotResource":"arn:aws:s3:::x"}]}`},
		{name: "Deny with NotResource is no grant", complete: true,
			policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kinesis:*","NotResource":"arn:aws:kinesis:eu-west-1:123456789012:stream/orders"}]}`},
		{name: "control-plane actions with NotResource do not count", complete: true,
			policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:ListStreams","NotResource":"arn:aws:kinesis:eu-west-1:123456789012:stream/orders"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			arns, complete, reason := flinkApp(nil, tc.policy).KinesisStreams()
			if !slices.Equal(arns, tc.want) {
				t.Errorf("arns = %q, want %q", arns, tc.want)
			}
			if complete != tc.complete {
				t.Errorf("complete = %v (%q), want %v", complete, reason, tc.complete)
			}
			if !strings.Contains(reason, tc.reason) {
				t.Errorf("reason = %q, want it to contain %q", reason, tc.reason)
			}
		})
	}
}
