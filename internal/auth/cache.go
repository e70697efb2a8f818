package auth

import (
	"slices"
	"sync"
	"time"
)

// tokenKey is the SHA-256 of a token: the cache never holds a token.
type tokenKey [32]byte

// verdict is a cached answer about one token: a principal or a refusal,
// valid until a deadline.
type verdict struct {
	principal *Principal
	err       error
	until     time.Time
}

// verdictCache holds verdicts in two separately bounded parts: accepted
// verdicts (a principal, its token included) and refusals (an error). Each
// part holds at most max entries, so the cache never holds more than 2*max
// verdicts. A flood of new tokens evicts only within its own part: tokens
// anyone can make up (a bad signature, an unknown key) or hold (a revoked
// grant) are refused and can never evict an accepted verdict; only tokens
// Gitea accepted can, and then the accepted verdicts closest to expiry go
// first. Eviction only makes a token be checked again sooner: a verdict is
// never reused past its deadline (the cache TTL, which is the revocation
// window, or the refusal TTL).
type verdictCache struct {
	max      int // the bound of each part
	accepted verdictMap
	refused  verdictMap
}

func newVerdictCache(max int) *verdictCache {
	return &verdictCache{
		max:      max,
		accepted: verdictMap{m: make(map[tokenKey]*verdict), max: max},
		refused:  verdictMap{m: make(map[tokenKey]*verdict), max: max},
	}
}

// get returns the live verdict about k, if any.
func (c *verdictCache) get(k tokenKey, now time.Time) (*verdict, bool) {
	if v, ok := c.accepted.get(k, now); ok {
		return v, true
	}
	return c.refused.get(k, now)
}

// drop forgets the accepted verdict about k, if any.
func (c *verdictCache) drop(k tokenKey) {
	c.accepted.mu.Lock()
	defer c.accepted.mu.Unlock()
	delete(c.accepted.m, k)
}

// put caches v about k in the part it belongs to. A refusal never takes
// the accepted part's lock. The other part may still hold an expired verdict
// about k (put follows a get that found none live); it is dropped when that
// part next evicts.
func (c *verdictCache) put(k tokenKey, v *verdict, now time.Time) {
	if v.principal != nil {
		c.accepted.put(k, v, now)
		return
	}
	c.refused.put(k, v, now)
}

// len is the number of verdicts held in both parts, expired ones included.
func (c *verdictCache) len() int { return c.accepted.len() + c.refused.len() }

// verdictMap is a map of at most max verdicts. When a new key would make
// it overflow, it drops its expired entries and, if still full, about a
// tenth of its entries, those closest to expiry: it can evict, never grow.
type verdictMap struct {
	mu  sync.RWMutex
	m   map[tokenKey]*verdict
	max int
}

func (c *verdictMap) get(k tokenKey, now time.Time) (*verdict, bool) {
	c.mu.RLock()
	v := c.m[k]
	c.mu.RUnlock()
	if v == nil || !now.Before(v.until) {
		return nil, false
	}
	return v, true
}

func (c *verdictMap) put(k tokenKey, v *verdict, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		c.evict(now)
	}
	c.m[k] = v
}

// evict makes room for one entry; c.mu is held.
func (c *verdictMap) evict(now time.Time) {
	for key, old := range c.m {
		if !now.Before(old.until) {
			delete(c.m, key)
		}
	}
	keep := c.max - c.max/10 - 1 // entries kept: with the new one, a tenth under the bound
	if len(c.m) < c.max {
		return
	}
	type entry struct {
		key   tokenKey
		until time.Time
	}
	all := make([]entry, 0, len(c.m))
	for key, v := range c.m {
		all = append(all, entry{key, v.until})
	}
	slices.SortFunc(all, func(a, b entry) int { return a.until.Compare(b.until) })
	for _, e := range all[:len(all)-max(keep, 0)] {
		delete(c.m, e.key)
	}
}

func (c *verdictMap) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
