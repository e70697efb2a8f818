package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{args: []string{"--help"}, code: 0, want: "Usage: aegis-demo"},
		{args: []string{"extra"}, code: 2, want: `unexpected argument "extra"`},
		{args: []string{"--no-such-flag"}, code: 2, want: "no-such-flag"},
		{args: []string{"--dir", t.TempDir(), "--listen", "0.0.0.0:8080"}, code: 1, want: "loopback only"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), tt.args, &stdout, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("aegis-demo %v = %d, stderr %q; want %d with %q", tt.args, code, stderr.String(), tt.code, tt.want)
		}
	}
}
