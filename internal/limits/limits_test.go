package limits

import (
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)} }

func countAllowed(r *Rate, key string, n int) int {
	ok := 0
	for range n {
		if a, _ := r.Allow(key); a {
			ok++
		}
	}
	return ok
}

func TestRateAllowsABurstThenSpreads(t *testing.T) {
	c := newClock()
	r := NewRate(60, time.Minute, 0, c.now)
	if got := countAllowed(r, "alice", 100); got != 60 {
		t.Fatalf("a burst got %d of 100 allowed, want the minute's 60", got)
	}
	ok, wait := r.Allow("alice")
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("over budget: Allow = %v, wait %v; want refused, at most a second's wait", ok, wait)
	}
	if got := countAllowed(r, "bob", 60); got != 60 {
		t.Errorf("bob got %d of 60 although only alice spent her budget", got)
	}
	c.advance(time.Second)
	if got := countAllowed(r, "alice", 5); got != 1 {
		t.Errorf("a second later alice got %d, want 1 (one per second)", got)
	}
	c.advance(time.Minute)
	if got := countAllowed(r, "alice", 100); got != 60 {
		t.Errorf("a minute later alice got %d, want 60 again", got)
	}
}

func TestRateExhaustedSpendsNothing(t *testing.T) {
	c := newClock()
	r := NewRate(3, time.Minute, 0, c.now)
	for range 10 {
		if out, _ := r.Exhausted("k"); out {
			t.Fatal("Exhausted before anything was spent")
		}
	}
	countAllowed(r, "k", 3)
	if out, wait := r.Exhausted("k"); !out || wait <= 0 {
		t.Errorf("Exhausted = %v, %v after the budget was spent", out, wait)
	}
}

func TestRateIsBoundedInKeys(t *testing.T) {
	c := newClock()
	r := NewRate(5, time.Minute, 1000, c.now)
	for i := range 50_000 {
		r.Allow(string(rune('a'+i%26)) + time.Duration(i).String())
	}
	if n := r.Len(); n > 1000 {
		t.Errorf("the rate remembers %d keys, over its bound of 1000", n)
	}
}

func TestNilRateAndZeroAllowEverything(t *testing.T) {
	var r *Rate
	if ok, _ := r.Allow("x"); !ok {
		t.Error("a nil Rate refused")
	}
	if NewRate(0, time.Minute, 0, nil) != nil {
		t.Error("NewRate(0, ...) is not nil: a limit of 0 must mean off")
	}
	var zero Rate
	if ok, _ := zero.Allow("x"); !ok {
		t.Error("the zero Rate refused")
	}
}

func TestSlotsBoundPerKeyAndInTotal(t *testing.T) {
	s := NewSlots(2, 3)
	r1, _ := s.Acquire("alice")
	r2, _ := s.Acquire("alice")
	if _, why := s.Acquire("alice"); why != PerKeyFull {
		t.Fatalf("alice's third slot: %v, want PerKeyFull", why)
	}
	rb, why := s.Acquire("bob")
	if why != Granted {
		t.Fatalf("bob refused (%v) while alice is at her own bound", why)
	}
	if _, why := s.Acquire("carol"); why != TotalFull {
		t.Fatalf("carol: %v, want TotalFull", why)
	}
	r1()
	r1() // a second release gives back nothing more
	if byKey, all := s.Held("alice"); byKey != 1 || all != 2 {
		t.Errorf("after one release alice holds %d of %d, want 1 of 2", byKey, all)
	}
	r2()
	rb()
	if _, all := s.Held(""); all != 0 {
		t.Errorf("%d slots held after every release", all)
	}
}

func TestSlotsUnderConcurrency(t *testing.T) {
	s := NewSlots(4, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	peak := 0
	for range 64 {
		wg.Go(func() {
			release, why := s.Acquire("k")
			if why != Granted {
				return
			}
			mu.Lock()
			n, _ := s.Held("k")
			peak = max(peak, n)
			mu.Unlock()
			release()
		})
	}
	wg.Wait()
	if peak > 4 {
		t.Errorf("%d slots held at once, over the bound of 4", peak)
	}
	if n, _ := s.Held("k"); n != 0 {
		t.Errorf("%d slots still held", n)
	}
}

func TestClientAddrBelievesOnlyTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	cases := []struct {
		name, remote string
		header       http.Header
		want         string
	}{
		{"no proxy", "203.0.113.7:5000", nil, "203.0.113.7"},
		{"an untrusted peer's header is ignored", "203.0.113.7:5000", http.Header{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.7"},
		{"a trusted proxy names the client", "10.1.2.3:443", http.Header{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"a client's own claim left of the real hop is skipped", "10.1.2.3:443", http.Header{"X-Forwarded-For": {"1.1.1.1, 198.51.100.1"}}, "198.51.100.1"},
		{"chains of trusted proxies", "10.1.2.3:443", http.Header{"X-Forwarded-For": {"198.51.100.1, 10.9.9.9"}}, "198.51.100.1"},
		{"several header lines", "10.1.2.3:443", http.Header{"X-Forwarded-For": {"1.1.1.1", "198.51.100.1, 10.0.0.2"}}, "198.51.100.1"},
		{"Forwarded", "[::1]:443", http.Header{"Forwarded": {`for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"`}}, "2001:db8::1"},
		{"a garbled hop stops the walk", "10.1.2.3:443", http.Header{"X-Forwarded-For": {"198.51.100.1, bogus"}}, "10.1.2.3"},
		{"only proxies", "10.1.2.3:443", http.Header{"X-Forwarded-For": {"10.0.0.9"}}, "10.0.0.9"},
		{"no header", "10.1.2.3:443", nil, "10.1.2.3"},
	}
	for _, c := range cases {
		r := &http.Request{RemoteAddr: c.remote, Header: c.header}
		if r.Header == nil {
			r.Header = http.Header{}
		}
		if got := ClientAddr(r, trusted); got.String() != c.want {
			t.Errorf("%s: ClientAddr = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestKeyGroupsIPv6By64(t *testing.T) {
	a, b := netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9")
	if Key(a) != Key(b) {
		t.Errorf("two addresses of one /64 count apart: %s, %s", Key(a), Key(b))
	}
	if Key(netip.MustParseAddr("::ffff:192.0.2.1")) != "192.0.2.1" {
		t.Errorf("an IPv4-mapped address does not count as its IPv4 address: %s", Key(netip.MustParseAddr("::ffff:192.0.2.1")))
	}
}
