package limits

import "sync"

// Slots bounds what is held at once: at most perKey by any one key, and at
// most total by all keys together. A limit <= 0 is no limit. A nil *Slots
// grants everything.
type Slots struct {
	perKey, total int

	mu   sync.Mutex
	held map[string]int
	all  int
}

// NewSlots returns Slots of perKey per key and total in all.
func NewSlots(perKey, total int) *Slots {
	return &Slots{perKey: perKey, total: total, held: map[string]int{}}
}

// Refusal says which bound a refused [Slots.Acquire] hit.
type Refusal int

// The bounds of [Slots]; Granted is no refusal.
const (
	Granted Refusal = iota
	PerKeyFull
	TotalFull
)

// Acquire takes one slot for key. It never waits: when a bound is reached
// it takes nothing and says which. release gives the slot back; calling it
// more than once gives back only one slot.
func (s *Slots) Acquire(key string) (release func(), refused Refusal) {
	if s == nil {
		return func() {}, Granted
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.perKey > 0 && s.held[key] >= s.perKey:
		return nil, PerKeyFull
	case s.total > 0 && s.all >= s.total:
		return nil, TotalFull
	}
	s.held[key]++
	s.all++
	var once sync.Once
	return func() { once.Do(func() { s.release(key) }) }, Granted
}

func (s *Slots) release(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all--
	if s.held[key]--; s.held[key] <= 0 {
		delete(s.held, key)
	}
}

// Held is how many slots key holds, and all keys together.
func (s *Slots) Held(key string) (byKey, all int) {
	if s == nil {
		return 0, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held[key], s.all
}

// PerKey and Total are the bounds s was made with.
func (s *Slots) PerKey() int { return s.perKey }

// Total is the bound on all keys together.
func (s *Slots) Total() int { return s.total }
