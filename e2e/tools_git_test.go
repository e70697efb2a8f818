package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/textsafe"
)

// gitTools are the branch, tag, commit and file tools, all needing read:repository.
var gitTools = []string{"list_branches", "get_branch", "list_tags", "get_tag", "list_commits", "get_commit", "compare_refs",
	"get_commit_status", "get_file_contents", "list_directory", "get_tree", "get_blob", "search_code"}

const gitScope = "read:repository"

func aliceNotes(args ...any) map[string]any {
	m := map[string]any{"owner": testgitea.AliceName, "repo": testgitea.AliceRepo}
	for i := 0; i+1 < len(args); i += 2 {
		m[args[i].(string)] = args[i+1]
	}
	return m
}

func TestGitBranchesAndTags(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, gitScope)
	alice := a.token(t, g, testgitea.AliceName, gitScope).AccessToken
	bob := a.token(t, g, testgitea.BobName, gitScope).AccessToken

	var branches struct {
		Branches []struct {
			Name      string `json:"name"`
			SHA       string `json:"sha"`
			Protected bool   `json:"protected"`
			CanPush   bool   `json:"can_push"`
		} `json:"branches"`
		NextPage int `json:"next_page"`
		Total    int `json:"total"`
	}
	mustDecode(t, a, alice, "list_branches", aliceNotes(), &branches)
	byName := map[string]bool{}
	for _, b := range branches.Branches {
		byName[b.Name] = b.Protected
		if b.SHA == "" {
			t.Errorf("branch %s has no head SHA", b.Name)
		}
		if b.Name == testgitea.DevelopBranch && b.CanPush {
			t.Error("alice may push to the protected develop branch, want can_push false")
		}
	}
	if p, ok := byName[testgitea.DevelopBranch]; !ok || !p || byName["main"] || !slices.Contains(gitKeys(byName), testgitea.PullBranch) {
		t.Errorf("list_branches = %+v, want main, %s and a protected %s", branches, testgitea.PullBranch, testgitea.DevelopBranch)
	}
	mustDecode(t, a, alice, "list_branches", aliceNotes("limit", 1), &branches)
	if len(branches.Branches) != 1 || branches.NextPage != 2 || branches.Total < 3 {
		t.Errorf("list_branches limit 1 = %+v, want one branch, next page 2, total >= 3", branches)
	}

	var branch struct {
		Name string `json:"name"`
		Head struct {
			SHA     string `json:"sha"`
			Message string `json:"message"`
			Author  string `json:"author"`
		} `json:"head"`
		Protected  bool `json:"protected"`
		Protection struct {
			Rule              string   `json:"rule"`
			RequiredApprovals int      `json:"required_approvals"`
			StatusChecks      []string `json:"required_status_checks"`
		} `json:"protection"`
		CanPush  bool `json:"can_push"`
		CanMerge bool `json:"can_merge"`
	}
	res := mustDecode(t, a, alice, "get_branch", aliceNotes("branch", testgitea.DevelopBranch), &branch)
	if !branch.Protected || branch.Protection.Rule != testgitea.DevelopBranch || branch.Protection.RequiredApprovals != testgitea.DevelopRequiredApprovals ||
		!slices.Equal(branch.Protection.StatusChecks, []string{testgitea.StatusBuild}) || branch.CanPush ||
		branch.Head.Message != testgitea.RoadmapCommitTitle || branch.Head.Author != testgitea.AliceName || len(branch.Head.SHA) != 40 {
		t.Errorf("get_branch develop = %s", res.Body)
	}
	if !strings.HasPrefix(res.Text, "[untrusted content]") {
		t.Errorf("get_branch text is not marked untrusted: %.80s", res.Text)
	}
	mustDecode(t, a, alice, "get_branch", aliceNotes("branch", testgitea.PullBranch), &branch)
	if branch.Name != testgitea.PullBranch || branch.Protected || !branch.CanPush || branch.Head.Message != "Add greeting.txt" {
		t.Errorf("get_branch %s = %+v", testgitea.PullBranch, branch)
	}
	mustRefuse(t, a, alice, "get_branch", aliceNotes("branch", "no-such-branch"), "not found")
	mustRefuse(t, a, alice, "get_branch", aliceNotes("branch", "a/../../b"), "invalid argument: branch")
	mustRefuse(t, a, bob, "list_branches", aliceNotes(), "not found")

	var tags struct {
		Tags []struct {
			Name      string `json:"name"`
			SHA       string `json:"sha"`
			Annotated bool   `json:"annotated"`
			Summary   string `json:"summary"`
		} `json:"tags"`
	}
	mustDecode(t, a, alice, "list_tags", aliceNotes(), &tags)
	got := map[string]bool{}
	for _, tag := range tags.Tags {
		got[tag.Name] = tag.Annotated
		if tag.Name == testgitea.TagAnnotated && tag.Summary != testgitea.TagAnnotatedMessage {
			t.Errorf("tag %s summary = %q", tag.Name, tag.Summary)
		}
	}
	if ann, ok := got[testgitea.TagAnnotated]; !ok || !ann || got[testgitea.TagLight] {
		t.Errorf("list_tags = %+v, want annotated %s and lightweight %s", tags, testgitea.TagAnnotated, testgitea.TagLight)
	}

	var tag struct {
		Name      string `json:"name"`
		SHA       string `json:"sha"`
		TagSHA    string `json:"tag_object_sha"`
		Annotated bool   `json:"annotated"`
		Message   string `json:"message"`
	}
	mustDecode(t, a, alice, "get_tag", aliceNotes("tag", testgitea.TagAnnotated), &tag)
	if !tag.Annotated || tag.Message != testgitea.TagAnnotatedMessage || len(tag.SHA) != 40 || len(tag.TagSHA) != 40 || tag.SHA == tag.TagSHA {
		t.Errorf("get_tag %s = %+v", testgitea.TagAnnotated, tag)
	}
	var commit struct {
		Message string `json:"message"`
	}
	mustDecode(t, a, alice, "get_commit", aliceNotes("ref", tag.SHA), &commit)
	if !strings.HasPrefix(commit.Message, testgitea.ProjectCommitTitle) {
		t.Errorf("the annotated tag points at %q, want the project commit", commit.Message)
	}
	mustDecode(t, a, alice, "get_tag", aliceNotes("tag", testgitea.TagLight), &tag)
	if tag.Annotated || tag.TagSHA != "" || !strings.HasPrefix(tag.Message, testgitea.SetupCommitTitle) {
		t.Errorf("get_tag %s = %+v, want a lightweight tag on the setup commit", testgitea.TagLight, tag)
	}
	mustRefuse(t, a, alice, "get_tag", aliceNotes("tag", "v9.9.9"), "not found")
	mustRefuse(t, a, bob, "get_tag", aliceNotes("tag", testgitea.TagAnnotated), "not found")
}

func gitKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

type gitCommitItem struct {
	SHA     string `json:"sha"`
	Message string `json:"message"`
	Author  string `json:"author"`
	Login   string `json:"author_login"`
	Date    string `json:"date"`
}

type gitFile struct {
	Path      string `json:"path"`
	Status    string `json:"status"`
	Additions *int   `json:"additions"`
	Deletions *int   `json:"deletions"`
}

func (f gitFile) String() string {
	if f.Additions == nil || f.Deletions == nil {
		return f.Path + " " + f.Status
	}
	return fmt.Sprintf("%s %s +%d -%d", f.Path, f.Status, *f.Additions, *f.Deletions)
}

func TestGitCommits(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, gitScope)
	alice := a.token(t, g, testgitea.AliceName, gitScope).AccessToken
	bob := a.token(t, g, testgitea.BobName, gitScope).AccessToken

	var list struct {
		Commits  []gitCommitItem `json:"commits"`
		NextPage int             `json:"next_page"`
		Total    int             `json:"total"`
	}
	mustDecode(t, a, alice, "list_commits", aliceNotes("ref", testgitea.TagLight, "limit", 2), &list)
	if len(list.Commits) != 2 || list.Commits[0].Message != testgitea.SetupCommitTitle || list.Commits[1].Message != testgitea.ProjectCommitTitle ||
		list.Commits[0].Login != testgitea.AliceName || list.Commits[0].Date == "" || list.NextPage != 2 || list.Total < 4 {
		t.Errorf("list_commits at %s = %+v", testgitea.TagLight, list)
	}
	setupSHA := list.Commits[0].SHA
	mustDecode(t, a, alice, "list_commits", aliceNotes("ref", testgitea.TagLight, "path", testgitea.SetupFile), &list)
	if len(list.Commits) != 2 || list.Commits[0].SHA != setupSHA || list.NextPage != 0 {
		t.Errorf("list_commits of %s = %+v, want its two commits", testgitea.SetupFile, list)
	}
	mustDecode(t, a, alice, "list_commits", aliceNotes("ref", testgitea.PullBranch, "until", "2001-01-01T00:00:00Z"), &list)
	if len(list.Commits) != 0 {
		t.Errorf("list_commits until 2001 = %+v, want none", list)
	}
	mustDecode(t, a, alice, "list_commits", aliceNotes("ref", testgitea.PullBranch, "since", "2001-01-01T00:00:00+02:00"), &list)
	if len(list.Commits) == 0 || list.Commits[0].Message != "Add greeting.txt" {
		t.Errorf("list_commits since 2001 = %+v", list)
	}
	mustRefuse(t, a, alice, "list_commits", aliceNotes("since", "yesterday"), "invalid argument since")
	mustRefuse(t, a, alice, "list_commits", aliceNotes("ref", "no-such-ref"), "not found")
	mustRefuse(t, a, bob, "list_commits", aliceNotes(), "not found")

	type commitOut struct {
		SHA       string                                    `json:"sha"`
		Message   string                                    `json:"message"`
		Author    string                                    `json:"author"`
		Parents   []string                                  `json:"parents"`
		Stats     struct{ Additions, Deletions, Files int } `json:"stats"`
		Files     []gitFile                                 `json:"files"`
		Patch     string                                    `json:"patch"`
		Truncated bool                                      `json:"patch_truncated"`
		Note      string                                    `json:"note"`
	}
	var c commitOut
	res := mustDecode(t, a, alice, "get_commit", aliceNotes("ref", testgitea.TagLight), &c)
	if c.SHA != setupSHA || c.Message != testgitea.SetupCommitTitle+"\n\nAdds install steps." || len(c.Parents) != 1 ||
		c.Stats != (struct{ Additions, Deletions, Files int }{5, 1, 1}) || fmt.Sprint(c.Files) != "[docs/setup.md modified +5 -1]" || c.Patch != "" {
		t.Errorf("get_commit %s = %s", testgitea.TagLight, res.Body)
	}
	mustDecode(t, a, alice, "get_commit", aliceNotes("ref", setupSHA, "include_patch", true), &c)
	if !strings.Contains(c.Patch, "+    make install\n") || !strings.Contains(c.Patch, "-To be written.") || c.Truncated {
		t.Errorf("get_commit patch = %q", c.Patch)
	}
	mustDecode(t, a, alice, "get_commit", aliceNotes("ref", testgitea.TagAnnotated, "include_patch", true), &c)
	files := fmt.Sprint(c.Files)
	for _, want := range []string{testgitea.LinesFile + " added +120 -0", testgitea.BinaryFile + " added +0 -0", testgitea.ConfigFile + " added +2 -0"} {
		if !strings.Contains(files, want) {
			t.Errorf("get_commit %s files = %s, want %q", testgitea.TagAnnotated, files, want)
		}
	}
	if len(c.Files) != 7 || strings.Contains(c.Patch, testgitea.NeedleSecret) || !strings.Contains(c.Patch, textsafe.Masked) || !strings.Contains(c.Note, "masked") {
		t.Errorf("get_commit %s: %d files, note %q; the patch must mask the committed secret", testgitea.TagAnnotated, len(c.Files), c.Note)
	}
	mustDecode(t, a, alice, "get_commit", aliceNotes("ref", testgitea.PullBranch), &c)
	if c.Message != "Add greeting.txt" || fmt.Sprint(c.Files) != "[greeting.txt added +1 -0]" {
		t.Errorf("get_commit %s = %+v", testgitea.PullBranch, c)
	}
	mustRefuse(t, a, alice, "get_commit", aliceNotes("ref", strings.Repeat("0", 40)), "not found")
	mustRefuse(t, a, alice, "get_commit", aliceNotes("ref", "a..b"), "invalid argument")

	var cmp struct {
		TotalCommits int             `json:"total_commits"`
		Commits      []gitCommitItem `json:"commits"`
		Files        []gitFile       `json:"files"`
		Patch        string          `json:"patch"`
	}
	mustDecode(t, a, alice, "compare_refs", aliceNotes("base", testgitea.TagAnnotated, "head", testgitea.DevelopBranch), &cmp)
	if cmp.TotalCommits != 2 || len(cmp.Commits) != 2 || cmp.Commits[0].Message != testgitea.RoadmapCommitTitle ||
		cmp.Commits[1].Message != testgitea.SetupCommitTitle ||
		fmt.Sprint(cmp.Files) != "[docs/roadmap.md added +3 -0 docs/setup.md modified +5 -1]" || cmp.Patch != "" {
		t.Errorf("compare_refs %s...%s = %+v", testgitea.TagAnnotated, testgitea.DevelopBranch, cmp)
	}
	mustDecode(t, a, alice, "compare_refs", aliceNotes("base", "main", "head", testgitea.PullBranch, "include_patch", true), &cmp)
	if cmp.TotalCommits != 1 || fmt.Sprint(cmp.Files) != "[greeting.txt added +1 -0]" || !strings.Contains(cmp.Patch, "+Hello from the feature branch.") {
		t.Errorf("compare_refs main...%s = %+v", testgitea.PullBranch, cmp)
	}
	mustRefuse(t, a, alice, "compare_refs", aliceNotes("base", "main", "head", "no-such-branch"), "not found")
	mustRefuse(t, a, bob, "compare_refs", aliceNotes("base", "main", "head", testgitea.DevelopBranch), "not found")

	var status struct {
		SHA      string `json:"sha"`
		State    string `json:"state"`
		Total    int    `json:"total"`
		Statuses []struct {
			Context     string `json:"context"`
			State       string `json:"state"`
			Description string `json:"description"`
			TargetURL   string `json:"target_url"`
			Creator     string `json:"creator"`
		} `json:"statuses"`
	}
	mustDecode(t, a, alice, "get_commit_status", aliceNotes("ref", testgitea.TagLight), &status)
	build := slices.IndexFunc(status.Statuses, func(s struct {
		Context     string `json:"context"`
		State       string `json:"state"`
		Description string `json:"description"`
		TargetURL   string `json:"target_url"`
		Creator     string `json:"creator"`
	}) bool {
		return s.Context == testgitea.StatusBuild
	})
	if status.SHA != setupSHA || status.State != "pending" || status.Total != 2 || len(status.Statuses) != 2 || build < 0 ||
		status.Statuses[build].State != "success" || status.Statuses[build].Description != testgitea.StatusBuildDescription ||
		status.Statuses[build].Creator != testgitea.AliceName || status.Statuses[build].TargetURL == "" {
		t.Errorf("get_commit_status %s = %+v", testgitea.TagLight, status)
	}
	mustDecode(t, a, alice, "get_commit_status", aliceNotes("ref", testgitea.PullBranch), &status)
	if status.State != "none" || len(status.Statuses) != 0 || status.Total != 0 {
		t.Errorf("get_commit_status %s = %+v, want none", testgitea.PullBranch, status)
	}
	mustRefuse(t, a, alice, "get_commit_status", aliceNotes("ref", "no-such-ref"), "not found")
	mustRefuse(t, a, bob, "get_commit_status", aliceNotes("ref", testgitea.TagLight), "not found")
}

type gitFileOut struct {
	Path       string `json:"path"`
	Content    string `json:"content"`
	Truncated  bool   `json:"truncated"`
	Binary     bool   `json:"binary"`
	TotalLines int    `json:"total_lines"`
	StartLine  int    `json:"start_line"`
	EndLine    int    `json:"end_line"`
	Note       string `json:"note"`
}

func gitLines(from, to int) string {
	var b strings.Builder
	for n := from; n <= to; n++ {
		b.WriteString(testgitea.LinesLine(n) + "\n")
	}
	return b.String()
}

func TestGitFileContentsByLines(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, gitScope)
	alice := a.token(t, g, testgitea.AliceName, gitScope).AccessToken

	var f gitFileOut
	mustDecode(t, a, alice, "get_file_contents", aliceNotes("path", testgitea.LinesFile), &f)
	if f.Content != gitLines(1, testgitea.LinesCount) || f.TotalLines != testgitea.LinesCount || f.StartLine != 1 || f.EndLine != testgitea.LinesCount || f.Truncated {
		t.Errorf("get_file_contents %s: lines %d-%d of %d, truncated %v", testgitea.LinesFile, f.StartLine, f.EndLine, f.TotalLines, f.Truncated)
	}
	mustDecode(t, a, alice, "get_file_contents", aliceNotes("path", testgitea.LinesFile, "start_line", 10, "end_line", 12), &f)
	if f.Content != gitLines(10, 12) || f.StartLine != 10 || f.EndLine != 12 || f.TotalLines != testgitea.LinesCount {
		t.Errorf("lines 10-12 = %+v", f)
	}
	mustDecode(t, a, alice, "get_file_contents", aliceNotes("path", testgitea.LinesFile, "start_line", 118, "end_line", 500), &f)
	if f.Content != gitLines(118, 120) || f.EndLine != 120 {
		t.Errorf("lines 118-500 = %+v", f)
	}
	mustDecode(t, a, alice, "get_file_contents", aliceNotes("path", testgitea.ConfigFile), &f)
	if strings.Contains(f.Content, testgitea.NeedleSecret) || !strings.Contains(f.Content, "deploy_token = "+textsafe.Masked) || !strings.Contains(f.Note, "masked") {
		t.Errorf("get_file_contents %s = %+v, want the token masked", testgitea.ConfigFile, f)
	}
	mustDecode(t, a, alice, "get_file_contents", aliceNotes("path", testgitea.BinaryFile), &f)
	if !f.Binary || f.Content != "" || f.TotalLines != 0 {
		t.Errorf("get_file_contents %s = %+v, want a described binary", testgitea.BinaryFile, f)
	}
	mustDecode(t, a, alice, "get_file_contents", aliceNotes("path", testgitea.RoadmapFile, "ref", testgitea.DevelopBranch), &f)
	if f.Content != "# Roadmap\n\n- search\n" || f.TotalLines != 3 {
		t.Errorf("get_file_contents %s on %s = %+v", testgitea.RoadmapFile, testgitea.DevelopBranch, f)
	}
	mustRefuse(t, a, alice, "get_file_contents", aliceNotes("path", testgitea.LinesFile, "start_line", 121), "start_line")
	mustRefuse(t, a, alice, "get_file_contents", aliceNotes("path", testgitea.LinesFile, "start_line", 5, "end_line", 4), "end_line")
	if res := a.toolCall(t, alice, "get_file_contents", aliceNotes("path", testgitea.LinesFile, "start_line", 0)); res.Status != 400 || !strings.Contains(res.Body, "start_line") {
		t.Errorf("start_line 0 = %d %s, want 400 naming start_line", res.Status, res.Body)
	}

	// A small output budget: the file comes in parts, each saying where to go on.
	small := startAegisFor(t, g, gitScope, "MAX_TOOL_OUTPUT_BYTES=4096")
	tok := small.token(t, g, testgitea.AliceName, gitScope).AccessToken
	var all strings.Builder
	next, calls := 1, 0
	for next <= testgitea.LinesCount && calls < 10 {
		mustDecode(t, small, tok, "get_file_contents", aliceNotes("path", testgitea.LinesFile, "start_line", next), &f)
		calls++
		if f.StartLine != next || f.EndLine < next || (f.EndLine < testgitea.LinesCount) != f.Truncated {
			t.Fatalf("part from %d = lines %d-%d, truncated %v, note %q", next, f.StartLine, f.EndLine, f.Truncated, f.Note)
		}
		if f.Truncated && !strings.Contains(f.Note, fmt.Sprintf("start_line=%d", f.EndLine+1)) {
			t.Errorf("part note %q does not say where to continue", f.Note)
		}
		all.WriteString(f.Content)
		next = f.EndLine + 1
	}
	if all.String() != gitLines(1, testgitea.LinesCount) || calls < 2 {
		t.Errorf("reading %s in %d parts under a 4 KiB budget did not give the whole file", testgitea.LinesFile, calls)
	}

	// Secrets set to block: the file is withheld, whatever the range.
	block := startAegisFor(t, g, gitScope, "SECRET_MASKING=block")
	btok := block.token(t, g, testgitea.AliceName, gitScope).AccessToken
	mustRefuse(t, block, btok, "get_file_contents", aliceNotes("path", testgitea.ConfigFile, "start_line", 1, "end_line", 1), "secret")
}

type gitTreeEntry struct {
	Path string `json:"path"`
	Type string `json:"type"`
	Size int64  `json:"size"`
	SHA  string `json:"sha"`
}

func TestGitTreeAndBlobs(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, gitScope)
	alice := a.token(t, g, testgitea.AliceName, gitScope).AccessToken
	bob := a.token(t, g, testgitea.BobName, gitScope).AccessToken

	var dir struct {
		Entries []struct {
			Name string `json:"name"`
			Path string `json:"path"`
			Type string `json:"type"`
			Size int64  `json:"size"`
		} `json:"entries"`
	}
	mustDecode(t, a, alice, "list_directory", aliceNotes("path", "docs", "ref", testgitea.TagLight), &dir)
	var listed []string
	for _, e := range dir.Entries {
		listed = append(listed, fmt.Sprintf("%s %s %s %v", e.Name, e.Path, e.Type, e.Size > 0))
	}
	if want := "[faq.md docs/faq.md file true guide.md docs/guide.md file true setup.md docs/setup.md file true]"; fmt.Sprint(listed) != want {
		t.Errorf("list_directory docs = %v, want %s", listed, want)
	}
	mustDecode(t, a, alice, "list_directory", aliceNotes("ref", testgitea.TagLight), &dir)
	listed = nil
	for _, e := range dir.Entries {
		listed = append(listed, e.Name+":"+e.Type)
	}
	for _, want := range []string{"README.md:file", "assets:dir", "data:dir", "docs:dir", "src:dir"} {
		if !slices.Contains(listed, want) {
			t.Errorf("list_directory root = %v, want %s", listed, want)
		}
	}
	mustRefuse(t, a, alice, "list_directory", aliceNotes("path", "README.md"), "not a directory")
	mustRefuse(t, a, alice, "list_directory", aliceNotes("path", "no/such/dir"), "not found")
	mustRefuse(t, a, bob, "list_directory", aliceNotes(), "not found")

	var tree struct {
		SHA      string         `json:"sha"`
		Entries  []gitTreeEntry `json:"entries"`
		NextPage int            `json:"next_page"`
		Total    int            `json:"total"`
	}
	mustDecode(t, a, alice, "get_tree", aliceNotes("ref", testgitea.TagLight), &tree)
	byPath := map[string]gitTreeEntry{}
	for _, e := range tree.Entries {
		byPath[e.Path] = e
	}
	if e := byPath[testgitea.UtilGoFile]; e.Type != "file" || e.Size == 0 || len(e.SHA) != 40 || byPath["src/util"].Type != "dir" ||
		tree.Total != len(tree.Entries) || tree.NextPage != 0 || len(tree.SHA) != 40 {
		t.Errorf("get_tree at %s = %+v", testgitea.TagLight, tree)
	}
	all := len(tree.Entries)
	mustDecode(t, a, alice, "get_tree", aliceNotes("ref", testgitea.TagLight, "limit", 3, "page", 2), &tree)
	if len(tree.Entries) != 3 || tree.NextPage != 3 || tree.Total != all {
		t.Errorf("get_tree page 2 of 3 = %+v", tree)
	}
	mustDecode(t, a, alice, "get_tree", aliceNotes("ref", testgitea.TagLight, "path", "src"), &tree)
	if got := gitTreePaths(tree.Entries); got != "[src/main.go src/util src/util/strings.go]" {
		t.Errorf("get_tree src = %s", got)
	}
	mustDecode(t, a, alice, "get_tree", aliceNotes("path", "src/", "recursive", false), &tree)
	if got := gitTreePaths(tree.Entries); got != "[src/main.go src/util]" {
		t.Errorf("get_tree src, not recursive = %s", got)
	}
	mustDecode(t, a, alice, "get_tree", aliceNotes("ref", testgitea.PullBranch), &tree)
	if got := gitTreePaths(tree.Entries); !strings.Contains(got, "greeting.txt") || strings.Contains(got, "src/") {
		t.Errorf("get_tree %s = %s", testgitea.PullBranch, got)
	}
	mustRefuse(t, a, alice, "get_tree", aliceNotes("path", "README.md"), "not a directory")
	mustRefuse(t, a, alice, "get_tree", aliceNotes("ref", "no-such-ref"), "not found")
	mustRefuse(t, a, bob, "get_tree", aliceNotes(), "not found")

	mustDecode(t, a, alice, "get_tree", aliceNotes("ref", testgitea.TagLight), &tree)
	for _, e := range tree.Entries {
		byPath[e.Path] = e
	}
	var blob struct {
		SHA     string `json:"sha"`
		Size    int64  `json:"size"`
		Binary  bool   `json:"binary"`
		Content string `json:"content"`
		Note    string `json:"note"`
	}
	cfg := byPath[testgitea.ConfigFile]
	res := mustDecode(t, a, alice, "get_blob", aliceNotes("sha", cfg.SHA), &blob)
	if blob.SHA != cfg.SHA || blob.Size != cfg.Size || strings.Contains(res.Body, testgitea.NeedleSecret) ||
		blob.Content != "region = eu-west\ndeploy_token = "+textsafe.Masked+"\n" || !strings.Contains(blob.Note, "masked") {
		t.Errorf("get_blob %s = %s", testgitea.ConfigFile, res.Body)
	}
	mustDecode(t, a, alice, "get_blob", aliceNotes("sha", byPath[testgitea.BinaryFile].SHA), &blob)
	if !blob.Binary || blob.Content != "" || blob.Size != int64(len(testgitea.BinaryContent)) {
		t.Errorf("get_blob %s = %+v, want a described binary", testgitea.BinaryFile, blob)
	}
	mustRefuse(t, a, alice, "get_blob", aliceNotes("sha", strings.Repeat("0", 40)), "not found")
	mustRefuse(t, a, alice, "get_blob", aliceNotes("sha", "abc"), "invalid argument")
	mustRefuse(t, a, bob, "get_blob", aliceNotes("sha", cfg.SHA), "not found")
}

func gitTreePaths(entries []gitTreeEntry) string {
	var paths []string
	for _, e := range entries {
		paths = append(paths, e.Path)
	}
	return fmt.Sprint(paths)
}

type gitSearchOut struct {
	Matches []struct {
		Path string `json:"path"`
		Line int    `json:"line"`
		Text string `json:"text"`
	} `json:"matches"`
	FilesScanned    int    `json:"files_scanned"`
	FilesSkipped    int    `json:"files_skipped"`
	FilesNotScanned int    `json:"files_not_scanned"`
	Note            string `json:"note"`
}

func (s gitSearchOut) found() string {
	var out []string
	for _, m := range s.Matches {
		out = append(out, fmt.Sprintf("%s:%d", m.Path, m.Line))
	}
	return strings.Join(out, " ")
}

func TestGitSearchCode(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, gitScope)
	alice := a.token(t, g, testgitea.AliceName, gitScope).AccessToken
	bob := a.token(t, g, testgitea.BobName, gitScope).AccessToken

	var s gitSearchOut
	res := mustDecode(t, a, alice, "search_code", aliceNotes("query", testgitea.SearchNeedle, "ref", testgitea.TagLight), &s)
	if got, want := s.found(), testgitea.ConfigFile+":2 "+testgitea.FAQFile+":3 "+testgitea.MainGoFile+":6"; got != want {
		t.Errorf("search_code matches = %s, want %s", got, want)
	}
	// README, three docs, two sources, two data files; the binary is skipped by its name.
	if s.FilesScanned != 8 || s.FilesSkipped != 1 || s.FilesNotScanned != 0 || !strings.Contains(s.Note, "not an index") {
		t.Errorf("search_code counts: scanned %d, skipped %d, not scanned %d, note %q", s.FilesScanned, s.FilesSkipped, s.FilesNotScanned, s.Note)
	}
	if strings.Contains(res.Body, testgitea.NeedleSecret) || !strings.Contains(res.Body, textsafe.Masked) {
		t.Errorf("search_code showed the committed secret: %s", res.Body)
	}
	for _, m := range s.Matches {
		if m.Path == testgitea.MainGoFile && !strings.Contains(m.Text, strings.ToUpper(testgitea.SearchNeedle)) {
			t.Errorf("the case-insensitive match shows %q", m.Text)
		}
	}
	mustDecode(t, a, alice, "search_code", aliceNotes("query", "NEEDLE-7F3A", "path", "src"), &s)
	if s.found() != testgitea.MainGoFile+":6" || s.FilesScanned != 2 {
		t.Errorf("search_code under src = %s, scanned %d", s.found(), s.FilesScanned)
	}
	mustDecode(t, a, alice, "search_code", aliceNotes("query", "Roadmap", "ref", testgitea.DevelopBranch, "path", "docs"), &s)
	if s.found() != testgitea.RoadmapFile+":1" {
		t.Errorf("search_code on %s = %s", testgitea.DevelopBranch, s.found())
	}
	mustDecode(t, a, alice, "search_code", aliceNotes("query", "no such text anywhere"), &s)
	if len(s.Matches) != 0 || s.FilesScanned == 0 {
		t.Errorf("search_code for absent text = %+v", s)
	}
	if res := a.toolCall(t, alice, "search_code", aliceNotes("query", "")); res.Status != 400 || !strings.Contains(res.Body, "query") {
		t.Errorf("search_code with an empty query = %d %s, want 400", res.Status, res.Body)
	}
	mustRefuse(t, a, alice, "search_code", aliceNotes("query", "x", "path", "no/such/dir"), "not found")
	mustRefuse(t, a, bob, "search_code", aliceNotes("query", "x"), "not found")

	// With secrets blocked, a file holding one is withheld from the scan.
	block := startAegisFor(t, g, gitScope, "SECRET_MASKING=block")
	btok := block.token(t, g, testgitea.AliceName, gitScope).AccessToken
	mustDecode(t, block, btok, "search_code", aliceNotes("query", testgitea.SearchNeedle, "ref", testgitea.TagLight), &s)
	if s.found() != testgitea.FAQFile+":3 "+testgitea.MainGoFile+":6" || !strings.Contains(s.Note, "withheld") {
		t.Errorf("search_code with secrets blocked = %s, note %q", s.found(), s.Note)
	}
}

// TestGitToolsNeedReadRepository checks every tool of this area against a
// token without read:repository: refused before Gitea is asked, with the
// scope named.
func TestGitToolsNeedReadRepository(t *testing.T) {
	g := needGitea(t)
	const noRepo = "read:user"
	a := startAegisFor(t, g, noRepo)
	tok := a.token(t, g, testgitea.AliceName, noRepo).AccessToken
	args := aliceNotes("branch", "main", "tag", testgitea.TagLight, "ref", "main", "base", "main", "head", testgitea.DevelopBranch,
		"path", testgitea.GuideFile, "sha", strings.Repeat("a", 40), "query", "x")
	for _, name := range gitTools {
		t.Run(name, func(t *testing.T) {
			res := a.toolCall(t, tok, name, gitToolArgs(name, args))
			if res.Status != 403 || !strings.Contains(res.WWWAuthenticate, `error="insufficient_scope"`) || !strings.Contains(res.WWWAuthenticate, gitScope) {
				t.Errorf("%s without read:repository = %d %q %s", name, res.Status, res.WWWAuthenticate, res.Body)
			}
		})
	}
}

// gitToolArgs picks from args the ones tool name takes.
func gitToolArgs(name string, args map[string]any) map[string]any {
	take := map[string][]string{
		"get_branch": {"branch"}, "get_tag": {"tag"}, "get_commit": {"ref"}, "get_commit_status": {"ref"},
		"compare_refs": {"base", "head"}, "get_file_contents": {"path"}, "get_blob": {"sha"}, "search_code": {"query"},
	}
	out := map[string]any{"owner": args["owner"], "repo": args["repo"]}
	for _, k := range take[name] {
		out[k] = args[k]
	}
	return out
}
