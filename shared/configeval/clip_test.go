package configeval

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kdaguard/kdaguard/shared/rules"
)

func TestClipAnnotation(t *testing.T) {
	for _, s := range []string{
		strings.Repeat("a", 300),
		strings.Repeat("é", 200), // 2 bytes each
		strings.Repeat("😀", 100), // 4 bytes each
		"x" + strings.Repeat("日本", 100),
	} {
		got := rules.Clip(s)
		if len(got) > MaxAnnotation || !utf8.ValidString(got) || !strings.HasSuffix(got, "...") {
			t.Errorf("clip(%d bytes) = %d bytes, valid %v", len(s), len(got), utf8.ValidString(got))
		}
	}
	if got := rules.Clip("short"); got != "short" {
		t.Errorf("clip(short) = %q", got)
	}
	if got := rules.Clip(strings.Repeat("b", 256)); len(got) != 256 || strings.HasSuffix(got, "...") {
		t.Errorf("a 256-byte annotation must be kept whole")
	}
}

func TestComplianceOfNeverCompliantForUnknown(t *testing.T) {
	for _, st := range []rules.Status{rules.Unknown, "", "SOMETHING"} {
		c, a := complianceOf(rules.Result{Status: st, Message: "role: access denied: needs iam:GetRole"})
		if c != NonCompliant || !strings.HasPrefix(a, "could not verify: ") {
			t.Errorf("%q -> %s %q", st, c, a)
		}
	}
	if c, a := complianceOf(rules.Result{Status: rules.Unknown}); c != NonCompliant || !strings.HasPrefix(a, "could not verify: ") || len(a) <= len("could not verify: ") {
		t.Errorf("unknown without a message -> %s %q", c, a)
	}
}

func TestOrderingTime(t *testing.T) {
	fallback := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ie, err := decodeInvokingEvent(`{"messageType":"ScheduledNotification","notificationCreationTime":"2026-11-27T10:00:00.373Z"}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := ie.orderingTime(fallback); !got.Equal(time.Date(2026, 11, 27, 10, 0, 0, 373e6, time.UTC)) {
		t.Errorf("scheduled: %v", got)
	}
	ie, err = decodeInvokingEvent(`{"messageType":"ConfigurationItemChangeNotification","notificationCreationTime":"2026-11-27T10:00:00Z",
		"configurationItem":{"resourceType":"AWS::KinesisAnalyticsV2::Application","resourceId":"a","configurationItemCaptureTime":"2026-11-27T09:00:00.5Z"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := ie.orderingTime(fallback); !got.Equal(time.Date(2026, 11, 27, 9, 0, 0, 5e8, time.UTC)) {
		t.Errorf("change: %v", got)
	}
	ie, _ = decodeInvokingEvent(`{"messageType":"ScheduledNotification"}`)
	if got := ie.orderingTime(fallback); !got.Equal(fallback) {
		t.Errorf("no time: %v", got)
	}
}
