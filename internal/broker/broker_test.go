package broker

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/seal"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store/sqlstore"
)

const (
	testIssuer   = "https://mcp.example.test"
	testRedirect = "http://127.0.0.1:9999/cb"
)

// world is a broker over a real SQLite store, whose Gitea nobody
// answers: these tests cover what the broker decides before it asks Gitea.
type world struct {
	b     *Broker
	store store.Store
	mux   *http.ServeMux
	now   time.Time
	key   string // the key ring's one key, k1
}

func newWorld(t *testing.T) *world {
	t.Helper()
	st, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "broker.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	key, _ := seal.GenerateKey()
	keys, err := seal.ParseKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gitea.NewEndpoint(gitea.Options{BaseURL: &url.URL{Scheme: "http", Host: "127.0.0.1:1"}, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{store: st, now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), key: key}
	w.b, err = New(Options{
		Store: st, Keys: keys, Gitea: g, GiteaClientID: "gitea-app", GiteaClientSecret: "gitea-secret",
		Issuer: testIssuer, Resources: []string{testIssuer + "/mcp"},
		Scopes:                 []gitea.Scope{gitea.ScopeReadRepository, gitea.ScopeReadIssue, gitea.ScopeReadUser},
		RegistrationsPerMinute: 3, Now: func() time.Time { return w.now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	w.mux = http.NewServeMux()
	w.b.Mount(w.mux, nil)
	return w
}

func (w *world) serve(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	w.mux.ServeHTTP(rec, r)
	return rec
}

// client registers a dynamic client redirecting to testRedirect.
func (w *world) client(t *testing.T) string {
	t.Helper()
	c := store.Client{ID: "dyn_test", Kind: store.ClientDynamic, Name: "Test client", RedirectURIs: []string{testRedirect},
		ApplicationType: "web", CreatedAt: w.now, ExpiresAt: w.now.Add(time.Hour)}
	if err := w.store.CreateClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func challengeOf(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

const testVerifier = "verifier-verifier-verifier-verifier-verifier-0123"

func authorizeQuery(clientID string) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {testRedirect},
		"code_challenge": {challengeOf(testVerifier)}, "code_challenge_method": {"S256"}, "state": {"st"},
		"resource": {testIssuer + "/mcp"}}
}

func TestAuthorize(t *testing.T) {
	tests := []struct {
		name   string
		change func(q url.Values)
		status int
		// error is the error code sent to the client's redirect URI; empty
		// means the browser is answered here (and nothing is redirected).
		error string
	}{
		{name: "no client", change: func(q url.Values) { q.Del("client_id") }, status: http.StatusBadRequest},
		{name: "unknown client", change: func(q url.Values) { q.Set("client_id", "dyn_nobody") }, status: http.StatusBadRequest},
		{name: "unregistered redirect", change: func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:9999/other") }, status: http.StatusBadRequest},
		{name: "repeated parameter", change: func(q url.Values) { q.Add("state", "again") }, status: http.StatusBadRequest},
		{name: "no PKCE", change: func(q url.Values) { q.Del("code_challenge") }, status: http.StatusSeeOther, error: "invalid_request"},
		{name: "plain PKCE", change: func(q url.Values) { q.Set("code_challenge_method", "plain") }, status: http.StatusSeeOther, error: "invalid_request"},
		{name: "malformed challenge", change: func(q url.Values) { q.Set("code_challenge", "short") }, status: http.StatusSeeOther, error: "invalid_request"},
		{name: "no resource", change: func(q url.Values) { q.Del("resource") }, status: http.StatusSeeOther, error: "invalid_target"},
		{name: "another resource", change: func(q url.Values) { q.Set("resource", "https://evil.example/mcp") }, status: http.StatusSeeOther, error: "invalid_target"},
		{name: "implicit flow", change: func(q url.Values) { q.Set("response_type", "token") }, status: http.StatusSeeOther, error: "unsupported_response_type"},
		{name: "unknown scope", change: func(q url.Values) { q.Set("scope", "read:everything") }, status: http.StatusSeeOther, error: "invalid_scope"},
		{name: "scope not offered", change: func(q url.Values) { q.Set("scope", "write:repository") }, status: http.StatusSeeOther, error: "invalid_scope"},
		{name: "accepted", status: http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			q := authorizeQuery(w.client(t))
			if tt.change != nil {
				tt.change(q)
			}
			rec := w.serve(httptest.NewRequestWithContext(t.Context(), "GET", PathAuthorize+"?"+q.Encode(), nil))
			if rec.Code != tt.status {
				t.Fatalf("authorize: %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			loc, _ := url.Parse(rec.Header().Get("Location"))
			switch {
			case tt.status == http.StatusBadRequest:
				if rec.Header().Get("Location") != "" || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
					t.Errorf("refused here: Location %q, CSP %q; want none, and no framing", rec.Header().Get("Location"), rec.Header().Get("Content-Security-Policy"))
				}
			case tt.error != "":
				got := loc.Query()
				if !strings.HasPrefix(loc.String(), testRedirect) || got.Get("error") != tt.error || got.Get("state") != "st" || got.Get("iss") != testIssuer {
					t.Errorf("redirected to %s, want %s with error=%s, state and iss", loc, testRedirect, tt.error)
				}
			default:
				got := loc.Query()
				if loc.Host != "127.0.0.1:1" || loc.Path != "/login/oauth/authorize" || got.Get("client_id") != "gitea-app" ||
					got.Get("redirect_uri") != testIssuer+PathCallback || got.Get("code_challenge_method") != "S256" ||
					got.Get("scope") != "read:repository read:issue read:user" || got.Get("state") == "" {
					t.Errorf("redirected to %s, want Gitea's authorize endpoint for the broker's app", loc)
				}
				cookies := rec.Result().Cookies()
				if len(cookies) != 1 || !strings.HasPrefix(cookies[0].Name, "__Host-aegis-auth-") || !cookies[0].Secure || !cookies[0].HttpOnly ||
					cookies[0].SameSite != http.SameSiteLaxMode || cookies[0].Path != "/" || cookies[0].Domain != "" {
					t.Errorf("binding cookie %+v, want one __Host- cookie, Secure, HttpOnly, SameSite=Lax, Path=/", cookies)
				}
				if _, err := w.store.AuthRequest(t.Context(), store.Hash(got.Get("state")), w.now); err != nil {
					t.Errorf("the request was not stored under its Gitea state: %v", err)
				}
			}
		})
	}
}

func TestRegister(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		ctype  string
		status int
		error  string
	}{
		{name: "public client", body: `{"client_name":"Editor","redirect_uris":["http://127.0.0.1:33418/callback"]}`, status: http.StatusCreated},
		{name: "native app scheme", body: `{"redirect_uris":["com.example.app:/oauth"],"application_type":"native"}`, status: http.StatusCreated},
		{name: "confidential client", body: `{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"client_secret_basic"}`, status: http.StatusBadRequest, error: "invalid_client_metadata"},
		{name: "no redirect", body: `{"client_name":"x"}`, status: http.StatusBadRequest, error: "invalid_redirect_uri"},
		{name: "http elsewhere", body: `{"redirect_uris":["http://app.example/cb"]}`, status: http.StatusBadRequest, error: "invalid_redirect_uri"},
		{name: "fragment", body: `{"redirect_uris":["https://app.example/cb#x"]}`, status: http.StatusBadRequest, error: "invalid_redirect_uri"},
		{name: "implicit grant", body: `{"redirect_uris":["https://app.example/cb"],"grant_types":["implicit"]}`, status: http.StatusBadRequest, error: "invalid_client_metadata"},
		{name: "not JSON", body: `redirect_uris=x`, ctype: "application/x-www-form-urlencoded", status: http.StatusBadRequest, error: "invalid_client_metadata"},
		{name: "truncated JSON", body: `{"redirect_uris":[`, status: http.StatusBadRequest, error: "invalid_client_metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			r := httptest.NewRequestWithContext(t.Context(), "POST", PathRegister, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", cmp.Or(tt.ctype, "application/json"))
			rec := w.serve(r)
			if rec.Code != tt.status || (tt.error != "" && !strings.Contains(rec.Body.String(), `"error":"`+tt.error+`"`)) {
				t.Fatalf("register: %d %s, want %d %s", rec.Code, rec.Body, tt.status, tt.error)
			}
			clients, _ := w.store.Clients(t.Context())
			if want := map[bool]int{true: 1, false: 0}[tt.status == http.StatusCreated]; len(clients) != want {
				t.Errorf("%d clients stored, want %d", len(clients), want)
			}
		})
	}
	t.Run("rate limited", func(t *testing.T) {
		w := newWorld(t)
		var codes []int
		for range 5 {
			r := httptest.NewRequestWithContext(t.Context(), "POST", PathRegister, strings.NewReader(`{"redirect_uris":["https://app.example/cb"]}`))
			r.Header.Set("Content-Type", "application/json")
			codes = append(codes, w.serve(r).Code)
		}
		if codes[2] != http.StatusCreated || codes[3] != http.StatusTooManyRequests || codes[4] != http.StatusTooManyRequests {
			t.Errorf("5 registrations at 3 a minute: %v, want 3 × 201 then 429", codes)
		}
	})
}
