package auth

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// principalView is the comparable part of a Principal.
type principalView struct {
	UserID, Login string
	Expires       time.Time
	Scopes        []gitea.Scope
	Token         string
}

func viewOf(p *Principal) principalView {
	return principalView{UserID: p.UserID, Login: p.Login, Expires: p.Expires, Scopes: p.Scopes.List(), Token: p.Token()}
}

func TestVerifyAccepts(t *testing.T) {
	exp := t0.Add(time.Hour)
	tests := []struct {
		name       string
		token      string
		answer     introAnswer
		now        time.Time // zero: t0
		wantScopes []gitea.Scope
	}{
		{
			name:       "RS256 access token",
			token:      sign(t, keyA(), accessToken(exp)),
			answer:     activeAnswer(testScope),
			wantScopes: []gitea.Scope{gitea.ScopeReadIssue, gitea.ScopeReadRepository},
		},
		{
			name:       "ES256 access token",
			token:      sign(t, keyEC(), accessToken(exp)),
			answer:     activeAnswer(testScope),
			wantScopes: []gitea.Scope{gitea.ScopeReadIssue, gitea.ScopeReadRepository},
		},
		{
			name:       "audience as an array",
			token:      sign(t, keyA(), accessToken(exp)),
			answer:     introAnswer{Active: true, Scope: testScope, Username: testLogin, Subject: testUserID, Audience: []string{"other", testClientID}},
			wantScopes: []gitea.Scope{gitea.ScopeReadIssue, gitea.ScopeReadRepository},
		},
		{
			name:       "write implies read",
			token:      sign(t, keyA(), accessToken(exp)),
			answer:     activeAnswer("openid profile write:repository read:user"),
			wantScopes: []gitea.Scope{gitea.ScopeWriteRepository, gitea.ScopeReadUser},
		},
		{
			name:       "expired within the clock skew",
			token:      sign(t, keyA(), accessToken(exp)),
			answer:     activeAnswer(testScope),
			now:        exp.Add(DefaultClockSkew - time.Second),
			wantScopes: []gitea.Scope{gitea.ScopeReadIssue, gitea.ScopeReadRepository},
		},
		{
			name:       "not before, within the clock skew",
			token:      sign(t, keyA(), accessToken(exp).with("nbf", t0.Add(10*time.Second).Unix())),
			answer:     activeAnswer(testScope),
			wantScopes: []gitea.Scope{gitea.ScopeReadIssue, gitea.ScopeReadRepository},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, nil, VerifierOptions{})
			env.f.setAnswer(tt.answer)
			if !tt.now.IsZero() {
				env.clock.Set(tt.now)
			}
			p, err := env.verify(tt.token)
			if err != nil {
				t.Fatalf("Verify(%s) = %v, want a principal", short(tt.token), err)
			}
			want := principalView{UserID: testUserID, Login: testLogin, Expires: exp, Scopes: tt.wantScopes, Token: tt.token}
			if diff := cmp.Diff(want, viewOf(p)); diff != "" {
				t.Errorf("Verify(%s) principal mismatch (-want +got):\n%s", short(tt.token), diff)
			}
			for _, sc := range tt.wantScopes {
				if !p.Scopes.Has(sc) {
					t.Errorf("Verify(%s).Scopes.Has(%s) = false, want true", short(tt.token), sc)
				}
			}
			if p.Scopes.Has(gitea.ScopeWriteIssue) {
				t.Errorf("Verify(%s).Scopes.Has(write:issue) = true, want false", short(tt.token))
			}
			if got := env.f.introspectedToken(); got != tt.token {
				t.Errorf("introspection was asked about %s, want the bearer token", short(got))
			}
			if n := env.f.introspectCalls.Load(); n != 1 {
				t.Errorf("introspection calls = %d, want 1", n)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	exp := t0.Add(time.Hour)
	valid := sign(t, keyA(), accessToken(exp))
	pubDER, err := x509.MarshalPKIXPublicKey(keyA().priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	pubJWK, err := json.Marshal(keyA().public())
	if err != nil {
		t.Fatal(err)
	}
	noneHeader := map[string]any{"alg": "none", "kid": keyA().kid, "typ": "JWT"}

	tests := []struct {
		name        string
		token       string
		answer      *introAnswer // nil: an active token with testScope
		now         time.Time    // zero: t0
		wantStatus  int
		wantCode    string
		local       bool // refused before introspection
		introStatus int  // non-zero: introspection answers this status
	}{
		// Refused by the local JWT check: Gitea is never asked.
		{name: "refresh token", token: sign(t, keyA(), accessToken(exp).with("tt", 1)), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "id token", token: sign(t, keyA(), claims{"iss": "https://gitea.example.com/", "aud": testClientID, "sub": testUserID,
			"exp": exp.Unix(), "iat": t0.Unix(), "name": testLogin}), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "no token type", token: sign(t, keyA(), accessToken(exp).without("tt")), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "grant id zero", token: sign(t, keyA(), accessToken(exp).with("gnt", 0)), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "grant id negative", token: sign(t, keyA(), accessToken(exp).with("gnt", -1)), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "grant id as a string", token: sign(t, keyA(), accessToken(exp).with("gnt", "42")), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "missing exp", token: sign(t, keyA(), accessToken(exp).without("exp")), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "null exp", token: sign(t, keyA(), accessToken(exp).with("exp", nil)), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "expired past the skew", token: valid, now: exp.Add(DefaultClockSkew + time.Second), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "not valid yet", token: sign(t, keyA(), accessToken(exp).with("nbf", t0.Add(time.Hour).Unix())), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "alg none", token: rawJWT(t, noneHeader, accessToken(exp), ""), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "alg none with a signature", token: rawJWT(t, noneHeader, accessToken(exp), "c2ln"), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "HS256 keyed with the public key PEM", token: signWith(t, jose.HS256, pubPEM, keyA().kid, accessToken(exp)), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "HS256 keyed with the public key DER", token: signWith(t, jose.HS256, pubDER, keyA().kid, accessToken(exp)), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "HS256 keyed with the public JWK", token: signWith(t, jose.HS256, pubJWK, keyA().kid, accessToken(exp)), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "unknown kid", token: signWith(t, jose.RS256, keyRogue().priv, keyRogue().kid, accessToken(exp)), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "no kid", token: signWith(t, jose.RS256, keyA().priv, "", accessToken(exp)), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "forged with a published kid", token: signWith(t, jose.RS256, keyRogue().priv, keyA().kid, accessToken(exp)), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "algorithm other than the key's", token: signWith(t, jose.PS256, keyA().priv, keyA().kid, accessToken(exp)), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "EC signature under an RSA kid", token: signWith(t, jose.ES256, keyEC().priv, keyA().kid, accessToken(exp)), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "payload edited", token: withPayload(t, valid, func(p []byte) []byte {
			return bytes.Replace(p, []byte(`"gnt":42`), []byte(`"gnt":43`), 1)
		}), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "payload byte flipped", token: withPayload(t, valid, func(p []byte) []byte {
			p[len(p)/2] ^= 0x01
			return p
		}), wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "signature truncated", token: valid[:len(valid)-4], wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "personal access token", token: "4f1c0e3b2a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b", wantStatus: 401, wantCode: CodeInvalidToken, local: true},
		{name: "random string", token: "not-a-jwt", wantStatus: 401, wantCode: CodeInvalidToken, local: true},

		// Refused on Gitea's introspection answer.
		// Gitea's request authentication refuses an expired, revoked or
		// forged token before its introspection handler runs: a 401 without
		// a Basic challenge.
		{name: "gitea answers 401 without a challenge", token: valid, introStatus: http.StatusUnauthorized, wantStatus: 401, wantCode: CodeInvalidToken},
		{name: "inactive", token: valid, answer: &introAnswer{Active: false}, wantStatus: 401, wantCode: CodeInvalidToken},
		{name: "another client's token", token: valid, answer: &introAnswer{Active: true, Scope: testScope, Username: testLogin, Subject: testUserID, Audience: "other-client"},
			wantStatus: 401, wantCode: CodeInvalidToken},
		{name: "no audience", token: valid, answer: &introAnswer{Active: true, Scope: testScope, Username: testLogin, Subject: testUserID},
			wantStatus: 401, wantCode: CodeInvalidToken},
		{name: "openid profile only", token: valid, answer: ptr(activeAnswer("openid profile")), wantStatus: 403, wantCode: CodeInsufficientScope},
		{name: "no scope", token: valid, answer: ptr(activeAnswer("")), wantStatus: 403, wantCode: CodeInsufficientScope},
		{name: "public-only alone", token: valid, answer: ptr(activeAnswer("openid public-only")), wantStatus: 403, wantCode: CodeInsufficientScope},
		{name: "unknown scope word", token: valid, answer: ptr(activeAnswer("openid read:repo")), wantStatus: 403, wantCode: CodeInsufficientScope},
		{name: "unknown word beside valid scopes", token: valid, answer: ptr(activeAnswer("read:repository read:issue read:repo")), wantStatus: 403, wantCode: CodeInsufficientScope},
		{name: "all", token: valid, answer: ptr(activeAnswer("all")), wantStatus: 403, wantCode: CodeInsufficientScope},
		{name: "all beside valid scopes", token: valid, answer: ptr(activeAnswer("read:repository all")), wantStatus: 403, wantCode: CodeInsufficientScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, nil, VerifierOptions{})
			env.f.setIntrospectStatus(tt.introStatus)
			if tt.answer != nil {
				env.f.setAnswer(*tt.answer)
			}
			if !tt.now.IsZero() {
				env.clock.Set(tt.now)
			}
			p, err := env.verify(tt.token)
			if p != nil {
				t.Fatalf("Verify(%s) = %v, want a refusal", short(tt.token), p)
			}
			e := wantAuthError(t, err, tt.token, tt.wantStatus, tt.wantCode)
			wantCalls := int64(1)
			if tt.local {
				wantCalls = 0
			}
			if n := env.f.introspectCalls.Load(); n != wantCalls {
				t.Errorf("Verify(%s): introspection calls = %d, want %d", short(tt.token), n, wantCalls)
			}
			if e.Status == http.StatusForbidden {
				if diff := cmp.Diff(testRecommended, e.Scopes); diff != "" {
					t.Errorf("Verify(%s) error scopes mismatch (-want +got):\n%s", short(tt.token), diff)
				}
				for _, want := range []string{gitea.JoinScopes(testRecommended), "revoke", "Authorized OAuth2 Applications"} {
					if !strings.Contains(e.Description, want) {
						t.Errorf("Verify(%s) description %q does not say %q", short(tt.token), e.Description, want)
					}
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestVerifyOutages: when Gitea cannot be asked the answer is 503, never a
// refusal or an acceptance, and it is not cached: the call after recovery
// succeeds.
func TestVerifyOutages(t *testing.T) {
	tests := []struct {
		name           string
		warm           bool                       // load the keys before breaking Gitea
		breakIt        func(f *fakeGitea)         // the outage
		recover        func(*testing.T, *testEnv) // the recovery
		wantIntrospect bool                       // whether introspection is reached during the outage
	}{
		{
			name:           "introspection answers 500",
			breakIt:        func(f *fakeGitea) { f.setIntrospectStatus(http.StatusInternalServerError) },
			recover:        func(_ *testing.T, env *testEnv) { env.f.setIntrospectStatus(0) },
			wantIntrospect: true,
		},
		{
			name:           "introspection answers 503",
			breakIt:        func(f *fakeGitea) { f.setIntrospectStatus(http.StatusServiceUnavailable) },
			recover:        func(_ *testing.T, env *testEnv) { env.f.setIntrospectStatus(0) },
			wantIntrospect: true,
		},
		{
			name:           "introspection answers non-JSON",
			breakIt:        func(f *fakeGitea) { f.setIntrospectRaw(`<html>bad gateway</html>`) },
			recover:        func(_ *testing.T, env *testEnv) { env.f.setIntrospectRaw("") },
			wantIntrospect: true,
		},
		{
			name: "introspection names no user",
			breakIt: func(f *fakeGitea) {
				f.setIntrospectRaw(`{"active":true,"scope":"read:repository","aud":"` + testClientID + `"}`)
			},
			recover:        func(_ *testing.T, env *testEnv) { env.f.setIntrospectRaw("") },
			wantIntrospect: true,
		},
		{
			name:           "gitea refuses our client credentials",
			breakIt:        func(f *fakeGitea) { f.setSecret("rotated-in-gitea") },
			recover:        func(_ *testing.T, env *testEnv) { env.f.setSecret(testClientSecret) },
			wantIntrospect: true,
		},
		{
			name:    "gitea unreachable, keys cached",
			warm:    true,
			breakIt: func(f *fakeGitea) { f.stop() },
			recover: func(t *testing.T, env *testEnv) { env.f.restart() },
		},
		{
			name:    "JWKS answers 500, no keys ever loaded",
			breakIt: func(f *fakeGitea) { f.setJWKSStatus(http.StatusInternalServerError) },
			recover: func(_ *testing.T, env *testEnv) {
				env.f.setJWKSStatus(0)
				env.clock.Advance(keyRetryInterval + time.Second)
			},
		},
		{
			name:    "gitea unreachable, no keys ever loaded",
			breakIt: func(f *fakeGitea) { f.stop() },
			recover: func(_ *testing.T, env *testEnv) {
				env.f.restart()
				env.clock.Advance(keyRetryInterval + time.Second)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, nil, VerifierOptions{})
			token := sign(t, keyA(), accessToken(t0.Add(time.Hour)))
			if tt.warm {
				env.v.Warm(t.Context())
				if !env.v.KeysLoaded() {
					t.Fatal("Warm did not load the keys")
				}
			}
			tt.breakIt(env.f)
			p, err := env.verify(token)
			if p != nil {
				t.Fatalf("Verify(%s) during the outage = %v, want 503", short(token), p)
			}
			_ = wantAuthError(t, err, token, http.StatusServiceUnavailable, CodeTemporarilyUnavailable)
			if got := env.f.introspectCalls.Load() > 0; got != tt.wantIntrospect {
				t.Errorf("introspection reached during the outage = %v, want %v", got, tt.wantIntrospect)
			}
			if n := env.v.cache.len(); n != 0 {
				t.Errorf("an outage was cached: %d cache entries, want 0", n)
			}
			tt.recover(t, env)
			p = env.mustVerify(token)
			if p.Login != testLogin {
				t.Errorf("Verify(%s) after recovery = %v, want %s", short(token), p, testLogin)
			}
		})
	}
}

// TestVerifyAudienceOption: the audience a token must have defaults to the
// client id.
func TestVerifyAudienceOption(t *testing.T) {
	token := sign(t, keyA(), accessToken(t0.Add(time.Hour)))
	tests := []struct {
		name     string
		audience string
		aud      any
		wantErr  error
	}{
		{name: "default audience is the client id", aud: testClientID},
		{name: "explicit audience", audience: "mcp-resource", aud: "mcp-resource"},
		{name: "explicit audience, token for the client id", audience: "mcp-resource", aud: testClientID, wantErr: ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, nil, VerifierOptions{Audience: tt.audience})
			env.f.setAnswer(introAnswer{Active: true, Scope: testScope, Username: testLogin, Subject: testUserID, Audience: tt.aud})
			_, err := env.verify(token)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Verify(%s) = %v, want %v", short(token), err, tt.wantErr)
			}
		})
	}
}

func TestNewVerifierRequiresGiteaAndClient(t *testing.T) {
	f := newFakeGitea(t)
	tests := []struct {
		name string
		opts VerifierOptions
	}{
		{name: "no gitea", opts: VerifierOptions{ClientID: testClientID, ClientSecret: testClientSecret}},
		{name: "no client id", opts: VerifierOptions{Gitea: f.endpoint, ClientSecret: testClientSecret}},
		{name: "no client secret", opts: VerifierOptions{Gitea: f.endpoint, ClientID: testClientID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v, err := NewVerifier(tt.opts); err == nil || v != nil {
				t.Errorf("NewVerifier(%s) = %v, %v; want an error", tt.name, v, err)
			}
		})
	}
	v, err := NewVerifier(VerifierOptions{Gitea: f.endpoint, ClientID: testClientID, ClientSecret: testClientSecret})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	got := []any{v.audience, v.cacheTTL, v.refusalTTL, v.clockSkew, v.cache.max, v.keys.maxWait}
	want := []any{testClientID, DefaultCacheTTL, DefaultRefusalTTL, DefaultClockSkew, DefaultCacheEntries, keyRefreshMaxWait}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NewVerifier defaults mismatch (-want +got):\n%s", diff)
	}
}

func TestWarmAndKeysLoaded(t *testing.T) {
	tests := []struct {
		name       string
		jwksStatus int
		want       bool
	}{
		{name: "keys published", want: true},
		{name: "JWKS failing", jwksStatus: http.StatusBadGateway, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, nil, VerifierOptions{})
			env.f.setJWKSStatus(tt.jwksStatus)
			if env.v.KeysLoaded() {
				t.Fatal("KeysLoaded() = true before any fetch")
			}
			env.v.Warm(t.Context())
			if got := env.v.KeysLoaded(); got != tt.want {
				t.Errorf("KeysLoaded() after Warm = %v, want %v", got, tt.want)
			}
			if n := env.f.jwksCalls.Load(); n != 1 {
				t.Errorf("JWKS calls = %d, want 1", n)
			}
		})
	}
}

// TestPrincipalNeverPrintsToken: however a *Principal is formatted or
// logged, its token does not appear.
func TestPrincipalNeverPrintsToken(t *testing.T) {
	env := newEnv(t, nil, VerifierOptions{})
	token := sign(t, keyA(), accessToken(t0.Add(time.Hour)))
	p := env.mustVerify(token)
	if p.Token() != token {
		t.Fatalf("Token() = %s, want the verified token", short(p.Token()))
	}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("call", "principal", p)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("call", "principal", p)
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", p),
		"%+v":  fmt.Sprintf("%+v", p),
		"%#v":  fmt.Sprintf("%#v", p),
		"%s":   fmt.Sprintf("%s", p),
		"%q":   fmt.Sprintf("%q", p),
		"%x":   fmt.Sprintf("%x", p),
		"nest": fmt.Sprintf("%+v", struct{ P *Principal }{p}),
		"text": text.String(),
		"json": js.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, token) {
			t.Errorf("%s output contains the token: %s", name, out)
		}
		if name != "nest" && !strings.Contains(out, testLogin) {
			t.Errorf("%s output %q does not name the user", name, out)
		}
	}
}

// TestPrincipalValueNeverPrintsToken: a Principal value (a dereferenced
// pointer, or a struct field of type Principal) must not print its token
// either.
func TestPrincipalValueNeverPrintsToken(t *testing.T) {
	p := NewPrincipal(testUserID, testLogin, gitea.ScopeSet{}, "secret-token-value")
	var text bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("call", "principal", *p)
	outputs := map[string]string{
		"%v":    fmt.Sprintf("%v", *p),
		"%+v":   fmt.Sprintf("%+v", *p),
		"%#v":   fmt.Sprintf("%#v", *p),
		"field": fmt.Sprintf("%+v", struct{ P Principal }{*p}),
		"text":  text.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, p.Token()) {
			t.Errorf("%s output of a Principal value contains the token: %s", name, out)
		}
	}
}

// TestNilPrincipalLogs: logging the principal of an unauthenticated request
// (PrincipalFrom answers nil) must not put a panic's stack trace in the logs.
func TestNilPrincipalLogs(t *testing.T) {
	var text bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("call", "principal", PrincipalFrom(t.Context()))
	if out := text.String(); strings.Contains(out, "panicked") {
		t.Errorf("logging a nil principal = %q, want no panic", out)
	}
}

func TestPrincipalContext(t *testing.T) {
	if got := PrincipalFrom(t.Context()); got != nil {
		t.Errorf("PrincipalFrom(empty context) = %v, want nil", got)
	}
	p := NewPrincipal(testUserID, testLogin, gitea.FullScopeSet(), "pat")
	if got := PrincipalFrom(WithPrincipal(t.Context(), p)); got != p {
		t.Errorf("PrincipalFrom(WithPrincipal(p)) = %v, want %v", got, p)
	}
	if p.Token() != "pat" || !p.Expires.IsZero() {
		t.Errorf("NewPrincipal: token %s, expires %v; want the token and no expiry", short(p.Token()), p.Expires)
	}
}
