package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// The release, wiki and Actions write tools against the real Gitea. Every
// change is read back as the administrator; every refusal is shown to
// have changed nothing.

// wrelEnv is one test's server, callers and fresh repository of alice's.
type wrelEnv struct {
	g          *testgitea.Gitea
	a          *aegis
	alice, bob string // write-scope tokens; bob cannot see alice's repository
	repo, p    string // the repository's name and API path
}

func wrelSetup(t *testing.T, prefix string) *wrelEnv {
	t.Helper()
	g := needGitea(t)
	a := startWriter(t, g)
	repo := freshRepo(t, g, testgitea.AliceName, prefix)
	return &wrelEnv{g: g, a: a,
		alice: a.token(t, g, testgitea.AliceName, writeScopes).AccessToken,
		bob:   a.token(t, g, testgitea.BobName, writeScopes).AccessToken,
		repo:  repo, p: "/api/v1/repos/" + testgitea.AliceName + "/" + repo}
}

// args are the tool arguments for the test's repository plus kv pairs.
func (e *wrelEnv) args(kv ...any) map[string]any {
	m := map[string]any{"owner": testgitea.AliceName, "repo": e.repo}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// schemaRefused asserts that the pipeline refused the call's arguments
// before the tool ran, naming the argument.
func (e *wrelEnv) schemaRefused(t *testing.T, name string, args map[string]any, field string) {
	t.Helper()
	res := e.a.toolCall(t, e.alice, name, args)
	if res.Status != http.StatusBadRequest || !strings.Contains(res.Body, "invalid_arguments") || !strings.Contains(res.Body, field) {
		t.Errorf("%s(%v) = %d %s, want invalid_arguments naming %s", name, args, res.Status, res.Body, field)
	}
}

func (e *wrelEnv) release(t *testing.T, id int64) gwrRelease {
	t.Helper()
	var r gwrRelease
	if err := e.g.AdminGet(t.Context(), fmt.Sprintf("%s/releases/%d", e.p, id), http.StatusOK, &r); err != nil {
		t.Fatalf("reading release %d: %v", id, err)
	}
	return r
}

func (e *wrelEnv) mainSHA(t *testing.T) string {
	t.Helper()
	var b struct {
		Commit struct {
			ID string `json:"id"`
		} `json:"commit"`
	}
	if err := e.g.AdminGet(t.Context(), e.p+"/branches/main", http.StatusOK, &b); err != nil || b.Commit.ID == "" {
		t.Fatalf("branch main: %+v, %v", b, err)
	}
	return b.Commit.ID
}

func (e *wrelEnv) tagSHA(t *testing.T, tag string) string {
	t.Helper()
	var tg gwrTag
	if err := e.g.AdminGet(t.Context(), e.p+"/tags/"+tag, http.StatusOK, &tg); err != nil {
		t.Errorf("tag %s: %v", tag, err)
	}
	return tg.Commit.SHA
}

// wrelOnlyKeys asserts that a result is compact: these fields at most,
// never Gitea's whole object.
func wrelOnlyKeys(t *testing.T, tool string, res toolResult, keys ...string) {
	t.Helper()
	for k := range res.Structured {
		if !slices.Contains(keys, k) && k != "untrusted_fields" { // the marker, wherever user text is returned
			t.Errorf("%s answered field %q, want only %v: %s", tool, k, keys, res.Text)
		}
	}
}

// wrelReleaseOut is create_release's and update_release's output.
type wrelReleaseOut struct {
	ID         int64  `json:"id"`
	Tag        string `json:"tag"`
	Target     string `json:"target"`
	Draft      bool   `json:"draft"`
	Prerelease bool   `json:"prerelease"`
	URL        string `json:"url"`
}

func TestWriteReleasesReleaseTools(t *testing.T) {
	e := wrelSetup(t, "wrel")
	main := e.mainSHA(t)

	// Create: the notes arrive byte for byte; the new tag is made at target.
	notes := "## Changes\n\n- first\n\tindented  \n\nü ✓ <b>&amp;</b>\n"
	var rel wrelReleaseOut
	res := mustDecode(t, e.a, e.alice, "create_release", e.args("tag", "v1.0.0", "target", "main", "name", "First", "body", notes,
		"prerelease", true), &rel)
	if rel.ID < 1 || rel.Tag != "v1.0.0" || rel.Target != "main" || !rel.Prerelease || rel.Draft ||
		!strings.HasSuffix(rel.URL, "/"+e.repo+"/releases/tag/v1.0.0") {
		t.Errorf("create_release = %+v", rel)
	}
	wrelOnlyKeys(t, "create_release", res, "id", "tag", "target", "draft", "prerelease", "url")
	if got := e.release(t, rel.ID); got.TagName != "v1.0.0" || got.Target != "main" || got.Name != "First" || got.Body != notes ||
		!got.Prerelease || got.Draft || got.Author.Login != testgitea.AliceName {
		t.Errorf("release read back = %+v", got)
	}
	if sha := e.tagSHA(t, "v1.0.0"); sha != main {
		t.Errorf("tag v1.0.0 at %s, want main %s", sha, main)
	}

	// A draft has no tag until update_release publishes it.
	var draft wrelReleaseOut
	mustDecode(t, e.a, e.alice, "create_release", e.args("tag", "v2.0.0", "name", "Second", "draft", true), &draft)
	if !draft.Draft || draft.Tag != "v2.0.0" {
		t.Errorf("create_release(draft) = %+v", draft)
	}
	gwrAbsent(t, e.g, "the draft's tag", e.p+"/tags/v2.0.0")
	var pub wrelReleaseOut
	mustDecode(t, e.a, e.alice, "update_release", e.args("id", draft.ID, "draft", false), &pub)
	if pub.ID != draft.ID || pub.Draft {
		t.Errorf("update_release(publish) = %+v", pub)
	}
	if got := e.release(t, draft.ID); got.Draft || got.Name != "Second" {
		t.Errorf("published draft read back = %+v", got)
	}
	if sha := e.tagSHA(t, "v2.0.0"); sha != main {
		t.Errorf("tag v2.0.0 after publishing at %s, want main %s", sha, main)
	}

	// Update changes what is set and nothing else, and again changes nothing more.
	newNotes := "New notes.\r\n\twith a tab\n"
	for range 2 {
		var up wrelReleaseOut
		mustDecode(t, e.a, e.alice, "update_release", e.args("id", rel.ID, "body", newNotes, "prerelease", false), &up)
		if up.ID != rel.ID || up.Prerelease || up.Tag != "v1.0.0" {
			t.Errorf("update_release = %+v", up)
		}
		if got := e.release(t, rel.ID); got.Body != newNotes || got.Prerelease || got.Name != "First" || got.TagName != "v1.0.0" || got.Draft {
			t.Errorf("updated release read back = %+v", got)
		}
	}

	// A new tag: the release moves to it, the old tag stays.
	var moved wrelReleaseOut
	mustDecode(t, e.a, e.alice, "update_release", e.args("id", rel.ID, "tag", "v1.0.1"), &moved)
	if moved.Tag != "v1.0.1" || e.release(t, rel.ID).TagName != "v1.0.1" {
		t.Errorf("update_release(tag) = %+v", moved)
	}
	for _, tg := range []string{"v1.0.0", "v1.0.1"} {
		if sha := e.tagSHA(t, tg); sha != main {
			t.Errorf("tag %s after the move at %q, want main", tg, sha)
		}
	}

	// Refusals change nothing.
	mustRefuse(t, e.a, e.bob, "create_release", e.args("tag", "bob"), "not found")
	gwrAbsent(t, e.g, "bob's release", e.p+"/releases/tags/bob")
	mustRefuse(t, e.a, e.bob, "update_release", e.args("id", rel.ID, "name", "bob"), "not found")
	mustRefuse(t, e.a, e.bob, "delete_release", e.args("id", rel.ID, "tag", "v1.0.1"), "not found")
	mustRefuse(t, e.a, e.alice, "create_release", e.args("tag", "v2.0.0"), "conflict")
	mustRefuse(t, e.a, e.alice, "create_release", e.args("tag", "v9", "target", "no-such-branch"), "the target branch or commit does not exist")
	gwrAbsent(t, e.g, "the tag of a refused release", e.p+"/tags/v9")
	mustRefuse(t, e.a, e.alice, "create_release", e.args("tag", "a..b"), "invalid argument")
	mustRefuse(t, e.a, e.alice, "create_release", e.args("tag", "v3", "body", "a\x00b"), "invalid argument")
	mustRefuse(t, e.a, e.alice, "update_release", e.args("id", rel.ID, "body", ""), "cannot be emptied")
	mustRefuse(t, e.a, e.alice, "update_release", e.args("id", rel.ID), "nothing to change")
	mustRefuse(t, e.a, e.alice, "update_release", e.args("id", 999999, "name", "x"), "not found")
	e.schemaRefused(t, "create_release", e.args("name", "no tag"), "tag")
	e.schemaRefused(t, "update_release", e.args("id", 0, "name", "x"), "id")
	e.schemaRefused(t, "update_release", e.args("id", rel.ID, "name", nil), "name")
	e.schemaRefused(t, "delete_release", e.args("id", rel.ID), "tag")
	gwrAbsent(t, e.g, "tag v3 after refused arguments", e.p+"/tags/v3")
	// The tag is checked against the id before anything is deleted.
	mustRefuse(t, e.a, e.alice, "delete_release", e.args("id", rel.ID, "tag", "v2.0.0"), "has another tag: nothing was deleted")
	if got := e.release(t, rel.ID); got.Name != "First" || got.Body != newNotes || got.TagName != "v1.0.1" {
		t.Errorf("release after refused calls = %+v, want it unchanged", got)
	}

	// Delete: the release goes, its tag stays.
	var del struct{ Deleted string }
	mustDecode(t, e.a, e.alice, "delete_release", e.args("id", rel.ID, "tag", "v1.0.1"), &del)
	if want := fmt.Sprintf("release %d; its tag v1.0.1 stays", rel.ID); del.Deleted != want {
		t.Errorf("delete_release = %+v, want %q", del, want)
	}
	gwrAbsent(t, e.g, "the deleted release", fmt.Sprintf("%s/releases/%d", e.p, rel.ID))
	if sha := e.tagSHA(t, "v1.0.1"); sha != main {
		t.Errorf("tag of the deleted release at %q, want it kept at main", sha)
	}
	mustRefuse(t, e.a, e.alice, "delete_release", e.args("id", rel.ID, "tag", "v1.0.1"), "not found")
	var rels []gwrRelease
	if err := e.g.AdminGet(t.Context(), e.p+"/releases", http.StatusOK, &rels); err != nil || len(rels) != 1 || rels[0].ID != draft.ID {
		t.Errorf("releases at the end = %+v, %v; want only release %d", rels, err, draft.ID)
	}
}

// wrelWikiOut is what the wiki write tools answer.
type wrelWikiOut struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// wikiRevisions is how many commits changed a page.
func (e *wrelEnv) wikiRevisions(t *testing.T, subURL string) int64 {
	t.Helper()
	var page struct {
		CommitCount int64 `json:"commit_count"`
	}
	if err := e.g.AdminGet(t.Context(), e.p+"/wiki/page/"+subURL, http.StatusOK, &page); err != nil {
		t.Fatalf("wiki page %s: %v", subURL, err)
	}
	return page.CommitCount
}

func TestWriteReleasesWikiTools(t *testing.T) {
	e := wrelSetup(t, "wrelwiki")

	// Create: the content arrives byte for byte, with its commit message.
	content := "# Deploy\n\n\tstep one  \r\nü ✓ <b>&amp;</b>\n"
	var out wrelWikiOut
	res := mustDecode(t, e.a, e.alice, "create_wiki_page", e.args("title", "Deployment Guide", "content", content, "message", "Add the guide"), &out)
	if out.Name != "Deployment-Guide" || !strings.Contains(out.URL, "/"+e.repo+"/wiki/Deployment-Guide") {
		t.Errorf("create_wiki_page = %+v", out)
	}
	wrelOnlyKeys(t, "create_wiki_page", res, "name", "url")
	page, got := gwrWikiContent(t, e.g, e.p, "Deployment-Guide")
	if page.Title != "Deployment Guide" || got != content || strings.TrimSpace(page.LastCommit.Message) != "Add the guide" {
		t.Errorf("page read back: title %q, content %q, message %q", page.Title, got, page.LastCommit.Message)
	}
	mustDecode(t, e.a, e.alice, "create_wiki_page", e.args("title", "Other", "content", "keep me"), &out)

	// Refusals change nothing.
	mustRefuse(t, e.a, e.alice, "create_wiki_page", e.args("title", "Deployment Guide", "content", "again"), "conflict")
	mustRefuse(t, e.a, e.bob, "create_wiki_page", e.args("title", "Bob", "content", "x"), "not found")
	mustRefuse(t, e.a, e.bob, "update_wiki_page", e.args("page", "Deployment-Guide", "content", "bob"), "not found")
	mustRefuse(t, e.a, e.bob, "delete_wiki_page", e.args("page", "Deployment-Guide"), "not found")
	mustRefuse(t, e.a, e.alice, "update_wiki_page", e.args("page", "No Such Page", "content", "x"), `the wiki has no page "No Such Page"`)
	mustRefuse(t, e.a, e.alice, "update_wiki_page", e.args("page", "Deployment Guide", "title", "Other", "content", "x"), "conflict")
	mustRefuse(t, e.a, e.alice, "create_wiki_page", e.args("title", "a/b", "content", "x"), "invalid argument")
	mustRefuse(t, e.a, e.alice, "create_wiki_page", e.args("title", "Ctl", "content", "a\x1bb"), "invalid argument")
	mustRefuse(t, e.a, e.alice, "update_wiki_page", e.args("page", "", "content", "x"), "invalid argument")
	mustRefuse(t, e.a, e.alice, "delete_wiki_page", e.args("page", "../../issues"), "invalid argument")
	e.schemaRefused(t, "create_wiki_page", e.args("title", "No content"), "content")
	e.schemaRefused(t, "update_wiki_page", e.args("page", "Deployment-Guide"), "content")
	if _, got := gwrWikiContent(t, e.g, e.p, "Deployment-Guide"); got != content {
		t.Errorf("page after refused calls = %q, want it unchanged", got)
	}
	if _, got := gwrWikiContent(t, e.g, e.p, "Other"); got != "keep me" {
		t.Errorf("page Other after a refused rename onto it = %q", got)
	}
	if subs := gwrWikiSubURLs(t, e.g, e.p); strings.Join(subs, " ") != "Deployment-Guide Other" {
		t.Errorf("wiki pages after refusals = %v", subs)
	}

	// Update by title replaces the whole content; the same call again
	// leaves the page and its revisions as they are. (Gitea still commits
	// an empty change to the wiki's git repository each time, seen by
	// cloning it, which is why update_wiki_page is not marked idempotent.)
	before := e.wikiRevisions(t, "Deployment-Guide")
	for i := range 2 {
		mustDecode(t, e.a, e.alice, "update_wiki_page", e.args("page", "Deployment Guide", "content", "v2\n", "message", "Second"), &out)
		if out.Name != "Deployment-Guide" {
			t.Errorf("update_wiki_page = %+v", out)
		}
		page, got := gwrWikiContent(t, e.g, e.p, "Deployment-Guide")
		if got != "v2\n" || page.Title != "Deployment Guide" || strings.TrimSpace(page.LastCommit.Message) != "Second" {
			t.Errorf("page after update %d: title %q, content %q, message %q", i+1, page.Title, got, page.LastCommit.Message)
		}
		if n := e.wikiRevisions(t, "Deployment-Guide"); n != before+1 {
			t.Errorf("revisions after update %d = %d, want %d", i+1, n, before+1)
		}
	}

	// A new title renames the page.
	mustDecode(t, e.a, e.alice, "update_wiki_page", e.args("page", "Deployment-Guide", "title", "Ops Guide", "content", "v3"), &out)
	if out.Name != "Ops-Guide" {
		t.Errorf("update_wiki_page(rename) = %+v", out)
	}
	if page, got := gwrWikiContent(t, e.g, e.p, "Ops-Guide"); got != "v3" || page.Title != "Ops Guide" {
		t.Errorf("renamed page: title %q, content %q", page.Title, got)
	}
	gwrAbsent(t, e.g, "the page's old name", e.p+"/wiki/page/Deployment-Guide")

	// Delete.
	var del struct{ Deleted string }
	mustDecode(t, e.a, e.alice, "delete_wiki_page", e.args("page", "Ops Guide"), &del)
	if del.Deleted != "wiki page Ops Guide" {
		t.Errorf("delete_wiki_page = %+v", del)
	}
	gwrAbsent(t, e.g, "the deleted page", e.p+"/wiki/page/Ops-Guide")
	mustRefuse(t, e.a, e.alice, "delete_wiki_page", e.args("page", "Ops Guide"), `the wiki has no page "Ops Guide"`)
	if subs := gwrWikiSubURLs(t, e.g, e.p); strings.Join(subs, " ") != "Other" {
		t.Errorf("wiki pages at the end = %v, want Other only", subs)
	}
}

func TestWriteReleasesActionsTools(t *testing.T) {
	e := wrelSetup(t, "wrelwf")
	for file, content := range map[string]string{".gitea/workflows/manual.yml": gwrManualWorkflow, ".gitea/workflows/push.yml": gwrPushWorkflow} {
		if err := e.g.PutFile(t.Context(), testgitea.AliceName, e.repo, file, content, ""); err != nil {
			t.Fatalf("PutFile %s: %v", file, err)
		}
	}
	main := e.mainSHA(t)

	// Refusals: no run is made.
	mustRefuse(t, e.a, e.bob, "dispatch_workflow", e.args("workflow", "manual.yml", "ref", "main"), "not found")
	mustRefuse(t, e.a, e.alice, "dispatch_workflow", e.args("workflow", "nope.yml", "ref", "main"), "no such workflow file")
	mustRefuse(t, e.a, e.alice, "dispatch_workflow", e.args("workflow", "manual.yml", "ref", "no-such-branch"), "no such workflow file")
	mustRefuse(t, e.a, e.alice, "dispatch_workflow", e.args("workflow", "push.yml", "ref", "main"), "no workflow_dispatch trigger")
	mustRefuse(t, e.a, e.alice, "dispatch_workflow", e.args("workflow", "../manual.yml", "ref", "main"), "invalid argument")
	mustRefuse(t, e.a, e.alice, "dispatch_workflow", e.args("workflow", "manual.yml", "ref", "-main"), "invalid argument")
	mustRefuse(t, e.a, e.alice, "dispatch_workflow", e.args("workflow", "manual.yml", "ref", "main",
		"inputs", map[string]any{"bad name": "x"}), "invalid argument")
	e.schemaRefused(t, "dispatch_workflow", e.args("workflow", "manual.yml"), "ref")
	e.schemaRefused(t, "dispatch_workflow", e.args("workflow", "manual.yml", "ref", "main", "inputs", map[string]any{"greeting": 1}), "inputs")
	if err := e.g.AdminDo(t.Context(), http.MethodPut, e.p+"/actions/workflows/manual.yml/disable", testgitea.AliceName, nil, http.StatusNoContent, nil); err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, e.a, e.alice, "dispatch_workflow", e.args("workflow", "manual.yml", "ref", "main"), "the workflow is disabled")
	if err := e.g.AdminDo(t.Context(), http.MethodPut, e.p+"/actions/workflows/manual.yml/enable", testgitea.AliceName, nil, http.StatusNoContent, nil); err != nil {
		t.Fatal(err)
	}
	if runs := gwrRuns(t, e.g, e.p); len(runs) != 0 {
		t.Fatalf("runs after refused dispatches = %+v, want none", runs)
	}

	// Dispatch: one run, at main, with the declared inputs as given.
	var started struct{ Started, Note string }
	mustDecode(t, e.a, e.alice, "dispatch_workflow", e.args("workflow", "manual.yml", "ref", "main",
		"inputs", map[string]any{"greeting": "hello\tthere ✓", "undeclared": "ignored"}), &started)
	if started.Started != "manual.yml at main" || !strings.Contains(started.Note, "list_workflow_runs") {
		t.Errorf("dispatch_workflow = %+v", started)
	}
	runs := gwrRuns(t, e.g, e.p)
	if len(runs) != 1 {
		t.Fatalf("runs after the dispatch = %+v, want one", runs)
	}
	run := runs[0]
	if run.Event != "workflow_dispatch" || run.Path != "manual.yml@refs/heads/main" || run.HeadSHA != main || run.Trigger.Login != testgitea.AliceName {
		t.Errorf("dispatched run = %+v", run)
	}

	// Rerun of a run still going: refused, nothing changes.
	mustRefuse(t, e.a, e.alice, "rerun_workflow_run", e.args("run_id", run.ID), "is not finished")

	runner := gwrRegisterRunner(t, e.g, e.p, "gwr-test-label")
	task := runner.take(t)
	if task.Context.Ref != "refs/heads/main" || fmt.Sprint(task.Context.Event.Inputs) != "map[greeting:hello\tthere ✓ mode:fast]" {
		t.Errorf("the dispatched task: ref %q, inputs %v; want greeting as sent, mode's default, nothing else", task.Context.Ref, task.Context.Event.Inputs)
	}
	runner.finish(t, task)
	gwrRunStatus(t, e.g, e.p, run.ID, "completed")

	mustRefuse(t, e.a, e.bob, "rerun_workflow_run", e.args("run_id", run.ID), "not found")
	mustRefuse(t, e.a, e.alice, "rerun_workflow_run", e.args("run_id", 999999), "no workflow run 999999")
	e.schemaRefused(t, "rerun_workflow_run", e.args("run_id", 0), "run_id")
	if still := gwrRunStatus(t, e.g, e.p, run.ID, "completed"); still.RunAttempt != 1 {
		t.Errorf("run after refused reruns = %+v, want attempt 1", still)
	}

	// Rerun: a second attempt of the same run, with the same inputs.
	var again struct {
		ID      int64  `json:"id"`
		Attempt int64  `json:"attempt"`
		Status  string `json:"status"`
		URL     string `json:"url"`
	}
	mustDecode(t, e.a, e.alice, "rerun_workflow_run", e.args("run_id", run.ID), &again)
	if again.ID != run.ID || again.Attempt != 2 || again.Status == "completed" || !strings.Contains(again.URL, "/"+e.repo+"/actions/runs/") {
		t.Errorf("rerun_workflow_run = %+v, want run %d, attempt 2, not completed", again, run.ID)
	}
	task2 := runner.take(t)
	if task2.ID == task.ID || fmt.Sprint(task2.Context.Event.Inputs) != fmt.Sprint(task.Context.Event.Inputs) {
		t.Errorf("the rerun's task = %+v, want a new task with the same inputs", task2)
	}
	runner.finish(t, task2)
	if final := gwrRunStatus(t, e.g, e.p, run.ID, "completed"); final.RunAttempt != 2 || final.Conclusion != "success" {
		t.Errorf("rerun finished = %+v, want attempt 2, success", final)
	}
	if runs := gwrRuns(t, e.g, e.p); len(runs) != 1 {
		t.Errorf("runs after the rerun = %d, want the same one run", len(runs))
	}
}

// TestWriteReleasesConfirmQuestions: with CONFIRM_DESTRUCTIVE on, the
// human is asked the exact question of each destructive tool; a declined
// question changes nothing, an accepted one runs.
func TestWriteReleasesConfirmQuestions(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, writeScopes, "WRITE_MODE=true", "WRITE_ALLOW_ALL_TOKEN_REPOS=true")
	alice := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	e := &wrelEnv{g: g, a: a, alice: alice, repo: freshRepo(t, g, testgitea.AliceName, "wrelask")}
	e.p = "/api/v1/repos/" + testgitea.AliceName + "/" + e.repo
	var rel wrelReleaseOut
	mustDecode(t, a, alice, "create_release", e.args("tag", "v1.2.0"), &rel)
	mustDecode(t, a, alice, "create_wiki_page", e.args("title", "Home", "content", "home"), &wrelWikiOut{})

	var asked []string
	answer := "decline"
	cs := a.connectWith(t, "/mcp", alice, "2026-07-28", &mcp.ClientOptions{
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			asked = append(asked, req.Params.Message)
			return &mcp.ElicitResult{Action: answer, Content: map[string]any{"confirm": answer == "accept"}}, nil
		}})
	for _, tt := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"delete_release", e.args("id", rel.ID, "tag", "v1.2.0"), fmt.Sprintf("Delete release v1.2.0 (id %d) in alice/%s? The tag stays.", rel.ID, e.repo)},
		{"update_wiki_page", e.args("page", "Home", "content", "new"), fmt.Sprintf(`Replace wiki page "Home" in alice/%s?`, e.repo)},
		{"update_wiki_page", e.args("page", "Home", "title", "Start", "content", "new"),
			fmt.Sprintf(`Replace wiki page "Home" in alice/%s and rename it "Start"?`, e.repo)},
		{"delete_wiki_page", e.args("page", "Home"), fmt.Sprintf(`Delete wiki page "Home" in alice/%s?`, e.repo)},
	} {
		asked = nil
		if text, isErr := call(t, cs, tt.tool, tt.args); !isErr || !strings.Contains(text, "declined: nothing was done") {
			t.Errorf("declined %s = %s (error %v)", tt.tool, text, isErr)
		}
		if len(asked) != 1 || !strings.Contains(asked[0], tt.want) {
			t.Errorf("%s asked %q, want %q", tt.tool, asked, tt.want)
		}
	}
	if got := e.release(t, rel.ID); got.TagName != "v1.2.0" {
		t.Errorf("release after declined deletion = %+v", got)
	}
	if page, got := gwrWikiContent(t, g, e.p, "Home"); got != "home" || page.Title != "Home" {
		t.Errorf("wiki page after declined calls: title %q, content %q", page.Title, got)
	}

	answer, asked = "accept", nil
	if text, isErr := call(t, cs, "delete_release", e.args("id", rel.ID, "tag", "v1.2.0")); isErr || len(asked) != 1 {
		t.Fatalf("accepted delete_release = %s (error %v), asked %q", text, isErr, asked)
	}
	gwrAbsent(t, g, "the release deleted after confirmation", fmt.Sprintf("%s/releases/%d", e.p, rel.ID))
}
