package localaws

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// cloudwatchlogs, kms, kinesis, cloudtrail, cloudwatch, sns and eventbridge:
// the operations the collector, the remediations and seeding use.

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// pageByIndex paginates sorted names; the token is the next index.
func pageByIndex(names []string, limit int, token string, badToken *apiError) ([]string, string, *apiError) {
	start := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 || n > len(names) {
			return nil, "", badToken
		}
		start = n
	}
	end := min(len(names), start+limit)
	next := ""
	if end < len(names) {
		next = strconv.Itoa(end)
	}
	return names[start:end], next, nil
}

// ---- cloudwatchlogs (awsJson1_1, camelCase members) ----

type logGroup struct {
	Name, KmsKeyID, Class string
	Created               time.Time
	Retention             int64
	Streams               map[string]time.Time
	Tags                  map[string]any
}

type logsState struct{ groups map[string]*logGroup }

func newLogsState() *logsState { return &logsState{groups: map[string]*logGroup{}} }

var (
	logGroupNameRE  = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]{1,512}$`)
	logStreamNameRE = regexp.MustCompile(`^[^:*]{1,512}$`)
	retentionDays   = []int64{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

func init() {
	register("cloudwatchlogs", map[string]handlerFunc{
		"CreateLogGroup":        (*Server).logsCreateLogGroup,
		"CreateLogStream":       (*Server).logsCreateLogStream,
		"DescribeLogGroups":     (*Server).logsDescribeLogGroups,
		"DescribeLogStreams":    (*Server).logsDescribeLogStreams,
		"PutRetentionPolicy":    (*Server).logsPutRetentionPolicy,
		"DeleteRetentionPolicy": (*Server).logsDeleteRetentionPolicy,
		"AssociateKmsKey":       (*Server).logsAssociateKmsKey,
		"DisassociateKmsKey":    (*Server).logsDisassociateKmsKey,
		"DeleteLogGroup":        (*Server).logsDeleteLogGroup,
	})
}

func logsInvalid(format string, args ...any) *apiError {
	return errf(400, "InvalidParameterException", format, args...)
}

func (s *Server) logGroup(c *call) (*logGroup, *apiError) {
	name := gs(c.json, "logGroupName")
	if name == "" {
		return nil, missing("InvalidParameterException", "logGroupName")
	}
	g := s.logs.groups[name]
	if g == nil {
		return nil, errf(400, "ResourceNotFoundException", "The specified log group does not exist.")
	}
	return g, nil
}

func (s *Server) logsCreateLogGroup(c *call) (any, *apiError) {
	name := gs(c.json, "logGroupName")
	if name == "" {
		return nil, missing("InvalidParameterException", "logGroupName")
	}
	if !logGroupNameRE.MatchString(name) {
		return nil, logsInvalid("1 validation error detected: Value '%s' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+", name)
	}
	if s.logs.groups[name] != nil {
		return nil, errf(400, "ResourceAlreadyExistsException", "The specified log group already exists")
	}
	kmsKey := gs(c.json, "kmsKeyId")
	if kmsKey != "" && !strings.HasPrefix(kmsKey, "arn:") {
		return nil, logsInvalid("Specified KMS key %s is not a valid ARN.", kmsKey)
	}
	class := gs(c.json, "logGroupClass")
	if class == "" {
		class = "STANDARD"
	}
	s.logs.groups[name] = &logGroup{Name: name, KmsKeyID: kmsKey, Class: class, Created: c.now, Streams: map[string]time.Time{}, Tags: gm(c.json, "tags")}
	return map[string]any{}, nil
}

func (s *Server) logsCreateLogStream(c *call) (any, *apiError) {
	g, e := s.logGroup(c)
	if e != nil {
		return nil, e
	}
	name := gs(c.json, "logStreamName")
	if name == "" {
		return nil, missing("InvalidParameterException", "logStreamName")
	}
	if !logStreamNameRE.MatchString(name) {
		return nil, logsInvalid("Invalid log stream name %q.", name)
	}
	if _, ok := g.Streams[name]; ok {
		return nil, errf(400, "ResourceAlreadyExistsException", "The specified log stream already exists")
	}
	g.Streams[name] = c.now
	return map[string]any{}, nil
}

func (s *Server) logGroupARN(name string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", s.opts.Region, s.opts.AccountID, name)
}

func (s *Server) logsDescribeLogGroups(c *call) (any, *apiError) {
	prefix, pattern := gs(c.json, "logGroupNamePrefix"), gs(c.json, "logGroupNamePattern")
	if prefix != "" && pattern != "" {
		return nil, logsInvalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	limit := int64(50)
	if v, ok := gi(c.json, "limit"); ok {
		if v < 1 || v > 50 {
			return nil, logsInvalid("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50", v)
		}
		limit = v
	}
	var names []string
	for n := range s.logs.groups {
		if strings.HasPrefix(n, prefix) && (pattern == "" || strings.Contains(strings.ToLower(n), strings.ToLower(pattern))) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	page, next, e := pageByIndex(names, int(limit), gs(c.json, "nextToken"), logsInvalid("The specified nextToken is invalid."))
	if e != nil {
		return nil, e
	}
	l := []any{}
	for _, n := range page {
		g := s.logs.groups[n]
		m := map[string]any{"logGroupName": g.Name, "creationTime": g.Created.UnixMilli(), "metricFilterCount": 0, "arn": s.logGroupARN(g.Name) + ":*",
			"logGroupArn": s.logGroupARN(g.Name), "storedBytes": 0, "logGroupClass": g.Class}
		if g.Retention > 0 {
			m["retentionInDays"] = g.Retention
		}
		if g.KmsKeyID != "" {
			m["kmsKeyId"] = g.KmsKeyID
		}
		l = append(l, m)
	}
	out := map[string]any{"logGroups": l}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func (s *Server) logsDescribeLogStreams(c *call) (any, *apiError) {
	g, e := s.logGroup(c)
	if e != nil {
		return nil, e
	}
	prefix := gs(c.json, "logStreamNamePrefix")
	if prefix != "" && gs(c.json, "orderBy") == "LastEventTime" {
		return nil, logsInvalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	limit := int64(50)
	if v, ok := gi(c.json, "limit"); ok {
		if v < 1 || v > 50 {
			return nil, logsInvalid("limit must be between 1 and 50")
		}
		limit = v
	}
	var names []string
	for n := range g.Streams {
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if d, _ := gb(c.json, "descending"); d {
		slices.Reverse(names)
	}
	page, next, e := pageByIndex(names, int(limit), gs(c.json, "nextToken"), logsInvalid("The specified nextToken is invalid."))
	if e != nil {
		return nil, e
	}
	l := []any{}
	for _, n := range page {
		l = append(l, map[string]any{"logStreamName": n, "creationTime": g.Streams[n].UnixMilli(), "arn": s.logGroupARN(g.Name) + ":log-stream:" + n, "storedBytes": 0})
	}
	out := map[string]any{"logStreams": l}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func (s *Server) logsPutRetentionPolicy(c *call) (any, *apiError) {
	g, e := s.logGroup(c)
	if e != nil {
		return nil, e
	}
	d, ok := gi(c.json, "retentionInDays")
	if !ok {
		return nil, missing("InvalidParameterException", "retentionInDays")
	}
	if !slices.Contains(retentionDays, d) {
		return nil, logsInvalid("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: %v", d, retentionDays)
	}
	g.Retention = d
	return map[string]any{}, nil
}

func (s *Server) logsDeleteRetentionPolicy(c *call) (any, *apiError) {
	g, e := s.logGroup(c)
	if e != nil {
		return nil, e
	}
	g.Retention = 0
	return map[string]any{}, nil
}

func (s *Server) logsAssociateKmsKey(c *call) (any, *apiError) {
	g, e := s.logGroup(c)
	if e != nil {
		return nil, e
	}
	key := gs(c.json, "kmsKeyId")
	if key == "" {
		return nil, missing("InvalidParameterException", "kmsKeyId")
	}
	if !strings.HasPrefix(key, "arn:") {
		return nil, logsInvalid("Specified KMS key %s is not a valid ARN.", key)
	}
	if k := s.kms.find(key); k != nil && !strings.Contains(k.policy, "logs.") {
		return nil, errf(400, "AccessDeniedException", "The specified KMS key does not exist or is not allowed to be used with LogGroup '%s'", g.Name)
	}
	g.KmsKeyID = key
	return map[string]any{}, nil
}

func (s *Server) logsDisassociateKmsKey(c *call) (any, *apiError) {
	g, e := s.logGroup(c)
	if e != nil {
		return nil, e
	}
	g.KmsKeyID = ""
	return map[string]any{}, nil
}

func (s *Server) logsDeleteLogGroup(c *call) (any, *apiError) {
	g, e := s.logGroup(c)
	if e != nil {
		return nil, e
	}
	delete(s.logs.groups, g.Name)
	return map[string]any{}, nil
}

// ---- kms (awsJson1_1, TrentService) ----

type kmsKey struct {
	id, arn, description, usage, spec, state, policy string
	created                                          time.Time
	rotation                                         bool
	rotationDays                                     int64
	manager                                          string
}

type kmsAlias struct {
	name, target     string
	created, updated time.Time
}

type kmsState struct {
	keys    map[string]*kmsKey
	aliases map[string]*kmsAlias
}

func newKMSState() *kmsState {
	return &kmsState{keys: map[string]*kmsKey{}, aliases: map[string]*kmsAlias{}}
}

// find resolves a key id, key ARN, alias name or alias ARN.
func (k *kmsState) find(ref string) *kmsKey {
	if i := strings.Index(ref, ":key/"); i >= 0 && strings.HasPrefix(ref, "arn:") {
		ref = ref[i+len(":key/"):]
	}
	if i := strings.Index(ref, ":alias/"); i >= 0 && strings.HasPrefix(ref, "arn:") {
		ref = ref[i+1:]
	}
	if strings.HasPrefix(ref, "alias/") {
		a := k.aliases[ref]
		if a == nil {
			return nil
		}
		ref = a.target
	}
	return k.keys[ref]
}

func init() {
	register("kms", map[string]handlerFunc{
		"CreateKey":            (*Server).kmsCreateKey,
		"DescribeKey":          (*Server).kmsDescribeKey,
		"GetKeyRotationStatus": (*Server).kmsGetKeyRotationStatus,
		"EnableKeyRotation":    func(s *Server, c *call) (any, *apiError) { return s.kmsSetRotation(c, true) },
		"DisableKeyRotation":   func(s *Server, c *call) (any, *apiError) { return s.kmsSetRotation(c, false) },
		"GetKeyPolicy":         (*Server).kmsGetKeyPolicy,
		"PutKeyPolicy":         (*Server).kmsPutKeyPolicy,
		"CreateAlias":          (*Server).kmsCreateAlias,
		"ListAliases":          (*Server).kmsListAliases,
		"ListKeys":             (*Server).kmsListKeys,
	})
}

func (s *Server) kmsDefaultPolicy() string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"kms:*","Resource":"*"}]}`, s.opts.AccountID)
}

func (s *Server) kmsKeyRef(c *call) (*kmsKey, *apiError) {
	ref := gs(c.json, "KeyId")
	if ref == "" {
		return nil, missing("ValidationException", "keyId")
	}
	k := s.kms.find(ref)
	if k == nil {
		arn := ref
		if !strings.HasPrefix(ref, "arn:") {
			arn = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", s.opts.Region, s.opts.AccountID, ref)
		}
		return nil, errf(400, "NotFoundException", "Key '%s' does not exist", arn)
	}
	return k, nil
}

func (s *Server) keyMetadata(k *kmsKey) map[string]any {
	m := map[string]any{"AWSAccountId": s.opts.AccountID, "KeyId": k.id, "Arn": k.arn, "CreationDate": k.created, "Enabled": k.state == "Enabled",
		"Description": k.description, "KeyUsage": k.usage, "KeyState": k.state, "Origin": "AWS_KMS", "KeyManager": k.manager,
		"CustomerMasterKeySpec": k.spec, "KeySpec": k.spec, "MultiRegion": false}
	if k.spec == "SYMMETRIC_DEFAULT" {
		m["EncryptionAlgorithms"] = []any{"SYMMETRIC_DEFAULT"}
	}
	return m
}

func validPolicyJSON(p string) bool {
	var m map[string]any
	return json.Unmarshal([]byte(p), &m) == nil && m["Statement"] != nil
}

func (s *Server) kmsCreateKey(c *call) (any, *apiError) {
	usage := gs(c.json, "KeyUsage")
	if usage == "" {
		usage = "ENCRYPT_DECRYPT"
	}
	spec := gs(c.json, "KeySpec")
	if spec == "" {
		spec = gs(c.json, "CustomerMasterKeySpec")
	}
	if spec == "" {
		spec = "SYMMETRIC_DEFAULT"
	}
	policy := gs(c.json, "Policy")
	if policy == "" {
		policy = s.kmsDefaultPolicy()
	} else if !validPolicyJSON(policy) {
		return nil, errf(400, "MalformedPolicyDocumentException", "The new key policy will not allow you to update the key policy in the future.")
	}
	id := uuid()
	k := &kmsKey{id: id, arn: fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", s.opts.Region, s.opts.AccountID, id), description: gs(c.json, "Description"),
		usage: usage, spec: spec, state: "Enabled", policy: policy, created: c.now, manager: "CUSTOMER", rotationDays: 365}
	s.kms.keys[id] = k
	c.param("KeyId", id)
	return map[string]any{"KeyMetadata": s.keyMetadata(k)}, nil
}

func (s *Server) kmsDescribeKey(c *call) (any, *apiError) {
	k, e := s.kmsKeyRef(c)
	if e != nil {
		return nil, e
	}
	return map[string]any{"KeyMetadata": s.keyMetadata(k)}, nil
}

func (s *Server) kmsGetKeyRotationStatus(c *call) (any, *apiError) {
	k, e := s.kmsKeyRef(c)
	if e != nil {
		return nil, e
	}
	if strings.HasPrefix(gs(c.json, "KeyId"), "alias/") {
		return nil, errf(400, "NotFoundException", "Alias is not supported for this operation")
	}
	out := map[string]any{"KeyRotationEnabled": k.rotation, "KeyId": k.arn}
	if k.rotation {
		out["RotationPeriodInDays"] = k.rotationDays
		out["NextRotationDate"] = k.created.AddDate(0, 0, int(k.rotationDays))
	}
	return out, nil
}

func (s *Server) kmsSetRotation(c *call, on bool) (any, *apiError) {
	k, e := s.kmsKeyRef(c)
	if e != nil {
		return nil, e
	}
	if k.spec != "SYMMETRIC_DEFAULT" {
		return nil, errf(400, "UnsupportedOperationException", "%s key rotation is not supported for asymmetric or HMAC keys", k.arn)
	}
	if k.state != "Enabled" {
		return nil, errf(400, "KMSInvalidStateException", "%s is %s", k.arn, k.state)
	}
	if d, ok := gi(c.json, "RotationPeriodInDays"); ok && on {
		if d < 90 || d > 2560 {
			return nil, errf(400, "ValidationException", "RotationPeriodInDays must be between 90 and 2560")
		}
		k.rotationDays = d
	}
	k.rotation = on
	return map[string]any{}, nil
}

func (s *Server) kmsGetKeyPolicy(c *call) (any, *apiError) {
	k, e := s.kmsKeyRef(c)
	if e != nil {
		return nil, e
	}
	if n := gs(c.json, "PolicyName"); n != "" && n != "default" {
		return nil, errf(400, "NotFoundException", "No such policy exists")
	}
	return map[string]any{"Policy": k.policy, "PolicyName": "default"}, nil
}

func (s *Server) kmsPutKeyPolicy(c *call) (any, *apiError) {
	k, e := s.kmsKeyRef(c)
	if e != nil {
		return nil, e
	}
	if n := gs(c.json, "PolicyName"); n != "" && n != "default" {
		return nil, errf(400, "NotFoundException", "No such policy exists")
	}
	p := gs(c.json, "Policy")
	if p == "" {
		return nil, missing("ValidationException", "policy")
	}
	if !validPolicyJSON(p) {
		return nil, errf(400, "MalformedPolicyDocumentException", "The new key policy is malformed.")
	}
	k.policy = p
	return map[string]any{}, nil
}

var aliasRE = regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]+$`)

func (s *Server) kmsCreateAlias(c *call) (any, *apiError) {
	name := gs(c.json, "AliasName")
	if !aliasRE.MatchString(name) {
		return nil, errf(400, "ValidationException", "Alias must start with the prefix \"alias/\" and contain only [a-zA-Z0-9/_-].")
	}
	if strings.HasPrefix(name, "alias/aws/") {
		return nil, errf(400, "NotAuthorizedException", "The alias prefix alias/aws/ is reserved for AWS managed keys.")
	}
	if s.kms.aliases[name] != nil {
		return nil, errf(400, "AlreadyExistsException", "An alias with the name arn:aws:kms:%s:%s:%s already exists", s.opts.Region, s.opts.AccountID, name)
	}
	c.json["KeyId"] = c.json["TargetKeyId"]
	k, e := s.kmsKeyRef(c)
	if e != nil {
		return nil, e
	}
	s.kms.aliases[name] = &kmsAlias{name: name, target: k.id, created: c.now, updated: c.now}
	return map[string]any{}, nil
}

func (s *Server) kmsListAliases(c *call) (any, *apiError) {
	var filter string
	if has(c.json, "KeyId") {
		k, e := s.kmsKeyRef(c)
		if e != nil {
			return nil, e
		}
		filter = k.id
	}
	var names []string
	for n, a := range s.kms.aliases {
		if filter == "" || a.target == filter {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	limit := int64(100)
	if v, ok := gi(c.json, "Limit"); ok {
		if v < 1 || v > 1000 {
			return nil, errf(400, "ValidationException", "Limit must be between 1 and 1000")
		}
		limit = v
	}
	page, next, e := pageByIndex(names, int(limit), gs(c.json, "Marker"), errf(400, "InvalidMarkerException", "Invalid marker"))
	if e != nil {
		return nil, e
	}
	l := []any{}
	for _, n := range page {
		a := s.kms.aliases[n]
		l = append(l, map[string]any{"AliasName": a.name, "AliasArn": fmt.Sprintf("arn:aws:kms:%s:%s:%s", s.opts.Region, s.opts.AccountID, a.name), "TargetKeyId": a.target, "CreationDate": a.created, "LastUpdatedDate": a.updated})
	}
	out := map[string]any{"Aliases": l, "Truncated": next != ""}
	if next != "" {
		out["NextMarker"] = next
	}
	return out, nil
}

func (s *Server) kmsListKeys(c *call) (any, *apiError) {
	var ids []string
	for id := range s.kms.keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	limit := int64(100)
	if v, ok := gi(c.json, "Limit"); ok {
		limit = max(1, min(v, 1000))
	}
	page, next, e := pageByIndex(ids, int(limit), gs(c.json, "Marker"), errf(400, "InvalidMarkerException", "Invalid marker"))
	if e != nil {
		return nil, e
	}
	l := []any{}
	for _, id := range page {
		l = append(l, map[string]any{"KeyId": id, "KeyArn": s.kms.keys[id].arn})
	}
	out := map[string]any{"Keys": l, "Truncated": next != ""}
	if next != "" {
		out["NextMarker"] = next
	}
	return out, nil
}

// ---- kinesis (awsJson1_1, Kinesis_20131202) ----

type kStream struct {
	name, mode, encryption, keyID string
	shards                        int64
	created                       time.Time
	// An encryption change takes the transition delay, as in Kinesis: the
	// stream is UPDATING and shows its old encryption until settleAt.
	updating                bool
	settleAt                time.Time
	nextEncryption, nextKey string
}

// settle completes an encryption change whose time has come.
func (st *kStream) settle(now time.Time) {
	if st.updating && !now.Before(st.settleAt) {
		st.updating, st.encryption, st.keyID = false, st.nextEncryption, st.nextKey
	}
}

func (st *kStream) status() string {
	if st.updating {
		return "UPDATING"
	}
	return "ACTIVE"
}

type kinesisState struct{ streams map[string]*kStream }

func newKinesisState() *kinesisState { return &kinesisState{streams: map[string]*kStream{}} }

var streamNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

func init() {
	register("kinesis", map[string]handlerFunc{
		"CreateStream":          (*Server).kinCreateStream,
		"DescribeStreamSummary": (*Server).kinDescribeStreamSummary,
		"StartStreamEncryption": func(s *Server, c *call) (any, *apiError) { return s.kinEncryption(c, true) },
		"StopStreamEncryption":  func(s *Server, c *call) (any, *apiError) { return s.kinEncryption(c, false) },
		"ListStreams":           (*Server).kinListStreams,
	})
}

func (s *Server) streamARN(name string) string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", s.opts.Region, s.opts.AccountID, name)
}

func (s *Server) stream(c *call) (*kStream, *apiError) {
	name := gs(c.json, "StreamName")
	if arn := gs(c.json, "StreamARN"); arn != "" {
		if i := strings.LastIndex(arn, ":stream/"); i >= 0 {
			name = arn[i+len(":stream/"):]
		}
	}
	if name == "" {
		return nil, errf(400, "InvalidArgumentException", "Either StreamName or StreamARN should be provided.")
	}
	st := s.kin.streams[name]
	if st == nil {
		return nil, errf(400, "ResourceNotFoundException", "Stream %s under account %s not found.", name, s.opts.AccountID)
	}
	st.settle(c.now)
	return st, nil
}

func (s *Server) kinCreateStream(c *call) (any, *apiError) {
	name := gs(c.json, "StreamName")
	if !streamNameRE.MatchString(name) {
		return nil, errf(400, "ValidationException", "1 validation error detected: Value '%s' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", name)
	}
	if s.kin.streams[name] != nil {
		return nil, errf(400, "ResourceInUseException", "Stream %s under account %s already exists.", name, s.opts.AccountID)
	}
	mode := "PROVISIONED"
	if m := gm(c.json, "StreamModeDetails"); m != nil && gs(m, "StreamMode") != "" {
		mode = gs(m, "StreamMode")
	}
	shards, ok := gi(c.json, "ShardCount")
	if mode == "PROVISIONED" && !ok {
		return nil, errf(400, "InvalidArgumentException", "ShardCount is required for PROVISIONED streams.")
	}
	if mode == "ON_DEMAND" {
		shards = 4
	}
	s.kin.streams[name] = &kStream{name: name, mode: mode, encryption: "NONE", shards: shards, created: c.now}
	return map[string]any{}, nil
}

func (s *Server) kinDescribeStreamSummary(c *call) (any, *apiError) {
	st, e := s.stream(c)
	if e != nil {
		return nil, e
	}
	m := map[string]any{"StreamName": st.name, "StreamARN": s.streamARN(st.name), "StreamStatus": st.status(), "StreamModeDetails": map[string]any{"StreamMode": st.mode},
		"RetentionPeriodHours": 24, "StreamCreationTimestamp": st.created, "EnhancedMonitoring": []any{map[string]any{"ShardLevelMetrics": []any{}}},
		"EncryptionType": st.encryption, "OpenShardCount": st.shards, "ConsumerCount": 0}
	if st.keyID != "" {
		m["KeyId"] = st.keyID
	}
	return map[string]any{"StreamDescriptionSummary": m}, nil
}

func (s *Server) kinEncryption(c *call, on bool) (any, *apiError) {
	st, e := s.stream(c)
	if e != nil {
		return nil, e
	}
	if gs(c.json, "EncryptionType") != "KMS" {
		return nil, errf(400, "InvalidArgumentException", "EncryptionType must be KMS.")
	}
	key := gs(c.json, "KeyId")
	if key == "" {
		return nil, errf(400, "InvalidArgumentException", "KeyId is required.")
	}
	if st.updating {
		return nil, errf(400, "ResourceInUseException", "Stream %s under account %s not ACTIVE, instead in state UPDATING", st.name, s.opts.AccountID)
	}
	enc := "NONE"
	if on {
		if key != "alias/aws/kinesis" && s.kms.find(key) == nil {
			return nil, errf(400, "KMSNotFoundException", "The KMS key %s was not found.", key)
		}
		enc = "KMS"
	} else {
		key = ""
	}
	st.updating, st.settleAt, st.nextEncryption, st.nextKey = true, c.now.Add(s.transitionDelay), enc, key
	st.settle(c.now) // at once when there is no transition delay
	return map[string]any{}, nil
}

func (s *Server) kinListStreams(c *call) (any, *apiError) {
	var names []string
	after := gs(c.json, "ExclusiveStartStreamName")
	for n := range s.kin.streams {
		if n > after {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	limit := int64(100)
	if v, ok := gi(c.json, "Limit"); ok {
		if v < 1 || v > 10000 {
			return nil, errf(400, "InvalidArgumentException", "Limit must be between 1 and 10000.")
		}
		limit = v
	}
	page, next, e := pageByIndex(names, int(limit), gs(c.json, "NextToken"), errf(400, "ExpiredNextTokenException", "Invalid NextToken."))
	if e != nil {
		return nil, e
	}
	sums := []any{}
	ns := []any{}
	for _, n := range page {
		st := s.kin.streams[n]
		st.settle(c.now)
		ns = append(ns, n)
		sums = append(sums, map[string]any{"StreamName": n, "StreamARN": s.streamARN(n), "StreamStatus": st.status(), "StreamModeDetails": map[string]any{"StreamMode": st.mode}, "StreamCreationTimestamp": st.created})
	}
	out := map[string]any{"StreamNames": ns, "StreamSummaries": sums, "HasMoreStreams": next != ""}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

// ---- cloudtrail (awsJson1_1) ----

type trail struct {
	name, bucket, kmsKey, logGroupARN, roleARN string
	multiRegion, global, validation            bool
	logging                                    bool
	started, stopped                           time.Time
}

type trailState struct{ trails map[string]*trail }

func newTrailState() *trailState { return &trailState{trails: map[string]*trail{}} }

func init() {
	register("cloudtrail", map[string]handlerFunc{
		"CreateTrail":    (*Server).ctCreateTrail,
		"StartLogging":   func(s *Server, c *call) (any, *apiError) { return s.ctLogging(c, true) },
		"StopLogging":    func(s *Server, c *call) (any, *apiError) { return s.ctLogging(c, false) },
		"DescribeTrails": (*Server).ctDescribeTrails,
		"GetTrailStatus": (*Server).ctGetTrailStatus,
	})
}

func (s *Server) trailARN(name string) string {
	return fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", s.opts.Region, s.opts.AccountID, name)
}

func (s *Server) trailByName(ref string) (*trail, *apiError) {
	if i := strings.LastIndex(ref, ":trail/"); i >= 0 {
		ref = ref[i+len(":trail/"):]
	}
	t := s.trail.trails[ref]
	if t == nil {
		return nil, errf(400, "TrailNotFoundException", "Unknown trail: %s for the user: %s", s.trailARN(ref), s.opts.AccountID)
	}
	return t, nil
}

func (s *Server) trailTree(t *trail) map[string]any {
	m := map[string]any{"Name": t.name, "S3BucketName": t.bucket, "IncludeGlobalServiceEvents": t.global, "IsMultiRegionTrail": t.multiRegion, "HomeRegion": s.opts.Region,
		"TrailARN": s.trailARN(t.name), "LogFileValidationEnabled": t.validation, "HasCustomEventSelectors": false, "HasInsightSelectors": false, "IsOrganizationTrail": false}
	if t.kmsKey != "" {
		m["KmsKeyId"] = t.kmsKey
	}
	if t.logGroupARN != "" {
		m["CloudWatchLogsLogGroupArn"] = t.logGroupARN
		m["CloudWatchLogsRoleArn"] = t.roleARN
	}
	return m
}

func (s *Server) ctCreateTrail(c *call) (any, *apiError) {
	name, bucket := gs(c.json, "Name"), gs(c.json, "S3BucketName")
	if name == "" {
		return nil, missing("InvalidTrailNameException", "name")
	}
	if bucket == "" {
		return nil, missing("InvalidS3BucketNameException", "s3BucketName")
	}
	if !regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{2,127}$`).MatchString(name) {
		return nil, errf(400, "InvalidTrailNameException", "Trail name %s is invalid.", name)
	}
	if s.trail.trails[name] != nil {
		return nil, errf(400, "TrailAlreadyExistsException", "Trail %s already exists for customer: %s", s.trailARN(name), s.opts.AccountID)
	}
	if s.s3.buckets[bucket] == nil {
		return nil, errf(400, "S3BucketDoesNotExistException", "S3 bucket %s does not exist.", bucket)
	}
	t := &trail{name: name, bucket: bucket, kmsKey: gs(c.json, "KmsKeyId"), logGroupARN: gs(c.json, "CloudWatchLogsLogGroupArn"), roleARN: gs(c.json, "CloudWatchLogsRoleArn"), global: true}
	if v, ok := gb(c.json, "IncludeGlobalServiceEvents"); ok {
		t.global = v
	}
	t.multiRegion, _ = gb(c.json, "IsMultiRegionTrail")
	t.validation, _ = gb(c.json, "EnableLogFileValidation")
	if t.multiRegion && !t.global {
		return nil, errf(400, "InvalidParameterCombinationException", "Multi-Region trail must include global service events.")
	}
	s.trail.trails[name] = t
	m := s.trailTree(t)
	delete(m, "HomeRegion")
	delete(m, "HasCustomEventSelectors")
	delete(m, "HasInsightSelectors")
	return m, nil
}

func (s *Server) ctLogging(c *call, on bool) (any, *apiError) {
	t, e := s.trailByName(gs(c.json, "Name"))
	if e != nil {
		return nil, e
	}
	t.logging = on
	if on {
		t.started = c.now
	} else {
		t.stopped = c.now
	}
	return map[string]any{}, nil
}

func (s *Server) ctDescribeTrails(c *call) (any, *apiError) {
	want := gsl(c.json, "trailNameList")
	var names []string
	for n := range s.trail.trails {
		if len(want) == 0 || slices.Contains(want, n) || slices.Contains(want, s.trailARN(n)) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	l := []any{}
	for _, n := range names {
		l = append(l, s.trailTree(s.trail.trails[n]))
	}
	return map[string]any{"trailList": l}, nil
}

func (s *Server) ctGetTrailStatus(c *call) (any, *apiError) {
	t, e := s.trailByName(gs(c.json, "Name"))
	if e != nil {
		return nil, e
	}
	m := map[string]any{"IsLogging": t.logging}
	if !t.started.IsZero() {
		m["StartLoggingTime"] = t.started
		m["TimeLoggingStarted"] = t.started.Format(time.RFC3339)
		m["LatestDeliveryTime"] = t.started
		m["LatestDeliveryAttemptSucceeded"] = t.started.Format(time.RFC3339)
	}
	if !t.stopped.IsZero() {
		m["StopLoggingTime"] = t.stopped
		m["TimeLoggingStopped"] = t.stopped.Format(time.RFC3339)
	}
	return m, nil
}

// ---- cloudwatch (Smithy RPC v2 CBOR, GraniteServiceVersion20100801) ----

type cwState struct {
	alarms map[string]map[string]any
}

func newCWState() *cwState { return &cwState{alarms: map[string]map[string]any{}} }

func init() {
	register("cloudwatch", map[string]handlerFunc{
		"PutMetricAlarm": (*Server).cwPutMetricAlarm,
		"DescribeAlarms": (*Server).cwDescribeAlarms,
		"DeleteAlarms":   (*Server).cwDeleteAlarms,
	})
}

var comparisonOperators = []string{"GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold", "LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"}

func (s *Server) cwPutMetricAlarm(c *call) (any, *apiError) {
	name := gs(c.json, "AlarmName")
	if name == "" {
		return nil, missing("ValidationError", "alarmName")
	}
	if _, ok := gi(c.json, "EvaluationPeriods"); !ok {
		return nil, missing("ValidationError", "evaluationPeriods")
	}
	op := gs(c.json, "ComparisonOperator")
	if !slices.Contains(comparisonOperators, op) {
		return nil, errf(400, "ValidationError", "1 validation error detected: Value '%s' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: %v", op, comparisonOperators)
	}
	if !has(c.json, "Metrics") && (gs(c.json, "MetricName") == "" || gs(c.json, "Namespace") == "") {
		return nil, errf(400, "ValidationError", "MetricName and Namespace must be specified when Metrics is not.")
	}
	if has(c.json, "Metrics") && has(c.json, "MetricName") {
		return nil, errf(400, "InvalidParameterCombination", "MetricName and Metrics cannot both be specified.")
	}
	a := map[string]any{}
	for k, v := range c.json {
		if k == "Tags" {
			continue
		}
		a[k] = v
	}
	if n, ok := c.json["Threshold"].(jsonNumberType); ok {
		f, _ := n.Float64()
		a["Threshold"] = f
	}
	if _, ok := a["ActionsEnabled"]; !ok {
		a["ActionsEnabled"] = true
	}
	old := s.cw.alarms[name]
	a["AlarmArn"] = fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", s.opts.Region, s.opts.AccountID, name)
	a["AlarmConfigurationUpdatedTimestamp"] = c.now
	if old != nil {
		a["StateValue"], a["StateReason"], a["StateUpdatedTimestamp"] = old["StateValue"], old["StateReason"], old["StateUpdatedTimestamp"]
	} else {
		a["StateValue"], a["StateReason"], a["StateUpdatedTimestamp"] = "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation", c.now
	}
	s.cw.alarms[name] = a
	return map[string]any{}, nil
}

func (s *Server) cwDescribeAlarms(c *call) (any, *apiError) {
	names := gsl(c.json, "AlarmNames")
	prefix := gs(c.json, "AlarmNamePrefix")
	if len(names) > 0 && prefix != "" {
		return nil, errf(400, "InvalidParameterCombination", "AlarmNames and AlarmNamePrefix cannot both be specified.")
	}
	state := gs(c.json, "StateValue")
	types := gsl(c.json, "AlarmTypes")
	var sel []string
	for n, a := range s.cw.alarms {
		if len(names) > 0 && !slices.Contains(names, n) {
			continue
		}
		if !strings.HasPrefix(n, prefix) || (state != "" && a["StateValue"] != state) {
			continue
		}
		sel = append(sel, n)
	}
	if len(types) > 0 && !slices.Contains(types, "MetricAlarm") {
		sel = nil
	}
	sort.Strings(sel)
	limit := int64(50)
	if v, ok := gi(c.json, "MaxRecords"); ok {
		if v < 1 || v > 100 {
			return nil, errf(400, "ValidationError", "MaxRecords must be between 1 and 100.")
		}
		limit = v
	}
	page, next, e := pageByIndex(sel, int(limit), gs(c.json, "NextToken"), errf(400, "InvalidNextToken", "The next token is invalid."))
	if e != nil {
		return nil, e
	}
	l := []any{}
	for _, n := range page {
		l = append(l, s.cw.alarms[n])
	}
	out := map[string]any{"MetricAlarms": l, "CompositeAlarms": []any{}}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Server) cwDeleteAlarms(c *call) (any, *apiError) {
	for _, n := range gsl(c.json, "AlarmNames") {
		if s.cw.alarms[n] == nil {
			return nil, errf(404, "ResourceNotFound", "Alarm %s does not exist.", n)
		}
	}
	for _, n := range gsl(c.json, "AlarmNames") {
		delete(s.cw.alarms, n)
	}
	return map[string]any{}, nil
}

// ---- sns (awsQuery 2010-03-31) ----

// PublishedMessage is a message an SNS Publish accepted.
type PublishedMessage struct {
	TopicArn          string            `json:"topicArn"`
	Subject           string            `json:"subject,omitempty"`
	Message           string            `json:"message"`
	MessageAttributes map[string]string `json:"messageAttributes,omitempty"`
	MessageID         string            `json:"messageId"`
	Time              time.Time         `json:"time"`
}

type snsTopic struct {
	arn  string
	subs []map[string]string
}

type snsState struct {
	topics    map[string]*snsTopic
	published []PublishedMessage
}

func newSNSState() *snsState { return &snsState{topics: map[string]*snsTopic{}} }

// Published returns every message SNS Publish accepted, in order.
func (s *Server) Published() []PublishedMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sns.published)
}

var topicNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

func init() {
	register("sns", map[string]handlerFunc{
		"CreateTopic": (*Server).snsCreateTopic,
		"Publish":     (*Server).snsPublish,
		"Subscribe":   (*Server).snsSubscribe,
		"ListTopics":  (*Server).snsListTopics,
	})
}

func (s *Server) snsCreateTopic(c *call) (any, *apiError) {
	name := c.fv("Name")
	if name == "" {
		return nil, errf(400, "InvalidParameter", "Invalid parameter: Topic Name")
	}
	if !topicNameRE.MatchString(name) {
		return nil, errf(400, "InvalidParameter", "Invalid parameter: Topic Name")
	}
	arn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", s.opts.Region, s.opts.AccountID, name)
	if s.sns.topics[arn] == nil {
		s.sns.topics[arn] = &snsTopic{arn: arn}
	}
	return map[string]any{"TopicArn": arn}, nil
}

func (s *Server) snsPublish(c *call) (any, *apiError) {
	arn := c.fv("TopicArn")
	if arn == "" {
		arn = c.fv("TargetArn")
	}
	if arn == "" {
		return nil, errf(400, "InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
	}
	msg := c.fv("Message")
	if msg == "" {
		return nil, errf(400, "InvalidParameter", "Invalid parameter: Empty message")
	}
	if len(msg) > 262144 {
		return nil, errf(400, "InvalidParameter", "Invalid parameter: Message too long")
	}
	if s.sns.topics[arn] == nil {
		return nil, errf(404, "NotFound", "Topic does not exist")
	}
	if subj := c.fv("Subject"); len(subj) > 100 {
		return nil, errf(400, "InvalidParameter", "Invalid parameter: Subject")
	}
	attrs := map[string]string{}
	for _, e := range c.formStructs("MessageAttributes", "entry") {
		attrs[e["Name"]] = e["Value.StringValue"]
	}
	if len(attrs) == 0 {
		attrs = nil
	}
	id := uuid()
	s.sns.published = append(s.sns.published, PublishedMessage{TopicArn: arn, Subject: c.fv("Subject"), Message: msg, MessageAttributes: attrs, MessageID: id, Time: c.now})
	return map[string]any{"MessageId": id}, nil
}

func (s *Server) snsSubscribe(c *call) (any, *apiError) {
	arn := c.fv("TopicArn")
	t := s.sns.topics[arn]
	if t == nil {
		return nil, errf(404, "NotFound", "Topic does not exist")
	}
	proto := c.fv("Protocol")
	if !slices.Contains([]string{"http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"}, proto) {
		return nil, errf(400, "InvalidParameter", "Invalid parameter: Amazon SNS does not support this protocol string: %s", proto)
	}
	sub := arn + ":" + uuid()
	t.subs = append(t.subs, map[string]string{"arn": sub, "protocol": proto, "endpoint": c.fv("Endpoint")})
	if proto == "email" || proto == "email-json" || proto == "http" || proto == "https" {
		if c.fv("ReturnSubscriptionArn") != "true" {
			return map[string]any{"SubscriptionArn": "pending confirmation"}, nil
		}
	}
	return map[string]any{"SubscriptionArn": sub}, nil
}

func (s *Server) snsListTopics(c *call) (any, *apiError) {
	var arns []string
	for a := range s.sns.topics {
		arns = append(arns, a)
	}
	sort.Strings(arns)
	page, next, e := pageByIndex(arns, 100, c.fv("NextToken"), errf(400, "InvalidParameter", "Invalid parameter: NextToken"))
	if e != nil {
		return nil, e
	}
	l := []any{}
	for _, a := range page {
		l = append(l, map[string]any{"TopicArn": a})
	}
	out := map[string]any{"Topics": orEmpty(l)}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

// ---- eventbridge (awsJson1_1, AWSEvents) ----

// Event is an entry EventBridge PutEvents accepted.
type Event struct {
	EventID      string    `json:"eventId"`
	EventBusName string    `json:"eventBusName"`
	Source       string    `json:"source"`
	DetailType   string    `json:"detailType"`
	Detail       string    `json:"detail"`
	Resources    []string  `json:"resources,omitempty"`
	Time         time.Time `json:"time"`
}

type eventsState struct{ events []Event }

func newEventsState() *eventsState { return &eventsState{} }

// Events returns every event PutEvents accepted, in order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events.events)
}

func init() {
	register("eventbridge", map[string]handlerFunc{"PutEvents": (*Server).evPutEvents})
}

func (s *Server) evPutEvents(c *call) (any, *apiError) {
	entries := gl(c.json, "Entries")
	if len(entries) == 0 || len(entries) > 10 {
		return nil, errf(400, "ValidationException", "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10")
	}
	c.param("Entries", strconv.Itoa(len(entries)))
	out := []any{}
	failed := 0
	for _, raw := range entries {
		m, _ := raw.(map[string]any)
		ev := Event{Source: gs(m, "Source"), DetailType: gs(m, "DetailType"), Detail: gs(m, "Detail"), Resources: gsl(m, "Resources"), EventBusName: gs(m, "EventBusName"), Time: c.now}
		if t, ok := gt(m, "Time"); ok {
			ev.Time = t
		}
		if ev.EventBusName == "" {
			ev.EventBusName = "default"
		}
		var detail map[string]any
		switch {
		case ev.Source == "" || ev.DetailType == "" || ev.Detail == "":
			failed++
			out = append(out, map[string]any{"ErrorCode": "InvalidArgument", "ErrorMessage": "Parameters Source, DetailType and Detail are required."})
			continue
		case json.Unmarshal([]byte(ev.Detail), &detail) != nil:
			failed++
			out = append(out, map[string]any{"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
			continue
		case strings.HasPrefix(ev.Source, "aws."):
			failed++
			out = append(out, map[string]any{"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage": "Not authorized for the source."})
			continue
		}
		ev.EventID = uuid()
		s.events.events = append(s.events.events, ev)
		out = append(out, map[string]any{"EventId": ev.EventID})
	}
	return map[string]any{"Entries": out, "FailedEntryCount": failed}, nil
}
