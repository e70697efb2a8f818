package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelpPrintsUsageOnceAndExits0: COMMAND --help prints that command's
// usage once, on stdout, and exits 0 without loading any configuration.
func TestHelpPrintsUsageOnceAndExits0(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"serve", "--help"}, want: "Usage: aegis-gitea-mcp [serve]"},
		{args: []string{"serve", "-h"}, want: "Usage: aegis-gitea-mcp [serve]"},
		{args: []string{"--listen", "127.0.0.1:1", "--help"}, want: "Usage: aegis-gitea-mcp [serve]"},
		{args: []string{"stdio", "--help"}, want: "Usage: aegis-gitea-mcp stdio"},
		{args: []string{"config", "check", "--help"}, want: "Usage: aegis-gitea-mcp config check"},
		{args: []string{"config", "--help"}, want: "Usage: aegis-gitea-mcp config check"},
		{args: []string{"audit", "verify", "--help"}, want: "Usage: aegis-gitea-mcp audit verify"},
		{args: []string{"policy", "explain", "--help"}, want: "aegis-gitea-mcp policy explain --tool T"},
		{args: []string{"--help"}, want: "Usage:\n  aegis-gitea-mcp [serve]"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, tt.args...)
			if code != 0 || stderr != "" || strings.Count(stdout, "Usage") != 1 || !strings.Contains(stdout, tt.want) {
				t.Errorf("run(%q) = %d, stdout %q, stderr %q; want 0 and %q once on stdout", tt.args, code, stdout, stderr, tt.want)
			}
		})
	}
}

// TestUsageErrorsPrintUsageOnce: a bad flag is named, the usage follows
// once, and the exit status is 2.
func TestUsageErrorsPrintUsageOnce(t *testing.T) {
	for _, args := range [][]string{{"serve", "--no-such-flag"}, {"serve", "extra"}, {"stdio", "--nope"}} {
		code, stdout, stderr := runCLI(t, nil, args...)
		if code != 2 || strings.Count(stdout+stderr, "Usage") != 1 {
			t.Errorf("run(%q) = %d, %q; want 2 with the usage once", args, code, stdout+stderr)
		}
	}
}

// TestConfigCheckWarnsOfUnknownVariables: config check names a misspelt
// variable of the .env file, and the configuration is still valid.
func TestConfigCheckWarnsOfUnknownVariables(t *testing.T) {
	env := filepath.Join(t.TempDir(), "aegis.env")
	if err := os.WriteFile(env, []byte("GITEA_URL=https://gitea.example.com\nGITEA_OAUTH_CLIENT_ID=cid\nGITEA_OAUTH_CLIENT_SECRET=hunter2-secret\nOAUTH_MODES=true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, nil, "config", "check", "--env-file", env)
	if code != 0 || !strings.Contains(stderr, "warning: OAUTH_MODES: in "+env+" is not a variable this server reads; did you mean OAUTH_MODE?") {
		t.Errorf("config check = %d, stderr %q; want 0 with a warning naming OAUTH_MODE", code, stderr)
	}
}

// TestServeOnABusyAddressExits2: an address in use is a configuration
// problem naming LISTEN_ADDR and --listen, after the startup checks say
// Gitea is unreachable.
func TestServeOnABusyAddressExits2(t *testing.T) {
	var lc net.ListenConfig
	busy, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = busy.Close() }()
	closed, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	giteaURL := "http://" + closed.Addr().String()
	_ = closed.Close()
	environ := []string{"GITEA_URL=" + giteaURL, "GITEA_OAUTH_CLIENT_ID=cid", "GITEA_OAUTH_CLIENT_SECRET=hunter2-secret"}
	code, _, stderr := runCLI(t, environ, "serve", "--listen", busy.Addr().String())
	if code != 2 || !strings.Contains(stderr, `"var":"LISTEN_ADDR"`) || !strings.Contains(stderr, "address already in use") ||
		!strings.Contains(stderr, "LISTEN_ADDR or --listen") {
		t.Errorf("serve on a busy address = %d, stderr %q; want 2 naming LISTEN_ADDR or --listen", code, stderr)
	}
	if !strings.Contains(stderr, "Gitea unreachable (check GITEA_URL") {
		t.Errorf("the startup checks did not report Gitea unreachable: %q", stderr)
	}
	if strings.Contains(stderr, "hunter2") {
		t.Error("stderr holds the client secret")
	}
}
