package localaws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// adminPrefix is the path of the admin endpoint; no AWS API uses it.
const adminPrefix = "/_localaws/"

// SeedCall is one API call applied by Seed, e.g.
// {"service":"kinesisanalyticsv2","operation":"CreateApplication","input":{...}}.
// Input uses the API's member names. For awsQuery/ec2Query services nested
// values are flattened the way the SDK does (lists become X.member.N or X.N);
// policy documents may be given as JSON objects. For s3, input has Bucket,
// Key, Body (a string) and for PutPublicAccessBlock the four booleans.
type SeedCall struct {
	Service   string         `json:"service"`
	Operation string         `json:"operation"`
	Input     map[string]any `json:"input,omitempty"`
}

// SeedResult is the outcome of one SeedCall.
type SeedResult struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Output    any    `json:"output,omitempty"`
	Error     string `json:"error,omitempty"`
}

var queryServices = map[string]string{"iam": "2010-05-08", "sts": "2011-06-15", "sns": "2010-03-31", "ec2": "2016-11-15"}

// Seed applies calls through the same handlers the API uses (without faults
// and without journaling). It stops at the first failing call.
func (s *Server) Seed(calls []SeedCall) ([]SeedResult, error) {
	var out []SeedResult
	for i, sc := range calls {
		res := SeedResult{Service: canonicalService(sc.Service), Operation: sc.Operation}
		c, err := s.seedCall(sc)
		if err != nil {
			res.Error = err.Error()
			out = append(out, res)
			return out, fmt.Errorf("seed call %d (%s:%s): %w", i+1, sc.Service, sc.Operation, err)
		}
		h := lookupHandler(c.service, c.op)
		if h == nil {
			res.Error = "operation not emulated"
			out = append(out, res)
			return out, fmt.Errorf("seed call %d (%s:%s): operation not emulated", i+1, sc.Service, sc.Operation)
		}
		s.mu.Lock()
		o, e := h(s, c)
		s.mu.Unlock()
		if e != nil {
			res.Error = e.Error()
			out = append(out, res)
			return out, fmt.Errorf("seed call %d (%s:%s): %s", i+1, sc.Service, sc.Operation, e.Error())
		}
		if _, raw := o.(*response); !raw {
			res.Output = jsonTree(xmlListsToSlices(o))
		}
		out = append(out, res)
	}
	return out, nil
}

func xmlListsToSlices(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = xmlListsToSlices(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = xmlListsToSlices(e)
		}
		return l
	case xmlList:
		return xmlListsToSlices(append([]any{}, x.items...))
	}
	return v
}

func (s *Server) seedCall(sc SeedCall) (*call, error) {
	svc := canonicalService(sc.Service)
	if handlers[svc] == nil {
		return nil, fmt.Errorf("unknown service %q", sc.Service)
	}
	c := &call{service: svc, op: sc.Operation, reqID: newRequestID(), now: time.Now().UTC()}
	// Normalise numbers to json.Number like the wire decoder does.
	raw, err := json.Marshal(sc.Input)
	if err != nil {
		return nil, err
	}
	var in map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&in); err != nil {
		return nil, err
	}
	if in == nil {
		in = map[string]any{}
	}
	switch {
	case svc == "s3":
		return s.seedS3(c, in)
	case queryServices[svc] != "":
		c.proto = protoQuery
		member := "member"
		if svc == "ec2" {
			c.proto, member = protoEC2, ""
		}
		form := url.Values{}
		flatten(form, "", in, member)
		c.form = form
		c.r = httptest.NewRequest(http.MethodPost, "/", nil)
	default:
		c.proto = protoJSON
		if svc == "cloudwatch" {
			c.proto = protoCBOR
		}
		c.json = in
		c.r = httptest.NewRequest(http.MethodPost, "/", nil)
	}
	return c, nil
}

func flatten(form url.Values, prefix string, v any, member string) {
	key := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if m, ok := e.(map[string]any); ok && (strings.HasSuffix(k, "Document") || strings.HasSuffix(k, "Policy")) {
				b, _ := json.Marshal(m)
				form.Set(key(k), string(b))
				continue
			}
			flatten(form, key(k), e, member)
		}
	case []any:
		for i, e := range x {
			p := prefix + "." + strconv.Itoa(i+1)
			if member != "" {
				p = prefix + "." + member + "." + strconv.Itoa(i+1)
			}
			flatten(form, p, e, member)
		}
	case nil:
	default:
		form.Set(prefix, fmt.Sprint(x))
	}
}

func (s *Server) seedS3(c *call, in map[string]any) (*call, error) {
	bucket, key := gs(in, "Bucket"), gs(in, "Key")
	method, query, body := http.MethodPut, "", []byte(gs(in, "Body"))
	switch c.op {
	case "CreateBucket":
	case "PutObject":
	case "PutBucketPolicy":
		query, body = "policy", []byte(gs(in, "Policy"))
		if m := gm(in, "Policy"); m != nil {
			body, _ = json.Marshal(m)
		}
	case "PutPublicAccessBlock":
		p := gm(in, "PublicAccessBlockConfiguration")
		if p == nil {
			p = in
		}
		b := func(k string) bool { v, _ := gb(p, k); return v }
		query = "publicAccessBlock"
		body = []byte(fmt.Sprintf(`<PublicAccessBlockConfiguration><BlockPublicAcls>%t</BlockPublicAcls><IgnorePublicAcls>%t</IgnorePublicAcls><BlockPublicPolicy>%t</BlockPublicPolicy><RestrictPublicBuckets>%t</RestrictPublicBuckets></PublicAccessBlockConfiguration>`, b("BlockPublicAcls"), b("IgnorePublicAcls"), b("BlockPublicPolicy"), b("RestrictPublicBuckets")))
	case "PutBucketVersioning":
		query = "versioning"
		st := gs(in, "Status")
		if m := gm(in, "VersioningConfiguration"); m != nil {
			st = gs(m, "Status")
		}
		body = []byte("<VersioningConfiguration><Status>" + st + "</Status></VersioningConfiguration>")
	case "DeletePublicAccessBlock":
		method, query = http.MethodDelete, "publicAccessBlock"
	default:
		return nil, fmt.Errorf("s3 seeding supports CreateBucket, PutObject, PutBucketPolicy, PutPublicAccessBlock, DeletePublicAccessBlock and PutBucketVersioning")
	}
	u := "/" + bucket
	if key != "" {
		u += "/" + key
	}
	if query != "" {
		u += "?" + query
	}
	c.r = httptest.NewRequest(method, u, bytes.NewReader(body))
	c.r.Host = "127.0.0.1"
	c.body = body
	c.proto = protoS3
	op := c.op
	if e := s.routeS3(c); e != nil {
		return nil, e
	}
	if c.op != op {
		return nil, fmt.Errorf("s3 seed routed to %s", c.op)
	}
	return c, nil
}

// serveAdmin implements the JSON admin endpoint under /_localaws/.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, adminPrefix), "/")
	writeJSON := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	}
	fail := func(status int, err error) { writeJSON(status, map[string]string{"error": err.Error()}) }
	decode := func(v any) bool {
		b, err := io.ReadAll(r.Body)
		if err == nil {
			err = json.Unmarshal(b, v)
		}
		if err != nil {
			fail(http.StatusBadRequest, fmt.Errorf("bad JSON body: %w", err))
			return false
		}
		return true
	}
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost || r.Method == http.MethodPut
	switch {
	case path == "health" && get:
		writeJSON(200, map[string]string{"status": "ok", "account": s.opts.AccountID, "region": s.opts.Region})
	case path == "operations" && get:
		writeJSON(200, Operations())
	case path == "journal" && get:
		q := r.URL.Query()
		svc, op := canonicalService(q.Get("service")), q.Get("operation")
		out := []Entry{}
		for _, e := range s.Journal() {
			if matches(svc, e.Service) && matches(op, e.Operation) {
				out = append(out, e)
			}
		}
		writeJSON(200, out)
	case path == "journal" && r.Method == http.MethodDelete, path == "journal/reset" && post:
		s.ResetJournal()
		writeJSON(200, map[string]string{"status": "ok"})
	case path == "evaluations" && get:
		writeJSON(200, nonNil(s.Evaluations()))
	case path == "published" && get:
		writeJSON(200, nonNil(s.Published()))
	case path == "events" && get:
		writeJSON(200, nonNil(s.Events()))
	case path == "faults" && get:
		writeJSON(200, nonNil(s.Faults()))
	case path == "faults" && post:
		var f []Fault
		if !decode(&f) {
			return
		}
		for _, x := range f {
			if err := x.Validate(); err != nil {
				fail(http.StatusBadRequest, err)
				return
			}
		}
		s.SetFaults(f...)
		writeJSON(200, nonNil(s.Faults()))
	case path == "faults" && r.Method == http.MethodDelete:
		s.SetFaults()
		writeJSON(200, []Fault{})
	case path == "reset" && post:
		s.Reset()
		writeJSON(200, map[string]string{"status": "ok"})
	case path == "seed" && post:
		var calls []SeedCall
		if !decode(&calls) {
			return
		}
		res, err := s.Seed(calls)
		if err != nil {
			writeJSON(http.StatusBadRequest, map[string]any{"error": err.Error(), "results": res})
			return
		}
		writeJSON(200, map[string]any{"results": res})
	case path == "transition-delay" && post:
		var v struct {
			Delay string `json:"delay"`
		}
		if !decode(&v) {
			return
		}
		d, err := time.ParseDuration(v.Delay)
		if err != nil || d < 0 {
			fail(http.StatusBadRequest, fmt.Errorf("delay: want a duration such as \"2s\""))
			return
		}
		s.SetTransitionDelay(d)
		writeJSON(200, map[string]string{"delay": d.String()})
	case path == "competing-writer" && post:
		var v struct {
			ApplicationName string `json:"applicationName"`
			Times           int    `json:"times"`
		}
		if !decode(&v) {
			return
		}
		if v.ApplicationName == "" || v.Times < 0 {
			fail(http.StatusBadRequest, fmt.Errorf("applicationName and a non-negative times are required"))
			return
		}
		s.CompetingWriter(v.ApplicationName, v.Times)
		writeJSON(200, v)
	case path == "result-token" && post:
		var v struct {
			ConfigRuleName string `json:"configRuleName"`
		}
		if !decode(&v) {
			return
		}
		writeJSON(200, map[string]string{"resultToken": s.IssueResultToken(v.ConfigRuleName)})
	default:
		paths := []string{"GET health", "GET operations", "GET|DELETE journal", "GET evaluations", "GET published", "GET events", "GET|PUT|POST|DELETE faults", "POST reset", "POST seed", "POST transition-delay", "POST competing-writer", "POST result-token"}
		sort.Strings(paths)
		writeJSON(http.StatusNotFound, map[string]any{"error": fmt.Sprintf("no admin endpoint %s %s", r.Method, r.URL.Path), "endpoints": paths})
	}
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}
