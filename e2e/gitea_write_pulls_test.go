package e2e

import (
	"encoding/base64"
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

// The pull request write tests change fresh repositories only, and read
// every change back as the site administrator, not through the client.
const wpullsScopes = "openid write:repository write:issue read:user"

// wpullsPR is what the tests read back of a pull request.
type wpullsPR struct {
	Number    int64  `json:"number"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	State     string `json:"state"`
	Mergeable bool   `json:"mergeable"`
	Merged    bool   `json:"merged"`
	MergeSHA  string `json:"merge_commit_sha"`
	Base      struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	} `json:"base"`
	Head struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	} `json:"head"`
	Assignees []struct {
		Login string `json:"login"`
	} `json:"assignees"`
	Labels []struct {
		Name string `json:"name"`
	} `json:"labels"`
	Milestone *struct {
		Title string `json:"title"`
	} `json:"milestone"`
	RequestedReviewers []struct {
		Login string `json:"login"`
	} `json:"requested_reviewers"`
}

func (p wpullsPR) assignees() []string {
	var out []string
	for _, a := range p.Assignees {
		out = append(out, a.Login)
	}
	return out
}

func (p wpullsPR) labels() []string {
	var out []string
	for _, l := range p.Labels {
		out = append(out, l.Name)
	}
	return out
}

func (p wpullsPR) reviewers() []string {
	var out []string
	for _, r := range p.RequestedReviewers {
		out = append(out, r.Login)
	}
	return out
}

// wpullsFixture is a fresh repository of alice's with branch "feature",
// one commit ahead of main.
type wpullsFixture struct {
	g    *testgitea.Gitea
	e    *gitea.Endpoint
	repo string
}

func newWpullsFixture(t *testing.T) *wpullsFixture {
	t.Helper()
	g := needGitea(t)
	repo, err := g.NewRepo(t.Context(), testgitea.AliceName, "pulls", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.PutFile(t.Context(), testgitea.AliceName, repo, "feature.txt", "one\ntwo\nthree\n", "feature"); err != nil {
		t.Fatal(err)
	}
	return &wpullsFixture{g: g, e: endpoint(t, g), repo: repo}
}

func (f *wpullsFixture) writer(t *testing.T, user, scope string) *gitea.Client {
	t.Helper()
	return f.e.AsWriter(oauthToken(t, f.g, user, scope).AccessToken)
}

func (f *wpullsFixture) path(rest string) string {
	return "/api/v1/repos/" + testgitea.AliceName + "/" + f.repo + rest
}

func (f *wpullsFixture) read(t *testing.T, number int64) wpullsPR {
	t.Helper()
	var pr wpullsPR
	if err := f.g.AdminGet(t.Context(), f.path(fmt.Sprintf("/pulls/%d", number)), http.StatusOK, &pr); err != nil {
		t.Fatal(err)
	}
	return pr
}

// open creates a pull request from head to main as alice, through the admin API.
func (f *wpullsFixture) open(t *testing.T, head, title string) int64 {
	t.Helper()
	var pr wpullsPR
	err := f.g.AdminDo(t.Context(), http.MethodPost, f.path("/pulls"), testgitea.AliceName,
		map[string]any{"head": head, "base": "main", "title": title}, http.StatusCreated, &pr)
	if err != nil {
		t.Fatal(err)
	}
	return pr.Number
}

// waitMergeable waits for Gitea's background check of pull request number
// and returns the pull request once Gitea finds it mergeable.
func (f *wpullsFixture) waitMergeable(t *testing.T, number int64) wpullsPR {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pr := f.read(t, number)
		if pr.Mergeable {
			return pr
		}
		if time.Now().After(deadline) {
			t.Fatalf("pull request #%d not mergeable after 30 s: %+v", number, pr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// commit adds a file to branch as alice and returns the new commit's id.
func (f *wpullsFixture) commit(t *testing.T, branch, path, content string) string {
	t.Helper()
	var out struct {
		Commit struct {
			SHA string `json:"sha"`
		} `json:"commit"`
	}
	err := f.g.AdminDo(t.Context(), http.MethodPost, f.path("/contents/"+path), testgitea.AliceName, map[string]any{
		"content": base64.StdEncoding.EncodeToString([]byte(content)), "message": "Add " + path, "branch": branch,
	}, http.StatusCreated, &out)
	if err != nil {
		t.Fatal(err)
	}
	return out.Commit.SHA
}

type wpullsBranch struct {
	Commit struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	} `json:"commit"`
}

func (f *wpullsFixture) branch(t *testing.T, name string) wpullsBranch {
	t.Helper()
	var b wpullsBranch
	if err := f.g.AdminGet(t.Context(), f.path("/branches/"+name), http.StatusOK, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// merge merges pull request number as c. Gitea rechecks a pull request
// in the background after every push to its branches and refuses to merge
// meanwhile (ErrNotMergeable, "try again later"), even when it looked
// mergeable a moment before, so only that refusal is retried.
func (f *wpullsFixture) merge(t *testing.T, c *gitea.Client, number int64, m gitea.Merge) error {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.MergePullRequest(t.Context(), testgitea.AliceName, f.repo, number, m)
		if !errors.Is(err, gitea.ErrNotMergeable) || time.Now().After(deadline) {
			return err
		}
		if pr := f.read(t, number); pr.Merged {
			t.Fatalf("pull request #%d merged although Gitea answered %v", number, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func wpullsStatus(err error) int {
	var apiErr *gitea.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status
	}
	return -1
}

func TestGiteaWritePullsCreateAndEdit(t *testing.T) {
	f := newWpullsFixture(t)
	ctx := t.Context()
	if err := f.g.AddCollaborator(ctx, testgitea.AliceName, f.repo, testgitea.BobName, "write"); err != nil {
		t.Fatal(err)
	}
	var label, milestone struct {
		ID int64 `json:"id"`
	}
	if err := f.g.AdminDo(ctx, http.MethodPost, f.path("/labels"), "", map[string]any{"name": "bug", "color": "#ee0701"}, http.StatusCreated, &label); err != nil {
		t.Fatal(err)
	}
	if err := f.g.AdminDo(ctx, http.MethodPost, f.path("/milestones"), "", map[string]any{"title": "v1"}, http.StatusCreated, &milestone); err != nil {
		t.Fatal(err)
	}
	alice := f.writer(t, testgitea.AliceName, wpullsScopes)

	created, err := alice.CreatePullRequest(ctx, testgitea.AliceName, f.repo, gitea.PullCreate{
		Title: "Add the feature", Body: "Adds feature.txt.\n\nPlease review.", Head: "feature", Base: "main",
		Assignees: []string{testgitea.BobName}, Labels: []int64{label.ID}, Milestone: milestone.ID,
	})
	if err != nil {
		t.Fatalf("CreatePullRequest: %v", err)
	}
	if created.Number < 1 || created.Title != "Add the feature" {
		t.Fatalf("CreatePullRequest answered %+v", created)
	}
	pr := f.read(t, created.Number)
	if pr.Title != "Add the feature" || pr.Body != "Adds feature.txt.\n\nPlease review." || pr.State != "open" ||
		pr.Base.Ref != "main" || pr.Head.Ref != "feature" {
		t.Errorf("created pull request reads back as %+v", pr)
	}
	if got := pr.assignees(); !slices.Equal(got, []string{testgitea.BobName}) {
		t.Errorf("assignees = %v, want [bob]", got)
	}
	if got := pr.labels(); !slices.Equal(got, []string{"bug"}) {
		t.Errorf("labels = %v, want [bug]", got)
	}
	if pr.Milestone == nil || pr.Milestone.Title != "v1" {
		t.Errorf("milestone = %+v, want v1", pr.Milestone)
	}

	// A second pull request from the same head to the same base is a conflict.
	_, err = alice.CreatePullRequest(ctx, testgitea.AliceName, f.repo, gitea.PullCreate{Title: "Again", Head: "feature", Base: "main"})
	if !errors.Is(err, gitea.ErrConflict) {
		t.Errorf("duplicate CreatePullRequest: error = %v, want ErrConflict", err)
	}
	_, err = alice.CreatePullRequest(ctx, testgitea.AliceName, f.repo, gitea.PullCreate{Title: "Nowhere", Head: "no-such-branch", Base: "main"})
	if !errors.Is(err, gitea.ErrNotFound) {
		t.Errorf("CreatePullRequest from a missing branch: error = %v, want ErrNotFound", err)
	}

	// Retitle, clear the body, and move the base to another branch.
	if err := f.g.PutFile(ctx, testgitea.AliceName, f.repo, "develop.txt", "develop\n", "develop"); err != nil {
		t.Fatal(err)
	}
	title, empty, develop := "Add the feature to develop", "", "develop"
	edited, err := alice.EditPullRequest(ctx, testgitea.AliceName, f.repo, created.Number, gitea.PullEdit{Title: &title, Body: &empty, Base: &develop})
	if err != nil {
		t.Fatalf("EditPullRequest: %v", err)
	}
	if edited.Title != title || edited.Base.Ref != "develop" {
		t.Errorf("EditPullRequest answered title %q base %q", edited.Title, edited.Base.Ref)
	}
	pr = f.read(t, created.Number)
	if pr.Title != title || pr.Body != "" || pr.Base.Ref != "develop" || pr.State != "open" {
		t.Errorf("edited pull request reads back as title %q body %q base %q state %q", pr.Title, pr.Body, pr.Base.Ref, pr.State)
	}
	if got := pr.assignees(); !slices.Equal(got, []string{testgitea.BobName}) {
		t.Errorf("an edit without assignees changed them to %v", got)
	}

	// Empty lists and a zero milestone clear them.
	none, noLabels, noMilestone := []string{}, []int64{}, int64(0)
	edited, err = alice.EditPullRequest(ctx, testgitea.AliceName, f.repo, created.Number,
		gitea.PullEdit{Assignees: &none, Labels: &noLabels, Milestone: &noMilestone})
	if err != nil {
		t.Fatalf("EditPullRequest clearing: %v", err)
	}
	if len(edited.Assignees) != 0 || len(edited.Labels) != 0 || edited.Milestone != nil {
		t.Errorf("EditPullRequest clearing answered assignees %v labels %v milestone %v", edited.Assignees, edited.Labels, edited.Milestone)
	}
	pr = f.read(t, created.Number)
	if len(pr.Assignees) != 0 || len(pr.Labels) != 0 || pr.Milestone != nil {
		t.Errorf("cleared pull request reads back with assignees %v labels %v milestone %+v", pr.assignees(), pr.labels(), pr.Milestone)
	}
	if pr.Title != title {
		t.Errorf("clearing changed the title to %q", pr.Title)
	}

	// Set them again by edit, then a milestone clear alone.
	bob, labels, mid := []string{testgitea.BobName}, []int64{label.ID}, milestone.ID
	if _, err := alice.EditPullRequest(ctx, testgitea.AliceName, f.repo, created.Number,
		gitea.PullEdit{Assignees: &bob, Labels: &labels, Milestone: &mid}); err != nil {
		t.Fatalf("EditPullRequest setting: %v", err)
	}
	pr = f.read(t, created.Number)
	if !slices.Equal(pr.assignees(), bob) || !slices.Equal(pr.labels(), []string{"bug"}) || pr.Milestone == nil || pr.Milestone.Title != "v1" {
		t.Errorf("re-set pull request reads back with assignees %v labels %v milestone %+v", pr.assignees(), pr.labels(), pr.Milestone)
	}
	edited, err = alice.EditPullRequest(ctx, testgitea.AliceName, f.repo, created.Number, gitea.PullEdit{Milestone: &noMilestone})
	if err != nil {
		t.Fatalf("EditPullRequest clearing the milestone: %v", err)
	}
	if pr = f.read(t, created.Number); pr.Milestone != nil || edited.Milestone != nil || !slices.Equal(pr.labels(), []string{"bug"}) {
		t.Errorf("after clearing the milestone alone: read back milestone %+v labels %v, answered milestone %+v", pr.Milestone, pr.labels(), edited.Milestone)
	}

	// Close and reopen.
	closed, open := "closed", "open"
	if _, err := alice.EditPullRequest(ctx, testgitea.AliceName, f.repo, created.Number, gitea.PullEdit{State: &closed}); err != nil {
		t.Fatalf("EditPullRequest closing: %v", err)
	}
	if pr = f.read(t, created.Number); pr.State != "closed" {
		t.Errorf("closed pull request reads back as %q", pr.State)
	}
	// Gitea answers a merge of a closed pull request as if it did not exist.
	err = alice.MergePullRequest(ctx, testgitea.AliceName, f.repo, created.Number, gitea.Merge{Style: "merge", HeadCommitID: pr.Head.SHA})
	if !errors.Is(err, gitea.ErrNotFound) {
		t.Errorf("merging a closed pull request: error = %v, want ErrNotFound", err)
	}
	if pr = f.read(t, created.Number); pr.Merged {
		t.Error("the closed pull request was merged")
	}
	if _, err := alice.EditPullRequest(ctx, testgitea.AliceName, f.repo, created.Number, gitea.PullEdit{State: &open}); err != nil {
		t.Fatalf("EditPullRequest reopening: %v", err)
	}
	if pr = f.read(t, created.Number); pr.State != "open" {
		t.Errorf("reopened pull request reads back as %q", pr.State)
	}

	// Refusals: nothing changes.
	t.Run("refused", func(t *testing.T) {
		merged, blank := "merged", ""
		for name, e := range map[string]gitea.PullEdit{
			"nothing":     {},
			"empty title": {Title: &blank},
			"bad state":   {State: &merged},
			"bad base":    {Base: &[]string{"a..b"}[0]},
			"bad label":   {Labels: &[]int64{0}},
		} {
			if _, err := alice.EditPullRequest(ctx, testgitea.AliceName, f.repo, created.Number, e); !errors.Is(err, gitea.ErrInvalidArgument) {
				t.Errorf("EditPullRequest(%s): error = %v, want ErrInvalidArgument", name, err)
			}
		}
		for name, pc := range map[string]gitea.PullCreate{
			"no title":     {Head: "feature", Base: "main"},
			"same branch":  {Title: "t", Head: "main", Base: "main"},
			"bad head":     {Title: "t", Head: "a:b:c", Base: "main"},
			"suffixed ref": {Title: "t", Head: "feature~1", Base: "main"},
			"bad assignee": {Title: "t", Head: "feature", Base: "main", Assignees: []string{"a b"}},
		} {
			if _, err := alice.CreatePullRequest(ctx, testgitea.AliceName, f.repo, pc); !errors.Is(err, gitea.ErrInvalidArgument) {
				t.Errorf("CreatePullRequest(%s): error = %v, want ErrInvalidArgument", name, err)
			}
		}
		bobWriter := f.writer(t, testgitea.BobName, wpullsScopes)
		// bob is a collaborator here; in alice's seeded private repository he is not.
		_, err := bobWriter.CreatePullRequest(ctx, testgitea.AliceName, testgitea.AliceRepo,
			gitea.PullCreate{Title: "Intrusion", Head: testgitea.PullBranch, Base: "main"})
		if !errors.Is(err, gitea.ErrNotFound) {
			t.Errorf("bob creating in alice/notes: error = %v, want ErrNotFound", err)
		}
		readOnlyScope := f.writer(t, testgitea.AliceName, readScopes)
		if _, err := readOnlyScope.EditPullRequest(ctx, testgitea.AliceName, f.repo, created.Number, gitea.PullEdit{Title: &[]string{"Scoped out"}[0]}); !errors.Is(err, gitea.ErrForbidden) {
			t.Errorf("EditPullRequest with a read scope: error = %v, want ErrForbidden", err)
		}
		readOnlyClient := f.e.As(oauthToken(t, f.g, testgitea.AliceName, wpullsScopes).AccessToken)
		_, err = readOnlyClient.EditPullRequest(ctx, testgitea.AliceName, f.repo, created.Number, gitea.PullEdit{Title: &[]string{"Read only"}[0]})
		if !errors.Is(err, gitea.ErrReadOnly) || wpullsStatus(err) != 0 {
			t.Errorf("EditPullRequest with a read-only client: error = %v, want ErrReadOnly before sending", err)
		}
		_, err = readOnlyClient.CreatePullRequest(ctx, testgitea.AliceName, f.repo, gitea.PullCreate{Title: "Read only", Head: "develop", Base: "main"})
		if !errors.Is(err, gitea.ErrReadOnly) || wpullsStatus(err) != 0 {
			t.Errorf("CreatePullRequest with a read-only client: error = %v, want ErrReadOnly before sending", err)
		}
		if pr := f.read(t, created.Number); pr.Title != title || pr.State != "open" {
			t.Errorf("refused edits changed the pull request to title %q state %q", pr.Title, pr.State)
		}
		var pulls []wpullsPR
		if err := f.g.AdminGet(ctx, f.path("/pulls?state=all"), http.StatusOK, &pulls); err != nil {
			t.Fatal(err)
		}
		if len(pulls) != 1 {
			t.Errorf("the repository has %d pull requests after refused creations, want 1", len(pulls))
		}
	})
}

func TestGiteaWritePullsMerge(t *testing.T) {
	f := newWpullsFixture(t)
	ctx := t.Context()
	number := f.open(t, "feature", "Merge me")
	seen := f.waitMergeable(t, number).Head.SHA
	mainBefore := f.branch(t, "main").Commit.ID
	alice := f.writer(t, testgitea.AliceName, wpullsScopes)

	t.Run("refused", func(t *testing.T) {
		for name, m := range map[string]gitea.Merge{
			"bad style":      {Style: "octopus", HeadCommitID: seen},
			"manual merge":   {Style: "manually-merged", HeadCommitID: seen},
			"no head":        {Style: "merge"},
			"short head":     {Style: "merge", HeadCommitID: seen[:12]},
			"not hex":        {Style: "merge", HeadCommitID: strings.Repeat("g", 40)},
			"control in msg": {Style: "merge", HeadCommitID: seen, Message: "a\x00b"},
		} {
			if err := alice.MergePullRequest(ctx, testgitea.AliceName, f.repo, number, m); !errors.Is(err, gitea.ErrInvalidArgument) {
				t.Errorf("MergePullRequest(%s): error = %v, want ErrInvalidArgument", name, err)
			}
		}
		m := gitea.Merge{Style: "merge", HeadCommitID: seen}
		bob := f.writer(t, testgitea.BobName, wpullsScopes)
		if err := bob.MergePullRequest(ctx, testgitea.AliceName, f.repo, number, m); !errors.Is(err, gitea.ErrNotFound) {
			t.Errorf("bob merging alice's private pull request: error = %v, want ErrNotFound", err)
		}
		readScope := f.writer(t, testgitea.AliceName, readScopes)
		if err := readScope.MergePullRequest(ctx, testgitea.AliceName, f.repo, number, m); !errors.Is(err, gitea.ErrForbidden) {
			t.Errorf("MergePullRequest with a read scope: error = %v, want ErrForbidden", err)
		}
		readOnly := f.e.As(oauthToken(t, f.g, testgitea.AliceName, wpullsScopes).AccessToken)
		if err := readOnly.MergePullRequest(ctx, testgitea.AliceName, f.repo, number, m); !errors.Is(err, gitea.ErrReadOnly) || wpullsStatus(err) != 0 {
			t.Errorf("MergePullRequest with a read-only client: error = %v, want ErrReadOnly before sending", err)
		}
		if pr := f.read(t, number); pr.Merged || pr.State != "open" {
			t.Errorf("refused merges left the pull request merged=%v state %q", pr.Merged, pr.State)
		}
		if got := f.branch(t, "main").Commit.ID; got != mainBefore {
			t.Errorf("refused merges moved main from %s to %s", mainBefore, got)
		}
	})

	// The head moves after the caller looked: the merge bound to the old head is refused.
	moved := f.commit(t, "feature", "late.txt", "pushed after review\n")
	err := alice.MergePullRequest(ctx, testgitea.AliceName, f.repo, number, gitea.Merge{Style: "merge", HeadCommitID: seen})
	if !errors.Is(err, gitea.ErrStaleHead) || !errors.Is(err, gitea.ErrConflict) {
		t.Errorf("MergePullRequest with a stale head: error = %v (HTTP %d), want ErrStaleHead and ErrConflict", err, wpullsStatus(err))
	}
	if pr := f.read(t, number); pr.Merged || pr.State != "open" || pr.Head.SHA != moved {
		t.Errorf("after the stale merge: merged=%v state %q head %s, want unmerged, open, head %s", pr.Merged, pr.State, pr.Head.SHA, moved)
	}
	if got := f.branch(t, "main").Commit.ID; got != mainBefore {
		t.Errorf("the stale merge moved main from %s to %s", mainBefore, got)
	}
	// Gitea's own check, without waiting for its recheck: 409 (or 405 while it rechecks).
	t.Logf("stale head answered HTTP %d", wpullsStatus(err))

	// Bound to the current head, it merges.
	f.waitMergeable(t, number)
	err = f.merge(t, alice, number, gitea.Merge{
		Style: "merge", Title: "Merge the feature", Message: "Reviewed at " + moved[:10] + ".", HeadCommitID: strings.ToUpper(moved),
		DeleteBranchAfterMerge: true,
	})
	if err != nil {
		t.Fatalf("MergePullRequest: %v", err)
	}
	pr := f.read(t, number)
	if !pr.Merged || pr.State != "closed" || pr.MergeSHA == "" {
		t.Fatalf("merged pull request reads back merged=%v state %q merge commit %q", pr.Merged, pr.State, pr.MergeSHA)
	}
	main := f.branch(t, "main")
	if main.Commit.ID != pr.MergeSHA {
		t.Errorf("main is at %s, want the merge commit %s", main.Commit.ID, pr.MergeSHA)
	}
	if want := "Merge the feature\n\nReviewed at " + moved[:10] + "."; strings.TrimSpace(main.Commit.Message) != want {
		t.Errorf("merge commit message = %q, want %q", main.Commit.Message, want)
	}
	var parents struct {
		Parents []struct {
			SHA string `json:"sha"`
		} `json:"parents"`
	}
	if err := f.g.AdminGet(ctx, f.path("/git/commits/"+pr.MergeSHA), http.StatusOK, &parents); err != nil {
		t.Fatal(err)
	}
	if len(parents.Parents) != 2 || parents.Parents[0].SHA != mainBefore || parents.Parents[1].SHA != moved {
		t.Errorf("merge commit parents = %+v, want [%s %s]", parents.Parents, mainBefore, moved)
	}
	if err := f.g.AdminGet(ctx, f.path("/branches/feature"), http.StatusNotFound, nil); err != nil {
		t.Errorf("head branch after DeleteBranchAfterMerge: %v", err)
	}

	// Merging again is refused as not mergeable, not as a stale head.
	err = alice.MergePullRequest(ctx, testgitea.AliceName, f.repo, number, gitea.Merge{Style: "merge", HeadCommitID: moved})
	if !errors.Is(err, gitea.ErrNotMergeable) || errors.Is(err, gitea.ErrStaleHead) || wpullsStatus(err) != http.StatusMethodNotAllowed {
		t.Errorf("merging a merged pull request: error = %v, want ErrNotMergeable (HTTP 405)", err)
	}
	if got := f.branch(t, "main").Commit.ID; got != pr.MergeSHA {
		t.Errorf("the second merge moved main to %s", got)
	}

	// A state change of a merged pull request: Gitea's 412 is a conflict.
	open := "open"
	if _, err := alice.EditPullRequest(ctx, testgitea.AliceName, f.repo, number, gitea.PullEdit{State: &open}); !errors.Is(err, gitea.ErrConflict) {
		t.Errorf("reopening a merged pull request: error = %v, want ErrConflict", err)
	}
}

func TestGiteaWritePullsSquashKeepsBranch(t *testing.T) {
	f := newWpullsFixture(t)
	ctx := t.Context()
	f.commit(t, "feature", "second.txt", "second\n")
	number := f.open(t, "feature", "Squash me")
	head := f.waitMergeable(t, number).Head.SHA
	mainBefore := f.branch(t, "main").Commit.ID
	alice := f.writer(t, testgitea.AliceName, wpullsScopes)
	if err := f.merge(t, alice, number, gitea.Merge{Style: "squash", Title: "Squashed feature", HeadCommitID: head}); err != nil {
		t.Fatalf("MergePullRequest(squash): %v", err)
	}
	pr := f.read(t, number)
	main := f.branch(t, "main")
	if !pr.Merged || main.Commit.ID != pr.MergeSHA || strings.TrimSpace(main.Commit.Message) != "Squashed feature" {
		t.Errorf("after squash: merged=%v merge commit %s, main at %s with message %q", pr.Merged, pr.MergeSHA, main.Commit.ID, main.Commit.Message)
	}
	var commit struct {
		Parents []struct {
			SHA string `json:"sha"`
		} `json:"parents"`
	}
	if err := f.g.AdminGet(ctx, f.path("/git/commits/"+main.Commit.ID), http.StatusOK, &commit); err != nil {
		t.Fatal(err)
	}
	if len(commit.Parents) != 1 || commit.Parents[0].SHA != mainBefore {
		t.Errorf("squash commit parents = %+v, want just %s", commit.Parents, mainBefore)
	}
	// DeleteBranchAfterMerge false keeps the head branch.
	if got := f.branch(t, "feature").Commit.ID; got != head {
		t.Errorf("feature branch is at %s after the squash, want it kept at %s", got, head)
	}
}
