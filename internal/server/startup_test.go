package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
)

// serverFor builds a server against the Gitea at giteaURL: in OAuth mode
// with the client the fake accepts, or in shared-token mode.
func serverFor(t *testing.T, giteaURL string, oauth bool, logs *bytes.Buffer) *Server {
	t.Helper()
	u, err := url.Parse(giteaURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{GiteaURL: u, OAuthMode: oauth, ListenAddr: "127.0.0.1:0", PublicBaseURL: &url.URL{Scheme: "http", Host: "127.0.0.1"},
		RequestTimeout: 5 * time.Second, MaxRequestBodyBytes: 1 << 20}
	if oauth {
		cfg.OAuthClientID, cfg.OAuthClientSecret = "client", config.NewSecret("secret")
	} else {
		cfg.GiteaToken = config.NewSecret("0123456789abcdef0123456789abcdef01234567")
	}
	s, err := New(Options{Config: cfg, Logger: slog.New(slog.NewJSONHandler(logs, nil)), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// closedURL is the URL of a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	port, err := localgitea.FreePort(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// TestStartupChecksSayWhatToDo: for each fault an operator fixes, the
// startup log and /readyz name it, at the level it deserves, without
// Gitea's text or a credential; faults a real Gitea does not produce
// (wrong URL path, old version, unreachable, a web page) come from fakes.
func TestStartupChecksSayWhatToDo(t *testing.T) {
	redirector := httptest.NewServer(http.RedirectHandler("http://elsewhere.invalid/", http.StatusFound))
	t.Cleanup(redirector.Close)
	tlsGitea := httptest.NewTLSServer(&fakeGitea{}) // its certificate is trusted by nobody
	t.Cleanup(tlsGitea.Close)
	tests := []struct {
		name      string
		url       string // empty: a fakeGitea set up by fake
		fake      func(*fakeGitea)
		shared    bool
		wantReady bool
		wantLevel string // of the startup line
		want      string // the readiness reason
	}{
		{name: "ready", wantReady: true, wantLevel: "INFO"},
		{name: "unreachable", url: closedURL(t), wantLevel: "WARN", want: "Gitea unreachable (check GITEA_URL and that Gitea is running)"},
		{name: "failing", fake: func(f *fakeGitea) { f.versionDown.Store(true) }, wantLevel: "WARN", want: "Gitea failing (it answered HTTP 502)"},
		{name: "api/v1 in GITEA_URL", fake: func(f *fakeGitea) { f.version404.Store(true) }, wantLevel: "ERROR",
			want: "GITEA_URL is not a Gitea base URL (did you include /api/v1?)"},
		{name: "a web page", fake: func(f *fakeGitea) { f.versionHTML.Store(true) }, wantLevel: "ERROR",
			want: "GITEA_URL is not a Gitea base URL (did you include /api/v1?)"},
		{name: "redirect elsewhere", url: redirector.URL, wantLevel: "ERROR", want: reasonRedirected},
		{name: "untrusted certificate", url: tlsGitea.URL, wantLevel: "ERROR", want: reasonUntrustedTLS},
		{name: "discovery missing", fake: func(f *fakeGitea) { f.discoveryDown.Store(true) }, wantLevel: "WARN",
			want: "gitea OIDC discovery unreachable or failing"},
		{name: "client credentials rejected", fake: func(f *fakeGitea) { f.wrongClient.Store(true) }, wantLevel: "ERROR",
			want: "client credentials rejected (check GITEA_OAUTH_CLIENT_ID and GITEA_OAUTH_CLIENT_SECRET"},
		{name: "shared token ready", shared: true, wantReady: true, wantLevel: "INFO"},
		{name: "shared token rejected", shared: true, fake: func(f *fakeGitea) { f.badToken.Store(true) }, wantLevel: "ERROR",
			want: "token rejected (check GITEA_TOKEN"},
		{name: "shared token, unreachable", shared: true, url: closedURL(t), wantLevel: "WARN", want: "Gitea unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := tt.url
			if target == "" {
				fake := &fakeGitea{}
				if tt.fake != nil {
					tt.fake(fake)
				}
				up := httptest.NewServer(fake)
				t.Cleanup(up.Close)
				target = up.URL
			}
			var logs bytes.Buffer
			s := serverFor(t, target, !tt.shared, &logs)
			if err := s.Preflight(t.Context()); err != nil {
				t.Fatalf("Preflight = %v, want only a log line", err)
			}
			rec := get(t, s.Handler(), "/readyz", nil)
			var st readyState
			if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
				t.Fatalf("readyz %s: %v", rec.Body, err)
			}
			if wantCode := map[bool]int{true: 200, false: 503}[tt.wantReady]; rec.Code != wantCode || !strings.HasPrefix(st.Reason, tt.want) {
				t.Errorf("GET /readyz = %d %s, want %d with reason %q", rec.Code, rec.Body, wantCode, tt.want)
			}
			line := startupLine(t, logs.String())
			if line["level"] != tt.wantLevel || (tt.want != "" && !strings.HasPrefix(line["reason"].(string), tt.want)) {
				t.Errorf("startup line = %v, want level %s with reason %q", line, tt.wantLevel, tt.want)
			}
			for _, leak := range []string{"secret upstream detail", "0123456789abcdef0123456789abcdef01234567", `"secret"`} {
				if strings.Contains(rec.Body.String()+logs.String(), leak) {
					t.Errorf("readyz or the log holds %q:\n%s\n%s", leak, rec.Body, logs.String())
				}
			}
		})
	}
}

// startupLine is Preflight's verdict line in logs.
func startupLine(t *testing.T, logs string) map[string]any {
	t.Helper()
	for l := range strings.SplitSeq(logs, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) != nil {
			continue
		}
		if msg, _ := m["msg"].(string); strings.HasPrefix(msg, "startup check") || strings.HasPrefix(msg, "gitea is not ready yet") {
			return m
		}
	}
	t.Fatalf("no startup verdict in the log:\n%s", logs)
	return nil
}

// TestTooOldGiteaIsNamed: Preflight refuses an old Gitea naming the
// version found and the one needed, and readiness says the same.
func TestTooOldGiteaIsNamed(t *testing.T) {
	fake := &fakeGitea{}
	fake.version.Store("1.26.4+secret-upstream-text")
	s := newTestServer(t, fake, nil)
	err := s.Preflight(t.Context())
	if err == nil || !strings.Contains(err.Error(), "Gitea too old (found 1.26.4, need 1.27.0)") || strings.Contains(err.Error(), "secret") {
		t.Errorf("Preflight against Gitea 1.26.4 = %v, want \"Gitea too old (found 1.26.4, need 1.27.0)\"", err)
	}
	rec := get(t, s.Handler(), "/readyz", nil)
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"reason":"Gitea too old (found 1.26.4, need 1.27.0)"`) {
		t.Errorf("GET /readyz = %d %s, want 503 naming both versions", rec.Code, rec.Body)
	}
}

// TestClientCredentialsRecover: a rejected client is probed again at the
// next readiness check, and readiness recovers once Gitea accepts it.
func TestClientCredentialsRecover(t *testing.T) {
	fake := &fakeGitea{}
	fake.wrongClient.Store(true)
	s := newTestServer(t, fake, nil)
	now := time.Unix(1000, 0)
	s.ready.now = func() time.Time { return now }
	if rec := get(t, s.Handler(), "/readyz", nil); rec.Code != 503 || !strings.Contains(rec.Body.String(), "client credentials rejected") {
		t.Fatalf("GET /readyz = %d %s, want client credentials rejected", rec.Code, rec.Body)
	}
	fake.wrongClient.Store(false)
	now = now.Add(readinessTTL)
	if rec := get(t, s.Handler(), "/readyz", nil); rec.Code != 200 {
		t.Errorf("GET /readyz once the client is accepted = %d %s, want 200", rec.Code, rec.Body)
	}
}

// TestListenInUseNamesTheSetting: an address already in use is a
// configuration error naming LISTEN_ADDR and --listen.
func TestListenInUseNamesTheSetting(t *testing.T) {
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	s := newTestServer(t, &fakeGitea{}, nil)
	s.cfg.ListenAddr = l.Addr().String()
	err = s.ListenAndServe(t.Context())
	var cfgErr *config.Error
	if !errors.As(err, &cfgErr) || cfgErr.Problems[0].Var != "LISTEN_ADDR" ||
		!strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), "LISTEN_ADDR or --listen") {
		t.Errorf("ListenAndServe on a busy address = %v, want a configuration error naming LISTEN_ADDR or --listen", err)
	}
	if err := listenError("METRICS_ADDR", "", "x", errors.New("other")); err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
		t.Errorf("listenError for another cause = %v, want it to name the variable", err)
	}
}

// TestStdioRefusalsAreConfigurationErrors: stdio in OAuth mode and with a
// token Gitea rejects fails as a configuration error (exit status 2).
func TestStdioRefusalsAreConfigurationErrors(t *testing.T) {
	var cfgErr *config.Error
	oauth := newTestServer(t, &fakeGitea{}, nil)
	if err := oauth.ServeStdio(t.Context(), nil, nil); !errors.As(err, &cfgErr) || cfgErr.Problems[0].Var != "OAUTH_MODE" {
		t.Errorf("stdio in OAuth mode = %v, want a configuration error naming OAUTH_MODE", err)
	}
	fake := &fakeGitea{}
	fake.badToken.Store(true)
	up := httptest.NewServer(fake)
	t.Cleanup(up.Close)
	shared := serverFor(t, up.URL, false, &bytes.Buffer{})
	if err := shared.ServeStdio(t.Context(), nil, nil); !errors.As(err, &cfgErr) || cfgErr.Problems[0].Var != "GITEA_TOKEN" {
		t.Errorf("stdio with a rejected token = %v, want a configuration error naming GITEA_TOKEN", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	down := serverFor(t, closedURL(t), false, &bytes.Buffer{})
	if err := down.ServeStdio(ctx, nil, nil); err == nil || errors.As(err, &cfgErr) {
		t.Errorf("stdio with Gitea unreachable = %v, want a runtime error", err)
	}
}
