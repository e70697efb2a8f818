package tools

import (
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

const sampleDiff = `diff --git a/README.md b/README.md
index 1111111..2222222 100644
--- a/README.md
+++ b/README.md
@@ -1 +1 @@
-old
+new
diff --git a/docs/old name.md b/docs/new name.md
similarity index 90%
rename from docs/old name.md
rename to docs/new name.md
diff --git "a/caf\303\251.txt" "b/caf\303\251.txt"
new file mode 100644
--- /dev/null
+++ "b/caf\303\251.txt"
@@ -0,0 +1 @@
+diff --git a/README.md b/README.md
`

func TestFileDiff(t *testing.T) {
	tests := []struct {
		path      string
		wantStart string
		wantLines int
	}{
		{path: "README.md", wantStart: "diff --git a/README.md b/README.md\n", wantLines: 7},
		{path: "docs/new name.md", wantStart: "diff --git a/docs/old name.md", wantLines: 4},
		{path: "docs/old name.md", wantStart: "diff --git a/docs/old name.md", wantLines: 4},
		{path: "café.txt", wantStart: `diff --git "a/caf\303\251.txt"`, wantLines: 6},
		{path: "docs", wantLines: -1},
		{path: "name.md", wantLines: -1},
		{path: "caf", wantLines: -1},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := fileDiff(sampleDiff, tt.path)
			if tt.wantLines < 0 {
				if ok {
					t.Errorf("fileDiff(%q) = %q, want no match", tt.path, got)
				}
				return
			}
			if !ok || !strings.HasPrefix(got, tt.wantStart) || strings.Count(got, "\n") != tt.wantLines {
				t.Errorf("fileDiff(%q) = %q, %v; want %d lines starting %q", tt.path, got, ok, tt.wantLines, tt.wantStart)
			}
		})
	}
	if _, ok := fileDiff("", "README.md"); ok {
		t.Error("fileDiff of an empty diff matched")
	}
	if _, ok := fileDiff(`diff --git "a/unterminated`, "unterminated"); ok {
		t.Error("fileDiff matched a header with an unterminated quote")
	}
}

func TestHunkTail(t *testing.T) {
	hunk := "@@ -1,8 +1,8 @@\n" + strings.Repeat("ctx\n", 10) + "+" + strings.Repeat("x", 1000) + "\n"
	got := hunkTail(hunk)
	lines := strings.Split(got, "\n")
	if len(lines) != hunkLines || len(got) > hunkBytes+hunkLines || !strings.HasPrefix(lines[len(lines)-1], "+xxx") {
		t.Errorf("hunkTail = %d lines, %d bytes, ending %q; want %d lines within %d bytes ending at the commented line",
			len(lines), len(got), lines[len(lines)-1][:min(10, len(lines[len(lines)-1]))], hunkLines, hunkBytes)
	}
	if hunkTail("") != "" {
		t.Error("hunkTail of an empty hunk is not empty")
	}
}

func TestTrackerPage(t *testing.T) {
	all := []int{1, 2, 3, 4, 5}
	tests := []struct {
		page, limit int
		want        []int
		wantNext    int
	}{
		{page: 1, limit: 2, want: []int{1, 2}, wantNext: 2},
		{page: 3, limit: 2, want: []int{5}, wantNext: 0},
		{page: 9, limit: 2, want: []int{}, wantNext: 0},
		{page: 0, limit: 0, want: all, wantNext: 0},
	}
	for _, tt := range tests {
		got, info := trackerPage(all, gitea.ListOptions{Page: tt.page, Limit: tt.limit})
		if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) || info.NextPage != tt.wantNext || info.Total != 5 {
			t.Errorf("trackerPage(page %d, limit %d) = %v, %+v; want %v, next %d, total 5", tt.page, tt.limit, got, info, tt.want, tt.wantNext)
		}
	}
}
