package remediate

import (
	"strings"
	"testing"
)

func TestRedactorKeepsIdentifiersOnly(t *testing.T) {
	r := redactor{}
	r.protect("orders", "us-east-1", "123456789012")
	r.values = appendVariants(nil, "us-east-1")                               // equals the Region
	r.values = appendVariants(r.values, "s3cr3t-orders")                      // extends beyond the name
	r.values = appendVariants(r.values, "abcdefgh")                           // a secret
	r.values = appendVariants(r.values, "efghijkl")                           // overlapping another
	got := r.text("app orders in us-east-1: s3cr3t-orders abcdefghijkl done") // every part of each secret goes
	want := "app orders in us-east-1: [REDACTED] [REDACTED] done"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if strings.Contains(r.text(`{"k":"s3cr3t-orders"}`), "s3cr3t") {
		t.Error("secret in JSON kept")
	}
}
