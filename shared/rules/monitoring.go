package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/kdaguard/kdaguard/shared/model"
)

// MetricsNamespace is where the service publishes application metrics.
const MetricsNamespace = "AWS/KinesisAnalytics"

func init() {
	register(&Rule{
		ID:        "KDA.MON.1",
		Title:     "CloudWatch logging is configured",
		Topic:     TopicMonitoring,
		Severity:  Medium,
		Rationale: "\"Enable CloudWatch logging for the application\": without it, failures and security-relevant errors leave no trace.",
		Doc:       docBase + "cloudwatch-logs.html",
		NIST:      []string{"AU-2", "AU-12", "SI-4"},
		PCI:       []string{"10.2.1"},
		Params: []Param{
			{Name: "logGroupName", Type: TypeString, Default: "/aws/kinesis-analytics/{application}",
				Pattern:     regexp.MustCompile(`^([.\-_/#A-Za-z0-9]|\{application\}){1,512}$`),
				Description: "Log group the fix creates; {application} is replaced by the application name."},
			{Name: "logStreamName", Type: TypeString, Default: "kinesis-analytics-log-stream",
				Pattern: regexp.MustCompile(`^[^:*]{1,512}$`), Description: "Log stream the fix creates."},
		},
		Remediation: Remediation{Kind: RemediationAuto, Call: "kinesisanalyticsv2:AddApplicationCloudWatchLoggingOption",
			Description: "Create the log group and stream, then add the logging option (reported instead when the role lacks logs:PutLogEvents)."},
		Check: checkLogging,
	})
	register(&Rule{
		ID:        "KDA.MON.2",
		Title:     "The log level is INFO or WARN",
		Topic:     TopicMonitoring,
		Severity:  Low,
		Rationale: "The guide recommends INFO; DEBUG only temporarily (volume, cost, possible data in logs), and ERROR alone hides the events an investigation needs.",
		Doc:       docBase + "cloudwatch-logs.html",
		NIST:      []string{"AU-12"},
		PCI:       []string{"10.2.1"},
		Params: []Param{
			{Name: "allowedLogLevels", Type: TypeList, Default: "INFO,WARN", Allowed: []string{"DEBUG", "INFO", "WARN", "ERROR"},
				Description: "Log levels that comply."},
			{Name: "targetLogLevel", Type: TypeString, Default: "INFO", Allowed: []string{"DEBUG", "INFO", "WARN", "ERROR"},
				Description: "Log level the fix sets; it must be one of allowedLogLevels. When not given: INFO if allowed, else the first of allowedLogLevels."},
		},
		// The fix sets targetLogLevel: one that the check rejects would update
		// (and restart) the application on every run without ever complying.
		CheckParams: func(p Params) error {
			if target := p.String("targetLogLevel"); p.Given("targetLogLevel") && !p.ListHas("allowedLogLevels", target) {
				return fmt.Errorf("parameter targetLogLevel %q is not in allowedLogLevels %q: the fix would never make the application comply; set targetLogLevel to an allowed level",
					target, p.String("allowedLogLevels"))
			}
			return nil
		},
		Remediation: Remediation{Kind: RemediationAuto, Call: "kinesisanalyticsv2:UpdateApplication",
			Description: "Set MonitoringConfiguration to CUSTOM with the target log level, in the application's one merged update."},
		Check: checkLogLevel,
	})
	register(&Rule{
		ID:        "KDA.MON.3",
		Title:     "The application log group has a retention period and KMS encryption",
		Topic:     TopicMonitoring,
		Severity:  Low,
		Rationale: "Logs kept forever grow cost and exposure; logs encrypted only with the service key cannot be access-controlled with KMS.",
		Doc:       docBase + "cloudwatch-logs.html",
		NIST:      []string{"AU-9", "AU-11"},
		PCI:       []string{"10.5.1"},
		Needs:     []model.Facet{model.FacetLogGroups},
		Params: []Param{{Name: "retentionDays", Type: TypeInt, Default: "365",
			Allowed:     []string{"1", "3", "5", "7", "14", "30", "60", "90", "120", "150", "180", "365", "400", "545", "731", "1096", "1827", "2192", "2557", "2922", "3288", "3653"},
			Description: "Retention the fix sets (one of CloudWatch Logs' allowed values)."}},
		Remediation: Remediation{Kind: RemediationOptIn, Call: "logs:PutRetentionPolicy",
			Description: "Set the retention period (it deletes older events: opt-in); KMS encryption is reported only."},
		Check: checkLogGroups,
	})
	register(&Rule{
		ID:        "KDA.MON.4",
		Title:     "Alarms exist on downtime and on failed checkpoints",
		Topic:     TopicMonitoring,
		Severity:  Low,
		Rationale: "The guide recommends alarms on downtime > 0 and on numberOfFailedCheckpoints; without them an outage or a state that can no longer be recovered goes unnoticed.",
		Doc:       docBase + "monitoring-metrics-alarms.html",
		NIST:      []string{"SI-4"},
		PCI:       []string{"10.2.1"},
		Needs:     []model.Facet{model.FacetAlarms},
		Params: []Param{{Name: "requiredMetrics", Type: TypeList, Default: "downtime,numberOfFailedCheckpoints",
			Description: "Metrics of namespace AWS/KinesisAnalytics that need an alarm with dimension Application."}},
		Check: checkAlarms,
	})
	register(&Rule{
		ID:        "KDA.MON.5",
		Title:     "The account has a multi-Region CloudTrail trail that is logging",
		Topic:     TopicMonitoring,
		Severity:  Medium,
		Rationale: "CloudTrail is how changes to applications (and to their roles and keys) are audited; the guide asks to use it.",
		Doc:       docBase + "logging-using-cloudtrail.html",
		NIST:      []string{"AU-2", "AU-12"},
		PCI:       []string{"10.2.1"},
		Needs:     []model.Facet{model.FacetTrails},
		Scope:     ScopeAccount,
		Check:     checkTrail,
	})
}

func checkLogging(in Input) Result {
	a := in.App
	opts, ok := a.Logging.Get()
	if !ok {
		return unknown("logging options", a.Logging.Reason())
	}
	if len(opts) > 0 {
		return pass("CloudWatch logging is configured (" + opts[0].LogGroup + ")")
	}
	group := strings.ReplaceAll(in.Params.String("logGroupName"), "{application}", a.Name)
	stream := in.Params.String("logStreamName")
	return Result{Status: NonCompliant, Message: "CloudWatch logging is not configured: add a CloudWatch logging option",
		Failed: []string{"logging"},
		Fixes: []Fix{{Condition: "logging", Target: a.Name,
			Summary: "create log group " + group + " and stream " + stream + ", then AddApplicationCloudWatchLoggingOption",
			Args:    map[string]string{"LogGroupName": group, "LogStreamName": stream}}}}
}

func checkLogLevel(in Input) Result {
	a := in.App
	if a.IsSQL() {
		return notApplicable("SQL applications have no log level setting")
	}
	m, ok := a.Monitoring.Get()
	if !ok {
		return unknown("monitoring configuration", a.Monitoring.Reason())
	}
	level := m.EffectiveLogLevel()
	if in.Params.ListHas("allowedLogLevels", level) {
		return pass("log level is " + level)
	}
	target := targetLogLevel(in.Params)
	res := fail("log level is "+level+": set "+target+" (allowed: "+in.Params.String("allowedLogLevels")+")", "log-level")
	// Studio notebooks take another update shape: reported only.
	if a.IsFlinkStreaming() {
		res.Fixes = []Fix{{Condition: "log-level", Target: a.Name, Summary: "UpdateApplication MonitoringConfiguration CUSTOM, LogLevel " + target,
			Update: &AppUpdate{LogLevel: target}}}
	}
	return res
}

// targetLogLevel is the level MON.2's fix sets, always one the check allows
// (a given target is validated against allowedLogLevels): the given target, else
// the default INFO if allowed, else the first allowed level.
func targetLogLevel(p Params) string {
	target := p.String("targetLogLevel")
	if !p.Given("targetLogLevel") && !p.ListHas("allowedLogLevels", target) {
		target, _, _ = strings.Cut(p.String("allowedLogLevels"), ",")
	}
	return strings.ToUpper(strings.TrimSpace(target))
}

func checkLogGroups(in Input) Result {
	a := in.App
	opts, ok := a.Logging.Get()
	if !ok {
		return unknown("logging options", a.Logging.Reason())
	}
	if len(opts) == 0 {
		return notApplicable("no CloudWatch logging configured (see KDA.MON.1)")
	}
	var v verdict
	days := strconv.Itoa(in.Params.Int("retentionDays"))
	for _, o := range opts {
		f := a.Related.LogGroups[o.LogGroup]
		g, ok := f.Get()
		if !ok {
			v.unknown("log group "+o.LogGroup, f.Reason())
			continue
		}
		if g.RetentionDays != 0 {
			v.hold("retention:" + g.Name)
		} else {
			v.fix("retention:"+g.Name, "log group "+g.Name+" never expires: set a retention period", Fix{Target: g.Name,
				Summary: "PutRetentionPolicy on " + g.Name + " to " + days + " days",
				Args:    map[string]string{"LogGroupName": g.Name, "RetentionInDays": days}})
		}
		if g.KMSKeyID == "" {
			v.fail("kms:"+g.Name, "log group "+g.Name+" is not encrypted with a KMS key: associate one")
		}
	}
	return v.result("application log groups have a retention period and KMS encryption")
}

func checkAlarms(in Input) Result {
	a := in.App
	if a.IsSQL() {
		return notApplicable("the recommended alarms are on Flink metrics")
	}
	alarms, ok := a.Related.Alarms.Get()
	if !ok {
		return unknown("alarms", a.Related.Alarms.Reason())
	}
	var missing []string
	for metric := range strings.SplitSeq(in.Params.String("requiredMetrics"), ",") {
		metric = strings.TrimSpace(metric)
		if metric == "" {
			continue
		}
		found := false
		for _, al := range alarms {
			found = found || al.Namespace == MetricsNamespace && strings.EqualFold(al.MetricName, metric) &&
				al.Dimensions["Application"] == a.Name
		}
		if !found {
			missing = append(missing, metric)
		}
	}
	if len(missing) == 0 {
		return pass("alarms exist on " + in.Params.String("requiredMetrics"))
	}
	return fail("no alarm on "+strings.Join(missing, ", ")+" (namespace "+MetricsNamespace+", dimension Application="+a.Name+"): create them", "alarms")
}

func checkTrail(in Input) Result {
	trails, ok := in.App.Related.Trails.Get()
	if !ok {
		return unknown("CloudTrail trails", in.App.Related.Trails.Reason())
	}
	var v verdict
	for _, t := range trails {
		if !t.MultiRegion {
			continue
		}
		logging, ok := t.Logging.Get()
		if !ok {
			v.unknown("status of trail "+t.Name, t.Logging.Reason())
			continue
		}
		if logging {
			return pass("multi-Region trail " + t.Name + " is logging")
		}
	}
	if len(v.unknowns) > 0 {
		return v.result("")
	}
	return fail("no multi-Region CloudTrail trail is logging in this account: create one or start logging", "multi-region-trail")
}
