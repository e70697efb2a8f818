package auth

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// TestPersonalAccessTokenIsToldSo: a token of a personal access token's
// shape is refused with a description that says what to send instead,
// without a call to Gitea and without the token in any text.
func TestPersonalAccessTokenIsToldSo(t *testing.T) {
	f := newFakeGitea(t)
	env := newEnv(t, f, VerifierOptions{})
	for _, pat := range []string{
		"0123456789abcdef0123456789abcdef01234567",
		"0123456789ABCDEF0123456789ABCDEF01234567",
	} {
		_, err := env.verify(pat)
		e := wantAuthError(t, err, pat, http.StatusUnauthorized, CodeInvalidToken)
		if !strings.Contains(e.Description, "this looks like a personal access token") || !strings.Contains(e.Description, "OAUTH_MODE=false") {
			t.Errorf("description = %q, want it to name a personal access token and OAUTH_MODE=false", e.Description)
		}
	}
	if n := f.introspectCalls.Load() + f.jwksCalls.Load(); n != 0 {
		t.Errorf("refusing a personal access token made %d calls to Gitea, want none", n)
	}
}

func TestLooksLikePersonalAccessToken(t *testing.T) {
	tests := map[string]bool{
		"0123456789abcdef0123456789abcdef01234567":  true,
		"0123456789abcdef0123456789abcdef0123456":   false, // 39
		"0123456789abcdef0123456789abcdef012345678": false, // 41
		"0123456789abcdef0123456789abcdef0123456g":  false,
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln": false, // a JWT's shape
		"": false,
	}
	for tok, want := range tests {
		if got := looksLikePersonalAccessToken(tok); got != want {
			t.Errorf("looksLikePersonalAccessToken(%q) = %v, want %v", tok, got, want)
		}
	}
	// No JWT can have the shape: it holds dots.
	if tok := sign(t, keyA(), accessToken(t0.Add(time.Hour))); looksLikePersonalAccessToken(tok) {
		t.Error("a signed access token looks like a personal access token")
	}
}

// TestCheckClient: the probe tells refused client credentials from
// accepted ones, reuses an acceptance for a minute, and learns from real
// introspections too.
func TestCheckClient(t *testing.T) {
	f := newFakeGitea(t)
	f.answer = func(token string) introAnswer {
		if token == "" {
			return introAnswer{} // Gitea: an empty token is inactive
		}
		return activeAnswer(testScope)
	}
	env := newEnv(t, f, VerifierOptions{})
	if err := env.v.CheckClient(t.Context()); err != nil {
		t.Fatalf("CheckClient with the right secret = %v, want nil", err)
	}
	if tok := f.introspectedToken(); tok != "" {
		t.Errorf("the probe introspected %s, want an empty token", short(tok))
	}
	calls := f.introspectCalls.Load()
	if err := env.v.CheckClient(t.Context()); err != nil || f.introspectCalls.Load() != calls {
		t.Errorf("CheckClient within a minute = %v after %d more calls, want nil from the last verdict", err, f.introspectCalls.Load()-calls)
	}

	f.setSecret("rotated")
	env.clock.Advance(clientRecheck + time.Second)
	err := env.v.CheckClient(t.Context())
	if !errors.Is(err, gitea.ErrClientCredentials) {
		t.Fatalf("CheckClient with a rotated secret = %v, want ErrClientCredentials", err)
	}
	if strings.Contains(err.Error(), testClientSecret) {
		t.Error("the error holds the client secret")
	}

	// A real introspection that Gitea answers is an acceptance; one it
	// refuses for the client is a refusal, seen at once.
	f.setSecret(testClientSecret)
	env.mustVerify(sign(t, keyA(), accessToken(t0.Add(time.Hour))))
	calls = f.introspectCalls.Load()
	if err := env.v.CheckClient(t.Context()); err != nil || f.introspectCalls.Load() != calls {
		t.Errorf("CheckClient after an accepted introspection = %v after %d calls, want nil without a probe", err, f.introspectCalls.Load()-calls)
	}
	f.setSecret("rotated again")
	_, err = env.verify(sign(t, keyA(), accessToken(t0.Add(time.Hour)).with("gnt", 2)))
	_ = wantAuthError(t, err, "", http.StatusServiceUnavailable, CodeTemporarilyUnavailable)
	if err := env.v.CheckClient(t.Context()); !errors.Is(err, gitea.ErrClientCredentials) {
		t.Errorf("CheckClient after a refused introspection = %v, want ErrClientCredentials", err)
	}

	f.setIntrospectStatus(http.StatusBadGateway)
	f.setSecret(testClientSecret)
	if err := env.v.CheckClient(t.Context()); err == nil || errors.Is(err, gitea.ErrClientCredentials) || !errors.Is(err, gitea.ErrUnavailable) {
		t.Errorf("CheckClient against a failing Gitea = %v, want ErrUnavailable", err)
	}
}
