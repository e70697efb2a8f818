package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
)

// fakeGitea answers /api/v1/version and the OIDC discovery document; the
// failing flags inject the faults readiness must report.
type fakeGitea struct {
	versionDown   atomic.Bool
	version       atomic.Value // string; empty means 1.27.3
	discoveryDown atomic.Bool
	calls         atomic.Int32
	// version404 answers /api/v1/version with 404, as a Gitea does when
	// GITEA_URL ends in /api/v1; versionHTML with a web page.
	version404, versionHTML atomic.Bool
	// wrongClient refuses the OAuth client at introspection; badToken
	// refuses every token at /api/v1/user.
	wrongClient, badToken atomic.Bool
}

func (f *fakeGitea) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/api/v1/version" && f.version404.Load():
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"secret upstream detail"}`)
	case r.URL.Path == "/api/v1/version" && f.versionHTML.Load():
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html>secret upstream detail</html>`)
	case r.URL.Path == "/login/oauth/introspect":
		if user, pass, ok := r.BasicAuth(); !ok || user != "client" || pass != "secret" || f.wrongClient.Load() {
			w.Header().Set("WWW-Authenticate", `Basic realm="Gitea OAuth2"`)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"secret upstream detail"}`)
			return
		}
		fmt.Fprint(w, `{"active":false}`)
	case r.URL.Path == "/api/v1/user" && f.badToken.Load():
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"secret upstream detail"}`)
	case r.URL.Path == "/api/v1/user":
		fmt.Fprint(w, `{"id":7,"login":"alice"}`)
	case r.URL.Path == "/api/v1/version" && !f.versionDown.Load():
		v, _ := f.version.Load().(string)
		fmt.Fprintf(w, `{"version":%q}`, cmp.Or(v, "1.27.3"))
	case r.URL.Path == "/.well-known/openid-configuration" && !f.discoveryDown.Load():
		fmt.Fprint(w, `{"issuer":"http://gitea","jwks_uri":"http://gitea/login/oauth/keys"}`)
	case r.URL.Path == "/login/oauth/keys":
		fmt.Fprint(w, `{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig","alg":"ES256",`+
			`"x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}`)
	default:
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, `{"message":"secret upstream detail"}`)
	}
}

func newTestServer(t *testing.T, fake http.Handler, logs *bytes.Buffer) *Server {
	t.Helper()
	up := httptest.NewServer(fake)
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	cfg := &config.Config{GiteaURL: u, OAuthMode: true, OAuthClientID: "client", OAuthClientSecret: config.NewSecret("secret"),
		ListenAddr: "127.0.0.1:0", PublicBaseURL: u, RequestTimeout: 5 * time.Second, MaxRequestBodyBytes: 1 << 20}
	if logs == nil {
		logs = &bytes.Buffer{}
	}
	s, err := New(Options{Config: cfg, Logger: slog.New(slog.NewJSONHandler(logs, nil)), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t *testing.T, h http.Handler, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestReadiness(t *testing.T) {
	tests := []struct {
		name          string
		versionDown   bool
		discoveryDown bool
		wantStatus    int
		wantReason    string
	}{
		{name: "ready", wantStatus: 200},
		{name: "gitea down", versionDown: true, wantStatus: 503, wantReason: "Gitea failing (it answered HTTP 502)"},
		{name: "discovery down", discoveryDown: true, wantStatus: 503, wantReason: "gitea OIDC discovery unreachable or failing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeGitea{}
			fake.versionDown.Store(tt.versionDown)
			fake.discoveryDown.Store(tt.discoveryDown)
			rec := get(t, newTestServer(t, fake, nil).Handler(), "/readyz", nil)
			if rec.Code != tt.wantStatus {
				t.Fatalf("GET /readyz = %d %s, want %d", rec.Code, rec.Body, tt.wantStatus)
			}
			var body readyState
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body.Reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", body.Reason, tt.wantReason)
			}
			if strings.Contains(rec.Body.String(), "secret upstream detail") {
				t.Errorf("readyz echoes the upstream body: %s", rec.Body)
			}
			if tt.wantStatus == 503 && rec.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
}

func TestReadinessIsCachedAndRecovers(t *testing.T) {
	fake := &fakeGitea{}
	fake.versionDown.Store(true)
	s := newTestServer(t, fake, nil)
	now := time.Unix(1000, 0)
	s.ready.now = func() time.Time { return now }
	h := s.Handler()
	for range 5 {
		if rec := get(t, h, "/readyz", nil); rec.Code != 503 {
			t.Fatalf("GET /readyz = %d, want 503", rec.Code)
		}
	}
	if n := fake.calls.Load(); n != 1 {
		t.Errorf("5 probes within the TTL made %d calls to Gitea, want 1", n)
	}
	fake.versionDown.Store(false)
	now = now.Add(readinessTTL)
	if rec := get(t, h, "/readyz", nil); rec.Code != 200 {
		t.Errorf("GET /readyz after recovery = %d, want 200", rec.Code)
	}
	if rec := get(t, h, "/health", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"gitea_connected":true`) {
		t.Errorf("GET /health = %d %s, want healthy and connected", rec.Code, rec.Body)
	}
}

func TestRoutes(t *testing.T) {
	h := newTestServer(t, &fakeGitea{}, nil).Handler()
	tests := []struct {
		target     string
		wantStatus int
		wantBody   string
	}{
		{target: "/healthz", wantStatus: 200, wantBody: `"status":"ok"`},
		{target: "/", wantStatus: 200, wantBody: `"name":"aegis-gitea-mcp"`},
		{target: "/nope", wantStatus: 404, wantBody: `"error":"not_found"`},
	}
	for _, tt := range tests {
		rec := get(t, h, tt.target, nil)
		if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
			t.Errorf("GET %s = %d %s, want %d with %s", tt.target, rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("GET %s Content-Type = %q, want application/json", tt.target, ct)
		}
	}
}

func TestRequestIDAndAccessLog(t *testing.T) {
	var logs bytes.Buffer
	h := newTestServer(t, &fakeGitea{}, &logs).Handler()
	rec := get(t, h, "/healthz?access_token=leaky-token", http.Header{"X-Request-Id": {"abc-123"}, "Authorization": {"Bearer leaky-header"}})
	if got := rec.Header().Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("X-Request-ID = %q, want the caller's id echoed", got)
	}
	rec = get(t, h, "/healthz", http.Header{"X-Request-Id": {"bad id\twith junk"}})
	if got := rec.Header().Get("X-Request-ID"); got == "" || strings.Contains(got, "junk") {
		t.Errorf("X-Request-ID = %q, want a fresh id instead of the unsafe one", got)
	}
	out := logs.String()
	if !strings.Contains(out, `"request_id":"abc-123"`) || !strings.Contains(out, `"path":"/healthz"`) {
		t.Errorf("access log lacks request id or path:\n%s", out)
	}
	if strings.Contains(out, "leaky") {
		t.Errorf("access log contains a token from the query or headers:\n%s", out)
	}
}

func TestPanicBecomesFixed500(t *testing.T) {
	var logs bytes.Buffer
	h := withAccessLog(slog.New(slog.NewJSONHandler(&logs, nil)), nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom with secret detail")
	}))
	rec := get(t, h, "/x", nil)
	if rec.Code != 500 || strings.Contains(rec.Body.String()+logs.String(), "secret detail") {
		t.Errorf("panic answered %d %s (logs %s), want a fixed 500", rec.Code, rec.Body, logs.String())
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	s := newTestServer(t, &fakeGitea{}, nil)
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()

	base := "http://" + l.Addr().String()
	resp, err := http.Get(base + "/healthz") //nolint:noctx // a plain probe
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	_ = resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel = %v, want nil", err)
		}
	case <-time.After(shutdownTimeout):
		t.Fatal("Serve did not return after its context was cancelled")
	}
	if _, err := http.Get(base + "/healthz"); err == nil { //nolint:noctx,bodyclose // must fail to connect
		t.Error("server still answers after shutdown")
	}
}

func TestNewRequiresConfig(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without a config succeeded")
	}
}

// TestOldGiteaIsRefused: before 1.27.0 Gitea's introspection answers for
// other apps' tokens, so OAuth mode refuses to start, and tokens get 503.
func TestOldGiteaIsRefused(t *testing.T) {
	fake := &fakeGitea{}
	fake.version.Store("1.26.4")
	s := newTestServer(t, fake, nil)
	if err := s.Preflight(t.Context()); err == nil || !strings.Contains(err.Error(), "1.27.0") {
		t.Errorf("Preflight against Gitea 1.26.4 = %v, want a refusal naming 1.27.0", err)
	}
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/mcp/tools", nil)
	req.Host = "127.0.0.1"
	req.Header.Set("Authorization", "Bearer abc.def.ghi")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "1.27.0") {
		t.Errorf("a token against Gitea 1.26.4 = %d %s, want 503 naming 1.27.0", rec.Code, rec.Body)
	}
	if rec := get(t, s.Handler(), "/readyz", nil); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz against Gitea 1.26.4 = %d, want 503", rec.Code)
	}
}
