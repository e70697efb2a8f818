package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// startBinary builds aegis-gitea-mcp, starts it against g on a free
// loopback port and returns its base URL, the process and its log.
// extra holds more VAR=value settings.
func startBinary(t *testing.T, g *testgitea.Gitea, app *testgitea.OAuthApp, extra ...string) (string, *exec.Cmd, *logTail) {
	t.Helper()
	return startBinaryAt(t, buildBinary(t), g, app, extra...)
}

// startBinaryAt is startBinary with a binary already built, for tests
// that start several processes of it.
func startBinaryAt(t *testing.T, bin string, g *testgitea.Gitea, app *testgitea.OAuthApp, extra ...string) (string, *exec.Cmd, *logTail) {
	t.Helper()
	secretFile := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte(app.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), bin, "serve", "--listen", "127.0.0.1:0")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{
		"GITEA_URL=" + g.URL,
		"GITEA_OAUTH_CLIENT_ID=" + app.ClientID,
		"GITEA_OAUTH_CLIENT_SECRET_FILE=" + secretFile,
		"LOG_LEVEL=debug",
	}
	cmd.Env = append(cmd.Env, extra...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	logs := &logTail{lines: make(chan map[string]any, 100)}
	go logs.read(stderr)
	for line := range logs.lines {
		if line["msg"] == "listening" {
			return "http://" + line["addr"].(string), cmd, logs
		}
	}
	t.Fatalf("server exited before listening:\n%s", logs.raw.String())
	return "", nil, nil
}

// buildBinary builds aegis-gitea-mcp into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "aegis-gitea-mcp")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "../cmd/aegis-gitea-mcp")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// logTail collects the server's JSON log lines.
type logTail struct {
	lines chan map[string]any
	raw   strings.Builder
}

func (l *logTail) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l.raw.WriteString(sc.Text() + "\n")
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			l.lines <- m
		}
	}
	close(l.lines)
}

func TestBinaryServesHealthAndStopsOnSIGTERM(t *testing.T) {
	g := needGitea(t)
	app, err := g.App(t.Context(), readScopes)
	if err != nil {
		t.Fatal(err)
	}
	base, cmd, logs := startBinary(t, g, app)

	for _, probe := range []struct{ path, want string }{
		{path: "/healthz", want: `"status":"ok"`},
		{path: "/readyz", want: `"gitea_version":"` + testgitea.Version + `"`},
		{path: "/readyz", want: `"oidc_discovery_loaded":true`},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+probe.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", probe.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), probe.want) {
			t.Errorf("GET %s = %d %s, want 200 with %s", probe.path, resp.StatusCode, body, probe.want)
		}
	}

	if err := terminate(t, cmd); err != nil {
		t.Errorf("server exit after SIGTERM: %v, want status 0", err)
	}
	for range logs.lines { // drain what is left
	}
	out := logs.raw.String()
	if !strings.Contains(out, `"msg":"stopped"`) {
		t.Errorf("log lacks the graceful-shutdown line:\n%s", out)
	}
	if strings.Contains(out, app.ClientSecret) {
		t.Error("the server logged the OAuth client secret")
	}
}

// TestStdioWithPersonalAccessToken drives `aegis-gitea-mcp stdio` with the
// go-sdk client, as a local MCP client would launch it. A malformed or
// over-long line is answered with a JSON-RPC error and the session goes on
// (JSON-RPC 2.0: a parse error is a response with id null, not an exit).
func TestStdioWithPersonalAccessToken(t *testing.T) {
	g := needGitea(t)
	cmd := exec.CommandContext(t.Context(), buildBinary(t), "stdio")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"GITEA_URL=" + g.URL, "OAUTH_MODE=false", "MAX_REQUEST_BODY_BYTES=65536",
		"GITEA_TOKEN=" + g.PATs[testgitea.AliceName][testgitea.PATReadRepository]}
	p := startStdio(t, cmd)

	// Garbage before the session: a parse error, and the server stays up.
	p.send(t, "this is {not json\n")
	if e := p.nextError(t); e.Code != -32700 || string(e.ID) != "null" {
		t.Fatalf("answer to a garbage line = %+v, want code -32700 with id null", e)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "aegis-e2e", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.IOTransport{Reader: p.out, Writer: p.in}, nil)
	if err != nil {
		t.Fatalf("connect over stdio after a garbage line: %v", err)
	}
	defer func() { _ = cs.Close() }()
	if text, isErr := call(t, cs, "get_me", nil); isErr || !strings.Contains(text, `"login":"alice"`) {
		t.Errorf("get_me over stdio = %s", text)
	}
	// Garbage inside the session, then a line over MAX_REQUEST_BODY_BYTES:
	// each is answered, and the next call still works.
	p.send(t, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":`+"\n")
	if e := p.nextError(t); e.Code != -32700 || string(e.ID) != "null" {
		t.Errorf("answer to a truncated message = %+v, want code -32700 with id null", e)
	}
	p.send(t, `{"jsonrpc":"2.0","id":8,"method":"ping","params":{"x":"`+strings.Repeat("a", 100_000)+`"}}`+"\n")
	if e := p.nextError(t); e.Code != -32600 || !strings.Contains(e.Message, "65536") {
		t.Errorf("answer to an over-long line = %+v, want code -32600 naming the limit", e)
	}
	if text, isErr := call(t, cs, "get_me", nil); isErr || !strings.Contains(text, `"login":"alice"`) {
		t.Errorf("get_me over stdio after malformed lines = %s", text)
	}
	if text, isErr := call(t, cs, "get_file_contents", map[string]any{"owner": "alice", "repo": "notes", "path": testgitea.GuideFile}); isErr ||
		!strings.Contains(text, "private guide") {
		t.Errorf("get_file_contents over stdio = %s", text)
	}
	// The token has no read:issue: Gitea refuses, and the tool says so.
	if text, isErr := call(t, cs, "list_issues", map[string]any{"owner": "alice", "repo": "notes"}); !isErr || !strings.Contains(text, "forbidden") {
		t.Errorf("list_issues with a token lacking read:issue = %s (error %v), want forbidden", text, isErr)
	}
	if text, isErr := call(t, cs, "create_issue", map[string]any{"owner": "alice", "repo": "notes", "title": "x"}); !isErr || !strings.Contains(text, "write mode is off") {
		t.Errorf("create_issue over stdio without write mode = %s", text)
	}
	// Closing stdin ends the session cleanly: exit status 0.
	_ = cs.Close()
	if err := p.wait(); err != nil {
		t.Errorf("stdio exit after the client closed = %v, want status 0", err)
	}
}

// stdioProcess is a running `aegis-gitea-mcp stdio`: in is its stdin, out
// its stdout without the error answers to id null, which go to errs (the
// go-sdk client would take them for a broken stream).
type stdioProcess struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  io.ReadCloser
	errs chan stdioError
	done chan error
}

// stdioError is a JSON-RPC error answer; ID is the raw id.
type stdioError struct {
	ID      json.RawMessage
	Code    int
	Message string
}

func startStdio(t *testing.T, cmd *exec.Cmd) *stdioProcess {
	t.Helper()
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	p := &stdioProcess{cmd: cmd, in: in, out: pr, errs: make(chan stdioError, 8), done: make(chan error, 1)}
	go func() {
		r := bufio.NewReader(stdout)
		discard := false // once the client closed its end, drain to the exit
		for {
			line, err := r.ReadBytes('\n')
			var msg struct {
				ID    json.RawMessage `json:"id"`
				Error *struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if len(line) > 0 && json.Unmarshal(line, &msg) == nil && msg.Error != nil && string(msg.ID) == "null" {
				p.errs <- stdioError{ID: msg.ID, Code: msg.Error.Code, Message: msg.Error.Message}
			} else if len(line) > 0 && !discard {
				_, werr := pw.Write(line)
				discard = werr != nil
			}
			if err != nil {
				_ = pw.CloseWithError(err)
				p.done <- cmd.Wait()
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("stdio stderr:\n%s", stderr.String())
		}
	})
	return p
}

// send writes raw bytes to the process's stdin.
func (p *stdioProcess) send(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(p.in, s); err != nil {
		t.Fatalf("writing to stdio: %v", err)
	}
}

// nextError waits for the next error answer to id null.
func (p *stdioProcess) nextError(t *testing.T) stdioError {
	t.Helper()
	select {
	case e := <-p.errs:
		return e
	case err := <-p.done:
		t.Fatalf("stdio exited instead of answering: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("no answer from stdio within 20 s")
	}
	return stdioError{}
}

// wait closes stdin and waits for the process to exit.
func (p *stdioProcess) wait() error {
	_ = p.in.Close()
	select {
	case err := <-p.done:
		return err
	case <-time.After(20 * time.Second):
		return errors.New("stdio still running 20 s after stdin closed")
	}
}

// TestStdioAppliesTheWriteGates: stdio runs the same pipeline as HTTP: the
// whitelist holds, and destructive tools are neither offered to a client
// that cannot ask its human nor run for it.
func TestStdioAppliesTheWriteGates(t *testing.T) {
	g := needGitea(t)
	cmd := exec.CommandContext(t.Context(), buildBinary(t), "stdio")
	cmd.Dir = t.TempDir()
	// The policy's users rules apply to the token's owner, whom stdio looks up.
	policyFile := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policyFile, []byte("users:\n  alice: {tools: {deny: [list_branches]}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd.Env = []string{"GITEA_URL=" + g.URL, "OAUTH_MODE=false", "WRITE_MODE=true", "WRITE_REPOSITORY_WHITELIST=alice/notes",
		"POLICY_FILE_PATH=" + policyFile, "GITEA_TOKEN=" + g.PATs[testgitea.AliceName][testgitea.PATReadRepository]}
	client := mcp.NewClient(&mcp.Implementation{Name: "aegis-e2e", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect over stdio: %v", err)
	}
	defer func() { _ = cs.Close() }()
	names := toolNames(t, cs)
	if !slices.Contains(names, "create_issue") || slices.Contains(names, "delete_label") {
		t.Errorf("stdio tools with write mode on and no elicitation: %v", names)
	}
	if text, isErr := call(t, cs, "create_issue", map[string]any{"owner": "bob", "repo": "website", "title": "x"}); !isErr ||
		!strings.Contains(text, "bob/website are not allowed") {
		t.Errorf("create_issue outside the whitelist over stdio = %s", text)
	}
	if text, isErr := call(t, cs, "delete_label", map[string]any{"owner": "alice", "repo": "notes", "name": "x"}); !isErr ||
		!strings.Contains(text, "CONFIRM_DESTRUCTIVE") {
		t.Errorf("delete_label over stdio without elicitation = %s", text)
	}
	if slices.Contains(names, "list_branches") {
		t.Error("stdio lists a tool the policy denies the token's owner")
	}
	if text, isErr := call(t, cs, "list_branches", map[string]any{"owner": "alice", "repo": "notes"}); !isErr ||
		!strings.Contains(text, `users["alice"]`) {
		t.Errorf("list_branches denied to alice over stdio = %s", text)
	}
}

// TestBinaryNamesItsRealPort: with --listen 127.0.0.1:0 and no
// PUBLIC_BASE_URL, the metadata names the port the server got.
func TestBinaryNamesItsRealPort(t *testing.T) {
	g := needGitea(t)
	app, err := g.App(t.Context(), readScopes)
	if err != nil {
		t.Fatal(err)
	}
	base, _, _ := startBinary(t, g, app)
	res := do(t, "GET", base+"/.well-known/oauth-protected-resource/mcp", "", nil)
	if !strings.Contains(res.body, `"resource":"`+base+`/mcp"`) {
		t.Errorf("metadata = %s, want resource %s/mcp", res.body, base)
	}
	if res := do(t, "POST", base+"/mcp/tool/call", "", `{"tool":"get_me"}`); res.status != 401 ||
		!strings.Contains(res.header.Get("WWW-Authenticate"), `resource_metadata="`+base+`/.well-known/oauth-protected-resource/mcp/tool/call"`) {
		t.Errorf("challenge = %d %q", res.status, res.header.Get("WWW-Authenticate"))
	}
}

// TestBinaryReloadsPolicyOnSIGHUP: SIGHUP rereads POLICY_FILE_PATH; a bad
// file is refused and logged, a good one taken.
func TestBinaryReloadsPolicyOnSIGHUP(t *testing.T) {
	g := needGitea(t)
	app, err := g.App(t.Context(), readScopes)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "policy.yaml")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("tools: {deny: [search_code]}\n")
	_, cmd, logs := startBinary(t, g, app, "POLICY_FILE_PATH="+file)
	hangUp := func(wantMsg string) {
		t.Helper()
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		timeout := time.After(20 * time.Second)
		for {
			select {
			case line, ok := <-logs.lines:
				if !ok {
					t.Fatalf("server exited waiting for %q:\n%s", wantMsg, logs.raw.String())
				}
				if line["msg"] == wantMsg {
					return
				}
			case <-timeout:
				t.Fatalf("no %q log line 20 s after SIGHUP", wantMsg)
			}
		}
	}
	write("tools: {deny: [no_such_tool]}\n")
	hangUp("policy reload refused; the policy in force stays")
	write("tools: {deny: [search_code, list_forks]}\n")
	hangUp("policy reloaded")
}

// TestBinaryStopsPromptlyWithOpenStreams: SIGTERM ends the event streams
// clients hold open (legacy SSE and a session's GET /mcp), so a graceful
// shutdown takes moments, not the whole grace period, and exits 0.
func TestBinaryStopsPromptlyWithOpenStreams(t *testing.T) {
	g := needGitea(t)
	app, err := g.App(t.Context(), toolScopes)
	if err != nil {
		t.Fatal(err)
	}
	base, cmd, logs := startBinary(t, g, app)
	go func() {
		for range logs.lines { // keep the server's stderr flowing
		}
	}()
	a := &aegis{URL: base, App: app}
	tok := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	sse := openSSE(t, base+"/mcp/sse", tok)
	sse.next(t, "endpoint")
	_, id := initSession(t, a, tok)
	if code, _ := openStream(t, a, tok, id); code != http.StatusOK {
		t.Fatalf("GET /mcp stream = %d", code)
	}
	start := time.Now()
	if err := terminate(t, cmd); err != nil {
		t.Errorf("exit after SIGTERM with open streams: %v, want status 0", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("shutdown took %v with open streams, want moments", took)
	}
}

// terminate sends cmd SIGTERM and returns how it exited; it fails the test
// if cmd is still running 20 s later.
func terminate(t *testing.T, cmd *exec.Cmd) error {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("server still running 20 s after SIGTERM")
	}
	return nil
}
