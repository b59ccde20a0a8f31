package model_test

import (
	"strings"
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
)

// A runtime property the credential detector flags never becomes a stream in
// KinesisStreams, whatever its value looks like: the stream set ends up in
// KDA.DP.3's message and in AWS Config annotations.
func TestReviewSecretPropertiesAreNoStreams(t *testing.T) {
	const sup = "Sup3rS3cret"
	for _, props := range []map[string]string{
		{"passphrase": "arn:aws:kinesis:eu-west-1:123456789012:stream/" + sup},
		{"source.stream": "AKIAIOSFODNN7EXAMPLE"},
		{"source.stream.name": "AKIAIOSFODNN7EXAMPLE"},
		{"apiKey": "arn:aws:kinesis:eu-west-1:123456789012:stream/" + sup},
		{"sink.stream.passwd": sup},
		{"dbpassword": "arn:aws:kinesis:eu-west-1:123456789012:stream/" + sup},
		{"mqtt.passphrase.stream": sup},
		{"x": "https://user:" + sup + "@arn:aws:kinesis:eu-west-1:123456789012:stream/" + sup},
	} {
		arns, _, reason := flinkApp(props).KinesisStreams()
		for _, a := range arns {
			if strings.Contains(a, sup) || strings.Contains(a, "AKIA") {
				t.Errorf("%v: stream %q comes from a credential", props, a)
			}
		}
		if strings.Contains(reason, sup) {
			t.Errorf("%v: reason %q holds the value", props, reason)
		}
		var k, v string
		for k, v = range props {
		}
		if model.SecretKind(k, v) == "" {
			t.Errorf("SecretKind(%q) = \"\": the detector does not flag it", k)
		}
	}
	// Not credentials: still streams.
	arns, _, _ := flinkApp(map[string]string{"input.stream.arn": ordersARN, "output.stream.name": "clickstream"}).KinesisStreams()
	if len(arns) != 2 || arns[0] != ordersARN || arns[1] != clicksARN {
		t.Errorf("arns = %q", arns)
	}
}
