package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

func TestKeyRotation(t *testing.T) {
	tests := []struct {
		name      string
		published []testKey // after the rotation
		oldValid  bool      // whether tokens of the old key still verify
	}{
		{name: "new key added", published: []testKey{keyA(), keyB()}, oldValid: true},
		{name: "old key replaced", published: []testKey{keyB()}, oldValid: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGitea(t, keyA())
			env := newEnv(t, f, VerifierOptions{})
			exp := t0.Add(24 * time.Hour)
			oldTok := sign(t, keyA(), accessToken(exp))
			env.mustVerify(oldTok)
			if n := f.jwksCalls.Load(); n != 1 {
				t.Fatalf("JWKS calls after the first token = %d, want 1", n)
			}

			f.publish(tt.published...)
			env.clock.Advance(keyRefreshInterval + time.Second)
			newTok := sign(t, keyB(), accessToken(exp))
			env.mustVerify(newTok)
			if n := f.jwksCalls.Load(); n != 2 {
				t.Errorf("JWKS calls after a token of the new key = %d, want 2 (one refresh)", n)
			}

			env.clock.Advance(DefaultCacheTTL + time.Second) // the old token's verdict expires
			p, err := env.verify(oldTok)
			if tt.oldValid {
				if err != nil {
					t.Errorf("Verify(%s) of the old key after rotation = %v, want a principal", short(oldTok), err)
				}
				return
			}
			if p != nil {
				t.Fatalf("Verify(%s) of a retired key = %v, want a refusal", short(oldTok), p)
			}
			_ = wantAuthError(t, err, oldTok, http.StatusUnauthorized, CodeInvalidToken)
		})
	}
}

// TestKeysCachedWhileJWKSDown: once loaded, keys survive a JWKS outage and a
// failed refresh.
func TestKeysCachedWhileJWKSDown(t *testing.T) {
	tests := []struct {
		name     string
		breakIt  func(*fakeGitea)
		keysKept bool // whether the refresh keeps the loaded keys
	}{
		{name: "JWKS answers 500", breakIt: func(f *fakeGitea) { f.setJWKSStatus(http.StatusInternalServerError) }, keysKept: true},
		{name: "JWKS answers non-JSON", breakIt: func(f *fakeGitea) { f.setJWKSRaw(`{"keys":`) }, keysKept: true},
		{name: "JWKS answers a non-set", breakIt: func(f *fakeGitea) { f.setJWKSRaw(`[1,2,3]`) }, keysKept: true},
		// An empty set is a valid answer: Gitea publishes no key any more.
		{name: "JWKS answers an empty set", breakIt: func(f *fakeGitea) { f.publish() }, keysKept: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, nil, VerifierOptions{})
			env.v.Warm(t.Context())
			tt.breakIt(env.f)
			exp := t0.Add(24 * time.Hour)
			env.mustVerify(sign(t, keyA(), accessToken(exp)))

			// An unknown kid triggers a refresh, which fails or finds nothing.
			env.clock.Advance(keyRefreshInterval + time.Second)
			unknown := sign(t, keyRogue(), accessToken(exp))
			_, err := env.verify(unknown)
			_ = wantAuthError(t, err, unknown, http.StatusUnauthorized, CodeInvalidToken)
			if n := env.f.jwksCalls.Load(); n != 2 {
				t.Errorf("JWKS calls = %d, want 2 (warm, then one refresh)", n)
			}
			if !tt.keysKept {
				return
			}
			env.mustVerify(sign(t, keyEC(), accessToken(exp)))
			env.mustVerify(sign(t, keyA(), accessToken(exp.Add(time.Second))))
		})
	}
}

// TestKeyRefreshRateLimited: tokens naming unknown keys cannot make the
// verifier hammer Gitea's JWKS.
func TestKeyRefreshRateLimited(t *testing.T) {
	tests := []struct {
		name       string
		concurrent bool
		advance    time.Duration // after warming, before the flood
		wantMax    int64         // JWKS fetches, warm included
	}{
		{name: "sequential, right after warming", wantMax: 1},
		{name: "sequential, refresh due", advance: keyRefreshInterval + time.Second, wantMax: 2},
		{name: "concurrent, refresh due", concurrent: true, advance: keyRefreshInterval + time.Second, wantMax: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, nil, VerifierOptions{})
			env.v.Warm(t.Context())
			env.clock.Advance(tt.advance)
			tokens := make([]string, 50)
			for i := range tokens {
				tokens[i] = signWith(t, jose.RS256, keyRogue().priv, randomKid(t), accessToken(t0.Add(time.Hour)))
			}
			errs := make([]error, len(tokens))
			var wg sync.WaitGroup
			for i, tok := range tokens {
				if !tt.concurrent {
					_, errs[i] = env.verify(tok)
					continue
				}
				wg.Go(func() { _, errs[i] = env.verify(tok) })
			}
			wg.Wait()
			for i, err := range errs {
				_ = wantAuthError(t, err, tokens[i], http.StatusUnauthorized, CodeInvalidToken)
			}
			if n := env.f.jwksCalls.Load(); n > tt.wantMax {
				t.Errorf("JWKS calls for %d unknown kids = %d, want <= %d", len(tokens), n, tt.wantMax)
			}
			if n := env.f.introspectCalls.Load(); n != 0 {
				t.Errorf("introspection calls = %d, want 0", n)
			}
		})
	}
}

// TestKeyRetryWhileNoneLoaded: with no keys ever loaded, a failed fetch is
// retried only after keyRetryInterval.
func TestKeyRetryWhileNoneLoaded(t *testing.T) {
	env := newEnv(t, nil, VerifierOptions{})
	env.f.setJWKSStatus(http.StatusBadGateway)
	tok := sign(t, keyA(), accessToken(t0.Add(time.Hour)))
	for range 5 {
		_, err := env.verify(tok)
		_ = wantAuthError(t, err, tok, http.StatusServiceUnavailable, CodeTemporarilyUnavailable)
	}
	if n := env.f.jwksCalls.Load(); n != 1 {
		t.Errorf("JWKS calls within the retry interval = %d, want 1", n)
	}
	env.clock.Advance(keyRetryInterval)
	_, err := env.verify(tok)
	_ = wantAuthError(t, err, tok, http.StatusServiceUnavailable, CodeTemporarilyUnavailable)
	if n := env.f.jwksCalls.Load(); n != 2 {
		t.Errorf("JWKS calls after the retry interval = %d, want 2", n)
	}
}

func randomKid(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestKeySetKeepsPublicSigningKeysOnly: the JWKS may hold keys that must never
// verify a token.
func TestKeySetKeepsPublicSigningKeysOnly(t *testing.T) {
	encKey := keyB().public()
	encKey.Use = "enc"
	noKid := keyB().public()
	noKid.KeyID = ""
	private := jose.JSONWebKey{Key: keyB().priv, KeyID: "leaked-private", Algorithm: "RS256", Use: "sig"}
	hmac := jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "hmac", Algorithm: "HS256", Use: "sig"}
	ecPriv := jose.JSONWebKey{Key: keyEC().priv, KeyID: "ec-private", Algorithm: "ES256"}
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{keyA().public(), keyEC().public(), encKey, noKid, private, hmac, ecPriv}})
	if err != nil {
		t.Fatal(err)
	}
	s := &keySet{
		fetch:   func(context.Context) (json.RawMessage, error) { return set, nil },
		timeout: time.Second,
	}
	got := slices.Sorted(func(yield func(string) bool) {
		for kid := range s.load() {
			if !yield(kid) {
				return
			}
		}
	})
	want := []string{keyEC().kid, keyA().kid}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("load() kept kids mismatch (-want +got):\n%s", diff)
	}
}

// TestKeyRefreshWaitIsBounded: a request waits at most maxWait for a slow
// JWKS; the refresh still completes for the next request. Runs in a
// synctest bubble, so the wait is on the bubble's clock.
func TestKeyRefreshWaitIsBounded(t *testing.T) {
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{keyA().public()}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		loaded   bool // keys were loaded before
		wantErr  error
		wantWait time.Duration
	}{
		{name: "no keys yet", wantErr: errKeysUnavailable, wantWait: keyRefreshMaxWait},
		{name: "keys loaded, unknown kid", loaded: true, wantErr: errKeysUnavailable, wantWait: keyRefreshMaxWait},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				release := make(chan struct{})
				fetches := 0
				s := &keySet{
					fetch: func(ctx context.Context) (json.RawMessage, error) {
						fetches++
						select {
						case <-release:
							return set, nil
						case <-ctx.Done():
							return nil, ctx.Err()
						}
					},
					now:         time.Now,
					minInterval: keyRefreshInterval,
					retryAfter:  keyRetryInterval,
					maxWait:     keyRefreshMaxWait,
					timeout:     upstreamTimeout,
				}
				if tt.loaded {
					s.keys = map[string]jose.JSONWebKey{"old": keyB().public()}
				}
				start := time.Now()
				_, err := s.key(t.Context(), keyA().kid)
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("key(%q) during a slow refresh = %v, want %v", keyA().kid, err, tt.wantErr)
				}
				if waited := time.Since(start); waited != tt.wantWait {
					t.Errorf("key(%q) waited %v, want %v", keyA().kid, waited, tt.wantWait)
				}
				close(release)
				synctest.Wait()
				if _, err := s.key(t.Context(), keyA().kid); err != nil {
					t.Errorf("key(%q) after the refresh completed = %v, want the key", keyA().kid, err)
				}
				if fetches != 1 {
					t.Errorf("fetches = %d, want 1", fetches)
				}
			})
		})
	}
}

// TestKeyWaitEndsWithTheRequest: a caller whose context ends stops waiting
// for the refresh at once.
func TestKeyWaitEndsWithTheRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		s := &keySet{
			fetch: func(ctx context.Context) (json.RawMessage, error) {
				<-release
				return nil, errors.New("gave up")
			},
			now:        time.Now,
			retryAfter: keyRetryInterval,
			maxWait:    time.Hour,
			timeout:    upstreamTimeout,
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := s.key(ctx, "any"); !errors.Is(err, errKeysUnavailable) {
			t.Errorf("key(any) with an ending context = %v, want errKeysUnavailable", err)
		}
		if waited := time.Since(start); waited != time.Millisecond {
			t.Errorf("key(any) waited %v, want the context's 1ms", waited)
		}
	})
}
