package stack

import (
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// AddChecks applies the cdk-nag AwsSolutions pack to everything under scope:
// an unsuppressed finding is an error annotation, and `cdk synth` fails on it.
func AddChecks(scope awscdk.App) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// Suppression is one accepted cdk-nag finding with its reason.
type Suppression struct {
	ID        string
	AppliesTo []string
	Reason    string
}

// RoleSuppressions are the AwsSolutions-IAM5 findings of a role's policy: one
// per resource pattern wider than one ARN, with the reasons of the statements
// that use it. Actions are never wildcards (CheckGrants), so only resources
// appear here.
func RoleSuppressions(gs ...[]Grant) []Suppression {
	reasons := map[string][]string{}
	for _, list := range gs {
		for _, g := range list {
			for _, r := range g.Resources {
				if !strings.Contains(r, "*") {
					continue
				}
				key := "Resource::" + strings.NewReplacer("${", "<", "}", ">").Replace(r)
				why := strings.Join(g.Actions, ", ") + ": " + g.Why
				reasons[key] = append(reasons[key], why)
			}
		}
	}
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Suppression, len(keys))
	for i, k := range keys {
		out[i] = Suppression{ID: "AwsSolutions-IAM5", AppliesTo: []string{k}, Reason: strings.Join(reasons[k], "; ")}
	}
	return out
}

// QueueSuppressions: cdk-nag recognises a Lambda function's dead-letter
// queue but not an EventBridge target's, which is the end of the line too.
var QueueSuppressions = []Suppression{{ID: "AwsSolutions-SQS3",
	Reason: "this queue is itself the dead-letter queue of the EventBridge rules' target (events EventBridge could not deliver to the remediator); a queue for its failures would have no consumer, and its depth has an alarm"}}

func nagSuppressions(ss []Suppression) *[]*cdknag.NagPackSuppression {
	out := make([]*cdknag.NagPackSuppression, len(ss))
	for i, sp := range ss {
		p := &cdknag.NagPackSuppression{Id: jsii.String(sp.ID), Reason: jsii.String(sp.Reason)}
		if len(sp.AppliesTo) > 0 {
			at := make([]any, len(sp.AppliesTo))
			for j, a := range sp.AppliesTo {
				at[j] = a
			}
			p.AppliesTo = &at
		}
		out[i] = p
	}
	return &out
}

// addSuppressions records, with its reason, every AwsSolutions finding the
// stack accepts.
func addSuppressions(st awscdk.Stack, out *Stack, reads, writes []Grant) {
	cdknag.NagSuppressions_AddResourceSuppressions(out.EvaluatorRole, nagSuppressions(RoleSuppressions(reads, EvaluatorGrants)), jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(out.RemediatorRole, nagSuppressions(RoleSuppressions(reads, writes)), jsii.Bool(true))
	for _, q := range out.dash {
		if q.fn == nil { // the EventBridge target's queue
			cdknag.NagSuppressions_AddResourceSuppressions(q.dlq, nagSuppressions(QueueSuppressions), jsii.Bool(true))
		}
	}
}
