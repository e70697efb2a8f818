package tools

// The memory one diff call holds (issue 9, finding 3): a call reads a large
// diff as a stream and keeps what it returns (the output budget and a
// margin), never the whole diff. A local fake serves the diffs: these tests
// measure this server's memory, not Gitea's behaviour.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/textsafe"
)

const (
	memDiffBytes = 8 << 20  // the diff served, as large as a one-file diff reads
	memFileBytes = 64 << 10 // one file's section in the many-files diff
	memSHA       = "0123456789abcdef0123456789abcdef01234567"
)

// memDiff is a unified diff of about size bytes: files of about fileBytes
// each, named f0.txt, f1.txt..., their added lines lineBytes long.
func memDiff(size, fileBytes, lineBytes int) (diff []byte, files []string) {
	var b strings.Builder
	b.Grow(size + fileBytes)
	line := "+" + strings.Repeat("x", lineBytes-2) + "\n"
	for i := 0; b.Len() < size; i++ {
		name := fmt.Sprintf("f%d.txt", i)
		files = append(files, name)
		start := b.Len()
		fmt.Fprintf(&b, "diff --git a/%s b/%s\nindex 1111111..2222222 100644\n--- a/%s\n+++ b/%s\n@@ -0,0 +1,%d @@\n",
			name, name, name, name, fileBytes/lineBytes)
		for b.Len()-start < fileBytes && b.Len() < size {
			b.WriteString(line)
		}
	}
	return []byte(b.String()), files
}

// memGitea serves one pull request's and one commit's diff, and the commit.
func memGitea(t testing.TB, diff []byte, files []string) *gitea.Client {
	t.Helper()
	commit := map[string]any{"sha": memSHA, "commit": map[string]any{"message": "big"}, "stats": map[string]int{"additions": 1, "deletions": 0}}
	var cf []map[string]string
	for _, f := range files {
		cf = append(cf, map[string]string{"filename": f, "status": "added"})
	}
	commit["files"] = cf
	commitJSON, err := json.Marshal(commit)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/repos/o/r/pulls/1.diff", "/api/v1/repos/o/r/git/commits/" + memSHA + ".diff":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write(diff)
		case "/api/v1/repos/o/r/git/commits/" + memSHA:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(commitJSON)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	e, err := gitea.NewEndpoint(gitea.Options{BaseURL: u})
	if err != nil {
		t.Fatal(err)
	}
	return e.As("test-token")
}

// memCall runs tool with args as c and returns its result's JSON.
func memCall(t testing.TB, c *gitea.Client, tool *Tool, args string, opts Options) string {
	t.Helper()
	call, err := tool.Bind(json.RawMessage(args))
	if err != nil {
		t.Fatalf("%s %s: %v", tool.Name, args, err)
	}
	res, err := call.Run(t.Context(), c, opts)
	if err != nil || res.IsError {
		t.Fatalf("%s %s = %v, %v (%v)", tool.Name, args, res, err, call.Failure)
	}
	return string(res.StructuredContent.(json.RawMessage))
}

// memUse runs f and returns the bytes it allocated (by every goroutine, the
// fake's included) and the peak of the heap above where it started (its
// garbage included until collected), sampled every 100µs.
func memUse(f func()) (allocated, peak uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	allocs0, live0 := sample[0].Value.Uint64(), sample[1].Value.Uint64()
	var (
		wg   sync.WaitGroup
		stop = make(chan struct{})
		top  = live0
	)
	wg.Go(func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			top = max(top, s[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	metrics.Read(sample)
	return sample[0].Value.Uint64() - allocs0, top - live0
}

// memCases are the large-diff calls measured.
func memCases(t testing.TB) []struct {
	name, args string
	tool       *Tool
	c          *gitea.Client
	want       string // in the result
} {
	t.Helper()
	many, manyFiles := memDiff(memDiffBytes, memFileBytes, 80)
	last := manyFiles[len(manyFiles)-1]
	one, oneFiles := memDiff(memDiffBytes, memDiffBytes, 80)
	manyC, oneC := memGitea(t, many, manyFiles), memGitea(t, one, oneFiles)
	return []struct {
		name, args string
		tool       *Tool
		c          *gitea.Client
		want       string
	}{
		{name: "pull diff, last of 128 files", tool: getPullRequestDiff.Tool(), c: manyC,
			args: `{"owner":"o","repo":"r","number":1,"file":"` + last + `"}`, want: `"diff":"diff --git a/` + last},
		{name: "pull diff, one 8 MiB file", tool: getPullRequestDiff.Tool(), c: oneC,
			args: `{"owner":"o","repo":"r","number":1,"file":"f0.txt"}`, want: `"truncated":true`},
		{name: "get_commit with patch, 8 MiB diff", tool: getCommit.Tool(), c: manyC,
			args: `{"owner":"o","repo":"r","ref":"` + memSHA + `","include_patch":true}`, want: `"patch":"diff --git a/f0.txt`},
	}
}

// TestDiffCallMemoryIsBounded: a one-file diff of an 8 MiB diff, and a
// commit's patch, allocate a fraction of the diff, not several copies of
// it. Secret masking is off: its cost grows with the text kept, which is
// bounded, and depends on the masking's implementation, not on the diff's.
func TestDiffCallMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 8 MiB diffs")
	}
	const bound = 3 << 20 // bytes one call may allocate, the fake's serving included
	opts := Options{Secrets: textsafe.Off}
	for _, tc := range memCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			var out string
			memCall(t, tc.c, tc.tool, tc.args, opts) // warm the connection
			allocated, peak := memUse(func() { out = memCall(t, tc.c, tc.tool, tc.args, opts) })
			t.Logf("%s: %.2f MiB allocated, peak heap +%.2f MiB", tc.name, float64(allocated)/(1<<20), float64(peak)/(1<<20))
			if !strings.Contains(out, tc.want) {
				t.Errorf("result lacks %q: %.300s", tc.want, out)
			}
			if allocated > bound {
				t.Errorf("one call allocated %d bytes, want <= %d: it holds the diff, not what it returns", allocated, bound)
			}
		})
	}
}

// BenchmarkDiffCallMemory reports, per call, the bytes allocated (B/op) and
// the peak of the heap above the start (peak-B/op; garbage not yet
// collected included, as it is in the process's memory), with secrets
// masked (the default) and with masking off.
func BenchmarkDiffCallMemory(b *testing.B) {
	for _, mode := range []textsafe.Mode{textsafe.Mask, textsafe.Off} {
		opts := Options{Secrets: mode}
		for _, tc := range memCases(b) {
			b.Run(string(mode)+"/"+tc.name, func(b *testing.B) {
				memCall(b, tc.c, tc.tool, tc.args, opts)
				b.ReportAllocs()
				var peak uint64
				for b.Loop() {
					_, p := memUse(func() { memCall(b, tc.c, tc.tool, tc.args, opts) })
					peak = max(peak, p)
				}
				b.ReportMetric(float64(peak), "peak-B/op")
			})
		}
	}
}

// streamDiffs are the diffs the streamed readers are checked on: each is
// also read cut at every length.
var streamDiffs = map[string]string{
	"policy": policyDiff,
	"sample": sampleDiff,
	"git":    gitSampleDiff,
	"combined and CRLF": "diff --git a/a.go b/a.go\r\n--- a/a.go\r\n+++ b/a.go\r\n@@ -1 +1 @@\r\n-x\r\n+y\r\n" +
		"diff --cc secret/m.go\n@@@ -1,1 -1,1 +1,1 @@@\n+++ b/secret/n.go\n- a\n +b\n" +
		"diff --git a/secret/k b/secret/k\n+++ b/secret/k\n@@ -0,0 +1 @@\n+k\n",
	"key block": "diff --git a/id b/id\n--- a/id\n+++ b/id\n@@ -0,0 +1,4 @@\n+x\n+-----BEGIN RSA PRIVATE KEY-----\n+MIIE\n+-----END RSA PRIVATE KEY-----\n+y\n",
}

// TestScanDiffMatchesWholeText: one streamed pass learns what
// parseGitDiffFiles and withholdDiff learn from the whole text, for every
// cut of every diff, with and without a policy, whatever it may keep.
func TestScanDiffMatchesWholeText(t *testing.T) {
	policies := map[string]*Env{"no policy": {}, "policy": {opts: Options{PathAllowed: denySecret}}}
	for name, diff := range streamDiffs {
		for pname, e := range policies {
			var allowed func(string) bool
			if e.pathsRestricted() {
				allowed = func(p string) bool { return e.PathAllowed("alice", "r", p) }
			}
			for n := 0; n <= len(diff); n++ {
				prefix, cut := diff[:n], n < len(diff)
				wantText, wantWithheld := e.withholdDiff("alice", "r", prefix)
				wantFiles := parseGitDiffFiles(prefix, cut)
				for _, keep := range []int{0, 1, 7, 64, 200, 1 << 20} {
					scan, err := scanDiff(strings.NewReader(prefix), keep, allowed)
					if err != nil {
						t.Fatalf("%s, %s, cut at %d, keep %d: %v", name, pname, n, keep, err)
					}
					if got := scan.Files(cut); fmt.Sprint(got) != fmt.Sprint(wantFiles) {
						t.Fatalf("%s, %s, cut at %d: files %v, want %v", name, pname, n, got, wantFiles)
					}
					if !slices.Equal(scan.withheld, wantWithheld) {
						t.Fatalf("%s, %s, cut at %d: withheld %q, want %q", name, pname, n, scan.withheld, wantWithheld)
					}
					want, wantCut := wantText, len(wantText) > keep
					if wantCut {
						want = string(dropOpenKeyBlock([]byte(wantText[:keep])))
					}
					if scan.text != want || scan.textCut != wantCut {
						t.Fatalf("%s, %s, cut at %d, keep %d: text %q (cut %v), want %q (cut %v)", name, pname, n, keep, scan.text, scan.textCut, want, wantCut)
					}
				}
			}
		}
	}
}

// TestDiffFileSectionMatchesFileDiff: the streamed read of one file's part
// finds what fileDiff finds in the whole text, for every cut of every diff.
func TestDiffFileSectionMatchesFileDiff(t *testing.T) {
	for name, diff := range streamDiffs {
		paths := []string{"nowhere", "secret", "docs"}
		for _, f := range parseGitDiffFiles(diff, false) {
			paths = append(paths, f.Path)
		}
		for _, s := range diffSectionsOf(diff) {
			paths = append(paths, diffSectionPaths(s)...)
		}
		for n := 0; n <= len(diff); n++ {
			prefix := diff[:n]
			for _, path := range paths {
				wantPart, wantFound := fileDiff(prefix, path)
				for _, keep := range []int{1, 7, 64, 1 << 20} {
					part, found, cut, err := diffFileSection(strings.NewReader(prefix), path, keep)
					want, wantCut := wantPart, len(wantPart) > keep
					if wantCut {
						want = string(dropOpenKeyBlock([]byte(wantPart[:keep])))
					}
					if err != nil || found != wantFound || part != want || cut != wantCut {
						t.Fatalf("%s cut at %d, %q, keep %d: %q, %v, cut %v, %v; want %q, %v, cut %v",
							name, n, path, keep, part, found, cut, err, want, wantFound, wantCut)
					}
				}
			}
		}
	}
}

func diffSectionsOf(diff string) []string {
	_, sections := diffSections(diff)
	return sections
}

// TestStreamedDiffLongLines: a line longer than a scan reads whole is
// counted, cut in the text kept, and, in a file's header, withholds the
// file under a policy: its paths could not be read whole.
func TestStreamedDiffLongLines(t *testing.T) {
	long := strings.Repeat("x", 3*diffLineMax)
	diff := "diff --git a/min.js b/min.js\n--- a/min.js\n+++ b/min.js\n@@ -1 +1 @@\n-" + long + "\n+" + long + "\n" +
		"diff --git a/docs/" + long + " b/docs/" + long + "\n--- a/docs/" + long + "\n+++ b/docs/" + long + "\n@@ -0,0 +1 @@\n+hidden\n" +
		"diff --git a/z b/z\n@@ -0,0 +1 @@\n+z\n"
	policy := &Env{opts: Options{PathAllowed: denySecret}}
	for _, allowed := range []func(string) bool{nil, func(p string) bool { return policy.PathAllowed("alice", "r", p) }} {
		const keep = diffLineMax / 2 // lines longer than diffLineMax are read in part
		scan, err := scanDiff(strings.NewReader(diff), keep, allowed)
		if err != nil {
			t.Fatal(err)
		}
		files := scan.Files(false)
		if len(files) != 3 || files[0].Additions != 1 || files[0].Deletions != 1 || files[2].Path != "z" || files[2].Additions != 1 {
			t.Errorf("files = %.200v", files)
		}
		if !strings.HasPrefix(scan.text, "diff --git a/min.js") || !scan.textCut || len(scan.text) != keep {
			t.Errorf("text = %d bytes, cut %v; want the first %d bytes, cut", len(scan.text), scan.textCut, keep)
		}
		if wantHidden := allowed != nil; (len(scan.withheld) == 1) != wantHidden {
			t.Errorf("policy %v: withheld %d paths, want the long-named file withheld only under a policy", allowed != nil, len(scan.withheld))
		}
	}
	part, found, cut, err := diffFileSection(strings.NewReader(diff), "min.js", 2*diffLineMax)
	if err != nil || !found || !cut || len(part) != 2*diffLineMax || !strings.HasPrefix(part, "diff --git a/min.js") {
		t.Errorf("diffFileSection(min.js) = %d bytes, %v, cut %v, %v", len(part), found, cut, err)
	}
	if _, found, _, _ := diffFileSection(strings.NewReader(diff), "z", 1<<20); !found {
		t.Error("diffFileSection(z) after long lines: not found")
	}
}

func TestDropOpenKeyBlock(t *testing.T) {
	tests := map[string]string{
		"":                                      "",
		"a\nb\n":                                "a\nb\n",
		"a\n+-----BEGIN PRIVATE KEY-----\n+MII": "a\n",
		"a\n-----BEGIN EC PRIVATE KEY-----\nMII\n-----END EC PRIVATE KEY-----\nb":                              "a\n-----BEGIN EC PRIVATE KEY-----\nMII\n-----END EC PRIVATE KEY-----\nb",
		"a\n-----BEGIN PRIVATE KEY----- x -----END PRIVATE KEY-----\nb\n-----BEGIN OPENSSH PRIVATE KEY-----\n": "a\n-----BEGIN PRIVATE KEY----- x -----END PRIVATE KEY-----\nb\n",
		"-----BEGIN PUBLIC KEY-----\nMII": "-----BEGIN PUBLIC KEY-----\nMII",
	}
	for in, want := range tests {
		if got := string(dropOpenKeyBlock([]byte(in))); got != want {
			t.Errorf("dropOpenKeyBlock(%q) = %q, want %q", in, got, want)
		}
	}
}
