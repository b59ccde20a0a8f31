package rules_test

// Regression tests for bugs the table tests found in the catalog.

import (
	"strings"
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

// A failure the application itself shows (unpinned object) is reported even
// when the bucket could not be read, as verdict promises: "any failure makes
// the result NON_COMPLIANT (naming the unknowns too)".
func TestDP4UnpinnedWithBucketUnknown(t *testing.T) {
	app := newApp()
	setCode(app, func(c *model.Code) { c.ObjectVersion = "" })
	app.Related.Bucket = model.Unknown[model.Bucket]("s3:GetBucket*: AccessDenied")
	res := evaluate(t, "KDA.DP.4", app, nil, now)
	if res.Status != rules.NonCompliant {
		t.Errorf("status = %s (%q), want NON_COMPLIANT for object-version", res.Status, res.Message)
	}
}

// The Flink Kinesis connector's own basic-credentials property
// (AWSConfigConstants.AWS_SECRET_ACCESS_KEY) holding a literal.
func TestDP5ConnectorSecretKey(t *testing.T) {
	app := newApp()
	app.Properties = model.Known([]model.PropertyGroup{{ID: "ConsumerConfigProperties", Properties: map[string]string{
		"aws.credentials.provider":                 "BASIC",
		"aws.credentials.provider.basic.secretkey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	}}})
	res := evaluate(t, "KDA.DP.5", app, nil, now)
	if res.Status != rules.NonCompliant {
		t.Errorf("status = %s (%q), want NON_COMPLIANT", res.Status, res.Message)
	}
}

// A secret-named key whose name also looks like a stream-name key: DP.3
// reports the value as a stream name.
func TestSecretLeaksThroughDP3(t *testing.T) {
	app := newApp()
	app.Properties = model.Known([]model.PropertyGroup{{ID: "Sink", Properties: map[string]string{
		"auth.token.stream": "tok_9fE3c1xPlanted",
	}}})
	sel, _ := rules.Select(nil, nil)
	for _, f := range sel.Evaluate(app, now) {
		if f.Rule.ID == "KDA.DP.5" && f.Status != rules.NonCompliant {
			t.Errorf("DP.5 did not flag it: %s", f.Message)
		}
		if out := f.Message + jsonOf(f.Fixes) + jsonOf(f.Failed); strings.Contains(out, "tok_9fE3c1xPlanted") {
			t.Errorf("%s leaks the value: %s", f.Rule.ID, out)
		}
	}
}

// Order independence: a stopped recorder listed before a recording one.
func TestCMP1RecorderOrder(t *testing.T) {
	stopped := model.Recorder{Name: "default", AllSupported: true}
	linked := model.Recorder{Name: "AWSConfigurationRecorderForSecurityHub", Recording: true, AllSupported: true}
	for _, rs := range [][]model.Recorder{{stopped, linked}, {linked, stopped}} {
		app := newApp()
		app.Related.Recorders = model.Known(rs)
		res := evaluate(t, "KDA.CMP.1", app, nil, now)
		if res.Status != rules.Compliant {
			t.Errorf("order %s,%s: %s %q, want COMPLIANT", rs[0].Name, rs[1].Name, res.Status, res.Message)
		}
	}
}

// retentionDays must be one of CloudWatch Logs' values, as its description says.
func TestMON3RetentionValidated(t *testing.T) {
	for _, v := range []string{"0", "42", "366"} {
		if _, err := rules.NewParams(rule(t, "KDA.MON.3"), map[string]string{"retentionDays": v}); err == nil {
			t.Errorf("retentionDays=%s accepted; PutRetentionPolicy would reject it", v)
		}
	}
}

// Overrides given under a lower-case id are accepted by Select but ignored.
func TestSelectOverrideIDCase(t *testing.T) {
	_, err := rules.Select(nil, map[string]map[string]string{"kda.mon.2": {"targetLogLevel": "TRACE"}})
	if err == nil {
		t.Error("invalid value under kda.mon.2 accepted")
	}
	sel, err := rules.Select(nil, map[string]map[string]string{"kda.mon.2": {"allowedLogLevels": "DEBUG"}})
	if err != nil {
		t.Fatal(err)
	}
	app := newApp()
	app.Monitoring = model.Known(model.Monitoring{ConfigurationType: model.ConfigCustom, LogLevel: "DEBUG"})
	for _, f := range sel.Evaluate(app, now) {
		if f.Rule.ID == "KDA.MON.2" && f.Status != rules.Compliant {
			t.Errorf("override ignored: %s %q", f.Status, f.Message)
		}
	}
}

func TestDP3EFOConsumer(t *testing.T) {
	app := newApp()
	setRole(app, func(r *model.Role) {
		r.Inline = model.Known(append(r.Inline.Value(), model.NamedPolicy{Name: "efo", Document: policy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:SubscribeToShard","kinesis:DescribeStreamConsumer"],"Resource":"arn:aws:kinesis:eu-west-1:123456789012:stream/orders/consumer/orders-enricher-efo:1700000000"}]}`)}))
	})
	if res := evaluate(t, "KDA.DP.3", app, nil, now); res.Status != rules.Compliant {
		t.Errorf("%s %q", res.Status, res.Message)
	}
}

// Same input, same output: DP.3 and DP.5 results must not depend on map order.
func TestDeterministicOrder(t *testing.T) {
	build := func() *model.Application {
		app := newApp()
		app.Related.Streams[inStream] = model.Known(model.Stream{ARN: inStream, EncryptionType: "NONE"})
		app.Related.Streams[outStream] = model.Known(model.Stream{ARN: outStream, EncryptionType: "NONE"})
		g := app.Properties.Value()[0].Properties
		for _, k := range []string{"password", "db.password", "api.token", "client.secret", "mq.password"} {
			g[k] = "hunter2"
		}
		return app
	}
	for _, id := range []string{"KDA.DP.3", "KDA.DP.5"} {
		first := jsonOf(evaluate(t, id, build(), nil, now))
		for range 50 {
			if got := jsonOf(evaluate(t, id, build(), nil, now)); got != first {
				t.Errorf("%s differs between runs:\n%s\n%s", id, first, got)
				break
			}
		}
	}
}

// A fix is verified on positive evidence only: a multi-condition rule names
// the conditions it read and found holding, also when others fail or could
// not be read (the remediator's verification reads Held).
func TestHeldConditionsAreNamed(t *testing.T) {
	app := newApp()
	app.Related.Streams[outStream] = model.Unknown[model.Stream]("access denied: needs kinesis:DescribeStreamSummary on " + outStream)
	res := evaluate(t, "KDA.DP.3", app, nil, now)
	if res.Status != rules.Unknown || len(res.Held) != 1 || res.Held[0] != "encryption:"+inStream {
		t.Errorf("DP.3: %s held %v, want UNKNOWN holding encryption:%s", res.Status, res.Held, inStream)
	}
	for _, c := range res.Held {
		if c == "encryption:"+outStream {
			t.Error("an unread stream must not be held")
		}
	}
}
