package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
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
