package localaws

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// configservice (awsJson1_1, target prefix StarlingDoveService).

// Evaluation is one evaluation received by PutEvaluations, as sent.
type Evaluation struct {
	ComplianceResourceType string    `json:"complianceResourceType"`
	ComplianceResourceID   string    `json:"complianceResourceId"`
	ComplianceType         string    `json:"complianceType"`
	Annotation             string    `json:"annotation,omitempty"`
	OrderingTimestamp      time.Time `json:"orderingTimestamp"`
	ResultToken            string    `json:"resultToken"`
	TestMode               bool      `json:"testMode"`
	// ConfigRuleName is known when ResultToken was issued by IssueResultToken.
	ConfigRuleName string    `json:"configRuleName,omitempty"`
	ReceivedAt     time.Time `json:"receivedAt"`
}

type storedResult struct {
	ev       Evaluation
	recorded time.Time
}

type configItem struct {
	ResourceType string
	ResourceID   string
	ResourceName string
	ARN          string
	Status       string
	CaptureTime  time.Time
	CreationTime time.Time
	Config       string
	Tags         map[string]string
	StateID      int64
}

type recorder struct {
	Name             string
	RoleARN          string
	AllSupported     bool
	IncludeGlobal    bool
	ResourceTypes    []string
	Recording        bool
	LastStartTime    time.Time
	LastStopTime     time.Time
	LastStatusChange time.Time
}

type configState struct {
	evaluations []Evaluation
	tokens      map[string]string // result token -> rule name
	rules       map[string]bool
	results     map[string]map[string]*storedResult // rule -> type|id -> latest
	deleted     map[string][]configItem             // deleted KDA apps' history
	items       map[string][]configItem             // other resources: type|id
	recorders   []*recorder
	stateSeq    int64
}

func newConfigState() *configState {
	return &configState{tokens: map[string]string{}, rules: map[string]bool{}, results: map[string]map[string]*storedResult{}, deleted: map[string][]configItem{}, items: map[string][]configItem{}}
}

func init() {
	register("configservice", map[string]handlerFunc{
		"PutEvaluations":                      (*Server).cfgPutEvaluations,
		"GetComplianceDetailsByConfigRule":    (*Server).cfgGetComplianceDetailsByConfigRule,
		"GetResourceConfigHistory":            (*Server).cfgGetResourceConfigHistory,
		"DescribeConfigurationRecorders":      (*Server).cfgDescribeRecorders,
		"DescribeConfigurationRecorderStatus": (*Server).cfgDescribeRecorderStatus,
		"PutConfigurationRecorder":            (*Server).cfgPutRecorder,
		"StartConfigurationRecorder":          (*Server).cfgStartRecorder,
		"StopConfigurationRecorder":           (*Server).cfgStopRecorder,
	})
}

// IssueResultToken returns a result token for a Config rule invocation, as
// the Config service puts in the event it sends to a custom rule. Evaluations
// put with it are attributed to configRuleName; the rule becomes known to
// GetComplianceDetailsByConfigRule.
func (s *Server) IssueResultToken(configRuleName string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := "localaws-" + newToken()
	s.cfg.tokens[tok] = configRuleName
	s.cfg.rules[configRuleName] = true
	return tok
}

// AddConfigRule makes a rule known (GetComplianceDetailsByConfigRule on an
// unknown rule is NoSuchConfigRuleException).
func (s *Server) AddConfigRule(name string) {
	s.mu.Lock()
	s.cfg.rules[name] = true
	s.mu.Unlock()
}

// Evaluations returns every evaluation PutEvaluations accepted, in order.
func (s *Server) Evaluations() []Evaluation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cfg.evaluations)
}

var complianceTypes = []string{"COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA"}

func (s *Server) cfgPutEvaluations(c *call) (any, *apiError) {
	tok, hasTok := c.json["ResultToken"].(string)
	if !hasTok {
		return nil, missing("ValidationException", "resultToken")
	}
	testMode, _ := gb(c.json, "TestMode")
	evs := gl(c.json, "Evaluations")
	c.param("Evaluations", strconv.Itoa(len(evs)))
	if len(evs) > 100 {
		return nil, errf(400, "ValidationException", "1 validation error detected: Value at 'evaluations' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	if tok == "" {
		return nil, errf(400, "InvalidResultTokenException", "The result token is invalid.")
	}
	rule := s.cfg.tokens[tok]
	var parsed []Evaluation
	for i, raw := range evs {
		m, _ := raw.(map[string]any)
		ev := Evaluation{
			ComplianceResourceType: gs(m, "ComplianceResourceType"),
			ComplianceResourceID:   gs(m, "ComplianceResourceId"),
			ComplianceType:         gs(m, "ComplianceType"),
			Annotation:             gs(m, "Annotation"),
			ResultToken:            tok,
			TestMode:               testMode,
			ConfigRuleName:         rule,
			ReceivedAt:             c.now,
		}
		at := fmt.Sprintf("evaluations.%d.member", i+1)
		switch {
		case ev.ComplianceResourceType == "":
			return nil, missing("ValidationException", at+".complianceResourceType")
		case ev.ComplianceResourceID == "":
			return nil, missing("ValidationException", at+".complianceResourceId")
		case ev.ComplianceType == "":
			return nil, missing("ValidationException", at+".complianceType")
		case len(ev.ComplianceResourceType) > 256:
			return nil, errf(400, "ValidationException", "1 validation error detected: Value at '%s.complianceResourceType' failed to satisfy constraint: Member must have length less than or equal to 256", at)
		case len(ev.ComplianceResourceID) > 768:
			return nil, errf(400, "ValidationException", "1 validation error detected: Value at '%s.complianceResourceId' failed to satisfy constraint: Member must have length less than or equal to 768", at)
		case !slices.Contains(complianceTypes, ev.ComplianceType):
			return nil, errf(400, "ValidationException", "1 validation error detected: Value '%s' at '%s.complianceType' failed to satisfy constraint: Member must satisfy enum value set: %v", ev.ComplianceType, at, complianceTypes)
		case ev.ComplianceType == "INSUFFICIENT_DATA":
			return nil, errf(400, "InvalidParameterValueException", "The complianceType INSUFFICIENT_DATA is not supported for evaluations; use COMPLIANT, NON_COMPLIANT or NOT_APPLICABLE.")
		case has(m, "Annotation") && (ev.Annotation == "" || utf8.RuneCountInString(ev.Annotation) > 256):
			return nil, errf(400, "ValidationException", "1 validation error detected: Value at '%s.annotation' failed to satisfy constraint: Member must have length between 1 and 256", at)
		}
		t, ok := gt(m, "OrderingTimestamp")
		if !ok {
			return nil, missing("ValidationException", at+".orderingTimestamp")
		}
		ev.OrderingTimestamp = t
		parsed = append(parsed, ev)
	}
	s.cfg.evaluations = append(s.cfg.evaluations, parsed...)
	if !testMode && rule != "" {
		res := s.cfg.results[rule]
		if res == nil {
			res = map[string]*storedResult{}
			s.cfg.results[rule] = res
		}
		for _, ev := range parsed {
			k := ev.ComplianceResourceType + "|" + ev.ComplianceResourceID
			if old := res[k]; old == nil || !ev.OrderingTimestamp.Before(old.ev.OrderingTimestamp) {
				res[k] = &storedResult{ev: ev, recorded: c.now}
			}
		}
	}
	return map[string]any{"FailedEvaluations": []any{}}, nil
}

func (s *Server) cfgGetComplianceDetailsByConfigRule(c *call) (any, *apiError) {
	rule := gs(c.json, "ConfigRuleName")
	if rule == "" {
		return nil, missing("ValidationException", "configRuleName")
	}
	if !s.cfg.rules[rule] {
		return nil, errf(400, "NoSuchConfigRuleException", "The ConfigRule '%s' provided in the request is invalid. Please check the configRule name.", rule)
	}
	limit := int64(100)
	if v, ok := gi(c.json, "Limit"); ok {
		if v < 0 || v > 100 {
			return nil, errf(400, "InvalidLimitException", "Limit must be between 0 and 100.")
		}
		if v > 0 {
			limit = v
		}
	}
	types := gsl(c.json, "ComplianceTypes")
	for _, t := range types {
		if !slices.Contains(complianceTypes, t) {
			return nil, errf(400, "InvalidParameterValueException", "ComplianceType %s is not valid.", t)
		}
	}
	var keys []string
	for k, r := range s.cfg.results[rule] {
		if len(types) == 0 || slices.Contains(types, r.ev.ComplianceType) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	start := 0
	if tok := gs(c.json, "NextToken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(keys) {
			return nil, errf(400, "InvalidNextTokenException", "The specified next token is invalid.")
		}
		start = n
	}
	end := min(len(keys), start+int(limit))
	results := []any{}
	for _, k := range keys[start:end] {
		r := s.cfg.results[rule][k]
		er := map[string]any{
			"EvaluationResultIdentifier": map[string]any{
				"EvaluationResultQualifier": map[string]any{"ConfigRuleName": rule, "ResourceType": r.ev.ComplianceResourceType, "ResourceId": r.ev.ComplianceResourceID, "EvaluationMode": "DETECTIVE"},
				"OrderingTimestamp":         r.ev.OrderingTimestamp,
			},
			"ComplianceType":        r.ev.ComplianceType,
			"ResultRecordedTime":    r.recorded,
			"ConfigRuleInvokedTime": r.recorded,
		}
		if r.ev.Annotation != "" {
			er["Annotation"] = r.ev.Annotation
		}
		results = append(results, er)
	}
	out := map[string]any{"EvaluationResults": results}
	if end < len(keys) {
		out["NextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

// recordKDAConfigItem appends the configuration item AWS Config would record
// for an application (CloudFormation property shape, no logging, encryption
// or rollback, as the facts document says).
func (s *Server) recordKDAConfigItem(a *kdaApp, now time.Time, status string) {
	s.cfg.stateSeq++
	desc := toTree(kdaDescribeConfig(a))
	cfnCfg := cfnShape(desc)
	if m, ok := cfnCfg.(map[string]any); ok {
		delete(m, "ApplicationEncryptionConfiguration")
		delete(m, "ApplicationSystemRollbackConfiguration")
		delete(m, "RunConfiguration")
	}
	conf := map[string]any{
		"ApplicationName":          deref(a.d.ApplicationName),
		"RuntimeEnvironment":       string(a.d.RuntimeEnvironment),
		"ServiceExecutionRole":     deref(a.d.ServiceExecutionRole),
		"ApplicationConfiguration": cfnCfg,
	}
	if a.d.ApplicationDescription != nil {
		conf["ApplicationDescription"] = *a.d.ApplicationDescription
	}
	if a.d.ApplicationMode != "" {
		conf["ApplicationMode"] = string(a.d.ApplicationMode)
	}
	b, _ := json.Marshal(jsonTree(conf))
	tags := map[string]string{}
	for _, t := range a.tags {
		tags[deref(t.Key)] = deref(t.Value)
	}
	item := configItem{
		ResourceType: "AWS::KinesisAnalyticsV2::Application", ResourceID: deref(a.d.ApplicationName), ResourceName: deref(a.d.ApplicationName),
		ARN: deref(a.d.ApplicationARN), Status: status, CaptureTime: now, CreationTime: deref(a.d.CreateTimestamp),
		Config: string(b), Tags: tags, StateID: s.cfg.stateSeq,
	}
	if status == "ResourceDeleted" {
		item.Config = ""
	}
	a.history = append(a.history, item)
}

// cfnShape renames DescribeApplication's *Description members to the
// CloudFormation property names.
func cfnShape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			nk := k
			switch k {
			case "EnvironmentPropertyDescriptions":
				nk = "EnvironmentProperties"
			case "PropertyGroupDescriptions":
				nk = "PropertyGroups"
			case "VpcConfigurationDescriptions":
				nk = "VpcConfigurations"
			case "S3ApplicationCodeLocationDescription":
				nk = "S3ContentLocation"
			case "CodeContentDescription":
				nk = "CodeContent"
			case "CurrentParallelism", "VpcConfigurationId", "VpcId", "CodeMD5", "CodeSize", "JobPlanDescription":
				continue
			default:
				nk = strings.TrimSuffix(k, "Description")
			}
			m[nk] = cfnShape(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = cfnShape(e)
		}
		return l
	}
	return v
}

// PutConfigurationItem adds a configuration item for any resource type, so
// tests can seed GetResourceConfigHistory for resources the emulator does not
// record itself. configuration is the item's JSON.
func (s *Server) PutConfigurationItem(resourceType, resourceID, configuration string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.stateSeq++
	k := resourceType + "|" + resourceID
	now := time.Now().UTC()
	status := "OK"
	if len(s.cfg.items[k]) == 0 {
		status = "ResourceDiscovered"
	}
	s.cfg.items[k] = append(s.cfg.items[k], configItem{ResourceType: resourceType, ResourceID: resourceID, Status: status, CaptureTime: now, CreationTime: now, Config: configuration, StateID: s.cfg.stateSeq})
}

func (s *Server) cfgGetResourceConfigHistory(c *call) (any, *apiError) {
	rt := gs(c.json, "resourceType")
	id := gs(c.json, "resourceId")
	if rt == "" {
		return nil, missing("ValidationException", "resourceType")
	}
	if id == "" {
		return nil, missing("ValidationException", "resourceId")
	}
	var hist []configItem
	if rt == "AWS::KinesisAnalyticsV2::Application" {
		if a := s.kda.apps[id]; a != nil {
			hist = a.history
		} else {
			hist = s.cfg.deleted[id]
		}
	} else {
		hist = s.cfg.items[rt+"|"+id]
	}
	if len(hist) == 0 {
		return nil, errf(400, "ResourceNotDiscoveredException", "Resource %s of resourceType:%s is unknown or has not been discovered", id, rt)
	}
	later, hasLater := gt(c.json, "laterTime")
	earlier, hasEarlier := gt(c.json, "earlierTime")
	if hasLater && hasEarlier && earlier.After(later) {
		return nil, errf(400, "InvalidTimeRangeException", "The specified time range is invalid: the earlier time is after the later time.")
	}
	var sel []configItem
	for _, it := range hist {
		if hasLater && it.CaptureTime.After(later) {
			continue
		}
		if hasEarlier && it.CaptureTime.Before(earlier) {
			continue
		}
		sel = append(sel, it)
	}
	switch gs(c.json, "chronologicalOrder") {
	case "", "Reverse":
		slices.Reverse(sel)
	case "Forward":
	default:
		return nil, errf(400, "ValidationException", "chronologicalOrder must be Forward or Reverse.")
	}
	limit := 10
	if v, ok := gi(c.json, "limit"); ok {
		if v < 0 || v > 100 {
			return nil, errf(400, "InvalidLimitException", "Limit must be between 0 and 100.")
		}
		if v > 0 {
			limit = int(v)
		}
	}
	start := 0
	if tok := gs(c.json, "nextToken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(sel) {
			return nil, errf(400, "InvalidNextTokenException", "The specified next token is invalid.")
		}
		start = n
	}
	end := min(len(sel), start+limit)
	items := []any{}
	for _, it := range sel[start:end] {
		m := map[string]any{
			"version":                      "1.3",
			"accountId":                    s.opts.AccountID,
			"configurationItemCaptureTime": it.CaptureTime,
			"configurationItemStatus":      it.Status,
			"configurationStateId":         strconv.FormatInt(it.StateID, 10),
			"resourceType":                 it.ResourceType,
			"resourceId":                   it.ResourceID,
			"awsRegion":                    s.opts.Region,
			"availabilityZone":             "Not Applicable",
			"resourceCreationTime":         it.CreationTime,
			"relatedEvents":                []any{},
			"relationships":                []any{},
			"supplementaryConfiguration":   map[string]any{},
		}
		if it.ResourceName != "" {
			m["resourceName"] = it.ResourceName
		}
		if it.ARN != "" {
			m["arn"] = it.ARN
		}
		if it.Config != "" {
			m["configuration"] = it.Config
			sum := md5.Sum([]byte(it.Config))
			m["configurationItemMD5Hash"] = hex.EncodeToString(sum[:])
		}
		if it.Tags != nil {
			tags := map[string]any{}
			for k, v := range it.Tags {
				tags[k] = v
			}
			m["tags"] = tags
		}
		items = append(items, m)
	}
	out := map[string]any{"configurationItems": items}
	if end < len(sel) {
		out["nextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

func (s *Server) findRecorder(name string) *recorder {
	for _, r := range s.cfg.recorders {
		if r.Name == name {
			return r
		}
	}
	return nil
}

func (s *Server) selectRecorders(c *call) ([]*recorder, *apiError) {
	names := gsl(c.json, "ConfigurationRecorderNames")
	if len(names) == 0 {
		return s.cfg.recorders, nil
	}
	var out []*recorder
	for _, n := range names {
		r := s.findRecorder(n)
		if r == nil {
			return nil, errf(400, "NoSuchConfigurationRecorderException", "Cannot find configuration recorder with the specified name '%s'.", n)
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Server) cfgDescribeRecorders(c *call) (any, *apiError) {
	rs, e := s.selectRecorders(c)
	if e != nil {
		return nil, e
	}
	list := []any{}
	for _, r := range rs {
		rg := map[string]any{"allSupported": r.AllSupported, "includeGlobalResourceTypes": r.IncludeGlobal, "resourceTypes": toTree(append([]string{}, r.ResourceTypes...))}
		list = append(list, map[string]any{
			"name": r.Name, "roleARN": r.RoleARN, "recordingGroup": rg,
			"arn":            fmt.Sprintf("arn:aws:config:%s:%s:configuration-recorder/%s/localaws", s.opts.Region, s.opts.AccountID, r.Name),
			"recordingScope": "PAID",
			"recordingMode":  map[string]any{"recordingFrequency": "CONTINUOUS"},
		})
	}
	return map[string]any{"ConfigurationRecorders": list}, nil
}

func (s *Server) cfgDescribeRecorderStatus(c *call) (any, *apiError) {
	rs, e := s.selectRecorders(c)
	if e != nil {
		return nil, e
	}
	list := []any{}
	for _, r := range rs {
		m := map[string]any{"name": r.Name, "recording": r.Recording, "lastStatus": "Pending"}
		if !r.LastStartTime.IsZero() {
			m["lastStartTime"] = r.LastStartTime
			m["lastStatus"] = "Success"
			m["lastStatusChangeTime"] = r.LastStatusChange
		}
		if !r.LastStopTime.IsZero() {
			m["lastStopTime"] = r.LastStopTime
		}
		list = append(list, m)
	}
	return map[string]any{"ConfigurationRecordersStatus": list}, nil
}

func (s *Server) cfgPutRecorder(c *call) (any, *apiError) {
	m := gm(c.json, "ConfigurationRecorder")
	if m == nil {
		return nil, missing("ValidationException", "configurationRecorder")
	}
	name := gs(m, "name")
	if name == "" {
		name = "default"
	}
	r := s.findRecorder(name)
	if r == nil {
		if len(s.cfg.recorders) >= 1 {
			return nil, errf(400, "MaxNumberOfConfigurationRecordersExceededException", "Failed to put configuration recorder '%s' because the maximum number of configuration recorders: 1 is reached.", name)
		}
		r = &recorder{Name: name}
		s.cfg.recorders = append(s.cfg.recorders, r)
	}
	r.RoleARN = gs(m, "roleARN")
	r.AllSupported, r.IncludeGlobal, r.ResourceTypes = true, false, nil
	if rg := gm(m, "recordingGroup"); rg != nil {
		r.AllSupported, _ = gb(rg, "allSupported")
		r.IncludeGlobal, _ = gb(rg, "includeGlobalResourceTypes")
		r.ResourceTypes = gsl(rg, "resourceTypes")
	}
	return map[string]any{}, nil
}

func (s *Server) cfgStartRecorder(c *call) (any, *apiError) {
	r := s.findRecorder(gs(c.json, "ConfigurationRecorderName"))
	if r == nil {
		return nil, errf(400, "NoSuchConfigurationRecorderException", "Cannot find configuration recorder with the specified name '%s'.", gs(c.json, "ConfigurationRecorderName"))
	}
	r.Recording, r.LastStartTime, r.LastStatusChange = true, c.now, c.now
	return map[string]any{}, nil
}

func (s *Server) cfgStopRecorder(c *call) (any, *apiError) {
	r := s.findRecorder(gs(c.json, "ConfigurationRecorderName"))
	if r == nil {
		return nil, errf(400, "NoSuchConfigurationRecorderException", "Cannot find configuration recorder with the specified name '%s'.", gs(c.json, "ConfigurationRecorderName"))
	}
	r.Recording, r.LastStopTime, r.LastStatusChange = false, c.now, c.now
	return map[string]any{}, nil
}
