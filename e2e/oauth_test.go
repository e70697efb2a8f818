package e2e

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// TestTokensAreRefusedAsSpecified sends every kind of wrong token the
// real Gitea can produce to /mcp/tool/call and checks the answer.
func TestTokensAreRefusedAsSpecified(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes)
	good := a.token(t, g, testgitea.AliceName, toolScopes)
	scopeless, err := g.App(t.Context(), "openid profile")
	if err != nil {
		t.Fatal(err)
	}
	// A server for the scopeless app, so the audience is right and only the scopes are wrong.
	b := startAegis(t, g, scopeless)
	openidOnly := b.token(t, g, testgitea.AliceName, "openid profile").AccessToken
	other, _, err := g.OAuthToken(t.Context(), testgitea.AliceName, "openid read:repository read:user read:issue public-only")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		server     *aegis
		token      string
		wantStatus int
		wantCode   string // in WWW-Authenticate, empty for none
		wantText   string // in the body
	}{
		{name: "no token", server: a, wantStatus: 401, wantText: "Authorization header"},
		{name: "refresh token", server: a, token: good.RefreshToken, wantStatus: 401, wantCode: "invalid_token", wantText: "not an access token"},
		{name: "id token", server: a, token: good.IDToken, wantStatus: 401, wantCode: "invalid_token"},
		{name: "personal access token", server: a, token: g.PATs[testgitea.AliceName][testgitea.PATReadRepository], wantStatus: 401, wantCode: "invalid_token",
			wantText: "this looks like a personal access token"},
		{name: "token of another app", server: a, token: other.AccessToken, wantStatus: 401, wantCode: "invalid_token", wantText: "another application"},
		{name: "tampered token", server: a, token: tamper(t, good.AccessToken), wantStatus: 401, wantCode: "invalid_token"},
		{name: "openid profile grant", server: b, token: openidOnly, wantStatus: 403, wantCode: "insufficient_scope", wantText: "revoke this app's grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, "POST", tt.server.URL+"/mcp/tool/call", tt.token, `{"tool":"get_me"}`)
			h := res.header.Get("WWW-Authenticate")
			if res.status != tt.wantStatus || !strings.Contains(res.body, tt.wantText) {
				t.Errorf("status %d %s, want %d containing %q", res.status, res.body, tt.wantStatus, tt.wantText)
			}
			if !strings.HasPrefix(h, "Bearer ") || !strings.Contains(h, `resource_metadata="`+tt.server.URL+`/.well-known/oauth-protected-resource/mcp/tool/call"`) {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge naming this endpoint's metadata", h)
			}
			if hasCode := strings.Contains(h, "error="); hasCode != (tt.wantCode != "") || !strings.Contains(h, tt.wantCode) {
				t.Errorf("WWW-Authenticate = %q, want error code %q", h, tt.wantCode)
			}
			if tt.token != "" && (strings.Contains(res.body, tt.token) || strings.Contains(h, tt.token)) {
				t.Error("the answer echoes the token")
			}
		})
	}
}

// tamper flips one byte of the token's payload, keeping it well-formed.
func tamper(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	payload[len(payload)/2] ^= 0x01
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

func TestExpiredTokenIsRefused(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes)
	tok := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	if res := do(t, "POST", a.URL+"/mcp/tool/call", tok, `{"tool":"get_me"}`); res.status != 200 {
		t.Fatalf("fresh token: %d %s", res.status, res.body)
	}
	a.clock.Advance(2 * time.Hour) // Gitea's access tokens live one hour
	res := do(t, "POST", a.URL+"/mcp/tool/call", tok, `{"tool":"get_me"}`)
	if res.status != 401 || !strings.Contains(res.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("expired token: %d %s, want 401 invalid_token", res.status, res.body)
	}
}

func TestRevokedGrantIsRefusedAfterTheCacheTTL(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes, "OAUTH_CACHE_TTL_SECONDS=60")
	tok := a.token(t, g, testgitea.BobName, toolScopes).AccessToken
	if res := do(t, "POST", a.URL+"/mcp/tool/call", tok, `{"tool":"get_me"}`); res.status != 200 {
		t.Fatalf("before revocation: %d %s", res.status, res.body)
	}
	if err := g.RevokeGrant(t.Context(), testgitea.BobName, tok); err != nil {
		t.Fatalf("RevokeGrant: %v", err)
	}
	// Within the TTL the cached verdict stands: that is the documented window.
	if res := do(t, "POST", a.URL+"/mcp/tool/call", tok, `{"tool":"get_me"}`); res.status == 401 {
		t.Log("revocation seen before the TTL passed (the verdict was not cached)")
	}
	a.clock.Advance(61 * time.Second)
	res := do(t, "POST", a.URL+"/mcp/tool/call", tok, `{"tool":"get_me"}`)
	if res.status != 401 || !strings.Contains(res.body, "not active") {
		t.Errorf("revoked grant after the TTL: %d %s, want 401 not active", res.status, res.body)
	}
}

func TestTokensOutsideTheHeaderAreRefused(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes)
	tok := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	tests := []struct {
		name   string
		method string
		url    string
		body   string
		header []string
	}{
		{name: "query access_token", method: "GET", url: a.URL + "/mcp/tools?access_token=" + tok},
		{name: "query token on /mcp", method: "POST", url: a.URL + "/mcp?token=" + tok, body: `{}`},
		{name: "form body", method: "POST", url: a.URL + "/mcp/tool/call", body: "access_token=" + tok,
			header: []string{"Content-Type", "application/x-www-form-urlencoded"}},
		{name: "two Authorization headers", method: "GET", url: a.URL + "/mcp/tools", header: []string{"Authorization", "Bearer " + tok}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			token := ""
			if tt.name == "two Authorization headers" {
				token = tok
			}
			res := do(t, tt.method, tt.url, token, body, tt.header...)
			if res.status != 400 || !strings.Contains(res.header.Get("WWW-Authenticate"), `error="invalid_request"`) {
				t.Errorf("%s = %d %s (WWW-Authenticate %q), want 400 invalid_request", tt.name, res.status, res.body, res.header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestProtectedResourceMetadata(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes, "OAUTH_RESOURCE_DOCUMENTATION=https://docs.example.com/aegis")
	for _, path := range []string{"", "/mcp", "/mcp/sse", "/mcp/tool/call", "/mcp/tools"} {
		res := do(t, "GET", a.URL+"/.well-known/oauth-protected-resource"+path, "", nil)
		var doc struct {
			Resource               string   `json:"resource"`
			AuthorizationServers   []string `json:"authorization_servers"`
			BearerMethodsSupported []string `json:"bearer_methods_supported"`
			ScopesSupported        []string `json:"scopes_supported"`
			ResourceDocumentation  string   `json:"resource_documentation"`
		}
		res.json(t, &doc)
		if res.status != 200 || doc.Resource != a.URL+path || len(doc.AuthorizationServers) != 1 || doc.AuthorizationServers[0] != g.URL ||
			strings.Join(doc.BearerMethodsSupported, ",") != "header" || !slices.Contains(doc.ScopesSupported, "read:repository") || !slices.Contains(doc.ScopesSupported, "read:issue") ||
			doc.ResourceDocumentation != "https://docs.example.com/aegis" {
			t.Errorf("metadata for %q = %d %s", path, res.status, res.body)
		}
	}
	o := startAegisFor(t, g, toolScopes, "OAUTH_ROOT_RESOURCE="+g.URL)
	var root struct {
		Resource string `json:"resource"`
	}
	do(t, "GET", o.URL+"/.well-known/oauth-protected-resource", "", nil).json(t, &root)
	if root.Resource != g.URL {
		t.Errorf("root resource with the override = %q, want %q", root.Resource, g.URL)
	}
}

func TestHostAndOriginChecks(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes, "ALLOWED_ORIGINS=https://chat.example.com")
	tok := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	tests := []struct {
		name       string
		header     []string
		wantStatus int
	}{
		{name: "plain", wantStatus: 200},
		{name: "allowed origin", header: []string{"Origin", "https://chat.example.com"}, wantStatus: 200},
		{name: "own origin", header: []string{"Origin", a.URL}, wantStatus: 200},
		{name: "foreign origin", header: []string{"Origin", "https://evil.example.com"}, wantStatus: 403},
		{name: "localhost host (reverse proxy)", header: []string{"Host", "localhost"}, wantStatus: 200},
		{name: "rebinding host", header: []string{"Host", "evil.example.com"}, wantStatus: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := doHost(t, a.URL+"/mcp/tools", tok, tt.header...)
			if res.status != tt.wantStatus {
				t.Errorf("GET /mcp/tools with %v = %d %s, want %d", tt.header, res.status, res.body, tt.wantStatus)
			}
		})
	}
}

// TestWrongClientSecretFailsClosed: with a misconfigured client secret no
// token can be verified, so every call is refused with 503, never allowed.
func TestWrongClientSecretFailsClosed(t *testing.T) {
	g := needGitea(t)
	app, err := g.App(t.Context(), toolScopes)
	if err != nil {
		t.Fatal(err)
	}
	wrong := *app
	wrong.ClientSecret = "gto_not_the_secret"
	a := startAegis(t, g, &wrong)
	tok, err := g.AuthorizationCode(t.Context(), g.User(testgitea.AliceName), app, toolScopes)
	if err != nil {
		t.Fatal(err)
	}
	res := do(t, "POST", a.URL+"/mcp/tool/call", tok.AccessToken, `{"tool":"get_me"}`)
	if res.status != 503 || res.header.Get("Retry-After") == "" {
		t.Errorf("valid token with a wrong client secret = %d %s, want 503 with Retry-After", res.status, res.body)
	}
	if !strings.Contains(a.logs.String(), "GITEA_OAUTH_CLIENT_SECRET") {
		t.Error("the misconfiguration is not logged")
	}
}
