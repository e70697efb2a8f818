package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testpg"
)

// TestBrokerReplicasSharePostgres: two replicas of the real binary in
// broker mode share one PostgreSQL database and one key, behind
// deploy/nginx/aegis-gitea-mcp-replicas.conf in a real nginx (round robin
// for MCP 2026-07-28), with PUBLIC_BASE_URL nginx's URL. Every step of one
// authorization goes to a chosen replica (directly to its port, so which
// one is certain; the server takes a loopback Host, and every URL it makes
// names the public URL), and each step's state must come from the
// database, written by the other replica:
//
//   - the client registers at A;
//   - /oauth/authorize is served by A; Gitea's redirect back (the callback)
//     and the consent page, and its answer, by B;
//   - the code is redeemed at A, and is spent for B too;
//   - the access token works at A, at B, and through nginx (calls landing
//     on both replicas);
//   - the refresh is done at B, and its access token works at A;
//   - the spent refresh token presented again at A is refused (400
//     invalid_grant) and revokes the family: see the assertions there for
//     what holds at once on which replica;
//   - `aegis-gitea-mcp broker grants`, with the replicas' settings, lists
//     alice's consent to the client.
func TestBrokerReplicasSharePostgres(t *testing.T) {
	g := needGitea(t)
	nginxBin := needNginxForPostgres(t)
	pg := testpg.Need(t)
	t.Parallel()
	ctx := t.Context()

	dbURL, err := pg.NewDatabase(ctx, "broker")
	if err != nil {
		t.Fatal(err)
	}
	// Built first: nginx's ports are picked free but not held until it
	// starts, so the less happens in between, the less another process
	// can take one.
	bin := buildBinary(t)
	ng := startNginx(t, nginxBin)
	app, err := g.CreateOAuthAppFor(ctx, fmt.Sprintf("aegis-broker-replicas-%d", brokerApps.Add(1)), ng.URL+"/oauth/callback", localgitea.RedirectURI)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sealKey := "k1:" + base64.StdEncoding.EncodeToString(key)
	env := []string{"OAUTH_BROKER=true", "BROKER_ENCRYPTION_KEY=" + sealKey, "BROKER_DATABASE_URL=" + dbURL, "PUBLIC_BASE_URL=" + ng.URL}
	replicas := startReplicas(t, bin, g, app, 2, env...)
	ng.start(t, twoReplicasConf(t, ng, replicas), replicas[0].addr)
	probeNginx(t, ng)

	// The replicas, addressed directly, and the public URL, through the
	// helpers of broker_test.go.
	onReplica := func(r *replica) *brokerServer {
		return &brokerServer{aegis: &aegis{URL: "http://" + r.addr, App: app}, g: g}
	}
	a, b := onReplica(replicas[0]), onReplica(replicas[1])
	public := &brokerServer{aegis: &aegis{URL: ng.URL, App: app}, g: g}
	var nginxClients []*http.Client
	reusedAtA := false
	defer func() {
		secrets := []string{app.ClientSecret, sealKey}
		for _, r := range []*brokerServer{a, b} {
			r.mu.Lock()
			secrets = append(secrets, r.tokens...)
			r.mu.Unlock()
		}
		finishReplicas(t, replicas, secrets)
		if reusedAtA && replicas[0].stopped() && !strings.Contains(replicas[0].logs.raw.String(), "security_event: a refresh token was used twice") {
			t.Errorf("%s did not log the refresh token's reuse as a security event", replicas[0].name)
		}
		for _, c := range nginxClients {
			c.CloseIdleConnections()
		}
	}()
	// to sends a URL the public one names to replica r instead.
	to := func(r *brokerServer, u string) string {
		t.Helper()
		rest, ok := strings.CutPrefix(u, ng.URL+"/")
		if !ok {
			t.Fatalf("%q is not under the public URL %s", u, ng.URL)
		}
		return r.URL + "/" + rest
	}

	// Registration at A.
	clientID := a.register(t, clientRedirect)

	// The browser: /oauth/authorize at A, then Gitea, then the callback and
	// the consent page at B.
	browser, err := g.SignIn(ctx, g.User(testgitea.AliceName))
	if err != nil {
		t.Fatal(err)
	}
	p := newPKCE()
	authorize := a.authorizeURL(clientID, p, "replicas", func(q url.Values) { q.Set("resource", ng.URL+"/mcp") })
	step, err := browser.Get(ctx, authorize)
	if err != nil {
		t.Fatal(err)
	}
	if step.Status != http.StatusFound || !strings.HasPrefix(step.Location, g.URL+"/login/oauth/authorize?") ||
		!strings.Contains(step.Location, url.Values{"redirect_uri": {ng.URL + "/oauth/callback"}}.Encode()) {
		t.Fatalf("authorize at A: %d to %q, want a redirect to Gitea coming back to the public URL: %s", step.Status, step.Location, step.Body)
	}
	if cookie := step.Header.Get("Set-Cookie"); !strings.HasPrefix(cookie, "__Host-aegis-auth-") || !strings.Contains(cookie, "Secure") {
		t.Errorf("authorize at A set the cookie %q, want a Secure __Host- cookie (the public URL is https)", cookie)
	}
	if step, err = browser.Follow(ctx, step, app.ClientID); err != nil { // Gitea: signed in, approve
		t.Fatal(err)
	}
	back, err := url.Parse(step.Location)
	if err != nil || !strings.HasPrefix(step.Location, ng.URL+"/oauth/callback?") || back.Query().Get("code") == "" {
		t.Fatalf("Gitea answered %d to %q, want a redirect to the public callback with a code", step.Status, step.Location)
	}
	a.mu.Lock()
	a.tokens = append(a.tokens, back.Query().Get("code")) // Gitea's code: in no log either
	a.mu.Unlock()
	if step, err = browser.Get(ctx, to(b, step.Location)); err != nil { // the callback, at B
		t.Fatal(err)
	}
	if step.Status != http.StatusSeeOther || !strings.HasPrefix(step.Location, ng.URL+"/oauth/consent?") {
		t.Fatalf("callback at B: %d to %q, want the consent page: %s", step.Status, step.Location, step.Body)
	}
	page, err := browser.Get(ctx, to(b, step.Location)) // the consent page, at B
	if err != nil {
		t.Fatal(err)
	}
	if page.Status != http.StatusOK {
		t.Fatalf("consent page at B: %d %s", page.Status, page.Body)
	}
	for _, want := range []string{"E2E client", clientID, testgitea.AliceName, clientRedirect} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the consent page at B does not show %q: the registration at A is not shared", want)
		}
	}
	form := localgitea.HiddenFields(page.Body, "/oauth/consent")
	form.Set("decision", "allow")
	answer, err := browser.Post(ctx, b.URL+"/oauth/consent", form, http.Header{"Origin": {ng.URL}, "Sec-Fetch-Site": {"same-origin"}})
	if err != nil {
		t.Fatal(err)
	}
	code := public.codeOf(t, answer, "replicas") // iss is the public URL
	a.mu.Lock()
	a.tokens = append(a.tokens, code)
	a.mu.Unlock()

	// The code, redeemed at A, is spent for B too.
	status, tok := a.tokenRequest(t, redeem(clientID, code, p))
	if status != http.StatusOK || !strings.HasPrefix(tok.AccessToken, "aegis_at_") || tok.RefreshToken == "" {
		t.Fatalf("code exchange at A: %d %+v", status, tok)
	}
	if status, again := b.tokenRequest(t, redeem(clientID, code, p)); status != http.StatusBadRequest || again.Error != "invalid_grant" {
		t.Errorf("the code redeemed again at B: %d %q, want 400 invalid_grant", status, again.Error)
	}

	// Tools, as alice: at A, at B, and through nginx.
	for _, r := range []*brokerServer{a, b} {
		if me := mustCall(t, r.aegis, tok.AccessToken, "get_me", nil); me["login"] != testgitea.AliceName {
			t.Errorf("get_me at %s = %v, want alice", r.URL, me["login"])
		}
	}
	verifiedAtB := time.Now()
	before := []int{len(replicas[0].audited(t)), len(replicas[1].audited(t))}
	nc := ng.client("127.0.0.1", tok.AccessToken)
	nginxClients = append(nginxClients, nc)
	if res := ngxPost(t, nc, ng.URL+"/mcp/tool/call", `{"tool":"get_me"}`); res.status != http.StatusOK || !strings.Contains(res.body, testgitea.AliceName) {
		t.Errorf("POST /mcp/tool/call through nginx = %d %s", res.status, res.body)
	}
	c, err := dial(ctx, viaStateless, testgitea.AliceName, ng.URL, nc)
	if err != nil {
		t.Fatal(err)
	}
	const calls = 6
	for i := range calls {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		ans := c.call(cctx, "get_me", nil)
		cancel()
		if ans.err != nil || ans.toolErr || !strings.Contains(ans.text, testgitea.AliceName) {
			t.Errorf("get_me %d over MCP through nginx: %v %s", i, ans.err, ans.text)
		}
	}
	c.close()
	served := []int{len(replicas[0].audited(t)) - before[0], len(replicas[1].audited(t)) - before[1]}
	if served[0]+served[1] != calls+1 || served[0] == 0 || served[1] == 0 {
		t.Errorf("the replicas audited %v of the %d calls through nginx, want them all, on both", served, calls+1)
	}
	t.Logf("%d calls through nginx with the token issued at A: %d served by A, %d by B", calls+1, served[0], served[1])

	// A refresh at B; its access token works at A.
	status, next := b.tokenRequest(t, refreshForm(clientID, tok.RefreshToken))
	if status != http.StatusOK || next.AccessToken == tok.AccessToken || next.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh at B: %d %+v", status, next)
	}
	if me := mustCall(t, a.aegis, next.AccessToken, "get_me", nil); me["login"] != testgitea.AliceName {
		t.Errorf("get_me at A with the token refreshed at B = %v", me["login"])
	}

	// The refresh token B spent, presented again at A: refused, and the
	// whole family is revoked in the database. What holds at once:
	//   - at A, which saw the reuse: both access tokens are refused (A
	//     dropped the family from its verdict cache);
	//   - at B: the refreshed access token, which B issued but never
	//     verified, is refused (B reads the database);
	//   - at both: the refreshed refresh token is refused.
	// The first access token is not asserted at B: B verified it above, and
	// each replica trusts a verified token for up to 30 s (the documented
	// verdict cache), so a revocation at another replica holds there within
	// that time.
	if status, reused := a.tokenRequest(t, refreshForm(clientID, tok.RefreshToken)); status != http.StatusBadRequest || reused.Error != "invalid_grant" {
		t.Errorf("the refresh token spent at B, again at A: %d %q, want 400 invalid_grant", status, reused.Error)
	}
	reusedAtA = true
	for _, check := range []struct {
		name, token string
		at          *brokerServer
	}{
		{"A, the first access token", tok.AccessToken, a},
		{"A, the refreshed access token", next.AccessToken, a},
		{"B, the refreshed access token", next.AccessToken, b},
	} {
		if res := check.at.toolCall(t, check.token, "get_me", nil); res.Status != http.StatusUnauthorized {
			t.Errorf("at %s after the reuse: %d %s, want 401", check.name, res.Status, res.Body)
		}
	}
	for _, r := range []*brokerServer{b, a} {
		if status, out := r.tokenRequest(t, refreshForm(clientID, next.RefreshToken)); status != http.StatusBadRequest || out.Error != "invalid_grant" {
			t.Errorf("the refreshed refresh token at %s after the reuse: %d %q, want 400 invalid_grant", r.URL, status, out.Error)
		}
	}
	t.Logf("after the reuse at A: the first access token at B, which verified it %s ago, answers %d (B's verdict cache, up to 30 s)",
		time.Since(verifiedAtB).Round(time.Millisecond), b.toolCall(t, tok.AccessToken, "get_me", nil).Status)

	// The administrator's view, with the replicas' settings.
	grants := brokerAdmin(t, bin, g, app, env, "grants")
	var listed bool
	for line := range strings.SplitSeq(grants, "\n") {
		f := strings.Fields(line)
		listed = listed || (len(f) > 2 && f[0] == testgitea.AliceName && f[1] == clientID && strings.Contains(line, "E2E client") &&
			strings.Contains(line, "read:repository"))
	}
	if !listed {
		t.Errorf("broker grants does not list alice's consent to %s:\n%s", clientID, grants)
	}
}

// needNginxForPostgres is needNginx, except that with
// AEGIS_REQUIRE_POSTGRES=1 (CI, which installs both) a missing nginx
// fails the test instead of skipping it.
func needNginxForPostgres(t *testing.T) string {
	t.Helper()
	if os.Getenv(testpg.RequireEnv) == "1" {
		if _, err := exec.LookPath("nginx"); err != nil {
			if _, err := exec.LookPath("/usr/sbin/nginx"); err != nil {
				t.Fatalf("nginx is not installed, and %s=1 requires it: apt-get install nginx", testpg.RequireEnv)
			}
		}
	}
	return needNginx(t)
}

// probeNginx fails the test unless the test's own nginx (its certificate)
// answers on its TLS port: the port was free when picked, and another
// process may have taken it before nginx started.
func probeNginx(t *testing.T, n *nginx) {
	t.Helper()
	c := n.plain()
	defer c.CloseIdleConnections()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, n.URL+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("nginx does not serve %s (did another process take the port, picked free, before nginx started?): %v", n.URL, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Server"), "nginx") {
		t.Fatalf("GET %s/healthz: %d from %q, want 200 from nginx", n.URL, resp.StatusCode, resp.Header.Get("Server"))
	}
}

// twoReplicasConf is deploy/nginx/aegis-gitea-mcp-replicas.conf (as
// replicasConf checks and adapts it) with its third server left out.
func twoReplicasConf(t *testing.T, n *nginx, replicas []*replica) string {
	t.Helper()
	if len(replicas) != 2 {
		t.Fatalf("twoReplicasConf takes 2 replicas, not %d", len(replicas))
	}
	const none = "127.0.0.1:9" // a placeholder for the third server, removed
	conf := replicasConf(t, n, append(replicas[:2:2], &replica{addr: none}))
	line := "    server " + none + " max_fails=1 fail_timeout=10s;\n"
	if strings.Count(conf, line) != 1 {
		t.Fatalf("deploy/nginx/aegis-gitea-mcp-replicas.conf no longer lists its servers as %q: update this test", line)
	}
	return strings.Replace(conf, line, "", 1)
}

// brokerAdmin runs `aegis-gitea-mcp broker ARGS` with app's settings and
// extra, and returns its output.
func brokerAdmin(t *testing.T, bin string, g *testgitea.Gitea, app *testgitea.OAuthApp, extra []string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, append([]string{"broker"}, args...)...)
	cmd.Dir = t.TempDir() // no ./.env
	cmd.Env = append([]string{"GITEA_URL=" + g.URL, "GITEA_OAUTH_CLIENT_ID=" + app.ClientID, "GITEA_OAUTH_CLIENT_SECRET=" + app.ClientSecret}, extra...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aegis-gitea-mcp broker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
