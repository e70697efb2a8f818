package e2e

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/domsnapshot"
	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// The broker's own texts the browser checks look for.
const (
	errorTitle       = "Authorization failed — AegisGitea MCP"
	consentTitle     = "Allow access? — AegisGitea MCP"
	textNotOurPage   = "This answer did not come from this server's consent page."
	textStaleForm    = "This consent form is stale or was not served to you."
	textCameBack     = "This sign-in has already come back from Gitea."
	textUnknown      = "This sign-in is unknown, finished or older than 10 minutes."
	textRedirectURI  = "The redirect_uri is not one this application registered, so you were not sent back to it."
	textNonPublic    = "This application's client metadata document cannot be used: the client_id URL's host is or resolves to a loopback, private or otherwise non-public address, which this server does not fetch."
	browserStepLimit = 20 * time.Second
)

// clientOrigin is where the test client's redirect URI lives. Nothing
// listens there: every tab intercepts its requests (Fetch domain), records
// them and answers them itself, so a redirect to the client is seen, with
// its query, whatever the port.
var clientOrigin = strings.TrimSuffix(clientRedirect, "/client/callback") + "/"

// TestBrokerConsentInBrowser drives the broker's sign-in and consent page in
// Debian's Chromium, headless, through a real DevTools driver (chromedp):
// Gitea's own login form and grant page, the broker's consent page as a user
// sees it, and what a browser refuses — framing, a cross-origin form post,
// a replayed Gitea callback, and the authorization requests the broker
// answers with an error. Screenshots of the consent page and of each error
// page are kept in $AEGIS_ARTIFACTS_DIR (or a temporary directory).
func TestBrokerConsentInBrowser(t *testing.T) {
	needGitea(t)
	chromium := needChromium(t)
	b := startBroker(t)
	g := b.g
	alice := g.User(testgitea.AliceName)
	clientID := b.register(t, clientRedirect)
	art := newArtifacts(t)
	evil := startEvilSite(t)
	tarpit := startTarpit(t)

	root := startChromium(t, chromium)
	v := openTab(t, root, "victim", b) // the user's tab
	o := openTab(t, root, "other", b)  // a second tab of the same browser: the same cookies

	// Sign in at Gitea through its own login form.
	v.navigate("Gitea's login page", g.URL+"/user/login")
	v.do("typing alice's credentials", chromedp.SendKeys(chromedp.CSS("#user_name"), alice.Name),
		chromedp.SendKeys(chromedp.CSS("#password"), alice.Password))
	v.click("Gitea's sign-in button", `form[action$="/user/login"] button.primary`)
	v.navigate("Gitea's settings page", g.URL+"/user/settings")
	if loc := v.location(); !strings.HasPrefix(loc, g.URL+"/user/settings") {
		t.Fatalf("after Gitea's login form the browser is not signed in: /user/settings went to %s", loc)
	}

	// The client's authorization request: Gitea's grant page (new app), then the broker's consent page.
	p := newPKCE()
	resp := v.navigate("the client's authorization request", b.authorizeURL(clientID, p, "s1", nil))
	if loc := v.location(); strings.HasPrefix(loc, g.URL+"/login/oauth/authorize") {
		art.shot(v, "gitea-grant-page")
		resp = v.click("Gitea's Authorize Application button", "#authorize-app")
	}
	consentURL := v.location()
	if !strings.HasPrefix(consentURL, b.URL+"/oauth/consent?request=") || resp == nil || resp.Status != http.StatusOK {
		t.Fatalf("after Gitea the browser is at %s (%s), want the broker's consent page:\n%s", consentURL, statusOf(resp), v.text("body"))
	}
	request := queryOf(t, consentURL, b.URL+"/oauth/consent").Get("request")
	callbacks := v.callbackURLs()
	if len(callbacks) != 1 {
		t.Fatalf("the browser loaded the broker's callback %d times, want once: %v", len(callbacks), callbacks)
	}
	callback := callbacks[0]

	t.Run("consent page", func(t *testing.T) {
		v := v.in(t)
		if title := v.title(); title != consentTitle {
			t.Errorf("title %q, want %q", title, consentTitle)
		}
		shown := v.text("main")
		for what, want := range map[string]string{"the client's name": "E2E client", "the user": testgitea.AliceName,
			"the redirect URI": clientRedirect, "a scope": "Read repositories: code, branches, commits, pull requests and releases (read:repository)",
			"the issue scope": "(read:issue)", "the user scope": "(read:user)", "the client id": clientID, "Gitea": g.URL} {
			if !strings.Contains(shown, want) {
				t.Errorf("the consent page does not show %s (%q):\n%s", what, want, shown)
			}
		}
		if csp := header(resp.Headers, "Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("Content-Security-Policy %q, want frame-ancestors 'none'", csp)
		}
		if xfo := header(resp.Headers, "X-Frame-Options"); xfo != "DENY" {
			t.Errorf("X-Frame-Options %q, want DENY", xfo)
		}
		// The page's inline style is applied under its own CSP, and nothing was refused.
		if bg := v.style("button.allow", "background-color"); bg != "rgb(31, 136, 61)" {
			t.Errorf("the Allow button's background is %q, want the page's green: the page's style did not apply", bg)
		}
		for _, l := range v.logLines() {
			if strings.Contains(l, "Content Security Policy") {
				t.Errorf("the browser refused part of the consent page: %s", l)
			}
		}
		cookie := v.bindingCookie(b.URL, request)
		switch {
		case cookie == nil:
			t.Errorf("no aegis-auth-%s cookie for %s in the browser", request[:16], b.URL)
		case !cookie.HTTPOnly || cookie.SameSite != network.CookieSameSiteLax || cookie.Path != "/":
			t.Errorf("binding cookie %s: HttpOnly %t, SameSite %q, Path %q; want HttpOnly, Lax, /", cookie.Name, cookie.HTTPOnly, cookie.SameSite, cookie.Path)
		}
		art.shot(v, "consent-page")
	})

	t.Run("replayed Gitea callback before the answer", func(t *testing.T) {
		o := o.in(t)
		resp := o.navigate("the used Gitea callback again", callback)
		o.wantErrorPage(t, resp, http.StatusBadRequest, textCameBack)
		if loc := o.location(); loc != callback {
			t.Errorf("the replayed callback went on to %s, want its own error page", loc)
		}
		art.shot(o, "replayed-callback-before-consent")
	})

	t.Run("framing", func(t *testing.T) {
		o := o.in(t)
		framed := b.authorizeURL(clientID, newPKCE(), "framed", nil)
		control := b.URL + "/.well-known/oauth-authorization-server"
		evil.page("/frame", framingPage, []frameSrc{{"consent", consentURL}, {"authorize", framed}, {"control", control}})
		logged := len(o.logLines())
		o.navigate("a page of another origin that frames the consent page", evil.sameSite+"/frame")
		frames := o.frames(3)
		docs := o.documents()
		// The check can see a rendered frame: the broker's JSON metadata,
		// which may be framed, is there, with its text.
		if f := frames["control"]; f == nil || f.URL != control || f.UnreachableURL != "" || !strings.Contains(docs[f.ID].text, `"issuer":"`+b.URL+`"`) {
			t.Fatalf("the control frame is %s holding %+v, want %s rendered: the check cannot tell a rendered frame", frameState(f), docs[frameID(f)], control)
		}
		for _, name := range []string{"consent", "authorize"} {
			f := frames[name]
			if d := docs[frameID(f)]; strings.HasPrefix(d.url, b.URL) || strings.Contains(d.text, "E2E client") || strings.Contains(d.text, "Allow") || strings.Contains(d.text, clientID) {
				t.Errorf("the %s frame holds the broker's page: %+v", name, d)
			}
		}
		// The server answered the framed consent page (the cookie is sent:
		// the origins are same-site); the browser refused to show it.
		if r := o.documentResponse(consentURL); r == nil || r.status != http.StatusOK || !strings.Contains(r.csp, "frame-ancestors 'none'") {
			t.Errorf("the framed consent page's response: %+v, want 200 with frame-ancestors 'none'", r)
		}
		if f := frames["consent"]; f == nil || f.URL == consentURL || strings.HasPrefix(f.URL, b.URL) || f.UnreachableURL != consentURL {
			t.Errorf("the consent page in a frame: %s, want it blocked (an error document for %s)", frameState(f), consentURL)
		}
		// The authorization request in a frame runs its redirects (Gitea
		// knows the grant now) and ends at a consent page that is not shown.
		f := frames["authorize"]
		if f == nil || strings.HasPrefix(f.URL, b.URL) || strings.HasPrefix(f.URL, g.URL) || !strings.HasPrefix(f.UnreachableURL, b.URL+"/oauth/consent?request=") {
			t.Errorf("the authorization request in a frame: %s, want the consent page it leads to blocked", frameState(f))
		}
		// Chromium says why: "Framing '<broker>/' violates the following
		// Content Security Policy directive: "frame-ancestors 'none'". The
		// request has been blocked."
		refused := 0
		for _, l := range o.logLines()[logged:] {
			if strings.Contains(l, "frame-ancestors 'none'") && strings.Contains(l, "blocked") {
				refused++
			}
		}
		if refused != 2 {
			t.Errorf("the browser logged %d frame-ancestors refusals, want 2 (the consent page, and where the framed authorization led): %q", refused, o.logLines()[logged:])
		}
		art.shot(o, "framing-refused")
	})

	// The framed consent page was served, with a new CSRF token: the user
	// reloads the page (as a user would), and the form has a fresh token.
	v.navigate("the consent page again", consentURL)
	t.Run("CSRF", func(t *testing.T) {
		v, o := v.in(t), o.in(t)
		// The user's own page with another token: refused, though same-origin.
		v.do("changing the form's CSRF token", chromedp.SetValue(chromedp.CSS(`input[name="csrf"]`), "not-the-token"))
		resp := v.click("Allow with a changed CSRF token", "button.allow")
		v.wantErrorPage(t, resp, http.StatusForbidden, textStaleForm)
		art.shot(v, "csrf-token-changed")

		v.navigate("the consent page again", consentURL)
		if got := v.value(`input[name="request"]`); got != request {
			t.Fatalf("the form names request %q, want %q", got, request)
		}
		token := v.value(`input[name="csrf"]`)
		// Another origin posts the real request id and even the page's real
		// token: the one thing it cannot fake is where the post comes from.
		for _, site := range []struct{ name, base string }{{"same-site", evil.sameSite}, {"cross-site", evil.crossSite}} {
			if site.name == "cross-site" && !strings.HasPrefix(site.base, "http://127.0.0.2:") {
				t.Fatalf("the cross-site page is at %s", site.base)
			}
			evil.page("/prize-"+site.name, csrfPage, csrfForm{Action: b.URL + "/oauth/consent",
				Fields: map[string]string{"request": request, "csrf": token, "decision": "allow"}})
			o.navigate("a page of another "+site.name+" origin that posts the consent form", site.base+"/prize-"+site.name)
			o.waitLocation("the auto-submitted form's answer", b.URL+"/oauth/consent")
			o.waitVisible("main h1")
			o.wantErrorPage(t, o.documentResponse(b.URL+"/oauth/consent"), http.StatusForbidden, textNotOurPage)
			if post := o.lastPost(b.URL + "/oauth/consent"); post.origin != site.base || post.fetch != site.name {
				t.Errorf("the forged post went with Origin %q and Sec-Fetch-Site %q, want %q and %q", post.origin, post.fetch, site.base, site.name)
			}
			art.shot(o, "csrf-"+site.name+"-form-post")
		}
		if hits := append(v.clientURLs(), o.clientURLs()...); len(hits) != 0 {
			t.Errorf("the client was sent %v, want nothing before the user allowed", hits)
		}
	})

	var code string
	t.Run("allow", func(t *testing.T) {
		v := v.in(t)
		// The page the user kept, with the token the forged posts carried:
		// they spent nothing, and the authorization is still pending.
		resp := v.click("Allow", "button.allow")
		// A real browser's post says where it comes from (a page with
		// Referrer-Policy: no-referrer would post Origin: null, refused).
		if post := v.lastPost(b.URL + "/oauth/consent"); post.origin != b.URL || post.fetch != "same-origin" {
			t.Errorf("Allow posted with Origin %q and Sec-Fetch-Site %q, want %q and same-origin", post.origin, post.fetch, b.URL)
		}
		hits := v.clientURLs()
		if len(hits) != 1 {
			t.Fatalf("Allow sent the browser to the client %d times (%v), want once; the browser shows (%s):\n%s", len(hits), hits, statusOf(resp), v.text("body"))
		}
		if loc := v.location(); loc != hits[0] {
			t.Errorf("after Allow the browser is at %s, want the client's redirect URI %s", loc, hits[0])
		}
		q := queryOf(t, hits[0], clientRedirect)
		if q.Get("state") != "s1" || q.Get("iss") != b.URL || !strings.HasPrefix(q.Get("code"), "aegis_ac_") || q.Get("error") != "" {
			t.Fatalf("the client got %v, want a code, state s1 and iss %s", redactCode(q), b.URL)
		}
		code = q.Get("code")
		if c := v.bindingCookie(b.URL, request); c != nil {
			t.Errorf("the binding cookie %s is still set after the authorization ended", c.Name)
		}
	})
	if code == "" {
		return
	}

	var tok brokerTokens
	t.Run("code redeemed, tool called", func(t *testing.T) {
		status, out := b.tokenRequest(t, redeem(clientID, code, p))
		if status != http.StatusOK || !strings.HasPrefix(out.AccessToken, "aegis_at_") || out.RefreshToken == "" {
			t.Fatalf("code exchange: %d %s", status, out.Error)
		}
		tok = out
		if me := mustCall(t, b.aegis, tok.AccessToken, "get_me", nil); me["login"] != testgitea.AliceName {
			t.Errorf("get_me with the browser's authorization = %v, want alice", me["login"])
		}
	})

	t.Run("replayed Gitea callback after the code", func(t *testing.T) {
		o := o.in(t)
		resp := o.navigate("the used Gitea callback once more", callback)
		o.wantErrorPage(t, resp, http.StatusBadRequest, textUnknown)
		if hits := o.clientURLs(); len(hits) != 0 {
			t.Errorf("the replayed callback sent the client %v", hits)
		}
		art.shot(o, "replayed-callback-after-code")
	})

	t.Run("reused refresh token", func(t *testing.T) {
		if tok.RefreshToken == "" {
			t.Skip("no tokens")
		}
		status, next := b.tokenRequest(t, refreshForm(clientID, tok.RefreshToken))
		if status != http.StatusOK || next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
			t.Fatalf("refresh: %d %s", status, next.Error)
		}
		if status, again := b.tokenRequest(t, refreshForm(clientID, tok.RefreshToken)); status != http.StatusBadRequest || again.Error != "invalid_grant" {
			t.Errorf("the spent refresh token again: %d %q, want 400 invalid_grant", status, again.Error)
		}
		if status, _ := b.tokenRequest(t, refreshForm(clientID, next.RefreshToken)); status != http.StatusBadRequest {
			t.Errorf("the rotated refresh token after the reuse: %d, want 400 (the authorization is revoked)", status)
		}
	})

	// Authorization requests the broker refuses, opened in the signed-in browser.
	for i, c := range []struct {
		name   string
		change func(url.Values)
		// errorText is the broker's error page (nothing sent to anyone);
		// else errorCode is the error= sent to the client's redirect URI.
		errorText, errorCode string
	}{
		{name: "redirect URI of another site", change: func(q url.Values) { q.Set("redirect_uri", evil.sameSite+"/steal") }, errorText: textRedirectURI},
		{name: "redirect URI with another path", change: func(q url.Values) { q.Set("redirect_uri", clientRedirect+"/more") }, errorText: textRedirectURI},
		{name: "no PKCE", change: func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, errorCode: "invalid_request"},
		{name: "plain PKCE", change: func(q url.Values) { q.Set("code_challenge_method", "plain") }, errorCode: "invalid_request"},
		{name: "no resource", change: func(q url.Values) { q.Del("resource") }, errorCode: "invalid_target"},
		{name: "wrong resource", change: func(q url.Values) { q.Set("resource", g.URL+"/api/v1") }, errorCode: "invalid_target"},
		{name: "SSRF client_id loopback", change: func(q url.Values) { q.Set("client_id", "https://"+tarpit.addr+"/client.json") }, errorText: textNonPublic},
		{name: "SSRF client_id localhost", change: func(q url.Values) { q.Set("client_id", "https://localhost:"+tarpit.port+"/client.json") }, errorText: textNonPublic},
		{name: "SSRF client_id metadata service", change: func(q url.Values) {
			q.Set("client_id", "https://169.254.169.254/latest/meta-data/client.json")
		}, errorText: textNonPublic},
	} {
		t.Run("refused/"+c.name, func(t *testing.T) {
			o := o.in(t)
			state := fmt.Sprintf("e%d", i)
			target := b.authorizeURL(clientID, newPKCE(), state, c.change)
			before := len(o.clientURLs())
			resp := o.navigate("the authorization request", target)
			hits := o.clientURLs()[before:]
			if c.errorText != "" {
				o.wantErrorPage(t, resp, http.StatusBadRequest, c.errorText)
				if loc := o.location(); loc != target {
					t.Errorf("the browser went on to %s, want the broker's error page at %s", loc, target)
				}
				if len(hits) != 0 {
					t.Errorf("the client was sent %v, want nothing", hits)
				}
				art.shot(o, "refused-"+c.name)
				return
			}
			if len(hits) != 1 {
				t.Fatalf("the client was sent %v, want one redirect with error=%s", hits, c.errorCode)
			}
			q := queryOf(t, hits[0], clientRedirect)
			if q.Get("error") != c.errorCode || q.Get("state") != state || q.Get("iss") != b.URL || q.Has("code") {
				t.Errorf("the client got %v, want error=%s, state %s, iss %s and no code", q, c.errorCode, state, b.URL)
			}
			if loc := o.location(); loc != hits[0] {
				t.Errorf("the browser is at %s, want the client's redirect URI", loc)
			}
			art.shot(o, "refused-"+c.name)
		})
	}
	if n := evil.hits("/steal"); n != 0 {
		t.Errorf("the unregistered redirect URI was sent the browser %d times", n)
	}
	if n := tarpit.accepted.Load(); n != 0 {
		t.Errorf("the broker connected %d times to the loopback client_id URL's host", n)
	}
	// The broker's pages run no script, so none of them opened a dialog.
	for _, tb := range []*tab{v, o} {
		for _, d := range tb.dialogList() {
			if !strings.HasPrefix(d, g.URL+"/") {
				t.Errorf("%s tab: a page that is not Gitea's opened a dialog: %s", tb.name, d)
			}
		}
	}
}

// needChromium returns Debian's Chromium, skipping t without it unless
// AEGIS_REQUIRE_CHROMIUM=1, which makes its absence a failure.
func needChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	const hint = "Chromium is not installed (Debian: apt-get install -y chromium)"
	if os.Getenv("AEGIS_REQUIRE_CHROMIUM") == "1" {
		t.Fatal(hint + "; AEGIS_REQUIRE_CHROMIUM=1 makes that a failure")
	}
	t.Skip(hint)
	return ""
}

// startChromium starts a headless Chromium with a fresh profile and returns
// the context of its first tab. Only loopback is reachable: no proxy, and
// every host name fails to resolve but localhost and the two loopback
// addresses the test serves on.
func startChromium(t *testing.T, path string) context.Context {
	t.Helper()
	out := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()), // removed after the browser stopped (cleanups run last first)
		chromedp.WindowSize(1000, 900),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE 127.0.0.2"),
		chromedp.Flag("disable-component-update", true),
		chromedp.CombinedOutput(out),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium's sandbox refuses to run as root
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc) // waits for the browser to exit
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Chromium's output (less its D-Bus complaints):\n%s", localgitea.Tail(withoutDBus(out.String()), 40))
		}
	})
	start := time.Now()
	bounded(t, "starting Chromium", cancel, func() error { return chromedp.Do(ctx) })
	v, err := chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s (%s) started in %v", v.Product, path, time.Since(start).Round(time.Millisecond))
	return ctx
}

// bounded runs f, which must not get a deadline (chromedp binds a tab's life
// to the context of its first action), failing t if it takes longer than
// browserStepLimit; stop then ends what f waits for.
func bounded(t *testing.T, what string, stop func(), f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	timer := time.NewTimer(browserStepLimit)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-timer.C:
		stop()
		err := <-done
		t.Fatalf("%s: not done within %v (then: %v)", what, browserStepLimit, err)
	}
}

// tab is one browser tab and what it saw: the requests it sent to the
// client's redirect URI and to the broker's callback, its document
// responses and the browser's log lines.
type tab struct {
	t    *testing.T // the test (or subtest) the tab's checks report to
	name string
	ctx  context.Context
	*seen
}

// seen is what a tab recorded; the tab's views (in) share it.
type seen struct {
	top *testing.T // the test, for what goes wrong outside any check
	wg  sync.WaitGroup

	mu        sync.Mutex
	toClient  []string
	callbacks []string
	docs      []docResponse
	logs      []string
	dialogs   []string
	posts     []*formPost
}

// formPost is a form the tab posted, with the headers that tell where it
// came from.
type formPost struct {
	id                 network.RequestID
	url, origin, fetch string
}

type docResponse struct {
	url    string
	status int64
	csp    string
}

// openTab opens a tab: the browser's first when ctx has none yet, else a
// new one in the same profile, so with the same cookies.
func openTab(t *testing.T, root context.Context, name string, b *brokerServer) *tab {
	t.Helper()
	ctx := root
	if name != "victim" {
		var cancel context.CancelFunc
		ctx, cancel = chromedp.NewContext(root)
		t.Cleanup(cancel)
		bounded(t, "opening the "+name+" tab", cancel, func() error { return chromedp.Do(ctx) })
	}
	tb := &tab{t: t, name: name, ctx: ctx, seen: &seen{top: t}}
	t.Cleanup(tb.wg.Wait) // runs after the tab closed (cleanups run last first)
	if err := chromedp.Listen(ctx, tb.event); err != nil {
		t.Fatal(err)
	}
	tb.do("intercepting requests to the client and the broker's callback", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
			{URLPattern: clientOrigin + "*"}, {URLPattern: b.URL + "/oauth/callback?*"}}})
		return err
	}))
	return tb
}

// in is the tab reporting to t, a subtest: a check may stop only the test
// that runs it.
func (tb *tab) in(t *testing.T) *tab {
	view := *tb
	view.t = t
	return &view
}

// event runs in the tab's message loop: it records, and answers paused
// requests from another goroutine (no command may run here).
func (tb *tab) event(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch ev := ev.(type) {
	case *fetch.EventRequestPaused:
		u := ev.Request.URL
		if strings.HasPrefix(u, clientOrigin) {
			tb.toClient = append(tb.toClient, u)
			params := fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: http.StatusOK,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}},
				Body:            clientPage(u)}
			tb.answer(func(ctx context.Context) error {
				_, err := chromedp.Call(ctx, fetch.FulfillRequest, params)
				return err
			})
			return
		}
		tb.callbacks = append(tb.callbacks, u)
		params := fetch.ContinueRequestParams{RequestID: ev.RequestID}
		tb.answer(func(ctx context.Context) error {
			_, err := chromedp.Call(ctx, fetch.ContinueRequest, params)
			return err
		})
	case *network.EventRequestWillBeSent:
		if ev.Request.Method == http.MethodPost && ev.RedirectResponse == nil {
			tb.posts = append(tb.posts, &formPost{id: ev.RequestID, url: ev.Request.URL, origin: header(ev.Request.Headers, "Origin")})
		}
	case *network.EventRequestWillBeSentExtraInfo: // the headers the network stack added, Sec-Fetch-* among them
		for _, p := range tb.posts {
			if p.id == ev.RequestID && p.fetch == "" {
				p.fetch = header(ev.Headers, "Sec-Fetch-Site")
			}
		}
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument {
			tb.docs = append(tb.docs, docResponse{url: ev.Response.URL, status: ev.Response.Status, csp: header(ev.Response.Headers, "Content-Security-Policy")})
		}
	case *cdplog.EventEntryAdded:
		tb.logs = append(tb.logs, ev.Entry.Text)
	case *page.EventJavascriptDialogOpening:
		// The Gitea built from the module proxy has no frontend assets, and
		// its pages say so in an alert; its forms work without scripts.
		tb.dialogs = append(tb.dialogs, ev.URL+": "+ev.Message)
		tb.answer(func(ctx context.Context) error {
			_, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			return err
		})
	}
}

// answer runs call on another goroutine: a paused request waits for it.
func (tb *tab) answer(call func(ctx context.Context) error) {
	tb.wg.Go(func() {
		if err := call(tb.ctx); err != nil && tb.ctx.Err() == nil {
			tb.top.Errorf("%s tab: answering a paused request: %v", tb.name, err)
		}
	})
}

// step bounds one action of the tab.
func (tb *tab) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(tb.ctx, browserStepLimit)
}

func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s tab: %s: %v", tb.name, what, err)
	}
}

func runIn[T any](tb *tab, what string, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.t.Fatalf("%s tab: %s: %v", tb.name, what, err)
	}
	return v
}

// navigate loads target and returns the final response of the document.
func (tb *tab) navigate(what, target string) *network.Response {
	tb.t.Helper()
	return runIn(tb, what, chromedp.NavigateResponse(target))
}

// click clicks the element sel and returns the response of the document it leads to.
func (tb *tab) click(what, sel string) *network.Response {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Fatalf("%s tab: %s: %v", tb.name, what, err)
	}
	return resp
}

func (tb *tab) location() string {
	tb.t.Helper()
	return runIn(tb, "reading the location", chromedp.Location())
}
func (tb *tab) title() string { tb.t.Helper(); return runIn(tb, "reading the title", chromedp.Title()) }

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return runIn(tb, "reading "+sel, chromedp.Text(chromedp.CSS(sel)))
}

func (tb *tab) value(sel string) string {
	tb.t.Helper()
	return runIn(tb, "reading "+sel, chromedp.Value(chromedp.CSS(sel)))
}

func (tb *tab) waitVisible(sel string) {
	tb.t.Helper()
	tb.do("waiting for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// style is the computed value of property for the element sel.
func (tb *tab) style(sel, property string) string {
	tb.t.Helper()
	for _, p := range runIn(tb, "the style of "+sel, chromedp.ComputedStyle(chromedp.CSS(sel))) {
		if p.Name == property {
			return p.Value
		}
	}
	return ""
}

// waitLocation waits until the tab's document is at target.
func (tb *tab) waitLocation(what, target string) {
	tb.t.Helper()
	deadline := time.Now().Add(browserStepLimit)
	for {
		loc := tb.location()
		if loc == target {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("%s tab: %s: at %s, want %s", tb.name, what, loc, target)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var requestID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// bindingCookie returns the browser's cookie for base that binds the
// authorization request (aegis-auth- and the id's first 16 hex digits on an
// http loopback issuer), if any.
func (tb *tab) bindingCookie(base, request string) *network.Cookie {
	tb.t.Helper()
	if !requestID.MatchString(request) {
		tb.t.Fatalf("request id %q is not 64 hex digits", request)
	}
	res := runIn(tb, "reading the cookies", func(ctx context.Context, t *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
	})
	for _, c := range res.Cookies {
		if c.Name == "aegis-auth-"+request[:16] {
			return c
		}
	}
	return nil
}

// frames waits until the tab's page has n child frames that finished
// loading and returns them by name.
func (tb *tab) frames(n int) map[string]*cdp.Frame {
	tb.t.Helper()
	deadline := time.Now().Add(browserStepLimit)
	for {
		tree := runIn(tb, "reading the frame tree", func(ctx context.Context, t *chromedp.Target) (page.GetFrameTreeResult, error) {
			return cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
		})
		out := map[string]*cdp.Frame{}
		for _, c := range tree.FrameTree.ChildFrames {
			if c.Frame.URL != "" && c.Frame.URL != "about:blank" {
				out[c.Frame.Name] = c.Frame
			}
		}
		if len(out) == n {
			return out
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("%s tab: %d frames loaded, want %d", tb.name, len(out), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// frameDocument is what a frame of the page holds, from a DOM snapshot.
type frameDocument struct{ url, text string }

// documents snapshots the page's DOM (every frame in its process) and
// returns each frame's document URL and shown text, by frame id.
func (tb *tab) documents() map[cdp.FrameID]frameDocument {
	tb.t.Helper()
	snap := runIn(tb, "a DOM snapshot", func(ctx context.Context, t *chromedp.Target) (domsnapshot.CaptureSnapshotResult, error) {
		return cdp.Call(ctx, t, domsnapshot.CaptureSnapshot, domsnapshot.CaptureSnapshotParams{ComputedStyles: []string{}})
	})
	str := func(i domsnapshot.StringIndex) string {
		if i < 0 || int(i) >= len(snap.Strings) {
			return ""
		}
		return snap.Strings[i]
	}
	out := map[cdp.FrameID]frameDocument{}
	for _, d := range snap.Documents {
		var text strings.Builder
		if n := d.Nodes; n != nil {
			for i, typ := range n.NodeType {
				if typ != 3 || i >= len(n.NodeValue) || i >= len(n.ParentIndex) { // text nodes only
					continue
				}
				if p := n.ParentIndex[i]; p >= 0 && int(p) < len(n.NodeName) {
					if parent := str(n.NodeName[p]); parent == "SCRIPT" || parent == "STYLE" {
						continue // not shown
					}
				}
				text.WriteString(strings.TrimSpace(str(n.NodeValue[i])) + " ")
			}
		}
		out[cdp.FrameID(str(d.FrameID))] = frameDocument{url: str(d.DocumentURL), text: text.String()}
	}
	return out
}

func frameID(f *cdp.Frame) cdp.FrameID {
	if f == nil {
		return ""
	}
	return f.ID
}

func frameState(f *cdp.Frame) string {
	if f == nil {
		return "missing"
	}
	return fmt.Sprintf("at %q (unreachable %q)", f.URL, f.UnreachableURL)
}

func (tb *tab) clientURLs() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.toClient...)
}

func (tb *tab) callbackURLs() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.callbacks...)
}

func (tb *tab) dialogList() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.dialogs...)
}

func (tb *tab) logLines() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.logs...)
}

// lastPost is the last form post the tab sent to target.
func (tb *tab) lastPost(target string) formPost {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for i := len(tb.posts) - 1; i >= 0; i-- {
		if tb.posts[i].url == target {
			return *tb.posts[i]
		}
	}
	return formPost{}
}

// documentResponse is the last document response the tab got from target.
func (tb *tab) documentResponse(target string) *docResponse {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for i := len(tb.docs) - 1; i >= 0; i-- {
		if tb.docs[i].url == target {
			d := tb.docs[i]
			return &d
		}
	}
	return nil
}

// wantErrorPage checks that the tab shows the broker's error page, with
// status, saying want.
func (tb *tab) wantErrorPage(t *testing.T, status any, wantStatus int, want string) {
	t.Helper()
	var got int64 = -1
	switch r := status.(type) {
	case *network.Response:
		if r != nil {
			got = r.Status
		}
	case *docResponse:
		if r != nil {
			got = r.status
		}
	}
	if got != int64(wantStatus) {
		t.Errorf("status %d, want %d", got, wantStatus)
	}
	if title := tb.title(); title != errorTitle {
		t.Errorf("the page is %q, want the broker's error page (%q): %s", title, errorTitle, tb.text("body"))
		return
	}
	if text := tb.text("main"); !strings.Contains(text, want) {
		t.Errorf("the error page says %q, want %q", text, want)
	}
}

func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

func statusOf(r *network.Response) string {
	if r == nil {
		return "no response"
	}
	return fmt.Sprintf("status %d", r.Status)
}

// queryOf parses the query of raw, which must be want with a query.
func queryOf(t *testing.T, raw, want string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || !strings.HasPrefix(raw, want+"?") {
		t.Fatalf("%q is not %s with a query", raw, want)
	}
	return u.Query()
}

// redactCode shows a query without the code's value.
func redactCode(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		if k == "code" {
			v = []string{"(set)"}
		}
		out[k] = v
	}
	return out
}

var clientPageTmpl = template.Must(template.New("client").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>The client's redirect URI</title></head>
<body><h1>The MCP client's redirect URI was loaded</h1><table>{{range $k, $v := .}}<tr><th>{{$k}}</th><td>{{index $v 0}}</td></tr>{{end}}</table></body></html>`))

// clientPage is what the test answers for the client's redirect URI: its
// query, with the code left out.
func clientPage(raw string) []byte {
	q := url.Values{}
	if u, err := url.Parse(raw); err == nil {
		q = redactCode(u.Query())
	}
	var buf bytes.Buffer
	_ = clientPageTmpl.Execute(&buf, q)
	return buf.Bytes()
}

// artifacts keeps the test's screenshots.
type artifacts struct {
	dir string
	n   atomic.Int32
}

func newArtifacts(t *testing.T) *artifacts {
	t.Helper()
	var dir string
	if base := os.Getenv("AEGIS_ARTIFACTS_DIR"); base != "" {
		dir = filepath.Join(base, t.Name())
		if err := os.RemoveAll(dir); err != nil { //nolint:gosec // G703: this test's own directory in the operator's artifacts directory
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o750); err != nil { //nolint:gosec // G703: as above
			t.Fatal(err)
		}
	} else {
		dir = t.TempDir()
	}
	t.Logf("screenshots in %s", dir)
	return &artifacts{dir: dir}
}

// shot saves a screenshot of the tab's page as NN-name.png.
func (a *artifacts) shot(tb *tab, name string) {
	tb.t.Helper()
	png := runIn(tb, "a screenshot", chromedp.FullScreenshot(100))
	file := filepath.Join(a.dir, fmt.Sprintf("%02d-%s.png", a.n.Add(1), strings.NewReplacer(" ", "-", "/", "-").Replace(name)))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("screenshot: %s", file)
}

// evilSite serves pages of other origins: one on 127.0.0.1 (another port:
// same-site with the broker, so its SameSite=Lax cookie goes along) and one
// on 127.0.0.2 (another site).
type evilSite struct {
	sameSite, crossSite string
	mu                  sync.Mutex
	pages               map[string][]byte
	hit                 map[string]int
}

func startEvilSite(t *testing.T) *evilSite {
	t.Helper()
	e := &evilSite{pages: map[string][]byte{}, hit: map[string]int{}}
	same := listenLoopback(t)
	var lc net.ListenConfig
	cross, err := lc.Listen(t.Context(), "tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("listening on 127.0.0.2 (loopback): %v", err)
	}
	e.sameSite, e.crossSite = "http://"+same.Addr().String(), "http://"+cross.Addr().String()
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	for _, l := range []net.Listener{same, cross} {
		go func() { _ = srv.Serve(l) }()
	}
	t.Cleanup(func() { _ = srv.Close() })
	return e
}

func (e *evilSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.hit[r.URL.Path]++
	body, ok := e.pages[r.URL.Path]
	e.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(body)
}

func (e *evilSite) page(path string, tmpl *template.Template, data any) {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		panic(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pages[path] = buf.Bytes()
}

func (e *evilSite) hits(path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hit[path]
}

type frameSrc struct{ Name, URL string }

var framingPage = template.Must(template.New("frame").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Another site</title>
<style>body{font:14px sans-serif;max-width:940px}h2{font-size:.9rem;word-break:break-all}iframe{width:900px;height:220px;border:2px solid #c00;display:block;margin-bottom:1rem}</style></head>
<body><h1>Another origin frames the broker</h1>{{range .}}<h2>{{.Name}}: {{.URL}}</h2><iframe name="{{.Name}}" src="{{.URL}}"></iframe>{{end}}</body></html>`))

type csrfForm struct {
	Action string
	Fields map[string]string
}

var csrfPage = template.Must(template.New("csrf").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>You won</title></head>
<body onload="document.forms[0].submit()"><form method="post" action="{{.Action}}">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}</form></body></html>`))

// tarpit is a loopback listener that counts connections: the host of a
// client_id URL the broker must never connect to.
type tarpit struct {
	addr, port string
	accepted   atomic.Int32
}

func startTarpit(t *testing.T) *tarpit {
	t.Helper()
	l := listenLoopback(t)
	tp := &tarpit{addr: l.Addr().String()}
	_, tp.port, _ = net.SplitHostPort(tp.addr)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			tp.accepted.Add(1)
			_ = c.Close()
		}
	}()
	t.Cleanup(func() { _ = l.Close() })
	return tp
}

// withoutDBus drops the lines of Chromium's output about the D-Bus it does
// not find in a container.
func withoutDBus(s string) string {
	var keep []string
	for line := range strings.SplitSeq(s, "\n") {
		if !strings.Contains(line, ":ERROR:dbus/") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}
