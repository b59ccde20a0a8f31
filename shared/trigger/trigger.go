// Package trigger decodes the EventBridge events the remediator receives into
// identity only: "application X in account A, Region R". The payload is never
// used as state: the remediator reads the live application and converges, so
// replays, duplicates and out-of-order events are harmless.
package trigger

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// APIVersion is the kinesisanalyticsv2 API version in CloudTrail records.
const APIVersion = "2018-05-23"

// Event sources and detail types.
const (
	SourceKDA              = "aws.kinesisanalytics"
	SourceConfig           = "aws.config"
	SourceScheduled        = "aws.events"
	EventSourceKDA         = "kinesisanalytics.amazonaws.com"
	DetailTypeCloudTrail   = "AWS API Call via CloudTrail"
	DetailTypeCompliance   = "Config Rules Compliance Change"
	DetailTypeScheduled    = "Scheduled Event"
	ResourceTypeKDA        = "AWS::KinesisAnalyticsV2::Application"
	ResourceTypeAccount    = "AWS::::Account"
	ConfigRulePrefix       = "kdaguard"
	complianceCompliant    = "COMPLIANT"
	complianceNotApplicabe = "NOT_APPLICABLE"
)

// MutatingEvents are the kinesisanalyticsv2 calls that can change an
// application's security posture (kda-security-facts.md).
var MutatingEvents = []string{
	"CreateApplication", "UpdateApplication", "DeleteApplication",
	"RollbackApplication", "UpdateApplicationMaintenanceConfiguration",
	"AddApplicationCloudWatchLoggingOption", "DeleteApplicationCloudWatchLoggingOption",
	"AddApplicationVpcConfiguration", "DeleteApplicationVpcConfiguration", "AddApplicationInput",
	"AddApplicationInputProcessingConfiguration", "DeleteApplicationInputProcessingConfiguration",
	"AddApplicationOutput", "DeleteApplicationOutput", "AddApplicationReferenceDataSource",
	"DeleteApplicationReferenceDataSource", "TagResource", "UntagResource", "StartApplication",
	"StopApplication", "CreateApplicationSnapshot", "DeleteApplicationSnapshot",
}

func isMutating(name string) bool {
	for _, n := range MutatingEvents {
		if n == name {
			return true
		}
	}
	return false
}

// Kind of a decoded event.
type Kind string

// Kinds.
const (
	// KindApplication names one application to converge.
	KindApplication Kind = "application"
	// KindSweep asks to converge every application in the Region (a
	// scheduled backstop); the blast-radius limit applies.
	KindSweep Kind = "sweep"
	// KindIgnore is an event ignored on purpose (Reason says why).
	KindIgnore Kind = "ignore"
)

// Target is what an event decodes to.
type Target struct {
	Kind        Kind
	Application string // KindApplication
	Account     string
	Region      string
	// Cause says what triggered it, for the audit log: "cloudtrail:UpdateApplication",
	// "config:kdaguard-KDA-RES-1", "schedule".
	Cause   string
	EventID string
	// Reason is why an event is ignored.
	Reason string
}

func (t Target) String() string {
	switch t.Kind {
	case KindApplication:
		return fmt.Sprintf("application %s in account %s, Region %s (%s)", t.Application, t.Account, t.Region, t.Cause)
	case KindSweep:
		return fmt.Sprintf("every application in account %s, Region %s (%s)", t.Account, t.Region, t.Cause)
	}
	return "ignored: " + t.Reason
}

// Self identifies the remediator's own calls, so that a fix never triggers
// itself again.
type Self struct {
	// RoleARN is the IAM role ARN (arn:aws:iam::ACCOUNT:role/PATH/NAME).
	RoleARN string
	// RoleName and Account identify the role when only an STS
	// assumed-role ARN is known (no path).
	RoleName string
	Account  string
	// ARN of a non-role caller (an IAM user running the CLI): compared with
	// userIdentity.arn as is.
	ARN string
}

// SelfFromRoleARN builds Self from KDAGUARD_SELF_ROLE_ARN.
func SelfFromRoleARN(arn string) Self {
	s := Self{RoleARN: arn}
	if acct, res, ok := splitARN(arn); ok {
		s.Account = acct
		if after, ok := strings.CutPrefix(res, "role/"); ok {
			s.RoleName = after[strings.LastIndex(after, "/")+1:]
		}
	}
	return s
}

// SelfFromCallerARN builds Self from STS GetCallerIdentity's Arn: for a role
// session arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION (a Lambda's session
// is its function name) the role is recognised by name and account.
func SelfFromCallerARN(arn string) Self {
	acct, res, ok := splitARN(arn)
	if !ok {
		return Self{ARN: arn}
	}
	if after, ok := strings.CutPrefix(res, "assumed-role/"); ok {
		name, _, _ := strings.Cut(after, "/")
		return Self{RoleName: name, Account: acct}
	}
	if after, ok := strings.CutPrefix(res, "role/"); ok {
		return Self{RoleARN: arn, RoleName: after[strings.LastIndex(after, "/")+1:], Account: acct}
	}
	return Self{ARN: arn, Account: acct}
}

// Empty reports whether nothing identifies the remediator.
func (s Self) Empty() bool { return s.RoleARN == "" && s.RoleName == "" && s.ARN == "" }

// splitARN returns the account and resource of an ARN.
func splitARN(arn string) (account, resource string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", "", false
	}
	return parts[4], parts[5], true
}

// UserIdentity is CloudTrail's detail.userIdentity.
type UserIdentity struct {
	Type           string `json:"type"`
	PrincipalID    string `json:"principalId"`
	ARN            string `json:"arn"`
	AccountID      string `json:"accountId"`
	InvokedBy      string `json:"invokedBy"`
	SessionContext *struct {
		SessionIssuer struct {
			Type      string `json:"type"`
			ARN       string `json:"arn"`
			AccountID string `json:"accountId"`
			UserName  string `json:"userName"`
		} `json:"sessionIssuer"`
	} `json:"sessionContext"`
}

// Is reports whether the caller is the remediator itself.
func (s Self) Is(u UserIdentity) bool {
	if s.Empty() {
		return false
	}
	if u.SessionContext != nil {
		iss := u.SessionContext.SessionIssuer
		if s.RoleARN != "" && iss.ARN != "" && strings.EqualFold(iss.ARN, s.RoleARN) {
			return true
		}
		if s.RoleName != "" && iss.UserName != "" && strings.EqualFold(iss.UserName, s.RoleName) &&
			(s.Account == "" || iss.AccountID == "" || iss.AccountID == s.Account) {
			return true
		}
		if s.RoleName != "" && iss.ARN != "" {
			if acct, res, ok := splitARN(iss.ARN); ok && strings.HasPrefix(res, "role/") &&
				strings.EqualFold(res[strings.LastIndex(res, "/")+1:], s.RoleName) && (s.Account == "" || acct == s.Account) {
				return true
			}
		}
	}
	if acct, res, ok := splitARN(u.ARN); ok {
		if after, ok := strings.CutPrefix(res, "assumed-role/"); ok && s.RoleName != "" {
			name, _, _ := strings.Cut(after, "/")
			if strings.EqualFold(name, s.RoleName) && (s.Account == "" || acct == s.Account) {
				return true
			}
		}
	}
	return s.ARN != "" && u.ARN == s.ARN
}

// envelope is the EventBridge event.
type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

type cloudTrail struct {
	EventVersion       string          `json:"eventVersion"`
	UserIdentity       UserIdentity    `json:"userIdentity"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	ErrorCode          string          `json:"errorCode"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	APIVersion         string          `json:"apiVersion"`
	RecipientAccountID string          `json:"recipientAccountId"`
	EventID            string          `json:"eventID"`
}

type complianceChange struct {
	ResourceID          string `json:"resourceId"`
	AWSRegion           string `json:"awsRegion"`
	AWSAccountID        string `json:"awsAccountId"`
	ConfigRuleName      string `json:"configRuleName"`
	ResourceType        string `json:"resourceType"`
	NewEvaluationResult *struct {
		ComplianceType string `json:"complianceType"`
	} `json:"newEvaluationResult"`
}

// ErrUndecodable wraps every decoding error.
var ErrUndecodable = errors.New("undecodable event")

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUndecodable, fmt.Sprintf(format, args...))
}

// Decode turns an EventBridge event into a Target. It returns an error
// (wrapping ErrUndecodable) for an event it cannot decode, and a KindIgnore
// target for events ignored on purpose: failed calls, the remediator's own
// calls, other API versions, read-only calls, other rules' compliance.
func Decode(raw []byte, self Self) (Target, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return Target{}, bad("not an EventBridge event: %v", err)
	}
	switch {
	case env.DetailType == DetailTypeCloudTrail:
		return decodeCloudTrail(env, self)
	case env.DetailType == DetailTypeCompliance:
		return decodeCompliance(env)
	case env.DetailType == DetailTypeScheduled && env.Source == SourceScheduled:
		if env.Account == "" || env.Region == "" {
			return Target{}, bad("scheduled event %s without account or region", env.ID)
		}
		return Target{Kind: KindSweep, Account: env.Account, Region: env.Region, Cause: "schedule", EventID: env.ID}, nil
	case env.DetailType == "" && env.Source == "":
		return Target{}, bad("no detail-type or source: not an EventBridge event")
	}
	return Target{}, bad("unexpected event %q from %q", env.DetailType, env.Source)
}

func ignore(env envelope, why string) Target {
	return Target{Kind: KindIgnore, Account: env.Account, Region: env.Region, EventID: env.ID, Reason: why}
}

func decodeCloudTrail(env envelope, self Self) (Target, error) {
	if len(env.Detail) == 0 || string(env.Detail) == "null" {
		return Target{}, bad("CloudTrail event %s without detail", env.ID)
	}
	var d cloudTrail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return Target{}, bad("CloudTrail detail of %s: %v", env.ID, err)
	}
	if d.EventSource != EventSourceKDA {
		return Target{}, bad("CloudTrail event %s from %q, not %s", env.ID, d.EventSource, EventSourceKDA)
	}
	if d.EventName == "" {
		return Target{}, bad("CloudTrail event %s without eventName", env.ID)
	}
	t := Target{Kind: KindApplication, Account: first(env.Account, d.RecipientAccountID, d.UserIdentity.AccountID),
		Region: first(env.Region, d.AWSRegion), Cause: "cloudtrail:" + d.EventName, EventID: first(d.EventID, env.ID)}
	ign := func(why string) (Target, error) {
		t.Kind, t.Reason = KindIgnore, why
		return t, nil
	}
	if d.ErrorCode != "" {
		return ign("failed call " + d.EventName + " (" + d.ErrorCode + ")")
	}
	if d.APIVersion != APIVersion {
		return ign("API version " + orQuote(d.APIVersion) + " is not kinesisanalyticsv2 " + APIVersion)
	}
	if self.Is(d.UserIdentity) {
		return ign("the remediator's own call " + d.EventName)
	}
	if !isMutating(d.EventName) {
		return ign(d.EventName + " does not change an application")
	}
	if t.Account == "" || t.Region == "" {
		return Target{}, bad("CloudTrail event %s without account or region", env.ID)
	}
	name, err := applicationName(d)
	if err != nil {
		return Target{}, bad("%s event %s: %v", d.EventName, t.EventID, err)
	}
	t.Application = name
	return t, nil
}

func applicationName(d cloudTrail) (string, error) {
	var req struct {
		ApplicationName string `json:"applicationName"`
		ResourceARN     string `json:"resourceARN"`
	}
	if len(d.RequestParameters) > 0 && string(d.RequestParameters) != "null" {
		if err := json.Unmarshal(d.RequestParameters, &req); err != nil {
			return "", fmt.Errorf("requestParameters: %v", err)
		}
	}
	if req.ApplicationName != "" {
		return req.ApplicationName, nil
	}
	if req.ResourceARN != "" {
		if n := nameFromARN(req.ResourceARN); n != "" {
			return n, nil
		}
		return "", fmt.Errorf("resourceARN %q is not an application ARN", req.ResourceARN)
	}
	if d.EventName == "CreateApplication" && len(d.ResponseElements) > 0 {
		var resp struct {
			ApplicationDetail struct {
				ApplicationARN  string `json:"applicationARN"`
				ApplicationName string `json:"applicationName"`
			} `json:"applicationDetail"`
		}
		if err := json.Unmarshal(d.ResponseElements, &resp); err == nil {
			if resp.ApplicationDetail.ApplicationName != "" {
				return resp.ApplicationDetail.ApplicationName, nil
			}
			if n := nameFromARN(resp.ApplicationDetail.ApplicationARN); n != "" {
				return n, nil
			}
		}
	}
	return "", errors.New("no application name in requestParameters or responseElements")
}

// nameFromARN returns NAME of arn:PARTITION:kinesisanalytics:R:A:application/NAME.
func nameFromARN(arn string) string {
	_, res, ok := splitARN(arn)
	if !ok || !strings.Contains(arn, ":kinesisanalytics:") {
		return ""
	}
	name, ok := strings.CutPrefix(res, "application/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return ""
	}
	return name
}

func decodeCompliance(env envelope) (Target, error) {
	if len(env.Detail) == 0 || string(env.Detail) == "null" {
		return Target{}, bad("compliance change %s without detail", env.ID)
	}
	var d complianceChange
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return Target{}, bad("compliance change detail of %s: %v", env.ID, err)
	}
	t := Target{Kind: KindApplication, Account: first(env.Account, d.AWSAccountID), Region: first(env.Region, d.AWSRegion),
		Cause: "config:" + d.ConfigRuleName, EventID: env.ID}
	if !strings.HasPrefix(strings.ToLower(d.ConfigRuleName), ConfigRulePrefix) {
		return ignore(env, "Config rule "+orQuote(d.ConfigRuleName)+" is not a kdaguard rule"), nil
	}
	switch d.ResourceType {
	case ResourceTypeKDA:
	case ResourceTypeAccount:
		return ignore(env, "account-level result of "+d.ConfigRuleName+": nothing to remediate on an application"), nil
	case "":
		return Target{}, bad("compliance change %s without resourceType", env.ID)
	default:
		return ignore(env, "resource type "+d.ResourceType+" is not an application"), nil
	}
	if d.ResourceID == "" {
		return Target{}, bad("compliance change %s without resourceId", env.ID)
	}
	if t.Account == "" || t.Region == "" {
		return Target{}, bad("compliance change %s without account or region", env.ID)
	}
	if r := d.NewEvaluationResult; r != nil && (r.ComplianceType == complianceCompliant || r.ComplianceType == complianceNotApplicabe) {
		t.Kind, t.Reason = KindIgnore, d.ConfigRuleName+" is now "+r.ComplianceType+" for "+d.ResourceID+": nothing to do"
		return t, nil
	}
	t.Application = d.ResourceID
	return t, nil
}

func first(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func orQuote(s string) string {
	if s == "" {
		return `""`
	}
	return s
}
