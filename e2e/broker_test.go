package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/broker"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/seal"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/server"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store/sqlstore"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// clientRedirect is the redirect URI of the test's MCP client. Nothing
// listens there: the test reads the code from the redirect's Location.
const clientRedirect = "http://127.0.0.1:1/client/callback"

var brokerApps atomic.Int32

// brokerServer is a server in broker mode with its own Gitea OAuth app,
// whose redirect URI is the server's /oauth/callback (and the harness's,
// so a test can also get a Gitea token of the same grant).
type brokerServer struct {
	*aegis
	g       *testgitea.Gitea
	key     string // BROKER_ENCRYPTION_KEY
	dataDir string // BROKER_DATA_DIR
}

func startBroker(t *testing.T, extra ...string) *brokerServer {
	t.Helper()
	return startBrokerWith(t, nil, extra...)
}

// startBrokerWith is startBroker with the server's options changed by
// change (nil: none).
func startBrokerWith(t *testing.T, change func(*server.Options), extra ...string) *brokerServer {
	t.Helper()
	g := needGitea(t)
	l := listenLoopback(t)
	base := "http://" + l.Addr().String()
	app, err := g.CreateOAuthAppFor(t.Context(), fmt.Sprintf("aegis-broker-%d", brokerApps.Add(1)), base+"/oauth/callback", localgitea.RedirectURI)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	key, dir := base64.StdEncoding.EncodeToString(raw), t.TempDir()
	env := append([]string{"OAUTH_BROKER=true", "BROKER_ENCRYPTION_KEY=" + key, "BROKER_DATA_DIR=" + dir}, extra...)
	return &brokerServer{aegis: startAegisWith(t, l, g, app, change, env...), g: g, key: key, dataDir: dir}
}

// giteaTokens opens the broker's database with its key and returns the
// Gitea tokens it keeps, in the clear, and registers them with the
// harness, which fails the test if the server ever logs one.
func (b *brokerServer) giteaTokens(t *testing.T) []string {
	t.Helper()
	st, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(b.dataDir, "broker.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	keys, err := seal.ParseKeyring(b.key)
	if err != nil {
		t.Fatal(err)
	}
	ups, err := st.Upstreams(t.Context())
	if err != nil || len(ups) == 0 {
		t.Fatalf("the broker keeps no Gitea grant: %v", err)
	}
	var out []string
	for _, u := range ups {
		for _, sealed := range []string{u.SealedAccess, u.SealedRefresh} {
			if strings.Contains(sealed, ".eyJ") {
				t.Errorf("a Gitea token is stored in the clear")
			}
		}
		access, err := keys.Open(u.SealedAccess, "gitea-access|"+u.UserID)
		if err != nil {
			t.Fatal(err)
		}
		refresh, err := keys.Open(u.SealedRefresh, "gitea-refresh|"+u.UserID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, access, refresh)
	}
	b.mu.Lock()
	b.tokens = append(b.tokens, out...)
	b.mu.Unlock()
	return out
}

// register registers a public client by RFC 7591 and returns its id.
func (b *brokerServer) register(t *testing.T, redirect string) string {
	t.Helper()
	res := do(t, "POST", b.URL+"/oauth/register", "", map[string]any{"client_name": "E2E client", "redirect_uris": []string{redirect}})
	if res.status != http.StatusCreated {
		t.Fatalf("register: %d %s", res.status, res.body)
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	res.json(t, &reg)
	return reg.ClientID
}

// pkce is a client's PKCE pair.
type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	v := make([]byte, 32)
	_, _ = rand.Read(v)
	verifier := base64.RawURLEncoding.EncodeToString(v)
	sum := sha256.Sum256([]byte(verifier))
	return pkce{verifier: verifier, challenge: base64.RawURLEncoding.EncodeToString(sum[:])}
}

// authorizeURL is the client's authorization request.
func (b *brokerServer) authorizeURL(clientID string, p pkce, state string, change func(url.Values)) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {clientRedirect},
		"code_challenge": {p.challenge}, "code_challenge_method": {"S256"}, "state": {state},
		"resource": {b.URL + "/mcp"}, "scope": {"read:repository read:user read:issue"},
	}
	if change != nil {
		change(q)
	}
	return b.URL + "/oauth/authorize?" + q.Encode()
}

// signIn runs a browser signed in at Gitea as user from the client's
// authorization request to the page the broker answers after Gitea's
// redirect back (its consent page, or the client's redirect).
func (b *brokerServer) signIn(t *testing.T, browser *localgitea.Browser, authorize string) *localgitea.Page {
	t.Helper()
	p, err := browser.Get(t.Context(), authorize)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != http.StatusFound || !strings.HasPrefix(p.Location, b.g.URL+"/login/oauth/authorize") {
		t.Fatalf("authorize: %d to %q, want a redirect to Gitea: %s", p.Status, p.Location, p.Body)
	}
	if p, err = browser.Follow(t.Context(), p, b.App.ClientID); err != nil { // Gitea: sign-in known, approve
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Location, b.URL+"/oauth/callback?") {
		t.Fatalf("Gitea answered %d to %q, want a redirect to the broker's callback", p.Status, p.Location)
	}
	if p, err = browser.Follow(t.Context(), p, ""); err != nil { // the callback
		t.Fatal(err)
	}
	return p
}

// consent shows the consent page p leads to and answers it with decision.
func (b *brokerServer) consent(t *testing.T, browser *localgitea.Browser, p *localgitea.Page, decision string) (*localgitea.Page, *localgitea.Page) {
	t.Helper()
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, b.URL+"/oauth/consent?") {
		t.Fatalf("callback: %d to %q, want the consent page", p.Status, p.Location)
	}
	page, err := browser.Follow(t.Context(), p, "")
	if err != nil {
		t.Fatal(err)
	}
	if page.Status != http.StatusOK {
		t.Fatalf("consent page: %d %s", page.Status, page.Body)
	}
	form := localgitea.HiddenFields(page.Body, "/oauth/consent")
	form.Set("decision", decision)
	answer, err := browser.Post(t.Context(), b.URL+"/oauth/consent", form, http.Header{"Origin": {b.URL}, "Sec-Fetch-Site": {"same-origin"}})
	if err != nil {
		t.Fatal(err)
	}
	return page, answer
}

// codeOf reads the code sent to the client's redirect URI, checking state
// and iss.
func (b *brokerServer) codeOf(t *testing.T, p *localgitea.Page, state string) string {
	t.Helper()
	loc, err := url.Parse(p.Location)
	if err != nil || !strings.HasPrefix(p.Location, clientRedirect+"?") {
		t.Fatalf("%d to %q, want the client's redirect URI", p.Status, p.Location)
	}
	q := loc.Query()
	if q.Get("state") != state || q.Get("iss") != b.URL || q.Get("code") == "" {
		t.Fatalf("redirect %v: want state %q, iss %q and a code", q, state, b.URL)
	}
	return q.Get("code")
}

type brokerTokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
}

// tokenRequest posts form to the token endpoint.
func (b *brokerServer) tokenRequest(t *testing.T, form url.Values) (int, brokerTokens) {
	t.Helper()
	resp, err := postForm(t, b.URL+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out brokerTokens
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("token endpoint: %d, not JSON: %v", resp.StatusCode, err)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("token endpoint: Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
	}
	if out.AccessToken != "" {
		b.mu.Lock()
		b.tokens = append(b.tokens, out.AccessToken, out.RefreshToken)
		b.mu.Unlock()
	}
	return resp.StatusCode, out
}

func redeem(clientID, code string, p pkce) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "code": {code},
		"redirect_uri": {clientRedirect}, "code_verifier": {p.verifier}}
}

func refreshForm(clientID, rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {rt}}
}

// TestBrokerCodeFlow runs the whole broker flow on the real Gitea:
// discovery, registration, sign-in at Gitea, this server's consent page,
// the code exchange, tools called as the user, refresh rotation and reuse
// detection, a remembered consent, and revocation.
func TestBrokerCodeFlow(t *testing.T) {
	b := startBroker(t)

	var meta map[string]any
	do(t, "GET", b.URL+"/.well-known/oauth-authorization-server", "", nil).json(t, &meta)
	for k, want := range map[string]any{"issuer": b.URL, "authorization_endpoint": b.URL + "/oauth/authorize",
		"token_endpoint": b.URL + "/oauth/token", "registration_endpoint": b.URL + "/oauth/register",
		"client_id_metadata_document_supported": true, "authorization_response_iss_parameter_supported": true} {
		if meta[k] != want {
			t.Errorf("metadata %s = %v, want %v", k, meta[k], want)
		}
	}
	if fmt.Sprint(meta["code_challenge_methods_supported"]) != "[S256]" {
		t.Errorf("code_challenge_methods_supported = %v, want [S256]", meta["code_challenge_methods_supported"])
	}
	var prm struct {
		AuthorizationServers []string `json:"authorization_servers"`
	}
	do(t, "GET", b.URL+"/.well-known/oauth-protected-resource/mcp", "", nil).json(t, &prm)
	if len(prm.AuthorizationServers) != 1 || prm.AuthorizationServers[0] != b.URL {
		t.Errorf("protected resource metadata names %v, want this server as the authorization server", prm.AuthorizationServers)
	}

	clientID := b.register(t, clientRedirect)
	browser, err := b.g.SignIn(t.Context(), b.g.User(testgitea.AliceName))
	if err != nil {
		t.Fatal(err)
	}
	p := newPKCE()
	page, answer := b.consent(t, browser, b.signIn(t, browser, b.authorizeURL(clientID, p, "s1", nil)), "allow")
	for _, want := range []string{"E2E client", testgitea.AliceName, clientRedirect, "read:repository", clientID} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the consent page does not show %q", want)
		}
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || page.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("the consent page may be framed: CSP %q, X-Frame-Options %q", csp, page.Header.Get("X-Frame-Options"))
	}
	code := b.codeOf(t, answer, "s1")

	status, tok := b.tokenRequest(t, redeem(clientID, code, p))
	if status != http.StatusOK || !strings.HasPrefix(tok.AccessToken, "aegis_at_") || tok.RefreshToken == "" || tok.TokenType != "Bearer" {
		t.Fatalf("code exchange: %d %+v", status, tok)
	}
	// The Gitea tokens the broker keeps reach no page, answer or log.
	seen := page.Body + answer.Location + fmt.Sprint(tok)
	for _, gt := range b.giteaTokens(t) {
		if strings.Contains(seen, gt) {
			t.Errorf("a Gitea token reached the client or the browser")
		}
	}
	if status, again := b.tokenRequest(t, redeem(clientID, code, p)); status != http.StatusBadRequest || again.Error != "invalid_grant" {
		t.Errorf("the code redeemed twice: %d %q, want 400 invalid_grant", status, again.Error)
	}

	me := mustCall(t, b.aegis, tok.AccessToken, "get_me", nil)
	if me["login"] != testgitea.AliceName {
		t.Errorf("get_me through the broker = %v, want alice", me["login"])
	}
	cs := b.connect(t, "/mcp", tok.AccessToken)
	if text, isErr := call(t, cs, "get_me", nil); isErr || !strings.Contains(text, testgitea.AliceName) {
		t.Errorf("get_me over an MCP session: %v %s", isErr, text)
	}

	// A Gitea token is not a token of this server.
	gtok, _, err := b.g.OAuthToken(t.Context(), testgitea.BobName, toolScopes)
	if err != nil {
		t.Fatal(err)
	}
	if res := b.toolCall(t, gtok.AccessToken, "get_me", nil); res.Status != http.StatusUnauthorized {
		t.Errorf("a Gitea token in broker mode: %d, want 401", res.Status)
	}
	// Nor is a broker token a token of a server in direct mode.
	direct := startAegisFor(t, b.g, toolScopes)
	if res := direct.toolCall(t, tok.AccessToken, "get_me", nil); res.Status != http.StatusUnauthorized {
		t.Errorf("a broker token in direct mode: %d, want 401", res.Status)
	}

	// Refresh rotates; the spent refresh token used again revokes everything.
	status, next := b.tokenRequest(t, refreshForm(clientID, tok.RefreshToken))
	if status != http.StatusOK || next.AccessToken == tok.AccessToken || next.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %d %+v", status, next)
	}
	if got := mustCall(t, b.aegis, next.AccessToken, "get_me", nil); got["login"] != testgitea.AliceName {
		t.Errorf("get_me with the refreshed token = %v", got["login"])
	}
	if status, reused := b.tokenRequest(t, refreshForm(clientID, tok.RefreshToken)); status != http.StatusBadRequest || reused.Error != "invalid_grant" {
		t.Errorf("a spent refresh token: %d %q, want 400 invalid_grant", status, reused.Error)
	}
	for name, tk := range map[string]string{"first": tok.AccessToken, "refreshed": next.AccessToken} {
		if res := b.toolCall(t, tk, "get_me", nil); res.Status != http.StatusUnauthorized {
			t.Errorf("the %s access token after refresh-token reuse: %d, want 401", name, res.Status)
		}
	}
	if status, _ := b.tokenRequest(t, refreshForm(clientID, next.RefreshToken)); status != http.StatusBadRequest {
		t.Errorf("the refreshed refresh token after reuse: %d, want 400", status)
	}

	// The consent is remembered: a second authorization needs no page.
	p2 := newPKCE()
	code2 := b.codeOf(t, b.signIn(t, browser, b.authorizeURL(clientID, p2, "s2", nil)), "s2")
	status, tok2 := b.tokenRequest(t, redeem(clientID, code2, p2))
	if status != http.StatusOK {
		t.Fatalf("second code exchange: %d %+v", status, tok2)
	}

	// Revocation (RFC 7009) ends the authorization.
	resp, err := postForm(t, b.URL+"/oauth/revoke", url.Values{"client_id": {clientID}, "token": {tok2.AccessToken}})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("revoke: %d", resp.StatusCode)
	}
	if res := b.toolCall(t, tok2.AccessToken, "get_me", nil); res.Status != http.StatusUnauthorized {
		t.Errorf("a revoked access token: %d, want 401", res.Status)
	}
	if status, _ := b.tokenRequest(t, refreshForm(clientID, tok2.RefreshToken)); status != http.StatusBadRequest {
		t.Errorf("the refresh token of a revoked authorization: %d, want 400", status)
	}

	// Each broker event is on record, naming the user and the client.
	logged, err := os.ReadFile(b.auditLog)
	if err != nil {
		t.Fatal(err)
	}
	for _, reason := range []string{broker.ReasonRegistered, broker.ReasonAuthorized, broker.ReasonRefreshReused, broker.ReasonRevoked} {
		found := false
		for line := range strings.SplitSeq(string(logged), "\n") {
			var e audit.Event
			if json.Unmarshal([]byte(line), &e) == nil && e.Kind == audit.KindSecurityEvent && e.Reason == reason && e.Caller.ClientID == clientID &&
				(reason == broker.ReasonRegistered || e.Caller.Login == testgitea.AliceName) {
				found = true
			}
		}
		if !found {
			t.Errorf("the audit log has no security_event %q for the client (and alice)", reason)
		}
	}
}

// TestBrokerGiteaRevocationEndsAccess: the user removes the app at Gitea;
// the next refresh at the broker is refused.
func TestBrokerGiteaRevocationEndsAccess(t *testing.T) {
	b := startBroker(t)
	clientID := b.register(t, clientRedirect)
	browser, err := b.g.SignIn(t.Context(), b.g.User(testgitea.BobName))
	if err != nil {
		t.Fatal(err)
	}
	p := newPKCE()
	_, answer := b.consent(t, browser, b.signIn(t, browser, b.authorizeURL(clientID, p, "r", nil)), "allow")
	_, tok := b.tokenRequest(t, redeem(clientID, b.codeOf(t, answer, "r"), p))
	if got := mustCall(t, b.aegis, tok.AccessToken, "get_me", nil); got["login"] != testgitea.BobName {
		t.Fatalf("get_me = %v", got["login"])
	}
	// A token of the same grant (the broker's Gitea app, bob) names the grant to revoke.
	same, err := b.g.AuthorizationCode(t.Context(), b.g.User(testgitea.BobName), b.App, "read:repository read:user read:issue")
	if err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	b.tokens = append(b.tokens, same.AccessToken, same.RefreshToken)
	b.mu.Unlock()
	if err := b.g.RevokeGrant(t.Context(), testgitea.BobName, same.AccessToken); err != nil {
		t.Fatal(err)
	}
	if status, out := b.tokenRequest(t, refreshForm(clientID, tok.RefreshToken)); status != http.StatusBadRequest || out.Error != "invalid_grant" {
		t.Errorf("refresh after the grant was revoked at Gitea: %d %q, want 400 invalid_grant", status, out.Error)
	}
}

func postForm(t *testing.T, target string, form url.Values) (*http.Response, error) {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return http.DefaultClient.Do(req)
}

// TestBrokerStepUp: a token consented for reading is refused a write with a
// 403 insufficient_scope challenge naming the write scope; the client asks
// again for it, the user sees the consent page again (the earlier consent
// does not cover writes) and the new token writes. The Gitea grant needs no
// change: the broker asked Gitea for every scope its tools use at the first
// sign-in.
func TestBrokerStepUp(t *testing.T) {
	g := needGitea(t)
	repo := freshRepo(t, g, testgitea.AliceName, "stepup")
	b := startBroker(t, "WRITE_MODE=true", "WRITE_REPOSITORY_WHITELIST=alice/"+repo)
	clientID := b.register(t, clientRedirect)
	browser, err := b.g.SignIn(t.Context(), b.g.User(testgitea.AliceName))
	if err != nil {
		t.Fatal(err)
	}
	read := newPKCE()
	_, answer := b.consent(t, browser, b.signIn(t, browser, b.authorizeURL(clientID, read, "r", nil)), "allow")
	_, tok := b.tokenRequest(t, redeem(clientID, b.codeOf(t, answer, "r"), read))
	if tok.Scope != "read:issue read:repository read:user" {
		t.Errorf("the read token's scope = %q", tok.Scope)
	}
	args := map[string]any{"owner": testgitea.AliceName, "repo": repo, "title": "step-up"}
	res := b.toolCall(t, tok.AccessToken, "create_issue", args)
	if res.Status != http.StatusForbidden || !strings.Contains(res.WWWAuthenticate, `error="insufficient_scope"`) || !strings.Contains(res.WWWAuthenticate, "write:issue") {
		t.Fatalf("a write with the read token: %d %q, want 403 insufficient_scope naming write:issue", res.Status, res.WWWAuthenticate)
	}
	if !strings.Contains(res.WWWAuthenticate, "authorize again through this server") || strings.Contains(res.WWWAuthenticate, "revoke") {
		t.Errorf("the broker's 403 should send the client back here, not to Gitea's settings: %q", res.WWWAuthenticate)
	}

	write := newPKCE()
	page, answer := b.consent(t, browser, b.signIn(t, browser, b.authorizeURL(clientID, write, "w", func(q url.Values) {
		q.Set("scope", "read:repository read:user write:issue")
	})), "allow")
	if !strings.Contains(page.Body, "(write:issue)") {
		t.Errorf("the step-up consent page does not show write:issue")
	}
	_, tok2 := b.tokenRequest(t, redeem(clientID, b.codeOf(t, answer, "w"), write))
	if tok2.Scope != "write:issue read:repository read:user" {
		t.Errorf("the stepped-up token's scope = %q", tok2.Scope)
	}
	if got := mustCall(t, b.aegis, tok2.AccessToken, "create_issue", args); got["number"] == nil {
		t.Errorf("create_issue with the stepped-up token = %v", got)
	}
}

// TestBrokerEndpointsAreLimitedPerAddress: the broker's endpoints share the
// per-address request limit of the MCP endpoints.
func TestBrokerEndpointsAreLimitedPerAddress(t *testing.T) {
	b := startBroker(t, "RATE_LIMIT_PER_IP_PER_SECOND=3")
	limited := 0
	for range 8 {
		res := do(t, "POST", b.URL+"/oauth/token", "", map[string]any{})
		if res.status == http.StatusTooManyRequests {
			limited++
			if res.header.Get("Retry-After") == "" {
				t.Error("a 429 without Retry-After")
			}
		}
	}
	if limited == 0 {
		t.Error("8 token requests at once from one address at 3 a second: none refused")
	}
}
