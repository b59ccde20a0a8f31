package model_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
)

// trustJSON is a trust policy as the console writes it.
const trustJSON = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "",
      "Effect": "Allow",
      "Principal": {
        "Service": "kinesisanalytics.amazonaws.com"
      },
      "Action": "sts:AssumeRole",
      "Condition": {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": ["arn:aws:kinesisanalytics:eu-west-1:123456789012:application/orders-enricher", "arn:aws:kinesisanalytics:eu-west-1:123456789012:application/orders-replay"]}
      }
    }
  ]
}`

// trustEncoded is the same document as iam:GetRole returns it (RFC 3986 encoding,
// newlines and spaces included).
var trustEncoded = strings.ReplaceAll(url.QueryEscape(trustJSON), "+", "%20")

func mustParse(t *testing.T, doc string) model.PolicyDocument {
	t.Helper()
	p, err := model.ParsePolicy(doc)
	if err != nil {
		t.Fatalf("ParsePolicy: %v\n%s", err, doc)
	}
	return p
}

func TestParsePolicyPlainAndEncoded(t *testing.T) {
	if !strings.HasPrefix(trustEncoded, "%7B%0A%20%20%22Version%22") {
		t.Fatalf("fixture not encoded as IAM does: %s", trustEncoded[:40])
	}
	for name, doc := range map[string]string{
		"plain":               trustJSON,
		"url-encoded":         trustEncoded,
		"url-encoded, lower":  strings.ToLower(trustEncoded[:3]) + trustEncoded[3:],
		"surrounding space":   "\n  " + trustEncoded + "\n",
		"compact, no newline": `{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"},"ArnLike":{"aws:SourceArn":["arn:aws:kinesisanalytics:eu-west-1:123456789012:application/orders-enricher","arn:aws:kinesisanalytics:eu-west-1:123456789012:application/orders-replay"]}}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			p := mustParse(t, doc)
			if p.Version != "2012-10-17" || len(p.Statement) != 1 {
				t.Fatalf("parsed %+v", p)
			}
			st := p.Statement[0]
			if st.Effect != "Allow" || !slices.Equal(st.Action, model.Strings{"sts:AssumeRole"}) {
				t.Errorf("statement %+v", st)
			}
			if st.Principal == nil || st.Principal.Any || !slices.Equal(st.Principal.Service, model.Strings{"kinesisanalytics.amazonaws.com"}) {
				t.Errorf("principal %+v", st.Principal)
			}
			if got := st.Condition["StringEquals"]["aws:SourceAccount"]; !slices.Equal(got, model.Strings{"123456789012"}) {
				t.Errorf("SourceAccount %v", got)
			}
			if got := st.Condition["ArnLike"]["aws:SourceArn"]; len(got) != 2 || !strings.HasSuffix(got[1], "application/orders-replay") {
				t.Errorf("SourceArn %v", got)
			}
		})
	}
}

// A URL-encoded value keeps characters that only look like encoding once decoded.
func TestParsePolicyEncodedSpecialCharacters(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"Read code","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::orders-code/jars/app 1.0 (final)%.jar"}]}`
	enc := strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
	p := mustParse(t, enc)
	if got := p.Statement[0].Resource[0]; got != "arn:aws:s3:::orders-code/jars/app 1.0 (final)%.jar" {
		t.Errorf("resource = %q", got)
	}
	if p.Statement[0].Sid != "Read code" {
		t.Errorf("sid = %q", p.Statement[0].Sid)
	}
}

func TestParsePolicySingleStatement(t *testing.T) {
	for name, doc := range map[string]string{
		"object":          `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["kinesis:GetRecords","kinesis:GetShardIterator"],"Resource":"arn:aws:kinesis:eu-west-1:123456789012:stream/orders"}}`,
		"object, encoded": url.QueryEscape(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["kinesis:GetRecords","kinesis:GetShardIterator"],"Resource":"arn:aws:kinesis:eu-west-1:123456789012:stream/orders"}}`),
	} {
		t.Run(name, func(t *testing.T) {
			p := mustParse(t, doc)
			if len(p.Statement) != 1 || p.Version != "2012-10-17" {
				t.Fatalf("parsed %+v", p)
			}
			st := p.Statement[0]
			if len(st.Action) != 2 || !slices.Equal(st.Resource, model.Strings{"arn:aws:kinesis:eu-west-1:123456789012:stream/orders"}) {
				t.Errorf("statement %+v", st)
			}
		})
	}
}

func TestParsePolicyErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"not JSON":              "Version: 2012-10-17",
		"empty":                 "",
		"truncated":             `{"Version":"2012-10-17","Statement":[{"Effect":"Allow"`,
		"bad encoding":          "%7B%22Version%ZZ",
		"statement is a string": `{"Version":"2012-10-17","Statement":"Allow"}`,
		"single without effect": `{"Version":"2012-10-17","Statement":{"Action":"s3:*"}}`,
		"bad principal":         `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":["*"],"Action":"sts:AssumeRole"}]}`,
	} {
		if _, err := model.ParsePolicy(doc); err == nil {
			t.Errorf("%s: accepted %q", name, doc)
		}
	}
	if _, err := model.ParsePolicy("%7B%22Version%ZZ"); err == nil || !strings.Contains(err.Error(), "url-decode") {
		t.Errorf("bad encoding error = %v", err)
	}
}

func TestStringsStringOrList(t *testing.T) {
	cases := map[string]model.Strings{
		`"s3:GetObject"`:                     {"s3:GetObject"},
		`["s3:GetObject","s3:PutObject"]`:    {"s3:GetObject", "s3:PutObject"},
		`[]`:                                 {},
		`"*"`:                                {"*"},
		`true`:                               {"true"},
		`3600`:                               {"3600"},
		`"arn:aws:iam::123456789012:root"`:   {"arn:aws:iam::123456789012:root"},
		`["arn:aws:iam::123456789012:root"]`: {"arn:aws:iam::123456789012:root"},
	}
	for in, want := range cases {
		var s model.Strings
		if err := json.Unmarshal([]byte(in), &s); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !slices.Equal(s, want) {
			t.Errorf("%s = %q, want %q", in, s, want)
		}
	}
	var s model.Strings
	if err := json.Unmarshal([]byte(`[1,`), &s); err == nil {
		t.Error("broken list accepted")
	}
}

// Scalar booleans and numbers in conditions, as IAM accepts them.
func TestParsePolicyScalarConditionValues(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false},"NumericGreaterThan":{"s3:TlsVersion":1.2}}}]}`)
	c := p.Statement[0].Condition
	if !slices.Equal(c["Bool"]["aws:SecureTransport"], model.Strings{"false"}) || !slices.Equal(c["NumericGreaterThan"]["s3:TlsVersion"], model.Strings{"1.2"}) {
		t.Errorf("conditions = %v", c)
	}
}

func TestPrincipals(t *testing.T) {
	cases := []struct {
		json                     string
		any                      bool
		aws, service, fed, other []string
	}{
		{`"*"`, true, nil, nil, nil, nil},
		{`{"AWS":"*"}`, true, strs("*"), nil, nil, nil},
		{`{"AWS":["arn:aws:iam::210987654321:root","*"]}`, true, strs("arn:aws:iam::210987654321:root", "*"), nil, nil, nil},
		{`{"AWS":"123456789012"}`, false, strs("123456789012"), nil, nil, nil},
		{`{"Service":["kinesisanalytics.amazonaws.com","infrastructure.kinesisanalytics.amazonaws.com"]}`, false, nil,
			strs("kinesisanalytics.amazonaws.com", "infrastructure.kinesisanalytics.amazonaws.com"), nil, nil},
		{`{"Federated":"cognito-identity.amazonaws.com"}`, false, nil, nil, strs("cognito-identity.amazonaws.com"), nil},
		{`{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`, false, nil, nil, nil,
			strs("79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be")},
		{`{"Service":"ec2.amazonaws.com","AWS":"arn:aws:iam::123456789012:role/deployer"}`, false, strs("arn:aws:iam::123456789012:role/deployer"),
			strs("ec2.amazonaws.com"), nil, nil},
	}
	for _, tc := range cases {
		var p model.Principal
		if err := json.Unmarshal([]byte(tc.json), &p); err != nil {
			t.Errorf("%s: %v", tc.json, err)
			continue
		}
		if p.Any != tc.any || !slices.Equal(p.AWS, tc.aws) || !slices.Equal(p.Service, tc.service) ||
			!slices.Equal(p.Fed, tc.fed) || !slices.Equal(p.Other, tc.other) {
			t.Errorf("%s = %+v", tc.json, p)
		}
		// Round trip through MarshalJSON keeps the meaning.
		b, err := json.Marshal(p)
		if err != nil {
			t.Errorf("%s: marshal: %v", tc.json, err)
			continue
		}
		var back model.Principal
		if err := json.Unmarshal(b, &back); err != nil || back.Any != p.Any || !slices.Equal(back.AWS, p.AWS) ||
			!slices.Equal(back.Service, p.Service) || !slices.Equal(back.Fed, p.Fed) || !slices.Equal(back.Other, p.Other) {
			t.Errorf("%s: round trip %s = %+v, %v", tc.json, b, back, err)
		}
	}
	var p model.Principal
	if err := json.Unmarshal([]byte(`42`), &p); err == nil {
		t.Error("numeric principal accepted")
	}
	if b, _ := json.Marshal(model.Principal{Any: true}); string(b) != `"*"` {
		t.Errorf("marshal Any = %s", b)
	}
}

// A policy marshals back into IAM's shape and parses to the same thing.
func TestPolicyRoundTrip(t *testing.T) {
	p := mustParse(t, trustJSON)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q := mustParse(t, string(b))
	if !strings.Contains(string(b), `"Principal":{"Service":["kinesisanalytics.amazonaws.com"]}`) {
		t.Errorf("marshalled %s", b)
	}
	if len(q.Statement) != 1 || !slices.Equal(q.Statement[0].Principal.Service, p.Statement[0].Principal.Service) {
		t.Errorf("round trip %+v", q)
	}
}

func TestStatementAllows(t *testing.T) {
	st := func(doc string) model.Statement { return mustParse(t, `{"Statement":[`+doc+`]}`).Statement[0] }
	cases := []struct {
		stmt   model.Statement
		action string
		want   bool
	}{
		{st(`{"Effect":"Allow","Action":"kinesis:GetRecords","Resource":"*"}`), "kinesis:GetRecords", true},
		{st(`{"Effect":"Allow","Action":"kinesis:GetRecords","Resource":"*"}`), "KINESIS:getrecords", true},
		{st(`{"Effect":"Allow","Action":"kinesis:Get*","Resource":"*"}`), "kinesis:GetShardIterator", true},
		{st(`{"Effect":"Allow","Action":"kinesis:Get*","Resource":"*"}`), "kinesis:PutRecord", false},
		{st(`{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}`), "kinesis:PutRecords", true},
		{st(`{"Effect":"Allow","Action":"*","Resource":"*"}`), "kms:Decrypt", true},
		{st(`{"Effect":"Allow","Action":["s3:GetObject","kms:Decrypt"],"Resource":"*"}`), "kms:Decrypt", true},
		{st(`{"Effect":"Allow","Action":"kms:GenerateDataKey*","Resource":"*"}`), "kms:GenerateDataKey", true},
		{st(`{"Effect":"Allow","Action":"kms:GenerateDataKey*","Resource":"*"}`), "kms:GenerateDataKeyWithoutPlaintext", true},
		{st(`{"Effect":"Deny","Action":"*","Resource":"*"}`), "kinesis:GetRecords", false},
		{st(`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`), "kinesis:GetRecords", true},
		{st(`{"Effect":"Allow","NotAction":["iam:*","kinesis:Get*"],"Resource":"*"}`), "kinesis:GetRecords", false},
		{st(`{"Effect":"Allow","Resource":"*"}`), "kinesis:GetRecords", false},
	}
	for i, tc := range cases {
		if got := tc.stmt.Allows(tc.action); got != tc.want {
			t.Errorf("%d: %v.Allows(%s) = %v", i, tc.stmt.Action, tc.action, got)
		}
	}
}

func TestWildcardMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "kinesis:GetRecords", true},
		{"", "", true},
		{"", "x", false},
		{"x", "", false},
		{"kinesis:GetRecords", "kinesis:GetRecords", true},
		{"kinesis:getrecords", "Kinesis:GetRecords", true},
		{"kinesis:Get*", "kinesis:Get", true},
		{"kinesis:Get*", "kinesis:Ge", false},
		{"kinesis:*Records", "kinesis:PutRecords", true},
		{"kinesis:*Records", "kinesis:PutRecord", false},
		{"kinesis:*Record*", "kinesis:PutRecord", true},
		{"s3:?etObject", "s3:GetObject", true},
		{"s3:?etObject", "s3:etObject", false},
		{"s3:Get?", "s3:Get", false},
		{"*:*", "kms:Decrypt", true},
		{"*:*", "kmsDecrypt", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", true},
		{"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"arn:aws:kinesis:*:123456789012:stream/orders-*", "arn:aws:kinesis:eu-west-1:123456789012:stream/orders-enriched", true},
		{"arn:aws:kinesis:*:123456789012:stream/orders-*", "arn:aws:kinesis:eu-west-1:210987654321:stream/orders-enriched", false},
		{"**", "anything", true},
		{"*?", "", false},
		{"*?", "x", true},
	}
	for _, tc := range cases {
		if got := model.WildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("WildcardMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
}

func strs(s ...string) []string { return s }
