package trigger

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const selfRole = "arn:aws:iam::123456789012:role/kdaguard/kdaguard-remediator-role"

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every mutating event name has a sample, and each decodes to the application.
func TestSampleEventsOnePerMutatingName(t *testing.T) {
	for _, name := range MutatingEvents {
		t.Run(name, func(t *testing.T) {
			raw := read(t, filepath.Join("..", "..", "events", "cloudtrail", name+".json"))
			for _, self := range []Self{SelfFromRoleARN(selfRole), SelfFromCallerARN("arn:aws:sts::123456789012:assumed-role/kdaguard-remediator-role/kdaguard-remediator"), {}} {
				got, err := Decode(raw, self)
				if err != nil {
					t.Fatal(err)
				}
				want := Target{Kind: KindApplication, Application: "orders-enrichment", Account: "123456789012", Region: "us-east-1", Cause: "cloudtrail:" + name}
				if got.Kind != want.Kind || got.Application != want.Application || got.Account != want.Account || got.Region != want.Region || got.Cause != want.Cause || got.EventID == "" {
					t.Fatalf("got %+v, want %+v", got, want)
				}
			}
		})
	}
}

func TestIgnoredOnPurpose(t *testing.T) {
	dir := filepath.Join("..", "..", "events", "cloudtrail")
	cases := []struct {
		file string
		self Self
		why  string
	}{
		{"failed-call.json", SelfFromRoleARN(selfRole), "failed call"},
		{"own-call.json", SelfFromRoleARN(selfRole), "own call"},
		// Learned from STS: an assumed-role ARN without the role's path.
		{"own-call.json", SelfFromCallerARN("arn:aws:sts::123456789012:assumed-role/kdaguard-remediator-role/kdaguard-remediator"), "own call"},
		{"v1-api-call.json", SelfFromRoleARN(selfRole), "API version"},
	}
	for _, c := range cases {
		got, err := Decode(read(t, filepath.Join(dir, c.file)), c.self)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if got.Kind != KindIgnore || !strings.Contains(got.Reason, c.why) {
			t.Errorf("%s: got %+v, want ignored for %q", c.file, got, c.why)
		}
	}
	// Another principal with the same session name or in another account is not us.
	raw := read(t, filepath.Join(dir, "own-call.json"))
	got, err := Decode(raw, SelfFromCallerARN("arn:aws:sts::210987654321:assumed-role/kdaguard-remediator-role/x"))
	if err != nil || got.Kind != KindApplication {
		t.Errorf("other account's role with the same name: got %+v, %v", got, err)
	}
	// An IAM user has no sessionContext: not us, converge.
	got, err = Decode(read(t, filepath.Join(dir, "iam-user-call.json")), SelfFromRoleARN(selfRole))
	if err != nil || got.Kind != KindApplication || got.Application != "orders-enrichment" {
		t.Errorf("IAM user call: got %+v, %v", got, err)
	}
	// Unless the remediator runs as that user (the CLI).
	got, _ = Decode(read(t, filepath.Join(dir, "iam-user-call.json")), SelfFromCallerARN("arn:aws:iam::123456789012:user/ci-deployer"))
	if got.Kind != KindIgnore {
		t.Errorf("own IAM user call: got %+v", got)
	}
}

func TestSelfFromARNs(t *testing.T) {
	s := SelfFromRoleARN(selfRole)
	if s.RoleName != "kdaguard-remediator-role" || s.Account != "123456789012" {
		t.Errorf("SelfFromRoleARN: %+v", s)
	}
	s = SelfFromCallerARN("arn:aws:sts::123456789012:assumed-role/kdaguard-remediator-role/kdaguard-remediator")
	if s.RoleName != "kdaguard-remediator-role" || s.Account != "123456789012" || s.RoleARN != "" {
		t.Errorf("SelfFromCallerARN: %+v", s)
	}
}

func mutate(t *testing.T, raw []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, _ := json.Marshal(m)
	return b
}

func TestCreateApplicationFromResponse(t *testing.T) {
	raw := read(t, filepath.Join("..", "..", "events", "cloudtrail", "CreateApplication.json"))
	raw = mutate(t, raw, func(m map[string]any) {
		d := m["detail"].(map[string]any)
		delete(d["requestParameters"].(map[string]any), "applicationName")
		ad := d["responseElements"].(map[string]any)["applicationDetail"].(map[string]any)
		delete(ad, "applicationName")
	})
	got, err := Decode(raw, Self{})
	if err != nil || got.Application != "orders-enrichment" {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestCompliance(t *testing.T) {
	raw := read(t, filepath.Join("..", "..", "events", "compliance", "non-compliant.json"))
	got, err := Decode(raw, SelfFromRoleARN(selfRole))
	if err != nil || got.Kind != KindApplication || got.Application != "orders-enrichment" || got.Cause != "config:kdaguard-KDA-RES-1" {
		t.Fatalf("got %+v, %v", got, err)
	}
	for _, c := range []struct {
		name string
		f    func(d map[string]any)
		kind Kind
	}{
		{"compliant", func(d map[string]any) { d["newEvaluationResult"].(map[string]any)["complianceType"] = "COMPLIANT" }, KindIgnore},
		{"not applicable", func(d map[string]any) { d["newEvaluationResult"].(map[string]any)["complianceType"] = "NOT_APPLICABLE" }, KindIgnore},
		{"account", func(d map[string]any) { d["resourceType"] = "AWS::::Account"; d["resourceId"] = "123456789012" }, KindIgnore},
		{"other rule", func(d map[string]any) { d["configRuleName"] = "s3-bucket-versioning-enabled" }, KindIgnore},
		{"insufficient data", func(d map[string]any) {
			d["newEvaluationResult"].(map[string]any)["complianceType"] = "INSUFFICIENT_DATA"
		}, KindApplication},
	} {
		got, err := Decode(mutate(t, raw, func(m map[string]any) { c.f(m["detail"].(map[string]any)) }), Self{})
		if err != nil || got.Kind != c.kind {
			t.Errorf("%s: got %+v, %v; want %s", c.name, got, err, c.kind)
		}
	}
}

func TestScheduled(t *testing.T) {
	raw := []byte(`{"version":"0","id":"89d1a02d-5ec7-412e-82f5-13505f849b41","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-03-02T10:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/kdaguard-sweep"],"detail":{}}`)
	got, err := Decode(raw, Self{})
	if err != nil || got.Kind != KindSweep || got.Region != "us-east-1" {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestUndecodable(t *testing.T) {
	base := read(t, filepath.Join("..", "..", "events", "cloudtrail", "UpdateApplication.json"))
	cases := map[string][]byte{
		"not json":     []byte(`{"detail-type":`),
		"empty object": []byte(`{}`),
		"array":        []byte(`[1,2]`),
		"other type":   []byte(`{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{}}`),
		"no detail":    mutate(t, base, func(m map[string]any) { delete(m, "detail") }),
		"other source": mutate(t, base, func(m map[string]any) { m["detail"].(map[string]any)["eventSource"] = "s3.amazonaws.com" }),
		"no app name":  mutate(t, base, func(m map[string]any) { m["detail"].(map[string]any)["requestParameters"] = map[string]any{} }),
		"bad arn": mutate(t, read(t, filepath.Join("..", "..", "events", "cloudtrail", "TagResource.json")), func(m map[string]any) {
			m["detail"].(map[string]any)["requestParameters"].(map[string]any)["resourceARN"] = "arn:aws:s3:::bucket"
		}),
		"detail string": mutate(t, base, func(m map[string]any) { m["detail"] = "x" }),
	}
	for name, raw := range cases {
		if got, err := Decode(raw, Self{}); !errors.Is(err, ErrUndecodable) {
			t.Errorf("%s: got %+v, %v; want ErrUndecodable", name, got, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, p := range []string{"UpdateApplication.json", "TagResource.json", "own-call.json"} {
		b, _ := os.ReadFile(filepath.Join("..", "..", "events", "cloudtrail", p))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := Decode(raw, SelfFromRoleARN(selfRole))
		if err == nil && got.Kind == KindApplication && got.Application == "" {
			t.Fatalf("application target without a name: %+v", got)
		}
	})
}
