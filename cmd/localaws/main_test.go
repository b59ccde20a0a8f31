package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{nil, ""},
		{[]string{"--addr", "localhost:0"}, ""},
		{[]string{"--addr", "[::1]:4566"}, ""},
		{[]string{"--addr", "0.0.0.0:4566"}, "not a loopback address"},
		{[]string{"--addr", "0.0.0.0:4566", "--allow-remote"}, ""},
		{[]string{"--addr", "nonsense"}, "want host:port"},
		{[]string{"--account", "12"}, "12-digit"},
		{[]string{"--region", "Mars"}, "Region"},
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.err)
		}
	}
}
