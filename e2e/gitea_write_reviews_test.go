package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

func TestGiteaWritePullsReviews(t *testing.T) {
	f := newWpullsFixture(t)
	ctx := t.Context()
	if err := f.g.AddCollaborator(ctx, testgitea.AliceName, f.repo, testgitea.BobName, "write"); err != nil {
		t.Fatal(err)
	}
	number := f.open(t, "feature", "Review me")
	head := f.waitMergeable(t, number).Head.SHA
	alice := f.writer(t, testgitea.AliceName, wpullsScopes)
	bob := f.writer(t, testgitea.BobName, wpullsScopes)

	if err := alice.RequestReviewers(ctx, testgitea.AliceName, f.repo, number, []string{testgitea.BobName}, nil); err != nil {
		t.Fatalf("RequestReviewers: %v", err)
	}
	if got := f.read(t, number).reviewers(); !slices.Equal(got, []string{testgitea.BobName}) {
		t.Errorf("requested reviewers read back as %v, want [bob]", got)
	}

	// bob requests changes with a comment on line 2 of the new file.
	rc, err := bob.CreatePullReview(ctx, testgitea.AliceName, f.repo, number, gitea.ReviewCreate{
		Event: gitea.ReviewEventRequestChanges, Body: "Please fix line two.", CommitID: head,
		Comments: []gitea.ReviewComment{{Path: "feature.txt", Body: "Should be 2.", NewLine: 2}},
	})
	if err != nil {
		t.Fatalf("CreatePullReview(REQUEST_CHANGES): %v", err)
	}
	if rc.ID < 1 || rc.State != "REQUEST_CHANGES" {
		t.Errorf("CreatePullReview answered %+v", rc)
	}
	// Then approves.
	ap, err := bob.CreatePullReview(ctx, testgitea.AliceName, f.repo, number, gitea.ReviewCreate{Event: gitea.ReviewEventApprove})
	if err != nil {
		t.Fatalf("CreatePullReview(APPROVED): %v", err)
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
	var reviews []review
	if err := f.g.AdminGet(ctx, f.path(fmt.Sprintf("/pulls/%d/reviews", number)), http.StatusOK, &reviews); err != nil {
		t.Fatal(err)
	}
	byID := map[int64]review{}
	for _, r := range reviews {
		byID[r.ID] = r
	}
	if r := byID[rc.ID]; r.State != "REQUEST_CHANGES" || r.User.Login != testgitea.BobName || r.Body != "Please fix line two." || r.CommitID != head || r.Comments != 1 {
		t.Errorf("request-changes review reads back as %+v", r)
	}
	if r := byID[ap.ID]; r.State != "APPROVED" || r.User.Login != testgitea.BobName || r.CommitID != head {
		t.Errorf("approval reads back as %+v (head %s)", r, head)
	}
	var comments []struct {
		Path     string `json:"path"`
		Body     string `json:"body"`
		Position int    `json:"position"`
	}
	if err := f.g.AdminGet(ctx, f.path(fmt.Sprintf("/pulls/%d/reviews/%d/comments", number, rc.ID)), http.StatusOK, &comments); err != nil {
		t.Fatal(err)
	}
	if len(comments) != 1 || comments[0].Path != "feature.txt" || comments[0].Body != "Should be 2." || comments[0].Position != 2 {
		t.Errorf("review comments read back as %+v", comments)
	}

	t.Run("refused", func(t *testing.T) {
		before := len(reviews)
		// Gitea refuses the author's own approval.
		if _, err := alice.CreatePullReview(ctx, testgitea.AliceName, f.repo, number, gitea.ReviewCreate{Event: gitea.ReviewEventApprove}); !errors.Is(err, gitea.ErrInvalidRequest) {
			t.Errorf("alice approving her own pull request: error = %v, want ErrInvalidRequest", err)
		}
		// and the author as her own reviewer.
		if err := alice.RequestReviewers(ctx, testgitea.AliceName, f.repo, number, []string{testgitea.AliceName}, nil); !errors.Is(err, gitea.ErrInvalidRequest) {
			t.Errorf("alice requesting her own review: error = %v, want ErrInvalidRequest", err)
		}
		if err := alice.RequestReviewers(ctx, testgitea.AliceName, f.repo, number, []string{"nobody-here"}, nil); !errors.Is(err, gitea.ErrNotFound) {
			t.Errorf("requesting an unknown reviewer: error = %v, want ErrNotFound", err)
		}
		for name, r := range map[string]gitea.ReviewCreate{
			"pending":               {Event: "PENDING", Body: "b"},
			"lower case":            {Event: "approved"},
			"request without body":  {Event: gitea.ReviewEventRequestChanges, Body: "  "},
			"empty comment review":  {Event: gitea.ReviewEventComment},
			"short commit":          {Event: gitea.ReviewEventApprove, CommitID: head[:7]},
			"comment on both sides": {Event: gitea.ReviewEventComment, Comments: []gitea.ReviewComment{{Path: "feature.txt", Body: "x", NewLine: 1, OldLine: 1}}},
			"comment without line":  {Event: gitea.ReviewEventComment, Comments: []gitea.ReviewComment{{Path: "feature.txt", Body: "x"}}},
			"comment bad path":      {Event: gitea.ReviewEventComment, Comments: []gitea.ReviewComment{{Path: "../x", Body: "x", NewLine: 1}}},
		} {
			if _, err := bob.CreatePullReview(ctx, testgitea.AliceName, f.repo, number, r); !errors.Is(err, gitea.ErrInvalidArgument) {
				t.Errorf("CreatePullReview(%s): error = %v, want ErrInvalidArgument", name, err)
			}
		}
		if err := alice.RequestReviewers(ctx, testgitea.AliceName, f.repo, number, nil, nil); !errors.Is(err, gitea.ErrInvalidArgument) {
			t.Errorf("RequestReviewers of nobody: error = %v, want ErrInvalidArgument", err)
		}
		readScope := f.writer(t, testgitea.BobName, readScopes)
		if _, err := readScope.CreatePullReview(ctx, testgitea.AliceName, f.repo, number, gitea.ReviewCreate{Event: gitea.ReviewEventComment, Body: "scoped out"}); !errors.Is(err, gitea.ErrForbidden) {
			t.Errorf("CreatePullReview with a read scope: error = %v, want ErrForbidden", err)
		}
		if err := f.writer(t, testgitea.AliceName, readScopes).RequestReviewers(ctx, testgitea.AliceName, f.repo, number, []string{testgitea.BobName}, nil); !errors.Is(err, gitea.ErrForbidden) {
			t.Errorf("RequestReviewers with a read scope: error = %v, want ErrForbidden", err)
		}
		readOnly := f.e.As(oauthToken(t, f.g, testgitea.BobName, wpullsScopes).AccessToken)
		if _, err := readOnly.CreatePullReview(ctx, testgitea.AliceName, f.repo, number, gitea.ReviewCreate{Event: gitea.ReviewEventComment, Body: "read only"}); !errors.Is(err, gitea.ErrReadOnly) || wpullsStatus(err) != 0 {
			t.Errorf("CreatePullReview with a read-only client: error = %v, want ErrReadOnly before sending", err)
		}
		if err := readOnly.RequestReviewers(ctx, testgitea.AliceName, f.repo, number, []string{testgitea.BobName}, nil); !errors.Is(err, gitea.ErrReadOnly) || wpullsStatus(err) != 0 {
			t.Errorf("RequestReviewers with a read-only client: error = %v, want ErrReadOnly before sending", err)
		}
		// bob has no access to alice's seeded private repository.
		if _, err := bob.CreatePullReview(ctx, testgitea.AliceName, testgitea.AliceRepo, testgitea.AlicePull, gitea.ReviewCreate{Event: gitea.ReviewEventComment, Body: "intrusion"}); !errors.Is(err, gitea.ErrNotFound) {
			t.Errorf("bob reviewing alice/notes: error = %v, want ErrNotFound", err)
		}
		var after []review
		if err := f.g.AdminGet(ctx, f.path(fmt.Sprintf("/pulls/%d/reviews", number)), http.StatusOK, &after); err != nil {
			t.Fatal(err)
		}
		if len(after) != before {
			t.Errorf("refused reviews left %d reviews, want %d", len(after), before)
		}
	})
}
