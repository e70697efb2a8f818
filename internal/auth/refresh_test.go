package auth

import (
	"testing"
	"time"
)

// TestKeepWarmServesASparseCaller: a caller who calls less often than the
// cache TTL finds a verdict refreshed in the background, and does not
// wait for Gitea: while introspection is held, the call is answered from
// the cache. A revocation is still seen within the TTL, and a token left
// unused past KeepWarm is no longer refreshed.
func TestKeepWarmServesASparseCaller(t *testing.T) {
	const ttl = 300 * time.Millisecond
	env := newEnv(t, nil, VerifierOptions{CacheTTL: ttl, KeepWarm: 2 * time.Second, Now: time.Now})
	t.Cleanup(env.v.Close)
	tok := sign(t, keyA(), accessToken(time.Now().Add(time.Hour)))
	if _, err := env.verify(tok); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * ttl) // several TTLs without a call
	if n := env.f.introspectCalls.Load(); n < 3 {
		t.Errorf("%d introspections after 4 TTLs, want the first and background refreshes", n)
	}
	_, release := env.f.holdIntrospection()
	start := time.Now()
	_, err := env.verify(tok)
	took := time.Since(start)
	release()
	if err != nil || took > ttl/2 {
		t.Errorf("the sparse caller's call = %v after %v: want it answered from the refreshed cache at once", err, took)
	}

	env.f.setAnswer(introAnswer{Active: false}) // the user revokes the grant
	deadline := time.Now().Add(ttl + time.Second)
	for {
		if _, err := env.verify(tok); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a revoked token still verifies %v after the revocation (TTL %v)", ttl+time.Second, ttl)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestKeepWarmStopsForIdleTokens(t *testing.T) {
	const ttl = 200 * time.Millisecond
	env := newEnv(t, nil, VerifierOptions{CacheTTL: ttl, KeepWarm: 300 * time.Millisecond, Now: time.Now})
	t.Cleanup(env.v.Close)
	tok := sign(t, keyA(), accessToken(time.Now().Add(time.Hour)))
	if _, err := env.verify(tok); err != nil {
		t.Fatal(err)
	}
	time.Sleep(6 * ttl)
	n := env.f.introspectCalls.Load()
	time.Sleep(4 * ttl)
	if m := env.f.introspectCalls.Load(); m != n {
		t.Errorf("introspection went on (%d -> %d) for a token unused longer than KeepWarm", n, m)
	}
	if n > 4 {
		t.Errorf("%d introspections for a token used once, KeepWarm 300 ms, TTL 200 ms: want at most a few", n)
	}
}

func TestKeepWarmOff(t *testing.T) {
	const ttl = 100 * time.Millisecond
	env := newEnv(t, nil, VerifierOptions{CacheTTL: ttl, KeepWarm: -1, Now: time.Now})
	tok := sign(t, keyA(), accessToken(time.Now().Add(time.Hour)))
	if _, err := env.verify(tok); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * ttl)
	if n := env.f.introspectCalls.Load(); n != 1 {
		t.Errorf("%d introspections with KeepWarm off, want 1", n)
	}
}
