package testgitea

import (
	"context"
	"fmt"
	"net/http"
)

// The issue tracker of alice/notes and the labels of acme, seeded on top of
// AliceIssue and AlicePull.
//
// AliceIssue carries the labels LabelBug and LabelDocs, the open milestone
// MilestoneOpen, alice as assignee, and two comments: CommentByAlice, then
// CommentByAdmin (by the site administrator: bob has no access to
// alice/notes, and other tests depend on that, so he is not made a
// collaborator). ClosedIssue is closed, carries LabelDocs and refers to
// AliceIssue, which puts a reference on AliceIssue's timeline.
// MilestoneClosed is a closed milestone. AlicePull has one COMMENT review by
// the site administrator (alice, its author, cannot approve it), with the
// body ReviewBody and one line comment ReviewLineComment on line
// ReviewLine of ReviewPath. OrgLabel is a label of Org.
const (
	LabelBug           = "bug"
	LabelDocs          = "docs"
	MilestoneOpen      = "v1.0"
	MilestoneClosed    = "v0.1"
	CommentByAlice     = "I will start with the setup section."
	CommentByAdmin     = "Please cover the configuration file too."
	ClosedIssue        = 3
	ClosedIssueTitle   = "Fix the typo in the README"
	ReviewBody         = "Nice and short."
	ReviewLineComment  = "Maybe end the greeting with an exclamation mark?"
	ReviewPath         = "greeting.txt"
	ReviewLine         = 1
	OrgLabel           = "security"
	orgLabelDescribing = "Security-sensitive changes"
)

func (g *Gitea) seedTracker(ctx context.Context) error {
	const repo = "/api/v1/repos/" + AliceName + "/" + AliceRepo
	labels := map[string]int64{}
	for _, l := range []struct{ name, color, description string }{
		{LabelBug, "#ee0701", "Something does not work"},
		{LabelDocs, "#0075ca", "Documentation"},
	} {
		var out struct{ ID int64 }
		err := g.api(ctx, apiCall{method: http.MethodPost, path: repo + "/labels", sudo: AliceName, want: http.StatusCreated,
			body: map[string]any{"name": l.name, "color": l.color, "description": l.description}}, &out)
		if err != nil {
			return err
		}
		labels[l.name] = out.ID
	}
	var milestone struct{ ID int64 }
	err := g.api(ctx, apiCall{method: http.MethodPost, path: repo + "/milestones", sudo: AliceName, want: http.StatusCreated,
		body: map[string]any{"title": MilestoneOpen, "description": "The first release.", "due_on": "2030-01-01T00:00:00Z"}}, &milestone)
	if err != nil {
		return err
	}
	err = g.api(ctx, apiCall{method: http.MethodPost, path: repo + "/milestones", sudo: AliceName, want: http.StatusCreated,
		body: map[string]any{"title": MilestoneClosed, "description": "The prototype.", "state": "closed"}}, nil)
	if err != nil {
		return err
	}

	issue := fmt.Sprintf("%s/issues/%d", repo, AliceIssue)
	steps := []apiCall{
		{method: http.MethodPatch, path: issue, sudo: AliceName, want: http.StatusCreated,
			body: map[string]any{"assignees": []string{AliceName}, "milestone": milestone.ID}},
		{method: http.MethodPost, path: issue + "/labels", sudo: AliceName, want: http.StatusOK,
			body: map[string]any{"labels": []int64{labels[LabelBug], labels[LabelDocs]}}},
		{method: http.MethodPost, path: issue + "/comments", sudo: AliceName, want: http.StatusCreated,
			body: map[string]any{"body": CommentByAlice}},
		{method: http.MethodPost, path: issue + "/comments", want: http.StatusCreated,
			body: map[string]any{"body": CommentByAdmin}},
	}
	for _, c := range steps {
		if err := g.api(ctx, c, nil); err != nil {
			return err
		}
	}

	var closed struct{ Number int }
	err = g.api(ctx, apiCall{method: http.MethodPost, path: repo + "/issues", sudo: AliceName, want: http.StatusCreated,
		body: map[string]any{"title": ClosedIssueTitle, "body": fmt.Sprintf("Found while working on #%d.", AliceIssue),
			"labels": []int64{labels[LabelDocs]}, "closed": true}}, &closed)
	if err != nil {
		return err
	}
	if closed.Number != ClosedIssue {
		return fmt.Errorf("alice's closed issue is #%d, want #%d", closed.Number, ClosedIssue)
	}

	err = g.api(ctx, apiCall{method: http.MethodPost, path: fmt.Sprintf("%s/pulls/%d/reviews", repo, AlicePull), want: http.StatusOK,
		body: map[string]any{"event": "COMMENT", "body": ReviewBody, "comments": []map[string]any{
			{"path": ReviewPath, "new_position": ReviewLine, "body": ReviewLineComment},
		}}}, nil)
	if err != nil {
		return err
	}
	return g.api(ctx, apiCall{method: http.MethodPost, path: "/api/v1/orgs/" + Org + "/labels", want: http.StatusCreated,
		body: map[string]any{"name": OrgLabel, "color": "#b60205", "description": orgLabelDescribing}}, nil)
}
