package e2e

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/server"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// brokerClientsEnv selects TestBrokerTypeScriptClient; `make
// broker-clients` sets it. The client needs npm (to install the pinned SDK
// and Node 22), so it is a target of its own rather than part of every
// `go test`.
const brokerClientsEnv = "AEGIS_BROKER_CLIENTS"

// tsRedirect is the TypeScript client's redirect URI. Nothing listens
// there: the test's browser reads the redirect's Location and hands it to
// the client on its stdin.
const tsRedirect = "http://127.0.0.1:1/ts-client/callback"

// TestBrokerTypeScriptClient runs the official MCP TypeScript SDK's own
// OAuth client (scripts/broker-client: auth() and the Streamable HTTP
// transport with an OAuthClientProvider) through the whole broker flow on
// the real Gitea: discovery, registration (DCR, or a Client ID Metadata
// Document served here over TLS), sign-in at Gitea and this server's
// consent page in the test's browser, the code exchange, tools listed and
// called as the user, a refresh by the SDK's own 401 handling, and
// revocation; and step-up from reading to writing after a 403
// insufficient_scope (stepup).
func TestBrokerTypeScriptClient(t *testing.T) {
	if os.Getenv(brokerClientsEnv) != "1" {
		t.Skip("the TypeScript SDK client runs with `make broker-clients` (" + brokerClientsEnv + "=1)")
	}

	t.Run("dcr", func(t *testing.T) {
		b := startBroker(t)
		run := b.runTSClient(t, testgitea.AliceName, "E2E TypeScript client")
		run.check(t, b, testgitea.AliceName, "dcr")
		if id := run.clientID(t); !strings.HasPrefix(id, "dyn_") {
			t.Errorf("client_id %q, want a registered (dyn_) one", id)
		}
		if n := run.requests("POST", "/oauth/register", http.StatusCreated, ""); n != 1 {
			t.Errorf("%d successful registrations, want 1 (DCR)", n)
		}
	})

	t.Run("cimd", func(t *testing.T) {
		var fetched atomic.Int32
		const name = "E2E TypeScript client (CIMD)"
		var docURL string
		docs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/ts-client.json" {
				http.NotFound(w, r)
				return
			}
			fetched.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"client_id": docURL, "client_name": name, "redirect_uris": []string{tsRedirect},
				"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
				"token_endpoint_auth_method": "none",
			})
		}))
		t.Cleanup(docs.Close)
		docURL = docs.URL + "/ts-client.json"
		roots := x509.NewCertPool()
		roots.AddCert(docs.Certificate())
		b := startBrokerWith(t, func(o *server.Options) { o.ClientMetadataRootCAs = roots }, "BROKER_ALLOW_PRIVATE_METADATA_URLS=true")

		run := b.runTSClient(t, testgitea.BobName, name, "CLIENT_METADATA_URL="+docURL)
		run.check(t, b, testgitea.BobName, "cimd")
		if id := run.clientID(t); id != docURL {
			t.Errorf("client_id %q, want the metadata document's URL %q", id, docURL)
		}
		if n := run.requests("POST", "/oauth/register", 0, ""); n != 0 {
			t.Errorf("%d registration requests, want none (CIMD)", n)
		}
		if fetched.Load() == 0 {
			t.Error("the broker never fetched the client metadata document")
		}
	})

	// stepup: authorized for reading only, the client calls create_issue,
	// is refused with 403 insufficient_scope, asks again for the
	// challenge's scope (a second authorization, whose consent page the
	// stored read consent does not skip) and then writes. SDK 1.32.2 does
	// not get there alone with a refresh token in hand (its 403 handling
	// refreshes, which cannot widen the grant, and gives up), so the
	// script re-authorizes through auth() itself; see stepUp in
	// scripts/broker-client/client.mjs and checkStepUp.
	t.Run("stepup", func(t *testing.T) {
		repo := freshRepo(t, needGitea(t), testgitea.AliceName, "ts-stepup")
		b := startBroker(t, "WRITE_MODE=true", "WRITE_REPOSITORY_WHITELIST=alice/"+repo)
		const name = "E2E TypeScript client (step-up)"
		run := b.runTSClientN(t, testgitea.AliceName, name, 2, "STEP_UP_REPO=alice/"+repo)
		run.checkStepUp(t, b, testgitea.AliceName, repo, name)
	})
}

// tsRun is what one run of scripts/broker-client showed.
type tsRun struct {
	events    []map[string]any // stdout's JSON lines, without the authorize lines
	output    string           // stdout and stderr
	tokens    []string         // the tokens the client held (its TOKEN_FILE)
	authorize *url.URL         // the (first) authorization request the SDK built
	consent   *localgitea.Page // this server's consent page for it
	// authorizations are all the authorization requests the browser
	// followed, in order, each with the consent page it was shown.
	authorizations []tsAuthorization
}

type tsAuthorization struct {
	request *url.URL
	consent *localgitea.Page
}

// runTSClient runs the SDK client against b's /mcp and stands in for its
// browser: a browser signed in at Gitea as user follows the authorization
// request through Gitea and approves this server's consent page, which
// must name clientName; the client gets the final redirect on its stdin.
// The client may ask for one authorization.
func (b *brokerServer) runTSClient(t *testing.T, user, clientName string, env ...string) *tsRun {
	t.Helper()
	return b.runTSClientN(t, user, clientName, 1, env...)
}

// runTSClientN is runTSClient for a client that may ask for up to
// maxAuthorizations authorizations, each followed by the same browser.
func (b *brokerServer) runTSClientN(t *testing.T, user, clientName string, maxAuthorizations int, env ...string) *tsRun {
	t.Helper()
	browser, err := b.g.SignIn(t.Context(), b.g.User(user))
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "tokens.json")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "../scripts/broker-client/run.sh")
	cmd.Env = append(os.Environ(), "MCP_URL="+b.URL+"/mcp", "REDIRECT_URL="+tsRedirect, "TOKEN_FILE="+tokenFile, "CLIENT_NAME="+clientName)
	cmd.Env = append(cmd.Env, env...)
	// run.sh execs timeout(1), which passes SIGTERM on to Node.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	defer func() { // on a t.Fatal in the browser's steps too
		if !waited {
			_ = stdin.Close()
			cancel()
			_ = cmd.Wait()
		}
	}()

	run := &tsRun{}
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Errorf("the client printed a line that is not JSON: %.200q", line)
			continue
		}
		target, ok := ev["authorize"].(string)
		if !ok {
			run.events = append(run.events, ev)
			continue
		}
		if len(run.authorizations) == maxAuthorizations {
			t.Errorf("the client asked for authorization %d, want at most %d", len(run.authorizations)+1, maxAuthorizations)
			_ = stdin.Close()
			continue
		}
		final := b.authorizeTS(t, browser, run, clientName, target)
		if _, err := io.WriteString(stdin, final+"\n"); err != nil {
			t.Fatalf("writing the redirect to the client: %v", err)
		}
	}
	_ = stdin.Close()
	err = cmd.Wait()
	waited = true
	out.WriteString(stderr.String())
	run.output = out.String()

	// The client writes its token file even when it fails. The output is
	// logged with the tokens blotted out, should it hold any (check
	// fails the test then).
	var held struct{ Tokens []string }
	data, ferr := os.ReadFile(tokenFile)
	if ferr == nil {
		ferr = json.Unmarshal(data, &held)
	}
	run.tokens = held.Tokens
	b.mu.Lock()
	b.tokens = append(b.tokens, held.Tokens...)
	b.mu.Unlock()
	shown := run.output
	for _, tok := range held.Tokens {
		shown = strings.ReplaceAll(shown, tok, "[a token]")
	}
	t.Logf("scripts/broker-client:\n%s", shown)
	if err != nil {
		t.Fatalf("scripts/broker-client failed: %v", err)
	}
	if ferr != nil {
		t.Fatalf("the client's token file: %v", ferr)
	}
	return run
}

// authorizeTS takes the browser from the SDK's authorization request
// through Gitea and the consent page (which must name clientName), and
// returns where it was finally sent: the client's redirect URI with the
// code.
func (b *brokerServer) authorizeTS(t *testing.T, browser *localgitea.Browser, run *tsRun, clientName, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Scheme+"://"+u.Host+u.Path != b.URL+"/oauth/authorize" {
		t.Fatalf("the client's authorization request goes to %q, want this server's authorization endpoint", target)
	}
	// b.consent fails the test unless the broker shows its consent page:
	// no authorization here is covered by a consent given before.
	page, answer := b.consent(t, browser, b.signIn(t, browser, target), "allow")
	run.authorizations = append(run.authorizations, tsAuthorization{request: u, consent: page})
	if run.authorize == nil {
		run.authorize, run.consent = u, page
	}
	if !strings.Contains(page.Body, clientName) {
		t.Errorf("the consent page does not name the client %q", clientName)
	}
	if answer.Status != http.StatusSeeOther && answer.Status != http.StatusFound || !strings.HasPrefix(answer.Location, tsRedirect+"?") {
		t.Fatalf("consent answered %d to %q, want the client's redirect URI", answer.Status, answer.Location)
	}
	final, _ := url.Parse(answer.Location)
	b.mu.Lock()
	b.tokens = append(b.tokens, final.Query().Get("code")) // a credential too: never logged
	b.mu.Unlock()
	return answer.Location
}

// event returns the last event named name, failing the test without it.
func (r *tsRun) event(t *testing.T, name string) map[string]any {
	t.Helper()
	for i := len(r.events) - 1; i >= 0; i-- {
		if r.events[i]["event"] == name {
			return r.events[i]
		}
	}
	t.Fatalf("the client reported no %q", name)
	return nil
}

func (r *tsRun) clientID(t *testing.T) string {
	t.Helper()
	id, _ := r.event(t, "client")["client_id"].(string)
	return id
}

// requests counts the SDK's requests with method to path answered with
// status (0: any) carrying grant type grant ("": any).
func (r *tsRun) requests(method, path string, status int, grant string) int {
	n := 0
	for _, ev := range r.events {
		if ev["event"] == "http" && ev["method"] == method && ev["path"] == path &&
			(status == 0 || ev["status"] == float64(status)) && (grant == "" || ev["grant_type"] == grant) {
			n++
		}
	}
	return n
}

// check asserts what every run must show: the SDK discovered this server,
// registered as mode, built a PKCE authorization request for the MCP
// resource, got tokens, listed and called tools as user, refreshed on its
// own and was refused once its tokens were revoked; no token in its output.
func (r *tsRun) check(t *testing.T, b *brokerServer, user, mode string) {
	t.Helper()
	r.event(t, "done")
	start := r.event(t, "start")
	if node, _ := start["node"].(string); !strings.HasPrefix(node, "22.") || start["sdk"] == "" || start["mode"] != mode {
		t.Errorf("start: %v, want Node 22, an SDK version and mode %s", start, mode)
	}
	t.Logf("@modelcontextprotocol/sdk %v on Node %v, %s", start["sdk"], start["node"], mode)

	// Discovery: RFC 9728 first (the 401's resource_metadata), then RFC 8414.
	d := r.event(t, "discovery")
	for k, want := range map[string]any{"issuer": b.URL, "resource": b.URL + "/mcp", "revocation_endpoint": b.URL + "/oauth/revoke",
		"registration_endpoint": b.URL + "/oauth/register", "client_id_metadata_document_supported": true} {
		if d[k] != want {
			t.Errorf("discovered %s = %v, want %v", k, d[k], want)
		}
	}
	if as, _ := d["authorization_server"].(string); strings.TrimSuffix(as, "/") != b.URL {
		t.Errorf("discovered authorization server %q, want %q", as, b.URL)
	}
	if r.requests("POST", "/mcp", http.StatusUnauthorized, "") == 0 || r.requests("GET", "/.well-known/oauth-protected-resource/mcp", http.StatusOK, "") == 0 ||
		r.requests("GET", "/.well-known/oauth-authorization-server", http.StatusOK, "") == 0 {
		t.Error("the SDK did not go 401 → protected resource metadata → authorization server metadata")
	}

	// The authorization request is the SDK's: PKCE S256, the resource
	// indicator of /mcp, the client's redirect URI, the scopes the
	// challenge named.
	q := r.authorize.Query()
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43 ||
		q.Get("resource") != b.URL+"/mcp" || q.Get("redirect_uri") != tsRedirect || q.Get("state") == "" ||
		q.Get("client_id") != r.clientID(t) || !strings.Contains(q.Get("scope"), "read:repository") {
		t.Errorf("the SDK's authorization request: %v", q)
	}
	for _, want := range []string{r.event(t, "client")["client_id"].(string), tsRedirect, user} {
		if !strings.Contains(r.consent.Body, want) {
			t.Errorf("the consent page does not show %q", want)
		}
	}
	if cb := r.event(t, "callback"); cb["state_ok"] != true || cb["iss_ok"] != true {
		t.Errorf("the authorization response as the client saw it: %v, want its state and this server as iss", cb)
	}

	// Tokens: the code exchange and the refresh, each the SDK's request.
	if r.requests("POST", "/oauth/token", http.StatusOK, "authorization_code") != 1 {
		t.Error("no successful authorization_code exchange by the SDK")
	}
	if r.requests("POST", "/oauth/token", http.StatusOK, "refresh_token") != 1 {
		t.Error("no successful refresh by the SDK")
	}
	var saves int
	for _, ev := range r.events {
		if ev["event"] != "tokens" {
			continue
		}
		saves++
		if ev["access_prefix"] != "aegis_at_" || ev["refresh_prefix"] != "aegis_rt_" || !strings.EqualFold(fmt.Sprint(ev["token_type"]), "bearer") {
			t.Errorf("tokens: %v, want this server's access and refresh tokens", ev)
		}
	}
	if saves != 2 || len(r.tokens) != 4 {
		t.Errorf("the client saved tokens %d times and held %d tokens, want 2 and 4 (code exchange, refresh)", saves, len(r.tokens))
	}

	// As the user.
	if tools := r.event(t, "tools"); !slices.Contains(anyStrings(tools["names"]), "get_me") {
		t.Errorf("tools listed: %v, want get_me among them", tools["names"])
	}
	if me := r.event(t, "get_me"); me["login"] != user || me["is_error"] != false {
		t.Errorf("get_me: %v, want %s", me, user)
	}
	if ref := r.event(t, "refresh"); ref["refreshed"] != true || ref["new_access_token"] != true || ref["new_refresh_token"] != true || ref["login"] != user {
		t.Errorf("refresh by the SDK's 401 handling: %v, want new tokens and get_me as %s", ref, user)
	}

	// Revoked: the access token is refused, the SDK's refresh too, and it
	// asks for a new sign-in.
	if rev := r.event(t, "revoke"); rev["status"] != float64(http.StatusOK) {
		t.Errorf("revocation: %v, want 200", rev)
	}
	if ra := r.event(t, "revoked_access_token"); ra["status"] != float64(http.StatusUnauthorized) || ra["challenge"] != "Bearer" {
		t.Errorf("the revoked access token: %v, want 401 with a Bearer challenge", ra)
	}
	if after := r.event(t, "after_revocation"); after["outcome"] != "unauthorized" || after["tokens_dropped"] != true || after["reauthorization_requested"] != true {
		t.Errorf("the SDK after the revocation: %v, want it refused, its tokens dropped and a new sign-in asked for", after)
	}
	if r.requests("POST", "/oauth/token", http.StatusBadRequest, "refresh_token") != 1 {
		t.Error("the SDK's refresh with the revoked refresh token was not refused with 400")
	}

	// And from here: every token the client held is refused.
	r.noTokensShown(t)
	for _, tok := range r.tokens {
		switch {
		case strings.HasPrefix(tok, "aegis_at_"):
			if res := b.toolCall(t, tok, "get_me", nil); res.Status != http.StatusUnauthorized {
				t.Errorf("an access token of the revoked authorization: %d, want 401", res.Status)
			}
		case strings.HasPrefix(tok, "aegis_rt_"):
			if status, _ := b.tokenRequest(t, refreshForm(r.clientID(t), tok)); status != http.StatusBadRequest {
				t.Errorf("a refresh token of the revoked authorization: %d, want 400", status)
			}
		}
	}
}

// noTokensShown fails the test if the client's output holds a token it
// held, or it held one that is not this server's. (The server's own logs
// are checked when it stops: runTSClient registered the tokens.)
func (r *tsRun) noTokensShown(t *testing.T) {
	t.Helper()
	if len(r.tokens) == 0 {
		t.Error("the client held no tokens")
	}
	for _, tok := range r.tokens {
		if strings.Contains(r.output, tok) {
			t.Errorf("the client's output holds a token (%.9s...)", tok)
		}
		if !strings.HasPrefix(tok, "aegis_at_") && !strings.HasPrefix(tok, "aegis_rt_") {
			t.Errorf("the client held a token that is not this server's (%.9s...)", tok)
		}
	}
}

func anyStrings(v any) []string {
	vs, _ := v.([]any)
	var out []string
	for _, s := range vs {
		out = append(out, fmt.Sprint(s))
	}
	return out
}
