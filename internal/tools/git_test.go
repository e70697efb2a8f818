package tools

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/textsafe"
)

const gitSampleDiff = `commit 0123
Author: a

    root commit header, before any file

diff --git a/docs/setup.md b/docs/setup.md
index 7ed0028..2a412e2 100644
--- a/docs/setup.md
+++ b/docs/setup.md
@@ -1,3 +1,4 @@
 # Setup
-To be written.
+Install:
+--- not a header, an added line starting with dashes
++++ nor this
diff --git a/old name.txt b/new name.txt
similarity index 90%
rename from old name.txt
rename to new name.txt
@@ -1 +1 @@
-a
+b
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
--- a/gone.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-x
-y
diff --git "a/caf\303\251.txt" "b/caf\303\251.txt"
new file mode 100644
--- /dev/null
+++ "b/caf\303\251.txt"
@@ -0,0 +1 @@
+hello
diff --git a/logo.png b/logo.png
new file mode 100644
Binary files /dev/null and b/logo.png differ
`

func TestParseGitDiffFiles(t *testing.T) {
	got := parseGitDiffFiles(gitSampleDiff, false)
	want := []diffFile{
		{Path: "docs/setup.md", Status: "modified", Additions: 3, Deletions: 1},
		{Path: "new name.txt", Status: "renamed", Additions: 1, Deletions: 1},
		{Path: "gone.txt", Status: "deleted", Deletions: 2},
		{Path: "café.txt", Status: "added", Additions: 1},
		{Path: "logo.png", Status: "added"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("parseGitDiffFiles =\n%v\nwant\n%v", got, want)
	}
	if cut := parseGitDiffFiles(gitSampleDiff, true); len(cut) != len(want)-1 {
		t.Errorf("a cut diff lists %d files, want the last (partial) one dropped: %v", len(cut), cut)
	}
	if m := parseGitDiff(gitSampleDiff, false); m["gone.txt"].Deletions != 2 {
		t.Errorf("parseGitDiff by path = %v", m)
	}
}

func TestDiffGitPath(t *testing.T) {
	tests := []struct{ rest, want string }{
		{rest: "a/x.go b/x.go", want: "x.go"},
		{rest: "a/a b/c b/a b/c", want: "a b/c"},
		{rest: `"a/\303\251" "b/\303\251"`, want: "é"},
		{rest: `a/x "b/y\tz"`, want: "y\tz"},
		{rest: "a/old b/new", want: "new"},
	}
	for _, tt := range tests {
		if got := diffGitPath(tt.rest); got != tt.want {
			t.Errorf("diffGitPath(%q) = %q, want %q", tt.rest, got, tt.want)
		}
	}
}

func TestGitSummary(t *testing.T) {
	tests := []struct{ msg, want string }{
		{msg: "Fix it\r\n\nBody", want: "Fix it"},
		{msg: "\n\nLeading blank\nrest", want: "Leading blank"},
		{msg: strings.Repeat("é", 150), want: strings.Repeat("é", 100)},
	}
	for _, tt := range tests {
		if got := gitSummary(tt.msg); got != tt.want {
			t.Errorf("gitSummary(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}

func TestTakeLines(t *testing.T) {
	lines := splitLines("one\ntwo\nthree\n")
	tests := []struct {
		name              string
		first, last, budg int
		want              string
		wantEnd           int
		wantCut           bool
	}{
		{name: "all", first: 1, last: 3, budg: 100, want: "one\ntwo\nthree\n", wantEnd: 3},
		{name: "middle", first: 2, last: 2, budg: 100, want: "two\n", wantEnd: 2},
		{name: "budget", first: 1, last: 3, budg: 10, want: "one\ntwo\n", wantEnd: 2, wantCut: true},
		{name: "line over budget", first: 3, last: 3, budg: 3, want: "thr", wantEnd: 2, wantCut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, end, cut := takeLines(lines, tt.first, tt.last, tt.budg)
			if got != tt.want || end != tt.wantEnd || cut != tt.wantCut {
				t.Errorf("takeLines = %q, %d, %v; want %q, %d, %v", got, end, cut, tt.want, tt.wantEnd, tt.wantCut)
			}
		})
	}
}

func TestFitJSONMeasuresTheEncoding(t *testing.T) {
	for _, s := range []string{"plain text\n", "<tag> & \"quotes\"\n\t\\", "\x01\u2028é€😀\r\n", strings.Repeat("a\n", 50)} {
		enc, _ := json.Marshal(s)
		if got := jsonTextLen(s); got != len(enc)-2 {
			t.Errorf("jsonTextLen(%q) = %d, want %d", s, got, len(enc)-2)
		}
		for budget := 0; budget < len(enc); budget += 3 {
			cut, _ := fitJSON(s, budget)
			if e, _ := json.Marshal(cut); len(e)-2 > budget || !strings.HasPrefix(s, cut) {
				t.Errorf("fitJSON(%q, %d) = %q: %d bytes encoded", s, budget, cut, len(e)-2)
			}
		}
	}
}

func TestMaskLinesKeepsLineNumbers(t *testing.T) {
	text := "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----\napi_token = s3cr3t-value-123\nlast"
	lines, masked, err := maskLines(&Env{}, text)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a\n", textsafe.Masked + "\n", textsafe.Masked + "\n", textsafe.Masked + "\n", textsafe.Masked + "\n",
		"api_token = " + textsafe.Masked + "\n", "last"}
	if fmt.Sprint(lines) != fmt.Sprint(want) || masked != 2 {
		t.Errorf("maskLines = %q, %d; want %q, 2", lines, masked, want)
	}
	if lines, _, _ := maskLines(&Env{opts: Options{Secrets: textsafe.Off}}, text); lines[2] != "MIIEow\n" {
		t.Errorf("maskLines with secrets off changed %q", lines[2])
	}
	var argErr *ArgumentError
	if _, _, err := maskLines(&Env{opts: Options{Secrets: textsafe.Block}}, text); !errors.As(err, &argErr) {
		t.Errorf("maskLines in block mode error = %v, want a refusal", err)
	}
}

func TestFindMatches(t *testing.T) {
	text := "nothing\nthe NEEDLE here\ntoken = needle-secret-1234\n" + strings.Repeat("x", 500) + "needle" + strings.Repeat("y", 500) + "\n"
	lines, _, _ := maskLines(&Env{}, text)
	var matches []codeMatch
	if stopped := findMatches(&matches, "f.txt", text, lines, "Needle"); stopped {
		t.Fatal("stopped early")
	}
	if len(matches) != 3 || matches[0].Line != 2 || matches[1].Line != 3 || matches[2].Line != 4 {
		t.Fatalf("matches = %+v", matches)
	}
	if strings.Contains(string(matches[1].Text), "secret-1234") || !strings.Contains(string(matches[1].Text), textsafe.Masked) {
		t.Errorf("a secret line was shown unmasked: %q", matches[1].Text)
	}
	if m := string(matches[2].Text); len(m) > maxMatchLineBytes || !strings.Contains(m, "needle") {
		t.Errorf("a long line was not cut around the match: %q", m)
	}
	full := make([]codeMatch, maxScanMatches)
	if !findMatches(&full, "f.txt", text, lines, "needle") {
		t.Error("findMatches went past the match limit")
	}
}

func TestScanBatches(t *testing.T) {
	var paths []string
	for i := range 60 {
		paths = append(paths, fmt.Sprintf("dir/file-%02d.txt", i))
	}
	batches, left := scanBatches(paths)
	if len(batches) != 3 || len(batches[0]) != 25 || len(batches[2]) != 10 || left != 0 {
		t.Errorf("scanBatches(60 short paths) = %d batches, %d left", len(batches), left)
	}
	long := []string{strings.Repeat("a", 3000), strings.Repeat("b", 3000), strings.Repeat("c", 5000)}
	for range 10 {
		long = append(long, strings.Repeat("d", 3000))
	}
	batches, left = scanBatches(long)
	if len(batches) != maxScanBatches || left != len(long)-maxScanBatches {
		t.Errorf("scanBatches(long paths) = %d batches, %d left", len(batches), left)
	}
	for _, b := range batches {
		enc, _ := json.Marshal(map[string][]string{"files": b})
		if len(enc) > maxBatchPathBytes+32 {
			t.Errorf("a batch encodes to %d bytes", len(enc))
		}
	}
}

func TestMaskDiffLooksPastThePrefix(t *testing.T) {
	diff := "diff --git a/.env b/.env\n--- a/.env\n+++ b/.env\n@@ -1,2 +1,6 @@\n-db_password = old-pass-value\n+db_password = new-pass-value\n" +
		"+-----BEGIN PRIVATE KEY-----\n+MIIEvQ\n+-----END PRIVATE KEY-----\n keep = this\n"
	got, n, err := maskDiff(&Env{}, diff)
	if err != nil {
		t.Fatal(err)
	}
	want := "diff --git a/.env b/.env\n--- a/.env\n+++ b/.env\n@@ -1,2 +1,6 @@\n-db_password = " + textsafe.Masked + "\n+db_password = " + textsafe.Masked + "\n" +
		"+" + textsafe.Masked + "\n+" + textsafe.Masked + "\n+" + textsafe.Masked + "\n keep = this\n"
	if got != want || n != 3 {
		t.Errorf("maskDiff = %q, %d\nwant %q, 3", got, n, want)
	}
	var argErr *ArgumentError
	if _, _, err := maskDiff(&Env{opts: Options{Secrets: textsafe.Block}}, diff); !errors.As(err, &argErr) {
		t.Errorf("maskDiff in block mode error = %v, want a refusal", err)
	}
	if got, _, _ := maskDiff(&Env{opts: Options{Secrets: textsafe.Off}}, diff); got != diff {
		t.Errorf("maskDiff with secrets off changed the diff")
	}
}
