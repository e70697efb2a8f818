package limits

import (
	"sync"
	"time"
)

// Rate allows each key n events per period, in bursts of up to n, and
// spreads them evenly beyond that (a generic cell rate algorithm: one
// timestamp per key). The zero value and a nil *Rate allow everything.
type Rate struct {
	interval time.Duration // one event's share of the period
	burst    time.Duration // how far ahead of now a key's budget may be spent
	maxKeys  int
	now      func() time.Time

	mu sync.Mutex
	// tat is, per key, when its budget is whole again (the "theoretical
	// arrival time"); a key whose tat has passed is as good as absent.
	tat map[string]time.Time
}

// DefaultMaxKeys bounds the keys a [Rate] remembers unless told otherwise.
const DefaultMaxKeys = 100_000

// NewRate returns a Rate of n events per period for each key, remembering
// at most maxKeys keys (0 means [DefaultMaxKeys]); now is its clock (nil
// means time.Now). n <= 0 returns nil, which allows everything.
func NewRate(n int, period time.Duration, maxKeys int, now func() time.Time) *Rate {
	if n <= 0 || period <= 0 {
		return nil
	}
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	if now == nil {
		now = time.Now
	}
	interval := period / time.Duration(n)
	return &Rate{interval: interval, burst: period - interval, maxKeys: maxKeys, now: now, tat: map[string]time.Time{}}
}

// Allow spends one event of key's budget. When none is left it spends
// nothing and reports how long until one is.
func (r *Rate) Allow(key string) (ok bool, retryAfter time.Duration) {
	return r.spend(key, true)
}

// Exhausted reports, without spending anything, whether key has no budget
// left, and how long until it has.
func (r *Rate) Exhausted(key string) (bool, time.Duration) {
	ok, wait := r.spend(key, false)
	return !ok, wait
}

func (r *Rate) spend(key string, commit bool) (bool, time.Duration) {
	if r == nil || r.tat == nil {
		return true, 0
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	tat, known := r.tat[key]
	if !known || tat.Before(now) {
		tat = now
	}
	next := tat.Add(r.interval)
	if wait := next.Sub(now) - r.burst - r.interval; wait > 0 {
		return false, wait
	}
	if commit {
		if !known && len(r.tat) >= r.maxKeys {
			r.forget(now)
		}
		r.tat[key] = next
	}
	return true, 0
}

// forget drops the keys whose budget is whole again, and if that is not
// enough, about a tenth of the others: more keys than maxKeys spending at
// once get fresh budgets rather than crowding each other out, and memory
// stays bounded.
func (r *Rate) forget(now time.Time) {
	for k, t := range r.tat {
		if !t.After(now) {
			delete(r.tat, k)
		}
	}
	for k := range r.tat {
		if len(r.tat) < r.maxKeys-r.maxKeys/10 {
			break
		}
		delete(r.tat, k)
	}
}

// Len is how many keys r remembers.
func (r *Rate) Len() int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tat)
}
