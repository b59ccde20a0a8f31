//go:build linux || darwin

package rie_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kdaguard/kdaguard/internal/rie"
)

func TestEchoUnderEmulator(t *testing.T) {
	// A variable of the test's own environment must not reach the function.
	t.Setenv("RIE_TEST_LEAK", "leaked")
	bin := rie.Build(t, "./internal/rie/testdata/echo")
	fn := rie.Start(t, bin, map[string]string{"ECHO_ENV": "hello"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	start := time.Now()
	out, err := fn.Invoke(ctx, []byte(`{"any":{"a":[1,2]}}`))
	cold := time.Since(start)
	if err != nil {
		t.Fatalf("invoke: %v (%s)", err, out)
	}
	if got, want := string(out), `{"env":"hello","secret":"","any":{"a":[1,2]}}`; got != want {
		t.Fatalf("response %s, want %s", got, want)
	}
	start = time.Now()
	if _, err := fn.Invoke(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	t.Logf("cold invoke %v, warm invoke %v", cold, time.Since(start))

	out, err = fn.Invoke(ctx, []byte(`{"fail":"boom"}`))
	var fe *rie.FunctionError
	if !errors.As(err, &fe) || fe.Message != "boom" {
		t.Fatalf("want a FunctionError boom, got %v (%s)", err, out)
	}
	// The function keeps serving after returning an error.
	if _, err := fn.Invoke(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fn.URL, "127.0.0.1:") {
		t.Fatalf("emulator not on loopback: %s", fn.URL)
	}
}

func TestRepoRoot(t *testing.T) {
	root, err := rie.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root + "/go.mod"); err != nil {
		t.Fatalf("%s has no go.mod", root)
	}
}

func TestPeakRSSAndCPUTime(t *testing.T) {
	fn := rie.Start(t, rie.Build(t, "./internal/rie/testdata/echo"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := fn.PeakRSS(); err == nil {
		t.Error("PeakRSS before the first invoke: want an error, the function process does not exist yet")
	}
	if _, err := fn.Invoke(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	idle, err := fn.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	cpu0, err := fn.CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fn.Invoke(ctx, []byte(`{"touchMB":48}`)); err != nil {
		t.Fatal(err)
	}
	peak, err := fn.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	cpu1, err := fn.CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("idle %d KiB, after touching 48 MiB %d KiB; CPU %v then %v", idle>>10, peak>>10, cpu0, cpu1)
	if cpu1 < cpu0 || cpu1 > time.Minute {
		t.Errorf("CPU time went from %v to %v", cpu0, cpu1)
	}
	if idle <= 0 || idle > 40<<20 {
		t.Errorf("idle peak RSS %d bytes: not the echo function's", idle)
	}
	if peak < idle+48<<20 {
		t.Errorf("peak RSS %d bytes after touching 48 MiB, idle was %d: the measure misses memory", peak, idle)
	}
}
