package localaws

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

type protocol int

const (
	protoJSON protocol = iota + 1
	protoQuery
	protoEC2
	protoS3
	protoCBOR
)

// apiError is an AWS error as the service returns it.
type apiError struct {
	Code    string
	Message string
	Status  int
	Fault   string // "Sender" (default) or "Receiver"
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

type handlerFunc func(s *Server, c *call) (any, *apiError)

var handlers = map[string]map[string]handlerFunc{}

func register(service string, ops map[string]handlerFunc) {
	m := handlers[service]
	if m == nil {
		m = map[string]handlerFunc{}
		handlers[service] = m
	}
	for k, v := range ops {
		m[k] = v
	}
}

func lookupHandler(service, op string) handlerFunc { return handlers[service][op] }

// Operations lists the emulated operations per service (SDK module name).
func Operations() map[string][]string {
	out := map[string][]string{}
	for svc, ops := range handlers {
		for op := range ops {
			out[svc] = append(out[svc], op)
		}
		sort.Strings(out[svc])
	}
	return out
}

var targetPrefixes = map[string]string{
	"KinesisAnalytics_20180523": "kinesisanalyticsv2",
	"StarlingDoveService":       "configservice",
	"Logs_20140328":             "cloudwatchlogs",
	"TrentService":              "kms",
	"Kinesis_20131202":          "kinesis",
	"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101": "cloudtrail",
	"CloudTrail_20131101": "cloudtrail",
	"AWSEvents":           "eventbridge",
}

var queryVersions = map[string]string{
	"2010-05-08": "iam",
	"2011-06-15": "sts",
	"2010-03-31": "sns",
	"2016-11-15": "ec2",
}

// scopeService extracts SERVICE from "Credential=AKID/DATE/REGION/SERVICE/aws4_request".
func scopeService(auth string) string {
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return ""
	}
	cred := auth[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[len(parts)-2]
}

func (s *Server) route(c *call) *apiError {
	r := c.r
	signed := scopeService(r.Header.Get("Authorization"))
	svc := ""
	if signed != "" {
		svc = canonicalService(signed)
	}
	path := r.URL.Path
	target := r.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(path, "/service/") && strings.Contains(path, "/operation/"):
		c.proto = protoCBOR
		c.op = path[strings.LastIndex(path, "/")+1:]
		if svc == "" {
			svc = "cloudwatch"
		}
	case target != "":
		c.proto = protoJSON
		dot := strings.LastIndex(target, ".")
		if dot < 0 {
			c.service = svc
			return errf(400, "UnknownOperationException", "invalid X-Amz-Target %q", target)
		}
		c.op = target[dot+1:]
		tsvc := targetPrefixes[target[:dot]]
		if svc == "" {
			svc = tsvc
		}
		if tsvc == "" || tsvc != svc {
			c.service = svc
			return errf(400, "UnknownOperationException", "X-Amz-Target %q is not an operation of %s", target, svc)
		}
	case svc == "s3" || (svc == "" && r.Method != http.MethodPost) || (svc == "" && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")):
		svc = "s3"
		c.proto = protoS3
		c.service = svc
		return s.routeS3(c)
	default:
		form, err := url.ParseQuery(string(c.body))
		if err != nil {
			c.service = svc
			c.proto = protoQuery
			return errf(400, "MalformedQueryString", "cannot parse form body: %v", err)
		}
		c.form = form
		c.op = form.Get("Action")
		if svc == "" {
			svc = queryVersions[form.Get("Version")]
		}
		c.proto = protoQuery
		if svc == "ec2" {
			c.proto = protoEC2
		}
		if c.op == "" {
			c.service = svc
			return errf(400, "MissingAction", "the request must contain the parameter Action")
		}
	}
	c.service = svc
	if svc == "" {
		return errf(400, "UnrecognizedClientException", "cannot tell which service this request is for")
	}
	return nil
}

func unknownOperation(c *call) *apiError {
	switch c.proto {
	case protoQuery, protoEC2:
		return errf(400, "InvalidAction", "The action %s is not valid for this web service (localaws emulates a subset).", c.op)
	case protoS3:
		return errf(501, "NotImplemented", "localaws does not implement this S3 request (%s %s)", c.r.Method, c.r.URL.Path)
	default:
		return errf(400, "UnknownOperationException", "localaws does not emulate %s:%s", c.service, c.op)
	}
}

func (c *call) decodeInput() *apiError {
	switch c.proto {
	case protoJSON:
		c.json = map[string]any{}
		if len(bytes.TrimSpace(c.body)) == 0 {
			return nil
		}
		d := json.NewDecoder(bytes.NewReader(c.body))
		d.UseNumber()
		if err := d.Decode(&c.json); err != nil {
			return errf(400, "SerializationException", "cannot decode JSON body: %v", err)
		}
	case protoCBOR:
		c.json = map[string]any{}
		if len(c.body) == 0 {
			return nil
		}
		v, err := cbor.Decode(c.body)
		if err != nil {
			return errf(400, "SerializationException", "cannot decode CBOR body: %v", err)
		}
		m, ok := fromCBOR(v).(map[string]any)
		if !ok {
			return errf(400, "SerializationException", "CBOR body is not a map")
		}
		c.json = m
	}
	return nil
}

// keyParams records the top-level scalar parameters for the journal.
func keyParams(c *call) {
	const maxLen = 256
	trunc := func(v string) string {
		if len(v) > maxLen {
			return v[:maxLen]
		}
		return v
	}
	switch c.proto {
	case protoJSON, protoCBOR:
		for k, v := range c.json {
			switch x := v.(type) {
			case string:
				c.param(k, trunc(x))
			case json.Number:
				c.param(k, x.String())
			case bool:
				c.param(k, strconv.FormatBool(x))
			case []any:
				if len(x) > 0 {
					if s, ok := x[0].(string); ok && len(x) == 1 {
						c.param(k, trunc(s))
					}
				}
			}
		}
	case protoQuery, protoEC2:
		for k, v := range c.form {
			if k == "Action" || k == "Version" || len(v) == 0 {
				continue
			}
			c.param(k, trunc(v[0]))
		}
	}
}

// ---- responses ----

type response struct {
	status  int
	header  http.Header
	body    []byte
	errCode string
}

func (r *response) write(w http.ResponseWriter, c *call) {
	h := w.Header()
	for k, v := range r.header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(len(r.body)))
	w.WriteHeader(r.status)
	if c.r.Method != http.MethodHead {
		_, _ = w.Write(r.body)
	}
}

// xmlNS per query service.
var xmlNS = map[string]string{
	"iam": "https://iam.amazonaws.com/doc/2010-05-08/",
	"sts": "https://sts.amazonaws.com/doc/2011-06-15/",
	"sns": "http://sns.amazonaws.com/doc/2010-03-31/",
	"ec2": "http://ec2.amazonaws.com/doc/2016-11-15/",
}

func successResponse(c *call, out any) *response {
	if r, ok := out.(*response); ok {
		if r.status == 0 {
			r.status = 200
		}
		if r.header == nil {
			r.header = http.Header{}
		}
		r.header.Set("x-amz-request-id", c.reqID)
		return r
	}
	h := http.Header{}
	resp := &response{status: 200, header: h}
	switch c.proto {
	case protoJSON:
		h.Set("Content-Type", "application/x-amz-json-1.1")
		h.Set("X-Amzn-Requestid", c.reqID)
		if out == nil {
			out = map[string]any{}
		}
		resp.body = encodeJSON(out)
	case protoCBOR:
		h.Set("Content-Type", "application/cbor")
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("X-Amzn-Requestid", c.reqID)
		if out == nil {
			out = map[string]any{}
		}
		resp.body = cbor.Encode(toCBOR(out))
	case protoQuery:
		h.Set("Content-Type", "text/xml")
		h.Set("X-Amzn-Requestid", c.reqID)
		var b bytes.Buffer
		fmt.Fprintf(&b, `<%sResponse xmlns="%s"><%sResult>`, c.op, xmlNS[c.service], c.op)
		writeXML(&b, out, "member")
		fmt.Fprintf(&b, `</%sResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, c.op, c.reqID, c.op)
		resp.body = b.Bytes()
	case protoEC2:
		h.Set("Content-Type", "text/xml;charset=UTF-8")
		var b bytes.Buffer
		fmt.Fprintf(&b, `<%sResponse xmlns="%s"><requestId>%s</requestId>`, c.op, xmlNS["ec2"], c.reqID)
		writeXML(&b, out, "item")
		fmt.Fprintf(&b, `</%sResponse>`, c.op)
		resp.body = b.Bytes()
	case protoS3:
		h.Set("x-amz-request-id", c.reqID)
	}
	return resp
}

func errorResponse(c *call, e *apiError) *response {
	if e.Status == 0 {
		e.Status = statusForCode(e.Code)
	}
	fault := e.Fault
	if fault == "" {
		fault = "Sender"
		if e.Status >= 500 {
			fault = "Receiver"
		}
	}
	h := http.Header{}
	resp := &response{status: e.Status, header: h, errCode: e.Code}
	var b bytes.Buffer
	switch c.proto {
	case protoCBOR:
		h.Set("Content-Type", "application/cbor")
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("X-Amzn-Requestid", c.reqID)
		h.Set("X-Amzn-Query-Error", e.Code+";"+fault)
		typ := e.Code
		if typ == "Throttling" {
			typ = "ThrottlingException"
		}
		resp.body = cbor.Encode(cbor.Map{"__type": cbor.String(typ), "message": cbor.String(e.Message)})
	case protoQuery:
		h.Set("Content-Type", "text/xml")
		h.Set("X-Amzn-Requestid", c.reqID)
		b.WriteString(`<ErrorResponse xmlns="` + xmlNS[c.service] + `"><Error><Type>` + fault + `</Type><Code>`)
		xmlEscape(&b, e.Code)
		b.WriteString(`</Code><Message>`)
		xmlEscape(&b, e.Message)
		b.WriteString(`</Message></Error><RequestId>` + c.reqID + `</RequestId></ErrorResponse>`)
		resp.body = b.Bytes()
	case protoEC2:
		h.Set("Content-Type", "text/xml;charset=UTF-8")
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response><Errors><Error><Code>`)
		xmlEscape(&b, e.Code)
		b.WriteString(`</Code><Message>`)
		xmlEscape(&b, e.Message)
		b.WriteString(`</Message></Error></Errors><RequestID>` + c.reqID + `</RequestID></Response>`)
		resp.body = b.Bytes()
	case protoS3:
		h.Set("Content-Type", "application/xml")
		h.Set("x-amz-request-id", c.reqID)
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Error><Code>`)
		xmlEscape(&b, e.Code)
		b.WriteString(`</Code><Message>`)
		xmlEscape(&b, e.Message)
		b.WriteString(`</Message><RequestId>` + c.reqID + `</RequestId></Error>`)
		resp.body = b.Bytes()
	default: // JSON, and requests we could not route
		h.Set("Content-Type", "application/x-amz-json-1.1")
		h.Set("X-Amzn-Requestid", c.reqID)
		h.Set("X-Amzn-Errortype", e.Code)
		resp.body = encodeJSON(map[string]any{"__type": e.Code, "message": e.Message})
	}
	return resp
}

// ---- value trees ----
//
// Handlers build outputs as trees of map[string]any, []any, string, bool,
// integers, float64, time.Time, []byte and json.Number. Nil values and nil
// pointers are omitted.

func encodeJSON(v any) []byte {
	b, err := json.Marshal(jsonTree(v))
	if err != nil {
		b, _ = json.Marshal(map[string]any{"__type": "InternalFailure", "message": err.Error()})
	}
	return b
}

// jsonTree converts times to epoch seconds (the awsJson timestamp format).
func jsonTree(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			if e == nil || isNilPtr(e) {
				continue
			}
			m[k] = jsonTree(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = jsonTree(e)
		}
		return l
	case time.Time:
		return json.Number(strconv.FormatFloat(float64(x.UnixMilli())/1000, 'f', -1, 64))
	case *time.Time:
		return jsonTree(*x)
	}
	return v
}

func isNilPtr(v any) bool {
	switch x := v.(type) {
	case *string:
		return x == nil
	case *int64:
		return x == nil
	case *time.Time:
		return x == nil
	case *bool:
		return x == nil
	}
	return false
}

func xmlEscape(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteRune(r)
		}
	}
}

// xmlList is a list rendered with a specific item element name.
type xmlList struct {
	item  string
	items []any
}

// writeXML renders a tree: map keys become elements (sorted), lists become
// <member>/<item> children.
func writeXML(b *bytes.Buffer, v any, item string) {
	switch x := v.(type) {
	case nil:
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k, e := range x {
			if e == nil || isNilPtr(e) {
				continue
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString("<" + k + ">")
			writeXML(b, x[k], item)
			b.WriteString("</" + k + ">")
		}
	case []any:
		for _, e := range x {
			b.WriteString("<" + item + ">")
			writeXML(b, e, item)
			b.WriteString("</" + item + ">")
		}
	case []string:
		for _, e := range x {
			b.WriteString("<" + item + ">")
			xmlEscape(b, e)
			b.WriteString("</" + item + ">")
		}
	case xmlList:
		for _, e := range x.items {
			b.WriteString("<" + x.item + ">")
			writeXML(b, e, item)
			b.WriteString("</" + x.item + ">")
		}
	case string:
		xmlEscape(b, x)
	case *string:
		xmlEscape(b, *x)
	case time.Time:
		b.WriteString(x.UTC().Format("2006-01-02T15:04:05.000Z"))
	case *time.Time:
		b.WriteString(x.UTC().Format("2006-01-02T15:04:05.000Z"))
	case []byte:
		b.WriteString(base64.StdEncoding.EncodeToString(x))
	default:
		xmlEscape(b, fmt.Sprint(x))
	}
}

func toCBOR(v any) cbor.Value {
	switch x := v.(type) {
	case map[string]any:
		m := cbor.Map{}
		for k, e := range x {
			if e == nil || isNilPtr(e) {
				continue
			}
			m[k] = toCBOR(e)
		}
		return m
	case []any:
		l := make(cbor.List, len(x))
		for i, e := range x {
			l[i] = toCBOR(e)
		}
		return l
	case []string:
		l := make(cbor.List, len(x))
		for i, e := range x {
			l[i] = cbor.String(e)
		}
		return l
	case string:
		return cbor.String(x)
	case *string:
		return cbor.String(*x)
	case bool:
		return cbor.Bool(x)
	case int:
		return cborInt(int64(x))
	case int32:
		return cborInt(int64(x))
	case int64:
		return cborInt(x)
	case float64:
		return cbor.Float64(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return cborInt(i)
		}
		f, _ := x.Float64()
		return cbor.Float64(f)
	case time.Time:
		return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(x.UnixMilli()) / 1000)}
	case []byte:
		return cbor.Slice(x)
	}
	return cbor.String(fmt.Sprint(v))
}

func cborInt(i int64) cbor.Value {
	if i < 0 {
		return cbor.NegInt(uint64(-i))
	}
	return cbor.Uint(uint64(i))
}

// fromCBOR converts a decoded CBOR value into the same tree JSON decoding
// gives (numbers as json.Number, timestamps as time.Time).
func fromCBOR(v cbor.Value) any {
	switch x := v.(type) {
	case cbor.Map:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = fromCBOR(e)
		}
		return m
	case cbor.List:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = fromCBOR(e)
		}
		return l
	case cbor.String:
		return string(x)
	case cbor.Bool:
		return bool(x)
	case cbor.Uint:
		return json.Number(strconv.FormatUint(uint64(x), 10))
	case cbor.NegInt:
		return json.Number("-" + strconv.FormatUint(uint64(x), 10))
	case cbor.Float32:
		return json.Number(strconv.FormatFloat(float64(x), 'g', -1, 32))
	case cbor.Float64:
		return json.Number(strconv.FormatFloat(float64(x), 'g', -1, 64))
	case cbor.Slice:
		return []byte(x)
	case *cbor.Tag:
		if x.ID == 1 {
			if t, err := cbor.AsTime(x); err == nil {
				return t
			}
		}
		return fromCBOR(x.Value)
	case *cbor.Nil, *cbor.Undefined:
		return nil
	}
	return nil
}

// ---- input accessors (JSON/CBOR trees) ----

func gs(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func has(m map[string]any, k string) bool {
	v, ok := m[k]
	return ok && v != nil
}

func gi(m map[string]any, k string) (int64, bool) {
	switch x := m[k].(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		if f, err := x.Float64(); err == nil && f == math.Trunc(f) {
			return int64(f), true
		}
	case float64:
		return int64(x), true
	}
	return 0, false
}

func gb(m map[string]any, k string) (bool, bool) {
	b, ok := m[k].(bool)
	return b, ok
}

func gm(m map[string]any, k string) map[string]any {
	x, _ := m[k].(map[string]any)
	return x
}

func gl(m map[string]any, k string) []any {
	x, _ := m[k].([]any)
	return x
}

func gsl(m map[string]any, k string) []string {
	var out []string
	for _, v := range gl(m, k) {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// gt reads a timestamp: epoch seconds (JSON), a CBOR tag-1 time, or a string.
func gt(m map[string]any, k string) (time.Time, bool) {
	switch x := m[k].(type) {
	case time.Time:
		return x, true
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return time.Time{}, false
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), true
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		return t, err == nil
	}
	return time.Time{}, false
}

func missing(code, member string) *apiError {
	return errf(400, code, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// ---- query form accessors ----

func (c *call) fv(k string) string { return c.formValue(k) }

func (c *call) formValue(k string) string {
	if v, ok := c.form[k]; ok && len(v) > 0 {
		return v[0]
	}
	return ""
}

// formList reads prefix.member.1, prefix.member.2... (awsQuery) or
// prefix.1, prefix.2... (ec2Query, member = "").
func (c *call) formList(prefix, member string) []string {
	var out []string
	for i := 1; ; i++ {
		k := prefix + "." + strconv.Itoa(i)
		if member != "" {
			k = prefix + "." + member + "." + strconv.Itoa(i)
		}
		v, ok := c.form[k]
		if !ok || len(v) == 0 {
			return out
		}
		out = append(out, v[0])
	}
}

// formStructs returns, for prefix.N (or prefix.member.N), the sub-keys of each
// element as a map (e.g. Tags.member.1.Key -> {"Key": ...}).
func (c *call) formStructs(prefix, member string) []map[string]string {
	var out []map[string]string
	for i := 1; ; i++ {
		p := prefix + "." + strconv.Itoa(i) + "."
		if member != "" {
			p = prefix + "." + member + "." + strconv.Itoa(i) + "."
		}
		m := map[string]string{}
		for k, v := range c.form {
			if strings.HasPrefix(k, p) && len(v) > 0 {
				m[k[len(p):]] = v[0]
			}
		}
		if len(m) == 0 {
			return out
		}
		out = append(out, m)
	}
}

func jsonNumber(s string) json.Number { return json.Number(s) }

type jsonNumberType = json.Number
