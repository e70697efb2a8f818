package broker

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

// signedIn stores an authorization that came back from Gitea as alice and
// whose consent form was shown with csrf; it returns the browser's cookie.
func (w *world) signedIn(t *testing.T, clientID, csrf string) (store.AuthRequest, *http.Cookie) {
	t.Helper()
	browser := "browser-binding-value"
	req := store.AuthRequest{ID: store.Hash("gitea-state"), ClientID: clientID, RedirectURI: testRedirect, State: "st",
		CodeChallenge: challengeOf(testVerifier), Scopes: []string{"read:repository"}, Resource: testIssuer + "/mcp",
		BrowserHash: store.Hash(browser), UserID: "42", Login: "alice", ConsentHash: store.Hash(csrf), ExpiresAt: w.now.Add(requestTTL)}
	if err := w.store.CreateAuthRequest(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	return req, &http.Cookie{Name: w.b.cookieName(req.ID), Value: browser} //nolint:gosec // G124: a cookie a test sends
}

func TestConsentDecision(t *testing.T) {
	const csrf = "the-csrf-token"
	tests := []struct {
		name   string
		change func(r *http.Request, form url.Values)
		status int
	}{
		{name: "another site's form", change: func(r *http.Request, _ url.Values) { r.Header.Set("Origin", "https://evil.example") }, status: http.StatusForbidden},
		{name: "cross-site fetch", change: func(r *http.Request, _ url.Values) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, status: http.StatusForbidden},
		{name: "opaque origin", change: func(r *http.Request, _ url.Values) { r.Header.Set("Origin", "null") }, status: http.StatusForbidden},
		{name: "opaque origin, cross-site", change: func(r *http.Request, _ url.Values) {
			r.Header.Set("Origin", "null")
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		}, status: http.StatusForbidden},
		{name: "null origin of the page itself", change: func(r *http.Request, _ url.Values) {
			r.Header.Set("Origin", "null")
			r.Header.Set("Sec-Fetch-Site", "same-origin")
		}, status: http.StatusSeeOther},
		{name: "another browser", change: func(r *http.Request, _ url.Values) { r.Header.Del("Cookie") }, status: http.StatusForbidden},
		{name: "wrong csrf", change: func(_ *http.Request, f url.Values) { f.Set("csrf", "guessed") }, status: http.StatusForbidden},
		{name: "no csrf", change: func(_ *http.Request, f url.Values) { f.Del("csrf") }, status: http.StatusForbidden},
		{name: "unknown request", change: func(_ *http.Request, f url.Values) { f.Set("request", store.Hash("other")) }, status: http.StatusBadRequest},
		{name: "no decision", change: func(_ *http.Request, f url.Values) { f.Del("decision") }, status: http.StatusBadRequest},
		{name: "allow", status: http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.upstream(t, "read:repository")
			req, cookie := w.signedIn(t, w.client(t), csrf)
			form := url.Values{"request": {req.ID}, "csrf": {csrf}, "decision": {"allow"}}
			r := httptest.NewRequestWithContext(context.Background(), "POST", PathConsent, nil)
			r.Header.Set("Origin", testIssuer)
			r.AddCookie(cookie)
			if tt.change != nil {
				tt.change(r, form)
			}
			r.Body = io.NopCloser(strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := w.serve(r)
			if rec.Code != tt.status {
				t.Fatalf("consent: %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			_, stillPending := w.store.AuthRequest(t.Context(), req.ID, w.now)
			_, consented := w.store.Consent(t.Context(), "42", req.ClientID)
			if tt.status != http.StatusSeeOther {
				if stillPending != nil || consented == nil {
					t.Errorf("a refused answer changed something: request gone %v, consent stored %v", stillPending != nil, consented == nil)
				}
				return
			}
			loc, _ := url.Parse(rec.Header().Get("Location"))
			if !strings.HasPrefix(loc.String(), testRedirect) || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st" || loc.Query().Get("iss") != testIssuer {
				t.Errorf("allowed: redirected to %s, want the client's redirect URI with code, state and iss", loc)
			}
			if !errors.Is(stillPending, store.ErrNotFound) || consented != nil {
				t.Errorf("allowed: request still pending %v, consent stored %v", stillPending, consented)
			}
			replay := httptest.NewRequestWithContext(context.Background(), "POST", PathConsent, io.NopCloser(strings.NewReader(form.Encode())))
			replay.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			replay.AddCookie(cookie)
			if rec := w.serve(replay); rec.Code != http.StatusBadRequest {
				t.Errorf("the same answer again: %d, want 400", rec.Code)
			}
		})
	}
}

// TestConsentNarrowsToTheGiteaGrant: a client asking for more than the
// user's Gitea grant holds is told what is missing and how to get it, and
// is given only what the grant holds; a consent adds to the one before.
func TestConsentNarrowsToTheGiteaGrant(t *testing.T) {
	w := newWorld(t)
	w.upstream(t, "read:repository", "read:user")
	clientID := w.client(t)
	if err := w.store.PutConsent(t.Context(), store.Consent{UserID: "42", ClientID: clientID, Scopes: []string{"read:user"}, CreatedAt: w.now}); err != nil {
		t.Fatal(err)
	}
	req, cookie := w.signedIn(t, clientID, "unused")
	req.Scopes = []string{"read:repository", "read:issue"}
	if err := w.store.UpdateAuthRequest(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	page := httptest.NewRequestWithContext(context.Background(), "GET", PathConsent+"?request="+req.ID, nil)
	page.AddCookie(cookie)
	rec := w.serve(page)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "(read:repository)") || strings.Contains(body, "(read:issue)") ||
		!strings.Contains(body, "<code>read:issue</code>, which your Gitea authorization") || !strings.Contains(body, "/user/settings/applications") {
		t.Fatalf("consent page %d: want read:repository offered and read:issue named as missing:\n%s", rec.Code, body)
	}
	csrf := localHidden(t, body, "csrf")
	post := httptest.NewRequestWithContext(context.Background(), "POST", PathConsent,
		io.NopCloser(strings.NewReader(url.Values{"request": {req.ID}, "csrf": {csrf}, "decision": {"allow"}}.Encode())))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.AddCookie(cookie)
	if rec := w.serve(post); rec.Code != http.StatusSeeOther {
		t.Fatalf("allow: %d %s", rec.Code, rec.Body)
	}
	c, err := w.store.Consent(t.Context(), "42", clientID)
	if err != nil || strings.Join(c.Scopes, " ") != "read:repository read:user" {
		t.Errorf("consent after allow = %v, %v; want the earlier read:user plus read:repository", c.Scopes, err)
	}
}

// localHidden reads a hidden input's value from a page.
func localHidden(t *testing.T, page, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, `name="`+name+`" value="`)
	value, _, ok2 := strings.Cut(rest, `"`)
	if !ok || !ok2 {
		t.Fatalf("no hidden %s in the page", name)
	}
	return value
}

func TestCallbackRefusals(t *testing.T) {
	w := newWorld(t)
	req, cookie := w.signedIn(t, w.client(t), "csrf")
	tests := []struct {
		name   string
		state  string
		cookie *http.Cookie
		status int
	}{
		{name: "unknown state", state: "forged", cookie: cookie, status: http.StatusBadRequest},
		{name: "another browser", state: "gitea-state", status: http.StatusForbidden},
		{name: "came back already", state: "gitea-state", cookie: cookie, status: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequestWithContext(context.Background(), "GET", PathCallback+"?"+url.Values{"state": {tt.state}, "code": {"gitea-code"}}.Encode(), nil)
			if tt.cookie != nil {
				r.AddCookie(tt.cookie)
			}
			if rec := w.serve(r); rec.Code != tt.status || rec.Header().Get("Location") != "" {
				t.Errorf("callback: %d to %q, want %d answered here", rec.Code, rec.Header().Get("Location"), tt.status)
			}
		})
	}
	if _, err := w.store.AuthRequest(t.Context(), req.ID, w.now); err != nil {
		t.Errorf("a refused callback ended the authorization: %v", err)
	}
}

// issued stores a code for alice and returns it.
func (w *world) issued(t *testing.T, clientID string) string {
	t.Helper()
	code := randomToken(codePrefix)
	err := w.store.CreateAuthCode(t.Context(), store.AuthCode{Hash: store.Hash(code), ClientID: clientID, RedirectURI: testRedirect,
		CodeChallenge: challengeOf(testVerifier), UserID: "42", Login: "alice", Scopes: []string{"read:repository", "read:user"},
		Resource: testIssuer + "/mcp", ExpiresAt: w.now.Add(codeTTL)})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func (w *world) upstream(t *testing.T, scopes ...string) {
	t.Helper()
	access, _ := w.b.keys.Seal("gitea-access-token", accessContext("42"))
	refresh, _ := w.b.keys.Seal("gitea-refresh-token", refreshContext("42"))
	if err := w.store.PutUpstream(t.Context(), store.Upstream{UserID: "42", Login: "alice", Scopes: scopes,
		SealedAccess: access, SealedRefresh: refresh, AccessExpiry: w.now.Add(time.Hour), UpdatedAt: w.now}); err != nil {
		t.Fatal(err)
	}
}

// issue issues tok's client the tokens of tok.
func (w *world) issue(t *testing.T, tok store.Token) (*tokenResponse, *oauthError) {
	t.Helper()
	c, oerr := w.b.tokenClient(t.Context(), tok.ClientID)
	if oerr != nil {
		t.Fatal(oerr)
	}
	return w.b.issueTokens(t.Context(), c, tok)
}

func (w *world) token(form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequestWithContext(context.Background(), "POST", PathToken, io.NopCloser(strings.NewReader(form.Encode())))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return w.serve(r)
}

func TestRedeemCode(t *testing.T) {
	tests := []struct {
		name   string
		change func(f url.Values)
		error  string
	}{
		{name: "wrong verifier", change: func(f url.Values) { f.Set("code_verifier", strings.Repeat("x", 43)) }, error: "invalid_grant"},
		{name: "another client", change: func(f url.Values) { f.Set("client_id", "dyn_other") }, error: "invalid_grant"},
		{name: "another redirect", change: func(f url.Values) { f.Set("redirect_uri", "http://127.0.0.1:9999/x") }, error: "invalid_grant"},
		{name: "another resource", change: func(f url.Values) { f.Set("resource", "https://evil.example/mcp") }, error: "invalid_target"},
		{name: "no verifier", change: func(f url.Values) { f.Del("code_verifier") }, error: "invalid_request"},
		{name: "no client", change: func(f url.Values) { f.Del("client_id") }, error: "invalid_client"},
		{name: "implicit grant", change: func(f url.Values) { f.Set("grant_type", "password") }, error: "unsupported_grant_type"},
		{name: "redeemed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			clientID := w.client(t)
			w.upstream(t, "read:repository", "read:user")
			code := w.issued(t, clientID)
			form := url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "code": {code},
				"redirect_uri": {testRedirect}, "code_verifier": {testVerifier}}
			if tt.change != nil {
				tt.change(form)
			}
			rec := w.token(form)
			if tt.error != "" {
				if rec.Code == http.StatusOK || !strings.Contains(rec.Body.String(), `"error":"`+tt.error+`"`) {
					t.Fatalf("token: %d %s, want error %s", rec.Code, rec.Body, tt.error)
				}
			} else if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"access_token":"aegis_at_`) {
				t.Fatalf("token: %d %s, want tokens", rec.Code, rec.Body)
			}
			if tt.error == "invalid_grant" || tt.error == "" {
				if rec := w.token(form); !strings.Contains(rec.Body.String(), `"error":"invalid_grant"`) {
					t.Errorf("the code again: %d %s, want invalid_grant (codes are single-use, right or wrong)", rec.Code, rec.Body)
				}
			}
		})
	}
}

func TestRefreshReuseRevokesTheFamily(t *testing.T) {
	w := newWorld(t)
	clientID := w.client(t)
	w.upstream(t, "read:repository", "read:user")
	resp, oerr := w.issue(t, store.Token{Family: "fam", ClientID: clientID, UserID: "42", Login: "alice",
		Scopes: []string{"read:repository"}, Resource: testIssuer + "/mcp"})
	if oerr != nil {
		t.Fatal(oerr)
	}
	p, err := w.b.Verify(t.Context(), resp.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if p.Token() != "gitea-access-token" || p.Login != "alice" || !p.Scopes.Has("read:repository") || p.Scopes.Has("read:user") {
		t.Errorf("principal %v scopes %v: want alice with the Gitea token and only the consented scope", p, p.Scopes.List())
	}
	if _, err := w.store.UseRefreshToken(t.Context(), store.Hash(resp.RefreshToken), w.now); err != nil {
		t.Fatal(err) // the legitimate client's refresh (its new pair is not needed here)
	}
	rec := w.token(url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {resp.RefreshToken}})
	if !strings.Contains(rec.Body.String(), `"error":"invalid_grant"`) {
		t.Fatalf("a reused refresh token: %d %s, want invalid_grant", rec.Code, rec.Body)
	}
	if _, err := w.b.Verify(t.Context(), resp.AccessToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("the family's access token after reuse: %v, want invalid_token (at once, not after the verdict cache)", err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	w := newWorld(t)
	clientID := w.client(t)
	w.upstream(t, "read:repository")
	resp, _ := w.issue(t, store.Token{Family: "fam", ClientID: clientID, UserID: "42", Login: "alice",
		Scopes: []string{"read:repository"}, Resource: testIssuer + "/mcp"})
	tests := map[string]string{
		"a Gitea JWT":    "eyJhbGciOiJSUzI1NiJ9.eyJnbnQiOjEsInR0IjowfQ.c2ln",
		"unknown token":  randomToken(accessTokenPrefix),
		"refresh token":  resp.RefreshToken,
		"truncated":      resp.AccessToken[:20],
		"with a newline": resp.AccessToken + "\n",
	}
	for name, token := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := w.b.Verify(t.Context(), token); !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("Verify = %v, want invalid_token", err)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		w.now = w.now.Add(DefaultAccessTTL + time.Second)
		if _, err := w.b.Verify(t.Context(), resp.AccessToken); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("Verify after expiry = %v, want invalid_token", err)
		}
	})
}

// TestRefreshWhileGiteaIsDownKeepsTheToken: a refresh refused because Gitea
// cannot be asked leaves the refresh token unspent, so the client's retry is
// not taken for reuse.
func TestRefreshWhileGiteaIsDownKeepsTheToken(t *testing.T) {
	w := newWorld(t) // its Gitea answers nothing
	clientID := w.client(t)
	w.upstream(t, "read:repository")
	resp, _ := w.issue(t, store.Token{Family: "fam", ClientID: clientID, UserID: "42", Login: "alice",
		Scopes: []string{"read:repository"}, Resource: testIssuer + "/mcp"})
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {resp.RefreshToken}}
	for try := range 2 {
		if rec := w.token(form); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "retry") {
			t.Fatalf("refresh %d with Gitea down: %d %s, want 503 asking to retry", try+1, rec.Code, rec.Body)
		}
	}
	if got, err := w.store.FindToken(t.Context(), store.Hash(resp.RefreshToken), w.now); err != nil || got.Spent {
		t.Errorf("the refresh token after refused refreshes: spent %v, %v; want unspent", got.Spent, err)
	}
}

// TestConsentDeny: Deny sends the client access_denied, ends the
// authorization and stores no consent and no code.
func TestConsentDeny(t *testing.T) {
	w := newWorld(t)
	w.upstream(t, "read:repository")
	req, cookie := w.signedIn(t, w.client(t), "csrf-token")
	post := httptest.NewRequestWithContext(context.Background(), "POST", PathConsent,
		io.NopCloser(strings.NewReader(url.Values{"request": {req.ID}, "csrf": {"csrf-token"}, "decision": {"deny"}}.Encode())))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.AddCookie(cookie)
	rec := w.serve(post)
	loc, _ := url.Parse(rec.Header().Get("Location"))
	if rec.Code != http.StatusSeeOther || loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" || loc.Query().Get("state") != "st" {
		t.Fatalf("deny: %d to %s, want the client's redirect URI with error=access_denied and no code", rec.Code, loc)
	}
	if _, err := w.store.AuthRequest(t.Context(), req.ID, w.now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the authorization after deny: %v, want ended", err)
	}
	if _, err := w.store.Consent(t.Context(), "42", req.ClientID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a consent after deny: %v, want none", err)
	}
}
