// Command localaws runs the kdaguard AWS API emulator on loopback.
//
//	localaws [--addr 127.0.0.1:4566] [--seed FILE] [--faults FILE] [--account ID] [--region R]
//
// Point the AWS SDK at it with AWS_ENDPOINT_URL=http://127.0.0.1:4566.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/kdaguard/kdaguard/internal/localaws"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "localaws:", err)
		os.Exit(2)
	}
}

type config struct {
	addr, seed, faults, account, region, logLevel string
	allowRemote                                   bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("localaws", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:4566", "listen address (loopback only unless --allow-remote)")
	fs.BoolVar(&c.allowRemote, "allow-remote", false, "allow a non-loopback --addr")
	fs.StringVar(&c.seed, "seed", "", "JSON file: a list of {service, operation, input} calls applied at start")
	fs.StringVar(&c.faults, "faults", "", "JSON file: a list of fault rules")
	fs.StringVar(&c.account, "account", "123456789012", "emulated account id (12 digits)")
	fs.StringVar(&c.region, "region", "us-east-1", "emulated Region")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error (debug logs every request)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fmt.Fprintln(stderr, "usage: localaws [flags]")
			fs.PrintDefaults()
			return c, err
		}
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if !regexp.MustCompile(`^\d{12}$`).MatchString(c.account) {
		return c, fmt.Errorf("--account %q is not a 12-digit account id", c.account)
	}
	if !regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`).MatchString(c.region) {
		return c, fmt.Errorf("--region %q is not a Region name such as us-east-1", c.region)
	}
	host, _, err := net.SplitHostPort(c.addr)
	if err != nil {
		return c, fmt.Errorf("--addr %q: want host:port", c.addr)
	}
	if !c.allowRemote && !isLoopback(host) {
		return c, fmt.Errorf("--addr %q is not a loopback address; pass --allow-remote to listen on it", c.addr)
	}
	return c, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(strings.ToUpper(s)))
	if err != nil {
		return l, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func run(args []string, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	level, err := parseLevel(c.logLevel)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var faults []localaws.Fault
	if c.faults != "" {
		if err := readJSONFile(c.faults, &faults); err != nil {
			return fmt.Errorf("--faults: %w", err)
		}
		for _, f := range faults {
			if err := f.Validate(); err != nil {
				return fmt.Errorf("--faults: %w", err)
			}
		}
	}
	srv := localaws.New(localaws.Options{AccountID: c.account, Region: c.region, Faults: faults, Logger: logger})
	if c.seed != "" {
		var calls []localaws.SeedCall
		if err := readJSONFile(c.seed, &calls); err != nil {
			return fmt.Errorf("--seed: %w", err)
		}
		if _, err := srv.Seed(calls); err != nil {
			return fmt.Errorf("--seed: %w", err)
		}
		logger.Info("seeded", "calls", len(calls), "file", c.seed)
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("localaws listening", "addr", ln.Addr().String(), "endpoint", "http://"+ln.Addr().String(), "account", c.account, "region", c.region, "faults", len(faults))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	return nil
}
