package e2e

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// readyzOf is a server's /readyz answer.
func readyzOf(t *testing.T, base string) (int, map[string]any) {
	t.Helper()
	res := do(t, "GET", base+"/readyz", "", nil)
	var body map[string]any
	res.json(t, &body)
	return res.status, body
}

// TestProbeClientAgainstGitea: the real Gitea tells this server's client
// credentials apart with the empty-token probe: accepted for the right
// secret, refused (401 with a Basic challenge) for a wrong secret or an
// unknown client id. A made-up non-empty token would not do, which is why
// the probe sends none: Gitea's request authentication refuses it first,
// whatever the client.
func TestProbeClientAgainstGitea(t *testing.T) {
	g := needGitea(t)
	app, err := g.App(t.Context(), readScopes)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(g.URL)
	if err != nil {
		t.Fatal(err)
	}
	e, err := gitea.NewEndpoint(gitea.Options{BaseURL: u})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ProbeClient(t.Context(), app.ClientID, app.ClientSecret); err != nil {
		t.Errorf("probe with the right client secret = %v, want nil", err)
	}
	for name, creds := range map[string][2]string{
		"wrong secret":      {app.ClientID, "gto_not_the_secret"},
		"unknown client id": {"00000000-0000-0000-0000-000000000000", app.ClientSecret},
	} {
		err := e.ProbeClient(t.Context(), creds[0], creds[1])
		if !errors.Is(err, gitea.ErrClientCredentials) {
			t.Errorf("probe with a %s = %v, want ErrClientCredentials", name, err)
		}
		if err != nil && strings.Contains(err.Error(), app.ClientSecret) {
			t.Errorf("probe error with a %s holds the secret", name)
		}
	}
	// Why the probe's token is empty: with a made-up token, Gitea's request
	// authentication answers 401 before the client is checked, so a wrong
	// secret looks like an inactive token.
	in, err := e.Introspect(t.Context(), app.ClientID, "gto_not_the_secret", "aegis-probe-not-a-token")
	t.Logf("a made-up token with a wrong secret: %+v, %v (no ErrClientCredentials: the probe must send an empty token)", in, err)
}

// TestWrongClientSecretIsReportedAtStart: a server whose client secret
// Gitea refuses says so at start and in /readyz, instead of "ready"; the
// same server with the right secret is ready.
func TestWrongClientSecretIsReportedAtStart(t *testing.T) {
	g := needGitea(t)
	app, err := g.App(t.Context(), toolScopes)
	if err != nil {
		t.Fatal(err)
	}
	wrong := *app
	wrong.ClientSecret = "gto_not_the_secret"
	a := startAegis(t, g, &wrong)
	status, body := readyzOf(t, a.URL)
	if status != 503 || body["status"] != "not ready" || !strings.HasPrefix(body["reason"].(string), "client credentials rejected") {
		t.Errorf("GET /readyz with a wrong client secret = %d %v, want 503 client credentials rejected", status, body)
	}
	if line := logLine(t, a.logs.String(), "startup check failed"); line == nil || line["level"] != "ERROR" ||
		!strings.Contains(line["reason"].(string), "GITEA_OAUTH_CLIENT_SECRET") {
		t.Errorf("startup line = %v, want an error naming GITEA_OAUTH_CLIENT_SECRET\n%s", line, a.logs.String())
	}
	if strings.Contains(a.logs.String(), app.ClientSecret) || strings.Contains(a.logs.String(), wrong.ClientSecret) {
		t.Error("the log holds a client secret")
	}

	right := startAegis(t, g, app)
	if status, body := readyzOf(t, right.URL); status != 200 || body["status"] != "ready" {
		t.Errorf("GET /readyz with the right client secret = %d %v, want ready", status, body)
	}
	if logLine(t, right.logs.String(), "startup checks passed: gitea answers and accepts this server's credentials") == nil {
		t.Errorf("no startup line saying the checks passed:\n%s", right.logs.String())
	}
}

// TestGiteaURLWithAPIPathIsNamed: GITEA_URL ending in /api/v1 is named at
// start and in /readyz, from the real Gitea's answer.
func TestGiteaURLWithAPIPathIsNamed(t *testing.T) {
	g := needGitea(t)
	app, err := g.App(t.Context(), readScopes)
	if err != nil {
		t.Fatal(err)
	}
	a := startAegis(t, g, app, "GITEA_URL="+g.URL+"/api/v1")
	const want = "GITEA_URL is not a Gitea base URL (did you include /api/v1?)"
	if status, body := readyzOf(t, a.URL); status != 503 || body["reason"] != want {
		t.Errorf("GET /readyz with GITEA_URL=.../api/v1 = %d %v, want 503 %q", status, body, want)
	}
	if line := logLine(t, a.logs.String(), "startup check failed"); line == nil || line["reason"] != want {
		t.Errorf("startup line = %v, want %q", line, want)
	}
}

// TestPersonalAccessTokenInOAuthModeIsToldSo: a real Gitea personal
// access token sent to an OAuth-mode server is refused with what to do,
// never echoed and never sent on to Gitea's introspection.
func TestPersonalAccessTokenInOAuthModeIsToldSo(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes)
	pat := g.PATs[testgitea.AliceName][testgitea.PATReadRepository]
	a.mu.Lock()
	a.tokens = append(a.tokens, pat) // checked absent from the logs at cleanup
	a.mu.Unlock()
	for _, path := range []string{"/mcp/tool/call", "/mcp"} {
		res := do(t, "POST", a.URL+path, pat, `{"tool":"get_me"}`, "Accept", "application/json, text/event-stream")
		var body map[string]string
		res.json(t, &body)
		const want = "this looks like a personal access token; this server takes OAuth access tokens from Gitea's sign-in, or run it with OAUTH_MODE=false"
		if res.status != 401 || body["error"] != "invalid_token" || body["error_description"] != want {
			t.Errorf("POST %s with a personal access token = %d %v, want 401 invalid_token %q", path, res.status, body, want)
		}
		if h := res.header.Get("WWW-Authenticate"); !strings.Contains(h, "personal access token") || strings.Contains(h, pat) {
			t.Errorf("WWW-Authenticate = %q, want the description and no token", h)
		}
		if strings.Contains(res.body, pat) {
			t.Error("the answer echoes the token")
		}
	}
}

// TestBinarySharedTokenStartupChecks: in shared-token mode the binary
// checks GITEA_TOKEN at start: a token Gitea rejects is logged as what to
// fix and /readyz says "token rejected"; a good one is ready.
func TestBinarySharedTokenStartupChecks(t *testing.T) {
	g := needGitea(t)
	app, err := g.App(t.Context(), readScopes)
	if err != nil {
		t.Fatal(err)
	}
	bogus := "0123456789abcdef0123456789abcdef01234567"
	base, cmd, logs := startBinary(t, g, app, "OAUTH_MODE=false", "GITEA_TOKEN="+bogus)
	status, body := readyzOf(t, base)
	if status != 503 || !strings.HasPrefix(body["reason"].(string), "token rejected (check GITEA_TOKEN") {
		t.Errorf("GET /readyz with a rejected GITEA_TOKEN = %d %v, want 503 token rejected", status, body)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	for range logs.lines { // to the end of the log
	}
	out := logs.raw.String()
	if line := logLine(t, out, "startup check failed"); line == nil || line["level"] != "ERROR" || !strings.HasPrefix(line["reason"].(string), "token rejected") {
		t.Errorf("startup line = %v, want an error saying the token is rejected\n%s", line, out)
	}
	if strings.Contains(out, bogus) {
		t.Error("the log holds GITEA_TOKEN")
	}

	good := g.PATs[testgitea.AliceName][testgitea.PATReadRepository]
	base, _, _ = startBinary(t, g, app, "OAUTH_MODE=false", "GITEA_TOKEN="+good)
	if status, body := readyzOf(t, base); status != 200 || body["status"] != "ready" {
		t.Errorf("GET /readyz with a good GITEA_TOKEN = %d %v, want ready", status, body)
	}
}

// logLine is the first JSON log line whose message starts with msg, or nil.
func logLine(t *testing.T, logs, msg string) map[string]any {
	t.Helper()
	for l := range strings.SplitSeq(logs, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			if s, _ := m["msg"].(string); strings.HasPrefix(s, msg) {
				return m
			}
		}
	}
	return nil
}
