package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
)

// probeTarget serves /healthz 200 and /readyz 503 with a reason, like a
// server whose Gitea is down, and records the paths asked for.
func probeTarget(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	var (
		mu    sync.Mutex
		paths []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/healthz":
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		case "/readyz":
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"not ready","reason":"gitea unreachable or failing"}`))
		case "/moved/healthz":
			http.Redirect(w, r, "/healthz", http.StatusFound)
		case "/slow/healthz":
			time.Sleep(300 * time.Millisecond)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(paths)
	}
}

func TestHealthcheckExitCodes(t *testing.T) {
	srv, paths := probeTarget(t)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	down := closedPort(t)
	for _, c := range []struct {
		name       string
		environ    []string
		args       []string
		want       int
		wantOut    string
		wantStderr string
	}{
		{name: "healthy by --url", args: []string{"--url", srv.URL}, want: 0, wantOut: "healthy: GET " + srv.URL + "/healthz answered 200"},
		{name: "wildcard LISTEN_ADDR probes loopback", environ: []string{"LISTEN_ADDR=0.0.0.0:" + strconv.Itoa(port)}, want: 0,
			wantOut: "http://127.0.0.1:" + strconv.Itoa(port) + "/healthz"},
		{name: "empty host probes loopback", environ: []string{"LISTEN_ADDR=:" + strconv.Itoa(port)}, want: 0},
		{name: "not ready", args: []string{"--url", srv.URL, "--ready"}, want: 1,
			wantStderr: "/readyz answered 503 Service Unavailable: gitea unreachable or failing"},
		{name: "server down", environ: []string{"LISTEN_ADDR=127.0.0.1:" + strconv.Itoa(down)}, want: 1, wantStderr: "connection refused"},
		{name: "redirect is not followed", args: []string{"--url", srv.URL + "/moved"}, want: 1, wantStderr: "answered 302"},
		{name: "timeout", args: []string{"--url", srv.URL + "/slow", "--timeout", "50ms"}, want: 1, wantStderr: "deadline exceeded"},
		{name: "bad url", args: []string{"--url", "127.0.0.1:8080"}, want: 2, wantStderr: "is not an http:// or https:// base URL"},
		{name: "bad timeout", args: []string{"--url", srv.URL, "--timeout", "2h"}, want: 2, wantStderr: "--timeout"},
		{name: "port chosen at start", environ: []string{"LISTEN_ADDR=127.0.0.1:0"}, want: 2, wantStderr: "give --url"},
		{name: "bad LISTEN_ADDR", environ: []string{"LISTEN_ADDR=nonsense"}, want: 2, wantStderr: "LISTEN_ADDR"},
		{name: "unknown flag", args: []string{"--nope"}, want: 2, wantStderr: "Usage: aegis-gitea-mcp healthcheck"},
		{name: "help", args: []string{"--help"}, want: 0, wantOut: "Usage: aegis-gitea-mcp healthcheck"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, c.environ, append([]string{"healthcheck"}, c.args...)...)
			if code != c.want || !strings.Contains(stdout, c.wantOut) || !strings.Contains(stderr, c.wantStderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout, stderr, c.want, c.wantOut, c.wantStderr)
			}
		})
	}
	if got := paths(); len(got) == 0 || got[0] != "/healthz" {
		t.Errorf("paths asked = %v", got)
	}
}

func TestHealthcheckReadsLISTEN_ADDRFromTheEnvFile(t *testing.T) {
	srv, _ := probeTarget(t)
	file := filepath.Join(t.TempDir(), "prod.env")
	if err := os.WriteFile(file, []byte("LISTEN_ADDR="+srv.Listener.Addr().String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, nil, "healthcheck", "--env-file", file); code != 0 {
		t.Errorf("exit %d (%s), want 0", code, stderr)
	}
}

func TestLoopbackFor(t *testing.T) {
	for in, want := range map[string]string{"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1", "127.0.0.1": "127.0.0.1",
		"192.0.2.7": "192.0.2.7", "localhost": "localhost", "::1": "::1"} {
		if got := loopbackFor(in); got != want {
			t.Errorf("loopbackFor(%q) = %q, want %q", in, got, want)
		}
	}
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	port, err := localgitea.FreePort(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return port
}
