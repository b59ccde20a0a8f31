// Command remediator is the kdaguard auto-remediator (a Lambda `bootstrap`
// for EventBridge events): CloudTrail calls on Flink applications and AWS
// Config compliance changes of kdaguard's rules. main is wiring only; see
// shared/trigger and shared/remediate.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kdaguard/kdaguard/shared/collect"
	"github.com/kdaguard/kdaguard/shared/remediate"
	"github.com/kdaguard/kdaguard/shared/settings"
	"github.com/kdaguard/kdaguard/shared/trigger"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	fail := func(msg string, err error) {
		log.Error(msg, "error", err.Error())
		os.Exit(1)
	}
	ctx := context.Background()
	s, err := settings.FromEnv()
	if err != nil {
		fail("invalid configuration", err)
	}
	cfg, err := collect.Config(ctx)
	if err != nil {
		fail("AWS configuration", err)
	}
	clients := collect.NewClients(cfg)
	self := trigger.SelfFromRoleARN(s.SelfRoleARN)
	account := self.Account
	if s.SelfRoleARN == "" {
		// Learned once: the events the remediator's own calls raise are
		// recognised by this role and ignored.
		id, err := clients.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			fail("KDAGUARD_SELF_ROLE_ARN is unset and STS GetCallerIdentity failed", err)
		}
		self = trigger.SelfFromCallerARN(aws.ToString(id.Arn))
		account = aws.ToString(id.Account)
	}
	log.Info("remediator ready", "mode", s.Mode, "ruleModes", s.RuleModes, "restartPolicy", s.RestartPolicy,
		"maxChanges", s.MaxChanges, "self", self.RoleARN+self.RoleName+self.ARN, "account", account, "region", cfg.Region)
	h := &remediate.Handler{
		Exec: &remediate.Executor{Clients: clients, Settings: s, Params: s.RuleParameters, Logger: log,
			Audit: &remediate.Audit{Events: eventbridge.NewFromConfig(cfg), SNS: sns.NewFromConfig(cfg)}},
		Self: self, Account: account, Region: cfg.Region,
	}
	lambda.Start(h.Handle)
}
