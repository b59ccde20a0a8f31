package localaws

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// s3 (restXml): path-style and virtual-host-style requests.

type s3Bucket struct {
	name       string
	created    time.Time
	pab        *s3PAB
	encryption []byte // ServerSideEncryptionConfiguration XML
	policy     string
	versioning string
	objects    map[string]*s3Object
}

type s3PAB struct {
	BlockPublicAcls       bool `xml:"BlockPublicAcls"`
	IgnorePublicAcls      bool `xml:"IgnorePublicAcls"`
	BlockPublicPolicy     bool `xml:"BlockPublicPolicy"`
	RestrictPublicBuckets bool `xml:"RestrictPublicBuckets"`
}

type s3Object struct {
	data        []byte
	contentType string
	etag        string
	modified    time.Time
}

type s3State struct{ buckets map[string]*s3Bucket }

func newS3State() *s3State { return &s3State{buckets: map[string]*s3Bucket{}} }

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

const defaultEncryption = `<ServerSideEncryptionConfiguration xmlns="` + s3NS + `"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`

var bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func init() {
	register("s3", map[string]handlerFunc{
		"ListBuckets":             (*Server).s3ListBuckets,
		"CreateBucket":            (*Server).s3CreateBucket,
		"HeadBucket":              (*Server).s3HeadBucket,
		"DeleteBucket":            (*Server).s3DeleteBucket,
		"GetBucketLocation":       (*Server).s3GetBucketLocation,
		"PutPublicAccessBlock":    (*Server).s3PutPublicAccessBlock,
		"GetPublicAccessBlock":    (*Server).s3GetPublicAccessBlock,
		"DeletePublicAccessBlock": (*Server).s3DeletePublicAccessBlock,
		"PutBucketEncryption":     (*Server).s3PutBucketEncryption,
		"GetBucketEncryption":     (*Server).s3GetBucketEncryption,
		"DeleteBucketEncryption":  (*Server).s3DeleteBucketEncryption,
		"PutBucketPolicy":         (*Server).s3PutBucketPolicy,
		"GetBucketPolicy":         (*Server).s3GetBucketPolicy,
		"DeleteBucketPolicy":      (*Server).s3DeleteBucketPolicy,
		"GetBucketPolicyStatus":   (*Server).s3GetBucketPolicyStatus,
		"GetBucketVersioning":     (*Server).s3GetBucketVersioning,
		"PutBucketVersioning":     (*Server).s3PutBucketVersioning,
		"PutObject":               (*Server).s3PutObject,
		"GetObject":               (*Server).s3GetObject,
		"HeadObject":              (*Server).s3GetObject,
		"DeleteObject":            (*Server).s3DeleteObject,
	})
}

// routeS3 finds bucket, key and operation.
func (s *Server) routeS3(c *call) *apiError {
	r := c.r
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	bucket, key := "", ""
	path := strings.TrimPrefix(r.URL.Path, "/")
	if i := strings.Index(host, "."); i > 0 && net.ParseIP(host) == nil && !strings.HasPrefix(host, "s3.") {
		rest := host[i+1:]
		if net.ParseIP(rest) != nil || rest == "localhost" || strings.HasPrefix(rest, "s3.") || strings.HasPrefix(rest, "localhost") {
			bucket, key = host[:i], path
		}
	}
	if bucket == "" {
		bucket, key, _ = strings.Cut(path, "/")
	}
	c.param("Bucket", bucket)
	c.param("Key", key)
	q := r.URL.Query()
	sub := func(names ...string) string {
		for _, n := range names {
			if _, ok := q[n]; ok {
				return n
			}
		}
		return ""
	}
	m := r.Method
	switch {
	case bucket == "" && m == http.MethodGet:
		c.op = "ListBuckets"
	case bucket == "":
		c.op = ""
	case key != "":
		c.op = map[string]string{http.MethodPut: "PutObject", http.MethodGet: "GetObject", http.MethodHead: "HeadObject", http.MethodDelete: "DeleteObject"}[m]
	default:
		switch sub("publicAccessBlock", "encryption", "policyStatus", "policy", "versioning", "location") {
		case "publicAccessBlock":
			c.op = map[string]string{http.MethodPut: "PutPublicAccessBlock", http.MethodGet: "GetPublicAccessBlock", http.MethodDelete: "DeletePublicAccessBlock"}[m]
		case "encryption":
			c.op = map[string]string{http.MethodPut: "PutBucketEncryption", http.MethodGet: "GetBucketEncryption", http.MethodDelete: "DeleteBucketEncryption"}[m]
		case "policyStatus":
			c.op = map[string]string{http.MethodGet: "GetBucketPolicyStatus"}[m]
		case "policy":
			c.op = map[string]string{http.MethodPut: "PutBucketPolicy", http.MethodGet: "GetBucketPolicy", http.MethodDelete: "DeleteBucketPolicy"}[m]
		case "versioning":
			c.op = map[string]string{http.MethodPut: "PutBucketVersioning", http.MethodGet: "GetBucketVersioning"}[m]
		case "location":
			c.op = map[string]string{http.MethodGet: "GetBucketLocation"}[m]
		default:
			if len(q) == 0 || (len(q) == 1 && q.Has("x-id")) {
				c.op = map[string]string{http.MethodPut: "CreateBucket", http.MethodHead: "HeadBucket", http.MethodDelete: "DeleteBucket"}[m]
			}
		}
	}
	if c.op == "" {
		c.op = m + " " + r.URL.Path
	}
	if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") || strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		body, err := decodeAWSChunked(c.body)
		if err != nil {
			return errf(400, "IncompleteBody", "cannot decode aws-chunked body: %v", err)
		}
		c.body = body
	}
	return nil
}

// decodeAWSChunked strips aws-chunked framing (and trailers).
func decodeAWSChunked(b []byte) ([]byte, error) {
	var out bytes.Buffer
	rd := bufio.NewReader(bytes.NewReader(b))
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		size, _, _ := strings.Cut(line, ";")
		n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("bad chunk size %q", size)
		}
		if n == 0 {
			return out.Bytes(), nil
		}
		if _, err := io.CopyN(&out, rd, n); err != nil {
			return nil, err
		}
		if _, err := rd.ReadString('\n'); err != nil {
			return nil, err
		}
	}
}

func (c *call) bucketName() string { return c.params["Bucket"] }

func (s *Server) bucket(c *call) (*s3Bucket, *apiError) {
	b := s.s3.buckets[c.bucketName()]
	if b == nil {
		return nil, errf(404, "NoSuchBucket", "The specified bucket does not exist")
	}
	return b, nil
}

func xmlResp(body string) *response {
	h := http.Header{}
	h.Set("Content-Type", "application/xml")
	return &response{status: 200, header: h, body: []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + body)}
}

func emptyResp(status int) *response { return &response{status: status, header: http.Header{}} }

func xmlText(s string) string {
	var b bytes.Buffer
	xmlEscape(&b, s)
	return b.String()
}

func (s *Server) s3ListBuckets(c *call) (any, *apiError) {
	var names []string
	for n := range s.s3.buckets {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(`<ListAllMyBucketsResult xmlns="` + s3NS + `"><Owner><ID>localaws</ID><DisplayName>localaws</DisplayName></Owner><Buckets>`)
	for _, n := range names {
		fmt.Fprintf(&b, "<Bucket><Name>%s</Name><CreationDate>%s</CreationDate><BucketRegion>%s</BucketRegion></Bucket>", n, s.s3.buckets[n].created.Format("2006-01-02T15:04:05.000Z"), s.opts.Region)
	}
	b.WriteString(`</Buckets></ListAllMyBucketsResult>`)
	return xmlResp(b.String()), nil
}

func (s *Server) s3CreateBucket(c *call) (any, *apiError) {
	name := c.bucketName()
	if !bucketNameRE.MatchString(name) || strings.Contains(name, "..") {
		return nil, errf(400, "InvalidBucketName", "The specified bucket is not valid.")
	}
	if len(bytes.TrimSpace(c.body)) > 0 {
		var cfg struct {
			LocationConstraint string `xml:"LocationConstraint"`
		}
		if err := xml.Unmarshal(c.body, &cfg); err != nil {
			return nil, errf(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
		if cfg.LocationConstraint != "" && cfg.LocationConstraint != s.opts.Region {
			return nil, errf(400, "IllegalLocationConstraintException", "The %s location constraint is incompatible for the region specific endpoint this request was sent to.", cfg.LocationConstraint)
		}
	} else if s.opts.Region != "us-east-1" {
		return nil, errf(400, "IllegalLocationConstraintException", "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	}
	if s.s3.buckets[name] != nil {
		if s.opts.Region == "us-east-1" {
			r := emptyResp(200)
			r.header.Set("Location", "/"+name)
			return r, nil
		}
		return nil, errf(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
	}
	s.s3.buckets[name] = &s3Bucket{name: name, created: c.now, objects: map[string]*s3Object{},
		pab: &s3PAB{true, true, true, true}, encryption: []byte(defaultEncryption)}
	r := emptyResp(200)
	r.header.Set("Location", "/"+name)
	return r, nil
}

func (s *Server) s3HeadBucket(c *call) (any, *apiError) {
	if _, e := s.bucket(c); e != nil {
		return nil, &apiError{Code: "NotFound", Message: "Not Found", Status: 404}
	}
	r := emptyResp(200)
	r.header.Set("x-amz-bucket-region", s.opts.Region)
	return r, nil
}

func (s *Server) s3DeleteBucket(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	if len(b.objects) > 0 {
		return nil, errf(409, "BucketNotEmpty", "The bucket you tried to delete is not empty")
	}
	delete(s.s3.buckets, b.name)
	return emptyResp(204), nil
}

func (s *Server) s3GetBucketLocation(c *call) (any, *apiError) {
	if _, e := s.bucket(c); e != nil {
		return nil, e
	}
	loc := s.opts.Region
	if loc == "us-east-1" {
		loc = ""
	}
	return xmlResp(`<LocationConstraint xmlns="` + s3NS + `">` + loc + `</LocationConstraint>`), nil
}

func (s *Server) s3PutPublicAccessBlock(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	var p s3PAB
	if err := xml.Unmarshal(c.body, &p); err != nil {
		return nil, errf(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	b.pab = &p
	return emptyResp(200), nil
}

func (s *Server) s3GetPublicAccessBlock(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	if b.pab == nil {
		return nil, errf(404, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")
	}
	p := b.pab
	return xmlResp(fmt.Sprintf(`<PublicAccessBlockConfiguration xmlns="%s"><BlockPublicAcls>%t</BlockPublicAcls><IgnorePublicAcls>%t</IgnorePublicAcls><BlockPublicPolicy>%t</BlockPublicPolicy><RestrictPublicBuckets>%t</RestrictPublicBuckets></PublicAccessBlockConfiguration>`,
		s3NS, p.BlockPublicAcls, p.IgnorePublicAcls, p.BlockPublicPolicy, p.RestrictPublicBuckets)), nil
}

func (s *Server) s3DeletePublicAccessBlock(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	b.pab = nil
	return emptyResp(204), nil
}

func (s *Server) s3PutBucketEncryption(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	var cfg struct {
		Rules []struct {
			Default struct {
				Alg string `xml:"SSEAlgorithm"`
				Key string `xml:"KMSMasterKeyID"`
			} `xml:"ApplyServerSideEncryptionByDefault"`
		} `xml:"Rule"`
	}
	if err := xml.Unmarshal(c.body, &cfg); err != nil || len(cfg.Rules) == 0 {
		return nil, errf(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	for _, r := range cfg.Rules {
		switch r.Default.Alg {
		case "AES256", "aws:kms", "aws:kms:dsse":
		default:
			return nil, errf(400, "InvalidArgument", "The encryption method specified is not supported")
		}
		if r.Default.Alg == "AES256" && r.Default.Key != "" {
			return nil, errf(400, "InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
		}
	}
	b.encryption = append([]byte(nil), c.body...)
	return emptyResp(200), nil
}

func (s *Server) s3GetBucketEncryption(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	return xmlResp(string(b.encryption)), nil
}

func (s *Server) s3DeleteBucketEncryption(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	b.encryption = []byte(defaultEncryption)
	return emptyResp(204), nil
}

// policyIsPublic: an Allow statement for Principal "*" (or AWS "*") without a
// Condition.
func policyIsPublic(doc string) bool {
	var p struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return false
	}
	var stmts []map[string]any
	if json.Unmarshal(p.Statement, &stmts) != nil {
		var one map[string]any
		if json.Unmarshal(p.Statement, &one) != nil {
			return false
		}
		stmts = []map[string]any{one}
	}
	for _, st := range stmts {
		if st["Effect"] != "Allow" || st["Condition"] != nil {
			continue
		}
		switch pr := st["Principal"].(type) {
		case string:
			if pr == "*" {
				return true
			}
		case map[string]any:
			switch a := pr["AWS"].(type) {
			case string:
				if a == "*" {
					return true
				}
			case []any:
				for _, x := range a {
					if x == "*" {
						return true
					}
				}
			}
		}
	}
	return false
}

func (s *Server) s3PutBucketPolicy(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	doc := string(c.body)
	if !validPolicyJSON(doc) {
		return nil, errf(400, "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")
	}
	if b.pab != nil && b.pab.BlockPublicPolicy && policyIsPublic(doc) {
		return nil, errf(403, "AccessDenied", "User: arn:aws:iam::%s:user/localaws is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:aws:s3:::%s\" because public policies are blocked by the BlockPublicPolicy block public access setting.", s.opts.AccountID, b.name)
	}
	b.policy = doc
	return emptyResp(204), nil
}

func (s *Server) s3GetBucketPolicy(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	if b.policy == "" {
		return nil, errf(404, "NoSuchBucketPolicy", "The bucket policy does not exist")
	}
	r := emptyResp(200)
	r.header.Set("Content-Type", "application/json")
	r.body = []byte(b.policy)
	return r, nil
}

func (s *Server) s3DeleteBucketPolicy(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	b.policy = ""
	return emptyResp(204), nil
}

func (s *Server) s3GetBucketPolicyStatus(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	if b.policy == "" {
		return nil, errf(404, "NoSuchBucketPolicy", "The bucket policy does not exist")
	}
	public := policyIsPublic(b.policy) && (b.pab == nil || !b.pab.RestrictPublicBuckets)
	return xmlResp(fmt.Sprintf(`<PolicyStatus xmlns="%s"><IsPublic>%t</IsPublic></PolicyStatus>`, s3NS, public)), nil
}

func (s *Server) s3GetBucketVersioning(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	inner := ""
	if b.versioning != "" {
		inner = "<Status>" + b.versioning + "</Status>"
	}
	return xmlResp(`<VersioningConfiguration xmlns="` + s3NS + `">` + inner + `</VersioningConfiguration>`), nil
}

func (s *Server) s3PutBucketVersioning(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	var v struct {
		Status string `xml:"Status"`
	}
	if err := xml.Unmarshal(c.body, &v); err != nil || (v.Status != "Enabled" && v.Status != "Suspended") {
		return nil, errf(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	b.versioning = v.Status
	return emptyResp(200), nil
}

func (s *Server) s3PutObject(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	sum := md5.Sum(c.body)
	o := &s3Object{data: append([]byte(nil), c.body...), contentType: c.r.Header.Get("Content-Type"), etag: `"` + hex.EncodeToString(sum[:]) + `"`, modified: c.now}
	b.objects[c.params["Key"]] = o
	r := emptyResp(200)
	r.header.Set("ETag", o.etag)
	r.header.Set("x-amz-server-side-encryption", "AES256")
	return r, nil
}

func (s *Server) s3GetObject(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	o := b.objects[c.params["Key"]]
	if o == nil {
		if c.r.Method == http.MethodHead {
			return nil, &apiError{Code: "NotFound", Message: "Not Found", Status: 404}
		}
		return nil, errf(404, "NoSuchKey", "The specified key does not exist.")
	}
	r := emptyResp(200)
	r.header.Set("ETag", o.etag)
	r.header.Set("Last-Modified", o.modified.Format(http.TimeFormat))
	if o.contentType != "" {
		r.header.Set("Content-Type", o.contentType)
	}
	r.body = o.data
	return r, nil
}

func (s *Server) s3DeleteObject(c *call) (any, *apiError) {
	b, e := s.bucket(c)
	if e != nil {
		return nil, e
	}
	delete(b.objects, c.params["Key"])
	return emptyResp(204), nil
}
