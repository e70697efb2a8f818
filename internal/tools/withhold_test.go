package tools

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// denySecret is a policy for the tests: in alice/r, secret and what is
// under it are withheld, whatever the case.
func denySecret(owner, repo, p string) bool {
	p = strings.ToLower(p)
	return owner != "alice" || repo != "r" || (p != "secret" && !strings.HasPrefix(p, "secret/"))
}

func TestEnvPathAllowed(t *testing.T) {
	if e := (&Env{}); !e.PathAllowed("alice", "r", "secret/key.txt") || e.withheld("alice", "r", "secret/key.txt") != "" || e.pathsRestricted() {
		t.Error("with no PathAllowed, a path is withheld")
	}
	var asked []string
	e := &Env{opts: Options{PathAllowed: func(owner, repo, p string) bool {
		asked = append(asked, owner+"/"+repo+":"+p)
		return denySecret(owner, repo, p)
	}}}
	if e.PathAllowed("alice", "r", "secret/key.txt") || !e.PathAllowed("alice", "r", "docs/a.md") || !e.PathAllowed("bob", "r", "secret/key.txt") {
		t.Error("PathAllowed does not answer as the policy does")
	}
	if e.withheld("alice", "r", "Secret") != withheldMark || e.withheld("alice", "r", "docs") != "" {
		t.Error("withheld does not mark what the policy withholds")
	}
	if want := []string{"alice/r:secret/key.txt", "alice/r:docs/a.md", "bob/r:secret/key.txt", "alice/r:Secret", "alice/r:docs"}; !slices.Equal(asked, want) {
		t.Errorf("the policy was asked %v, want %v", asked, want)
	}
}

// policyDiff has a preamble, an allowed file, a withheld one, renames out
// of and into the withheld directory, a quoted withheld name, a binary
// withheld file, and hunk lines that look like headers.
const policyDiff = `commit 0123
Author: a

diff --git a/docs/a.md b/docs/a.md
--- a/docs/a.md
+++ b/docs/a.md
@@ -1 +1,3 @@
-old
+new
+--- a/secret/not-a-header
++++ b/secret/nor-this
diff --git a/secret/key.txt b/secret/key.txt
--- a/secret/key.txt
+++ b/secret/key.txt
@@ -1 +1 @@
-hunter2
+hunter3
diff --git a/secret/old.txt b/public/new.txt
similarity index 90%
rename from secret/old.txt
rename to public/new.txt
@@ -1 +1 @@
-classified
+declassified
diff --git a/public/x.txt b/SECRET/x.txt
similarity index 100%
rename from public/x.txt
rename to SECRET/x.txt
diff --git "a/secret/caf\303\251.txt" "b/secret/caf\303\251.txt"
new file mode 100644
--- /dev/null
+++ "b/secret/caf\303\251.txt"
@@ -0,0 +1 @@
+espresso
diff --git a/secret/logo.png b/secret/logo.png
new file mode 100644
Binary files /dev/null and b/secret/logo.png differ
diff --git a/README.md b/README.md
--- a/README.md
+++ b/README.md
@@ -1 +1 @@
-a
+b
`

func TestDiffSections(t *testing.T) {
	preamble, sections := diffSections(policyDiff)
	if preamble != "commit 0123\nAuthor: a\n\n" || len(sections) != 7 {
		t.Fatalf("diffSections = %q and %d sections, want the commit header and 7", preamble, len(sections))
	}
	if preamble+strings.Join(sections, "") != policyDiff {
		t.Error("the preamble and sections do not join back into the diff")
	}
	for _, s := range sections {
		if !strings.HasPrefix(s, "diff --git ") || strings.Count(s, "\ndiff --git ") != 0 {
			t.Errorf("section %q is not one file's", s)
		}
	}
	if p, s := diffSections("no files here\n"); p != "no files here\n" || s != nil {
		t.Errorf("a diff of no files = %q, %q", p, s)
	}
	if _, s := diffSections("diff --cc merged.go\n@@@ -1 -1 +1 @@@\ndiff --git a/x b/x"); len(s) != 2 || s[1] != "diff --git a/x b/x" {
		t.Errorf("a combined section and a cut header = %q", s)
	}
}

func TestDiffSectionPaths(t *testing.T) {
	_, sections := diffSections(policyDiff)
	want := [][]string{
		{"docs/a.md"},
		{"secret/key.txt"},
		{"secret/old.txt", "public/new.txt"},
		{"public/x.txt", "SECRET/x.txt"},
		{"secret/café.txt"},
		{"secret/logo.png"},
		{"README.md"},
	}
	for i, s := range sections {
		if got := diffSectionPaths(s); !slices.Equal(got, want[i]) {
			t.Errorf("diffSectionPaths(section %d) = %q, want %q", i, got, want[i])
		}
	}
	// An ambiguous header is read every way it can be.
	got := diffSectionPaths("diff --git a/x b/y b/z\nold mode 100644\nnew mode 100755\n")
	if want := []string{"x", "y b/z", "x b/y", "z"}; !slices.Equal(got, want) {
		t.Errorf("an ambiguous header's paths = %q, want %q", got, want)
	}
	if got := diffSectionPaths("diff --cc \"secret/m\\303\\251rge.go\"\n"); !slices.Equal(got, []string{"secret/mérge.go"}) {
		t.Errorf("a combined diff's paths = %q", got)
	}
}

func TestWithholdDiff(t *testing.T) {
	e := &Env{opts: Options{PathAllowed: denySecret}}
	kept, withheld := e.withholdDiff("alice", "r", policyDiff)
	if want := []string{"secret/key.txt", "public/new.txt", "SECRET/x.txt", "secret/café.txt", "secret/logo.png"}; !slices.Equal(withheld, want) {
		t.Errorf("withheld = %q, want %q", withheld, want)
	}
	for _, leak := range []string{"hunter", "classified", "espresso", "secret/key.txt", "logo.png", "public/x.txt"} {
		if strings.Contains(kept, leak) {
			t.Errorf("the diff left holds %q:\n%s", leak, kept)
		}
	}
	if !strings.HasPrefix(kept, "commit 0123\n") || !strings.Contains(kept, "+new\n") || !strings.HasSuffix(kept, "+b\n") {
		t.Errorf("the diff left lost allowed parts:\n%s", kept)
	}
	if files := parseGitDiffFiles(kept, false); len(files) != 2 || files[0].Path != "docs/a.md" || files[1].Path != "README.md" {
		t.Errorf("the diff left lists %v, want docs/a.md and README.md", files)
	}

	// Another repository, or no policy: nothing withheld.
	if kept, withheld := e.withholdDiff("bob", "r", policyDiff); kept != policyDiff || withheld != nil {
		t.Errorf("in another repository withholdDiff = %q, %q", kept, withheld)
	}
	if kept, withheld := (&Env{}).withholdDiff("alice", "r", policyDiff); kept != policyDiff || withheld != nil {
		t.Errorf("with no policy withholdDiff = %q, %q", kept, withheld)
	}

	// A diff cut inside a withheld file's hunk shows none of it.
	cut := policyDiff[:strings.Index(policyDiff, "+hunter3")+4]
	if kept, withheld := e.withholdDiff("alice", "r", cut); strings.Contains(kept, "hunt") || !slices.Equal(withheld, []string{"secret/key.txt"}) {
		t.Errorf("a cut diff = %q, withheld %q", kept, withheld)
	}
}

func TestMaybeObjectID(t *testing.T) {
	for ref, want := range map[string]bool{
		"main": false, "v1.0": false, "abc": false, "abcd": true, "DEADBEEF": true,
		strings.Repeat("a", 40): true, strings.Repeat("0", 64): true, strings.Repeat("a", 65): false, "feature/abcd": false,
	} {
		if got := maybeObjectID(ref); got != want {
			t.Errorf("maybeObjectID(%q) = %v, want %v", ref, got, want)
		}
	}
}

// The tools that withhold a path named by their arguments, the server not
// having refused the call, do so before asking Gitea: these run with no
// client at all.
func TestToolsWithholdNamedPaths(t *testing.T) {
	opts := Options{PathAllowed: denySecret}
	res, err := callTool(t, getPullRequestDiff.Tool(), json.RawMessage(`{"owner":"alice","repo":"r","number":1,"file":"secret/key.txt"}`), opts)
	if err != nil || res.IsError {
		t.Fatalf("get_pull_request_diff of a withheld file = %v, %v", res, err)
	}
	var diff pullDiffOut
	if err := json.Unmarshal(res.StructuredContent.(json.RawMessage), &diff); err != nil || diff.Diff != "" || !slices.Equal(diff.Withheld, []string{"secret/key.txt"}) {
		t.Errorf("get_pull_request_diff of a withheld file = %s", res.StructuredContent)
	}

	res, err = callTool(t, fetch.Tool(), json.RawMessage(`{"id":"file/alice/r/SECRET/key.txt"}`), opts)
	if err != nil || res.IsError || !strings.Contains(textOf(res), `"withheld":"policy"`) {
		t.Errorf("fetch of a withheld file = %v, %v", res, err)
	}

	res, err = callTool(t, getFileContents.Tool(), json.RawMessage(`{"owner":"alice","repo":"r","path":"secret/key.txt"}`), opts)
	if err != nil || !res.IsError || !strings.Contains(textOf(res), "withheld by this server's policy") {
		t.Errorf("get_file_contents of a withheld file = %v, %v", res, err)
	}
}

// pathFields are the JSON names of output fields that hold a repository
// path Gitea chose.
var pathFields = []string{"path", "filename", "previous_filename", "file"}

// withholdExempt are the read tools whose outputs hold a path field with no
// withheld marker beside it, and why that is safe.
var withholdExempt = map[string]string{
	"get_file_contents": "its path is the argument, which the server checks; the tool refuses a withheld one too",
	"get_workflow_run":  "its path names the run's workflow file and shows none of the file",
}

// TestEveryReadToolWithholdsPaths: every read tool returning repository
// paths has a withheld field beside them (on the entry or on the result
// listing the entries), so a new tool cannot return paths without
// deciding how the policy withholds them.
func TestEveryReadToolWithholdsPaths(t *testing.T) {
	for _, tool := range Default().Tools() {
		if tool.Access != Read {
			continue
		}
		missing := unmarkedPathFields(tool.output, false)
		if _, exempt := withholdExempt[tool.Name]; exempt {
			if len(missing) == 0 {
				t.Errorf("tool %s is exempt from withholding but returns no unmarked path: drop the exemption", tool.Name)
			}
			continue
		}
		if len(missing) > 0 {
			t.Errorf("tool %s returns paths (%v) with no withheld field: withhold them with Env.PathAllowed", tool.Name, missing)
		}
	}
}

// unmarkedPathFields lists the path fields of the structs in t that have
// no withheld field, neither themselves nor in a struct holding them
// (marked says an enclosing struct has one).
func unmarkedPathFields(t reflect.Type, marked bool) []string {
	var missing []string
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, bool, int)
	walk = func(t reflect.Type, marked bool, depth int) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || depth > 6 || seen[t] {
			return
		}
		seen[t] = true
		fields := reflect.VisibleFields(t)
		for _, f := range fields {
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name == "withheld" && f.IsExported() {
				marked = true
			}
		}
		for _, f := range fields {
			if f.Anonymous || !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if slices.Contains(pathFields, name) && f.Type.Kind() == reflect.String && !marked {
				missing = append(missing, t.Name()+"."+name)
			}
			walk(f.Type, marked, depth+1)
		}
	}
	walk(t, marked, 0)
	return missing
}
