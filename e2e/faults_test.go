package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// Faults (issue 11): the server runs against the shared Gitea through a
// TCP proxy on loopback that the test controls, so that Gitea can be
// "stopped" (the proxy refuses connections and resets the open ones) and
// "slowed" (every request is held before it reaches Gitea) without
// touching the Gitea every other test uses.

// giteaProxy is a loopback TCP proxy in front of Gitea.
type giteaProxy struct {
	URL      string
	addr     string
	target   string
	delay    atomic.Int64 // how long each request is held, in nanoseconds
	requests atomic.Int64 // requests forwarded (reads that start with an HTTP method)

	mu    sync.Mutex
	l     net.Listener // nil while down
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
	quit  chan struct{} // closed when the test ends
}

func startGiteaProxy(t *testing.T, target string) *giteaProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &giteaProxy{target: u.Host, conns: map[net.Conn]struct{}{}, quit: make(chan struct{})}
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = l.Addr().String()
	p.URL = "http://" + p.addr
	p.serve(l)
	t.Cleanup(func() {
		p.down()
		close(p.quit)
		p.wg.Wait()
	})
	return p
}

func (p *giteaProxy) serve(l net.Listener) {
	p.mu.Lock()
	p.l = l
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.handle(c)
		}
	})
}

// track records c as open, unless the proxy is down.
func (p *giteaProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l == nil {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *giteaProxy) forget(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	_ = c.Close()
}

func (p *giteaProxy) handle(c net.Conn) {
	if !p.track(c) {
		return
	}
	p.wg.Go(func() {
		defer p.forget(c)
		up, err := (&net.Dialer{Timeout: 5 * time.Second}).Dial("tcp", p.target)
		if err != nil || !p.track(up) {
			return
		}
		defer p.forget(up)
		responses := make(chan struct{})
		go func() {
			defer close(responses)
			_, _ = io.Copy(c, up)
			_ = c.Close()
		}()
		p.copyRequests(up, c)
		_ = up.Close()
		<-responses
	})
}

// copyRequests copies what the server sends to Gitea, holding each read
// that starts a request for the current delay.
func (p *giteaProxy) copyRequests(up, c net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if startsRequest(buf[:n]) {
				p.requests.Add(1)
				if d := time.Duration(p.delay.Load()); d > 0 {
					select {
					case <-time.After(d):
					case <-p.quit:
						return
					}
				}
			}
			if _, err := up.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func startsRequest(b []byte) bool {
	for _, m := range []string{"GET ", "POST ", "PUT ", "PATCH ", "DELETE ", "HEAD "} {
		if len(b) >= len(m) && string(b[:len(m)]) == m {
			return true
		}
	}
	return false
}

// down is Gitea stopped: new connections are refused, open ones reset.
func (p *giteaProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		_ = p.l.Close()
		p.l = nil
	}
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // a reset, as from a process that died
		}
		_ = c.Close()
		delete(p.conns, c)
	}
}

// up is Gitea back, on the same address.
func (p *giteaProxy) up(t *testing.T) {
	t.Helper()
	var lc net.ListenConfig
	for attempt := 0; ; attempt++ {
		l, err := lc.Listen(t.Context(), "tcp", p.addr)
		if err == nil {
			p.serve(l)
			return
		}
		if attempt == 50 {
			t.Fatalf("the proxy cannot listen on %s again: %v", p.addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// slow holds every request for d before it reaches Gitea (0: no delay).
func (p *giteaProxy) slow(d time.Duration) { p.delay.Store(int64(d)) }

// flowToken is a's token for user through the code flow, recorded so that
// the server's logs are checked for it.
func (a *aegis) flowToken(t *testing.T, g *testgitea.Gitea, user string) string {
	t.Helper()
	tok := codeFlow(t, g, a.App, user)
	a.mu.Lock()
	a.tokens = append(a.tokens, tok.AccessToken, tok.RefreshToken)
	a.mu.Unlock()
	return tok.AccessToken
}

// loadClient is an HTTP client with a transport of its own that sends
// token; no overall timeout (event streams), each call has its own.
func loadClient(token string) *http.Client {
	return &http.Client{Transport: ngxBearer{token: token, next: &http.Transport{MaxIdleConnsPerHost: 8}}}
}

// closeIdle closes the idle connections of clients made by loadClient.
func closeIdle(clients ...*http.Client) {
	for _, c := range clients {
		c.CloseIdleConnections()
	}
}

// timedAnswer is an answer with when its call started and ended.
type timedAnswer struct {
	answer
	via, user  string
	call       ownCall
	start, end time.Time
}

func (a timedAnswer) took() time.Duration { return a.end.Sub(a.start) }

func (a timedAnswer) String() string {
	what := a.text
	if a.err != nil {
		what = a.err.Error()
	}
	return fmt.Sprintf("%s's %s over %s (%s): error %v %.160s", a.user, a.call.tool, a.via, a.took().Round(time.Millisecond), a.toolErr, what)
}

// TestGiteaStoppedAndStartedAgain: alice and bob call their own data over
// every transport while Gitea goes away and comes back. While it is away,
// every call fails at once with the clear tool error (or, for a token not
// verified yet, 503 temporarily_unavailable), none past
// REQUEST_TIMEOUT_SECONDS; when it is back, calls succeed again by
// themselves; and no answer ever carries the other user's data.
func TestGiteaStoppedAndStartedAgain(t *testing.T) {
	g := needGitea(t)
	t.Parallel()
	const timeout = 3 * time.Second
	proxy := startGiteaProxy(t, g.URL)
	a := startAegisFor(t, g, toolScopes, append([]string{"GITEA_URL=" + proxy.URL, "REQUEST_TIMEOUT_SECONDS=3"}, noCallLimits...)...)
	tokens := map[string]string{}
	for _, user := range []string{testgitea.AliceName, testgitea.BobName} {
		tokens[user] = a.flowToken(t, g, user)
	}

	var clients []*http.Client
	var callers []*caller
	for _, user := range []string{testgitea.AliceName, testgitea.BobName} {
		for _, via := range allTransports {
			client := loadClient(tokens[user])
			c, err := dial(t.Context(), via, user, a.URL, client)
			if err != nil {
				t.Fatal(err)
			}
			clients, callers = append(clients, client), append(callers, c)
		}
	}
	defer closeIdle(clients...)

	var mu sync.Mutex
	var results []timedAnswer
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range callers {
		wg.Go(func() {
			defer c.close()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				oc := ownCalls[c.user][i%2]
				ctx, cancel := context.WithTimeout(t.Context(), 4*timeout)
				r := timedAnswer{via: c.via, user: c.user, call: oc, start: time.Now()}
				r.answer = c.call(ctx, oc.tool, oc.args)
				r.end = time.Now()
				cancel()
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		})
	}

	time.Sleep(1500 * time.Millisecond)
	downAt := time.Now()
	proxy.down()
	time.Sleep(time.Second)
	// A token the server has not verified yet: 503, with Retry-After.
	fresh := a.flowToken(t, g, testgitea.AliceName)
	res := do(t, "POST", a.URL+"/mcp/tool/call", fresh, map[string]any{"tool": "get_me", "arguments": map[string]any{}})
	if res.status != http.StatusServiceUnavailable || !strings.Contains(res.body, `"error":"temporarily_unavailable"`) || res.header.Get("Retry-After") == "" {
		t.Errorf("a new token while Gitea is away = %d %q %s, want 503 temporarily_unavailable with Retry-After", res.status, res.header.Get("Retry-After"), res.body)
	}
	time.Sleep(2 * time.Second)
	upAt := time.Now()
	proxy.up(t)
	// Recovered: every caller's calls succeed again, by themselves.
	recovered := map[string]time.Duration{}
	deadline := time.Now().Add(10 * time.Second)
	for len(recovered) < len(callers) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		for _, r := range results {
			key := r.user + " over " + r.via
			if _, ok := recovered[key]; !ok && r.start.After(upAt) && r.err == nil && !r.toolErr {
				recovered[key] = r.end.Sub(upAt)
			}
		}
		mu.Unlock()
	}
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if res := do(t, "POST", a.URL+"/mcp/tool/call", fresh, map[string]any{"tool": "get_me", "arguments": map[string]any{}}); res.status != http.StatusOK {
		t.Errorf("the new token once Gitea is back = %d %s, want 200: an outage must not be remembered as a refusal", res.status, res.body)
	}

	var failFast []time.Duration
	var okBefore, okAfter, downFailed int
	var longest time.Duration
	lastRecovery := time.Duration(0)
	for _, d := range recovered {
		lastRecovery = max(lastRecovery, d)
	}
	for _, r := range results {
		longest = max(longest, r.took())
		success := r.err == nil && !r.toolErr
		switch {
		case success:
			if problem := checkOwn(r.user, r.call, r.answer); problem != "" {
				t.Errorf("%s: %s", r, problem)
			}
		case !giteaDown(r.answer):
			t.Errorf("%s: not the clear answer of a Gitea outage", r)
		}
		if r.took() > timeout+2*time.Second {
			t.Errorf("%s: longer than REQUEST_TIMEOUT_SECONDS (%s)", r, timeout)
		}
		switch {
		case r.end.Before(downAt):
			if !success {
				t.Errorf("%s: failed before Gitea went away", r)
			}
			okBefore++
		case r.start.After(downAt.Add(100*time.Millisecond)) && r.end.Before(upAt):
			if success {
				t.Errorf("%s: succeeded while Gitea was away", r)
			}
			downFailed++
			failFast = append(failFast, r.took())
		case r.start.After(upAt.Add(lastRecovery)):
			if !success {
				t.Errorf("%s: failed after every transport had recovered", r)
			}
			okAfter++
		}
	}
	if len(recovered) < len(callers) {
		t.Errorf("recovered after Gitea came back: %v; want all %d callers within 10 s", recovered, len(callers))
	}
	slices.Sort(failFast)
	p50, p99 := time.Duration(0), time.Duration(0)
	if n := len(failFast); n > 0 {
		p50, p99 = failFast[n/2], failFast[n*99/100]
	}
	t.Logf("%d calls by alice and bob over %v: %d succeeded before the outage; %d during its %s failed, each with the clear error (p50 %s, p99 %s); %d succeeded after it; the longest call took %s (REQUEST_TIMEOUT_SECONDS=3)",
		len(results), allTransports, okBefore, downFailed, upAt.Sub(downAt).Round(time.Millisecond), p50, p99, okAfter, longest.Round(time.Millisecond))
	t.Logf("recovered after Gitea came back, per caller: %v", recovered)
	if downFailed == 0 || okBefore == 0 || okAfter == 0 {
		t.Errorf("the run did not cover every phase: %d before, %d during, %d after", okBefore, downFailed, okAfter)
	}
}

// TestGiteaSlow: with every request to Gitea held 2 s, alice saturates her
// MAX_CONCURRENT_CALLS_PER_USER with many parallel calls; the calls over
// her bound are refused at once (429 too_many_calls), and bob's calls go
// through meanwhile in Gitea's time, not queued behind hers. With Gitea
// slower than REQUEST_TIMEOUT_SECONDS, calls fail with the clear tool
// error at the timeout, not at Gitea's pace; once Gitea is fast again, so
// are the calls.
func TestGiteaSlow(t *testing.T) {
	g := needGitea(t)
	t.Parallel()
	const timeout, perUser = 3 * time.Second, 4
	proxy := startGiteaProxy(t, g.URL)
	a := startAegisFor(t, g, toolScopes, "GITEA_URL="+proxy.URL, "REQUEST_TIMEOUT_SECONDS=3",
		fmt.Sprintf("MAX_CONCURRENT_CALLS_PER_USER=%d", perUser), "RATE_LIMIT_PER_MINUTE=0", "RATE_LIMIT_PER_IP_PER_SECOND=0")
	alice, bob := a.flowToken(t, g, testgitea.AliceName), a.flowToken(t, g, testgitea.BobName)
	aliceClient, bobClient := loadClient(alice), loadClient(bob)
	defer closeIdle(aliceClient, bobClient)
	aliceCall, err := dial(t.Context(), viaToolCall, testgitea.AliceName, a.URL, aliceClient)
	if err != nil {
		t.Fatal(err)
	}
	var bobCallers []*caller
	for _, via := range []string{viaToolCall, viaStreamable} {
		c, err := dial(t.Context(), via, testgitea.BobName, a.URL, bobClient)
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		bobCallers = append(bobCallers, c)
	}
	getMe := func(c *caller) timedAnswer {
		oc := ownCalls[c.user][0]
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		r := timedAnswer{via: c.via, user: c.user, call: oc, start: time.Now()}
		r.answer = c.call(ctx, oc.tool, oc.args)
		r.end = time.Now()
		return r
	}
	// Warm: both tokens verified, and how many Gitea requests get_me makes.
	for _, c := range []*caller{aliceCall, bobCallers[0]} {
		if r := getMe(c); r.err != nil || r.toolErr {
			t.Fatalf("%s before Gitea slows down", r)
		}
	}
	before := proxy.requests.Load()
	getMe(bobCallers[0])
	perCall := proxy.requests.Load() - before

	const delay = 2 * time.Second
	proxy.slow(delay)
	slowest := time.Duration(perCall)*delay + 1500*time.Millisecond
	var aliceOK, aliceRefused atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	aliceStart := time.Now()
	for range 10 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := getMe(aliceCall)
				var se *statusError
				switch {
				case r.err == nil && !r.toolErr:
					aliceOK.Add(1)
					if problem := checkOwn(r.user, r.call, r.answer); problem != "" {
						t.Errorf("%s: %s", r, problem)
					}
					if r.took() < delay || r.took() > slowest {
						t.Errorf("%s: want between %s and %s with Gitea %s slow", r, delay, slowest, delay)
					}
				case errors.As(r.err, &se) && se.status == http.StatusTooManyRequests && strings.Contains(se.body, "MAX_CONCURRENT_CALLS_PER_USER"):
					aliceRefused.Add(1)
					if r.took() > time.Second {
						t.Errorf("%s: a refusal should be at once", r)
					}
					time.Sleep(200 * time.Millisecond)
				default:
					t.Errorf("%s: want a result or 429 too_many_calls", r)
				}
			}
		})
	}
	time.Sleep(500 * time.Millisecond) // alice is at her bound
	var bobTook []time.Duration
	window := time.Now().Add(6 * time.Second)
	for i := 0; time.Now().Before(window); i++ {
		r := getMe(bobCallers[i%2])
		bobTook = append(bobTook, r.took().Round(time.Millisecond))
		switch {
		case r.err != nil || r.toolErr:
			t.Errorf("bob while alice saturates her calls: %s", r)
		case r.took() > slowest:
			t.Errorf("%s: bob waited longer than Gitea's %s: queued behind alice?", r, time.Duration(perCall)*delay)
		default:
			if problem := checkOwn(r.user, r.call, r.answer); problem != "" {
				t.Errorf("%s: %s", r, problem)
			}
		}
	}
	close(stop)
	wg.Wait()
	aliceFor := time.Since(aliceStart)
	t.Logf("Gitea held %s per request (get_me makes %d): alice's 10 parallel callers got %d results and %d refusals (429, MAX_CONCURRENT_CALLS_PER_USER=%d); bob's %d calls meanwhile took %v",
		delay, perCall, aliceOK.Load(), aliceRefused.Load(), perUser, len(bobTook), bobTook)
	if aliceRefused.Load() == 0 || aliceOK.Load() == 0 {
		t.Errorf("alice got %d results and %d refusals: want her bound reached and held", aliceOK.Load(), aliceRefused.Load())
	}
	if maxOK := int64(perUser) * (int64(aliceFor/(time.Duration(perCall)*delay)) + 1); aliceOK.Load() > maxOK {
		t.Errorf("alice got %d results in %s of %s calls: more than %d in flight", aliceOK.Load(), aliceFor, delay, perUser)
	}

	// Slower than the timeout: the call ends at REQUEST_TIMEOUT_SECONDS.
	proxy.slow(2 * timeout)
	late := make([]timedAnswer, 3)
	for i, c := range []*caller{aliceCall, bobCallers[0], bobCallers[1]} {
		wg.Go(func() { late[i] = getMe(c) })
	}
	wg.Wait()
	for _, r := range late {
		switch {
		case !giteaDown(r.answer):
			t.Errorf("%s: want the clear tool error with Gitea slower than the timeout", r)
		case r.took() < timeout-200*time.Millisecond || r.took() > timeout+2*time.Second:
			t.Errorf("%s: want it to end at REQUEST_TIMEOUT_SECONDS (%s), not at Gitea's %s", r, timeout, 2*timeout)
		default:
			t.Logf("Gitea %s slow, REQUEST_TIMEOUT_SECONDS=3: %s", 2*timeout, r)
		}
	}
	proxy.slow(0)
	for _, c := range []*caller{aliceCall, bobCallers[0], bobCallers[1]} {
		if r := getMe(c); r.err != nil || r.toolErr || r.took() > time.Second {
			t.Errorf("%s: want a quick result once Gitea is fast again", r)
		}
	}
}
