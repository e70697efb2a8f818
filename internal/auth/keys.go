package auth

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

var (
	errKeysUnavailable = errors.New("gitea's signing keys are not available")
	errUnknownKey      = errors.New("the token names a signing key gitea does not publish")
)

// keySet caches Gitea's JWKS. A token naming an unknown key id triggers a
// refresh (Gitea rotated its key), but refreshes are rate-limited and a
// request never waits for one longer than maxWait: a forged key id must not
// become a way to stall requests or hammer Gitea.
type keySet struct {
	fetch       func(context.Context) (json.RawMessage, error)
	now         func() time.Time
	minInterval time.Duration // between refreshes once keys are loaded
	retryAfter  time.Duration // between attempts while none are loaded
	maxWait     time.Duration // the longest a request waits for a refresh
	timeout     time.Duration // for one fetch

	mu          sync.Mutex
	keys        map[string]jose.JSONWebKey
	lastAttempt time.Time
	inflight    chan struct{} // non-nil while a refresh runs; closed when it ends
}

// key returns the public key with id kid.
func (s *keySet) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	s.mu.Lock()
	k, ok := s.keys[kid]
	var wait chan struct{}
	if !ok {
		wait = s.refreshLocked()
	}
	s.mu.Unlock()
	if ok {
		return k, nil
	}
	if wait != nil {
		timer := time.NewTimer(s.maxWait)
		select {
		case <-wait:
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[kid]; ok {
		return k, nil
	}
	// No keys at all, or a refresh still running: doubt, not a verdict.
	if s.keys == nil || s.inflight != nil {
		return jose.JSONWebKey{}, errKeysUnavailable
	}
	return jose.JSONWebKey{}, errUnknownKey
}

// refreshLocked starts a refresh unless one is running or the last attempt
// was too recent, and returns the channel of the running refresh, if any.
func (s *keySet) refreshLocked() chan struct{} {
	if s.inflight != nil {
		return s.inflight
	}
	interval := s.minInterval
	if s.keys == nil {
		interval = s.retryAfter
	}
	if !s.lastAttempt.IsZero() && s.now().Sub(s.lastAttempt) < interval {
		return nil
	}
	s.lastAttempt = s.now()
	done := make(chan struct{})
	s.inflight = done
	go func() {
		keys := s.load()
		s.mu.Lock()
		if keys != nil { // on failure keep the keys we had
			s.keys = keys
		}
		s.inflight = nil
		s.mu.Unlock()
		close(done)
	}()
	return done
}

// load fetches and parses the JWKS, keeping public asymmetric signing keys
// only; it returns nil on any failure.
func (s *keySet) load() map[string]jose.JSONWebKey {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	raw, err := s.fetch(ctx)
	if err != nil {
		return nil
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil
	}
	keys := make(map[string]jose.JSONWebKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.KeyID == "" || !k.Valid() || !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		keys[k.KeyID] = k
	}
	return keys
}

// loaded reports whether keys have ever been fetched; readiness uses it.
func (s *keySet) loaded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys != nil
}

// warm starts a first fetch if none has happened yet, and waits for it up to ctx.
func (s *keySet) warm(ctx context.Context) {
	s.mu.Lock()
	wait := s.refreshLocked()
	s.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
		}
	}
}
