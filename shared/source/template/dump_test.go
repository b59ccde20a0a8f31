package template

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

func TestDump(t *testing.T) {
	f := os.Getenv("DUMP")
	if f == "" {
		t.Skip()
	}
	data, _ := os.ReadFile(f)
	apps, err := Parse(f, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		b, _ := json.MarshalIndent(dumpApp(a), "", "  ")
		fmt.Println(string(b))
	}
}

// dumpApp renders a model value with its facts (known value or "UNKNOWN: reason").
func dumpApp(v any) any { return dumpValue(reflectValueOf(v)) }
