package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestDemo runs `aegis-demo` (make demo) as a user would: a real process
// with a directory of its own, which starts its own Gitea from the build
// TestMain already made (the cache is shared), seeds it, gets a real
// token through the code flow and serves. The token it prints makes real
// calls through the go-sdk client — a read, a write to the demo
// repository, a write elsewhere refused — and SIGINT stops the demo and
// its Gitea. A second run on the same directory reuses Gitea's data and
// starts in seconds; a SIGKILLed third run still takes its Gitea with it
// (Pdeathsig). .ci/run relies on this test for the demo check.
func TestDemo(t *testing.T) {
	needGitea(t)
	bin := filepath.Join(t.TempDir(), "aegis-demo")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "../cmd/aegis-demo")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := filepath.Join(t.TempDir(), "demo")

	first := startDemo(t, bin, dir)
	t.Logf("first run (new directory, seeding): ready in %s; Gitea pid %d at %s", first.ready, first.giteaPID, first.giteaURL)
	if !strings.Contains(first.output(), "(new; the next run reuses it)") {
		t.Errorf("first run does not say its directory is new:\n%s", first.output())
	}
	cs := first.connect(t)
	if text, isErr := call(t, cs, "get_me", nil); isErr || !strings.Contains(text, `"login":"demo"`) {
		t.Errorf("get_me with the demo token = %s", text)
	}
	if text, isErr := call(t, cs, "create_issue_comment", map[string]any{"owner": "demo", "repo": "hello", "number": 1,
		"body": "Written through aegis-demo's MCP server."}); isErr {
		t.Errorf("a comment on demo/hello (the whitelisted repository) = %s, want it written", text)
	}
	if text, isErr := call(t, cs, "create_issue", map[string]any{"owner": "demo", "repo": "elsewhere", "title": "x"}); !isErr ||
		!strings.Contains(text, "WRITE_REPOSITORY_WHITELIST") {
		t.Errorf("a write outside demo/hello = %s (error %v), want the whitelist refusal", text, isErr)
	}
	_ = cs.Close()
	first.interrupt(t)

	second := startDemo(t, bin, dir)
	t.Logf("second run (same directory, reused): ready in %s; Gitea pid %d at %s", second.ready, second.giteaPID, second.giteaURL)
	if !strings.Contains(second.output(), "reused from the last run") || !strings.Contains(second.output(), "reusing user demo") {
		t.Errorf("second run does not say it reused the directory:\n%s", second.output())
	}
	if second.ready > 30*time.Second {
		t.Errorf("second run took %s to be ready, want seconds", second.ready)
	}
	cs = second.connect(t)
	if text, isErr := call(t, cs, "list_issue_comments", map[string]any{"owner": "demo", "repo": "hello", "number": 1}); isErr ||
		!strings.Contains(text, "Written through aegis-demo") {
		t.Errorf("the first run's comment, read in the second = %s, want it kept", text)
	}
	if second.token == first.token {
		t.Error("the second run printed the first run's token, want a new one from the code flow")
	}
	_ = cs.Close()
	second.interrupt(t)

	// The backstop: a demo killed outright cannot stop Gitea, and the
	// kernel does (Pdeathsig).
	third := startDemo(t, bin, dir)
	if err := third.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-third.exited
	third.waitGiteaGone(t, 10*time.Second)
}

// demoRun is one running aegis-demo process and what it printed.
type demoRun struct {
	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	ready    time.Duration
	mcpURL   string
	token    string
	giteaURL string
	giteaPID int

	mu  sync.Mutex
	out strings.Builder
}

var (
	demoMCPLine   = regexp.MustCompile(`^\s*MCP URL:\s+(\S+)`)
	demoTokenLine = regexp.MustCompile(`^\s*Demo token:\s+(\S+)`)
	demoGiteaLine = regexp.MustCompile(`Gitea \S+ is up at (\S+) \(pid (\d+)\)`)
	demoReadyLine = regexp.MustCompile(`^\[\s*[\d.]+s\] ready:`)
)

// startDemo starts aegis-demo on dir with a free MCP port and waits for
// its ready line, reading the MCP URL, the token and Gitea's pid and URL
// from what it printed.
func startDemo(t *testing.T, bin, dir string) *demoRun {
	t.Helper()
	d := &demoRun{exited: make(chan struct{})}
	d.cmd = exec.CommandContext(t.Context(), bin, "--dir", dir, "--listen", "127.0.0.1:0")
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stderr = d.cmd.Stdout
	start := time.Now()
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			d.mu.Lock()
			d.out.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
			select {
			case lines <- sc.Text():
			default: // nobody waits for lines after ready
			}
		}
		d.waitErr = d.cmd.Wait()
		close(d.exited)
		close(lines)
	}()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.exited
		if d.giteaPID != 0 {
			d.waitGiteaGone(t, 10*time.Second)
		}
	})
	// Gitea is built by now (TestMain), so a run is ready in seconds; the
	// bound is for a slow machine under -race.
	timeout := time.After(3 * time.Minute)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("aegis-demo exited before it was ready (%v):\n%s", d.waitErr, d.output())
			}
			if m := demoMCPLine.FindStringSubmatch(line); m != nil {
				d.mcpURL = m[1]
			}
			if m := demoTokenLine.FindStringSubmatch(line); m != nil {
				d.token = m[1]
			}
			if m := demoGiteaLine.FindStringSubmatch(line); m != nil {
				d.giteaURL = m[1]
				d.giteaPID, _ = strconv.Atoi(m[2])
			}
			if demoReadyLine.MatchString(line) {
				d.ready = time.Since(start)
				if d.mcpURL == "" || d.token == "" || d.giteaPID == 0 {
					t.Fatalf("aegis-demo is ready but printed no MCP URL, token or Gitea pid:\n%s", d.output())
				}
				return d
			}
		case <-timeout:
			t.Fatalf("aegis-demo not ready within 3 minutes:\n%s", d.output())
		}
	}
}

func (d *demoRun) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

// connect opens an MCP session with the official go-sdk client over
// Streamable HTTP at the printed URL, with the printed token.
func (d *demoRun) connect(t *testing.T) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "aegis-e2e-demo", Version: "1"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: d.mcpURL, HTTPClient: bearer(d.token)}, nil)
	if err != nil {
		t.Fatalf("connect to the demo's %s: %v", d.mcpURL, err)
	}
	return cs
}

// interrupt sends SIGINT, as Ctrl-C does, and checks that the demo stops
// cleanly and takes its Gitea with it.
func (d *demoRun) interrupt(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("aegis-demo still running 30 s after SIGINT:\n%s", d.output())
	}
	if d.waitErr != nil {
		t.Errorf("aegis-demo exit after SIGINT: %v, want status 0:\n%s", d.waitErr, d.output())
	}
	if !strings.Contains(d.output(), "stopped; nothing left running") {
		t.Errorf("aegis-demo did not say it stopped:\n%s", d.output())
	}
	d.waitGiteaGone(t, time.Second)
}

// waitGiteaGone checks that the demo's Gitea process is gone within
// limit and that its port no longer answers.
func (d *demoRun) waitGiteaGone(t *testing.T, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for processAlive(d.giteaPID) {
		if time.Now().After(deadline) {
			t.Errorf("the demo's Gitea (pid %d) is still running %s after the demo ended", d.giteaPID, limit)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, d.giteaURL+"/api/healthz", nil)
	if resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req); err == nil {
		_ = resp.Body.Close()
		t.Errorf("the demo's Gitea at %s still answers after the demo ended", d.giteaURL)
	}
	d.giteaPID = 0
}

// processAlive reports whether pid is a live process (a zombie waiting for
// a parent to reap it is not).
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
