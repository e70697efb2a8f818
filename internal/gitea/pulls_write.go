package gitea

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors of [Client.MergePullRequest]. Match them with errors.Is.
var (
	// ErrStaleHead: the pull request's head is no longer the commit the
	// caller named, so nothing was merged. It also matches [ErrConflict].
	ErrStaleHead = errors.New("the pull request's head is no longer the given commit")
	// ErrNotMergeable: Gitea refused to merge now (HTTP 405): the pull
	// request is already merged, a work in progress, conflicting or still
	// being checked, blocked by branch protection or signing rules, the
	// merge style is not allowed in the repository, or the user may not
	// merge into its base branch.
	ErrNotMergeable = errors.New("gitea refused to merge the pull request")
)

// errStaleHead is the kind of the error for a merge refused over a moved head.
var errStaleHead = fmt.Errorf("%w (%w)", ErrStaleHead, ErrConflict)

// Limits on pull request writes, checked before any request is sent.
const (
	maxPullAssignees   = 20
	maxPullLabels      = 50
	maxPullReviewers   = 20
	maxReviewComments  = 50
	maxTeamNameLen     = 255
	maxMergeMessageLen = 64 << 10
)

// PullCreate is a new pull request.
type PullCreate struct {
	Title string // required
	Body  string
	// Head is the branch to merge: a branch of the repository, or
	// "owner:branch" for a branch of owner's fork of it. Required.
	Head string
	// Base is the branch to merge into. Required.
	Base      string
	Assignees []string // user names
	// Labels are label ids of the repository (or of its organization).
	// Gitea silently drops ids that are not.
	Labels []int64
	// Milestone is a milestone id of the repository; zero means none.
	Milestone int64
}

// CreatePullRequest opens a pull request in owner/repo. Gitea answers
// [ErrConflict] when an open pull request from Head to Base exists,
// [ErrNotFound] when a branch, the fork or the milestone does not, and
// [ErrInvalidRequest] when there is nothing to merge or an assignee cannot
// be assigned.
func (c *Client) CreatePullRequest(ctx context.Context, owner, repo string, pc PullCreate) (*PullRequest, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if err := checkText("title", pc.Title, maxTitleLen); err != nil {
		return nil, err
	}
	if err := checkProse("body", pc.Body, maxProseLen); err != nil {
		return nil, err
	}
	if err := checkPullHead(pc.Head); err != nil {
		return nil, err
	}
	if err := checkPullBranch("base", pc.Base); err != nil {
		return nil, err
	}
	if pc.Head == pc.Base {
		return nil, invalid("head and base must be different branches")
	}
	if err := checkPullUsers("assignees", pc.Assignees, maxPullAssignees); err != nil {
		return nil, err
	}
	if err := checkPullIDs("labels", pc.Labels, maxPullLabels); err != nil {
		return nil, err
	}
	if pc.Milestone < 0 {
		return nil, invalid("milestone must be a milestone id, or zero for none")
	}
	body := struct {
		Title     string   `json:"title"`
		Body      string   `json:"body,omitempty"`
		Head      string   `json:"head"`
		Base      string   `json:"base"`
		Assignees []string `json:"assignees,omitempty"`
		Labels    []int64  `json:"labels,omitempty"`
		Milestone int64    `json:"milestone,omitempty"`
	}{pc.Title, pc.Body, pc.Head, pc.Base, pc.Assignees, pc.Labels, pc.Milestone}
	var pr PullRequest
	if _, err := c.send(ctx, http.MethodPost, "POST /api/v1/repos/{owner}/{repo}/pulls", p+"/pulls", nil, body, &pr); err != nil {
		return nil, err
	}
	return &pr, nil
}

// PullEdit changes a pull request; nil fields are left as they are.
type PullEdit struct {
	Title *string // cannot be empty
	Body  *string // empty clears it
	State *string // "open" or "closed"
	Base  *string // the branch to merge into
	// Assignees replaces the assignees; an empty list removes them all.
	Assignees *[]string
	// Labels replaces the labels (label ids); an empty list removes them
	// all. Gitea silently drops ids that are not labels of the repository.
	Labels *[]int64
	// Milestone sets the milestone (an id); zero removes it.
	Milestone *int64
}

// EditPullRequest changes pull request number of owner/repo and returns it
// as it now is.
//
// Gitea applies the assignees, labels and milestone only for a user who may
// write pull requests; for the mere author it silently leaves them. Gitea's
// pull request edit cannot remove a milestone (it reads zero as "leave
// it"), so a zero Milestone is sent first as an edit of the issue behind
// the pull request, which needs the token's issue scope; should a later
// step fail, the milestone stays removed. Gitea answers [ErrNotFound] for
// a Base branch that does not exist, [ErrConflict] when an open pull
// request from the same head to Base exists, and a state change of a
// merged pull request with HTTP 412, which is reported as [ErrConflict].
func (c *Client) EditPullRequest(ctx context.Context, owner, repo string, number int64, e PullEdit) (*PullRequest, error) {
	p, err := pullPath(owner, repo, number)
	if err != nil {
		return nil, err
	}
	if e == (PullEdit{}) {
		return nil, invalid("nothing to change: set at least one field")
	}
	type editBody struct {
		Title     string    `json:"title,omitempty"`
		Body      *string   `json:"body,omitempty"`
		State     *string   `json:"state,omitempty"`
		Base      string    `json:"base,omitempty"`
		Assignees *[]string `json:"assignees,omitempty"`
		Labels    *[]int64  `json:"labels,omitempty"`
		Milestone int64     `json:"milestone,omitempty"`
	}
	var body editBody
	if e.Title != nil {
		if err := checkText("title", *e.Title, maxTitleLen); err != nil {
			return nil, err
		}
		body.Title = *e.Title
	}
	if e.Body != nil {
		if err := checkProse("body", *e.Body, maxProseLen); err != nil {
			return nil, err
		}
		body.Body = e.Body
	}
	if e.State != nil {
		if *e.State != "open" && *e.State != "closed" {
			return nil, invalid("state must be open or closed")
		}
		body.State = e.State
	}
	if e.Base != nil {
		if err := checkPullBranch("base", *e.Base); err != nil {
			return nil, err
		}
		body.Base = *e.Base
	}
	if e.Assignees != nil {
		if err := checkPullUsers("assignees", *e.Assignees, maxPullAssignees); err != nil {
			return nil, err
		}
		// A nil list would be sent as null, which Gitea reads as "leave them".
		names := append([]string{}, *e.Assignees...)
		body.Assignees = &names
	}
	if e.Labels != nil {
		if err := checkPullIDs("labels", *e.Labels, maxPullLabels); err != nil {
			return nil, err
		}
		ids := append([]int64{}, *e.Labels...)
		body.Labels = &ids
	}
	clearMilestone := false
	if e.Milestone != nil {
		switch m := *e.Milestone; {
		case m < 0:
			return nil, invalid("milestone must be a milestone id, or zero to remove it")
		case m == 0:
			clearMilestone = true
		default:
			body.Milestone = m
		}
	}
	if clearMilestone {
		ip, err := issuePath(owner, repo, number)
		if err != nil {
			return nil, err
		}
		zero := struct {
			Milestone int64 `json:"milestone"`
		}{}
		if _, err := c.send(ctx, http.MethodPatch, "PATCH /api/v1/repos/{owner}/{repo}/issues/{number}", ip, nil, zero, nil); err != nil {
			return nil, err
		}
		if body == (editBody{}) {
			return c.PullRequest(ctx, owner, repo, number)
		}
	}
	const op = "PATCH /api/v1/repos/{owner}/{repo}/pulls/{number}"
	var pr PullRequest
	if _, err := c.send(ctx, http.MethodPatch, op, p, nil, body, &pr); err != nil {
		return nil, pullStatusKind(err, http.StatusPreconditionFailed, ErrConflict)
	}
	return &pr, nil
}

// MergeStyles are the ways Gitea can merge a pull request.
var MergeStyles = []string{"merge", "rebase", "rebase-merge", "squash", "fast-forward-only"}

// Merge says how to merge a pull request.
type Merge struct {
	// Style is one of MergeStyles. Required.
	Style string
	// Title is the merge commit's subject; empty means Gitea's default.
	Title string
	// Message is the rest of the merge commit's message.
	Message string
	// HeadCommitID is the full id of the head commit the caller reviewed.
	// Required: Gitea merges only if the head is still this commit.
	HeadCommitID string
	// DeleteBranchAfterMerge deletes the head branch once merged; false
	// keeps it, whatever the repository's default.
	DeleteBranchAfterMerge bool
}

// MergePullRequest merges pull request number of owner/repo, provided its
// head is still m.HeadCommitID. It never forces a merge past branch
// protection.
//
// When Gitea refuses, the error matches [ErrStaleHead] if the head has
// moved from m.HeadCommitID (Gitea answers 409, or 405 while it rechecks
// the moved head); otherwise [ErrNotMergeable] for HTTP 405 (already
// merged, not mergeable yet, style not allowed, ...), [ErrConflict] for
// HTTP 409 (merge conflicts, the base moved during the merge, a hook
// rejected the push), and [ErrNotFound] for a closed pull request as well
// as a missing one.
func (c *Client) MergePullRequest(ctx context.Context, owner, repo string, number int64, m Merge) error {
	p, err := pullPath(owner, repo, number)
	if err != nil {
		return err
	}
	known := false
	for _, s := range MergeStyles {
		known = known || s == m.Style
	}
	if !known {
		return invalid("style must be one of %v", MergeStyles)
	}
	if m.Title != "" {
		if err := checkText("title", m.Title, maxTitleLen); err != nil {
			return err
		}
	}
	if err := checkProse("message", m.Message, maxMergeMessageLen); err != nil {
		return err
	}
	if !isFullObjectID(m.HeadCommitID) {
		return invalid("head_commit_id must be the full id of the pull request's head commit: 40 or 64 hexadecimal digits")
	}
	head := strings.ToLower(m.HeadCommitID)
	deleteBranch := m.DeleteBranchAfterMerge
	// force_merge and merge_when_checks_succeed are never sent.
	body := struct {
		Do           string `json:"do"`
		Title        string `json:"merge_title_field,omitempty"`
		Message      string `json:"merge_message_field,omitempty"`
		HeadCommitID string `json:"head_commit_id"`
		DeleteBranch *bool  `json:"delete_branch_after_merge"`
	}{m.Style, m.Title, m.Message, head, &deleteBranch}
	const op = "POST /api/v1/repos/{owner}/{repo}/pulls/{number}/merge"
	_, err = c.send(ctx, http.MethodPost, op, p+"/merge", nil, body, nil)
	var apiErr *APIError
	if err == nil || !errors.As(err, &apiErr) || (apiErr.Status != http.StatusConflict && apiErr.Status != http.StatusMethodNotAllowed) {
		return err
	}
	// Gitea's answer says why only in its body, which is not read: the
	// pull request is looked at again to tell a moved head apart.
	if pr, rerr := c.PullRequest(ctx, owner, repo, number); rerr == nil && !pr.Merged && pr.Head.SHA != "" && !strings.EqualFold(pr.Head.SHA, head) {
		return &APIError{Op: op, Status: apiErr.Status, kind: errStaleHead}
	}
	return pullStatusKind(err, http.StatusMethodNotAllowed, ErrNotMergeable)
}

// RequestReviewers asks users and teams (of the organization owning
// owner/repo) to review pull request number. Gitea ignores teams for a
// repository a user owns; it answers [ErrNotFound] for an unknown user or
// team, [ErrInvalidRequest] for a user who cannot review (the author, or
// one without access), and [ErrForbidden] for a closed pull request.
func (c *Client) RequestReviewers(ctx context.Context, owner, repo string, number int64, reviewers, teamReviewers []string) error {
	p, err := pullPath(owner, repo, number)
	if err != nil {
		return err
	}
	if len(reviewers) == 0 && len(teamReviewers) == 0 {
		return invalid("name at least one reviewer or team")
	}
	if err := checkPullUsers("reviewers", reviewers, maxPullReviewers); err != nil {
		return err
	}
	if len(teamReviewers) > maxPullReviewers {
		return invalid("team_reviewers: at most %d teams", maxPullReviewers)
	}
	for _, t := range teamReviewers {
		if t == "" || len(t) > maxTeamNameLen || !namePattern.MatchString(t) {
			return invalid("team_reviewers must be team names of 1-%d letters, digits, '-', '_' or '.'", maxTeamNameLen)
		}
	}
	body := struct {
		Reviewers     []string `json:"reviewers"`
		TeamReviewers []string `json:"team_reviewers"`
	}{append([]string{}, reviewers...), append([]string{}, teamReviewers...)}
	_, err = c.send(ctx, http.MethodPost, "POST /api/v1/repos/{owner}/{repo}/pulls/{number}/requested_reviewers",
		p+"/requested_reviewers", nil, body, nil)
	return err
}

// Review events [Client.CreatePullReview] accepts.
const (
	ReviewEventApprove        = "APPROVED"
	ReviewEventRequestChanges = "REQUEST_CHANGES"
	ReviewEventComment        = "COMMENT"
)

// ReviewCreate is a review to submit.
type ReviewCreate struct {
	// Event is ReviewEventApprove, ReviewEventRequestChanges (which needs
	// a Body) or ReviewEventComment (which needs a Body or Comments).
	// Required; Gitea would file any other event as a pending review.
	Event string
	Body  string
	// CommitID is the full id of the commit reviewed; empty means the
	// current head. An approval of an older commit is marked stale when
	// the changes differ since.
	CommitID string
	Comments []ReviewComment
}

// ReviewComment is a comment on one line of the diff: NewLine in the new
// file, or OldLine in the old one (for a removed line); set exactly one.
type ReviewComment struct {
	Path    string
	Body    string
	NewLine int64
	OldLine int64
}

// CreatePullReview submits a review of pull request number of owner/repo.
// Gitea answers [ErrInvalidRequest] when the author approves or requests
// changes on their own pull request, and when approving or requesting
// changes on a closed one.
func (c *Client) CreatePullReview(ctx context.Context, owner, repo string, number int64, r ReviewCreate) (*PullReview, error) {
	p, err := pullPath(owner, repo, number)
	if err != nil {
		return nil, err
	}
	if err := checkProse("body", r.Body, maxProseLen); err != nil {
		return nil, err
	}
	hasBody := strings.TrimSpace(r.Body) != ""
	switch r.Event {
	case ReviewEventApprove:
	case ReviewEventRequestChanges:
		if !hasBody {
			return nil, invalid("a %s review needs a body", ReviewEventRequestChanges)
		}
	case ReviewEventComment:
		if !hasBody && len(r.Comments) == 0 {
			return nil, invalid("a %s review needs a body or comments", ReviewEventComment)
		}
	default:
		return nil, invalid("event must be %s, %s or %s", ReviewEventApprove, ReviewEventRequestChanges, ReviewEventComment)
	}
	if r.CommitID != "" && !isFullObjectID(r.CommitID) {
		return nil, invalid("commit_id must be a full commit id: 40 or 64 hexadecimal digits")
	}
	if len(r.Comments) > maxReviewComments {
		return nil, invalid("comments: at most %d", maxReviewComments)
	}
	type comment struct {
		Path    string `json:"path"`
		Body    string `json:"body"`
		OldLine int64  `json:"old_position"`
		NewLine int64  `json:"new_position"`
	}
	comments := make([]comment, 0, len(r.Comments))
	for i, cm := range r.Comments {
		if _, err := escapeRepoPath(cm.Path); err != nil {
			return nil, invalid("comments[%d].path must be a file path relative to the repository root", i)
		}
		if strings.TrimSpace(cm.Body) == "" {
			return nil, invalid("comments[%d].body must not be empty", i)
		}
		if err := checkProse(fmt.Sprintf("comments[%d].body", i), cm.Body, maxProseLen); err != nil {
			return nil, err
		}
		if cm.NewLine < 0 || cm.OldLine < 0 || (cm.NewLine > 0) == (cm.OldLine > 0) {
			return nil, invalid("comments[%d]: set exactly one of new_line and old_line, a positive line number", i)
		}
		comments = append(comments, comment{Path: cm.Path, Body: cm.Body, OldLine: cm.OldLine, NewLine: cm.NewLine})
	}
	body := struct {
		Event    string    `json:"event"`
		Body     string    `json:"body"`
		CommitID string    `json:"commit_id,omitempty"`
		Comments []comment `json:"comments,omitempty"`
	}{r.Event, r.Body, strings.ToLower(r.CommitID), comments}
	var rv PullReview
	if _, err := c.send(ctx, http.MethodPost, "POST /api/v1/repos/{owner}/{repo}/pulls/{number}/reviews", p+"/reviews", nil, body, &rv); err != nil {
		return nil, err
	}
	return &rv, nil
}

// checkPullHead accepts a branch, or "owner:branch" for a fork's branch.
func checkPullHead(head string) error {
	if owner, branch, fork := strings.Cut(head, ":"); fork {
		if checkName("head owner", owner) != nil || checkPullBranch("head", branch) != nil {
			return invalid("head must be a branch, or owner:branch for a branch of a fork")
		}
		return nil
	}
	return checkPullBranch("head", head)
}

// checkPullBranch accepts a branch name as git allows it, without the
// revision suffixes (~, ^) Gitea would resolve.
func checkPullBranch(what, name string) error {
	if err := checkGitRef(what, name); err != nil {
		return err
	}
	if strings.ContainsAny(name, "~^") {
		return invalid("%s must be a branch name, without '~' or '^'", what)
	}
	return nil
}

func checkPullUsers(what string, names []string, max int) error {
	if len(names) > max {
		return invalid("%s: at most %d users", what, max)
	}
	for _, n := range names {
		if err := checkName(what, n); err != nil {
			return err
		}
	}
	return nil
}

func checkPullIDs(what string, ids []int64, max int) error {
	if len(ids) > max {
		return invalid("%s: at most %d ids", what, max)
	}
	for _, id := range ids {
		if id < 1 {
			return invalid("%s must be positive ids", what)
		}
	}
	return nil
}

// pullStatusKind gives err, a failed call, the sentinel kind when Gitea
// answered with status.
func pullStatusKind(err error, status int, kind error) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == status {
		return &APIError{Op: apiErr.Op, Status: apiErr.Status, RetryAfter: apiErr.RetryAfter, kind: kind}
	}
	return err
}
