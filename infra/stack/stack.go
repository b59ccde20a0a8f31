package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsconfig"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/kdaguard/kdaguard/shared/rules"
)

// The two functions, by their folder under functions/ and dist/.
const (
	Evaluator  = "configrule"
	Remediator = "remediator"
)

// Functions are the folders whose dist/<name>/bootstrap the stack deploys.
var Functions = []string{Evaluator, Remediator}

// Sizing, from `make size` (the compiled bootstraps under the RIE against
// localaws; figures in infra/README.md): a scheduled run of every rule over
// 500 fully related applications peaks at 52-60 MB resident and a merged
// remediation at about 32 MB, so 128 MB leaves at least 2x headroom. CPU,
// which Lambda gives in proportion to memory (1 vCPU at 1,769 MB), is about
// 0.8 ms per application per rule run and 20 ms per remediation: at 128 MB a
// 500-application run needs about 6 s of its 300 s and a remediation 0.3 s.
// GoMemLimit makes the Go collector work harder near the limit instead of
// letting the function be killed for memory.
const (
	EvaluatorMemoryMB  = 128
	RemediatorMemoryMB = 128
	EvaluatorTimeoutS  = 300 // a scheduled run lists and evaluates every application
	RemediatorTimeoutS = 120 // three guarded attempts, the logging call, verification
	// MaxEventWaitMinutes is how long an event may wait in Lambda's
	// asynchronous queue (AsyncEventAge) before an alarm: throttled events
	// are retried with a backoff of up to 5 minutes.
	MaxEventWaitMinutes = 15
	ConfigRulePrefix    = "kdaguard-"
	MetricNamespace     = "kdaguard"
	FailedMetricName    = "FailedRemediations"
	FailedFilterPattern = `{ $.outcome = "failed" }`
	ApplicationType     = "AWS::KinesisAnalyticsV2::Application"
)

// MutatingEvents are the CloudTrail event names of kinesisanalytics calls that
// change an application (../shared/kda-security-facts.md); the remediator
// re-reads the named application after any of them.
var MutatingEvents = []string{
	"CreateApplication", "UpdateApplication", "DeleteApplication", "RollbackApplication",
	"UpdateApplicationMaintenanceConfiguration",
	"AddApplicationCloudWatchLoggingOption", "DeleteApplicationCloudWatchLoggingOption",
	"AddApplicationVpcConfiguration", "DeleteApplicationVpcConfiguration",
	"AddApplicationInput", "AddApplicationInputProcessingConfiguration", "DeleteApplicationInputProcessingConfiguration",
	"AddApplicationOutput", "DeleteApplicationOutput",
	"AddApplicationReferenceDataSource", "DeleteApplicationReferenceDataSource",
	"TagResource", "UntagResource", "StartApplication", "StopApplication",
	"CreateApplicationSnapshot", "DeleteApplicationSnapshot",
}

// Props of the stack.
type Props struct {
	awscdk.StackProps
	Config Config
	// DistDir holds <function>/bootstrap for every function (the Makefile's dist/).
	DistDir string
}

// CheckDist verifies that every function's bootstrap is built; Code_FromAsset
// panics on a missing folder, so the app calls this first.
func CheckDist(dir string) error {
	var missing []string
	for _, fn := range Functions {
		p := filepath.Join(dir, fn, "bootstrap")
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing Lambda binaries %s: run `make build` first (it builds dist/<function>/bootstrap for linux/arm64)", strings.Join(missing, ", "))
	}
	return nil
}

// Stack is the built stack with the constructs tests look at.
type Stack struct {
	awscdk.Stack
	Key            awskms.Key
	Topic          awssns.Topic
	EvaluatorFn    awslambda.Function
	RemediatorFn   awslambda.Function
	EvaluatorRole  awsiam.Role
	RemediatorRole awsiam.Role
	ChangeRule     awsevents.Rule
	ComplianceRule awsevents.Rule

	dash []dashFn // what the dashboard shows, gathered while building
}

func s(v string) *string   { return jsii.String(v) }
func n(v float64) *float64 { return jsii.Number(v) }
func sub(v string) *string { return awscdk.Fn_Sub(s(v), nil) }

// New builds the stack. It returns an error for a configuration it cannot
// deploy (a missing binary, a fix without an IAM statement).
func New(scope constructs.Construct, id string, props *Props) (*Stack, error) {
	cfg := props.Config
	if err := CheckDist(props.DistDir); err != nil {
		return nil, err
	}
	writes, err := RemediatorWriteGrants(cfg)
	if err != nil {
		return nil, err
	}
	reads, err := ReadGrants(cfg)
	if err != nil {
		return nil, err
	}
	for _, gs := range [][]Grant{reads, EvaluatorGrants, writes} {
		if err := CheckGrants(gs); err != nil {
			return nil, err
		}
	}

	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = s("kdaguard: AWS Config rules and auto-remediation for Managed Service for Apache Flink applications")
	}
	st := awscdk.NewStack(scope, s(id), &sp)
	out := &Stack{Stack: st}

	key := newKey(st)
	out.Key = key

	topic := awssns.NewTopic(st, s("Notifications"), &awssns.TopicProps{
		DisplayName: s("kdaguard"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	if cfg.NotificationEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(s(cfg.NotificationEmail), nil))
	}
	out.Topic = topic

	evalRole := newRole(st, "EvaluatorRole", "kdaguard Config rule evaluator: read-only, plus its own Config evaluations")
	remRole := newRole(st, "RemediatorRole", "kdaguard remediator: reads, and the writes of the fixes enabled by its configuration")
	out.EvaluatorRole, out.RemediatorRole = evalRole, remRole
	addGrants(evalRole, reads)
	addGrants(evalRole, EvaluatorGrants)
	addGrants(remRole, reads)
	addGrants(remRole, writes)
	addGrants(remRole, []Grant{
		{Sid: "AuditEvents", Actions: []string{"events:PutEvents"},
			Resources: []string{"arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/" + cfg.EventBus}},
	})
	remRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: s("Notify"), Actions: jsii.Strings("sns:Publish"), Resources: &[]*string{topic.TopicArn()},
	}))
	// Publishing to the KMS-encrypted topic.
	remRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: s("NotifyEncrypted"), Actions: jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"), Resources: &[]*string{key.KeyArn()},
	}))

	env := cfg.sharedEnv()
	evalFn := newFunction(st, out, Evaluator, fnSpec{
		role: evalRole, memory: EvaluatorMemoryMB, timeout: EvaluatorTimeoutS, env: env, dist: props.DistDir,
		// Every periodic rule fires at once: without a bound, 23 scheduled runs
		// would each describe every application at the same moment.
		retention: cfg.LogRetentionDays, concurrency: cfg.EvaluatorConcurrency,
		desc: "kdaguard AWS Config custom rule evaluator (one function for every kdaguard-* rule)",
	}, key, topic)
	remEnv := map[string]string{}
	for k, v := range env {
		remEnv[k] = v
	}
	remFn := newFunction(st, out, Remediator, fnSpec{
		role: remRole, memory: RemediatorMemoryMB, timeout: RemediatorTimeoutS, env: remEnv, dist: props.DistDir,
		retention: cfg.LogRetentionDays, concurrency: cfg.RemediatorConcurrency,
		desc: "kdaguard remediator for CloudTrail and Config compliance-change events",
	}, key, topic)
	remFn.AddEnvironment(s("KDAGUARD_TOPIC_ARN"), topic.TopicArn(), nil)
	remFn.AddEnvironment(s("KDAGUARD_SELF_ROLE_ARN"), remRole.RoleArn(), nil)
	out.EvaluatorFn, out.RemediatorFn = evalFn, remFn

	addConfigRules(st, cfg, evalFn)
	out.ChangeRule, out.ComplianceRule = addEventRules(st, remFn, remRole, out)
	addMonitoring(st, cfg, out)
	addSuppressions(st, out, reads, writes)
	return out, nil
}

// newKey is the stack's one customer managed key: notification topic, log
// groups and dead-letter queues. Its policy is written out in full so that no
// statement grants a wildcard action (the CDK default gives the account kms:*).
func newKey(st awscdk.Stack) awskms.Key {
	root := awsiam.NewAccountRootPrincipal()
	anyone := awsiam.NewAnyPrincipal()
	policy := awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &[]awsiam.PolicyStatement{
		// Delegates key administration to IAM in this account (PutKeyPolicy
		// keeps the key manageable), and decrypt for operators reading the
		// dead-letter queues. The actions are the key administration set
		// spelled out.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: s("AccountAdministersKey"), Principals: &[]awsiam.IPrincipal{root}, Resources: jsii.Strings("*"),
			Actions: jsii.Strings(
				"kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:ListKeyPolicies",
				"kms:GetKeyRotationStatus", "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:ListKeyRotations", "kms:RotateKeyOnDemand",
				"kms:EnableKey", "kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
				"kms:UpdateKeyDescription", "kms:TagResource", "kms:UntagResource", "kms:ListResourceTags",
				"kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:ListAliases",
				"kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant", "kms:RetireGrant",
				"kms:Decrypt", "kms:GenerateDataKey"),
		}),
		// CT.KMS.PR.3: grants only for AWS services.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: s("GrantsOnlyForAWSServices"), Effect: awsiam.Effect_DENY, Principals: &[]awsiam.IPrincipal{anyone},
			Actions: jsii.Strings("kms:CreateGrant"), Resources: jsii.Strings("*"),
			Conditions: &map[string]any{"BoolIfExists": map[string]any{
				"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        s("CloudWatchLogsEncryptsKdaguardLogs"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(sub("logs.${AWS::Region}.amazonaws.com"), nil)},
			Actions: jsii.Strings("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
				"kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"),
			Resources: jsii.Strings("*"),
			Conditions: &map[string]any{"ArnLike": map[string]any{
				"kms:EncryptionContext:aws:logs:arn": sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/kdaguard/${AWS::StackName}/*")}},
		}),
		// Alarm actions publish to the encrypted topic.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        s("CloudWatchAlarmsPublish"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(s("cloudwatch.amazonaws.com"), nil)},
			Actions:    jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"), Resources: jsii.Strings("*"),
		}),
		// EventBridge writes undeliverable events to the encrypted DLQ.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        s("EventBridgeDeadLetters"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(s("events.amazonaws.com"), nil)},
			Actions:    jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"), Resources: jsii.Strings("*"),
			Conditions: &map[string]any{"ArnLike": map[string]any{
				"aws:SourceArn": sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/*")}},
		}),
	}})
	return awskms.NewKey(st, s("Key"), &awskms.KeyProps{
		Description:       s("kdaguard: notifications, logs and dead-letter queues"),
		EnableKeyRotation: jsii.Bool(true),
		Policy:            policy,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
}

func newRole(st awscdk.Stack, id, desc string) awsiam.Role {
	return awsiam.NewRole(st, s(id), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(s("lambda.amazonaws.com"), nil),
		Description: s(desc),
	})
}

func addGrants(role awsiam.Role, gs []Grant) {
	for _, g := range gs {
		res := make([]*string, len(g.Resources))
		for i, r := range g.Resources {
			if r == "*" {
				res[i] = s(r)
			} else {
				res[i] = sub(r)
			}
		}
		p := &awsiam.PolicyStatementProps{Sid: s(g.Sid), Actions: jsii.Strings(g.Actions...), Resources: &res}
		if g.Condition != nil {
			p.Conditions = resolveSubs(g.Condition)
		}
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(p))
	}
}

// resolveSubs turns condition values with ${...} into Fn::Sub.
func resolveSubs(m map[string]any) *map[string]any {
	out := map[string]any{}
	for k, v := range m {
		switch v := v.(type) {
		case map[string]any:
			out[k] = *resolveSubs(v)
		case string:
			if strings.Contains(v, "${") {
				out[k] = sub(v)
			} else {
				out[k] = v
			}
		default:
			out[k] = v
		}
	}
	return &out
}

// GoMemLimit is the Go runtime's soft memory limit for a function of
// memoryMB: 80%, leaving the rest to what the Go heap does not count
// (stacks, the mapped binary, the runtime itself).
func GoMemLimit(memoryMB float64) string {
	return fmt.Sprintf("%dMiB", int(memoryMB*8/10))
}

type fnSpec struct {
	role        awsiam.Role
	memory      float64
	timeout     float64
	env         map[string]string
	dist        string
	retention   int
	concurrency int
	desc        string
}

// newFunction builds one function with its log group (KMS, retention) and its
// encrypted dead-letter queue for failed asynchronous invocations (AWS Config
// and EventBridge both invoke asynchronously).
func newFunction(st awscdk.Stack, out *Stack, name string, f fnSpec, key awskms.Key, topic awssns.Topic) awslambda.Function {
	id := strings.ToUpper(name[:1]) + name[1:]
	lg := awslogs.NewLogGroup(st, s(id+"Logs"), &awslogs.LogGroupProps{
		LogGroupName:  sub("/kdaguard/${AWS::StackName}/" + name),
		EncryptionKey: key,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN, // audit records outlive the stack
	})
	lg.Node().DefaultChild().(awslogs.CfnLogGroup).SetRetentionInDays(n(float64(f.retention)))
	f.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: s("WriteOwnLogs"), Actions: jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: &[]*string{lg.LogGroupArn()},
	}))

	dlq := awssqs.NewQueue(st, s(id+"DeadLetters"), &awssqs.QueueProps{
		Encryption:          awssqs.QueueEncryption_KMS,
		EncryptionMasterKey: key,
		EnforceSSL:          jsii.Bool(true),
		RetentionPeriod:     awscdk.Duration_Days(n(14)),
	})
	f.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: s("DeadLetters"), Actions: jsii.Strings("sqs:SendMessage"), Resources: &[]*string{dlq.QueueArn()},
	}))
	f.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: s("DeadLettersEncrypted"), Actions: jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"), Resources: &[]*string{key.KeyArn()},
	}))

	env := map[string]*string{"GOMEMLIMIT": s(GoMemLimit(f.memory))}
	for _, k := range sortedKeys(f.env) {
		env[k] = s(f.env[k])
	}
	props := &awslambda.FunctionProps{
		Description:   s(f.desc),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       s("bootstrap"),
		Code:          awslambda.Code_FromAsset(s(filepath.Join(f.dist, name)), nil),
		MemorySize:    n(f.memory),
		Timeout:       awscdk.Duration_Seconds(n(f.timeout)),
		Role:          f.role,
		LogGroup:      lg,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		Environment:   &env,
		RetryAttempts: n(2),
		MaxEventAge:   awscdk.Duration_Hours(n(6)),
	}
	if f.concurrency > 0 {
		props.ReservedConcurrentExecutions = n(float64(f.concurrency))
	}
	fn := awslambda.NewFunction(st, s(id), props)
	// The dead-letter queue is set on the L1 so that the CDK adds no grant of
	// its own (its grant carries wildcard KMS actions); the exact statements
	// are above.
	cfn := fn.Node().DefaultChild().(awslambda.CfnFunction)
	cfn.SetDeadLetterConfig(&awslambda.CfnFunction_DeadLetterConfigProperty{TargetArn: dlq.QueueArn()})
	cfn.Node().AddDependency(f.role)

	alarm := func(aid, what string, m awscloudwatch.IMetric, threshold float64) {
		a := awscloudwatch.NewAlarm(st, s(id+aid), &awscloudwatch.AlarmProps{
			AlarmDescription:   s(fmt.Sprintf("kdaguard %s: %s", name, what)),
			Metric:             m,
			Threshold:          n(threshold),
			EvaluationPeriods:  n(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
		a.AddOkAction(awscloudwatchactions.NewSnsAction(topic))
	}
	five := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(n(5)), Statistic: s("Sum")}
	alarm("Errors", "invocations failed (see its log group)", fn.MetricErrors(five), 1)
	// Both functions are invoked asynchronously and have reserved concurrency,
	// so throttling is expected (Lambda queues and retries the event for up to
	// MaxEventAge); what matters is an event that waits too long.
	alarm("EventAge", fmt.Sprintf("an event waited more than %d minutes to be processed (throttled by its reserved concurrency, or failing)", MaxEventWaitMinutes),
		fn.Metric(s("AsyncEventAge"), &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(n(5)), Statistic: s("Maximum")}),
		MaxEventWaitMinutes*60*1000)
	alarm("DeadLetterDepth", "events in the dead-letter queue, never processed",
		dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(n(5)), Statistic: s("Maximum")}), 1)
	alarm("DeadLetterErrors", "events that could not be written to the dead-letter queue",
		fn.Metric(s("DeadLetterErrors"), five), 1)

	if name == Remediator {
		lg.AddMetricFilter(s("FailedRemediations"), &awslogs.MetricFilterOptions{
			FilterPattern:   awslogs.FilterPattern_Literal(s(FailedFilterPattern)),
			MetricNamespace: s(MetricNamespace),
			MetricName:      s(FailedMetricName),
			MetricValue:     s("1"),
			DefaultValue:    n(0),
		})
		alarm("FailedRemediations", "a remediation failed or could not be verified (audit log outcome=failed)",
			awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: s(MetricNamespace), MetricName: s(FailedMetricName),
				Period: awscdk.Duration_Minutes(n(5)), Statistic: s("Sum")}), 1)
	}
	out.dash = append(out.dash, dashFn{name, fn, dlq})
	return fn
}

type dashFn struct {
	name string
	fn   awslambda.Function
	dlq  awssqs.Queue
}

// addConfigRules creates one AWS Config custom rule per enabled catalog rule,
// all served by the evaluator.
func addConfigRules(st awscdk.Stack, cfg Config, fn awslambda.Function) {
	perm := awslambda.NewCfnPermission(st, s("ConfigInvokesEvaluator"), &awslambda.CfnPermissionProps{
		Action:        s("lambda:InvokeFunction"),
		FunctionName:  fn.FunctionArn(),
		Principal:     s("config.amazonaws.com"),
		SourceAccount: awscdk.Aws_ACCOUNT_ID(),
	})
	for _, r := range cfg.EnabledRules() {
		params, _ := json.Marshal(cfg.InputParameters(r.ID))
		var input map[string]any
		_ = json.Unmarshal(params, &input)
		details := []any{}
		var scope any
		if r.Scope != rules.ScopeAccount {
			for _, t := range []string{"ConfigurationItemChangeNotification", "OversizedConfigurationItemChangeNotification"} {
				details = append(details, &awsconfig.CfnConfigRule_SourceDetailProperty{
					EventSource: s("aws.config"), MessageType: s(t)})
			}
			scope = &awsconfig.CfnConfigRule_ScopeProperty{ComplianceResourceTypes: jsii.Strings(ApplicationType)}
		}
		details = append(details, &awsconfig.CfnConfigRule_SourceDetailProperty{
			EventSource: s("aws.config"), MessageType: s("ScheduledNotification"),
			MaximumExecutionFrequency: s(cfg.ScheduleFrequency)})
		desc := r.ID + ": " + r.Title
		if len(desc) > 256 {
			desc = desc[:253] + "..."
		}
		rule := awsconfig.NewCfnConfigRule(st, s("Rule"+strings.ReplaceAll(r.ID, ".", "")), &awsconfig.CfnConfigRuleProps{
			ConfigRuleName:  s(ConfigRulePrefix + r.ID),
			Description:     s(desc),
			InputParameters: input,
			Scope:           scope,
			Source: &awsconfig.CfnConfigRule_SourceProperty{
				Owner:            s("CUSTOM_LAMBDA"),
				SourceIdentifier: fn.FunctionArn(),
				SourceDetails:    details,
			},
		})
		rule.Node().AddDependency(perm)
	}
}

// addEventRules routes (a) successful mutating kinesisanalytics calls made by
// anyone but the remediator itself and (b) compliance changes of kdaguard's
// Config rules to the remediator.
func addEventRules(st awscdk.Stack, fn awslambda.Function, role awsiam.Role, out *Stack) (awsevents.Rule, awsevents.Rule) {
	dlq := awssqs.NewQueue(st, s("EventDeliveryDeadLetters"), &awssqs.QueueProps{
		Encryption:          awssqs.QueueEncryption_KMS,
		EncryptionMasterKey: out.Key,
		EnforceSSL:          jsii.Bool(true),
		RetentionPeriod:     awscdk.Duration_Days(n(14)),
	})
	target := func() awsevents.IRuleTarget {
		return awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: dlq, RetryAttempts: n(8), MaxEventAge: awscdk.Duration_Hours(n(2)),
		})
	}
	selfPrefix := awscdk.Fn_Join(s(""), &[]*string{
		s("arn:"), awscdk.Aws_PARTITION(), s(":sts::"), awscdk.Aws_ACCOUNT_ID(), s(":assumed-role/"), role.RoleName(), s("/"),
	})
	change := awsevents.NewRule(st, s("ApplicationChanges"), &awsevents.RuleProps{
		Description: s("kdaguard: successful changes to Flink applications by anyone but the kdaguard remediator"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.kinesisanalytics"),
			DetailType: jsii.Strings("AWS API Call via CloudTrail"),
			Detail: &map[string]any{
				"eventSource": []any{"kinesisanalytics.amazonaws.com"},
				"eventName":   toAny(MutatingEvents),
				"errorCode":   []any{map[string]any{"exists": false}},
				// userIdentity.arn is carried by every identity type (IAM
				// users, root, role sessions); sessionContext is not.
				"userIdentity": map[string]any{
					"arn": []any{map[string]any{"anything-but": map[string]any{"prefix": selfPrefix}}},
				},
			},
		},
		Targets: &[]awsevents.IRuleTarget{target()},
	})
	compliance := awsevents.NewRule(st, s("ComplianceChanges"), &awsevents.RuleProps{
		Description: s("kdaguard: kdaguard Config rules finding a resource non-compliant (periodic drift included)"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.config"),
			DetailType: jsii.Strings("Config Rules Compliance Change"),
			Detail: &map[string]any{
				"configRuleName":      []any{map[string]any{"prefix": ConfigRulePrefix}},
				"newEvaluationResult": map[string]any{"complianceType": []any{"NON_COMPLIANT"}},
			},
		},
		Targets: &[]awsevents.IRuleTarget{target()},
	})
	out.dash = append(out.dash, dashFn{"event delivery", nil, dlq})
	a := awscloudwatch.NewAlarm(st, s("EventDeliveryDeadLetterDepth"), &awscloudwatch.AlarmProps{
		AlarmDescription: s("kdaguard: EventBridge could not deliver events to the remediator"),
		Metric: dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(n(5)), Statistic: s("Maximum")}),
		Threshold: n(1), EvaluationPeriods: n(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	a.AddAlarmAction(awscloudwatchactions.NewSnsAction(out.Topic))
	a.AddOkAction(awscloudwatchactions.NewSnsAction(out.Topic))
	return change, compliance
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, v := range ss {
		out[i] = v
	}
	return out
}

// addMonitoring adds the dashboard (the alarms are made with each function).
func addMonitoring(st awscdk.Stack, cfg Config, out *Stack) {
	fns := out.dash
	five := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(n(5))}
	var row []awscloudwatch.IWidget
	var dlqs []awscloudwatch.IMetric
	for _, f := range fns {
		dlqs = append(dlqs, f.dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(n(5)), Statistic: s("Maximum"), Label: s(f.name)}))
		if f.fn == nil {
			continue
		}
		row = append(row, awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: s(f.name + ": invocations, errors, throttles"), Width: n(8),
			Left: &[]awscloudwatch.IMetric{f.fn.MetricInvocations(five), f.fn.MetricErrors(five), f.fn.MetricThrottles(five)},
		}), awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: s(f.name + ": duration"), Width: n(8),
			Left: &[]awscloudwatch.IMetric{
				f.fn.MetricDuration(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(n(5)), Statistic: s("p50")}),
				f.fn.MetricDuration(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(n(5)), Statistic: s("Maximum")}),
			},
		}), awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: s(f.name + ": concurrency, event age (ms)"), Width: n(8),
			Left: &[]awscloudwatch.IMetric{f.fn.Metric(s("ConcurrentExecutions"), &awscloudwatch.MetricOptions{
				Period: awscdk.Duration_Minutes(n(5)), Statistic: s("Maximum")})},
			Right: &[]awscloudwatch.IMetric{f.fn.Metric(s("AsyncEventAge"), &awscloudwatch.MetricOptions{
				Period: awscdk.Duration_Minutes(n(5)), Statistic: s("Maximum")})},
		}))
	}
	failed := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: s(MetricNamespace), MetricName: s(FailedMetricName),
		Period: awscdk.Duration_Minutes(n(5)), Statistic: s("Sum"), Label: s("failed remediations")})
	row = append(row,
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: s("Failed remediations"), Width: n(12), Left: &[]awscloudwatch.IMetric{failed}}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: s("Dead-letter queue depth"), Width: n(12), Left: &dlqs}),
		awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{Width: n(24), Height: n(3), Markdown: s(fmt.Sprintf(
			"**kdaguard** mode `%s`, schedule `%s`, restart policy `%s`, max changes %d, %d Config rules `%s*`. "+
				"Audit records: the remediator's log group (`outcome`), EventBridge `kdaguard Remediation`, and this stack's SNS topic.",
			cfg.Mode, cfg.ScheduleFrequency, cfg.RestartPolicy, cfg.MaxChanges, len(cfg.EnabledRules()), ConfigRulePrefix))}),
	)
	awscloudwatch.NewDashboard(st, s("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: awscdk.Fn_Join(s("-"), &[]*string{awscdk.Aws_STACK_NAME(), s("kdaguard")}),
		Widgets:       &[]*[]awscloudwatch.IWidget{&row},
	})
}
