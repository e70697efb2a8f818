package clientdoc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable time for the cache tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestCacheHit(t *testing.T) {
	s := goodServer(t, false)
	f := New(Options{AllowPrivate: true})
	for range 2 {
		if _, err := f.Fetch(context.Background(), s.URL+"/c"); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.hits.Load(); n != 1 {
		t.Fatalf("server saw %d requests for 2 fetches, want 1", n)
	}
	// Another URL is another client.
	if _, err := f.Fetch(context.Background(), s.URL+"/d"); err != nil {
		t.Fatal(err)
	}
	if n := s.hits.Load(); n != 2 {
		t.Fatalf("server saw %d requests, want 2", n)
	}
}

func TestCacheLifetime(t *testing.T) {
	headers := map[string][2]string{ // path: Cache-Control, Age
		"/none":     {"", ""},
		"/ten":      {"max-age=600", ""},
		"/short":    {"max-age=10", ""},
		"/huge":     {"max-age=99999999999999", ""},
		"/nostore":  {"no-store", ""},
		"/nocache":  {"public, no-cache", ""},
		"/hour":     {"public, max-age=3600", ""},
		"/aged":     {"max-age=3600", "600"},
		"/invalid":  {"max-age=abc", ""},
		"/two":      {"max-age=7200, max-age=1800", ""},
		"/quoted":   {`max-age="900"`, ""},
		"/negative": {"max-age=-5", ""},
	}
	want := map[string]time.Duration{
		"/none": DefaultTTL, "/ten": 10 * time.Minute, "/short": time.Minute, "/huge": 24 * time.Hour,
		"/nostore": time.Minute, "/nocache": time.Minute, "/hour": time.Hour, "/aged": 50 * time.Minute,
		"/invalid": time.Minute, "/two": 30 * time.Minute, "/quoted": 15 * time.Minute, "/negative": time.Minute,
	}
	s := newServer(t, false, func(w http.ResponseWriter, r *http.Request, self string) {
		h := headers[r.URL.Path]
		if h[0] != "" {
			w.Header().Set("Cache-Control", h[0])
		}
		if h[1] != "" {
			w.Header().Set("Age", h[1])
		}
		writeDoc(w, self)
	})
	clk := newClock()
	f := New(Options{AllowPrivate: true, Now: clk.Now})
	for path, ttl := range want {
		d, err := f.Fetch(context.Background(), s.URL+path)
		if err != nil {
			t.Fatal(err)
		}
		if !d.FetchedAt.Equal(clk.Now()) || d.ExpiresAt.Sub(d.FetchedAt) != ttl {
			t.Errorf("%s: fetched %v, lifetime %v, want %v", path, d.FetchedAt, d.ExpiresAt.Sub(d.FetchedAt), ttl)
		}
	}
	before := s.hits.Load()

	// Within its lifetime a document comes from the cache; after, it is
	// fetched again.
	clk.advance(9 * time.Minute)
	if _, err := f.Fetch(context.Background(), s.URL+"/ten"); err != nil {
		t.Fatal(err)
	}
	if n := s.hits.Load(); n != before {
		t.Errorf("refetched within max-age: %d requests, want %d", n, before)
	}
	clk.advance(time.Minute)
	d, err := f.Fetch(context.Background(), s.URL+"/ten")
	if err != nil {
		t.Fatal(err)
	}
	if n := s.hits.Load(); n != before+1 || !d.FetchedAt.Equal(clk.Now()) {
		t.Errorf("not refetched at max-age: %d requests, want %d", n, before+1)
	}

	// Other bounds.
	f = New(Options{AllowPrivate: true, Now: clk.Now, MinTTL: 10 * time.Minute, MaxTTL: time.Hour, DefaultTTL: time.Second})
	for path, ttl := range map[string]time.Duration{"/none": 10 * time.Minute, "/huge": time.Hour, "/ten": 10 * time.Minute, "/two": 30 * time.Minute} {
		d, err := f.Fetch(context.Background(), s.URL+path)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.ExpiresAt.Sub(d.FetchedAt); got != ttl {
			t.Errorf("bounded %s: lifetime %v, want %v", path, got, ttl)
		}
	}
	f = New(Options{AllowPrivate: true, Now: clk.Now, MinTTL: 2 * time.Hour, MaxTTL: time.Hour})
	if d, err := f.Fetch(context.Background(), s.URL+"/short"); err != nil || d.ExpiresAt.Sub(d.FetchedAt) != 2*time.Hour {
		t.Errorf("MaxTTL below MinTTL: %v %v", d, err)
	}
}

func TestFailureCached(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	s := newServer(t, false, func(w http.ResponseWriter, _ *http.Request, self string) {
		if fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		writeDoc(w, self)
	})
	clk := newClock()
	f := New(Options{AllowPrivate: true, Now: clk.Now})
	id := s.URL + "/c"
	_, err1 := f.Fetch(context.Background(), id)
	wantKind(t, err1, ErrFetch)
	fail.Store(false)
	clk.advance(FailureTTL - time.Second)
	_, err2 := f.Fetch(context.Background(), id)
	if !errors.Is(err2, ErrFetch) || s.hits.Load() != 1 {
		t.Fatalf("the failure was not cached: %v, %d requests", err2, s.hits.Load())
	}
	clk.advance(time.Second)
	if _, err := f.Fetch(context.Background(), id); err != nil {
		t.Fatalf("after FailureTTL: %v", err)
	}
	if n := s.hits.Load(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	// URL errors cost nothing and are not cached.
	if _, err := f.Fetch(context.Background(), s.URL+"/c?x"); !errors.Is(err, ErrInvalidURL) {
		t.Fatal(err)
	}
	if n := f.fails.len(); n != 0 {
		t.Errorf("%d failures cached", n)
	}
}

func TestCacheBounded(t *testing.T) {
	s := newServer(t, false, func(w http.ResponseWriter, r *http.Request, self string) {
		if strings.HasPrefix(r.URL.Path, "/bad") {
			http.NotFound(w, r)
			return
		}
		writeDoc(w, self)
	})
	f := New(Options{AllowPrivate: true, MaxEntries: 2})
	for _, p := range []string{"/a", "/b", "/c", "/bad1", "/bad2", "/bad3"} {
		_, _ = f.Fetch(context.Background(), s.URL+p)
	}
	if d, e := f.docs.len(), f.fails.len(); d != 2 || e != 2 {
		t.Fatalf("%d documents and %d failures cached, want 2 and 2", d, e)
	}
	hits := s.hits.Load()
	_, _ = f.Fetch(context.Background(), s.URL+"/c") // kept
	if s.hits.Load() != hits {
		t.Error("the newest document was evicted")
	}
	_, _ = f.Fetch(context.Background(), s.URL+"/a") // evicted, the oldest
	if s.hits.Load() != hits+1 {
		t.Error("the oldest document was not evicted")
	}
}

func TestSingleflight(t *testing.T) {
	const n = 16
	release := make(chan struct{})
	s := newServer(t, false, func(w http.ResponseWriter, r *http.Request, self string) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		writeDoc(w, self)
	})
	f := New(Options{AllowPrivate: true})
	var waiting sync.WaitGroup
	waiting.Add(n)
	f.waiting = waiting.Done
	var done sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		done.Go(func() {
			d, err := f.Fetch(context.Background(), s.URL+"/c")
			if err == nil && d.ClientName != "Test App" {
				err = fmt.Errorf("document %+v", d)
			}
			errs <- err
		})
	}
	waiting.Wait() // every Fetch waits on the one request
	close(release)
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if h := s.hits.Load(); h != 1 {
		t.Fatalf("%d concurrent fetches made %d requests, want 1", n, h)
	}
}

func TestCallerGivesUp(t *testing.T) {
	release := make(chan struct{})
	s := newServer(t, false, func(w http.ResponseWriter, r *http.Request, self string) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		writeDoc(w, self)
	})
	f := New(Options{AllowPrivate: true})
	var waiting sync.WaitGroup
	waiting.Add(2)
	f.waiting = waiting.Done
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := f.Fetch(ctx, s.URL+"/c")
		first <- err
	}()
	second := make(chan error, 1)
	go func() {
		_, err := f.Fetch(context.Background(), s.URL+"/c")
		second <- err
	}()
	waiting.Wait()
	cancel()
	err := <-first
	wantKind(t, err, ErrFetch)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("the error does not carry the cancellation: %v", err)
	}
	close(release) // the shared request goes on for the other caller
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if h := s.hits.Load(); h != 1 {
		t.Errorf("%d requests, want 1", h)
	}
}
