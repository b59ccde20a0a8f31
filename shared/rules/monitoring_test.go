package rules_test

import (
	"strings"
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

func noLogging(a *model.Application) { a.Logging = model.Known([]model.LoggingOption{}) }

func TestMON1Logging(t *testing.T) {
	runTable(t, "KDA.MON.1", []ruleCase{
		{name: "logging configured", want: rules.Compliant, contains: strs(logGroup)},
		{name: "no logging: fix with defaults", want: rules.NonCompliant, failed: strs("logging"), mutate: noLogging,
			fixes: []fixWant{{Condition: "logging", Target: appName, Args: map[string]string{
				"LogGroupName": "/aws/kinesis-analytics/orders-enricher", "LogStreamName": "kinesis-analytics-log-stream"}}}},
		{name: "no logging: fix with parameters", want: rules.NonCompliant, failed: strs("logging"), mutate: noLogging,
			params: map[string]string{"logGroupName": "/org/flink/{application}/app", "logStreamName": "application"},
			fixes: []fixWant{{Condition: "logging", Target: appName, Args: map[string]string{
				"LogGroupName": "/org/flink/orders-enricher/app", "LogStreamName": "application"}}}},
		{name: "SQL application without logging", want: rules.NonCompliant, failed: strs("logging"),
			mutate: func(a *model.Application) { sqlApp(a); noLogging(a) },
			fixes:  []fixWant{{Condition: "logging", Target: appName}}},
		{name: "logging unknown", want: rules.Unknown, contains: strs("logging options"),
			mutate: func(a *model.Application) { a.Logging = model.Unknown[[]model.LoggingOption]("not read") }},
	})
}

func monitoring(typ, level string) func(a *model.Application) {
	return func(a *model.Application) {
		a.Monitoring = model.Known(model.Monitoring{ConfigurationType: typ, LogLevel: level, MetricsLevel: "APPLICATION"})
	}
}

func TestMON2LogLevel(t *testing.T) {
	setInfo := []fixWant{{Condition: "log-level", Target: appName, Update: &rules.AppUpdate{LogLevel: "INFO"}}}
	runTable(t, "KDA.MON.2", []ruleCase{
		{name: "CUSTOM INFO", want: rules.Compliant},
		{name: "CUSTOM WARN", want: rules.Compliant, mutate: monitoring(model.ConfigCustom, "WARN")},
		{name: "DEFAULT means INFO, whatever the custom value", want: rules.Compliant, mutate: monitoring(model.ConfigDefault, "DEBUG")},
		{name: "DEBUG", want: rules.NonCompliant, failed: strs("log-level"), fixes: setInfo,
			mutate: monitoring(model.ConfigCustom, "DEBUG"), contains: strs("DEBUG", "INFO")},
		{name: "ERROR", want: rules.NonCompliant, failed: strs("log-level"), fixes: setInfo, mutate: monitoring(model.ConfigCustom, "ERROR")},
		{name: "ERROR allowed by parameter", want: rules.Compliant, mutate: monitoring(model.ConfigCustom, "ERROR"),
			params: map[string]string{"ruleId": "KDA.MON.2", "allowedLogLevels": "info, warn, error"}},
		{name: "WARN not allowed, target WARN ignored case", want: rules.NonCompliant, failed: strs("log-level"),
			mutate: monitoring(model.ConfigCustom, "DEBUG"), params: map[string]string{"allowedLogLevels": "WARN", "targetLogLevel": "warn"},
			fixes: []fixWant{{Condition: "log-level", Target: appName, Update: &rules.AppUpdate{LogLevel: "WARN"}}}},
		{name: "INFO not allowed, no target given: the fix sets the first allowed level", want: rules.NonCompliant, failed: strs("log-level"),
			mutate: monitoring(model.ConfigCustom, "DEBUG"), params: map[string]string{"allowedLogLevels": " warn ,ERROR"},
			contains: strs("set WARN"), absent: strs("INFO"),
			fixes: []fixWant{{Condition: "log-level", Target: appName, Update: &rules.AppUpdate{LogLevel: "WARN"}}}},
		{name: "INFO allowed but not first, no target given: the default INFO", want: rules.NonCompliant, failed: strs("log-level"),
			mutate: monitoring(model.ConfigCustom, "DEBUG"), params: map[string]string{"allowedLogLevels": "WARN,INFO"}, fixes: setInfo},
		{name: "Studio notebook DEBUG: reported, no fix", want: rules.NonCompliant, failed: strs("log-level"),
			mutate: func(a *model.Application) { studioApp(a); monitoring(model.ConfigCustom, "DEBUG")(a) }},
		{name: "monitoring unknown", want: rules.Unknown,
			mutate: func(a *model.Application) { a.Monitoring = model.Unknown[model.Monitoring]("template: Fn::If") }},
		{name: "SQL application", want: rules.NotApplicable, mutate: sqlApp},
	})
}

func logGroupWith(retention int32, kms string) func(a *model.Application) {
	return func(a *model.Application) {
		a.Related.LogGroups[logGroup] = model.Known(model.LogGroup{Name: logGroup, RetentionDays: retention, KMSKeyID: kms})
	}
}

func TestMON3LogGroups(t *testing.T) {
	retentionFix := func(days string) []fixWant {
		return []fixWant{{Condition: "retention:" + logGroup, Target: logGroup,
			Args: map[string]string{"LogGroupName": logGroup, "RetentionInDays": days}}}
	}
	runTable(t, "KDA.MON.3", []ruleCase{
		{name: "retention and KMS", want: rules.Compliant},
		{name: "never expires: fix with default retention", want: rules.NonCompliant, failed: strs("retention:" + logGroup),
			fixes: retentionFix("365"), mutate: logGroupWith(0, keyARN), contains: strs("never expires")},
		{name: "never expires: retention parameter", want: rules.NonCompliant, failed: strs("retention:" + logGroup),
			fixes: retentionFix("90"), mutate: logGroupWith(0, keyARN), params: map[string]string{"retentionDays": "90"}},
		{name: "no KMS: reported, no fix", want: rules.NonCompliant, failed: strs("kms:" + logGroup),
			mutate: logGroupWith(30, ""), contains: strs("KMS")},
		{name: "neither: fix for retention only, kms stays failed", want: rules.NonCompliant,
			failed: strs("retention:"+logGroup, "kms:"+logGroup), fixes: retentionFix("365"), mutate: logGroupWith(0, "")},
		{name: "log group unknown", want: rules.Unknown, contains: strs(logGroup, "ResourceNotFoundException"),
			mutate: func(a *model.Application) {
				a.Related.LogGroups[logGroup] = model.Unknown[model.LogGroup]("logs:DescribeLogGroups: ResourceNotFoundException")
			}},
		{name: "log groups not read", want: rules.Unknown, mutate: func(a *model.Application) { a.Related.LogGroups = nil }},
		{name: "one group failing, one unknown", want: rules.NonCompliant, failed: strs("kms:" + logGroup),
			contains: strs("could not verify log group /aws/kinesis-analytics/other"),
			mutate: func(a *model.Application) {
				logGroupWith(30, "")(a)
				other := "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesis-analytics/other:log-stream:s"
				opts := a.Logging.Value()
				a.Logging = model.Known(append(opts, model.LoggingOption{ID: "1.2", LogStreamARN: other, LogGroup: model.LogGroupFromStreamARN(other)}))
			}},
		{name: "no logging", want: rules.NotApplicable, mutate: noLogging, contains: strs("KDA.MON.1")},
		{name: "logging unknown", want: rules.Unknown,
			mutate: func(a *model.Application) { a.Logging = model.Unknown[[]model.LoggingOption]("") }},
	})
}

func alarm(name, metric, app string) model.Alarm {
	return model.Alarm{Name: name, Namespace: "AWS/KinesisAnalytics", MetricName: metric, Dimensions: map[string]string{"Application": app}}
}

func TestMON4Alarms(t *testing.T) {
	runTable(t, "KDA.MON.4", []ruleCase{
		{name: "both alarms", want: rules.Compliant},
		{name: "none", want: rules.NonCompliant, failed: strs("alarms"), contains: strs("downtime", "numberOfFailedCheckpoints", appName),
			mutate: func(a *model.Application) { a.Related.Alarms = model.Known([]model.Alarm{}) }},
		{name: "downtime only", want: rules.NonCompliant, failed: strs("alarms"), contains: strs("numberOfFailedCheckpoints"),
			absent: strs("no alarm on downtime"),
			mutate: func(a *model.Application) {
				a.Related.Alarms = model.Known([]model.Alarm{alarm("orders-enricher-downtime", "downtime", appName)})
			}},
		{name: "alarms on another application", want: rules.NonCompliant, failed: strs("alarms"),
			mutate: func(a *model.Application) {
				a.Related.Alarms = model.Known([]model.Alarm{alarm("d", "downtime", "payments-enricher"),
					alarm("c", "numberOfFailedCheckpoints", "payments-enricher")})
			}},
		{name: "alarms in another namespace", want: rules.NonCompliant, failed: strs("alarms"),
			mutate: func(a *model.Application) {
				a.Related.Alarms = model.Known([]model.Alarm{{Name: "d", Namespace: "Custom/Flink", MetricName: "downtime",
					Dimensions: map[string]string{"Application": appName}}, alarm("c", "numberOfFailedCheckpoints", appName)})
			}},
		{name: "metric name case-insensitive", want: rules.Compliant,
			mutate: func(a *model.Application) {
				a.Related.Alarms = model.Known([]model.Alarm{alarm("d", "Downtime", appName), alarm("c", "NumberOfFailedCheckpoints", appName)})
			}},
		{name: "required metrics parameter", want: rules.NonCompliant, failed: strs("alarms"), contains: strs("millisBehindLatest"),
			params: map[string]string{"requiredMetrics": "downtime, millisBehindLatest"}},
		{name: "alarms unknown", want: rules.Unknown,
			mutate: func(a *model.Application) {
				a.Related.Alarms = model.Unknown[[]model.Alarm]("cloudwatch:DescribeAlarms: AccessDenied")
			}},
		{name: "SQL application", want: rules.NotApplicable, mutate: sqlApp},
	})
}

func trails(ts ...model.Trail) func(a *model.Application) {
	return func(a *model.Application) { a.Related.Trails = model.Known(ts) }
}

func trail(name string, multi bool, logging model.Fact[bool]) model.Trail {
	return model.Trail{Name: name, ARN: "arn:aws:cloudtrail:eu-west-1:123456789012:trail/" + name, MultiRegion: multi, Logging: logging}
}

func TestMON5Trail(t *testing.T) {
	runTable(t, "KDA.MON.5", []ruleCase{
		{name: "multi-Region trail logging", want: rules.Compliant, contains: strs("management-events")},
		{name: "no trail", want: rules.NonCompliant, failed: strs("multi-region-trail"), mutate: trails()},
		{name: "single-Region trail only", want: rules.NonCompliant, failed: strs("multi-region-trail"),
			mutate: trails(trail("regional", false, model.Known(true)))},
		{name: "multi-Region trail stopped", want: rules.NonCompliant, failed: strs("multi-region-trail"),
			mutate: trails(trail("org-trail", true, model.Known(false)))},
		{name: "a stopped one and a logging one", want: rules.Compliant,
			mutate: trails(trail("old", true, model.Known(false)), trail("org-trail", true, model.Known(true)))},
		{name: "status unknown", want: rules.Unknown, contains: strs("org-trail"),
			mutate: trails(trail("org-trail", true, model.Unknown[bool]("cloudtrail:GetTrailStatus: trail in another account")))},
		{name: "status unknown and another logging", want: rules.Compliant,
			mutate: trails(trail("shadow", true, model.Unknown[bool]("")), trail("org-trail", true, model.Known(true)))},
		{name: "trails unknown", want: rules.Unknown,
			mutate: func(a *model.Application) {
				a.Related.Trails = model.Unknown[[]model.Trail]("cloudtrail:DescribeTrails: AccessDenied")
			}},
	})
}

// Account-level rules read only account facts: the same result for any application.
func TestAccountRulesIgnoreApplication(t *testing.T) {
	for _, id := range []string{"KDA.MON.5", "KDA.CMP.1"} {
		a, b := newApp(), newApp()
		sqlApp(b)
		b.Name = "legacy-sql"
		ra, rb := evaluate(t, id, a, nil, now), evaluate(t, id, b, nil, now)
		if ra.Status != rb.Status || strings.Contains(rb.Message, "legacy-sql") {
			t.Errorf("%s: %s vs %s (%q)", id, ra.Status, rb.Status, rb.Message)
		}
	}
}
