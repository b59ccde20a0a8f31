package localaws

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	kt "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"
)

// kinesisanalyticsv2 (awsJson1_1, target prefix KinesisAnalytics_20180523).

type kdaApp struct {
	d         kt.ApplicationDetail // identity, status, version, token, role, timestamps
	cfg       kt.ApplicationConfiguration
	vpcs      []kt.VpcConfigurationDescription
	logging   []kt.CloudWatchLoggingOptionDescription
	run       *kt.RunConfigurationDescription
	tags      []kt.Tag
	snapshots []kt.SnapshotDetails
	// snapshotsDue: a snapshot is CREATING until its time (transition delay), then READY.
	snapshotsDue map[string]time.Time
	settleAt     time.Time
	settleTo     kt.ApplicationStatus
	idSeq        int
	history      []configItem
}

type kdaState struct {
	apps  map[string]*kdaApp
	opSeq int
}

func newKDAState() *kdaState { return &kdaState{apps: map[string]*kdaApp{}} }

var appNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

func init() {
	register("kinesisanalyticsv2", map[string]handlerFunc{
		"CreateApplication":                        (*Server).kdaCreateApplication,
		"DescribeApplication":                      (*Server).kdaDescribeApplication,
		"ListApplications":                         (*Server).kdaListApplications,
		"UpdateApplication":                        (*Server).kdaUpdateApplication,
		"DeleteApplication":                        (*Server).kdaDeleteApplication,
		"StartApplication":                         (*Server).kdaStartApplication,
		"StopApplication":                          (*Server).kdaStopApplication,
		"AddApplicationCloudWatchLoggingOption":    (*Server).kdaAddLogging,
		"DeleteApplicationCloudWatchLoggingOption": (*Server).kdaDeleteLogging,
		"AddApplicationVpcConfiguration":           (*Server).kdaAddVpc,
		"DeleteApplicationVpcConfiguration":        (*Server).kdaDeleteVpc,
		"TagResource":                              (*Server).kdaTagResource,
		"UntagResource":                            (*Server).kdaUntagResource,
		"ListTagsForResource":                      (*Server).kdaListTags,
		"CreateApplicationSnapshot":                (*Server).kdaCreateSnapshot,
		"ListApplicationSnapshots":                 (*Server).kdaListSnapshots,
		"DescribeApplicationSnapshot":              (*Server).kdaDescribeSnapshot,
		"DeleteApplicationSnapshot":                (*Server).kdaDeleteSnapshot,
	})
}

func invalidArg(format string, args ...any) *apiError {
	return errf(400, "InvalidArgumentException", format, args...)
}

func newToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return strings.TrimRight(base64.URLEncoding.EncodeToString(b[:]), "=")
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

func (s *Server) kdaARN(name string) string {
	return fmt.Sprintf("arn:aws:kinesisanalytics:%s:%s:application/%s", s.opts.Region, s.opts.AccountID, name)
}

// settle completes a timed transition whose time has come.
func (a *kdaApp) settle(now time.Time) {
	if a.settleTo != "" && !now.Before(a.settleAt) {
		a.d.ApplicationStatus = a.settleTo
		a.settleTo = ""
	}
}

func (s *Server) transition(a *kdaApp, now time.Time, during, final kt.ApplicationStatus) {
	if s.transitionDelay <= 0 {
		a.d.ApplicationStatus = final
		a.settleTo = ""
		return
	}
	a.d.ApplicationStatus = during
	a.settleTo = final
	a.settleAt = now.Add(s.transitionDelay)
}

// app finds an application by the ApplicationName member.
func (s *Server) kdaApp(c *call) (*kdaApp, *apiError) {
	name := gs(c.json, "ApplicationName")
	if name == "" {
		return nil, missing("InvalidArgumentException", "applicationName")
	}
	a := s.kda.apps[name]
	if a == nil {
		return nil, errf(400, "ResourceNotFoundException", "Application %s is not found.", name)
	}
	a.settle(c.now)
	return a, nil
}

// bump increments the version and changes the token, as every configuration
// change does.
func (s *Server) bump(a *kdaApp, now time.Time) {
	old := deref(a.d.ApplicationVersionId)
	a.d.ApplicationVersionUpdatedFrom = ptr(old)
	a.d.ApplicationVersionId = ptr(old + 1)
	a.d.ConditionalToken = ptr(newToken())
	a.d.LastUpdateTimestamp = ptr(now)
	a.d.ApplicationVersionCreateTimestamp = ptr(now)
}

// checkVersion implements the CurrentApplicationVersionId / ConditionalToken
// contract of the configuration-changing operations.
func checkVersion(c *call, a *kdaApp, required bool) *apiError {
	ver, hasVer := gi(c.json, "CurrentApplicationVersionId")
	tok := gs(c.json, "ConditionalToken")
	if has(c.json, "CurrentApplicationVersionId") && !hasVer {
		return invalidArg("CurrentApplicationVersionId must be a number")
	}
	switch {
	case hasVer && tok != "":
		return invalidArg("Provide either CurrentApplicationVersionId or ConditionalToken, not both.")
	case hasVer:
		if ver < 1 || ver > 999999999 {
			return invalidArg("1 validation error detected: Value '%d' at 'currentApplicationVersionId' failed to satisfy constraint: Member must have value between 1 and 999999999", ver)
		}
		if ver != deref(a.d.ApplicationVersionId) {
			return errf(400, "ConcurrentModificationException", "Current application version id %d does not match the application version id %d.", ver, deref(a.d.ApplicationVersionId))
		}
	case tok != "":
		if tok != deref(a.d.ConditionalToken) {
			return errf(400, "ConcurrentModificationException", "Conditional token %s is stale: the application has been modified.", tok)
		}
	default:
		if required {
			return invalidArg("Either CurrentApplicationVersionId or ConditionalToken must be provided.")
		}
	}
	return nil
}

func requireStatus(a *kdaApp, ok ...kt.ApplicationStatus) *apiError {
	if slices.Contains(ok, a.d.ApplicationStatus) {
		return nil
	}
	return errf(400, "ResourceInUseException", "Application %s is in %s status.", deref(a.d.ApplicationName), a.d.ApplicationStatus)
}

func isFlink(a *kdaApp) bool {
	r := string(a.d.RuntimeEnvironment)
	return strings.HasPrefix(r, "FLINK-")
}

func isZeppelin(a *kdaApp) bool {
	return strings.HasPrefix(string(a.d.RuntimeEnvironment), "ZEPPELIN-")
}

func isSQL(a *kdaApp) bool { return strings.HasPrefix(string(a.d.RuntimeEnvironment), "SQL-") }

// detail renders the full ApplicationDetail, defaults applied.
func (s *Server) kdaDetail(a *kdaApp) kt.ApplicationDetail {
	d := a.d
	d.ApplicationConfigurationDescription = kdaDescribeConfig(a)
	d.CloudWatchLoggingOptionDescriptions = append([]kt.CloudWatchLoggingOptionDescription{}, a.logging...)
	return d
}

func kdaDescribeConfig(a *kdaApp) *kt.ApplicationConfigurationDescription {
	cfg := a.cfg
	out := &kt.ApplicationConfigurationDescription{}
	if cc := cfg.ApplicationCodeConfiguration; cc != nil {
		cd := &kt.ApplicationCodeConfigurationDescription{CodeContentType: cc.CodeContentType}
		if cc.CodeContent != nil {
			cd.CodeContentDescription = &kt.CodeContentDescription{TextContent: cc.CodeContent.TextContent}
			if l := cc.CodeContent.S3ContentLocation; l != nil {
				cd.CodeContentDescription.S3ApplicationCodeLocationDescription = &kt.S3ApplicationCodeLocationDescription{BucketARN: l.BucketARN, FileKey: l.FileKey, ObjectVersion: l.ObjectVersion}
			}
			if z := cc.CodeContent.ZipFileContent; z != nil {
				cd.CodeContentDescription.CodeSize = ptr(int64(len(z)))
			}
		}
		out.ApplicationCodeConfigurationDescription = cd
	}
	if ep := cfg.EnvironmentProperties; ep != nil {
		out.EnvironmentPropertyDescriptions = &kt.EnvironmentPropertyDescriptions{PropertyGroupDescriptions: ep.PropertyGroups}
	}
	if len(a.vpcs) > 0 {
		out.VpcConfigurationDescriptions = append([]kt.VpcConfigurationDescription{}, a.vpcs...)
	}
	out.RunConfigurationDescription = a.run
	switch {
	case isFlink(a):
		f := cfg.FlinkApplicationConfiguration
		if f == nil {
			f = &kt.FlinkApplicationConfiguration{}
		}
		fd := &kt.FlinkApplicationConfigurationDescription{}
		cp := deref(f.CheckpointConfiguration)
		if cp.ConfigurationType == kt.ConfigurationTypeCustom {
			fd.CheckpointConfigurationDescription = &kt.CheckpointConfigurationDescription{
				ConfigurationType:          kt.ConfigurationTypeCustom,
				CheckpointingEnabled:       ptr(deref(orDefault(cp.CheckpointingEnabled, ptr(true)))),
				CheckpointInterval:         orDefault(cp.CheckpointInterval, ptr(int64(60000))),
				MinPauseBetweenCheckpoints: orDefault(cp.MinPauseBetweenCheckpoints, ptr(int64(5000))),
			}
		} else {
			fd.CheckpointConfigurationDescription = &kt.CheckpointConfigurationDescription{ConfigurationType: kt.ConfigurationTypeDefault, CheckpointingEnabled: ptr(true), CheckpointInterval: ptr(int64(60000)), MinPauseBetweenCheckpoints: ptr(int64(5000))}
		}
		mon := deref(f.MonitoringConfiguration)
		if mon.ConfigurationType == kt.ConfigurationTypeCustom {
			md := &kt.MonitoringConfigurationDescription{ConfigurationType: kt.ConfigurationTypeCustom, LogLevel: mon.LogLevel, MetricsLevel: mon.MetricsLevel}
			if md.LogLevel == "" {
				md.LogLevel = kt.LogLevelInfo
			}
			if md.MetricsLevel == "" {
				md.MetricsLevel = kt.MetricsLevelApplication
			}
			fd.MonitoringConfigurationDescription = md
		} else {
			fd.MonitoringConfigurationDescription = &kt.MonitoringConfigurationDescription{ConfigurationType: kt.ConfigurationTypeDefault, LogLevel: kt.LogLevelInfo, MetricsLevel: kt.MetricsLevelApplication}
		}
		par := deref(f.ParallelismConfiguration)
		if par.ConfigurationType == kt.ConfigurationTypeCustom {
			p := orDefault(par.Parallelism, ptr(int32(1)))
			fd.ParallelismConfigurationDescription = &kt.ParallelismConfigurationDescription{ConfigurationType: kt.ConfigurationTypeCustom, Parallelism: p, CurrentParallelism: p, ParallelismPerKPU: orDefault(par.ParallelismPerKPU, ptr(int32(1))), AutoScalingEnabled: orDefault(par.AutoScalingEnabled, ptr(false))}
		} else {
			fd.ParallelismConfigurationDescription = &kt.ParallelismConfigurationDescription{ConfigurationType: kt.ConfigurationTypeDefault, Parallelism: ptr(int32(1)), CurrentParallelism: ptr(int32(1)), ParallelismPerKPU: ptr(int32(1)), AutoScalingEnabled: ptr(true)}
		}
		out.FlinkApplicationConfigurationDescription = fd
		out.ApplicationSnapshotConfigurationDescription = &kt.ApplicationSnapshotConfigurationDescription{SnapshotsEnabled: ptr(false)}
		if sc := cfg.ApplicationSnapshotConfiguration; sc != nil {
			out.ApplicationSnapshotConfigurationDescription.SnapshotsEnabled = ptr(deref(sc.SnapshotsEnabled))
		}
		out.ApplicationSystemRollbackConfigurationDescription = &kt.ApplicationSystemRollbackConfigurationDescription{RollbackEnabled: ptr(false)}
		if rc := cfg.ApplicationSystemRollbackConfiguration; rc != nil {
			out.ApplicationSystemRollbackConfigurationDescription.RollbackEnabled = ptr(deref(rc.RollbackEnabled))
		}
		out.ApplicationEncryptionConfigurationDescription = &kt.ApplicationEncryptionConfigurationDescription{KeyType: kt.KeyTypeAwsOwnedKey}
		if ec := cfg.ApplicationEncryptionConfiguration; ec != nil {
			out.ApplicationEncryptionConfigurationDescription = &kt.ApplicationEncryptionConfigurationDescription{KeyType: ec.KeyType, KeyId: ec.KeyId}
		}
	case isZeppelin(a):
		zd := &kt.ZeppelinApplicationConfigurationDescription{MonitoringConfigurationDescription: &kt.ZeppelinMonitoringConfigurationDescription{LogLevel: kt.LogLevelInfo}}
		if z := cfg.ZeppelinApplicationConfiguration; z != nil && z.MonitoringConfiguration != nil && z.MonitoringConfiguration.LogLevel != "" {
			zd.MonitoringConfigurationDescription.LogLevel = z.MonitoringConfiguration.LogLevel
		}
		out.ZeppelinApplicationConfigurationDescription = zd
	case isSQL(a):
		if sq := cfg.SqlApplicationConfiguration; sq != nil {
			out.SqlApplicationConfigurationDescription = sqlDescription(sq)
		}
	}
	return out
}

func orDefault[T any](p, def *T) *T {
	if p != nil {
		return ptr(*p)
	}
	return def
}

// sqlDescription renders SQL inputs/outputs (best effort: the *Description
// members that carry resource ARNs).
func sqlDescription(sq *kt.SqlApplicationConfiguration) *kt.SqlApplicationConfigurationDescription {
	out := &kt.SqlApplicationConfigurationDescription{}
	rename := func(t any, keys ...string) any {
		m, _ := t.(map[string]any)
		for _, k := range keys {
			if v, ok := m[k]; ok {
				delete(m, k)
				m[k+"Description"] = v
			}
		}
		return m
	}
	for i, in := range sq.Inputs {
		var d kt.InputDescription
		fromTreeLenient(rename(toTree(in), "KinesisStreamsInput", "KinesisFirehoseInput", "InputProcessingConfiguration"), &d)
		d.InputId = ptr(fmt.Sprintf("1.%d", i+1))
		if in.NamePrefix != nil {
			d.InAppStreamNames = []string{*in.NamePrefix + "_001"}
		}
		out.InputDescriptions = append(out.InputDescriptions, d)
	}
	for i, o := range sq.Outputs {
		var d kt.OutputDescription
		fromTreeLenient(rename(toTree(o), "KinesisStreamsOutput", "KinesisFirehoseOutput", "LambdaOutput"), &d)
		d.OutputId = ptr(fmt.Sprintf("1.%d", i+1))
		out.OutputDescriptions = append(out.OutputDescriptions, d)
	}
	for i, r := range sq.ReferenceDataSources {
		var d kt.ReferenceDataSourceDescription
		fromTreeLenient(rename(toTree(r), "S3ReferenceDataSource"), &d)
		d.ReferenceId = ptr(fmt.Sprintf("1.%d", i+1))
		out.ReferenceDataSourceDescriptions = append(out.ReferenceDataSourceDescriptions, d)
	}
	return out
}

func (a *kdaApp) nextID() string {
	a.idSeq++
	return fmt.Sprintf("%d.%d", deref(a.d.ApplicationVersionId), a.idSeq)
}

func (s *Server) newOperationID() string {
	s.kda.opSeq++
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var logStreamARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:[^:]+:log-stream:.+$`)

// vpcDescription validates a VPC configuration against the emulated EC2 state.
func (s *Server) vpcDescription(subnets, groups []string) (kt.VpcConfigurationDescription, *apiError) {
	var d kt.VpcConfigurationDescription
	if len(subnets) == 0 || len(subnets) > 16 {
		return d, invalidArg("VpcConfiguration must have between 1 and 16 SubnetIds.")
	}
	if len(groups) == 0 || len(groups) > 5 {
		return d, invalidArg("VpcConfiguration must have between 1 and 5 SecurityGroupIds.")
	}
	vpc := ""
	for _, id := range subnets {
		sn := s.ec2.subnets[id]
		if sn == nil {
			return d, invalidArg("Subnet %s does not exist.", id)
		}
		if vpc != "" && sn.VpcID != vpc {
			return d, invalidArg("Subnets must all belong to the same VPC.")
		}
		vpc = sn.VpcID
	}
	for _, id := range groups {
		g := s.ec2.groups[id]
		if g == nil {
			return d, invalidArg("Security group %s does not exist.", id)
		}
		if g.VpcID != vpc {
			return d, invalidArg("Security group %s is not in VPC %s.", id, vpc)
		}
	}
	d.VpcId = ptr(vpc)
	d.SubnetIds = append([]string{}, subnets...)
	d.SecurityGroupIds = append([]string{}, groups...)
	return d, nil
}

var roleARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/.+$`)

func validateEncryption(s *Server, keyType kt.KeyType, keyID *string) *apiError {
	switch keyType {
	case kt.KeyTypeAwsOwnedKey:
		if keyID != nil {
			return invalidArg("KeyId must not be set when KeyType is AWS_OWNED_KEY.")
		}
	case kt.KeyTypeCustomerManagedKey:
		if deref(keyID) == "" {
			return invalidArg("KeyId is required when KeyType is CUSTOMER_MANAGED_KEY.")
		}
		if k := s.kms.find(*keyID); k != nil {
			if !strings.Contains(k.policy, "kinesisanalytics.amazonaws.com") {
				return invalidArg("The key policy of %s does not allow kinesisanalytics.amazonaws.com and infrastructure.kinesisanalytics.amazonaws.com to use the key.", *keyID)
			}
			if k.state != "Enabled" {
				return invalidArg("KMS key %s is not enabled.", *keyID)
			}
		}
	default:
		return invalidArg("KeyType must be one of %v.", kt.KeyType("").Values())
	}
	return nil
}

func (s *Server) kdaCreateApplication(c *call) (any, *apiError) {
	name := gs(c.json, "ApplicationName")
	if name == "" {
		return nil, missing("InvalidArgumentException", "applicationName")
	}
	if !appNameRE.MatchString(name) {
		return nil, invalidArg("1 validation error detected: Value '%s' at 'applicationName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", name)
	}
	rt := kt.RuntimeEnvironment(gs(c.json, "RuntimeEnvironment"))
	if !slices.Contains(rt.Values(), rt) {
		return nil, invalidArg("1 validation error detected: Value '%s' at 'runtimeEnvironment' failed to satisfy constraint: Member must satisfy enum value set: %v", rt, rt.Values())
	}
	role := gs(c.json, "ServiceExecutionRole")
	if role == "" {
		return nil, missing("InvalidArgumentException", "serviceExecutionRole")
	}
	if !roleARNRE.MatchString(role) {
		return nil, invalidArg("ServiceExecutionRole %s is not a valid IAM role ARN.", role)
	}
	if s.kda.apps[name] != nil {
		return nil, errf(400, "ResourceInUseException", "Application %s already exists.", name)
	}
	mode := kt.ApplicationMode(gs(c.json, "ApplicationMode"))
	if mode == "" {
		mode = kt.ApplicationModeStreaming
		if strings.HasPrefix(string(rt), "ZEPPELIN-") {
			mode = kt.ApplicationModeInteractive
		}
	}
	if !slices.Contains(mode.Values(), mode) {
		return nil, invalidArg("ApplicationMode must be one of %v.", mode.Values())
	}
	a := &kdaApp{}
	if raw := gm(c.json, "ApplicationConfiguration"); raw != nil {
		if err := fromTree(raw, &a.cfg); err != nil {
			return nil, invalidArg("ApplicationConfiguration: %v", err)
		}
	}
	var logs []kt.CloudWatchLoggingOption
	if raw := gl(c.json, "CloudWatchLoggingOptions"); raw != nil {
		if err := fromTree(raw, &logs); err != nil {
			return nil, invalidArg("CloudWatchLoggingOptions: %v", err)
		}
	}
	var tags []kt.Tag
	if raw := gl(c.json, "Tags"); raw != nil {
		if err := fromTree(raw, &tags); err != nil {
			return nil, invalidArg("Tags: %v", err)
		}
	}
	if len(tags) > 50 {
		return nil, errf(400, "TooManyTagsException", "Application can have at most 50 tags.")
	}
	a.d = kt.ApplicationDetail{
		ApplicationARN:                    ptr(s.kdaARN(name)),
		ApplicationName:                   ptr(name),
		ApplicationStatus:                 kt.ApplicationStatusReady,
		ApplicationVersionId:              ptr(int64(1)),
		RuntimeEnvironment:                rt,
		ApplicationMode:                   mode,
		ServiceExecutionRole:              ptr(role),
		ConditionalToken:                  ptr(newToken()),
		CreateTimestamp:                   ptr(c.now),
		LastUpdateTimestamp:               ptr(c.now),
		ApplicationVersionCreateTimestamp: ptr(c.now),
	}
	if has(c.json, "ApplicationDescription") {
		a.d.ApplicationDescription = ptr(gs(c.json, "ApplicationDescription"))
	}
	if isFlink(a) {
		a.d.ApplicationMaintenanceConfigurationDescription = &kt.ApplicationMaintenanceConfigurationDescription{ApplicationMaintenanceWindowStartTime: ptr("06:00"), ApplicationMaintenanceWindowEndTime: ptr("14:00")}
	}
	if ec := a.cfg.ApplicationEncryptionConfiguration; ec != nil {
		if e := validateEncryption(s, ec.KeyType, ec.KeyId); e != nil {
			return nil, e
		}
	}
	if cc := a.cfg.ApplicationCodeConfiguration; cc != nil && !slices.Contains(cc.CodeContentType.Values(), cc.CodeContentType) {
		return nil, invalidArg("CodeContentType must be one of %v.", cc.CodeContentType.Values())
	}
	if e := validateFlinkConfig(a.cfg.FlinkApplicationConfiguration); e != nil {
		return nil, e
	}
	for _, v := range a.cfg.VpcConfigurations {
		d, e := s.vpcDescription(v.SubnetIds, v.SecurityGroupIds)
		if e != nil {
			return nil, e
		}
		d.VpcConfigurationId = ptr(a.nextID())
		a.vpcs = append(a.vpcs, d)
	}
	if len(a.vpcs) > 1 {
		return nil, invalidArg("An application can have at most one VPC configuration.")
	}
	a.cfg.VpcConfigurations = nil
	for _, l := range logs {
		if !logStreamARNRE.MatchString(deref(l.LogStreamARN)) {
			return nil, invalidArg("LogStreamARN %q is not a valid CloudWatch Logs log stream ARN.", deref(l.LogStreamARN))
		}
		a.logging = append(a.logging, kt.CloudWatchLoggingOptionDescription{LogStreamARN: l.LogStreamARN, CloudWatchLoggingOptionId: ptr(a.nextID())})
	}
	if len(a.logging) > 1 {
		return nil, invalidArg("An application can have at most one CloudWatch logging option.")
	}
	a.tags = tags
	s.kda.apps[name] = a
	s.recordKDAConfigItem(a, c.now, "ResourceDiscovered")
	return map[string]any{"ApplicationDetail": toTree(s.kdaDetail(a))}, nil
}

func validateFlinkConfig(f *kt.FlinkApplicationConfiguration) *apiError {
	if f == nil {
		return nil
	}
	if cp := f.CheckpointConfiguration; cp != nil {
		if !slices.Contains(cp.ConfigurationType.Values(), cp.ConfigurationType) {
			return invalidArg("CheckpointConfiguration.ConfigurationType must be one of %v.", cp.ConfigurationType.Values())
		}
		if cp.CheckpointInterval != nil && *cp.CheckpointInterval < 1 {
			return invalidArg("CheckpointInterval must be at least 1.")
		}
	}
	if m := f.MonitoringConfiguration; m != nil {
		if !slices.Contains(m.ConfigurationType.Values(), m.ConfigurationType) {
			return invalidArg("MonitoringConfiguration.ConfigurationType must be one of %v.", m.ConfigurationType.Values())
		}
		if m.LogLevel != "" && !slices.Contains(m.LogLevel.Values(), m.LogLevel) {
			return invalidArg("LogLevel must be one of %v.", m.LogLevel.Values())
		}
		if m.MetricsLevel != "" && !slices.Contains(m.MetricsLevel.Values(), m.MetricsLevel) {
			return invalidArg("MetricsLevel must be one of %v.", m.MetricsLevel.Values())
		}
	}
	if p := f.ParallelismConfiguration; p != nil {
		if !slices.Contains(p.ConfigurationType.Values(), p.ConfigurationType) {
			return invalidArg("ParallelismConfiguration.ConfigurationType must be one of %v.", p.ConfigurationType.Values())
		}
		if p.Parallelism != nil && *p.Parallelism < 1 {
			return invalidArg("Parallelism must be at least 1.")
		}
	}
	return nil
}

func (s *Server) kdaDescribeApplication(c *call) (any, *apiError) {
	a, e := s.kdaApp(c)
	if e != nil {
		return nil, e
	}
	out := map[string]any{"ApplicationDetail": toTree(s.kdaDetail(a))}
	name := deref(a.d.ApplicationName)
	if n := s.competing[name]; n > 0 {
		s.competing[name] = n - 1
		s.competingWrite(a, c.now)
	}
	return out, nil
}

// competingWrite is the emulator's own UpdateApplication-like change.
func (s *Server) competingWrite(a *kdaApp, now time.Time) {
	ep := a.cfg.EnvironmentProperties
	if ep == nil {
		ep = &kt.EnvironmentProperties{}
		a.cfg.EnvironmentProperties = ep
	}
	idx := slices.IndexFunc(ep.PropertyGroups, func(g kt.PropertyGroup) bool { return deref(g.PropertyGroupId) == "localaws.competing-writer" })
	if idx < 0 {
		ep.PropertyGroups = append(ep.PropertyGroups, kt.PropertyGroup{PropertyGroupId: ptr("localaws.competing-writer"), PropertyMap: map[string]string{}})
		idx = len(ep.PropertyGroups) - 1
	}
	g := &ep.PropertyGroups[idx]
	n, _ := strconv.Atoi(g.PropertyMap["writes"])
	g.PropertyMap = map[string]string{"writes": strconv.Itoa(n + 1)}
	s.bump(a, now)
	if a.d.ApplicationStatus == kt.ApplicationStatusRunning {
		s.transition(a, now, kt.ApplicationStatusUpdating, kt.ApplicationStatusRunning)
	}
	s.recordKDAConfigItem(a, now, "OK")
	s.journal = append(s.journal, Entry{Time: now, Service: "localaws", Operation: "CompetingWrite", Params: map[string]string{"ApplicationName": deref(a.d.ApplicationName), "ApplicationVersionId": strconv.FormatInt(deref(a.d.ApplicationVersionId), 10)}, Status: 200})
}

func (s *Server) kdaListApplications(c *call) (any, *apiError) {
	limit := int64(50)
	if v, ok := gi(c.json, "Limit"); ok {
		if v < 1 || v > 50 {
			return nil, errf(400, "InvalidRequestException", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 50", v)
		}
		limit = v
	}
	names := make([]string, 0, len(s.kda.apps))
	for n := range s.kda.apps {
		names = append(names, n)
	}
	sort.Strings(names)
	start := 0
	if tok := gs(c.json, "NextToken"); tok != "" {
		after, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return nil, errf(400, "InvalidRequestException", "Invalid NextToken.")
		}
		start = sort.SearchStrings(names, string(after))
		if start < len(names) && names[start] == string(after) {
			start++
		}
	}
	var sums []any
	end := min(len(names), start+int(limit))
	for _, n := range names[start:end] {
		a := s.kda.apps[n]
		a.settle(c.now)
		sums = append(sums, toTree(kt.ApplicationSummary{ApplicationARN: a.d.ApplicationARN, ApplicationName: a.d.ApplicationName, ApplicationStatus: a.d.ApplicationStatus, ApplicationVersionId: a.d.ApplicationVersionId, RuntimeEnvironment: a.d.RuntimeEnvironment, ApplicationMode: a.d.ApplicationMode}))
	}
	if sums == nil {
		sums = []any{}
	}
	out := map[string]any{"ApplicationSummaries": sums}
	if end < len(names) {
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte(names[end-1]))
	}
	return out, nil
}

func (s *Server) kdaUpdateApplication(c *call) (any, *apiError) {
	a, e := s.kdaApp(c)
	if e != nil {
		return nil, e
	}
	if e := requireStatus(a, kt.ApplicationStatusReady, kt.ApplicationStatusRunning); e != nil {
		return nil, e
	}
	if e := checkVersion(c, a, true); e != nil {
		return nil, e
	}
	var upd struct {
		ApplicationConfigurationUpdate *kt.ApplicationConfigurationUpdate
		ServiceExecutionRoleUpdate     *string
		RunConfigurationUpdate         *kt.RunConfigurationUpdate
		CloudWatchLoggingOptionUpdates []kt.CloudWatchLoggingOptionUpdate
		RuntimeEnvironmentUpdate       kt.RuntimeEnvironment
		ApplicationName                *string
		CurrentApplicationVersionId    *int64
		ConditionalToken               *string
	}
	if err := fromTree(c.json, &upd); err != nil {
		return nil, invalidArg("%v", err)
	}
	if upd.ApplicationConfigurationUpdate == nil && upd.ServiceExecutionRoleUpdate == nil && upd.RunConfigurationUpdate == nil && upd.CloudWatchLoggingOptionUpdates == nil && upd.RuntimeEnvironmentUpdate == "" {
		return nil, invalidArg("At least one update must be specified.")
	}
	// Work on a copy so that a validation error leaves the application unchanged.
	n := *a
	n.cfg = cloneConfig(a.cfg)
	n.vpcs = slices.Clone(a.vpcs)
	n.logging = slices.Clone(a.logging)
	if u := upd.ApplicationConfigurationUpdate; u != nil {
		if e := s.applyConfigUpdate(&n, u); e != nil {
			return nil, e
		}
	}
	if r := upd.ServiceExecutionRoleUpdate; r != nil {
		if !roleARNRE.MatchString(*r) {
			return nil, invalidArg("ServiceExecutionRoleUpdate %s is not a valid IAM role ARN.", *r)
		}
		n.d.ServiceExecutionRole = ptr(*r)
	}
	for _, lu := range upd.CloudWatchLoggingOptionUpdates {
		i := slices.IndexFunc(n.logging, func(l kt.CloudWatchLoggingOptionDescription) bool {
			return deref(l.CloudWatchLoggingOptionId) == deref(lu.CloudWatchLoggingOptionId)
		})
		if i < 0 {
			return nil, errf(400, "ResourceNotFoundException", "CloudWatch logging option %s is not found.", deref(lu.CloudWatchLoggingOptionId))
		}
		if lu.LogStreamARNUpdate != nil {
			if !logStreamARNRE.MatchString(*lu.LogStreamARNUpdate) {
				return nil, invalidArg("LogStreamARNUpdate %q is not a valid log stream ARN.", *lu.LogStreamARNUpdate)
			}
			n.logging[i].LogStreamARN = ptr(*lu.LogStreamARNUpdate)
		}
	}
	if rt := upd.RuntimeEnvironmentUpdate; rt != "" {
		if !slices.Contains(rt.Values(), rt) {
			return nil, invalidArg("RuntimeEnvironmentUpdate must be one of %v.", rt.Values())
		}
		n.d.RuntimeEnvironment = rt
	}
	if ru := upd.RunConfigurationUpdate; ru != nil {
		if n.run == nil {
			n.run = &kt.RunConfigurationDescription{}
		}
		if ru.ApplicationRestoreConfiguration != nil {
			n.run.ApplicationRestoreConfigurationDescription = ru.ApplicationRestoreConfiguration
		}
		if ru.FlinkRunConfiguration != nil {
			n.run.FlinkRunConfigurationDescription = ru.FlinkRunConfiguration
		}
	}
	*a = n
	s.bump(a, c.now)
	if a.d.ApplicationStatus == kt.ApplicationStatusRunning {
		s.transition(a, c.now, kt.ApplicationStatusUpdating, kt.ApplicationStatusRunning)
	}
	s.recordKDAConfigItem(a, c.now, "OK")
	return map[string]any{"ApplicationDetail": toTree(s.kdaDetail(a)), "OperationId": s.newOperationID()}, nil
}

func cloneConfig(c kt.ApplicationConfiguration) kt.ApplicationConfiguration {
	var out kt.ApplicationConfiguration
	fromTreeLenient(jsonRoundTrip(toTree(c)), &out)
	return out
}

// jsonRoundTrip normalises a tree the way the wire would (numbers become
// json.Number, times stay times).
func jsonRoundTrip(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = jsonRoundTrip(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = jsonRoundTrip(e)
		}
		return l
	case int64:
		return jsonNumber(strconv.FormatInt(x, 10))
	case float64:
		return jsonNumber(strconv.FormatFloat(x, 'g', -1, 64))
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	}
	return v
}

func (s *Server) applyConfigUpdate(a *kdaApp, u *kt.ApplicationConfigurationUpdate) *apiError {
	cfg := &a.cfg
	if cu := u.ApplicationCodeConfigurationUpdate; cu != nil {
		if cfg.ApplicationCodeConfiguration == nil {
			cfg.ApplicationCodeConfiguration = &kt.ApplicationCodeConfiguration{}
		}
		cc := cfg.ApplicationCodeConfiguration
		if cu.CodeContentTypeUpdate != "" {
			cc.CodeContentType = cu.CodeContentTypeUpdate
		}
		if ccu := cu.CodeContentUpdate; ccu != nil {
			if cc.CodeContent == nil {
				cc.CodeContent = &kt.CodeContent{}
			}
			if ccu.TextContentUpdate != nil {
				cc.CodeContent.TextContent = ccu.TextContentUpdate
			}
			if ccu.ZipFileContentUpdate != nil {
				cc.CodeContent.ZipFileContent = ccu.ZipFileContentUpdate
			}
			if l := ccu.S3ContentLocationUpdate; l != nil {
				if cc.CodeContent.S3ContentLocation == nil {
					cc.CodeContent.S3ContentLocation = &kt.S3ContentLocation{}
				}
				loc := cc.CodeContent.S3ContentLocation
				if l.BucketARNUpdate != nil {
					loc.BucketARN = l.BucketARNUpdate
				}
				if l.FileKeyUpdate != nil {
					loc.FileKey = l.FileKeyUpdate
				}
				if l.ObjectVersionUpdate != nil {
					loc.ObjectVersion = l.ObjectVersionUpdate
				}
			}
		}
	}
	if eu := u.ApplicationEncryptionConfigurationUpdate; eu != nil {
		if e := validateEncryption(s, eu.KeyTypeUpdate, eu.KeyIdUpdate); e != nil {
			return e
		}
		cfg.ApplicationEncryptionConfiguration = &kt.ApplicationEncryptionConfiguration{KeyType: eu.KeyTypeUpdate, KeyId: eu.KeyIdUpdate}
	}
	if su := u.ApplicationSnapshotConfigurationUpdate; su != nil {
		if su.SnapshotsEnabledUpdate == nil {
			return missing("InvalidArgumentException", "applicationConfigurationUpdate.applicationSnapshotConfigurationUpdate.snapshotsEnabledUpdate")
		}
		cfg.ApplicationSnapshotConfiguration = &kt.ApplicationSnapshotConfiguration{SnapshotsEnabled: su.SnapshotsEnabledUpdate}
	}
	if ru := u.ApplicationSystemRollbackConfigurationUpdate; ru != nil {
		if ru.RollbackEnabledUpdate == nil {
			return missing("InvalidArgumentException", "applicationConfigurationUpdate.applicationSystemRollbackConfigurationUpdate.rollbackEnabledUpdate")
		}
		cfg.ApplicationSystemRollbackConfiguration = &kt.ApplicationSystemRollbackConfiguration{RollbackEnabled: ru.RollbackEnabledUpdate}
	}
	if pu := u.EnvironmentPropertyUpdates; pu != nil {
		seen := map[string]bool{}
		for _, g := range pu.PropertyGroups {
			id := deref(g.PropertyGroupId)
			if id == "" || seen[id] {
				return invalidArg("PropertyGroupIds must be present and unique.")
			}
			seen[id] = true
		}
		cfg.EnvironmentProperties = &kt.EnvironmentProperties{PropertyGroups: pu.PropertyGroups}
	}
	if fu := u.FlinkApplicationConfigurationUpdate; fu != nil {
		if !isFlink(a) {
			return invalidArg("FlinkApplicationConfigurationUpdate is only valid for Apache Flink applications.")
		}
		if cfg.FlinkApplicationConfiguration == nil {
			cfg.FlinkApplicationConfiguration = &kt.FlinkApplicationConfiguration{}
		}
		f := cfg.FlinkApplicationConfiguration
		if cu := fu.CheckpointConfigurationUpdate; cu != nil {
			if f.CheckpointConfiguration == nil {
				f.CheckpointConfiguration = &kt.CheckpointConfiguration{ConfigurationType: kt.ConfigurationTypeDefault}
			}
			cp := f.CheckpointConfiguration
			if cu.ConfigurationTypeUpdate != "" {
				cp.ConfigurationType = cu.ConfigurationTypeUpdate
			}
			if cu.CheckpointingEnabledUpdate != nil {
				cp.CheckpointingEnabled = cu.CheckpointingEnabledUpdate
			}
			if cu.CheckpointIntervalUpdate != nil {
				cp.CheckpointInterval = cu.CheckpointIntervalUpdate
			}
			if cu.MinPauseBetweenCheckpointsUpdate != nil {
				cp.MinPauseBetweenCheckpoints = cu.MinPauseBetweenCheckpointsUpdate
			}
		}
		if mu := fu.MonitoringConfigurationUpdate; mu != nil {
			if f.MonitoringConfiguration == nil {
				f.MonitoringConfiguration = &kt.MonitoringConfiguration{ConfigurationType: kt.ConfigurationTypeDefault}
			}
			m := f.MonitoringConfiguration
			if mu.ConfigurationTypeUpdate != "" {
				m.ConfigurationType = mu.ConfigurationTypeUpdate
			}
			if mu.LogLevelUpdate != "" {
				m.LogLevel = mu.LogLevelUpdate
			}
			if mu.MetricsLevelUpdate != "" {
				m.MetricsLevel = mu.MetricsLevelUpdate
			}
		}
		if pu := fu.ParallelismConfigurationUpdate; pu != nil {
			if f.ParallelismConfiguration == nil {
				f.ParallelismConfiguration = &kt.ParallelismConfiguration{ConfigurationType: kt.ConfigurationTypeDefault}
			}
			p := f.ParallelismConfiguration
			if pu.ConfigurationTypeUpdate != "" {
				p.ConfigurationType = pu.ConfigurationTypeUpdate
			}
			if pu.AutoScalingEnabledUpdate != nil {
				p.AutoScalingEnabled = pu.AutoScalingEnabledUpdate
			}
			if pu.ParallelismUpdate != nil {
				p.Parallelism = pu.ParallelismUpdate
			}
			if pu.ParallelismPerKPUUpdate != nil {
				p.ParallelismPerKPU = pu.ParallelismPerKPUUpdate
			}
		}
		if e := validateFlinkConfig(f); e != nil {
			return e
		}
	}
	if zu := u.ZeppelinApplicationConfigurationUpdate; zu != nil {
		if !isZeppelin(a) {
			return invalidArg("ZeppelinApplicationConfigurationUpdate is only valid for Studio notebooks.")
		}
		if zu.MonitoringConfigurationUpdate != nil {
			if cfg.ZeppelinApplicationConfiguration == nil {
				cfg.ZeppelinApplicationConfiguration = &kt.ZeppelinApplicationConfiguration{}
			}
			cfg.ZeppelinApplicationConfiguration.MonitoringConfiguration = &kt.ZeppelinMonitoringConfiguration{LogLevel: zu.MonitoringConfigurationUpdate.LogLevelUpdate}
		}
	}
	for _, vu := range u.VpcConfigurationUpdates {
		i := slices.IndexFunc(a.vpcs, func(v kt.VpcConfigurationDescription) bool {
			return deref(v.VpcConfigurationId) == deref(vu.VpcConfigurationId)
		})
		if i < 0 {
			return errf(400, "ResourceNotFoundException", "VPC configuration %s is not found.", deref(vu.VpcConfigurationId))
		}
		subnets, groups := a.vpcs[i].SubnetIds, a.vpcs[i].SecurityGroupIds
		if vu.SubnetIdUpdates != nil {
			subnets = vu.SubnetIdUpdates
		}
		if vu.SecurityGroupIdUpdates != nil {
			groups = vu.SecurityGroupIdUpdates
		}
		d, e := s.vpcDescription(subnets, groups)
		if e != nil {
			return e
		}
		d.VpcConfigurationId = a.vpcs[i].VpcConfigurationId
		a.vpcs[i] = d
	}
	return nil
}

func (s *Server) kdaDeleteApplication(c *call) (any, *apiError) {
	a, e := s.kdaApp(c)
	if e != nil {
		return nil, e
	}
	ts, ok := gt(c.json, "CreateTimestamp")
	if !ok {
		return nil, missing("InvalidArgumentException", "createTimestamp")
	}
	if ts.Unix() != a.d.CreateTimestamp.Unix() {
		return nil, invalidArg("CreateTimestamp does not match the application's creation time.")
	}
	if e := requireStatus(a, kt.ApplicationStatusReady, kt.ApplicationStatusRunning); e != nil {
		return nil, e
	}
	name := deref(a.d.ApplicationName)
	s.recordKDAConfigItem(a, c.now, "ResourceDeleted")
	s.cfg.deleted[name] = a.history
	delete(s.kda.apps, name)
	return map[string]any{}, nil
}

func (s *Server) kdaStartApplication(c *call) (any, *apiError) {
	a, e := s.kdaApp(c)
	if e != nil {
		return nil, e
	}
	if e := requireStatus(a, kt.ApplicationStatusReady); e != nil {
		return nil, e
	}
	var in struct {
		ApplicationName  *string
		RunConfiguration *kt.RunConfiguration
	}
	if err := fromTree(c.json, &in); err != nil {
		return nil, invalidArg("%v", err)
	}
	run := &kt.RunConfigurationDescription{}
	if isFlink(a) {
		run.ApplicationRestoreConfigurationDescription = &kt.ApplicationRestoreConfiguration{ApplicationRestoreType: kt.ApplicationRestoreTypeRestoreFromLatestSnapshot}
		run.FlinkRunConfigurationDescription = &kt.FlinkRunConfiguration{AllowNonRestoredState: ptr(false)}
	}
	if rc := in.RunConfiguration; rc != nil {
		if r := rc.ApplicationRestoreConfiguration; r != nil {
			if r.ApplicationRestoreType == kt.ApplicationRestoreTypeRestoreFromCustomSnapshot && !slices.ContainsFunc(a.snapshots, func(sd kt.SnapshotDetails) bool { return deref(sd.SnapshotName) == deref(r.SnapshotName) }) {
				return nil, errf(400, "ResourceNotFoundException", "Snapshot %s is not found.", deref(r.SnapshotName))
			}
			run.ApplicationRestoreConfigurationDescription = r
		}
		if rc.FlinkRunConfiguration != nil {
			run.FlinkRunConfigurationDescription = rc.FlinkRunConfiguration
		}
	}
	a.run = run
	s.transition(a, c.now, kt.ApplicationStatusStarting, kt.ApplicationStatusRunning)
	return map[string]any{"OperationId": s.newOperationID()}, nil
}

func (s *Server) kdaStopApplication(c *call) (any, *apiError) {
	a, e := s.kdaApp(c)
	if e != nil {
		return nil, e
	}
	force, _ := gb(c.json, "Force")
	ok := []kt.ApplicationStatus{kt.ApplicationStatusRunning}
	if force {
		ok = append(ok, kt.ApplicationStatusStarting, kt.ApplicationStatusUpdating, kt.ApplicationStatusAutoscaling, kt.ApplicationStatusStopping)
	}
	if e := requireStatus(a, ok...); e != nil {
		return nil, e
	}
	during := kt.ApplicationStatusStopping
	if force {
		during = kt.ApplicationStatusForceStopping
	}
	s.transition(a, c.now, during, kt.ApplicationStatusReady)
	return map[string]any{"OperationId": s.newOperationID()}, nil
}

// kdaOptionChange is the shape of the Add/Delete…CloudWatchLoggingOption and
// …VpcConfiguration calls: a READY or RUNNING application and its version
// token checked; then check validates the request and returns the change,
// applied after the version is bumped (a RUNNING application passes through
// UPDATING). recordItem records a Config item (VPC changes are part of the
// recorded configuration; logging options are not).
func (s *Server) kdaOptionChange(c *call, recordItem bool, check func(a *kdaApp) (apply func() map[string]any, e *apiError)) (any, *apiError) {
	a, e := s.kdaApp(c)
	if e != nil {
		return nil, e
	}
	if e := requireStatus(a, kt.ApplicationStatusReady, kt.ApplicationStatusRunning); e != nil {
		return nil, e
	}
	if e := checkVersion(c, a, false); e != nil {
		return nil, e
	}
	apply, e := check(a)
	if e != nil {
		return nil, e
	}
	s.bump(a, c.now)
	out := apply()
	if a.d.ApplicationStatus == kt.ApplicationStatusRunning {
		s.transition(a, c.now, kt.ApplicationStatusUpdating, kt.ApplicationStatusRunning)
	}
	if recordItem {
		s.recordKDAConfigItem(a, c.now, "OK")
	}
	out["ApplicationARN"] = deref(a.d.ApplicationARN)
	out["ApplicationVersionId"] = deref(a.d.ApplicationVersionId)
	out["OperationId"] = s.newOperationID()
	return out, nil
}

func (s *Server) kdaAddLogging(c *call) (any, *apiError) {
	return s.kdaOptionChange(c, false, func(a *kdaApp) (func() map[string]any, *apiError) {
		opt := gm(c.json, "CloudWatchLoggingOption")
		if opt == nil {
			return nil, missing("InvalidArgumentException", "cloudWatchLoggingOption")
		}
		arn := gs(opt, "LogStreamARN")
		if !logStreamARNRE.MatchString(arn) {
			return nil, invalidArg("LogStreamARN %q is not a valid CloudWatch Logs log stream ARN.", arn)
		}
		if len(a.logging) > 0 {
			return nil, invalidArg("Application %s already has a CloudWatch logging option.", deref(a.d.ApplicationName))
		}
		return func() map[string]any {
			a.logging = append(a.logging, kt.CloudWatchLoggingOptionDescription{LogStreamARN: ptr(arn), CloudWatchLoggingOptionId: ptr(a.nextID())})
			return map[string]any{"CloudWatchLoggingOptionDescriptions": toTree(a.logging)}
		}, nil
	})
}

func (s *Server) kdaDeleteLogging(c *call) (any, *apiError) {
	return s.kdaOptionChange(c, false, func(a *kdaApp) (func() map[string]any, *apiError) {
		id := gs(c.json, "CloudWatchLoggingOptionId")
		if id == "" {
			return nil, missing("InvalidArgumentException", "cloudWatchLoggingOptionId")
		}
		i := slices.IndexFunc(a.logging, func(l kt.CloudWatchLoggingOptionDescription) bool { return deref(l.CloudWatchLoggingOptionId) == id })
		if i < 0 {
			return nil, errf(400, "ResourceNotFoundException", "CloudWatch logging option %s is not found.", id)
		}
		return func() map[string]any {
			a.logging = slices.Delete(a.logging, i, i+1)
			return map[string]any{"CloudWatchLoggingOptionDescriptions": toTree(append([]kt.CloudWatchLoggingOptionDescription{}, a.logging...))}
		}, nil
	})
}

func (s *Server) kdaAddVpc(c *call) (any, *apiError) {
	return s.kdaOptionChange(c, true, func(a *kdaApp) (func() map[string]any, *apiError) {
		vc := gm(c.json, "VpcConfiguration")
		if vc == nil {
			return nil, missing("InvalidArgumentException", "vpcConfiguration")
		}
		if len(a.vpcs) > 0 {
			return nil, invalidArg("Application %s already has a VPC configuration.", deref(a.d.ApplicationName))
		}
		d, e := s.vpcDescription(gsl(vc, "SubnetIds"), gsl(vc, "SecurityGroupIds"))
		if e != nil {
			return nil, e
		}
		return func() map[string]any {
			d.VpcConfigurationId = ptr(a.nextID())
			a.vpcs = append(a.vpcs, d)
			return map[string]any{"VpcConfigurationDescription": toTree(d)}
		}, nil
	})
}

func (s *Server) kdaDeleteVpc(c *call) (any, *apiError) {
	return s.kdaOptionChange(c, true, func(a *kdaApp) (func() map[string]any, *apiError) {
		id := gs(c.json, "VpcConfigurationId")
		if id == "" {
			return nil, missing("InvalidArgumentException", "vpcConfigurationId")
		}
		i := slices.IndexFunc(a.vpcs, func(v kt.VpcConfigurationDescription) bool { return deref(v.VpcConfigurationId) == id })
		if i < 0 {
			return nil, errf(400, "ResourceNotFoundException", "VPC configuration %s is not found.", id)
		}
		return func() map[string]any {
			a.vpcs = slices.Delete(a.vpcs, i, i+1)
			return map[string]any{}
		}, nil
	})
}

func (s *Server) kdaByARN(c *call) (*kdaApp, *apiError) {
	arn := gs(c.json, "ResourceARN")
	if arn == "" {
		return nil, missing("InvalidArgumentException", "resourceARN")
	}
	i := strings.LastIndex(arn, ":application/")
	if !strings.HasPrefix(arn, "arn:") || i < 0 {
		return nil, invalidArg("ResourceARN %s is not a valid application ARN.", arn)
	}
	a := s.kda.apps[arn[i+len(":application/"):]]
	if a == nil || deref(a.d.ApplicationARN) != arn {
		return nil, errf(400, "ResourceNotFoundException", "Resource %s is not found.", arn)
	}
	a.settle(c.now)
	return a, nil
}

func (s *Server) kdaTagResource(c *call) (any, *apiError) {
	a, e := s.kdaByARN(c)
	if e != nil {
		return nil, e
	}
	var tags []kt.Tag
	if err := fromTree(gl(c.json, "Tags"), &tags); err != nil || len(tags) == 0 {
		return nil, invalidArg("Tags must contain between 1 and 50 tags.")
	}
	merged := slices.Clone(a.tags)
	for _, t := range tags {
		if deref(t.Key) == "" {
			return nil, invalidArg("Tag keys must not be empty.")
		}
		if strings.HasPrefix(strings.ToLower(deref(t.Key)), "aws:") {
			return nil, invalidArg("Tag keys must not start with aws:.")
		}
		i := slices.IndexFunc(merged, func(x kt.Tag) bool { return deref(x.Key) == deref(t.Key) })
		if i >= 0 {
			merged[i] = t
		} else {
			merged = append(merged, t)
		}
	}
	if len(merged) > 50 {
		return nil, errf(400, "TooManyTagsException", "Application can have at most 50 tags.")
	}
	if e := requireStatus(a, kt.ApplicationStatusReady, kt.ApplicationStatusRunning, kt.ApplicationStatusStarting, kt.ApplicationStatusStopping, kt.ApplicationStatusUpdating, kt.ApplicationStatusAutoscaling); e != nil {
		return nil, e
	}
	a.tags = merged
	return map[string]any{}, nil
}

func (s *Server) kdaUntagResource(c *call) (any, *apiError) {
	a, e := s.kdaByARN(c)
	if e != nil {
		return nil, e
	}
	keys := gsl(c.json, "TagKeys")
	if len(keys) == 0 {
		return nil, invalidArg("TagKeys must contain between 1 and 50 keys.")
	}
	a.tags = slices.DeleteFunc(a.tags, func(t kt.Tag) bool { return slices.Contains(keys, deref(t.Key)) })
	return map[string]any{}, nil
}

func (s *Server) kdaListTags(c *call) (any, *apiError) {
	a, e := s.kdaByARN(c)
	if e != nil {
		return nil, e
	}
	return map[string]any{"Tags": toTree(append([]kt.Tag{}, a.tags...))}, nil
}

var snapshotNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,256}$`)

func (s *Server) kdaCreateSnapshot(c *call) (any, *apiError) {
	a, e := s.kdaApp(c)
	if e != nil {
		return nil, e
	}
	name := gs(c.json, "SnapshotName")
	if name == "" {
		return nil, missing("InvalidArgumentException", "snapshotName")
	}
	if !snapshotNameRE.MatchString(name) {
		return nil, invalidArg("SnapshotName %q does not match [a-zA-Z0-9_.-]+.", name)
	}
	if !isFlink(a) {
		return nil, errf(400, "UnsupportedOperationException", "Snapshots are only supported for Apache Flink applications.")
	}
	if !deref(kdaDescribeConfig(a).ApplicationSnapshotConfigurationDescription.SnapshotsEnabled) {
		return nil, errf(400, "InvalidApplicationConfigurationException", "Snapshots are disabled for application %s.", deref(a.d.ApplicationName))
	}
	if e := requireStatus(a, kt.ApplicationStatusRunning); e != nil {
		return nil, e
	}
	if slices.ContainsFunc(a.snapshots, func(sd kt.SnapshotDetails) bool { return deref(sd.SnapshotName) == name }) {
		return nil, errf(400, "ResourceInUseException", "Snapshot %s already exists.", name)
	}
	if len(a.snapshots) >= 1000 {
		return nil, errf(400, "LimitExceededException", "Application %s already has 1000 snapshots.", deref(a.d.ApplicationName))
	}
	enc := kdaDescribeConfig(a).ApplicationEncryptionConfigurationDescription
	status := kt.SnapshotStatusReady
	if s.transitionDelay > 0 {
		status = kt.SnapshotStatusCreating
		if a.snapshotsDue == nil {
			a.snapshotsDue = map[string]time.Time{}
		}
		a.snapshotsDue[name] = c.now.Add(s.transitionDelay)
	}
	a.snapshots = append(a.snapshots, kt.SnapshotDetails{
		SnapshotName: ptr(name), SnapshotStatus: status, ApplicationVersionId: a.d.ApplicationVersionId,
		SnapshotCreationTimestamp: ptr(c.now), RuntimeEnvironment: a.d.RuntimeEnvironment, ApplicationEncryptionConfigurationDescription: enc,
	})
	return map[string]any{}, nil
}

// settleSnapshots turns CREATING snapshots whose time has come READY.
func settleSnapshots(a *kdaApp, now time.Time) {
	for i, sd := range a.snapshots {
		if due, ok := a.snapshotsDue[deref(sd.SnapshotName)]; ok && !now.Before(due) {
			a.snapshots[i].SnapshotStatus = kt.SnapshotStatusReady
			delete(a.snapshotsDue, deref(sd.SnapshotName))
		}
	}
}

func (s *Server) kdaListSnapshots(c *call) (any, *apiError) {
	a, e := s.kdaApp(c)
	if e != nil {
		return nil, e
	}
	settleSnapshots(a, c.now)
	limit := 50
	if v, ok := gi(c.json, "Limit"); ok {
		if v < 1 || v > 50 {
			return nil, invalidArg("Limit must be between 1 and 50.")
		}
		limit = int(v)
	}
	start := 0
	if tok := gs(c.json, "NextToken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(a.snapshots) {
			return nil, errf(400, "InvalidArgumentException", "Invalid NextToken.")
		}
		start = n
	}
	end := min(len(a.snapshots), start+limit)
	out := map[string]any{"SnapshotSummaries": toTree(append([]kt.SnapshotDetails{}, a.snapshots[start:end]...))}
	if end < len(a.snapshots) {
		out["NextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

func (s *Server) kdaDescribeSnapshot(c *call) (any, *apiError) {
	a, e := s.kdaApp(c)
	if e != nil {
		return nil, e
	}
	settleSnapshots(a, c.now)
	name := gs(c.json, "SnapshotName")
	i := slices.IndexFunc(a.snapshots, func(sd kt.SnapshotDetails) bool { return deref(sd.SnapshotName) == name })
	if i < 0 {
		return nil, errf(400, "ResourceNotFoundException", "Snapshot %s is not found.", name)
	}
	return map[string]any{"SnapshotDetails": toTree(a.snapshots[i])}, nil
}

func (s *Server) kdaDeleteSnapshot(c *call) (any, *apiError) {
	a, e := s.kdaApp(c)
	if e != nil {
		return nil, e
	}
	name := gs(c.json, "SnapshotName")
	i := slices.IndexFunc(a.snapshots, func(sd kt.SnapshotDetails) bool { return deref(sd.SnapshotName) == name })
	if i < 0 {
		return nil, errf(400, "ResourceNotFoundException", "Snapshot %s is not found.", name)
	}
	ts, ok := gt(c.json, "SnapshotCreationTimestamp")
	if !ok {
		return nil, missing("InvalidArgumentException", "snapshotCreationTimestamp")
	}
	if ts.Unix() != a.snapshots[i].SnapshotCreationTimestamp.Unix() {
		return nil, invalidArg("SnapshotCreationTimestamp does not match.")
	}
	a.snapshots = slices.Delete(a.snapshots, i, i+1)
	return map[string]any{}, nil
}
