//go:build linux || darwin

// Package rie runs a compiled Lambda function under the AWS Lambda Runtime
// Interface Emulator (bin/aws-lambda-rie, installed by `make tools`) for
// tests: the real bootstrap binary, the real aws-lambda-go runtime loop, on
// loopback addresses only.
//
//	fn := rie.Start(t, rie.Build(t, "./functions/configrule"), env)
//	out, err := fn.Invoke(ctx, payload)
//
// When bin/aws-lambda-rie is missing the test is skipped with the command
// that installs it, except with CI=true, where it fails: CI must never pass
// by skipping.
package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// InvokePath is the RIE's invoke endpoint (the Lambda Invoke API's path).
const InvokePath = "/2015-03-31/functions/function/invocations"

// Function is one function running under the emulator.
type Function struct {
	// URL is the emulator's base URL (http://127.0.0.1:PORT).
	URL string

	binary string
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
}

// FunctionError is the error a function returned (or its crash), as the
// emulator reports it: HTTP 200 with {"errorType","errorMessage"}.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return "function error " + e.Type + ": " + e.Message }

// RepoRoot finds the module root: the folder of `go env GOMOD`, else the
// first parent of the working directory holding go.mod.
func RepoRoot() (string, error) {
	if out, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
		if p := strings.TrimSpace(string(out)); p != "" && p != os.DevNull {
			return filepath.Dir(p), nil
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Emulator returns the path of bin/aws-lambda-rie. When it is missing the
// test is skipped (t.Fatal with CI=true).
func Emulator(t testing.TB) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("rie: %v", err)
	}
	p := filepath.Join(root, "bin", "aws-lambda-rie")
	if _, err := os.Stat(p); err != nil {
		msg := fmt.Sprintf("rie: %s is missing: run `make tools` (or `make bin/aws-lambda-rie`) first", p)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// Build compiles a function's main package (e.g. "./functions/configrule",
// relative to the repository root) for the host with -tags lambda.norpc, as
// `make build` does for bin/functions, into the test's temporary folder, so
// that the test always runs the code it was compiled with.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("rie: %v", err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rie: go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start runs binaryPath under the emulator with exactly env as the
// function's environment (plus PATH, HOME and TMPDIR; nothing else of the
// test's environment leaks in, credentials included). Both the emulator
// and the Runtime API listen on 127.0.0.1. The process is stopped when the
// test ends; its output (emulator and function logs) is in Logs and is
// written to the test log if the test fails.
func Start(t testing.TB, binaryPath string, env map[string]string) *Function {
	t.Helper()
	emu := Emulator(t)
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		f, err := start(emu, binaryPath, env)
		if err == nil {
			t.Cleanup(func() {
				f.Stop()
				if t.Failed() {
					t.Logf("rie output:\n%s", f.Logs())
				}
			})
			return f
		}
		lastErr = err // most likely a port taken between FreePort and bind: try others
	}
	t.Fatalf("rie: %v", lastErr)
	return nil
}

func start(emu, binaryPath string, env map[string]string) (*Function, error) {
	p1, err := FreePort()
	if err != nil {
		return nil, err
	}
	p2, err := FreePort()
	if err != nil {
		return nil, err
	}
	if p1 == p2 {
		return nil, errors.New("same port twice")
	}
	emuAddr := fmt.Sprintf("127.0.0.1:%d", p1)
	cmd := exec.Command(emu,
		"--log-level", "error",
		"--runtime-interface-emulator-address", emuAddr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", p2),
		binaryPath)
	cmd.Dir = filepath.Dir(binaryPath)
	cmd.Env = baseEnv()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	buf := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = buf, buf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", emu, err)
	}
	f := &Function{URL: "http://" + emuAddr, binary: binaryPath, cmd: cmd, out: buf, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(f.exited)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", emuAddr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return f, nil
		}
		select {
		case <-f.exited:
			return nil, fmt.Errorf("emulator exited at start: %s", buf.String())
		default:
		}
		if time.Now().After(deadline) {
			f.Stop()
			return nil, fmt.Errorf("emulator not listening on %s after 15s: %s", emuAddr, buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	// The emulator's own defaults, stated so that a test is not at the mercy
	// of the host's environment.
	env = append(env, "AWS_LAMBDA_FUNCTION_TIMEOUT=300", "AWS_LAMBDA_FUNCTION_NAME=kdaguard-test",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256")
	return env
}

// Invoke posts payload to the function and returns its response. A function
// that returned an error (or crashed) gives the response and a
// *FunctionError.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL+InvokePath, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("invoke: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	if fe := functionError(body, resp.Header); fe != nil {
		return body, fe
	}
	return body, nil
}

func functionError(body []byte, h http.Header) *FunctionError {
	var fe FunctionError
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if h.Get("X-Amz-Function-Error") != "" {
			return &FunctionError{Type: h.Get("X-Amz-Function-Error"), Message: string(trimmed)}
		}
		return nil
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(trimmed, &probe) != nil {
		return nil
	}
	_, hasType := probe["errorType"]
	_, hasMsg := probe["errorMessage"]
	if !hasType || !hasMsg {
		if h.Get("X-Amz-Function-Error") != "" {
			return &FunctionError{Type: h.Get("X-Amz-Function-Error"), Message: string(trimmed)}
		}
		return nil
	}
	_ = json.Unmarshal(trimmed, &fe)
	return &fe
}

// Logs returns everything the emulator and the function wrote so far.
func (f *Function) Logs() string { return f.out.String() }

// Stop ends the emulator and the function (its process group).
func (f *Function) Stop() {
	if f.cmd.Process == nil {
		return
	}
	select {
	case <-f.exited:
		return
	default:
	}
	_ = syscall.Kill(-f.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-f.exited:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
		<-f.exited
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
