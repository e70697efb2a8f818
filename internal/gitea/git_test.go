package gitea

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestGitArgumentsRefusedBeforeSending checks that the branch, tag, commit,
// tree, blob, compare, status and contents methods validate every argument
// before a request leaves.
func TestGitArgumentsRefusedBeforeSending(t *testing.T) {
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request sent for invalid arguments: %s", r.URL)
	})
	c := e.As(testToken)
	sha40 := strings.Repeat("a", 40)
	tests := []struct {
		name string
		call func() error
	}{
		{"branch owner", func() error { _, err := c.Branch(t.Context(), "..", "r", "main"); return err }},
		{"branch empty", func() error { _, err := c.Branch(t.Context(), "o", "r", ""); return err }},
		{"branch dotdot", func() error { _, err := c.Branch(t.Context(), "o", "r", "a/../../x"); return err }},
		{"branch dot segment", func() error { _, err := c.Branch(t.Context(), "o", "r", "a/./b"); return err }},
		{"branch empty segment", func() error { _, err := c.Branch(t.Context(), "o", "r", "a//b"); return err }},
		{"branch leading dash", func() error { _, err := c.Branch(t.Context(), "o", "r", "-x"); return err }},
		{"branch query", func() error { _, err := c.Branch(t.Context(), "o", "r", "main?x=1"); return err }},
		{"branch control", func() error { _, err := c.Branch(t.Context(), "o", "r", "ma\nin"); return err }},
		{"branch too long", func() error { _, err := c.Branch(t.Context(), "o", "r", strings.Repeat("b", 256)); return err }},
		{"tag backslash", func() error { _, err := c.Tag(t.Context(), "o", "r", `v1\..`); return err }},
		{"tag space", func() error { _, err := c.Tag(t.Context(), "o", "r", "v 1"); return err }},
		{"list branches repo", func() error { _, _, err := c.ListBranches(t.Context(), "o", "a/b", ListOptions{}); return err }},
		{"list tags owner", func() error { _, _, err := c.ListTags(t.Context(), "", "r", ListOptions{}); return err }},
		{"commit ref", func() error { _, err := c.Commit(t.Context(), "o", "r", "../x"); return err }},
		{"commit empty", func() error { _, err := c.Commit(t.Context(), "o", "r", ""); return err }},
		{"diff short sha", func() error { _, _, err := c.CommitDiff(t.Context(), "o", "r", "abc123", 10); return err }},
		{"diff not hex", func() error {
			_, _, err := c.CommitDiff(t.Context(), "o", "r", strings.Repeat("g", 40), 10)
			return err
		}},
		{"diff limit", func() error { _, _, err := c.CommitDiff(t.Context(), "o", "r", sha40, 0); return err }},
		{"list commits ref", func() error {
			_, _, err := c.ListCommits(t.Context(), "o", "r", CommitFilter{Ref: "a..b"}, ListOptions{})
			return err
		}},
		{"list commits path", func() error {
			_, _, err := c.ListCommits(t.Context(), "o", "r", CommitFilter{Path: "../etc"}, ListOptions{})
			return err
		}},
		{"compare base", func() error { _, err := c.Compare(t.Context(), "o", "r", "", "main"); return err }},
		{"compare head", func() error { _, err := c.Compare(t.Context(), "o", "r", "main", "x:y"); return err }},
		{"compare diff head", func() error { _, _, err := c.CompareDiff(t.Context(), "o", "r", "main", "a//b", 10); return err }},
		{"status ref", func() error {
			_, _, err := c.CombinedStatus(t.Context(), "o", "r", "x/../y", ListOptions{})
			return err
		}},
		{"tree ref", func() error { _, err := c.Tree(t.Context(), "o", "r", "", true, 1, 10); return err }},
		{"tree star", func() error { _, err := c.Tree(t.Context(), "o", "r", "ma*n", true, 1, 10); return err }},
		{"blob short", func() error { _, err := c.Blob(t.Context(), "o", "r", "abcd"); return err }},
		{"blob path", func() error { _, err := c.Blob(t.Context(), "o", "r", "../"+sha40); return err }},
		{"directory traversal", func() error { _, err := c.Directory(t.Context(), "o", "r", "docs/../..", ""); return err }},
		{"directory ref", func() error { _, err := c.Directory(t.Context(), "o", "r", "docs", "a\x00"); return err }},
		{"files none", func() error { _, err := c.FilesContents(t.Context(), "o", "r", "", nil); return err }},
		{"files too many", func() error {
			_, err := c.FilesContents(t.Context(), "o", "r", "", make([]string, MaxFilesPerBatch+1))
			return err
		}},
		{"files bad path", func() error {
			_, err := c.FilesContents(t.Context(), "o", "r", "", []string{"a", "/etc/passwd"})
			return err
		}},
		{"files too long", func() error {
			_, err := c.FilesContents(t.Context(), "o", "r", "", []string{strings.Repeat("p", 4000), strings.Repeat("q", 4000)})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("error = %v, want ErrInvalidArgument", err)
			}
		})
	}
}

func TestGitRefsAreEscaped(t *testing.T) {
	var got []string
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		switch {
		case strings.Contains(r.URL.Path, "/branches/"):
			writeJSON(w, 200, `{"name":"feature/x"}`)
		case strings.Contains(r.URL.Path, "/git/trees/"):
			writeJSON(w, 200, `{"sha":"t","tree":[]}`)
		case strings.Contains(r.URL.Path, "/compare/"):
			writeJSON(w, 200, `{"total_commits":0,"commits":[]}`)
		default:
			writeJSON(w, 200, `[]`)
		}
	})
	c := e.As(testToken)
	if _, err := c.Branch(t.Context(), "o", "r", "feature/x#1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Tree(t.Context(), "o", "r", "feature/x", true, 2, 5000); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compare(t.Context(), "o", "r", "main", "feature/x"); err != nil {
		t.Fatal(err)
	}
	since := time.Date(2024, 5, 1, 2, 0, 0, 0, time.FixedZone("x", 2*3600))
	if _, _, err := c.ListCommits(t.Context(), "o", "r", CommitFilter{Ref: "dev", Path: "docs", Since: since}, ListOptions{Limit: 5}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/sub/api/v1/repos/o/r/branches/feature/x%231?",
		"/sub/api/v1/repos/o/r/git/trees/feature%2Fx?page=2&per_page=1000&recursive=true",
		"/sub/api/v1/repos/o/r/compare/main...feature/x?files=false&verification=false",
		"/sub/api/v1/repos/o/r/commits?files=false&limit=50&page=1&path=docs&sha=dev&since=2024-05-01T00%3A00%3A00Z&stat=false&verification=false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestUnknownTreeOrBlobIsNotFound(t *testing.T) {
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, `{"message":"sha not found"}`)
	})
	c := e.As(testToken)
	if _, err := c.Tree(t.Context(), "o", "r", "nosuch", false, 1, 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("Tree error = %v, want ErrNotFound", err)
	}
	if _, err := c.Blob(t.Context(), "o", "r", strings.Repeat("0", 40)); !errors.Is(err, ErrNotFound) {
		t.Errorf("Blob error = %v, want ErrNotFound", err)
	}
}

func TestPathFilteredCommitPagesDropTheLookAhead(t *testing.T) {
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Total-Count", "120")
		writeJSON(w, 200, "["+strings.TrimSuffix(strings.Repeat(`{"sha":"x"},`, CommitsPerPathPage+1), ",")+"]")
	})
	commits, info, err := e.As(testToken).ListCommits(t.Context(), "o", "r", CommitFilter{Path: "a"}, ListOptions{Page: 2, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(commits) != CommitsPerPathPage || info.NextPage != 3 || info.Total != 120 {
		t.Errorf("got %d commits, page info %+v; want %d, next page 3 of 120", len(commits), info, CommitsPerPathPage)
	}
}

func TestDirectoryOfFile(t *testing.T) {
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != "/sub/api/v1/repos/o/r/contents/a%20b/c.md" {
			t.Errorf("path = %s", r.URL.EscapedPath())
		}
		writeJSON(w, 200, `{"type":"file","path":"a b/c.md"}`)
	})
	if _, err := e.As(testToken).Directory(t.Context(), "o", "r", "a b/c.md", ""); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Directory(file) error = %v, want ErrInvalidArgument", err)
	}
}

func TestBlobDecode(t *testing.T) {
	enc, content := "base64", "aGk="
	tests := []struct {
		name   string
		blob   GitBlob
		want   string
		wantOK bool
	}{
		{name: "content", blob: GitBlob{Encoding: &enc, Content: &content}, want: "hi", wantOK: true},
		{name: "too large", blob: GitBlob{Size: 1 << 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, ok, err := tt.blob.Decode()
			if err != nil || ok != tt.wantOK || string(data) != tt.want {
				t.Errorf("Decode = %q, %v, %v; want %q, %v", data, ok, err, tt.want, tt.wantOK)
			}
		})
	}
}

func FuzzEscapeGitRef(f *testing.F) {
	for _, s := range []string{"main", "feature/x", "a/../b", "v1.0", "..", "a//b", "%2e%2e", "x?y", "a#b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		for _, one := range []bool{true, false} {
			esc, err := escapeGitRef("ref", ref, one)
			if err != nil {
				continue
			}
			if strings.ContainsAny(esc, "?#\\ ") || strings.Contains(esc, "..") || strings.Contains("/"+esc+"/", "/./") || strings.Contains(esc, "//") {
				t.Fatalf("escapeGitRef(%q, %v) = %q changes the path's shape", ref, one, esc)
			}
			if one && strings.Contains(esc, "/") {
				t.Fatalf("escapeGitRef(%q, one segment) = %q holds a slash", ref, esc)
			}
		}
	})
}
