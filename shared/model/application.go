package model

import (
	"strings"
	"time"
)

// Application is one Flink (or SQL, or Studio) application and what it relates to.
// The application's own settings come from DescribeApplication or a template;
// the related resources are filled lazily by whoever builds the model, and
// stay unknown (with a reason) when they were not or could not be read.
type Application struct {
	Name string
	ARN  string
	// Account, Region and Partition of the application. From a template they
	// are the symbolic pseudo-parameters ("${AWS::AccountId}" ...).
	Account, Region, Partition string
	Origin                     Origin

	Runtime Fact[string] // RuntimeEnvironment, e.g. FLINK-1_20
	Mode    string       // STREAMING (default) or INTERACTIVE (Studio notebook)
	Status  Fact[string] // READY, RUNNING, ...; unknown for a template
	// VersionID and ConditionalToken guard updates; zero from a template.
	VersionID        int64
	ConditionalToken string
	Tags             Fact[map[string]string]

	RoleARN     Fact[string]
	Logging     Fact[[]LoggingOption]
	Encryption  Fact[Encryption]
	Snapshots   Fact[bool] // ApplicationSnapshotConfiguration.SnapshotsEnabled
	Rollback    Fact[bool] // ApplicationSystemRollbackConfiguration.RollbackEnabled
	Checkpoint  Fact[Checkpoint]
	Monitoring  Fact[Monitoring]
	Parallelism Fact[Parallelism]
	VPCs        Fact[[]VPCConfig]
	Properties  Fact[[]PropertyGroup]
	Code        Fact[Code]
	// SQL applications name their Kinesis sources and sinks.
	SQLInputs, SQLOutputs []string

	Related Related
}

// Origin says where the model came from, for reports (SARIF points at it).
type Origin struct {
	File      string // template or JSON file; empty for live reads
	LogicalID string // template logical id
	Line      int    // 1-based line of the resource in the file, 0 when unknown
}

// Resource names the application the way reports should: the logical id of a
// template resource, else the application name.
func (a *Application) Resource() string {
	if a.Origin.LogicalID != "" {
		return a.Origin.LogicalID
	}
	return a.Name
}

// Runtime families.
const (
	ModeStreaming   = "STREAMING"
	ModeInteractive = "INTERACTIVE"
)

// IsSQL reports whether the application is a Kinesis Data Analytics for SQL one.
func (a *Application) IsSQL() bool {
	rt, _ := a.Runtime.Get()
	return strings.HasPrefix(rt, "SQL-")
}

// IsStudio reports whether the application is a Studio (Zeppelin) notebook.
func (a *Application) IsStudio() bool {
	rt, _ := a.Runtime.Get()
	return a.Mode == ModeInteractive || strings.HasPrefix(rt, "ZEPPELIN-")
}

// IsFlinkStreaming reports whether the application is a Flink streaming
// application, the kind checkpoints, snapshots, rollback and scaling apply to.
// An unknown runtime is not a SQL or Studio one: it is treated as Flink.
func (a *Application) IsFlinkStreaming() bool { return !a.IsSQL() && !a.IsStudio() }

// LoggingOption is one CloudWatch logging option.
type LoggingOption struct {
	ID           string // CloudWatchLoggingOptionId; empty in a template
	LogStreamARN string
	// LogGroup is the log group's name, the key into Related.LogGroups.
	LogGroup string
}

// LogGroupFromStreamARN parses arn:aws:logs:R:A:log-group:NAME:log-stream:STREAM.
func LogGroupFromStreamARN(arn string) string {
	_, rest, ok := strings.Cut(arn, ":log-group:")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, ":log-stream:")
	return strings.TrimSuffix(name, ":*")
}

// Key types of ApplicationEncryptionConfiguration.
const (
	KeyTypeAWSOwned        = "AWS_OWNED_KEY"
	KeyTypeCustomerManaged = "CUSTOMER_MANAGED_KEY"
)

// Encryption of application state. No configuration means AWS_OWNED_KEY.
type Encryption struct {
	KeyType string
	KeyID   string // key id, ARN or alias; the key into Related.Key
}

// Configuration types.
const (
	ConfigDefault = "DEFAULT"
	ConfigCustom  = "CUSTOM"
)

// Checkpoint configuration.
type Checkpoint struct {
	ConfigurationType string
	Enabled           bool
	IntervalMs        int64
	MinPauseMs        int64
}

// IsEnabled applies the service's rule that DEFAULT means checkpointing on
// (and overrides any CUSTOM values).
func (c Checkpoint) IsEnabled() bool { return c.ConfigurationType != ConfigCustom || c.Enabled }

// Monitoring configuration.
type Monitoring struct {
	ConfigurationType string
	LogLevel          string
	MetricsLevel      string
}

// EffectiveLogLevel applies DEFAULT = INFO.
func (m Monitoring) EffectiveLogLevel() string {
	if m.ConfigurationType != ConfigCustom {
		return "INFO"
	}
	return m.LogLevel
}

// Parallelism configuration.
type Parallelism struct {
	ConfigurationType  string
	AutoScalingEnabled bool
	Parallelism        int32
	PerKPU             int32
}

// AutoScaling applies DEFAULT = auto scaling on.
func (p Parallelism) AutoScaling() bool {
	return p.ConfigurationType != ConfigCustom || p.AutoScalingEnabled
}

// VPCConfig is one VPC configuration of the application.
type VPCConfig struct {
	ID               string
	VpcID            string
	SubnetIDs        []string // keys into Related.Subnets
	SecurityGroupIDs []string // keys into Related.SecurityGroups
}

// PropertyGroup is one group of runtime properties.
type PropertyGroup struct {
	ID         string
	Properties map[string]string
}

// UnresolvedPrefix starts a property value that a template computes
// (a Ref to a parameter, an import): it is not a literal in the template.
const UnresolvedPrefix = "{{unresolved:"

// Code location of the application.
type Code struct {
	ContentType   string // ZIPFILE, PLAINTEXT
	Bucket        string // bucket name, the key of Related.Bucket; empty when the code is not in S3
	BucketARN     string
	FileKey       string
	ObjectVersion string
}

// Related holds the resources the application uses.
type Related struct {
	Role      Fact[Role]
	RoleUsers Fact[[]string] // applications (names) whose execution role is this one, this one included
	Key       Fact[Key]
	// Keyed by log group name, subnet id, security group id and stream ARN.
	LogGroups      map[string]Fact[LogGroup]
	Subnets        map[string]Fact[Subnet]
	SecurityGroups map[string]Fact[SecurityGroup]
	Bucket         Fact[Bucket]
	Streams        map[string]Fact[Stream]
	Alarms         Fact[[]Alarm]
	Snapshots      Fact[[]Snapshot]
	Trails         Fact[[]Trail]
	Recorders      Fact[[]Recorder]
}

// Role is the service execution role.
type Role struct {
	ARN, Name string
	Trust     Fact[PolicyDocument]
	Inline    Fact[[]NamedPolicy]
	Attached  Fact[[]NamedPolicy]
	FromStack bool // defined in the same template (no one outside it can use it yet)
}

// NamedPolicy is an inline or managed policy with its document.
type NamedPolicy struct {
	Name, ARN string
	Document  Fact[PolicyDocument]
}

// Key is a KMS key.
type Key struct {
	ID, ARN  string
	State    string // Enabled, Disabled, PendingDeletion...
	Spec     string // SYMMETRIC_DEFAULT ...
	Manager  string // CUSTOMER or AWS
	Rotation Fact[bool]
	Policy   Fact[PolicyDocument]
}

// LogGroup is a CloudWatch Logs log group.
type LogGroup struct {
	Name          string
	RetentionDays int32 // 0 = never expire
	KMSKeyID      string
}

// Subnet with the routes of its effective route table (its own
// association, else the VPC's main table).
type Subnet struct {
	ID, VpcID    string
	RouteTableID string
	Routes       []Route
}

// Route of a route table.
type Route struct {
	Destination string // IPv4 or IPv6 CIDR
	Target      string // igw-..., nat-..., local, ...
}

// SecurityGroup and its ingress rules.
type SecurityGroup struct {
	ID      string
	Ingress []IngressRule
	// OtherUsers lists what uses the group besides this application (ENI ids,
	// other applications or resources). Known and empty: used by this one alone.
	OtherUsers Fact[[]string]
}

// IngressRule is one ingress rule (one CIDR per rule, as DescribeSecurityGroupRules gives it).
type IngressRule struct {
	RuleID   string
	Protocol string
	FromPort int32
	ToPort   int32
	CIDR     string // IPv4 or IPv6
}

// Bucket is the code bucket.
type Bucket struct {
	Name              string
	PublicAccessBlock Fact[PublicAccessBlock]
	// Encryption is the default encryption algorithm (AES256, aws:kms,
	// aws:kms:dsse); empty when the bucket has none.
	Encryption   Fact[string]
	PolicyPublic Fact[bool]
}

// PublicAccessBlock of a bucket.
type PublicAccessBlock struct {
	BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets bool
}

// All reports whether all four settings are on.
func (p PublicAccessBlock) All() bool {
	return p.BlockPublicAcls && p.IgnorePublicAcls && p.BlockPublicPolicy && p.RestrictPublicBuckets
}

// Stream is a Kinesis data stream.
type Stream struct {
	ARN, Name      string
	EncryptionType string // NONE or KMS
	KeyID          string
}

// Alarm is a CloudWatch metric alarm.
type Alarm struct {
	Name       string
	Namespace  string
	MetricName string
	Dimensions map[string]string
}

// Snapshot of an application.
type Snapshot struct {
	Name      string
	Status    string
	CreatedAt time.Time
}

// Trail is a CloudTrail trail with its status.
type Trail struct {
	Name        string
	ARN         string
	MultiRegion bool
	Logging     Fact[bool]
}

// Recorder is an AWS Config configuration recorder with its status.
type Recorder struct {
	Name          string
	Recording     bool
	AllSupported  bool
	ResourceTypes []string
	Exclusions    []string
}
