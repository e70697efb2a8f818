package auth

import (
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

// verdictCache is a bounded map of verdicts. When full it first drops
// expired entries, then arbitrary ones: a flood of new tokens can evict,
// but never grow the cache.
type verdictCache struct {
	mu  sync.RWMutex
	m   map[tokenKey]*verdict
	max int
}

func newVerdictCache(max int) *verdictCache {
	return &verdictCache{m: make(map[tokenKey]*verdict), max: max}
}

func (c *verdictCache) get(k tokenKey, now time.Time) (*verdict, bool) {
	c.mu.RLock()
	v := c.m[k]
	c.mu.RUnlock()
	if v == nil || !now.Before(v.until) {
		return nil, false
	}
	return v, true
}

func (c *verdictCache) put(k tokenKey, v *verdict, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		for key, old := range c.m {
			if !now.Before(old.until) {
				delete(c.m, key)
			}
		}
		for key := range c.m { // still full: drop about a tenth, arbitrarily
			if len(c.m) < c.max-c.max/10 {
				break
			}
			delete(c.m, key)
		}
	}
	c.m[k] = v
}

func (c *verdictCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
