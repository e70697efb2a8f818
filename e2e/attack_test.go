package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// The security review's resource attacks (issue 9, findings 1 and 3),
// replayed on the real binary with its default limits: the test logs the
// server's RSS and open descriptors before and under each attack, and
// shows the attacker is bounded while another user is still served.

// procStats reads a process's resident set, its peak, and its open
// descriptors.
func procStats(t *testing.T, pid int) (rssKB, peakKB, fds int) {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		switch k {
		case "VmRSS":
			rssKB = n
		case "VmHWM":
			peakKB = n
		}
	}
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return rssKB, peakKB, len(entries)
}

// binaryAegis is the real binary serving one app, its log drained.
func binaryAegis(t *testing.T, g *testgitea.Gitea, scope string, extra ...string) (*aegis, int) {
	t.Helper()
	app, err := g.App(t.Context(), scope)
	if err != nil {
		t.Fatal(err)
	}
	base, cmd, logs := startBinary(t, g, app, extra...)
	go func() {
		for range logs.lines { // keep the server's stderr flowing
		}
	}()
	return &aegis{URL: base, App: app}, cmd.Process.Pid
}

func TestSessionAndStreamFloodIsBounded(t *testing.T) {
	g := needGitea(t)
	// The address limit is off, to show the per-user bounds on their own.
	a, pid := binaryAegis(t, g, toolScopes, "RATE_LIMIT_PER_IP_PER_SECOND=0")
	alice := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	bob := a.token(t, g, testgitea.BobName, toolScopes).AccessToken
	rss0, _, fds0 := procStats(t, pid)

	const sessions, streams = 3000, 600
	var ids []string
	refused := 0
	for range sessions {
		res, id := initSession(t, a, alice)
		switch {
		case res.status == http.StatusOK && id != "":
			ids = append(ids, id)
		case res.status == http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("initialize = %d %s", res.status, res.body)
		}
	}
	rss1, _, fds1 := procStats(t, pid)
	opened, codes := 0, map[int]int{}
	for i := range min(streams, len(ids)) { // a stream on every session, whose client never reads
		code, _ := openStream(t, a, alice, ids[i])
		codes[code]++
	}
	for range streams - min(streams, len(ids)) { // and legacy SSE streams
		code, _ := openSSEStatus(t, a, alice)
		codes[code]++
	}
	opened = codes[http.StatusOK]
	time.Sleep(200 * time.Millisecond)
	rss2, _, fds2 := procStats(t, pid)
	t.Logf("before: RSS %d MB, %d descriptors", rss0/1024, fds0)
	t.Logf("%d initialize requests: %d sessions held, %d refused; RSS %d MB, %d descriptors", sessions, len(ids), refused, rss1/1024, fds1)
	t.Logf("%d stream requests (GET /mcp on each session, then GET /mcp/sse): answers %v; RSS %d MB, %d descriptors", streams, codes, rss2/1024, fds2)

	if res := toolCallHTTP(t, a, bob, "get_me"); res.status != http.StatusOK {
		t.Errorf("bob during alice's flood = %d %s, want 200", res.status, res.body)
	}
	if res, id := initSession(t, a, bob); res.status != http.StatusOK || id == "" {
		t.Errorf("bob's session during alice's flood = %d %s", res.status, res.body)
	}
	if len(ids) > 32 || opened > 16 {
		t.Errorf("alice holds %d sessions and %d streams, over the defaults MAX_SESSIONS_PER_USER=32, MAX_STREAMS_PER_USER=16", len(ids), opened)
	}
	if fds2-fds0 > 64 {
		t.Errorf("the flood grew the server's descriptors from %d to %d", fds0, fds2)
	}
}

func TestParallelLargeDiffsAreBounded(t *testing.T) {
	g := needGitea(t)
	repo := freshRepo(t, g, testgitea.AliceName, "bigdiff")
	var big strings.Builder
	for i := 0; big.Len() < 6<<20; i++ {
		fmt.Fprintf(&big, "line %d of a large generated file that makes this pull request's diff large\n", i)
	}
	if err := g.PutFile(t.Context(), testgitea.AliceName, repo, "a_big.txt", big.String(), "large"); err != nil {
		t.Fatal(err)
	}
	var pr struct{ Number int }
	if err := g.AdminDo(t.Context(), http.MethodPost, "/api/v1/repos/alice/"+repo+"/pulls", testgitea.AliceName,
		map[string]any{"head": "large", "base": "main", "title": "large"}, http.StatusCreated, &pr); err != nil {
		t.Fatal(err)
	}

	a, pid := binaryAegis(t, g, toolScopes, "RATE_LIMIT_PER_IP_PER_SECOND=0")
	alice := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	bob := a.token(t, g, testgitea.BobName, toolScopes).AccessToken
	_, peak0, fds0 := procStats(t, pid)
	args := map[string]any{"owner": testgitea.AliceName, "repo": repo, "number": pr.Number, "file": "a_big.txt"}
	codes := map[int]int{}
	var mu sync.Mutex
	for range 3 {
		var wg sync.WaitGroup
		for range 32 {
			wg.Go(func() {
				res := do(t, "POST", a.URL+"/mcp/tool/call", alice, map[string]any{"tool": "get_pull_request_diff", "arguments": args})
				mu.Lock()
				codes[res.status]++
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	_, peak1, fds1 := procStats(t, pid)
	t.Logf("before: peak RSS %d MB, %d descriptors", peak0/1024, fds0)
	t.Logf("3 x 32 parallel one-file diffs of a %d MiB diff: answers %v; peak RSS %d MB, %d descriptors", big.Len()>>20, codes, peak1/1024, fds1)
	if res := toolCallHTTP(t, a, bob, "get_me"); res.status != http.StatusOK {
		t.Errorf("bob after alice's burst = %d %s, want 200", res.status, res.body)
	}
	if codes[http.StatusOK] == 0 {
		t.Errorf("no diff call was served: %v", codes)
	}
	if peak1 > 256<<10 {
		t.Errorf("peak RSS %d MB under the burst, want it bounded well below the review's 675 MB", peak1/1024)
	}
}

// openSSEStatus opens a legacy SSE stream that is never read and returns
// its status.
func openSSEStatus(t *testing.T, a *aegis, token string) (int, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.URL+"/mcp/sse", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
	} else {
		t.Cleanup(func() { _ = resp.Body.Close() })
	}
	return resp.StatusCode, nil
}
