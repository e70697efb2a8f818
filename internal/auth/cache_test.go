package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestVerifyCache(t *testing.T) {
	type step struct {
		at        time.Duration // since t0
		wantOK    bool
		wantCalls int64 // introspection calls so far
	}
	tests := []struct {
		name  string
		opts  VerifierOptions
		exp   time.Duration // token expiry, since t0
		setup func(*fakeGitea)
		steps []step
	}{
		{
			name: "second use is cached",
			exp:  time.Hour,
			steps: []step{
				{at: 0, wantOK: true, wantCalls: 1},
				{at: 0, wantOK: true, wantCalls: 1},
				{at: DefaultCacheTTL - time.Second, wantOK: true, wantCalls: 1},
			},
		},
		{
			name: "introspected again after the cache TTL",
			opts: VerifierOptions{CacheTTL: 20 * time.Second},
			exp:  time.Hour,
			steps: []step{
				{at: 0, wantOK: true, wantCalls: 1},
				{at: 19 * time.Second, wantOK: true, wantCalls: 1},
				{at: 20 * time.Second, wantOK: true, wantCalls: 2},
				{at: 21 * time.Second, wantOK: true, wantCalls: 2},
			},
		},
		{
			name: "the verdict never outlives the token",
			exp:  10 * time.Second,
			steps: []step{
				{at: 0, wantOK: true, wantCalls: 1},
				{at: 9 * time.Second, wantOK: true, wantCalls: 1},
				// Past exp, within the clock skew: checked again.
				{at: 11 * time.Second, wantOK: true, wantCalls: 2},
			},
		},
		{
			name: "the verdict never outlives the token, no skew",
			opts: VerifierOptions{ClockSkew: time.Millisecond},
			exp:  10 * time.Second,
			steps: []step{
				{at: 0, wantOK: true, wantCalls: 1},
				{at: 11 * time.Second, wantOK: false, wantCalls: 1},
			},
		},
		{
			name:  "a refusal is cached for the refusal TTL",
			opts:  VerifierOptions{RefusalTTL: 5 * time.Second},
			exp:   time.Hour,
			setup: func(f *fakeGitea) { f.setAnswer(introAnswer{Active: false}) },
			steps: []step{
				{at: 0, wantOK: false, wantCalls: 1},
				{at: 4 * time.Second, wantOK: false, wantCalls: 1},
				{at: 5 * time.Second, wantOK: false, wantCalls: 2},
			},
		},
		{
			name:  "an all-access refusal is cached",
			exp:   time.Hour,
			setup: func(f *fakeGitea) { f.setAnswer(activeAnswer("openid profile")) },
			steps: []step{
				{at: 0, wantOK: false, wantCalls: 1},
				{at: DefaultRefusalTTL - time.Second, wantOK: false, wantCalls: 1},
			},
		},
		{
			name:  "an outage is not cached",
			exp:   time.Hour,
			setup: func(f *fakeGitea) { f.setIntrospectStatus(http.StatusBadGateway) },
			steps: []step{
				{at: 0, wantOK: false, wantCalls: 1},
				{at: 0, wantOK: false, wantCalls: 2},
				{at: 0, wantOK: false, wantCalls: 3},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, nil, tt.opts)
			if tt.setup != nil {
				tt.setup(env.f)
			}
			token := sign(t, keyA(), accessToken(t0.Add(tt.exp)))
			var first *Principal
			for i, s := range tt.steps {
				env.clock.Set(t0.Add(s.at))
				p, err := env.verify(token)
				if got := err == nil; got != s.wantOK {
					t.Fatalf("step %d: Verify(%s) at t0+%v = %v, %v; want ok %v", i, short(token), s.at, p, err, s.wantOK)
				}
				if n := env.f.introspectCalls.Load(); n != s.wantCalls {
					t.Errorf("step %d: introspection calls at t0+%v = %d, want %d", i, s.at, n, s.wantCalls)
				}
				if p == nil {
					continue
				}
				if first == nil {
					first = p
				} else if s.wantCalls == 1 && p != first {
					t.Errorf("step %d: a cached Verify returned a new principal", i)
				}
			}
		})
	}
}

// TestVerifyCacheIsBounded: a flood of distinct valid tokens never grows the
// cache past CacheEntries.
func TestVerifyCacheIsBounded(t *testing.T) {
	const entries = 10
	env := newEnv(t, nil, VerifierOptions{CacheEntries: entries})
	for i := range 100 {
		tok := sign(t, keyA(), accessToken(t0.Add(time.Hour)).with("gnt", i+1))
		env.mustVerify(tok)
		if n := env.v.cache.len(); n > entries {
			t.Fatalf("after %d tokens the cache holds %d entries, want <= %d", i+1, n, entries)
		}
	}
	if n := env.f.introspectCalls.Load(); n != 100 {
		t.Errorf("introspection calls = %d, want 100", n)
	}
}

func TestVerdictCache(t *testing.T) {
	key := func(i int) tokenKey { return tokenKey(sha256.Sum256(fmt.Appendf(nil, "token-%d", i))) }
	tests := []struct {
		name    string
		max     int
		expired int // entries put first, already expired at t0
		live    int // entries put next, valid for an hour
		wantLen int // at most; -1: no bound beyond max
	}{
		{name: "under the bound", max: 10, live: 5, wantLen: 5},
		{name: "flood of live entries", max: 10, live: 1000, wantLen: 10},
		{name: "bound of one", max: 1, live: 50, wantLen: 1},
		{name: "odd bound", max: 7, live: 50, wantLen: 7},
		{name: "expired entries dropped first", max: 10, expired: 10, live: 1, wantLen: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newVerdictCache(tt.max)
			for i := range tt.expired {
				c.put(key(-1-i), &verdict{until: t0.Add(-time.Second)}, t0.Add(-2*time.Second))
			}
			for i := range tt.live {
				k := key(i)
				v := &verdict{until: t0.Add(time.Hour)}
				c.put(k, v, t0)
				if n := c.len(); n > tt.max {
					t.Fatalf("after %d puts the cache holds %d entries, want <= %d", i+1, n, tt.max)
				}
				if got, ok := c.get(k, t0); !ok || got != v {
					t.Fatalf("get(just put) = %v, %v; want the verdict", got, ok)
				}
			}
			if n := c.len(); n > tt.wantLen {
				t.Errorf("len() = %d, want <= %d", n, tt.wantLen)
			}
		})
	}
}

func TestVerdictCacheExpiry(t *testing.T) {
	c := newVerdictCache(10)
	k := tokenKey(sha256.Sum256([]byte("token")))
	v := &verdict{err: ErrInvalidToken, until: t0.Add(time.Minute)}
	c.put(k, v, t0)
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{name: "before", at: t0, want: true},
		{name: "just before the deadline", at: t0.Add(time.Minute - time.Nanosecond), want: true},
		{name: "at the deadline", at: t0.Add(time.Minute), want: false},
		{name: "after", at: t0.Add(time.Hour), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := c.get(k, tt.at); ok != tt.want {
				t.Errorf("get at t0+%v = %v, want %v", tt.at.Sub(t0), ok, tt.want)
			}
		})
	}
	if _, ok := c.get(tokenKey(sha256.Sum256([]byte("other"))), t0); ok {
		t.Error("get(unknown key) found a verdict")
	}
}

// TestVerifyStampede: concurrent first uses of one token share a single
// introspection and get the same principal.
func TestVerifyStampede(t *testing.T) {
	const callers = 200
	env := newEnv(t, nil, VerifierOptions{})
	env.v.Warm(t.Context())
	token := sign(t, keyA(), accessToken(t0.Add(time.Hour)))
	entered, release := env.f.holdIntrospection()

	var (
		wg      sync.WaitGroup
		started atomic.Int64
		start   = make(chan struct{})
		ps      = make([]*Principal, callers)
		errs    = make([]error, callers)
	)
	for i := range callers {
		wg.Go(func() {
			<-start
			started.Add(1)
			ps[i], errs[i] = env.verify(token)
		})
	}
	close(start)
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		release()
		t.Fatal("introspection was never called")
	}
	// Let the callers pile up behind the held introspection; late ones hit
	// the cache instead, which the assertions below accept as well.
	for deadline := time.Now().Add(5 * time.Second); started.Load() < callers && time.Now().Before(deadline); {
		runtime.Gosched()
	}
	release()
	wg.Wait()

	if n := env.f.introspectCalls.Load(); n != 1 {
		t.Errorf("introspection calls for %d concurrent callers = %d, want 1", callers, n)
	}
	for i := range callers {
		if errs[i] != nil || ps[i] == nil {
			t.Fatalf("caller %d: Verify(%s) = %v, %v; want a principal", i, short(token), ps[i], errs[i])
		}
		if ps[i] != ps[0] {
			t.Fatalf("caller %d got principal %p, caller 0 got %p; want the same", i, ps[i], ps[0])
		}
	}
}

// TestVerifyCallerGivesUp: a caller whose request ends gets a 503 at once,
// while the shared check goes on and its verdict serves the next caller.
func TestVerifyCallerGivesUp(t *testing.T) {
	env := newEnv(t, nil, VerifierOptions{})
	env.v.Warm(t.Context())
	token := sign(t, keyA(), accessToken(t0.Add(time.Hour)))
	entered, release := env.f.holdIntrospection()

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := env.v.Verify(ctx, token)
		done <- err
	}()
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("introspection was never called")
	}
	cancel()
	err := <-done
	_ = wantAuthError(t, err, token, http.StatusServiceUnavailable, CodeTemporarilyUnavailable)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a canceled request = %v, want it to wrap context.Canceled", err)
	}

	release()
	env.mustVerify(token)
	if n := env.f.introspectCalls.Load(); n != 1 {
		t.Errorf("introspection calls = %d, want 1: the abandoned check should have completed and been cached", n)
	}
}

// TestVerifyRefusalFloodKeepsAcceptedVerdicts reproduces the review's attack
// (issue 9, finding 6): unauthenticated, a client sends 25,000 distinct
// JWT-shaped tokens with a published key id and a bad signature. Each is
// refused and its refusal cached; before refusals had their own bound they
// filled the one verdict cache and evicted the accepted verdicts of real
// users, who were then introspected again. Accepted verdicts must survive
// the flood: re-verifying them calls introspection no more.
func TestVerifyRefusalFloodKeepsAcceptedVerdicts(t *testing.T) {
	const (
		users = 100    // accepted verdicts cached before the flood (alice's first)
		flood = 25_000 // distinct bad tokens, well past DefaultCacheEntries
	)
	env := newEnv(t, nil, VerifierOptions{Logger: slog.New(slog.DiscardHandler)})
	exp := t0.Add(time.Hour)
	good := make([]string, users)
	for i := range good {
		good[i] = sign(t, keyA(), accessToken(exp).with("gnt", i+1))
		env.mustVerify(good[i])
	}
	if n := env.f.introspectCalls.Load(); n != users {
		t.Fatalf("introspection calls after caching %d verdicts = %d, want %d", users, n, users)
	}

	// The flood: alice's token's header and signature over new payloads.
	ctx := t.Context()
	for i := range flood {
		bad := withPayload(t, good[0], func([]byte) []byte {
			return fmt.Appendf(nil, `{"gnt":%d,"tt":0,"exp":%d,"iat":%d}`, 1_000_000+i, exp.Unix(), t0.Unix())
		})
		p, err := env.v.Verify(ctx, bad)
		if p != nil || !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("flood token %d: Verify = %v, %v; want an invalid_token refusal", i, p, err)
		}
	}
	if n := env.f.introspectCalls.Load(); n != users {
		t.Fatalf("introspection calls after the flood = %d, want %d: a bad signature is refused locally", n, users)
	}

	for i, tok := range good {
		if p := env.mustVerify(tok); i == 0 && p.Login != testLogin {
			t.Fatalf("Verify(alice) after the flood = %v, want %s", p, testLogin)
		}
	}
	if n := env.f.introspectCalls.Load(); n != users {
		t.Errorf("introspection calls after re-verifying the %d cached users = %d, want %d: the flood of refusals evicted %d accepted verdicts",
			users, n, users, n-users)
	}
}

// TestVerdictCacheRefusalsNeverEvictAccepted: refusals and accepted verdicts
// are bounded separately; no number of refusals evicts an accepted verdict.
func TestVerdictCacheRefusalsNeverEvictAccepted(t *testing.T) {
	const max = 10
	key := func(i int) tokenKey { return tokenKey(sha256.Sum256(fmt.Appendf(nil, "token-%d", i))) }
	c := newVerdictCache(max)
	accepted := make([]*verdict, max)
	for i := range accepted {
		accepted[i] = &verdict{principal: &Principal{Login: fmt.Sprint("user", i)}, until: t0.Add(time.Minute)}
		c.put(key(i), accepted[i], t0)
	}
	for i := range 1000 {
		c.put(key(max+i), &verdict{err: ErrInvalidToken, until: t0.Add(time.Hour)}, t0)
		if n := c.refused.len(); n > max {
			t.Fatalf("after %d refusals the refusal part holds %d, want <= %d", i+1, n, max)
		}
	}
	for i, want := range accepted {
		if got, ok := c.get(key(i), t0); !ok || got != want {
			t.Errorf("accepted verdict %d after 1000 refusals: get = %v, %v; want it kept", i, got, ok)
		}
	}
	if n := c.len(); n > 2*max {
		t.Errorf("len() = %d, want <= %d", n, 2*max)
	}
}

// TestVerdictCacheEvictsClosestToExpiry: a full accepted part drops expired
// verdicts first, then those closest to expiry, never the longest-lived.
func TestVerdictCacheEvictsClosestToExpiry(t *testing.T) {
	const max = 10
	key := func(i int) tokenKey { return tokenKey(sha256.Sum256(fmt.Appendf(nil, "token-%d", i))) }
	accept := func(until time.Time) *verdict { return &verdict{principal: &Principal{}, until: until} }

	t.Run("closest to expiry first", func(t *testing.T) {
		c := newVerdictCache(max)
		for i := range max { // verdict i lives until t0 + (i+1) minutes
			c.put(key(i), accept(t0.Add(time.Duration(i+1)*time.Minute)), t0)
		}
		c.put(key(max), accept(t0.Add(time.Hour)), t0)
		// max/10+1 = 2 dropped to make room: verdicts 0 and 1.
		for i := range max + 1 {
			_, ok := c.get(key(i), t0)
			if want := i >= 2; ok != want {
				t.Errorf("verdict %d kept = %v, want %v", i, ok, want)
			}
		}
		if n := c.accepted.len(); n > max {
			t.Errorf("accepted part holds %d, want <= %d", n, max)
		}
	})

	t.Run("expired first", func(t *testing.T) {
		c := newVerdictCache(max)
		for i := range max { // verdicts 0..2 expire at t0+1s, the rest in an hour
			until := t0.Add(time.Hour)
			if i < 3 {
				until = t0.Add(time.Second)
			}
			c.put(key(i), accept(until), t0)
		}
		now := t0.Add(time.Minute)
		c.put(key(max), accept(now.Add(time.Minute)), now)
		for i := range max + 1 {
			_, ok := c.get(key(i), now)
			if want := i >= 3; ok != want {
				t.Errorf("verdict %d kept = %v, want %v", i, ok, want)
			}
		}
		if n := c.accepted.len(); n != max-3+1 {
			t.Errorf("accepted part holds %d, want %d: only the expired verdicts dropped", n, max-3+1)
		}
	})
}
