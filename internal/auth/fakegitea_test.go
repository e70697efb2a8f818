package auth

// Shared test support: a fake Gitea (JWKS and token introspection), signing
// keys, token builders, an injectable clock and a verifier wired to them.
// The fake exists to inject faults a real Gitea will not produce; the
// behaviour against a real Gitea is covered by the end-to-end tests.

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// t0 is the fake clock's starting time; tokens are issued relative to it.
var t0 = time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)

const (
	testClientID     = "aegis-mcp-client-id"
	testClientSecret = "aegis-mcp-client-secret"
	testScope        = "openid read:repository read:issue"
	testLogin        = "alice"
	testUserID       = "7"
	testGrantID      = 42
)

var testRecommended = []gitea.Scope{gitea.ScopeReadRepository, gitea.ScopeReadIssue}

// fakeClock is a race-safe injectable clock.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(at time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(at.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
func (c *fakeClock) Set(at time.Time)        { c.ns.Store(at.UnixNano()) }

// testKey is a signing key and the key id and algorithm it is published with.
type testKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func (k testKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

func mustRSA(kid string) testKey {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return testKey{kid: kid, alg: jose.RS256, priv: priv}
}

func mustEC(kid string) testKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return testKey{kid: kid, alg: jose.ES256, priv: priv}
}

// Keys are generated once per test binary: RSA generation is slow under -race.
var (
	keyA     = sync.OnceValue(func() testKey { return mustRSA("gitea-rsa-a") })      // published
	keyB     = sync.OnceValue(func() testKey { return mustRSA("gitea-rsa-b") })      // published after a rotation
	keyEC    = sync.OnceValue(func() testKey { return mustEC("gitea-ec-a") })        // published
	keyRogue = sync.OnceValue(func() testKey { return mustRSA("attacker-rsa-key") }) // never published
)

// claims are a token's claims; the helpers return copies.
type claims map[string]any

// accessToken returns the claims of a Gitea access token expiring at exp.
func accessToken(exp time.Time) claims {
	return claims{"gnt": testGrantID, "tt": 0, "exp": exp.Unix(), "iat": t0.Unix()}
}

func (c claims) with(k string, v any) claims {
	out := maps.Clone(c)
	out[k] = v
	return out
}

func (c claims) without(k string) claims {
	out := maps.Clone(c)
	delete(out, k)
	return out
}

// sign returns a compact JWT of cl signed by k, with k's kid and algorithm.
func sign(t testing.TB, k testKey, cl claims) string {
	t.Helper()
	return signWith(t, k.alg, k.priv, k.kid, cl)
}

// signWith signs cl with any key, algorithm and claimed kid (empty: no kid).
func signWith(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, cl claims) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatalf("NewSigner(%s): %v", alg, err)
	}
	tok, err := josejwt.Signed(s).Claims(map[string]any(cl)).Serialize()
	if err != nil {
		t.Fatalf("signing a %s token: %v", alg, err)
	}
	return tok
}

// rawJWT assembles header.payload.signature from JSON values, signing nothing.
func rawJWT(t testing.TB, header, payload any, sig string) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	p, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(p) + "." + sig
}

// withPayload replaces a signed token's payload, keeping its header and signature.
func withPayload(t testing.TB, tok string, edit func([]byte) []byte) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %d parts", len(parts))
	}
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(edit(p))
	return strings.Join(parts, ".")
}

// introAnswer is what the fake's introspection answers.
type introAnswer struct {
	Active   bool   `json:"active"`
	Scope    string `json:"scope,omitempty"`
	Username string `json:"username,omitempty"`
	Subject  string `json:"sub,omitempty"`
	Audience any    `json:"aud,omitempty"`
}

// activeAnswer is Gitea's answer for a live token issued to this server.
func activeAnswer(scope string) introAnswer {
	return introAnswer{Active: true, Scope: scope, Username: testLogin, Subject: testUserID, Audience: testClientID}
}

// fakeGitea serves Gitea's JWKS and introspection endpoints.
type fakeGitea struct {
	t        testing.TB
	addr     string
	srv      *httptest.Server
	endpoint *gitea.Endpoint

	jwksCalls       atomic.Int64
	introspectCalls atomic.Int64

	mu          sync.Mutex
	keys        []jose.JSONWebKey
	jwksStatus  int    // non-zero: answer JWKS with this status
	jwksRaw     string // non-empty: answer JWKS with this body
	secret      string // the client secret introspection accepts
	introStatus int    // non-zero: answer introspection with this status
	introRaw    string // non-empty: answer introspection with this JSON body
	answer      func(token string) introAnswer
	lastToken   string
	hold        chan struct{} // non-nil: introspection waits for it to close
	entered     chan struct{} // closed when a held introspection arrives
	enterOnce   *sync.Once
}

// newFakeGitea starts a fake publishing keys (keyA and keyEC when none given).
func newFakeGitea(t testing.TB, keys ...testKey) *fakeGitea {
	t.Helper()
	if len(keys) == 0 {
		keys = []testKey{keyA(), keyEC()}
	}
	f := &fakeGitea{t: t, secret: testClientSecret}
	f.publish(keys...)
	f.answer = func(string) introAnswer { return activeAnswer(testScope) }
	f.srv = httptest.NewServer(f)
	f.addr = f.srv.Listener.Addr().String()
	t.Cleanup(func() { f.srv.Close() })
	u, err := url.Parse(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	e, err := gitea.NewEndpoint(gitea.Options{BaseURL: u})
	if err != nil {
		t.Fatalf("NewEndpoint: %v", err)
	}
	f.endpoint = e
	return f
}

// publish replaces the published keys.
func (f *fakeGitea) publish(keys ...testKey) {
	jwks := make([]jose.JSONWebKey, len(keys))
	for i, k := range keys {
		jwks[i] = k.public()
	}
	f.publishJWKs(jwks...)
}

func (f *fakeGitea) publishJWKs(keys ...jose.JSONWebKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = keys
}

func (f *fakeGitea) setJWKSStatus(s int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jwksStatus = s
}

func (f *fakeGitea) setJWKSRaw(body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jwksRaw = body
}

func (f *fakeGitea) setIntrospectStatus(s int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.introStatus = s
}

func (f *fakeGitea) setIntrospectRaw(body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.introRaw = body
}

func (f *fakeGitea) setSecret(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secret = s
}

func (f *fakeGitea) setAnswer(a introAnswer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = func(string) introAnswer { return a }
}

func (f *fakeGitea) introspectedToken() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastToken
}

// holdIntrospection makes introspection wait until release is called. entered
// is closed when the first held request arrives. Release is idempotent and
// also runs at cleanup (before the server closes), so a failing test cannot
// deadlock; a held request also gives up after a minute.
func (f *fakeGitea) holdIntrospection() (entered <-chan struct{}, release func()) {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	hold, ent := make(chan struct{}), make(chan struct{})
	f.hold, f.entered, f.enterOnce = hold, ent, &sync.Once{}
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	f.t.Cleanup(release)
	return ent, release
}

// stop closes the server: Gitea is unreachable (connections are refused).
func (f *fakeGitea) stop() { f.srv.Close() }

// restart serves again on the same address, so the endpoint reaches it.
func (f *fakeGitea) restart() {
	f.t.Helper()
	var lc net.ListenConfig
	l, err := lc.Listen(context.Background(), "tcp", f.addr)
	if err != nil {
		f.t.Fatalf("restarting the fake Gitea on %s: %v", f.addr, err)
	}
	srv := httptest.NewUnstartedServer(f)
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	f.srv = srv
}

func (f *fakeGitea) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/login/oauth/keys":
		f.serveJWKS(w, r)
	case "/login/oauth/introspect":
		f.serveIntrospect(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeGitea) serveJWKS(w http.ResponseWriter, r *http.Request) {
	f.jwksCalls.Add(1)
	f.mu.Lock()
	status, raw, keys := f.jwksStatus, f.jwksRaw, f.keys
	f.mu.Unlock()
	if r.Method != http.MethodGet {
		f.t.Errorf("JWKS method = %s, want GET", r.Method)
	}
	if status != 0 {
		writeJSON(w, status, `{"message":"jwks broken"}`)
		return
	}
	if raw != "" {
		writeJSON(w, http.StatusOK, raw)
		return
	}
	body, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		f.t.Errorf("marshalling the JWKS: %v", err)
	}
	writeJSON(w, http.StatusOK, string(body))
}

func (f *fakeGitea) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	f.introspectCalls.Add(1)
	if r.Method != http.MethodPost {
		f.t.Errorf("introspection method = %s, want POST", r.Method)
	}
	if r.URL.RawQuery != "" {
		f.t.Errorf("introspection URL has a query %q; the token must only be in the body", r.URL.RawQuery)
	}
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("introspection form: %v", err)
	}
	token := r.PostForm.Get("token")
	user, pass, ok := r.BasicAuth()

	f.mu.Lock()
	secret, status, raw, answer := f.secret, f.introStatus, f.introRaw, f.answer
	hold, entered, enterOnce := f.hold, f.entered, f.enterOnce
	f.lastToken = token
	f.mu.Unlock()

	if hold != nil {
		enterOnce.Do(func() { close(entered) })
		select {
		case <-hold:
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}
	switch {
	case !ok || user != testClientID || secret == "" || pass != secret:
		// Gitea's introspection handler asks for Basic credentials.
		w.Header().Set("WWW-Authenticate", `Basic realm="Gitea OAuth2 introspection"`)
		writeJSON(w, http.StatusUnauthorized, `{"error":"invalid_client"}`)
	case status != 0:
		writeJSON(w, status, `{"message":"introspection broken"}`)
	case raw != "":
		writeJSON(w, http.StatusOK, raw)
	default:
		body, err := json.Marshal(answer(token))
		if err != nil {
			f.t.Errorf("marshalling the introspection answer: %v", err)
		}
		writeJSON(w, http.StatusOK, string(body))
	}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// syncBuffer is a log sink safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testEnv is a verifier wired to a fake Gitea and a fake clock. Every token
// passed to verify is checked, at cleanup, to be absent from the logs.
type testEnv struct {
	t     testing.TB
	f     *fakeGitea
	clock *fakeClock
	v     *Verifier
	logs  *syncBuffer

	mu     sync.Mutex
	tokens map[string]bool
}

// newEnv returns a verifier for f (a new fake when nil). opts' zero fields are
// filled with the fake, the test client, the fake clock and a debug logger.
func newEnv(t testing.TB, f *fakeGitea, opts VerifierOptions) *testEnv {
	t.Helper()
	if f == nil {
		f = newFakeGitea(t)
	}
	env := &testEnv{t: t, f: f, clock: newFakeClock(t0), logs: &syncBuffer{}, tokens: map[string]bool{}}
	if opts.Gitea == nil {
		opts.Gitea = f.endpoint
	}
	opts.ClientID = cmp.Or(opts.ClientID, testClientID)
	opts.ClientSecret = cmp.Or(opts.ClientSecret, testClientSecret)
	if opts.Now == nil {
		opts.Now = env.clock.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.RecommendedScopes == nil {
		opts.RecommendedScopes = testRecommended
	}
	v, err := NewVerifier(opts)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	env.v = v
	t.Cleanup(func() {
		logs := env.logs.String()
		env.mu.Lock()
		defer env.mu.Unlock()
		for tok := range env.tokens {
			if tok != "" && strings.Contains(logs, tok) {
				t.Errorf("the verifier's logs contain a token:\n%s", logs)
				return
			}
		}
	})
	return env
}

// verify calls Verify with the test's context, remembering the token.
func (e *testEnv) verify(token string) (*Principal, error) {
	e.mu.Lock()
	e.tokens[token] = true
	e.mu.Unlock()
	return e.v.Verify(e.t.Context(), token)
}

// mustVerify fails the test unless token verifies.
func (e *testEnv) mustVerify(token string) *Principal {
	e.t.Helper()
	p, err := e.verify(token)
	if err != nil || p == nil {
		e.t.Fatalf("Verify(%s) = %v, %v; want a principal", short(token), p, err)
	}
	return p
}

// short names a token in failure messages without printing it whole.
func short(token string) string {
	if len(token) > 16 {
		return fmt.Sprintf("%q", token[:12]+"…")
	}
	return fmt.Sprintf("%q", token)
}

// wantAuthError checks that err is an *Error with the status and code, whose
// texts do not contain token, and that a 503 says when to retry.
func wantAuthError(t testing.TB, err error, token string, status int, code string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Verify(%s) error = %v (%T), want an *auth.Error", short(token), err, err)
	}
	if e.Status != status || e.Code != code {
		t.Errorf("Verify(%s) = %d %q (%v), want %d %q", short(token), e.Status, e.Code, e, status, code)
	}
	if token != "" && (strings.Contains(e.Description, token) || strings.Contains(e.Error(), token)) {
		t.Errorf("Verify(%s) error text contains the token: %q", short(token), e.Error())
	}
	if status == http.StatusServiceUnavailable && e.RetryAfter <= 0 {
		t.Errorf("Verify(%s) 503 RetryAfter = %v, want > 0", short(token), e.RetryAfter)
	}
	return e
}
