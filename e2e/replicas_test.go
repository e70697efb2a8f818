package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// Scale-out (issue 11): three replicas of the real binary (same Gitea,
// same OAuth app) behind Debian's nginx running
// deploy/nginx/aegis-gitea-mcp-replicas.conf, the configuration
// docs/deployment.md gives, on loopback with TLS, driven by the go-sdk
// client.

// replica is one aegis-gitea-mcp process of a scaled-out deployment.
type replica struct {
	name     string
	addr     string // 127.0.0.1:port
	pid      int
	proc     *os.Process
	auditLog string
	logs     *logTail
	exited   chan struct{} // closed when the process has exited and its log is read
	exitErr  error         // the process's exit, once exited is closed
}

// startReplicas starts n processes of bin for app, each with its own
// audit log; extra holds more VAR=value settings for all of them.
func startReplicas(t *testing.T, bin string, g *testgitea.Gitea, app *testgitea.OAuthApp, n int, extra ...string) []*replica {
	t.Helper()
	var out []*replica
	for i := range n {
		r := &replica{name: "replica-" + strconv.Itoa(i+1), auditLog: filepath.Join(t.TempDir(), "audit.log"), exited: make(chan struct{})}
		base, cmd, logs := startBinaryAt(t, bin, g, app, append([]string{"AUDIT_LOG_PATH=" + r.auditLog, "LOG_LEVEL=info"}, extra...)...)
		r.addr, r.pid, r.proc, r.logs = strings.TrimPrefix(base, "http://"), cmd.Process.Pid, cmd.Process, logs
		go func() {
			for range logs.lines { // keep stderr flowing until the process ends
			}
			r.exitErr = cmd.Wait()
			close(r.exited)
		}()
		out = append(out, r)
	}
	return out
}

// signal sends sig to the replica's process (the one started, never a
// later process with its pid), unless it exited.
func (r *replica) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if r.stopped() {
		return
	}
	if err := r.proc.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("signal %s to %s (pid %d): %v", sig, r.name, r.pid, err)
	}
}

// wait waits up to limit for the process to exit.
func (r *replica) wait(t *testing.T, limit time.Duration) {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(limit):
		t.Errorf("%s (pid %d) still running after %s", r.name, r.pid, limit)
	}
}

// stop sends sig and waits up to limit for the exit; it returns how long
// that took.
func (r *replica) stop(t *testing.T, sig syscall.Signal, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	r.signal(t, sig)
	r.wait(t, limit)
	return time.Since(start)
}

// waitRefused waits up to limit for the replica to refuse connections and
// returns how long that took.
func (r *replica) waitRefused(t *testing.T, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	dialer := &net.Dialer{Timeout: time.Second}
	for time.Since(start) < limit {
		c, err := dialer.DialContext(t.Context(), "tcp", r.addr)
		if err != nil {
			return time.Since(start)
		}
		_ = c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s still takes connections %s after it was stopped", r.name, limit)
	return limit
}

// stopped reports whether the process has exited.
func (r *replica) stopped() bool {
	select {
	case <-r.exited:
		return true
	default:
		return false
	}
}

// finishReplicas stops every replica still running with SIGTERM and checks
// what they leave: an audit log that verifies, and no secret in it or in
// their logs.
func finishReplicas(t *testing.T, replicas []*replica, secrets []string) {
	t.Helper()
	for _, r := range replicas {
		r.stop(t, syscall.SIGTERM, 20*time.Second)
	}
	for _, r := range replicas {
		if !r.stopped() {
			continue
		}
		raw := r.logs.raw.String()
		if _, err := audit.Verify(r.auditLog); err != nil {
			t.Errorf("%s: the audit log does not verify: %v", r.name, err)
		}
		audited, _ := os.ReadFile(r.auditLog)
		for _, s := range secrets {
			if strings.Contains(raw, s) || strings.Contains(string(audited), s) {
				t.Errorf("%s logged a secret (%.8s...)", r.name, s)
			}
		}
		if t.Failed() {
			t.Logf("%s (exit %v) log tail:\n%s", r.name, r.exitErr, tail(raw, 30))
		}
	}
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(0, len(l)-lines):], "\n")
}

// audited reads the tool call records of a replica's audit log so far.
func (r *replica) audited(t *testing.T) []audit.Event {
	t.Helper()
	f, err := os.Open(r.auditLog)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []audit.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e audit.Event
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Tool != "" {
			out = append(out, e)
		}
	}
	return out
}

// replicasConf is deploy/nginx/aegis-gitea-mcp-replicas.conf for n's
// ports and replicas, checked to be the file docs/deployment.md shows.
func replicasConf(t *testing.T, n *nginx, replicas []*replica) string {
	t.Helper()
	const file = "../deploy/nginx/aegis-gitea-mcp-replicas.conf"
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(raw)
	if docs, err := os.ReadFile("../docs/deployment.md"); err != nil || !strings.Contains(string(docs), "```nginx\n"+conf+"```") {
		t.Fatalf("docs/deployment.md does not show %s as it is (%v): copy it into its nginx block", file, err)
	}
	if len(replicas) != 3 {
		t.Fatalf("the file names 3 replicas; the test has %d", len(replicas))
	}
	replace := [][2]string{
		{"    listen 80;\n    listen [::]:80;\n", "    listen 127.0.0.1:" + strconv.Itoa(n.ports[1]) + ";\n"},
		{"    listen 443 ssl;\n    listen [::]:443 ssl;\n", "    listen 127.0.0.1:" + strconv.Itoa(n.ports[0]) + " ssl;\n"},
		{"/etc/letsencrypt/live/mcp.example.com/fullchain.pem", filepath.Join(n.dir, "cert.pem")},
		{"/etc/letsencrypt/live/mcp.example.com/privkey.pem", filepath.Join(n.dir, "key.pem")},
	}
	for i, r := range replicas {
		replace = append(replace, [2]string{"server 127.0.0.1:808" + strconv.Itoa(i+1) + " ", "server " + r.addr + " "})
	}
	for _, r := range replace {
		if strings.Count(conf, r[0]) != 1 {
			t.Fatalf("%s no longer holds %q once: update this test", file, r[0])
		}
		conf = strings.Replace(conf, r[0], r[1], 1)
	}
	return conf
}

// scaledOut is nginx in front of three replicas, and tokens of alice and
// bob for their OAuth app.
type scaledOut struct {
	ng       *nginx
	replicas []*replica
	tokens   map[string]string
	secrets  []string

	mu      sync.Mutex
	clients []*http.Client
}

// client is an HTTP client through nginx from address ip with user's
// token. finish closes its idle connections: nginx's graceful stop waits
// for a connection that never sent a request (the spare dials of Go's
// transport), so none may be left open.
func (s *scaledOut) client(ip, user string) *http.Client {
	c := s.ng.client(ip, s.tokens[user])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients = append(s.clients, c)
	return c
}

// scaleOut starts three replicas with extra settings behind nginx; more,
// if set, returns what to add to nginx's configuration for them.
func scaleOut(t *testing.T, g *testgitea.Gitea, nginxBin string, more func([]*replica) string, extra ...string) *scaledOut {
	t.Helper()
	app, err := g.App(t.Context(), toolScopes)
	if err != nil {
		t.Fatal(err)
	}
	ng := startNginx(t, nginxBin)
	replicas := startReplicas(t, buildBinary(t), g, app, 3, append([]string{"PUBLIC_BASE_URL=" + ng.URL}, extra...)...)
	conf := replicasConf(t, ng, replicas)
	if more != nil {
		conf += more(replicas)
	}
	ng.start(t, conf, replicas[0].addr)
	s := &scaledOut{ng: ng, replicas: replicas, tokens: map[string]string{}, secrets: []string{app.ClientSecret}}
	for _, user := range []string{testgitea.AliceName, testgitea.BobName} {
		tok := codeFlow(t, g, app, user)
		s.tokens[user] = tok.AccessToken
		s.secrets = append(s.secrets, tok.AccessToken, tok.RefreshToken)
	}
	return s
}

// finish stops the replicas gracefully and checks what they leave; call it
// deferred, before the test's context ends (which kills them).
func (s *scaledOut) finish(t *testing.T) {
	finishReplicas(t, s.replicas, s.secrets)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.clients {
		c.CloseIdleConnections()
	}
}

// perReplica counts the audited tool calls of each replica, optionally
// only those from address from.
func (s *scaledOut) perReplica(t *testing.T, from string) []int {
	t.Helper()
	counts := make([]int, len(s.replicas))
	for i, r := range s.replicas {
		for _, e := range r.audited(t) {
			if from == "" || e.Caller.RemoteAddr == from {
				counts[i]++
			}
		}
	}
	return counts
}

// TestReplicasRoundRobin: MCP 2026-07-28 has no sessions, so its requests
// are balanced round robin over the replicas with no stickiness: every
// replica serves a third of one client's calls. Two thousand calls by
// alice and bob get zero errors, each answer their own. Then one replica
// is stopped (SIGTERM) while the calls go on: nginx takes the next replica
// for every request the stopped one refuses (nothing was sent, so that is
// safe for any request), and the client keeps working. The only failures
// allowed are 502s of requests nginx sent, at the moment of the stop, on a
// keep-alive connection the replica was closing (a POST that reached a
// replica is not resent, by design); from two seconds after the stop on,
// none.
func TestReplicasRoundRobin(t *testing.T) {
	g := needGitea(t)
	nginxBin := needNginx(t)
	t.Parallel()
	s := scaleOut(t, g, nginxBin, nil, noCallLimits...)
	defer s.finish(t)

	const before, after, workers, clientIP = 2000, 1000, 6, "127.0.0.2"
	var callers []*caller
	for i := range workers {
		user := []string{testgitea.AliceName, testgitea.BobName}[i%2]
		c, err := dial(t.Context(), viaStateless, user, s.ng.URL, s.client(clientIP, user))
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		callers = append(callers, c)
	}
	type result struct {
		start, end time.Time
		problem    string
	}
	// drive makes n calls over the callers and returns each one's result.
	drive := func(n int) []result {
		results := make([]result, n)
		var next atomic.Int64
		var wg sync.WaitGroup
		for _, c := range callers {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= n {
						return
					}
					oc := ownCalls[c.user][i%2]
					ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
					r := result{start: time.Now()}
					a := c.call(ctx, oc.tool, oc.args)
					r.end = time.Now()
					cancel()
					switch {
					case a.err != nil:
						r.problem = a.err.Error()
					case a.toolErr:
						r.problem = "tool error: " + a.text
					default:
						r.problem = checkOwn(c.user, oc, a)
					}
					if r.problem != "" {
						r.problem = fmt.Sprintf("call %d (%s, %s): %s", i, c.user, oc.tool, r.problem)
					}
					results[i] = r
				}
			})
		}
		wg.Wait()
		return results
	}

	start := time.Now()
	failed := 0
	for _, r := range drive(before) {
		if r.problem != "" {
			failed++
			if failed <= 10 {
				t.Error(r.problem)
			}
		}
	}
	elapsed := time.Since(start)
	counts := s.perReplica(t, clientIP)
	t.Logf("%d calls by %d go-sdk clients (MCP 2026-07-28, no session) from one address through nginx in %s (%.0f calls/s): %d failed; per replica %v",
		before, workers, elapsed.Round(time.Millisecond), before/elapsed.Seconds(), failed, counts)
	for i, n := range counts {
		if n < before/3*3/4 || n > before/3*5/4 {
			t.Errorf("%s served %d of %d calls from one address, want about a third: no stickiness", s.replicas[i].name, n, before)
		}
	}

	// The stop, while the calls go on.
	victim := s.replicas[1]
	var stopAt time.Time
	var exitTook time.Duration
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		time.Sleep(elapsed * after / before / 4) // about a quarter into the calls
		stopAt = time.Now()
		exitTook = victim.stop(t, syscall.SIGTERM, 20*time.Second)
	}()
	results := drive(after)
	<-stopped
	var at502 []string
	failed = 0
	for _, r := range results {
		switch {
		case r.problem == "":
		case strings.Contains(r.problem, "Bad Gateway") && r.start.Before(stopAt.Add(2*time.Second)) && r.end.After(stopAt):
			at502 = append(at502, fmt.Sprintf("+%s", r.end.Sub(stopAt).Round(time.Millisecond)))
		default:
			failed++
			if failed <= 10 {
				t.Errorf("%s (at %+dms from the stop)", r.problem, r.end.Sub(stopAt).Milliseconds())
			}
		}
	}
	final := s.perReplica(t, clientIP)
	t.Logf("%s stopped with SIGTERM during %d more calls (it exited %s later, %v): %d failed with 502 at the stop %v, %d otherwise; per replica now %v",
		victim.name, after, exitTook.Round(time.Millisecond), victim.exitErr, len(at502), at502, failed, final)
	if len(at502) > workers {
		t.Errorf("%d calls failed with 502 at the stop, more than the %d in flight", len(at502), workers)
	}
	if sum := final[0] + final[1] + final[2]; sum < before+after-len(at502) || sum > before+after {
		t.Errorf("the replicas' audit logs hold %d calls, want %d", sum, before+after-len(at502))
	}
	if final[0]-counts[0] < after/3 || final[2]-counts[2] < after/3 {
		t.Errorf("after the stop the two other replicas served %d and %d of %d calls: want them to share the load", final[0]-counts[0], final[2]-counts[2], after)
	}
}

// TestReplicasKeepSessions: Streamable HTTP sessions (MCP 2025-11-25) and
// legacy SSE stay on the replica that made them, by the client's address,
// with zero errors; the same traffic on nginx balancing by the session id
// (the control, a server of its own) fails, because the replica making a
// session is chosen before the id exists. When the replica holding a
// client's sessions is stopped, its calls get a clear "session gone"
// answer (404, the JSON error shape; the go-sdk client's ErrSessionMissing)
// within seconds, a new session works, and clients on other replicas go on.
func TestReplicasKeepSessions(t *testing.T) {
	g := needGitea(t)
	nginxBin := needNginx(t)
	t.Parallel()
	controlPort := loopbackFreePort(t)
	s := scaleOut(t, g, nginxBin, func(replicas []*replica) string { return byIDControl(controlPort, replicas) })
	defer s.finish(t)

	// Clients from nine loopback addresses, each with a Streamable HTTP
	// session and a legacy SSE session, alice and bob by turns.
	type client struct {
		ip, user  string
		sessions  []*caller
		replica   int // where its sessions are
		newClient func() *http.Client
	}
	var clients []*client
	for i := range 9 {
		c := &client{ip: "127.0.0." + strconv.Itoa(i+2), user: []string{testgitea.AliceName, testgitea.BobName}[i%2]}
		c.newClient = func() *http.Client { return s.client(c.ip, c.user) }
		for _, via := range []string{viaStreamable, viaSSE} {
			sess, err := dial(t.Context(), via, c.user, s.ng.URL, c.newClient())
			if err != nil {
				t.Fatalf("%s from %s: %v", via, c.ip, err)
			}
			defer sess.close()
			c.sessions = append(c.sessions, sess)
		}
		clients = append(clients, c)
	}
	const rounds = 20
	var failures atomic.Int64
	run := func(c *client, sess *caller, n int) {
		for i := range n {
			oc := ownCalls[c.user][i%2]
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			a := sess.call(ctx, oc.tool, oc.args)
			cancel()
			problem := checkOwn(c.user, oc, a)
			if a.err != nil || a.toolErr {
				problem = fmt.Sprintf("%v %s", a.err, a.text)
			}
			if problem != "" {
				failures.Add(1)
				t.Errorf("%s over %s from %s: %s", c.user, sess.via, c.ip, problem)
				return
			}
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range clients {
		for _, sess := range c.sessions {
			wg.Go(func() { run(c, sess, rounds) })
		}
	}
	wg.Wait()
	t.Logf("%d clients x 2 sessions x %d calls through nginx with address affinity in %s: %d failed",
		len(clients), rounds, time.Since(start).Round(time.Millisecond), failures.Load())

	// Every address's calls are on one replica.
	spread := map[int]int{}
	for _, c := range clients {
		counts := s.perReplica(t, c.ip)
		c.replica = -1
		for i, n := range counts {
			switch {
			case n == 0:
			case c.replica >= 0:
				t.Errorf("calls from %s on more than one replica: %v", c.ip, counts)
			default:
				c.replica = i
			}
		}
		if counts[max(c.replica, 0)] != 2*rounds {
			t.Errorf("the replicas audited %v calls from %s, want %d on one", counts, c.ip, 2*rounds)
		}
		spread[c.replica]++
	}
	t.Logf("clients per replica: %v", spread)

	t.Run("control: balancing by the session id loses sessions", func(t *testing.T) {
		lost, total := byIDControlRun(t, controlPort, s.tokens[testgitea.AliceName])
		t.Logf("nginx hashing on Mcp-Session-Id and ?sessionid=: %d of %d new sessions not found by their next request", lost, total)
		if lost == 0 {
			t.Errorf("all %d sessions survived hashing on the session id: the control does not show the problem", total)
		}
	})

	// Stop the replica of the first client's sessions.
	victim := clients[0].replica
	if victim < 0 {
		t.Fatal("no replica holds the first client's sessions")
	}
	stopAt := time.Now()
	s.replicas[victim].signal(t, syscall.SIGTERM)
	// Stopped: it no longer takes connections (it still finishes what it
	// has, and holds its open streams, for its grace period). A call sent
	// at that very moment on a keep-alive connection it is closing may get
	// a 502 (TestReplicasRoundRobin); here the calls follow the stop.
	closed := s.replicas[victim].waitRefused(t, 5*time.Second)
	t.Logf("%s, holding the sessions of %d clients, refuses connections %s after SIGTERM",
		s.replicas[victim].name, spread[victim], closed.Round(time.Millisecond))
	time.Sleep(100 * time.Millisecond)

	for _, c := range clients {
		if c.replica != victim {
			run(c, c.sessions[0], 2) // the other replicas' clients go on
			run(c, c.sessions[1], 2)
			continue
		}
		for _, sess := range c.sessions {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			callStart := time.Now()
			a := sess.call(ctx, "get_me", nil)
			cancel()
			took := time.Since(callStart)
			switch {
			case a.err == nil:
				t.Errorf("%s over %s from %s after its replica stopped: answered %q, want session gone", c.user, sess.via, c.ip, a.text)
			case took > 10*time.Second:
				t.Errorf("%s over %s: the call took %s to fail (%v), want a prompt answer", c.user, sess.via, took, a.err)
			case sess.via == viaStreamable && !errors.Is(a.err, mcp.ErrSessionMissing):
				t.Errorf("%s over Streamable HTTP after its replica stopped: %v, want ErrSessionMissing", c.user, a.err)
			case sess.via == viaSSE && !strings.Contains(a.err.Error(), "404") && !errors.Is(a.err, mcp.ErrConnectionClosed):
				t.Errorf("%s over legacy SSE after its replica stopped: %v, want a 404 or a closed connection", c.user, a.err)
			default:
				t.Logf("%s over %s from %s, %s after the stop: failed in %s with %v", c.user, sess.via, c.ip,
					time.Since(stopAt).Round(time.Millisecond), took.Round(time.Millisecond), a.err)
			}
		}
		// The session ids, sent again by hand: 404 in the JSON error shape.
		hc := c.newClient()
		if id := c.sessions[0].cs.ID(); id != "" {
			res := ngxPost(t, hc, s.ng.URL+"/mcp", `{"jsonrpc":"2.0","id":9,"method":"tools/list"}`,
				"Mcp-Session-Id", id, "Mcp-Protocol-Version", legacyProtocol)
			if res.status != http.StatusNotFound || !strings.Contains(res.body, `"error":"not_found"`) ||
				!strings.Contains(res.body, `"error_description":"session not found"`) {
				t.Errorf("POST /mcp with the stopped replica's session = %d %s, want 404 session not found", res.status, res.body)
			}
		}
		// A new session from the same address works.
		for _, via := range []string{viaStreamable, viaSSE} {
			sess, err := dial(t.Context(), via, c.user, s.ng.URL, c.newClient())
			if err != nil {
				t.Errorf("a new %s session from %s after the stop: %v", via, c.ip, err)
				continue
			}
			run(c, sess, 2)
			sess.close()
		}
	}
	s.replicas[victim].wait(t, 20*time.Second)
	t.Logf("%s exited %s after SIGTERM (%v)", s.replicas[victim].name, time.Since(stopAt).Round(time.Millisecond), s.replicas[victim].exitErr)
	if n := s.perReplica(t, "")[victim]; n < 2*rounds*spread[victim] {
		t.Errorf("the stopped replica audited %d calls, want the %d its clients made", n, 2*rounds*spread[victim])
	}
	// A stopped replica's SSE session id, posted to: 404 with the reason.
	res := ngxPost(t, s.client(clients[0].ip, clients[0].user), s.ng.URL+"/mcp/sse?sessionid=gone", `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	if res.status != http.StatusNotFound || !strings.Contains(res.body, `"error":"session_not_found"`) {
		t.Errorf("POST /mcp/sse?sessionid=gone = %d %s, want 404 session_not_found", res.status, res.body)
	}
}

// byIDControl is an nginx server on port that balances /mcp by
// Mcp-Session-Id and /mcp/sse by ?sessionid= over addrs: what the session
// ids suggest, which does not keep sessions.
func byIDControl(port int, replicas []*replica) string {
	var servers strings.Builder
	for _, r := range replicas {
		servers.WriteString("    server " + r.addr + ";\n")
	}
	return fmt.Sprintf(`
upstream aegis_by_header {
    hash $http_mcp_session_id consistent;
%[2]s}
upstream aegis_by_arg {
    hash $arg_sessionid consistent;
%[2]s}
server {
    listen 127.0.0.1:%[1]d;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_buffering off;
    location /mcp/sse { proxy_pass http://aegis_by_arg; }
    location /mcp { proxy_pass http://aegis_by_header; }
}
`, port, servers.String())
}

// byIDControlRun opens sessions through the control server, each followed
// by one request in it, and counts those the next request did not find.
func byIDControlRun(t *testing.T, port int, token string) (lost, total int) {
	t.Helper()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: ngxBearer{token: token, next: transport}}
	for range 6 {
		total++
		res := ngxPost(t, client, base+"/mcp", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"`+legacyProtocol+
			`","capabilities":{},"clientInfo":{"name":"control","version":"1"}}}`)
		id := res.header.Get("Mcp-Session-Id")
		if res.status != http.StatusOK || id == "" {
			t.Fatalf("initialize through the control = %d %s", res.status, res.body)
		}
		if res := ngxPost(t, client, base+"/mcp", `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
			"Mcp-Session-Id", id, "Mcp-Protocol-Version", legacyProtocol); res.status == http.StatusNotFound {
			lost++
		}
	}
	for range 6 {
		total++
		stream := ngxOpenStream(t, client, base+"/mcp/sse")
		endpoint := ""
		for l := range stream.lines {
			if e, ok := strings.CutPrefix(l.text, "data: "); ok {
				endpoint = e
				break
			}
		}
		if endpoint == "" {
			t.Fatal("no endpoint event on the control's SSE stream")
		}
		res := ngxPost(t, client, base+endpoint, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
		if res.status == http.StatusNotFound {
			lost++
		}
		stream.cancel()
	}
	return lost, total
}
