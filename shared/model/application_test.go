package model_test

import (
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
)

func TestFact(t *testing.T) {
	var zero model.Fact[[]string]
	if zero.Known() || zero.Reason() != "not read" || zero.Value() != nil {
		t.Errorf("zero fact: known %v, reason %q", zero.Known(), zero.Reason())
	}
	if _, ok := zero.Get(); ok {
		t.Error("zero fact Get ok")
	}
	empty := model.Known([]string{})
	if v, ok := empty.Get(); !ok || v == nil || len(v) != 0 || empty.Reason() != "" {
		t.Errorf("known empty list: %v %v %q", v, ok, empty.Reason())
	}
	u := model.Unknown[bool]("kms:GetKeyRotationStatus: AccessDeniedException")
	if u.Known() || u.Value() || u.Reason() != "kms:GetKeyRotationStatus: AccessDeniedException" {
		t.Errorf("unknown: %v %q", u.Known(), u.Reason())
	}
	if r := model.Unknown[int]("").Reason(); r != "not read" {
		t.Errorf("unknown without reason: %q", r)
	}
	if k := model.Known(false); !k.Known() || k.Value() {
		t.Error("known false")
	}
}

func TestLogGroupFromStreamARN(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesis-analytics/orders-enricher:log-stream:kinesis-analytics-log-stream": "/aws/kinesis-analytics/orders-enricher",
		"arn:aws-cn:logs:cn-north-1:123456789012:log-group:flink.app_logs-1#prod:log-stream:app":                                       "flink.app_logs-1#prod",
		"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesis-analytics/orders-enricher:*":                                       "/aws/kinesis-analytics/orders-enricher",
		"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesis-analytics/orders-enricher":                                         "/aws/kinesis-analytics/orders-enricher",
		"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesis-analytics/orders-enricher:log-stream:":                             "/aws/kinesis-analytics/orders-enricher",
		"arn:aws:kinesis:eu-west-1:123456789012:stream/orders":                                                                         "",
		"": "",
	} {
		if got := model.LogGroupFromStreamARN(arn); got != want {
			t.Errorf("LogGroupFromStreamARN(%q) = %q, want %q", arn, got, want)
		}
	}
}

func TestApplicationKinds(t *testing.T) {
	cases := []struct {
		runtime     model.Fact[string]
		mode        string
		sql, studio bool
	}{
		{model.Known("FLINK-1_20"), model.ModeStreaming, false, false},
		{model.Known("FLINK-1_20"), "", false, false},
		{model.Known("SQL-1_0"), "", true, false},
		{model.Known("ZEPPELIN-FLINK-3_0"), model.ModeInteractive, false, true},
		{model.Known("ZEPPELIN-FLINK-2_0"), "", false, true},
		{model.Known("FLINK-1_15"), model.ModeInteractive, false, true},
		{model.Unknown[string]("template parameter"), "", false, false},
	}
	for _, tc := range cases {
		a := &model.Application{Runtime: tc.runtime, Mode: tc.mode}
		if a.IsSQL() != tc.sql || a.IsStudio() != tc.studio || a.IsFlinkStreaming() != (!tc.sql && !tc.studio) {
			t.Errorf("%v/%s: sql %v studio %v flink %v", tc.runtime.Value(), tc.mode, a.IsSQL(), a.IsStudio(), a.IsFlinkStreaming())
		}
	}
}

func TestResource(t *testing.T) {
	a := &model.Application{Name: "orders-enricher"}
	if a.Resource() != "orders-enricher" {
		t.Errorf("live: %q", a.Resource())
	}
	a.Origin = model.Origin{File: "infra/template.yaml", LogicalID: "OrdersEnricherApp", Line: 12}
	if a.Resource() != "OrdersEnricherApp" {
		t.Errorf("template: %q", a.Resource())
	}
}

func TestConfigurationDefaults(t *testing.T) {
	for _, tc := range []struct {
		c    model.Checkpoint
		want bool
	}{
		{model.Checkpoint{ConfigurationType: model.ConfigDefault}, true},
		{model.Checkpoint{ConfigurationType: model.ConfigDefault, Enabled: false, IntervalMs: 1}, true},
		{model.Checkpoint{}, true},
		{model.Checkpoint{ConfigurationType: model.ConfigCustom, Enabled: true}, true},
		{model.Checkpoint{ConfigurationType: model.ConfigCustom}, false},
	} {
		if tc.c.IsEnabled() != tc.want {
			t.Errorf("%+v.IsEnabled() = %v", tc.c, !tc.want)
		}
	}
	for _, tc := range []struct {
		m    model.Monitoring
		want string
	}{
		{model.Monitoring{ConfigurationType: model.ConfigDefault, LogLevel: "DEBUG"}, "INFO"},
		{model.Monitoring{}, "INFO"},
		{model.Monitoring{ConfigurationType: model.ConfigCustom, LogLevel: "WARN"}, "WARN"},
		{model.Monitoring{ConfigurationType: model.ConfigCustom, LogLevel: "DEBUG"}, "DEBUG"},
	} {
		if got := tc.m.EffectiveLogLevel(); got != tc.want {
			t.Errorf("%+v.EffectiveLogLevel() = %s", tc.m, got)
		}
	}
	for _, tc := range []struct {
		p    model.Parallelism
		want bool
	}{
		{model.Parallelism{ConfigurationType: model.ConfigDefault}, true},
		{model.Parallelism{ConfigurationType: model.ConfigCustom, AutoScalingEnabled: true, Parallelism: 4}, true},
		{model.Parallelism{ConfigurationType: model.ConfigCustom, Parallelism: 4}, false},
	} {
		if tc.p.AutoScaling() != tc.want {
			t.Errorf("%+v.AutoScaling() = %v", tc.p, !tc.want)
		}
	}
	all := model.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
	if !all.All() {
		t.Error("all four on")
	}
	for i := range 4 {
		p := all
		switch i {
		case 0:
			p.BlockPublicAcls = false
		case 1:
			p.IgnorePublicAcls = false
		case 2:
			p.BlockPublicPolicy = false
		case 3:
			p.RestrictPublicBuckets = false
		}
		if p.All() {
			t.Errorf("setting %d off still All", i)
		}
	}
}
