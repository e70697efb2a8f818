package auth

import (
	"context"
	"sync"
	"time"
)

// DefaultKeepWarm is how long after its last use a token's verdict is
// refreshed before it expires, unless VerifierOptions say otherwise.
const DefaultKeepWarm = 10 * time.Minute

// warmth keeps the verdicts of recently used tokens fresh: shortly before
// an accepted verdict expires, the token is checked again in the
// background, if it was used within keepFor, so that a caller who calls
// less often than the cache TTL still finds a verdict and does not wait for
// Gitea's introspection. The revocation window does not grow: every
// verdict lasts at most the cache TTL from the check that made it, and a
// check that finds the token revoked drops the accepted verdict at once.
// It remembers at most one entry per accepted verdict.
type warmth struct {
	keepFor time.Duration // 0: off
	lead    time.Duration // how long before expiry a refresh starts

	mu      sync.Mutex
	entries map[tokenKey]*warmEntry
}

type warmEntry struct {
	lastUse time.Time
	timer   *time.Timer
}

func newWarmth(keepFor, ttl time.Duration) *warmth {
	return &warmth{keepFor: keepFor, lead: min(5*time.Second, ttl/4), entries: map[tokenKey]*warmEntry{}}
}

// used records a use of the token whose key is k.
func (w *warmth) used(k tokenKey, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.entries[k]; e != nil {
		e.lastUse = now
	}
}

// schedule arranges for refresh to run shortly before got, a new accepted
// verdict about k, expires; now is the time, and the token's first use if
// k is new.
func (w *warmth) schedule(k tokenKey, got *verdict, now time.Time, refresh func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.keepFor <= 0 {
		return
	}
	e := w.entries[k]
	if e == nil {
		e = &warmEntry{lastUse: now}
		w.entries[k] = e
	} else if e.timer != nil {
		e.timer.Stop()
	}
	e.timer = time.AfterFunc(max(0, got.until.Sub(now)-w.lead), refresh)
}

// due reports whether the token whose key is k was used recently enough
// to refresh it now, and forgets it if not.
func (w *warmth) due(k tokenKey, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.entries[k]
	if e != nil && now.Sub(e.lastUse) <= w.keepFor {
		return true
	}
	delete(w.entries, k)
	return false
}

// stop ends every refresh.
func (w *warmth) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, e := range w.entries {
		if e.timer != nil {
			e.timer.Stop()
		}
		delete(w.entries, k)
	}
	w.keepFor = 0
}

// forget stops refreshing k.
func (w *warmth) forget(k tokenKey) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.entries[k]; e != nil && e.timer != nil {
		e.timer.Stop()
	}
	delete(w.entries, k)
}

// refresh checks the token behind the accepted verdict about k again, if
// it is still cached and was used recently, and caches the new verdict: a
// refusal replaces the accepted one at once; an outage keeps the old one
// until it expires, as without the refresh.
func (v *Verifier) refresh(k tokenKey) {
	now := v.now()
	old, ok := v.cache.get(k, now)
	if !ok || old.principal == nil || !v.warm.due(k, now) || !now.Before(old.principal.Expires) {
		v.warm.forget(k)
		return
	}
	_, _, _ = v.flight.Do(string(k[:]), func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), upstreamTimeout)
		defer cancel()
		got := v.check(ctx, old.principal.Token())
		switch {
		case got.principal != nil:
			v.cache.put(k, got, v.now())
			v.warm.schedule(k, got, now, func() { v.refresh(k) })
		case got.until.After(v.now()): // refused: revoked, expired, ...
			v.cache.drop(k)
			v.cache.put(k, got, v.now())
			v.warm.forget(k)
		default: // Gitea unreachable: the old verdict stands until it expires
			v.warm.forget(k)
		}
		return got, nil
	})
}

// Close stops refreshing verdicts in the background. The Verifier still
// verifies; it no longer keeps verdicts warm.
func (v *Verifier) Close() { v.warm.stop() }
