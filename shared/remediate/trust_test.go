package remediate_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/kdaguard/kdaguard/shared/remediate"
)

func TestAddConfusedDeputyConditions(t *testing.T) {
	const arn = "arn:aws:kinesisanalytics:us-east-1:123456789012:application/orders"
	cases := []struct {
		name, doc string
		changed   bool
		keep      []string // byte-for-byte substrings that must survive
	}{
		{"list with another statement", trustPolicy, true, []string{otherStatement, `{"Version":"2012-10-17","Statement":[` + "\n    "}},
		{"single statement object", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole"}}`, true, []string{`{"Version":"2012-10-17","Statement":`}},
		{"existing condition kept", `{"Statement":[{"Effect":"Allow","Principal":{"Service":["kinesisanalytics.amazonaws.com"]},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"Bool":{"aws:SecureTransport":"true"}}}],"Id":"x"}`, true, []string{`"Id":"x"}`}},
		{"already guarded", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}`, false, nil},
		{"no kinesisanalytics statement", `{"Statement":[` + otherStatement + `]}`, false, []string{otherStatement}},
	}
	for _, c := range cases {
		for _, enc := range []bool{false, true} {
			doc := c.doc
			if enc {
				doc = strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
			}
			out, changed, err := remediate.AddConfusedDeputyConditions(doc, "123456789012", arn)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if changed != c.changed {
				t.Errorf("%s: changed %v", c.name, changed)
			}
			if !json.Valid([]byte(out)) {
				t.Fatalf("%s: invalid JSON %s", c.name, out)
			}
			for _, k := range c.keep {
				if !strings.Contains(out, k) {
					t.Errorf("%s: %q not kept in %s", c.name, k, out)
				}
			}
			if !c.changed {
				if d, _ := url.QueryUnescape(doc); out != d && out != doc {
					t.Errorf("%s: unchanged document rewritten: %s", c.name, out)
				}
				continue
			}
			var pd struct {
				Statement json.RawMessage
			}
			_ = json.Unmarshal([]byte(out), &pd)
			if !strings.Contains(string(pd.Statement), `"StringEquals":{"aws:SourceAccount":"123456789012"}`) || !strings.Contains(string(pd.Statement), `"ArnLike":{"aws:SourceArn":"`+arn+`"}`) {
				t.Errorf("%s: conditions missing: %s", c.name, out)
			}
			if c.name == "existing condition kept" && !strings.Contains(out, `"Bool":{"aws:SecureTransport":"true"}`) {
				t.Errorf("existing condition lost: %s", out)
			}
		}
	}
	if _, _, err := remediate.AddConfusedDeputyConditions(`[1]`, "1", arn); err == nil {
		t.Error("a non-object policy was accepted")
	}
	if _, _, err := remediate.AddConfusedDeputyConditions(`{"Version":"2012-10-17"}`, "1", arn); err == nil {
		t.Error("a policy without Statement was accepted")
	}
}
