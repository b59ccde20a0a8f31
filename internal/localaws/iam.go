package localaws

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// iam (awsQuery, version 2010-05-08) and sts (awsQuery, 2011-06-15).

type iamRole struct {
	Name, Path, ID, ARN, Description string
	AssumeDoc                        string
	Created                          time.Time
	MaxSession                       int64
	Tags                             []map[string]string
	Inline                           map[string]string // policy name -> document
	Attached                         []string          // policy ARNs, attach order
}

type iamPolicyVersion struct {
	ID      string
	Doc     string
	Created time.Time
	Default bool
}

type iamPolicy struct {
	Name, Path, ID, ARN, Description string
	Created, Updated                 time.Time
	Versions                         []*iamPolicyVersion
	AWSManaged                       bool
}

type iamState struct {
	roles    map[string]*iamRole
	policies map[string]*iamPolicy // by ARN
}

// awsManagedPolicies is a small, approximate set of AWS managed policies so
// that attaching and reading them works. Documents are simplified.
var awsManagedPolicies = map[string]string{
	"AdministratorAccess":                      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
	"PowerUserAccess":                          `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]}`,
	"ReadOnlyAccess":                           `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["*:Describe*","*:Get*","*:List*"],"Resource":"*"}]}`,
	"AmazonKinesisFullAccess":                  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}`,
	"AmazonKinesisReadOnlyAccess":              `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:Get*","kinesis:List*","kinesis:Describe*"],"Resource":"*"}]}`,
	"AmazonS3FullAccess":                       `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]}`,
	"AmazonS3ReadOnlyAccess":                   `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}`,
	"CloudWatchLogsFullAccess":                 `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}`,
	"CloudWatchFullAccess":                     `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudwatch:*","logs:*"],"Resource":"*"}]}`,
	"AmazonKinesisAnalyticsFullAccess":         `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesisanalytics:*","Resource":"*"}]}`,
	"AmazonKinesisAnalyticsReadOnly":           `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesisanalytics:Describe*","kinesisanalytics:Get*","kinesisanalytics:List*"],"Resource":"*"}]}`,
	"AmazonVPCFullAccess":                      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`,
	"service-role/AWSLambdaBasicExecutionRole": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`,
}

func newIAMState() *iamState {
	st := &iamState{roles: map[string]*iamRole{}, policies: map[string]*iamPolicy{}}
	created := time.Date(2015, 2, 6, 18, 39, 46, 0, time.UTC)
	for name, doc := range awsManagedPolicies {
		path := "/"
		short := name
		if i := strings.LastIndex(name, "/"); i >= 0 {
			path = "/" + name[:i+1]
			short = name[i+1:]
		}
		arn := "arn:aws:iam::aws:policy/" + name
		st.policies[arn] = &iamPolicy{Name: short, Path: path, ID: iamID("ANPA"), ARN: arn, Created: created, Updated: created, AWSManaged: true,
			Versions: []*iamPolicyVersion{{ID: "v1", Doc: doc, Created: created, Default: true}}}
	}
	return st
}

func iamID(prefix string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b [17]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b[:])
}

// iamEncode percent-encodes a policy document the way IAM returns it.
func iamEncode(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

func init() {
	register("iam", map[string]handlerFunc{
		"CreateRole":               (*Server).iamCreateRole,
		"GetRole":                  (*Server).iamGetRole,
		"DeleteRole":               (*Server).iamDeleteRole,
		"ListRoles":                (*Server).iamListRoles,
		"UpdateAssumeRolePolicy":   (*Server).iamUpdateAssumeRolePolicy,
		"PutRolePolicy":            (*Server).iamPutRolePolicy,
		"GetRolePolicy":            (*Server).iamGetRolePolicy,
		"DeleteRolePolicy":         (*Server).iamDeleteRolePolicy,
		"ListRolePolicies":         (*Server).iamListRolePolicies,
		"AttachRolePolicy":         (*Server).iamAttachRolePolicy,
		"DetachRolePolicy":         (*Server).iamDetachRolePolicy,
		"ListAttachedRolePolicies": (*Server).iamListAttachedRolePolicies,
		"CreatePolicy":             (*Server).iamCreatePolicy,
		"GetPolicy":                (*Server).iamGetPolicy,
		"GetPolicyVersion":         (*Server).iamGetPolicyVersion,
		"CreatePolicyVersion":      (*Server).iamCreatePolicyVersion,
		"DeletePolicy":             (*Server).iamDeletePolicy,
	})
	register("sts", map[string]handlerFunc{
		"GetCallerIdentity": (*Server).stsGetCallerIdentity,
		"AssumeRole":        (*Server).stsAssumeRole,
	})
}

var (
	iamNameRE   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	iamPolicyRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	iamPathRE   = regexp.MustCompile(`^(/|/[\x21-\x7E]*/)$`)
)

func iamValidation(format string, args ...any) *apiError {
	return errf(400, "ValidationError", format, args...)
}

func iamRequired(c *call, name string) (string, *apiError) {
	v := c.fv(name)
	if v == "" {
		return "", iamValidation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name))
	}
	return v, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func checkPolicyDocument(doc string) *apiError {
	if len(doc) > 131072 {
		return errf(400, "MalformedPolicyDocument", "Policy document is too large.")
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		return errf(400, "MalformedPolicyDocument", "Syntax errors in policy.")
	}
	if _, ok := m["Statement"]; !ok {
		return errf(400, "MalformedPolicyDocument", "Policy document must contain a Statement.")
	}
	return nil
}

func (s *Server) role(c *call) (*iamRole, *apiError) {
	name, e := iamRequired(c, "RoleName")
	if e != nil {
		return nil, e
	}
	r := s.iam.roles[name]
	if r == nil {
		return nil, errf(404, "NoSuchEntity", "The role with name %s cannot be found.", name)
	}
	return r, nil
}

func roleTree(r *iamRole) map[string]any {
	m := map[string]any{
		"Path": r.Path, "RoleName": r.Name, "RoleId": r.ID, "Arn": r.ARN, "CreateDate": r.Created,
		"AssumeRolePolicyDocument": iamEncode(r.AssumeDoc), "MaxSessionDuration": r.MaxSession,
		"RoleLastUsed": map[string]any{},
	}
	if r.Description != "" {
		m["Description"] = r.Description
	}
	if len(r.Tags) > 0 {
		var tags []any
		for _, t := range r.Tags {
			tags = append(tags, map[string]any{"Key": t["Key"], "Value": t["Value"]})
		}
		m["Tags"] = tags
	}
	return m
}

func (s *Server) iamCreateRole(c *call) (any, *apiError) {
	name, e := iamRequired(c, "RoleName")
	if e != nil {
		return nil, e
	}
	doc, e := iamRequired(c, "AssumeRolePolicyDocument")
	if e != nil {
		return nil, e
	}
	if !iamNameRE.MatchString(name) {
		return nil, iamValidation("The specified value for roleName is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-")
	}
	path := c.fv("Path")
	if path == "" {
		path = "/"
	}
	if !iamPathRE.MatchString(path) {
		return nil, iamValidation("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	if e := checkPolicyDocument(doc); e != nil {
		return nil, e
	}
	if s.iam.roles[name] != nil {
		return nil, errf(409, "EntityAlreadyExists", "Role with name %s already exists.", name)
	}
	maxSess := int64(3600)
	if v := c.fv("MaxSessionDuration"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 3600 || n > 43200 {
			return nil, iamValidation("The requested MaxSessionDuration exceeds the allowed range (3600-43200 seconds).")
		}
		maxSess = n
	}
	tags := c.formStructs("Tags", "member")
	if len(tags) > 50 {
		return nil, errf(409, "LimitExceeded", "Cannot exceed quota for TagsPerRole: 50.")
	}
	r := &iamRole{Name: name, Path: path, ID: iamID("AROA"), ARN: fmt.Sprintf("arn:aws:iam::%s:role%s%s", s.opts.AccountID, path, name),
		Description: c.fv("Description"), AssumeDoc: doc, Created: c.now.Truncate(time.Second), MaxSession: maxSess, Tags: tags, Inline: map[string]string{}}
	s.iam.roles[name] = r
	return map[string]any{"Role": roleTree(r)}, nil
}

func (s *Server) iamGetRole(c *call) (any, *apiError) {
	r, e := s.role(c)
	if e != nil {
		return nil, e
	}
	return map[string]any{"Role": roleTree(r)}, nil
}

func (s *Server) iamListRoles(c *call) (any, *apiError) {
	prefix := c.fv("PathPrefix")
	var names []string
	for n, r := range s.iam.roles {
		if strings.HasPrefix(r.Path, prefix) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	page, out, e := iamPage(c, names)
	if e != nil {
		return nil, e
	}
	var roles []any
	for _, n := range page {
		rt := roleTree(s.iam.roles[n])
		delete(rt, "Tags")
		delete(rt, "RoleLastUsed")
		roles = append(roles, rt)
	}
	out["Roles"] = orEmpty(roles)
	return out, nil
}

func orEmpty(l []any) any {
	if l == nil {
		return xmlList{item: "member"}
	}
	return l
}

// iamPage paginates with MaxItems/Marker (marker = next index).
func iamPage(c *call, items []string) ([]string, map[string]any, *apiError) {
	max := 100
	if v := c.fv("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, nil, iamValidation("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", v)
		}
		max = n
	}
	start := 0
	if m := c.fv("Marker"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 || n > len(items) {
			return nil, nil, iamValidation("Invalid Marker.")
		}
		start = n
	}
	end := min(len(items), start+max)
	out := map[string]any{"IsTruncated": end < len(items)}
	if end < len(items) {
		out["Marker"] = strconv.Itoa(end)
	}
	return items[start:end], out, nil
}

func (s *Server) iamDeleteRole(c *call) (any, *apiError) {
	r, e := s.role(c)
	if e != nil {
		return nil, e
	}
	if len(r.Inline) > 0 || len(r.Attached) > 0 {
		return nil, errf(409, "DeleteConflict", "Cannot delete entity, must delete policies first.")
	}
	delete(s.iam.roles, r.Name)
	return map[string]any{}, nil
}

func (s *Server) iamUpdateAssumeRolePolicy(c *call) (any, *apiError) {
	r, e := s.role(c)
	if e != nil {
		return nil, e
	}
	doc, e := iamRequired(c, "PolicyDocument")
	if e != nil {
		return nil, e
	}
	if e := checkPolicyDocument(doc); e != nil {
		return nil, e
	}
	r.AssumeDoc = doc
	return map[string]any{}, nil
}

func (s *Server) iamPutRolePolicy(c *call) (any, *apiError) {
	r, e := s.role(c)
	if e != nil {
		return nil, e
	}
	name, e := iamRequired(c, "PolicyName")
	if e != nil {
		return nil, e
	}
	if !iamPolicyRE.MatchString(name) {
		return nil, iamValidation("The specified value for policyName is invalid.")
	}
	doc, e := iamRequired(c, "PolicyDocument")
	if e != nil {
		return nil, e
	}
	if e := checkPolicyDocument(doc); e != nil {
		return nil, e
	}
	r.Inline[name] = doc
	return map[string]any{}, nil
}

func (s *Server) iamGetRolePolicy(c *call) (any, *apiError) {
	r, e := s.role(c)
	if e != nil {
		return nil, e
	}
	name, e := iamRequired(c, "PolicyName")
	if e != nil {
		return nil, e
	}
	doc, ok := r.Inline[name]
	if !ok {
		return nil, errf(404, "NoSuchEntity", "The role policy with name %s cannot be found.", name)
	}
	return map[string]any{"RoleName": r.Name, "PolicyName": name, "PolicyDocument": iamEncode(doc)}, nil
}

func (s *Server) iamDeleteRolePolicy(c *call) (any, *apiError) {
	r, e := s.role(c)
	if e != nil {
		return nil, e
	}
	name, e := iamRequired(c, "PolicyName")
	if e != nil {
		return nil, e
	}
	if _, ok := r.Inline[name]; !ok {
		return nil, errf(404, "NoSuchEntity", "The role policy with name %s cannot be found.", name)
	}
	delete(r.Inline, name)
	return map[string]any{}, nil
}

func (s *Server) iamListRolePolicies(c *call) (any, *apiError) {
	r, e := s.role(c)
	if e != nil {
		return nil, e
	}
	var names []string
	for n := range r.Inline {
		names = append(names, n)
	}
	sort.Strings(names)
	page, out, e := iamPage(c, names)
	if e != nil {
		return nil, e
	}
	l := make([]any, len(page))
	for i, n := range page {
		l[i] = n
	}
	out["PolicyNames"] = orEmpty(l)
	if len(l) == 0 {
		out["PolicyNames"] = xmlList{item: "member"}
	}
	return out, nil
}

func (s *Server) policy(arn string) (*iamPolicy, *apiError) {
	if arn == "" {
		return nil, iamValidation("1 validation error detected: Value null at 'policyArn' failed to satisfy constraint: Member must not be null")
	}
	if !strings.HasPrefix(arn, "arn:aws:iam::") {
		return nil, errf(400, "InvalidInput", "ARN %s is not valid.", arn)
	}
	p := s.iam.policies[arn]
	if p == nil {
		return nil, errf(404, "NoSuchEntity", "Policy %s does not exist or is not attachable.", arn)
	}
	return p, nil
}

func (s *Server) iamAttachRolePolicy(c *call) (any, *apiError) {
	r, e := s.role(c)
	if e != nil {
		return nil, e
	}
	p, e := s.policy(c.fv("PolicyArn"))
	if e != nil {
		return nil, e
	}
	if !slices.Contains(r.Attached, p.ARN) {
		if len(r.Attached) >= 20 {
			return nil, errf(409, "LimitExceeded", "Cannot exceed quota for PoliciesPerRole: 20.")
		}
		r.Attached = append(r.Attached, p.ARN)
	}
	return map[string]any{}, nil
}

func (s *Server) iamDetachRolePolicy(c *call) (any, *apiError) {
	r, e := s.role(c)
	if e != nil {
		return nil, e
	}
	arn := c.fv("PolicyArn")
	i := slices.Index(r.Attached, arn)
	if i < 0 {
		return nil, errf(404, "NoSuchEntity", "Policy %s was not found.", arn)
	}
	r.Attached = slices.Delete(r.Attached, i, i+1)
	return map[string]any{}, nil
}

func (s *Server) iamListAttachedRolePolicies(c *call) (any, *apiError) {
	r, e := s.role(c)
	if e != nil {
		return nil, e
	}
	prefix := c.fv("PathPrefix")
	var arns []string
	for _, a := range r.Attached {
		if p := s.iam.policies[a]; p != nil && strings.HasPrefix(p.Path, prefix) {
			arns = append(arns, a)
		}
	}
	page, out, e := iamPage(c, arns)
	if e != nil {
		return nil, e
	}
	var l []any
	for _, a := range page {
		l = append(l, map[string]any{"PolicyName": s.iam.policies[a].Name, "PolicyArn": a})
	}
	out["AttachedPolicies"] = orEmpty(l)
	return out, nil
}

func (s *Server) attachmentCount(arn string) int {
	n := 0
	for _, r := range s.iam.roles {
		if slices.Contains(r.Attached, arn) {
			n++
		}
	}
	return n
}

func (s *Server) policyTree(p *iamPolicy) map[string]any {
	def := ""
	for _, v := range p.Versions {
		if v.Default {
			def = v.ID
		}
	}
	m := map[string]any{"PolicyName": p.Name, "PolicyId": p.ID, "Arn": p.ARN, "Path": p.Path, "DefaultVersionId": def,
		"AttachmentCount": s.attachmentCount(p.ARN), "PermissionsBoundaryUsageCount": 0, "IsAttachable": true, "CreateDate": p.Created, "UpdateDate": p.Updated}
	if p.Description != "" {
		m["Description"] = p.Description
	}
	return m
}

func (s *Server) iamCreatePolicy(c *call) (any, *apiError) {
	name, e := iamRequired(c, "PolicyName")
	if e != nil {
		return nil, e
	}
	doc, e := iamRequired(c, "PolicyDocument")
	if e != nil {
		return nil, e
	}
	if !iamPolicyRE.MatchString(name) {
		return nil, iamValidation("The specified value for policyName is invalid.")
	}
	if e := checkPolicyDocument(doc); e != nil {
		return nil, e
	}
	path := c.fv("Path")
	if path == "" {
		path = "/"
	}
	if !iamPathRE.MatchString(path) {
		return nil, iamValidation("The specified value for path is invalid.")
	}
	arn := fmt.Sprintf("arn:aws:iam::%s:policy%s%s", s.opts.AccountID, path, name)
	for _, p := range s.iam.policies {
		if !p.AWSManaged && p.Name == name {
			return nil, errf(409, "EntityAlreadyExists", "A policy called %s already exists. Duplicate names are not allowed.", name)
		}
	}
	now := c.now.Truncate(time.Second)
	p := &iamPolicy{Name: name, Path: path, ID: iamID("ANPA"), ARN: arn, Description: c.fv("Description"), Created: now, Updated: now,
		Versions: []*iamPolicyVersion{{ID: "v1", Doc: doc, Created: now, Default: true}}}
	s.iam.policies[arn] = p
	return map[string]any{"Policy": s.policyTree(p)}, nil
}

func (s *Server) iamGetPolicy(c *call) (any, *apiError) {
	p, e := s.policy(c.fv("PolicyArn"))
	if e != nil {
		return nil, e
	}
	return map[string]any{"Policy": s.policyTree(p)}, nil
}

func (s *Server) iamGetPolicyVersion(c *call) (any, *apiError) {
	p, e := s.policy(c.fv("PolicyArn"))
	if e != nil {
		return nil, e
	}
	id, e := iamRequired(c, "VersionId")
	if e != nil {
		return nil, e
	}
	for _, v := range p.Versions {
		if v.ID == id {
			return map[string]any{"PolicyVersion": map[string]any{"Document": iamEncode(v.Doc), "VersionId": v.ID, "IsDefaultVersion": v.Default, "CreateDate": v.Created}}, nil
		}
	}
	return nil, errf(404, "NoSuchEntity", "Policy %s version %s does not exist or is not attachable.", p.ARN, id)
}

func (s *Server) iamCreatePolicyVersion(c *call) (any, *apiError) {
	p, e := s.policy(c.fv("PolicyArn"))
	if e != nil {
		return nil, e
	}
	if p.AWSManaged {
		return nil, errf(403, "AccessDenied", "AWS managed policies cannot be modified.")
	}
	doc, e := iamRequired(c, "PolicyDocument")
	if e != nil {
		return nil, e
	}
	if e := checkPolicyDocument(doc); e != nil {
		return nil, e
	}
	if len(p.Versions) >= 5 {
		return nil, errf(409, "LimitExceeded", "A managed policy can have up to 5 versions.")
	}
	last := p.Versions[len(p.Versions)-1].ID
	n, _ := strconv.Atoi(strings.TrimPrefix(last, "v"))
	v := &iamPolicyVersion{ID: "v" + strconv.Itoa(n+1), Doc: doc, Created: c.now.Truncate(time.Second)}
	if c.fv("SetAsDefault") == "true" {
		for _, o := range p.Versions {
			o.Default = false
		}
		v.Default = true
	}
	p.Versions = append(p.Versions, v)
	p.Updated = v.Created
	return map[string]any{"PolicyVersion": map[string]any{"VersionId": v.ID, "IsDefaultVersion": v.Default, "CreateDate": v.Created}}, nil
}

func (s *Server) iamDeletePolicy(c *call) (any, *apiError) {
	p, e := s.policy(c.fv("PolicyArn"))
	if e != nil {
		return nil, e
	}
	if p.AWSManaged {
		return nil, errf(403, "AccessDenied", "AWS managed policies cannot be deleted.")
	}
	if s.attachmentCount(p.ARN) > 0 {
		return nil, errf(409, "DeleteConflict", "Cannot delete a policy attached to entities.")
	}
	delete(s.iam.policies, p.ARN)
	return map[string]any{}, nil
}

func (s *Server) stsGetCallerIdentity(c *call) (any, *apiError) {
	return map[string]any{"UserId": "AIDALOCALAWSEXAMPLE", "Account": s.opts.AccountID, "Arn": fmt.Sprintf("arn:aws:iam::%s:user/localaws", s.opts.AccountID)}, nil
}

func (s *Server) stsAssumeRole(c *call) (any, *apiError) {
	arn, e := iamRequired(c, "RoleArn")
	if e != nil {
		return nil, e
	}
	sess, e := iamRequired(c, "RoleSessionName")
	if e != nil {
		return nil, e
	}
	i := strings.LastIndex(arn, "/")
	if i < 0 || !strings.HasPrefix(arn, "arn:aws:iam::") {
		return nil, iamValidation("%s is invalid", arn)
	}
	name := arn[i+1:]
	r := s.iam.roles[name]
	if r == nil || r.ARN != arn {
		return nil, errf(403, "AccessDenied", "User: arn:aws:iam::%s:user/localaws is not authorized to perform: sts:AssumeRole on resource: %s", s.opts.AccountID, arn)
	}
	return map[string]any{
		"Credentials":     map[string]any{"AccessKeyId": "ASIALOCALAWS" + iamID("")[:8], "SecretAccessKey": newToken(), "SessionToken": newToken() + newToken(), "Expiration": c.now.Add(time.Hour)},
		"AssumedRoleUser": map[string]any{"AssumedRoleId": r.ID + ":" + sess, "Arn": fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", s.opts.AccountID, r.Name, sess)},
	}, nil
}
