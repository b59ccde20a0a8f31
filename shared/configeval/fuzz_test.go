package configeval

import (
	"github.com/kdaguard/kdaguard/shared/rules"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"encoding/json"
	"github.com/aws/aws-lambda-go/events"
)

// FuzzDecodeEvent: decoding any invoking event and ruleParameters never
// panics, and what decodes has an identity to report against.
func FuzzDecodeEvent(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "events", "config", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		var ev events.ConfigEvent
		if json.Unmarshal(b, &ev) == nil && ev.InvokingEvent != "" {
			f.Add(ev.InvokingEvent, ev.RuleParameters, "")
		}
	}
	f.Add(`{"messageType":"ScheduledNotification"}`, `{"ruleId":"KDA.MON.3","retentionDays":7}`, "é")
	f.Fuzz(func(t *testing.T, inv, params, note string) {
		if ie, err := decodeInvokingEvent(inv); err == nil {
			if it := ie.item(); it != nil && (it.ResourceType == "" || it.id() == "") {
				t.Fatalf("decoded an item without identity: %q", inv)
			}
			_ = ie.orderingTime(time.Unix(0, 0))
		}
		if rc, err := DecodeRuleParameters(params); err == nil && (rc.Rule == nil || rc.Selection == nil) {
			t.Fatalf("decoded parameters without a rule: %q", params)
		}
		a := rules.Clip(joinNote(params, note))
		if len(a) > MaxAnnotation || (utf8.ValidString(params) && utf8.ValidString(note) && !utf8.ValidString(a)) {
			t.Fatalf("annotation of %d bytes", len(a))
		}
	})
}
