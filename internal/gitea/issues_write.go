package gitea

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on what the issue tracker's write methods send, checked before
// any request is sent.
const (
	// maxIssueAssignees bounds the assignees set in one call.
	maxIssueAssignees = 10
	// maxIssueLabelIDs bounds the labels added, or looked up, in one call.
	maxIssueLabelIDs = 50
)

// IssueCreate is a new issue.
type IssueCreate struct {
	// Title is required: 1-255 bytes, not only spaces, without control characters.
	Title string
	// Body is the Markdown description; it may be empty.
	Body string
	// Labels are label ids of the repository (or of its organization);
	// see [Client.LabelIDs] to resolve names.
	Labels []int64
	// Milestone is a milestone id of the repository; 0 means none.
	Milestone int64
	// Assignees are user names; empty means none.
	Assignees []string
}

type createIssueBody struct {
	Title     string   `json:"title"`
	Body      string   `json:"body"`
	Labels    []int64  `json:"labels,omitempty"`
	Milestone int64    `json:"milestone,omitempty"`
	Assignees []string `json:"assignees,omitempty"`
}

// CreateIssue opens an issue in owner/repo and returns it as Gitea stored it.
//
// Gitea sets labels, milestone and assignees only for users who may write
// the repository's issues; for anyone else (e.g. a non-collaborator opening
// an issue in a public repository) it drops them silently, and it drops
// label ids that are not labels of the repository or its organization. The
// returned issue shows what was set. A milestone is looked up first: an
// unknown one is an [ErrInvalidArgument] error and nothing is created. An
// unknown assignee, or one who cannot be assigned, is refused by Gitea
// ([ErrInvalidRequest], HTTP 422).
func (c *Client) CreateIssue(ctx context.Context, owner, repo string, in IssueCreate) (*Issue, error) {
	const op = "POST /api/v1/repos/{owner}/{repo}/issues"
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if err := checkTrackerTitle("title", in.Title, maxTitleLen); err != nil {
		return nil, err
	}
	if err := checkTrackerBody("body", in.Body, false); err != nil {
		return nil, err
	}
	if err := checkLabelIDs(in.Labels, false); err != nil {
		return nil, err
	}
	if in.Milestone < 0 {
		return nil, invalid("milestone must be a positive milestone id, or 0 for none")
	}
	if err := checkAssignees(in.Assignees); err != nil {
		return nil, err
	}
	if err := c.checkTrackerWrite(op); err != nil {
		return nil, err
	}
	if in.Milestone > 0 {
		if err := c.checkMilestoneExists(ctx, owner, repo, in.Milestone); err != nil {
			return nil, err
		}
	}
	body := createIssueBody(in)
	var is Issue
	if _, err := c.send(ctx, http.MethodPost, op, p+"/issues", nil, body, &is); err != nil {
		return nil, err
	}
	return &is, nil
}

// IssueEdit changes an issue. Nil fields are left as they are; at least
// one must be set.
type IssueEdit struct {
	// Title, when set, must be 1-255 bytes and not only spaces (Gitea
	// ignores an empty title).
	Title *string
	// Body, when set, replaces the description; empty clears it.
	Body *string
	// State is "open" or "closed".
	State *string
	// Assignees, when set, replaces the assignees; an empty slice clears them.
	Assignees *[]string
	// Milestone, when set, is a milestone id of the repository; 0 clears it.
	Milestone *int64
}

type editIssueBody struct {
	Title     string    `json:"title,omitempty"`
	Body      *string   `json:"body,omitempty"`
	State     *string   `json:"state,omitempty"`
	Assignees *[]string `json:"assignees,omitempty"`
	Milestone *int64    `json:"milestone,omitempty"`
}

// EditIssue changes issue (or pull request) number of owner/repo and
// returns it as Gitea stored it.
//
// Gitea applies the fields one after the other, so a failure can leave
// the earlier ones applied. It changes assignees and milestone only for
// users who may write the repository's issues, and ignores them silently
// for anyone else (an issue's author may still change its title, body and
// state); the returned issue shows the result. A milestone is looked up
// first, because Gitea answers an unknown one with a server error after
// applying the other fields: an unknown one is an [ErrInvalidArgument]
// error and nothing is changed. Closing an issue with open dependencies,
// or changing the state of a merged pull request, is an [ErrConflict]
// error (Gitea answers HTTP 412).
func (c *Client) EditIssue(ctx context.Context, owner, repo string, number int64, in IssueEdit) (*Issue, error) {
	const op = "PATCH /api/v1/repos/{owner}/{repo}/issues/{number}"
	p, err := issuePath(owner, repo, number)
	if err != nil {
		return nil, err
	}
	if in.Title == nil && in.Body == nil && in.State == nil && in.Assignees == nil && in.Milestone == nil {
		return nil, invalid("nothing to change: set title, body, state, assignees or milestone")
	}
	var body editIssueBody
	if in.Title != nil {
		if err := checkTrackerTitle("title", *in.Title, maxTitleLen); err != nil {
			return nil, err
		}
		body.Title = *in.Title
	}
	if in.Body != nil {
		if err := checkTrackerBody("body", *in.Body, false); err != nil {
			return nil, err
		}
		body.Body = in.Body
	}
	if in.State != nil {
		if s := *in.State; s != "open" && s != "closed" {
			return nil, invalid("state must be open or closed")
		}
		body.State = in.State
	}
	if in.Assignees != nil {
		if err := checkAssignees(*in.Assignees); err != nil {
			return nil, err
		}
		// A nil slice would encode as null, which Gitea reads as "no change".
		assignees := append([]string{}, *in.Assignees...)
		body.Assignees = &assignees
	}
	if in.Milestone != nil {
		if *in.Milestone < 0 {
			return nil, invalid("milestone must be a positive milestone id, or 0 to clear it")
		}
		body.Milestone = in.Milestone
	}
	if err := c.checkTrackerWrite(op); err != nil {
		return nil, err
	}
	if in.Milestone != nil && *in.Milestone > 0 {
		if err := c.checkMilestoneExists(ctx, owner, repo, *in.Milestone); err != nil {
			return nil, err
		}
	}
	var is Issue
	if _, err := c.send(ctx, http.MethodPatch, op, p, nil, body, &is); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusPreconditionFailed {
			return nil, &APIError{Op: op, Status: apiErr.Status,
				kind: fmt.Errorf("%w: the state cannot change (a merged pull request, or open dependencies)", ErrConflict)}
		}
		return nil, err
	}
	return &is, nil
}

type commentBody struct {
	Body string `json:"body"`
}

// CreateIssueComment adds a comment to the conversation of issue (or pull
// request) number of owner/repo and returns it. body must not be blank.
// A locked issue refuses comments from users who may not write it
// ([ErrForbidden]).
func (c *Client) CreateIssueComment(ctx context.Context, owner, repo string, number int64, body string) (*IssueComment, error) {
	const op = "POST /api/v1/repos/{owner}/{repo}/issues/{number}/comments"
	p, err := issuePath(owner, repo, number)
	if err != nil {
		return nil, err
	}
	if err := checkTrackerBody("body", body, true); err != nil {
		return nil, err
	}
	var cm IssueComment
	if _, err := c.send(ctx, http.MethodPost, op, p+"/comments", nil, commentBody{Body: body}, &cm); err != nil {
		// Gitea answers an unknown issue number with a server error.
		return nil, c.missingIssue(ctx, owner, repo, number, err)
	}
	return &cm, nil
}

// EditIssueComment replaces the text of comment id in owner/repo and
// returns the comment. Its author, and users who may write the issue, may
// edit it. An id that names a timeline event (a label or state change)
// rather than a comment is an [ErrInvalidRequest] error, and nothing changes.
func (c *Client) EditIssueComment(ctx context.Context, owner, repo string, id int64, body string) (*IssueComment, error) {
	const op = "PATCH /api/v1/repos/{owner}/{repo}/issues/comments/{id}"
	p, err := commentPath(owner, repo, id)
	if err != nil {
		return nil, err
	}
	if err := checkTrackerBody("body", body, true); err != nil {
		return nil, err
	}
	cl, err := c.request(http.MethodPatch, op, p, nil, commentBody{Body: body})
	if err != nil {
		return nil, err
	}
	resp, err := c.endpoint.roundTrip(ctx, cl)
	if err != nil {
		return nil, err
	}
	defer closeBody(resp)
	// Gitea answers 204, changing nothing, for an event without text.
	if resp.StatusCode == http.StatusNoContent {
		return nil, &APIError{Op: op, Status: resp.StatusCode,
			kind: fmt.Errorf("%w: the id names a timeline event, not a comment", ErrInvalidRequest)}
	}
	var cm IssueComment
	if err := c.endpoint.decode(resp, &cm); err != nil {
		return nil, &APIError{Op: op, Status: resp.StatusCode, kind: ErrBadResponse, cause: err}
	}
	return &cm, nil
}

// DeleteIssueComment deletes comment id of owner/repo. Its author, and
// users who may write the issue, may delete it. A comment that does not
// exist (or was already deleted) is an [ErrNotFound] error; an id that
// names a timeline event is an [ErrInvalidRequest] error (Gitea answers
// HTTP 400).
func (c *Client) DeleteIssueComment(ctx context.Context, owner, repo string, id int64) error {
	const op = "DELETE /api/v1/repos/{owner}/{repo}/issues/comments/{id}"
	p, err := commentPath(owner, repo, id)
	if err != nil {
		return err
	}
	_, err = c.send(ctx, http.MethodDelete, op, p, nil, nil, nil)
	return err
}

type issueLabelsBody struct {
	Labels []int64 `json:"labels"`
}

// AddIssueLabels adds labels (ids) to issue (or pull request) number of
// owner/repo and returns all the labels it carries afterwards. Only users
// who may write the issue may label it ([ErrForbidden]). Gitea ignores ids
// that are not labels of the repository or its organization, and adding an
// exclusive label removes the others of its scope: check the result.
func (c *Client) AddIssueLabels(ctx context.Context, owner, repo string, number int64, labelIDs []int64) ([]Label, error) {
	const op = "POST /api/v1/repos/{owner}/{repo}/issues/{number}/labels"
	p, err := issuePath(owner, repo, number)
	if err != nil {
		return nil, err
	}
	if err := checkLabelIDs(labelIDs, true); err != nil {
		return nil, err
	}
	var labels []Label
	if _, err := c.send(ctx, http.MethodPost, op, p+"/labels", nil, issueLabelsBody{Labels: labelIDs}, &labels); err != nil {
		return nil, err
	}
	return labels, nil
}

// RemoveIssueLabel removes label labelID from issue (or pull request)
// number of owner/repo. Removing a label the issue does not carry succeeds
// and changes nothing; a label id that is not a label of the repository or
// its organization is an [ErrNotFound] error.
func (c *Client) RemoveIssueLabel(ctx context.Context, owner, repo string, number, labelID int64) error {
	const op = "DELETE /api/v1/repos/{owner}/{repo}/issues/{number}/labels/{id}"
	p, err := issuePath(owner, repo, number)
	if err != nil {
		return err
	}
	if labelID < 1 {
		return invalid("label id must be positive")
	}
	_, err = c.send(ctx, http.MethodDelete, op, p+"/labels/"+strconv.FormatInt(labelID, 10), nil, nil, nil)
	return err
}

// commentPath is the API path of comment id of owner/repo.
func commentPath(owner, repo string, id int64) (string, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return "", err
	}
	if id < 1 {
		return "", invalid("comment id must be positive")
	}
	return p + "/issues/comments/" + strconv.FormatInt(id, 10), nil
}

// checkTrackerWrite refuses, before anything is sent, what request would
// refuse: methods that look something up before they write call it first,
// so a read-only Client sends nothing at all.
func (c *Client) checkTrackerWrite(op string) error {
	_, err := c.request(http.MethodPost, op, "", nil, nil)
	return err
}

// checkMilestoneExists looks milestone id up in owner/repo: an unknown one
// is an ErrInvalidArgument error, a repository the user cannot see an
// ErrNotFound one.
func (c *Client) checkMilestoneExists(ctx context.Context, owner, repo string, id int64) error {
	p, err := repoPath(owner, repo)
	if err != nil {
		return err
	}
	_, err = c.milestoneByID(ctx, p, id)
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	// Tell an unknown milestone from a repository the user cannot see.
	if _, _, lerr := c.Milestones(ctx, owner, repo, MilestoneFilter{State: "all"}, ListOptions{Limit: 1}); lerr != nil {
		return lerr
	}
	return invalid("milestone: %d is not a milestone of %s/%s", id, owner, repo)
}

// checkTrackerTitle accepts a title of 1-max bytes that is not only spaces
// and holds no control characters.
func checkTrackerTitle(what, s string, max int) error {
	if err := checkText(what, s, max); err != nil {
		return err
	}
	if !utf8.ValidString(s) || strings.TrimSpace(s) == "" {
		return invalid("%s must be valid UTF-8 and not only spaces", what)
	}
	return nil
}

// checkTrackerBody accepts Markdown text (see checkProse); required
// refuses an empty or blank text.
func checkTrackerBody(what, s string, required bool) error {
	if err := checkProse(what, s, maxProseLen); err != nil {
		return err
	}
	if required && strings.TrimSpace(s) == "" {
		return invalid("%s must not be empty", what)
	}
	return nil
}

func checkLabelIDs(ids []int64, required bool) error {
	if required && len(ids) == 0 {
		return invalid("labels: at least one label id")
	}
	if len(ids) > maxIssueLabelIDs {
		return invalid("labels: at most %d label ids", maxIssueLabelIDs)
	}
	for _, id := range ids {
		if id < 1 {
			return invalid("labels: label ids must be positive")
		}
	}
	return nil
}

func checkAssignees(names []string) error {
	if len(names) > maxIssueAssignees {
		return invalid("assignees: at most %d users", maxIssueAssignees)
	}
	for _, n := range names {
		if err := checkName("assignee", n); err != nil {
			return err
		}
	}
	return nil
}
