package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

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
