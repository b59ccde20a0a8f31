package model_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
)

const (
	ordersARN   = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
	enrichedARN = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders-enriched"
	clicksARN   = "arn:aws:kinesis:eu-west-1:123456789012:stream/clickstream"
)

func known(doc string) model.Fact[model.PolicyDocument] {
	p, err := model.ParsePolicy(doc)
	if err != nil {
		panic(err)
	}
	return model.Known(p)
}

func flinkApp(props map[string]string, inline ...string) *model.Application {
	var pols []model.NamedPolicy
	for i, d := range inline {
		pols = append(pols, model.NamedPolicy{Name: "inline-" + string(rune('a'+i)), Document: known(d)})
	}
	return &model.Application{
		Name: "orders-enricher", Account: "123456789012", Region: "eu-west-1", Partition: "aws",
		Runtime:    model.Known("FLINK-1_20"),
		Properties: model.Known([]model.PropertyGroup{{ID: "FlinkApplicationProperties", Properties: props}}),
		Related: model.Related{Role: model.Known(model.Role{
			Name:     "kinesis-analytics-orders-enricher-eu-west-1",
			Inline:   model.Known(pols),
			Attached: model.Known([]model.NamedPolicy{}),
		})},
	}
}

const readOrders = `{"Version":"2012-10-17","Statement":[{"Sid":"ReadInput","Effect":"Allow","Action":["kinesis:DescribeStream","kinesis:GetShardIterator","kinesis:GetRecords","kinesis:ListShards"],"Resource":"arn:aws:kinesis:eu-west-1:123456789012:stream/orders"}]}`

func TestKinesisStreams(t *testing.T) {
	cases := []struct {
		name     string
		app      func() *model.Application
		want     []string
		complete bool
		reason   string // substring
	}{
		{name: "role only", want: strs(ordersARN), complete: true,
			app: func() *model.Application { return flinkApp(nil, readOrders) }},
		{name: "role and a stream ARN property, deduplicated", want: strs(ordersARN, enrichedARN), complete: true,
			app: func() *model.Application {
				return flinkApp(map[string]string{"input.stream.arn": ordersARN, "output.stream.arn": enrichedARN},
					readOrders, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:PutRecord","kinesis:PutRecords"],"Resource":["arn:aws:kinesis:eu-west-1:123456789012:stream/orders-enriched"]}]}`)
			}},
		{name: "stream name properties", want: strs(clicksARN), complete: true,
			app: func() *model.Application {
				return flinkApp(map[string]string{"InputStreamName": "clickstream", "output.stream": "clickstream",
					"aws.region": "eu-west-1", "checkpoint.name": "nightly", "stream.initial.position": "LATEST"})
			}},
		{name: "a name with invalid characters is not a stream", want: nil, complete: true,
			app: func() *model.Application {
				return flinkApp(map[string]string{"input.stream.name": "orders stream", "sink.stream.name": "${OUTPUT}",
					"dlq.stream.name": strings.Repeat("a", 129), "empty.stream.name": ""})
			}},
		{name: "names need account and Region", want: nil, complete: true,
			app: func() *model.Application {
				a := flinkApp(map[string]string{"input.stream.name": "orders"})
				a.Account = ""
				return a
			}},
		{name: "template pseudo-parameters and partition", complete: true,
			want: strs("arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/orders"),
			app: func() *model.Application {
				a := flinkApp(map[string]string{"input.stream.name": "orders"})
				a.Account, a.Region, a.Partition = "${AWS::AccountId}", "${AWS::Region}", "${AWS::Partition}"
				return a
			}},
		{name: "GovCloud partition from the ARN", want: strs("arn:aws-us-gov:kinesis:us-gov-west-1:123456789012:stream/orders"), complete: true,
			app: func() *model.Application {
				return flinkApp(map[string]string{"x": "arn:aws-us-gov:kinesis:us-gov-west-1:123456789012:stream/orders"})
			}},
		{name: "read access to a wildcard: incomplete", want: nil, complete: false, reason: "stream/orders-*",
			app: func() *model.Application {
				return flinkApp(nil, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:Get*","Resource":"arn:aws:kinesis:eu-west-1:123456789012:stream/orders-*"}]}`)
			}},
		{name: "kinesis:* on *: incomplete", want: strs(ordersARN), complete: false, reason: "*",
			app: func() *model.Application {
				return flinkApp(nil, readOrders, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}`)
			}},
		{name: "control-plane actions on * do not count", want: strs(ordersARN), complete: true,
			app: func() *model.Application {
				return flinkApp(nil, readOrders, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:ListStreams","kinesis:DescribeStreamSummary"],"Resource":"*"}]}`)
			}},
		{name: "Deny statements do not count", want: nil, complete: true,
			app: func() *model.Application {
				return flinkApp(nil, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kinesis:*","Resource":"*"}]}`)
			}},
		{name: "attached policy too", want: strs(ordersARN, clicksARN), complete: true,
			app: func() *model.Application {
				a := flinkApp(nil, readOrders)
				r := a.Related.Role.Value()
				r.Attached = model.Known([]model.NamedPolicy{{Name: "clickstream-reader", ARN: "arn:aws:iam::123456789012:policy/clickstream-reader",
					Document: known(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kinesis:SubscribeToShard","Resource":"arn:aws:kinesis:eu-west-1:123456789012:stream/clickstream"}}`)}})
				a.Related.Role = model.Known(r)
				return a
			}},
		{name: "role unknown", want: strs(ordersARN), complete: false, reason: "execution role: iam:GetRole: AccessDenied",
			app: func() *model.Application {
				a := flinkApp(map[string]string{"input.stream.arn": ordersARN})
				a.Related.Role = model.Unknown[model.Role]("iam:GetRole: AccessDenied")
				return a
			}},
		{name: "inline policies unknown", complete: false, reason: "inline policies",
			app: func() *model.Application {
				a := flinkApp(nil)
				r := a.Related.Role.Value()
				r.Inline = model.Unknown[[]model.NamedPolicy]("iam:ListRolePolicies: AccessDenied")
				a.Related.Role = model.Known(r)
				return a
			}},
		{name: "attached policies unknown", complete: false, reason: "attached policies",
			app: func() *model.Application {
				a := flinkApp(nil, readOrders)
				r := a.Related.Role.Value()
				r.Attached = model.Unknown[[]model.NamedPolicy]("")
				a.Related.Role = model.Known(r)
				return a
			}},
		{name: "a policy document unknown", want: strs(ordersARN), complete: false, reason: "a role policy",
			app: func() *model.Application {
				a := flinkApp(nil, readOrders)
				r := a.Related.Role.Value()
				r.Attached = model.Known([]model.NamedPolicy{{Name: "p", Document: model.Unknown[model.PolicyDocument]("iam:GetPolicyVersion: AccessDenied")}})
				a.Related.Role = model.Known(r)
				return a
			}},
		{name: "properties unknown", want: strs(ordersARN), complete: false, reason: "runtime properties",
			app: func() *model.Application {
				a := flinkApp(nil, readOrders)
				a.Properties = model.Unknown[[]model.PropertyGroup]("template: Fn::If")
				return a
			}},
		{name: "SQL: inputs and outputs, Firehose ignored, role irrelevant", want: strs(ordersARN, enrichedARN), complete: true,
			app: func() *model.Application {
				return &model.Application{Runtime: model.Known("SQL-1_0"),
					SQLInputs:  []string{ordersARN},
					SQLOutputs: []string{enrichedARN, "arn:aws:firehose:eu-west-1:123456789012:deliverystream/orders-to-s3", ordersARN},
					Related:    model.Related{Role: model.Unknown[model.Role]("")}}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			arns, complete, reason := tc.app().KinesisStreams()
			slices.Sort(arns)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(arns, want) {
				t.Errorf("arns = %q, want %q", arns, want)
			}
			if complete != tc.complete {
				t.Errorf("complete = %v (%q), want %v", complete, reason, tc.complete)
			}
			if complete && reason != "" {
				t.Errorf("complete with a reason %q", reason)
			}
			if !strings.Contains(reason, tc.reason) {
				t.Errorf("reason = %q, want it to contain %q", reason, tc.reason)
			}
		})
	}
}

func TestStreamARNHelpers(t *testing.T) {
	for s, want := range map[string]bool{
		ordersARN: true,
		"arn:aws-cn:kinesis:cn-north-1:123456789012:stream/orders":                           true,
		"arn:aws:kinesis:eu-west-1:123456789012:stream/orders/consumer/flink-efo:1700000000": true,
		"arn:aws:firehose:eu-west-1:123456789012:deliverystream/orders-to-s3":                false,
		"arn:aws:kinesisvideo:eu-west-1:123456789012:stream/cam/1700000000000":               false,
		"orders":                false,
		"kinesis:stream/orders": false,
		"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesis-analytics/orders:log-stream:app": false,
	} {
		if got := model.IsStreamARN(s); got != want {
			t.Errorf("IsStreamARN(%q) = %v", s, got)
		}
	}
	if got := model.StreamARN("", "eu-west-1", "123456789012", "orders"); got != ordersARN {
		t.Errorf("StreamARN default partition = %q", got)
	}
	if got := model.StreamARN("aws-cn", "cn-north-1", "123456789012", "orders"); got != "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/orders" {
		t.Errorf("StreamARN aws-cn = %q", got)
	}
	for arn, want := range map[string]string{
		ordersARN: "orders",
		"arn:aws:kinesis:eu-west-1:123456789012:stream/orders/consumer/flink-efo:1700000000": "orders",
		"arn:aws:kinesis:eu-west-1:123456789012:stream/":                                     "",
		"not-an-arn": "",
	} {
		if got := model.StreamName(arn); got != want {
			t.Errorf("StreamName(%q) = %q, want %q", arn, got, want)
		}
	}
}
