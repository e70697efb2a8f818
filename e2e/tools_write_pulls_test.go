package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// The pull request write tools, end to end: each call goes through the
// server's whole pipeline to the real Gitea, and every change is read back
// as the site administrator, not through the server.

// wptRepo is a fresh repository of alice's with branch "feature", one
// commit (feature.txt) ahead of main.
type wptRepo struct {
	g    *testgitea.Gitea
	name string
}

func newWptRepo(t *testing.T, g *testgitea.Gitea) *wptRepo {
	t.Helper()
	r := &wptRepo{g: g, name: freshRepo(t, g, testgitea.AliceName, "wpull")}
	if err := g.PutFile(t.Context(), testgitea.AliceName, r.name, "feature.txt", "one\ntwo\nthree\n", "feature"); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *wptRepo) path(rest string) string { return "/api/v1/repos/alice/" + r.name + rest }

// args are a tool's arguments for this repository, with more pairs.
func (r *wptRepo) args(kv ...any) map[string]any {
	m := map[string]any{"owner": testgitea.AliceName, "repo": r.name}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func (r *wptRepo) read(t *testing.T, number int64) wpullsPR {
	t.Helper()
	var pr wpullsPR
	if err := r.g.AdminGet(t.Context(), r.path(fmt.Sprintf("/pulls/%d", number)), http.StatusOK, &pr); err != nil {
		t.Fatal(err)
	}
	return pr
}

// count is the number of pull requests of the repository, open or not.
func (r *wptRepo) count(t *testing.T) int {
	t.Helper()
	var pulls []wpullsPR
	if err := r.g.AdminGet(t.Context(), r.path("/pulls?state=all"), http.StatusOK, &pulls); err != nil {
		t.Fatal(err)
	}
	return len(pulls)
}

// open creates a pull request from head to main as alice, through the
// admin API, with more fields if given.
func (r *wptRepo) open(t *testing.T, head, title string, more ...map[string]any) int64 {
	t.Helper()
	body := map[string]any{"head": head, "base": "main", "title": title}
	for _, m := range more {
		for k, v := range m {
			body[k] = v
		}
	}
	var pr wpullsPR
	if err := r.g.AdminDo(t.Context(), http.MethodPost, r.path("/pulls"), testgitea.AliceName, body, http.StatusCreated, &pr); err != nil {
		t.Fatal(err)
	}
	return pr.Number
}

// waitFor polls pull request number until ok holds, for up to 30 s.
func (r *wptRepo) waitFor(t *testing.T, number int64, what string, ok func(wpullsPR) bool) wpullsPR {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pr := r.read(t, number)
		if ok(pr) {
			return pr
		}
		if time.Now().After(deadline) {
			t.Fatalf("pull request #%d: not %s after 30 s: %+v", number, what, pr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *wptRepo) waitMergeable(t *testing.T, number int64) wpullsPR {
	t.Helper()
	return r.waitFor(t, number, "mergeable", func(pr wpullsPR) bool { return pr.Mergeable })
}

// commit adds a file to branch as alice and returns the new commit's id.
func (r *wptRepo) commit(t *testing.T, branch, path, content string) string {
	t.Helper()
	var out struct {
		Commit struct {
			SHA string `json:"sha"`
		} `json:"commit"`
	}
	err := r.g.AdminDo(t.Context(), http.MethodPost, r.path("/contents/"+path), testgitea.AliceName, map[string]any{
		"content": base64.StdEncoding.EncodeToString([]byte(content)), "message": "Add " + path, "branch": branch,
	}, http.StatusCreated, &out)
	if err != nil {
		t.Fatal(err)
	}
	return out.Commit.SHA
}

// branch returns the commit branch is at and its message; "" when it does not exist.
func (r *wptRepo) branch(t *testing.T, name string) (id, message string) {
	t.Helper()
	var b wpullsBranch
	if err := r.g.AdminGet(t.Context(), r.path("/branches/"+name), http.StatusOK, &b); err != nil {
		if err := r.g.AdminGet(t.Context(), r.path("/branches/"+name), http.StatusNotFound, nil); err != nil {
			t.Fatal(err)
		}
		return "", ""
	}
	return b.Commit.ID, b.Commit.Message
}

func (r *wptRepo) create(t *testing.T, kind, name string, body map[string]any) int64 {
	t.Helper()
	var out struct {
		ID int64 `json:"id"`
	}
	if err := r.g.AdminDo(t.Context(), http.MethodPost, r.path("/"+kind), "", body, http.StatusCreated, &out); err != nil {
		t.Fatalf("creating %s %s: %v", kind, name, err)
	}
	return out.ID
}

// wptPullOut is what create_pull_request and update_pull_request answer.
type wptPullOut struct {
	Number int64  `json:"number"`
	Title  string `json:"title"`
	State  string `json:"state"`
	Merged bool   `json:"merged"`
	Head   struct {
		Ref  string `json:"ref"`
		SHA  string `json:"sha"`
		Repo string `json:"repository"`
	} `json:"head"`
	Base      string   `json:"base"`
	Labels    []string `json:"labels"`
	Assignees []string `json:"assignees"`
	Milestone string   `json:"milestone"`
	URL       string   `json:"url"`
}

// wptMerge runs merge_pull_request, retrying only while Gitea says it
// cannot merge yet (its background check after every push), and returns
// the last result.
func wptMerge(t *testing.T, a *aegis, tok string, r *wptRepo, args map[string]any) toolResult {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := a.toolCall(t, tok, "merge_pull_request", args)
		if !res.IsError || !strings.Contains(res.Text, "Gitea refused to merge it now") || time.Now().After(deadline) {
			return res
		}
		if pr := r.read(t, int64(args["number"].(int))); pr.Merged {
			t.Fatalf("pull request merged although the tool answered %s", res.Text)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestWritePullsCreate(t *testing.T) {
	g := needGitea(t)
	ctx := t.Context()
	a := startWriter(t, g)
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	bobTok := a.token(t, g, testgitea.BobName, writeScopes).AccessToken
	r := newWptRepo(t, g)
	r.create(t, "labels", "bug", map[string]any{"name": "bug", "color": "#ee0701"})
	milestone := r.create(t, "milestones", "v1", map[string]any{"title": "v1"})

	// bob cannot see alice's private repository: not found, nothing created.
	mustRefuse(t, a, bobTok, "create_pull_request", r.args("title", "Intrusion", "head", "feature", "base", "main"), "not found")
	if n := r.count(t); n != 0 {
		t.Fatalf("bob's refused call created %d pull requests", n)
	}

	if err := g.AddCollaborator(ctx, testgitea.AliceName, r.name, testgitea.BobName, "write"); err != nil {
		t.Fatal(err)
	}
	var out wptPullOut
	mustDecode(t, a, tok, "create_pull_request", r.args("title", "Add the feature", "body", "Adds feature.txt.\n\nPlease review.",
		"head", "feature", "base", "main", "assignees", []string{"bob"}, "labels", []string{"bug"}, "milestone", milestone), &out)
	pr := r.read(t, out.Number)
	if pr.Title != "Add the feature" || pr.Body != "Adds feature.txt.\n\nPlease review." || pr.State != "open" ||
		pr.Head.Ref != "feature" || pr.Base.Ref != "main" {
		t.Errorf("created pull request reads back as %+v", pr)
	}
	if !slices.Equal(pr.assignees(), []string{"bob"}) || !slices.Equal(pr.labels(), []string{"bug"}) || pr.Milestone == nil || pr.Milestone.Title != "v1" {
		t.Errorf("created pull request reads back with assignees %v labels %v milestone %+v", pr.assignees(), pr.labels(), pr.Milestone)
	}
	if out.Number != 1 || out.State != "open" || out.Head.Ref != "feature" || out.Head.SHA != pr.Head.SHA || out.Head.Repo != "" ||
		out.Base != "main" || !slices.Equal(out.Labels, []string{"bug"}) || !slices.Equal(out.Assignees, []string{"bob"}) ||
		out.Milestone != "v1" || !strings.HasSuffix(out.URL, "/alice/"+r.name+"/pulls/1") {
		t.Errorf("create_pull_request answered %+v (head read back %s)", out, pr.Head.SHA)
	}

	// Refusals: nothing more is created.
	mustRefuse(t, a, tok, "create_pull_request", r.args("title", "Again", "head", "feature", "base", "main"), "conflict")
	mustRefuse(t, a, tok, "create_pull_request", r.args("title", "Nowhere", "head", "no-such-branch", "base", "main"), "not found")
	mustRefuse(t, a, tok, "create_pull_request", r.args("title", "Unlabelled", "head", "feature", "base", "main", "labels", []string{"nope"}),
		`label "nope" is not a label of alice/`+r.name)
	mustRefuse(t, a, tok, "create_pull_request", r.args("title", "Same", "head", "main", "base", "main"), "head and base must be different")
	if res := a.toolCall(t, tok, "create_pull_request", r.args("head", "feature", "base", "main")); res.Status != http.StatusBadRequest ||
		!strings.Contains(res.Body, "title") {
		t.Errorf("create_pull_request without a title = %d %s, want 400 naming title", res.Status, res.Body)
	}
	if n := r.count(t); n != 1 {
		t.Errorf("the repository has %d pull requests after refused creations, want 1", n)
	}
}

func TestWritePullsUpdate(t *testing.T) {
	g := needGitea(t)
	ctx := t.Context()
	a := startWriter(t, g)
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	bobTok := a.token(t, g, testgitea.BobName, writeScopes).AccessToken
	r := newWptRepo(t, g)
	bug := r.create(t, "labels", "bug", map[string]any{"name": "bug", "color": "#ee0701"})
	r.create(t, "labels", "docs", map[string]any{"name": "docs", "color": "#0075ca"})
	milestone := r.create(t, "milestones", "v1", map[string]any{"title": "v1"})
	if err := g.PutFile(ctx, testgitea.AliceName, r.name, "develop.txt", "develop\n", "develop"); err != nil {
		t.Fatal(err)
	}
	number := r.open(t, "feature", "Draft title", map[string]any{"body": "Old body.", "labels": []int64{bug}, "milestone": milestone,
		"assignees": []string{"alice"}})

	mustRefuse(t, a, bobTok, "update_pull_request", r.args("number", number, "title", "Hijacked"), "not found")

	// Retitle, clear the body, relabel and move the base; assignees and milestone stay.
	var out wptPullOut
	mustDecode(t, a, tok, "update_pull_request", r.args("number", number, "title", "Final title", "body", "",
		"labels", []string{"docs"}, "base", "develop"), &out)
	pr := r.read(t, number)
	if pr.Title != "Final title" || pr.Body != "" || pr.Base.Ref != "develop" || pr.State != "open" || !slices.Equal(pr.labels(), []string{"docs"}) {
		t.Errorf("edited pull request reads back as title %q body %q base %q state %q labels %v", pr.Title, pr.Body, pr.Base.Ref, pr.State, pr.labels())
	}
	if !slices.Equal(pr.assignees(), []string{"alice"}) || pr.Milestone == nil || pr.Milestone.Title != "v1" {
		t.Errorf("omitted fields changed: assignees %v milestone %+v", pr.assignees(), pr.Milestone)
	}
	if out.Number != number || out.Title != "Final title" || out.Base != "develop" || !slices.Equal(out.Labels, []string{"docs"}) || out.Milestone != "v1" {
		t.Errorf("update_pull_request answered %+v", out)
	}

	// [] and 0 clear: labels, assignees, and the milestone (through the issue endpoint).
	mustDecode(t, a, tok, "update_pull_request", r.args("number", number, "labels", []string{}, "assignees", []string{}, "milestone", 0), &out)
	pr = r.read(t, number)
	if len(pr.Labels) != 0 || len(pr.Assignees) != 0 || pr.Milestone != nil || pr.Title != "Final title" {
		t.Errorf("cleared pull request reads back with labels %v assignees %v milestone %+v title %q", pr.labels(), pr.assignees(), pr.Milestone, pr.Title)
	}
	if len(out.Labels) != 0 || len(out.Assignees) != 0 || out.Milestone != "" {
		t.Errorf("update_pull_request clearing answered %+v", out)
	}

	// Close, then reopen.
	mustDecode(t, a, tok, "update_pull_request", r.args("number", number, "state", "closed"), &out)
	if pr = r.read(t, number); pr.State != "closed" || out.State != "closed" {
		t.Errorf("closing: reads back %q, answered %q", pr.State, out.State)
	}
	mustDecode(t, a, tok, "update_pull_request", r.args("number", number, "state", "open"), &out)
	if pr = r.read(t, number); pr.State != "open" {
		t.Errorf("reopened pull request reads back as %q", pr.State)
	}

	// Refusals change nothing.
	mustRefuse(t, a, tok, "update_pull_request", r.args("number", number), "nothing to change")
	mustRefuse(t, a, tok, "update_pull_request", r.args("number", number, "labels", []string{"nope"}), `label "nope"`)
	mustRefuse(t, a, tok, "update_pull_request", r.args("number", number, "base", "no-such-branch"), "not found")
	mustRefuse(t, a, tok, "update_pull_request", r.args("number", 99, "title", "Nobody"), "not found")
	for name, args := range map[string]map[string]any{
		"state merged":       r.args("number", number, "state", "merged"),
		"negative milestone": r.args("number", number, "milestone", -1),
		"unknown argument":   r.args("number", number, "draft", true),
	} {
		if res := a.toolCall(t, tok, "update_pull_request", args); res.Status != http.StatusBadRequest {
			t.Errorf("update_pull_request(%s) = %d %s, want 400", name, res.Status, res.Body)
		}
	}
	if pr = r.read(t, number); pr.Title != "Final title" || pr.State != "open" || pr.Base.Ref != "develop" || len(pr.Labels) != 0 {
		t.Errorf("refused updates changed the pull request: %+v", pr)
	}
}

func TestWritePullsMerge(t *testing.T) {
	g := needGitea(t)
	a := startWriter(t, g)
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	bobTok := a.token(t, g, testgitea.BobName, writeScopes).AccessToken
	r := newWptRepo(t, g)
	number := r.open(t, "feature", "Merge me")
	seen := r.waitMergeable(t, number).Head.SHA
	mainBefore, _ := r.branch(t, "main")
	n := int(number)

	// Refusals before anything moves.
	mustRefuse(t, a, bobTok, "merge_pull_request", r.args("number", n, "style", "merge", "head_sha", seen), "not found")
	for name, args := range map[string]map[string]any{
		"short head_sha": r.args("number", n, "style", "merge", "head_sha", seen[:12]),
		"no head_sha":    r.args("number", n, "style", "merge"),
		"force style":    r.args("number", n, "style", "manually-merged", "head_sha", seen),
		"force_merge":    r.args("number", n, "style", "merge", "head_sha", seen, "force_merge", true),
		"no style":       r.args("number", n, "head_sha", seen),
		"zero number":    r.args("number", 0, "style", "merge", "head_sha", seen),
	} {
		if res := a.toolCall(t, tok, "merge_pull_request", args); res.Status != http.StatusBadRequest {
			t.Errorf("merge_pull_request(%s) = %d %s, want 400", name, res.Status, res.Body)
		}
	}

	// The head moves after the caller read it: the merge bound to the old head is refused.
	moved := r.commit(t, "feature", "late.txt", "pushed after review\n")
	r.waitFor(t, number, "at the moved head", func(pr wpullsPR) bool { return pr.Head.SHA == moved })
	mustRefuse(t, a, tok, "merge_pull_request", r.args("number", n, "style", "merge", "head_sha", seen),
		"the pull request's head moved since you read it: nothing was merged; read it again")
	if pr := r.read(t, number); pr.Merged || pr.State != "open" {
		t.Errorf("after the stale merge: merged=%v state %q, want open and unmerged", pr.Merged, pr.State)
	}
	if got, _ := r.branch(t, "main"); got != mainBefore {
		t.Errorf("the stale merge moved main from %s to %s", mainBefore, got)
	}

	// Bound to the current head, it merges, with its message, deleting the branch.
	r.waitMergeable(t, number)
	res := wptMerge(t, a, tok, r, r.args("number", n, "style", "merge", "head_sha", moved, "title", "Merge the feature",
		"message", "Reviewed at "+moved[:10]+".", "delete_branch", true))
	if res.Status != http.StatusOK || res.IsError {
		t.Fatalf("merge_pull_request = %d %s", res.Status, res.Body)
	}
	pr := r.read(t, number)
	if !pr.Merged || pr.State != "closed" || pr.MergeSHA == "" {
		t.Fatalf("merged pull request reads back merged=%v state %q merge commit %q", pr.Merged, pr.State, pr.MergeSHA)
	}
	if res.Structured["merged"] != true || res.Structured["merge_commit"] != pr.MergeSHA || res.Structured["number"] != float64(number) {
		t.Errorf("merge_pull_request answered %v, want merged with merge commit %s", res.Structured, pr.MergeSHA)
	}
	mainID, message := r.branch(t, "main")
	if mainID != pr.MergeSHA || strings.TrimSpace(message) != "Merge the feature\n\nReviewed at "+moved[:10]+"." {
		t.Errorf("main is at %s with message %q, want the merge commit %s", mainID, message, pr.MergeSHA)
	}
	if id, _ := r.branch(t, "feature"); id != "" {
		t.Errorf("the head branch is still at %s after delete_branch", id)
	}

	// Merging again is refused as not mergeable, and changes nothing.
	mustRefuse(t, a, tok, "merge_pull_request", r.args("number", n, "style", "merge", "head_sha", moved), "nothing was merged")
	if got, _ := r.branch(t, "main"); got != pr.MergeSHA {
		t.Errorf("the second merge moved main to %s", got)
	}
}

// TestWritePullsMergeConfirm: with CONFIRM_DESTRUCTIVE on, the human is
// asked the merge's question; a decline merges nothing, an accept merges.
func TestWritePullsMergeConfirm(t *testing.T) {
	g := needGitea(t)
	a := startWriter(t, g, "CONFIRM_DESTRUCTIVE=true")
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	r := newWptRepo(t, g)
	number := r.open(t, "feature", "Squash me")
	head := r.waitMergeable(t, number).Head.SHA

	var mu sync.Mutex
	var asked []string
	accept := false
	cs := a.connectWith(t, "/mcp", tok, "", &mcp.ClientOptions{
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, req.Params.Message)
			if accept {
				return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": true}}, nil
			}
			return &mcp.ElicitResult{Action: "decline"}, nil
		},
	})
	args := r.args("number", int(number), "style", "squash", "head_sha", head)
	text, isErr := call(t, cs, "merge_pull_request", args)
	want := fmt.Sprintf("Merge pull request #%d in alice/%s (squash, head %s)?", number, r.name, head[:10])
	if !isErr || !strings.Contains(text, "declined") {
		t.Errorf("declined merge = %s (error %v)", text, isErr)
	}
	mu.Lock()
	if len(asked) != 1 || !strings.HasPrefix(asked[0], want) {
		t.Errorf("the human was asked %q, want %q", asked, want)
	}
	mu.Unlock()
	if pr := r.read(t, number); pr.Merged {
		t.Fatal("a declined merge merged")
	}

	mu.Lock()
	accept = true
	mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for {
		text, isErr = call(t, cs, "merge_pull_request", args)
		if !isErr || !strings.Contains(text, "Gitea refused to merge it now") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if isErr {
		t.Fatalf("confirmed merge = %s", text)
	}
	if pr := r.read(t, number); !pr.Merged {
		t.Error("the confirmed merge did not merge")
	}
	deleteArgs := r.args("number", int(number), "style", "rebase", "head_sha", head, "delete_branch", true)
	if text, _ := call(t, cs, "merge_pull_request", deleteArgs); !strings.Contains(text, "nothing was merged") {
		t.Errorf("merging the merged pull request again = %s", text)
	}
	mu.Lock()
	defer mu.Unlock()
	want = fmt.Sprintf("Merge pull request #%d in alice/%s (rebase, head %s) and delete its head branch?", number, r.name, head[:10])
	if last := asked[len(asked)-1]; !strings.HasPrefix(last, want) {
		t.Errorf("the question with delete_branch was %q, want %q", last, want)
	}
}
