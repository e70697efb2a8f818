package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// TestBehindNginx runs deploy/nginx/aegis-gitea-mcp.conf, the
// configuration docs/deployment.md gives, in a real nginx (Debian's;
// .ci/run installs it) with TLS on a loopback port, and drives every HTTP
// transport through it with real clients: the go-sdk client over
// Streamable HTTP and legacy SSE, POST /mcp/tool/call, and event streams
// held idle longer than nginx's read timeout (shortened here from the
// file's hour to 30 s, still above the server's 25 s keep-alive), which
// the keep-alive comments keep open; a control server with a 5 s timeout
// shows nginx does cut an idle stream. The client connects from 127.0.0.2,
// and the audit log names that address for every call, also when the
// client sends an X-Forwarded-For of its own.
func TestBehindNginx(t *testing.T) {
	g := needGitea(t)
	bin := needNginx(t)
	t.Parallel()

	const clientIP = "127.0.0.2"
	ng := startNginx(t, bin)
	a := startAegisFor(t, g, toolScopes, "PUBLIC_BASE_URL="+ng.URL, "TRUSTED_PROXIES=127.0.0.1/32")
	ng.route(t, strings.TrimPrefix(a.URL, "http://"))
	alice := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	client := ng.client(clientIP, alice)

	// Plain HTTP goes to https; the challenge names the public URL.
	if res := ngxGet(t, ng.plain(), ng.RedirectURL+"/mcp", nil); res.status != http.StatusPermanentRedirect ||
		!strings.HasPrefix(res.header.Get("Location"), "https://") {
		t.Errorf("http:// = %d %v, want 308 to https://", res.status, res.header)
	}
	if res := ngxGet(t, ng.plain(), ng.URL+"/mcp/tools", nil); res.status != http.StatusUnauthorized ||
		!strings.Contains(res.header.Get("WWW-Authenticate"), `resource_metadata="`+ng.URL+"/.well-known/oauth-protected-resource/mcp/tools") {
		t.Errorf("GET /mcp/tools without a token = %d %q, want 401 naming %s", res.status, res.header.Get("WWW-Authenticate"), ng.URL)
	}

	// POST /mcp/tool/call, with a forged X-Forwarded-For.
	res := ngxPost(t, client, ng.URL+"/mcp/tool/call", `{"tool":"get_me"}`, "X-Forwarded-For", "203.0.113.9")
	if res.status != http.StatusOK || !strings.Contains(res.body, testgitea.AliceName) || res.header.Get("Cache-Control") != "no-store" {
		t.Errorf("POST /mcp/tool/call through nginx = %d %v %s", res.status, res.header, res.body)
	}

	// Streamable HTTP with the go-sdk client: session-less (its default
	// revision) and with a session.
	for _, version := range []string{"", legacyProtocol} {
		cs := ngxConnect(t, &mcp.StreamableClientTransport{Endpoint: ng.URL + "/mcp", HTTPClient: client}, version)
		if text, isErr := call(t, cs, "get_me", nil); isErr || !strings.Contains(text, testgitea.AliceName) {
			t.Errorf("get_me over Streamable HTTP (%q) through nginx = %s", version, text)
		}
	}

	const hold = 40 * time.Second // longer than the test's proxy_read_timeout, 30 s
	t.Run("streams", func(t *testing.T) {
		// Legacy SSE with the go-sdk client: a call, the stream idle for
		// longer than nginx's read timeout, and a call again, whose answer
		// comes back on that same stream.
		t.Run("legacy SSE idle past the read timeout", func(t *testing.T) {
			t.Parallel()
			cs := ngxConnect(t, &mcp.SSEClientTransport{Endpoint: ng.URL + "/mcp/sse", HTTPClient: client}, "")
			if text, isErr := call(t, cs, "get_me", nil); isErr || !strings.Contains(text, testgitea.AliceName) {
				t.Errorf("get_me over legacy SSE through nginx = %s", text)
			}
			start := time.Now()
			time.Sleep(hold)
			if text, isErr := call(t, cs, "get_me", nil); isErr || !strings.Contains(text, testgitea.AliceName) {
				t.Errorf("get_me over legacy SSE after %s idle = %s", hold, text)
			} else {
				t.Logf("legacy SSE through nginx: a call answered on the stream after %s idle (proxy_read_timeout 30s)", time.Since(start).Round(time.Second))
			}
		})
		// The Streamable HTTP GET stream of a session, read raw: keep-alive
		// comments arrive as written (buffering off) and the stream
		// outlives nginx's read timeout.
		t.Run("Streamable GET idle past the read timeout", func(t *testing.T) {
			t.Parallel()
			session := ngxInitialize(t, client, ng.URL+"/mcp")
			s := ngxOpenStream(t, client, ng.URL+"/mcp", "Mcp-Session-Id", session, "Mcp-Protocol-Version", legacyProtocol)
			comments, ended := s.watch(hold)
			if ended != 0 || len(comments) == 0 || comments[len(comments)-1] < 20*time.Second {
				t.Errorf("GET /mcp through nginx: ended after %s with keep-alives at %v; want open for %s with keep-alives", ended, comments, hold)
				return
			}
			t.Logf("GET /mcp through nginx: open for %s, keep-alive comments at %v", hold, comments)
		})
		// The control: nginx with a 5 s read timeout cuts the same kind of
		// stream well before the first keep-alive.
		t.Run("control: a 5 s read timeout cuts an idle stream", func(t *testing.T) {
			t.Parallel()
			s := ngxOpenStream(t, client, ng.ControlURL+"/mcp/sse")
			comments, ended := s.watch(20 * time.Second)
			if ended < 4*time.Second || ended > 15*time.Second || len(comments) != 0 {
				t.Errorf("control (proxy_read_timeout 5s): stream ended after %s, keep-alives %v; want cut at about 5 s", ended, comments)
				return
			}
			t.Logf("control: nginx with proxy_read_timeout 5s cut an idle GET /mcp/sse after %s", ended.Round(100*time.Millisecond))
		})
	})

	// Every call on record came from the client's address.
	data, err := os.ReadFile(a.auditLog)
	if err != nil {
		t.Fatal(err)
	}
	transports := map[audit.Transport]int{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		var e audit.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if e.Tool == "" {
			continue
		}
		transports[e.Caller.Transport]++
		if e.Caller.RemoteAddr != clientIP {
			t.Errorf("audit record of %s over %s names %q, want the client's %s", e.Tool, e.Caller.Transport, e.Caller.RemoteAddr, clientIP)
		}
	}
	for _, want := range []audit.Transport{audit.TransportToolCall, audit.TransportStreamable, audit.TransportSSE} {
		if transports[want] == 0 {
			t.Errorf("no audited call over %s (have %v)", want, transports)
		}
	}
	t.Logf("audited calls by transport %v, each from %s", transports, clientIP)
}

// needNginx returns the nginx binary or skips the test.
func needNginx(t *testing.T) string {
	t.Helper()
	for _, path := range []string{"nginx", "/usr/sbin/nginx"} {
		if bin, err := exec.LookPath(path); err == nil {
			return bin
		}
	}
	t.Skip("nginx is not installed: apt-get install nginx (.ci/run installs it) to run the reverse-proxy test")
	return ""
}

// nginx is one nginx started by a test in a directory of its own.
type nginx struct {
	URL         string // https://127.0.0.1:port: deploy/nginx's TLS server
	RedirectURL string // its plain-HTTP server, which redirects
	ControlURL  string // http://127.0.0.1:port: a server with a 5 s read timeout
	dir, bin    string
	roots       *x509.CertPool
	ports       [3]int
}

func startNginx(t *testing.T, bin string) *nginx {
	t.Helper()
	n := &nginx{dir: t.TempDir(), bin: bin}
	for i := range n.ports {
		n.ports[i] = loopbackFreePort(t)
	}
	n.URL = "https://127.0.0.1:" + strconv.Itoa(n.ports[0])
	n.RedirectURL = "http://127.0.0.1:" + strconv.Itoa(n.ports[1])
	n.ControlURL = "http://127.0.0.1:" + strconv.Itoa(n.ports[2])
	n.roots = ngxCertificate(t, n.dir)
	return n
}

// route writes the configuration with the server at upstream and starts
// nginx, which the test stops (by its process id) when it ends.
func (n *nginx) route(t *testing.T, upstream string) {
	t.Helper()
	raw, err := os.ReadFile("../deploy/nginx/aegis-gitea-mcp.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(raw)
	if docs, err := os.ReadFile("../docs/deployment.md"); err != nil || !strings.Contains(string(docs), "```nginx\n"+conf+"```") {
		t.Fatalf("docs/deployment.md does not show deploy/nginx/aegis-gitea-mcp.conf as it is (%v): copy it into its nginx block", err)
	}
	// Each change names what it replaces, which must be in the file once:
	// the file and this test cannot drift apart.
	for _, r := range [][2]string{
		{"server 127.0.0.1:8080;", "server " + upstream + ";"},
		{"    listen 80;\n    listen [::]:80;\n", "    listen 127.0.0.1:" + strconv.Itoa(n.ports[1]) + ";\n"},
		{"    listen 443 ssl;\n    listen [::]:443 ssl;\n", "    listen 127.0.0.1:" + strconv.Itoa(n.ports[0]) + " ssl;\n"},
		{"/etc/letsencrypt/live/mcp.example.com/fullchain.pem", filepath.Join(n.dir, "cert.pem")},
		{"/etc/letsencrypt/live/mcp.example.com/privkey.pem", filepath.Join(n.dir, "key.pem")},
		{"proxy_read_timeout 1h;", "proxy_read_timeout 30s;"},
	} {
		if strings.Count(conf, r[0]) != 1 {
			t.Fatalf("deploy/nginx/aegis-gitea-mcp.conf no longer holds %q once: update this test", r[0])
		}
		conf = strings.Replace(conf, r[0], r[1], 1)
	}
	n.start(t, conf, upstream)
}

// start runs nginx with conf (an http-level file serving n.ports[0] and
// [1]) and the control server, which proxies to control.
func (n *nginx) start(t *testing.T, conf, control string) {
	t.Helper()
	userLine := ""
	if os.Geteuid() == 0 { // else workers could not change to nobody anyway
		if u, err := user.Current(); err == nil {
			if grp, err := user.LookupGroupId(u.Gid); err == nil {
				userLine = "user " + u.Username + " " + grp.Name + ";"
			}
		}
	}
	main := fmt.Sprintf(`%[2]s
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 256; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    include %[1]s/aegis-gitea-mcp.conf;

    # The control: the same streaming settings with a 5 s read timeout.
    server {
        listen 127.0.0.1:%[3]d;
        location / {
            proxy_pass http://%[4]s;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 5s;
        }
    }
}
`, n.dir, userLine, n.ports[2], control)
	if err := os.MkdirAll(filepath.Join(n.dir, "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"aegis-gitea-mcp.conf": conf, "nginx.conf": main} {
		if err := os.WriteFile(filepath.Join(n.dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"-p", n.dir, "-c", filepath.Join(n.dir, "nginx.conf"), "-e", filepath.Join(n.dir, "error.log")}
	if out, err := exec.CommandContext(t.Context(), n.bin, append(args, "-t")...).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	// Not the test's context: the cleanup stops nginx gracefully, by its
	// pid; its own process group lets a stuck one be killed with its workers.
	cmd := exec.CommandContext(context.Background(), n.bin, append(args, "-g", "daemon off;")...) // #nosec G204 -- the test's own nginx
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGQUIT) // graceful: ends once its streams have
		select {
		case err := <-exited:
			if err != nil {
				t.Logf("nginx (pid %d) exited: %v", cmd.Process.Pid, err)
			}
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			err := <-exited
			t.Errorf("nginx (pid %d) did not stop within 10 s of SIGQUIT (killed: %v)", cmd.Process.Pid, err)
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(n.dir, "error.log"))
			t.Logf("nginx error log:\n%s%s", log, stderr.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	dialer := &net.Dialer{Timeout: time.Second}
	for _, port := range n.ports {
		for {
			c, err := dialer.DialContext(t.Context(), "tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err == nil {
				_ = c.Close()
				break
			}
			select {
			case err := <-exited:
				t.Fatalf("nginx exited: %v\n%s", err, stderr.String())
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("nginx does not listen on %d within 10 s", port)
			}
		}
	}
}

// client is an HTTP client that trusts the test's certificate, connects
// from local (a loopback address) and sends token; it has no overall
// timeout, for streams.
func (n *nginx) client(local, token string) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	return &http.Client{Transport: ngxBearer{token: token, next: &http.Transport{
		DialContext:     dialer.DialContext,
		TLSClientConfig: &tls.Config{RootCAs: n.roots, MinVersion: tls.VersionTLS12},
	}}}
}

// plain is a client that does not follow redirects.
func (n *nginx) plain() *http.Client {
	return &http.Client{Timeout: 10 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: n.roots, MinVersion: tls.VersionTLS12}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type ngxBearer struct {
	token string
	next  http.RoundTripper
}

func (b ngxBearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// CloseIdleConnections passes http.Client.CloseIdleConnections on to the
// transport.
func (b ngxBearer) CloseIdleConnections() {
	if c, ok := b.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// ngxCertificate writes a CA-signed certificate for 127.0.0.1 and
// mcp.example.com to dir (cert.pem, key.pem) and returns the CA.
func ngxCertificate(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "aegis e2e CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "mcp.example.com"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"mcp.example.com"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]*pem.Block{"cert.pem": {Type: "CERTIFICATE", Bytes: der}, "key.pem": {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return roots
}

// ngxConnect opens an MCP session with the go-sdk client over transport.
func ngxConnect(t *testing.T, transport mcp.Transport, version string) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "aegis-e2e-nginx", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), transport, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect through nginx: %v", err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func ngxGet(t *testing.T, client *http.Client, url string, header map[string]string) httpResult {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return ngxDo(t, client, req)
}

// ngxPost POSTs a JSON body with header pairs.
func ngxPost(t *testing.T, client *http.Client, url, body string, header ...string) httpResult {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return ngxDo(t, client, req)
}

func ngxDo(t *testing.T, client *http.Client, req *http.Request) httpResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(req.Context(), 30*time.Second)
	defer cancel()
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return httpResult{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

// ngxInitialize opens a Streamable HTTP session by hand (MCP 2025-11-25)
// and returns its id.
func ngxInitialize(t *testing.T, client *http.Client, endpoint string) string {
	t.Helper()
	res := ngxPost(t, client, endpoint, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"`+legacyProtocol+
		`","capabilities":{},"clientInfo":{"name":"aegis-e2e-nginx","version":"1"}}}`)
	session := res.header.Get("Mcp-Session-Id")
	if res.status != http.StatusOK || session == "" {
		t.Fatalf("initialize through nginx = %d %s (session %q)", res.status, res.body, session)
	}
	if res := ngxPost(t, client, endpoint, `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		"Mcp-Session-Id", session, "Mcp-Protocol-Version", legacyProtocol); res.status != http.StatusAccepted {
		t.Fatalf("notifications/initialized through nginx = %d %s", res.status, res.body)
	}
	return session
}

// ngxStream is an event stream read line by line, with arrival times.
type ngxStream struct {
	opened time.Time
	lines  chan ngxLine
	cancel context.CancelFunc
}

type ngxLine struct {
	at   time.Duration
	text string
}

// ngxOpenStream GETs an event stream with header pairs; the test closes it.
func ngxOpenStream(t *testing.T, client *http.Client, url string, header ...string) *ngxStream {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req) //nolint:bodyclose // closed by the reader goroutine
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		_ = resp.Body.Close()
		t.Fatalf("GET %s = %d %s, want an event stream", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &ngxStream{opened: time.Now(), lines: make(chan ngxLine, 64), cancel: cancel}
	go func() {
		defer func() { _ = resp.Body.Close() }()
		defer close(s.lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			s.lines <- ngxLine{at: time.Since(s.opened), text: sc.Text()}
		}
	}()
	return s
}

// watch reads the stream for up to limit and then closes it; it returns
// when keep-alive comments arrived and, if the stream ended before limit,
// after how long (0 when it was still open).
func (s *ngxStream) watch(limit time.Duration) (comments []time.Duration, ended time.Duration) {
	defer s.cancel()
	timer := time.NewTimer(limit - time.Since(s.opened))
	defer timer.Stop()
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				return comments, time.Since(s.opened)
			}
			if strings.HasPrefix(l.text, ":") {
				comments = append(comments, l.at.Round(100*time.Millisecond))
			}
		case <-timer.C:
			return comments, 0
		}
	}
}
