package localgitea

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// RedirectURI is registered on every OAuth app [Gitea.CreateOAuthApp]
// creates. Nothing listens there: the flow reads the code from the
// redirect's Location.
const RedirectURI = "http://127.0.0.1:1/callback"

// OAuthApp is a confidential OAuth2 application registered in Gitea.
type OAuthApp struct {
	ID           int64
	Name         string
	ClientID     string
	ClientSecret string
}

// TokenSet is what Gitea's token endpoint returned.
type TokenSet struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// CreateOAuthApp registers a new confidential OAuth app owned by the admin,
// redirecting to [RedirectURI].
func (g *Gitea) CreateOAuthApp(ctx context.Context, name string) (*OAuthApp, error) {
	return g.CreateOAuthAppFor(ctx, name, RedirectURI)
}

// CreateOAuthAppFor registers a new confidential OAuth app owned by the
// admin, redirecting to redirectURIs.
func (g *Gitea) CreateOAuthAppFor(ctx context.Context, name string, redirectURIs ...string) (*OAuthApp, error) {
	var app struct {
		ID           int64  `json:"id"`
		Name         string `json:"name"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	err := g.Do(ctx, Request{Method: http.MethodPost, Path: "/api/v1/user/applications/oauth2", Want: http.StatusCreated,
		Body: map[string]any{"name": name, "redirect_uris": redirectURIs, "confidential_client": true}}, &app)
	if err != nil {
		return nil, err
	}
	return &OAuthApp{ID: app.ID, Name: app.Name, ClientID: app.ClientID, ClientSecret: app.ClientSecret}, nil
}

// AuthorizationCode runs Gitea's OAuth authorization-code flow with PKCE the
// way a browser would: it signs in through the login form, approves the
// consent form, and exchanges the code for tokens.
func (g *Gitea) AuthorizationCode(ctx context.Context, user Account, app *OAuthApp, scope string) (*TokenSet, error) {
	browser := newBrowser()
	if err := g.login(ctx, browser, user); err != nil {
		return nil, err
	}
	verifier := randomString(32)
	challenge := sha256.Sum256([]byte(verifier))
	state := randomString(16)
	authorize := g.URL + "/login/oauth/authorize?" + url.Values{
		"client_id":             {app.ClientID},
		"redirect_uri":          {RedirectURI},
		"response_type":         {"code"},
		"scope":                 {scope},
		"state":                 {state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"},
	}.Encode()
	resp, err := fetch(ctx, browser, http.MethodGet, authorize, nil)
	if err != nil {
		return nil, err
	}
	if resp, err = g.approve(ctx, browser, resp, app.ClientID); err != nil {
		return nil, err
	}
	code, err := codeFrom(resp, state)
	if err != nil {
		return nil, err
	}
	return g.exchange(ctx, app, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {RedirectURI},
		"code_verifier": {verifier},
	})
}

// approve answers Gitea's own consent page, when resp is one, with
// "granted"; a response that is not that page is returned as it is.
func (g *Gitea) approve(ctx context.Context, browser *http.Client, resp *page, clientID string) (*page, error) {
	if resp.status != http.StatusOK {
		return resp, nil
	}
	fields := hiddenFields(resp.body, "/login/oauth/grant")
	if fields.Get("client_id") != clientID {
		return nil, fmt.Errorf("authorize: no consent form in the page (status %d)", resp.status)
	}
	fields.Set("granted", "true")
	return fetch(ctx, browser, http.MethodPost, g.URL+"/login/oauth/grant", fields)
}

// Browser is a user's browser signed in at Gitea: it keeps cookies and
// follows no redirects, so a test sees every step of a sign-in.
type Browser struct {
	g *Gitea
	c *http.Client
}

// Page is a response as a browser keeps it.
type Page struct {
	Status   int
	Location string // the redirect target, if any
	Header   http.Header
	Body     string
}

// SignIn returns a browser signed in at Gitea as user.
func (g *Gitea) SignIn(ctx context.Context, user Account) (*Browser, error) {
	b := &Browser{g: g, c: newBrowser()}
	if err := g.login(ctx, b.c, user); err != nil {
		return nil, err
	}
	return b, nil
}

// Get fetches target without following a redirect.
func (b *Browser) Get(ctx context.Context, target string) (*Page, error) {
	return b.do(ctx, http.MethodGet, target, nil, nil)
}

// Post posts form to target, with the extra headers (e.g. Origin),
// without following a redirect.
func (b *Browser) Post(ctx context.Context, target string, form url.Values, header http.Header) (*Page, error) {
	return b.do(ctx, http.MethodPost, target, form, header)
}

// Follow fetches the page p redirects to, approving Gitea's own consent
// page for clientID on the way when Gitea shows it.
func (b *Browser) Follow(ctx context.Context, p *Page, clientID string) (*Page, error) {
	if p.Location == "" {
		return nil, fmt.Errorf("status %d is not a redirect", p.Status)
	}
	next, err := b.Get(ctx, p.Location)
	if err != nil || !strings.HasPrefix(p.Location, b.g.URL+"/login/oauth/authorize") {
		return next, err
	}
	got, err := b.g.approve(ctx, b.c, &page{status: next.Status, location: next.Location, body: next.Body}, clientID)
	if err != nil {
		return nil, err
	}
	return &Page{Status: got.status, Location: got.location, Body: got.body, Header: got.header}, nil
}

// Cookies returns the browser's cookies for target.
func (b *Browser) Cookies(target string) []*http.Cookie {
	u, err := url.Parse(target)
	if err != nil {
		return nil
	}
	return b.c.Jar.Cookies(u)
}

func (b *Browser) do(ctx context.Context, method, target string, form url.Values, header http.Header) (*Page, error) {
	p, err := fetchWith(ctx, b.c, method, target, form, header)
	if err != nil {
		return nil, err
	}
	return &Page{Status: p.status, Location: p.location, Header: p.header, Body: p.body}, nil
}

// HiddenFields returns the hidden inputs of the form posting to action
// (any form when action is empty) in an HTML page.
func HiddenFields(page, action string) url.Values { return hiddenFields(page, action) }

// Refresh exchanges a refresh token for a new token set.
func (g *Gitea) Refresh(ctx context.Context, app *OAuthApp, refreshToken string) (*TokenSet, error) {
	return g.exchange(ctx, app, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

// newBrowser is an HTTP client with a cookie jar that does not follow
// redirects, so the flow can read codes from Location headers.
func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (g *Gitea) login(ctx context.Context, browser *http.Client, user Account) error {
	page, err := fetch(ctx, browser, http.MethodGet, g.URL+"/user/login", nil)
	if err != nil {
		return err
	}
	form := url.Values{"user_name": {user.Name}, "password": {user.Password}}
	if csrf := hiddenFields(page.body, "").Get("_csrf"); csrf != "" {
		form.Set("_csrf", csrf)
	}
	resp, err := fetch(ctx, browser, http.MethodPost, g.URL+"/user/login", form)
	if err != nil {
		return err
	}
	if resp.status != http.StatusSeeOther && resp.status != http.StatusFound {
		return fmt.Errorf("login as %s: status %d, want a redirect", user.Name, resp.status)
	}
	return nil
}

func (g *Gitea) exchange(ctx context.Context, app *OAuthApp, form url.Values) (*TokenSet, error) {
	form.Set("client_id", app.ClientID)
	form.Set("client_secret", app.ClientSecret)
	resp, err := fetch(ctx, g.http, http.MethodPost, g.URL+"/login/oauth/access_token", form)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, fmt.Errorf("token endpoint: status %d: %s", resp.status, Tail(resp.body, 3))
	}
	var tok TokenSet
	if err := json.Unmarshal([]byte(resp.body), &tok); err != nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("token endpoint: no access token in the answer")
	}
	return &tok, nil
}

func codeFrom(resp *page, state string) (string, error) {
	loc, err := url.Parse(resp.location)
	if resp.location == "" || err != nil {
		return "", fmt.Errorf("authorize: status %d without a redirect", resp.status)
	}
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("authorize: %s: %s", e, q.Get("error_description"))
	}
	if !strings.HasPrefix(loc.String(), RedirectURI) || q.Get("state") != state || q.Get("code") == "" {
		return "", fmt.Errorf("authorize: redirect to %s carries no code for our state", loc.Redacted())
	}
	return q.Get("code"), nil
}

// page is what a browser keeps of a response: status, redirect target,
// headers, body.
type page struct {
	status   int
	location string
	header   http.Header
	body     string
}

// fetch sends a request (a form POST when form is not nil) without
// following redirects.
func fetch(ctx context.Context, c *http.Client, method, target string, form url.Values) (*page, error) {
	return fetchWith(ctx, c, method, target, form, nil)
}

func fetchWith(ctx context.Context, c *http.Client, method, target string, form url.Values, header http.Header) (*page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, req.URL.Path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return &page{status: resp.StatusCode, location: resp.Header.Get("Location"), header: resp.Header, body: string(b)}, err
}

var (
	formPattern  = regexp.MustCompile(`(?s)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	inputPattern = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*>`)
	attrPattern  = regexp.MustCompile(`(name|value)="([^"]*)"`)
)

// hiddenFields returns the hidden inputs of the form posting to action (any
// form when action is empty) in an HTML page.
func hiddenFields(page, action string) url.Values {
	fields := url.Values{}
	for _, form := range formPattern.FindAllStringSubmatch(page, -1) {
		if action != "" && !strings.HasSuffix(html.UnescapeString(form[1]), action) {
			continue
		}
		for _, input := range inputPattern.FindAllString(form[2], -1) {
			var name, value string
			for _, a := range attrPattern.FindAllStringSubmatch(input, -1) {
				if a[1] == "name" {
					name = html.UnescapeString(a[2])
				} else {
					value = html.UnescapeString(a[2])
				}
			}
			if name != "" {
				fields.Set(name, value)
			}
		}
	}
	return fields
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// RevokeGrant revokes the OAuth grant an access token of user belongs to,
// through the user's settings page as the user would; every token of the
// grant stops working.
func (g *Gitea) RevokeGrant(ctx context.Context, user Account, accessToken string) error {
	grant, err := grantID(accessToken)
	if err != nil {
		return err
	}
	browser := newBrowser()
	if err := g.login(ctx, browser, user); err != nil {
		return err
	}
	resp, err := fetch(ctx, browser, http.MethodPost,
		fmt.Sprintf("%s/user/settings/applications/oauth2/0/revoke/%d", g.URL, grant), url.Values{})
	if err != nil {
		return err
	}
	if resp.status != http.StatusOK {
		return fmt.Errorf("revoking grant %d: status %d", grant, resp.status)
	}
	return nil
}

// grantID reads the "gnt" claim of a Gitea token without verifying it:
// only the number is needed, to revoke.
func grantID(token string) (int64, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 0, fmt.Errorf("not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 0, err
	}
	var claims struct {
		Grant int64 `json:"gnt"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Grant == 0 {
		return 0, fmt.Errorf("token has no grant id")
	}
	return claims.Grant, nil
}
