package clientdoc

import (
	"container/list"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// cache is a bounded map from client_id to a result, with a lifetime per
// entry; when full, the entry stored longest ago goes first.
type cache struct {
	mu    sync.Mutex
	bound int
	items map[string]*list.Element
	order *list.List // of *entry, oldest first
}

// entry is a cached document or failure.
type entry struct {
	key     string
	doc     *Document
	err     error
	expires time.Time
}

func newCache(bound int) *cache {
	return &cache{bound: bound, items: map[string]*list.Element{}, order: list.New()}
}

// get returns the live entry for key; an expired one is dropped.
func (c *cache) get(key string, now time.Time) (entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return entry{}, false
	}
	e := el.Value.(*entry)
	if !now.Before(e.expires) {
		c.removeLocked(el)
		return entry{}, false
	}
	return *e, true
}

// put stores e, replacing any entry for its key and evicting the oldest
// entries past the bound.
func (c *cache) put(e entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[e.key]; ok {
		c.removeLocked(el)
	}
	for c.order.Len() >= c.bound {
		c.removeLocked(c.order.Front())
	}
	c.items[e.key] = c.order.PushBack(&e)
}

// remove drops the entry for key, if any.
func (c *cache) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.removeLocked(el)
	}
}

func (c *cache) removeLocked(el *list.Element) {
	delete(c.items, el.Value.(*entry).key)
	c.order.Remove(el)
}

// len returns the number of entries, live or expired.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// lifetime is how long a document answered with header h is used: the
// Cache-Control max-age less the Age header, or f's default TTL without
// max-age; no-store, no-cache, or an invalid max-age give the minimum TTL.
// The result is bounded by the minimum and maximum TTLs. Expires is not
// read.
func (f *Fetcher) lifetime(h http.Header) time.Duration {
	maxAge := int64(-1)
	for _, line := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return f.minTTL
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
				if err != nil || n < 0 {
					return f.minTTL
				}
				if maxAge < 0 || n < maxAge {
					maxAge = n // of several, the most cautious
				}
			}
		}
	}
	if maxAge < 0 {
		return f.clamp(f.defaultTTL)
	}
	if age, err := strconv.ParseInt(strings.TrimSpace(h.Get("Age")), 10, 64); err == nil && age > 0 {
		maxAge = max(maxAge-age, 0)
	}
	if limit := int64(f.maxTTL / time.Second); maxAge > limit {
		maxAge = limit // no overflow below
	}
	return f.clamp(time.Duration(maxAge) * time.Second)
}

func (f *Fetcher) clamp(d time.Duration) time.Duration {
	return min(max(d, f.minTTL), f.maxTTL)
}
