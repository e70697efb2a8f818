package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
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

func TestWritePullsReviewers(t *testing.T) {
	g := needGitea(t)
	ctx := t.Context()
	a := startWriter(t, g)
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	bobTok := a.token(t, g, testgitea.BobName, writeScopes).AccessToken
	r := newWptRepo(t, g)
	number := r.open(t, "feature", "Review me")
	n := int(number)

	mustRefuse(t, a, bobTok, "request_reviewers", r.args("number", n, "reviewers", []string{"bob"}), "not found")
	if err := g.AddCollaborator(ctx, testgitea.AliceName, r.name, testgitea.BobName, "write"); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Number    int64    `json:"number"`
		Reviewers []string `json:"reviewers"`
	}
	mustDecode(t, a, tok, "request_reviewers", r.args("number", n, "reviewers", []string{"bob"}), &out)
	if got := r.read(t, number).reviewers(); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("requested reviewers read back as %v, want [bob]", got)
	}
	if out.Number != number || !slices.Equal(out.Reviewers, []string{"bob"}) {
		t.Errorf("request_reviewers answered %+v", out)
	}
	// idempotentHint: asking again adds nothing, not even a timeline event.
	mustDecode(t, a, tok, "request_reviewers", r.args("number", n, "reviewers", []string{"bob"}), &out)
	var timeline []struct {
		Type string `json:"type"`
	}
	if err := g.AdminGet(ctx, r.path(fmt.Sprintf("/issues/%d/timeline", number)), http.StatusOK, &timeline); err != nil {
		t.Fatal(err)
	}
	requests := 0
	for _, e := range timeline {
		if e.Type == "review_request" {
			requests++
		}
	}
	if requests != 1 || !slices.Equal(r.read(t, number).reviewers(), []string{"bob"}) {
		t.Errorf("after asking bob twice: %d review_request events, reviewers %v; want 1 and [bob]", requests, r.read(t, number).reviewers())
	}

	mustRefuse(t, a, tok, "request_reviewers", r.args("number", n, "reviewers", []string{"alice"}), "invalid")
	mustRefuse(t, a, tok, "request_reviewers", r.args("number", n, "reviewers", []string{"nobody-here"}), "not found")
	mustRefuse(t, a, tok, "request_reviewers", r.args("number", n), "name at least one reviewer or team")
	if got := r.read(t, number).reviewers(); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("refused requests changed the reviewers to %v", got)
	}
}

func TestWritePullsReview(t *testing.T) {
	g := needGitea(t)
	ctx := t.Context()
	a := startWriter(t, g)
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	bobTok := a.token(t, g, testgitea.BobName, writeScopes).AccessToken
	r := newWptRepo(t, g)
	number := r.open(t, "feature", "Review me")
	head := r.waitMergeable(t, number).Head.SHA
	n := int(number)

	mustRefuse(t, a, bobTok, "create_pull_request_review", r.args("number", n, "event", "comment", "body", "intrusion"), "not found")
	if err := g.AddCollaborator(ctx, testgitea.AliceName, r.name, testgitea.BobName, "write"); err != nil {
		t.Fatal(err)
	}
	type reviewOut struct {
		ID     int64  `json:"id"`
		State  string `json:"state"`
		Commit string `json:"commit"`
		URL    string `json:"url"`
	}
	var rc, ap reviewOut
	mustDecode(t, a, bobTok, "create_pull_request_review", r.args("number", n, "event", "request_changes", "body", "Please fix line two.",
		"commit_id", head, "comments", []map[string]any{{"path": "feature.txt", "body": "Should be 2.", "new_line": 2}}), &rc)
	mustDecode(t, a, bobTok, "create_pull_request_review", r.args("number", n, "event", "approve"), &ap)
	if rc.ID < 1 || rc.State != "REQUEST_CHANGES" || rc.Commit != head || ap.State != "APPROVED" || ap.ID == rc.ID {
		t.Errorf("create_pull_request_review answered %+v and %+v", rc, ap)
	}
	type review struct {
		ID   int64 `json:"id"`
		User struct {
			Login string `json:"login"`
		} `json:"user"`
		State    string `json:"state"`
		Body     string `json:"body"`
		CommitID string `json:"commit_id"`
		Comments int    `json:"comments_count"`
	}
	readReviews := func() map[int64]review {
		var reviews []review
		if err := g.AdminGet(ctx, r.path(fmt.Sprintf("/pulls/%d/reviews", number)), http.StatusOK, &reviews); err != nil {
			t.Fatal(err)
		}
		byID := map[int64]review{}
		for _, rv := range reviews {
			byID[rv.ID] = rv
		}
		return byID
	}
	reviews := readReviews()
	if rv := reviews[rc.ID]; rv.State != "REQUEST_CHANGES" || rv.User.Login != "bob" || rv.Body != "Please fix line two." || rv.CommitID != head || rv.Comments != 1 {
		t.Errorf("the request-changes review reads back as %+v", rv)
	}
	if rv := reviews[ap.ID]; rv.State != "APPROVED" || rv.User.Login != "bob" || rv.CommitID != head {
		t.Errorf("the approval reads back as %+v", rv)
	}
	var comments []struct {
		Path     string `json:"path"`
		Body     string `json:"body"`
		Position int    `json:"position"`
	}
	if err := g.AdminGet(ctx, r.path(fmt.Sprintf("/pulls/%d/reviews/%d/comments", number, rc.ID)), http.StatusOK, &comments); err != nil {
		t.Fatal(err)
	}
	if len(comments) != 1 || comments[0].Path != "feature.txt" || comments[0].Body != "Should be 2." || comments[0].Position != 2 {
		t.Errorf("the line comment reads back as %+v", comments)
	}

	// Refusals: no review is added.
	mustRefuse(t, a, tok, "create_pull_request_review", r.args("number", n, "event", "approve"), "invalid") // the author's own
	mustRefuse(t, a, bobTok, "create_pull_request_review", r.args("number", n, "event", "request_changes"), "needs a body")
	mustRefuse(t, a, bobTok, "create_pull_request_review", r.args("number", n, "event", "comment", "comments",
		[]map[string]any{{"path": "feature.txt", "body": "x", "new_line": 1, "old_line": 1}}), "set exactly one of new_line and old_line")
	mustRefuse(t, a, bobTok, "create_pull_request_review", r.args("number", n, "event", "approve", "commit_id", head[:7]), "commit_id")
	if res := a.toolCall(t, bobTok, "create_pull_request_review", r.args("number", n, "event", "pending", "body", "b")); res.Status != http.StatusBadRequest {
		t.Errorf("a pending review = %d %s, want 400", res.Status, res.Body)
	}
	if got := len(readReviews()); got != len(reviews) {
		t.Errorf("refused reviews left %d reviews, want %d", got, len(reviews))
	}
}

func TestWritePullsComment(t *testing.T) {
	g := needGitea(t)
	ctx := t.Context()
	a := startWriter(t, g)
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	bobTok := a.token(t, g, testgitea.BobName, writeScopes).AccessToken
	r := newWptRepo(t, g)
	number := r.open(t, "feature", "Discuss me")

	type comment struct {
		ID   int64  `json:"id"`
		Body string `json:"body"`
		User struct {
			Login string `json:"login"`
		} `json:"user"`
	}
	readComments := func() []comment {
		var cs []comment
		if err := g.AdminGet(ctx, r.path(fmt.Sprintf("/issues/%d/comments", number)), http.StatusOK, &cs); err != nil {
			t.Fatal(err)
		}
		return cs
	}
	var out struct {
		ID  int64  `json:"id"`
		URL string `json:"url"`
	}
	mustDecode(t, a, tok, "create_pr_comment", r.args("number", int(number), "body", "Looks **good**."), &out)
	cs := readComments()
	if len(cs) != 1 || cs[0].ID != out.ID || cs[0].Body != "Looks **good**." || cs[0].User.Login != "alice" {
		t.Errorf("comments read back as %+v, answered %+v", cs, out)
	}
	if !strings.Contains(out.URL, fmt.Sprintf("/pulls/%d#issuecomment-%d", number, out.ID)) {
		t.Errorf("comment url %q", out.URL)
	}

	// A conversation comment needs write:issue only: verified on a server whose app lacks write:repository.
	b := startAegisFor(t, g, "openid read:repository write:issue read:user", "WRITE_MODE=true", "WRITE_ALLOW_ALL_TOKEN_REPOS=true")
	issueTok := b.token(t, g, testgitea.AliceName, "openid read:repository write:issue read:user").AccessToken
	mustDecode(t, b, issueTok, "create_pr_comment", r.args("number", int(number), "body", "Second thoughts."), &out)
	if cs = readComments(); len(cs) != 2 || cs[1].Body != "Second thoughts." {
		t.Errorf("with write:issue only, comments read back as %+v", cs)
	}

	mustRefuse(t, a, bobTok, "create_pr_comment", r.args("number", int(number), "body", "intrusion"), "not found")
	mustRefuse(t, a, tok, "create_pr_comment", r.args("number", 99, "body", "nowhere"), "not found")
	if res := a.toolCall(t, tok, "create_pr_comment", r.args("number", int(number))); res.Status != http.StatusBadRequest {
		t.Errorf("a comment without a body = %d %s, want 400", res.Status, res.Body)
	}
	if cs = readComments(); len(cs) != 2 {
		t.Errorf("refused comments left %d comments, want 2", len(cs))
	}
}

// TestWritePullsForkWhitelist: the head of a pull request from another
// owner's fork is a repository the call reaches, which the whitelist must
// cover ("bob/*", the fork's name being unknown beforehand).
func TestWritePullsForkWhitelist(t *testing.T) {
	g := needGitea(t)
	ctx := t.Context()
	r := newWptRepo(t, g)
	if err := g.AddCollaborator(ctx, testgitea.AliceName, r.name, testgitea.BobName, "read"); err != nil {
		t.Fatal(err)
	}
	if err := g.AdminDo(ctx, http.MethodPost, r.path("/forks"), testgitea.BobName, map[string]any{}, http.StatusAccepted, nil); err != nil {
		t.Fatalf("forking as bob: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for g.AdminGet(ctx, "/api/v1/repos/bob/"+r.name, http.StatusOK, nil) != nil {
		if time.Now().After(deadline) {
			t.Fatal("bob's fork did not appear")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := g.PutFile(ctx, testgitea.BobName, r.name, "fork.txt", "from bob\n", "fork-branch"); err != nil {
		t.Fatal(err)
	}
	if err := g.AddCollaborator(ctx, testgitea.BobName, r.name, testgitea.AliceName, "read"); err != nil {
		t.Fatal(err)
	}

	a := startAegisFor(t, g, writeScopes, "WRITE_MODE=true", "WRITE_REPOSITORY_WHITELIST=alice/"+r.name, "CONFIRM_DESTRUCTIVE=false")
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	res := a.toolCall(t, tok, "create_pull_request", r.args("title", "From bob's fork", "head", "bob:fork-branch", "base", "main"))
	if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "bob/*") || !strings.Contains(res.Body, "WRITE_REPOSITORY_WHITELIST") {
		t.Errorf("create_pull_request from bob's fork outside the whitelist = %d %s, want 403 naming bob/* and WRITE_REPOSITORY_WHITELIST", res.Status, res.Body)
	}
	if n := r.count(t); n != 0 {
		t.Fatalf("%d pull requests created from a fork outside the whitelist", n)
	}
	// The base owner's own name, in any case, is this repository: allowed.
	var own wptPullOut
	mustDecode(t, a, tok, "create_pull_request", r.args("title", "Own branch", "head", "Alice:feature", "base", "main"), &own)
	if pr := r.read(t, own.Number); pr.Head.Ref != "feature" || own.Head.Repo != "" {
		t.Errorf("the pull request from Alice:feature reads back with head %q, answered head repository %q", pr.Head.Ref, own.Head.Repo)
	}

	// With bob/* listed, the fork's pull request opens.
	b := startAegisFor(t, g, writeScopes, "WRITE_MODE=true", "WRITE_REPOSITORY_WHITELIST=alice/"+r.name+",bob/*", "CONFIRM_DESTRUCTIVE=false")
	btok := b.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	var out wptPullOut
	mustDecode(t, b, btok, "create_pull_request", r.args("title", "From bob's fork", "head", "bob:fork-branch", "base", "main"), &out)
	var fork struct {
		Head struct {
			Ref  string `json:"ref"`
			SHA  string `json:"sha"`
			Repo struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"head"`
	}
	if err := g.AdminGet(ctx, r.path(fmt.Sprintf("/pulls/%d", out.Number)), http.StatusOK, &fork); err != nil {
		t.Fatal(err)
	}
	if fork.Head.Ref != "fork-branch" || fork.Head.Repo.FullName != "bob/"+r.name || out.Head.Repo != "bob/"+r.name {
		t.Errorf("the fork's pull request reads back with head %+v, answered %+v", fork.Head, out.Head)
	}

	// Merging it with delete_branch would delete a branch in bob's fork,
	// which alice/<repo> alone does not cover: refused, nothing merged or deleted.
	mustRefuse(t, a, tok, "merge_pull_request", r.args("number", int(out.Number), "style", "merge", "head_sha", fork.Head.SHA, "delete_branch", true),
		"delete_branch would delete a branch in the fork")
	if pr := r.read(t, out.Number); pr.Merged {
		t.Error("the refused merge merged")
	}
	var branch wpullsBranch
	if err := g.AdminGet(ctx, "/api/v1/repos/bob/"+r.name+"/branches/fork-branch", http.StatusOK, &branch); err != nil || branch.Commit.ID != fork.Head.SHA {
		t.Errorf("bob's fork-branch after the refused merge: %v, at %s", err, branch.Commit.ID)
	}
}

// TestWritePullsScopes: the pipeline refuses a token without a tool's
// declared scopes with a step-up challenge, before anything reaches Gitea.
func TestWritePullsScopes(t *testing.T) {
	g := needGitea(t)
	r := newWptRepo(t, g)
	number := r.open(t, "feature", "Scoped")

	const readOnly = "openid read:repository read:issue read:user"
	a := startAegisFor(t, g, readOnly, "WRITE_MODE=true", "WRITE_ALLOW_ALL_TOKEN_REPOS=true")
	tok := a.token(t, g, testgitea.AliceName, readOnly).AccessToken
	res := a.toolCall(t, tok, "create_pull_request", r.args("title", "Scoped out", "head", "feature", "base", "main"))
	if res.Status != http.StatusForbidden || !strings.Contains(res.WWWAuthenticate, `error="insufficient_scope"`) ||
		!wptScopeParamHas(res.WWWAuthenticate, "write:repository") {
		t.Errorf("create_pull_request with read scopes = %d, WWW-Authenticate %q", res.Status, res.WWWAuthenticate)
	}

	// Label names are resolved through the repository's labels, which
	// Gitea files under the issue scope, and clearing a milestone goes
	// through the issue endpoint: create_pull_request and
	// update_pull_request declare write:issue too.
	const repoOnly = "openid write:repository read:user"
	labels := endpoint(t, g).As(oauthToken(t, g, testgitea.AliceName, repoOnly).AccessToken)
	if _, err := labels.LabelIDs(t.Context(), testgitea.AliceName, r.name, []string{"bug"}); !errors.Is(err, gitea.ErrForbidden) {
		t.Errorf("resolving a label name with write:repository alone: error = %v, want Gitea's ErrForbidden", err)
	}
	b := startAegisFor(t, g, repoOnly, "WRITE_MODE=true", "WRITE_ALLOW_ALL_TOKEN_REPOS=true")
	btok := b.token(t, g, testgitea.AliceName, repoOnly).AccessToken
	for name, args := range map[string]map[string]any{
		"create_pull_request": r.args("title", "Scoped out", "head", "feature", "base", "main", "labels", []string{"bug"}),
		"update_pull_request": r.args("number", int(number), "milestone", 0),
		"create_pr_comment":   r.args("number", int(number), "body", "Scoped out"),
	} {
		res := b.toolCall(t, btok, name, args)
		if res.Status != http.StatusForbidden || !strings.Contains(res.WWWAuthenticate, `error="insufficient_scope"`) ||
			!wptScopeParamHas(res.WWWAuthenticate, "write:issue") {
			t.Errorf("%s without write:issue = %d, WWW-Authenticate %q", name, res.Status, res.WWWAuthenticate)
		}
	}
	// The repository-only tools work with write:repository alone.
	var out struct {
		Reviewers []string `json:"reviewers"`
	}
	if err := g.AddCollaborator(t.Context(), testgitea.AliceName, r.name, testgitea.BobName, "read"); err != nil {
		t.Fatal(err)
	}
	mustDecode(t, b, btok, "request_reviewers", r.args("number", int(number), "reviewers", []string{"bob"}), &out)
	if got := r.read(t, number).reviewers(); !slices.Equal(got, []string{"bob"}) {
		t.Errorf("reviewers read back as %v after request_reviewers with write:repository only", got)
	}

	if n := r.count(t); n != 1 {
		t.Errorf("%d pull requests after refused calls, want 1", n)
	}
	var comments []struct{}
	if err := g.AdminGet(t.Context(), r.path(fmt.Sprintf("/issues/%d/comments", number)), http.StatusOK, &comments); err != nil || len(comments) != 0 {
		t.Errorf("comments after the refused call: %d (%v)", len(comments), err)
	}
}

// wptScopeParamHas reports whether the scope parameter of a challenge names scope.
func wptScopeParamHas(challenge, scope string) bool {
	_, rest, ok := strings.Cut(challenge, `scope="`)
	if !ok {
		return false
	}
	value, _, _ := strings.Cut(rest, `"`)
	return slices.Contains(strings.Fields(value), scope)
}
