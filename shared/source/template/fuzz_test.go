package template

import (
	"strings"
	"testing"
)

// FuzzParse: any input either parses or returns a non-empty error naming the
// file; it never panics (Parse also recovers, so a recovered panic is
// reported here as a failure through its message).
func FuzzParse(f *testing.F) {
	f.Add([]byte("Resources:\n  A:\n    Type: AWS::KinesisAnalyticsV2::Application\n    Properties: {RuntimeEnvironment: !Ref X}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		apps, err := Parse("fuzz.yaml", data)
		if err != nil {
			msg := err.Error()
			if strings.TrimSpace(strings.TrimPrefix(msg, "fuzz.yaml:")) == "" {
				t.Fatalf("empty error message %q", msg)
			}
			if strings.Contains(msg, "internal error") {
				t.Fatalf("panic inside Parse: %s", msg)
			}
			return
		}
		for _, a := range apps {
			if a == nil || a.Origin.LogicalID == "" || a.Origin.Line < 1 {
				t.Fatalf("application without origin: %+v", a)
			}
			_, _, _ = a.KinesisStreams()
		}
	})
}
