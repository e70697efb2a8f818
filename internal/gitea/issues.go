package gitea

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Issue is a Gitea issue or pull request (fields we use only).
type Issue struct {
	Number    int64      `json:"number"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	State     string     `json:"state"`
	User      User       `json:"user"`
	Labels    []Label    `json:"labels"`
	Assignees []User     `json:"assignees"`
	Milestone *Milestone `json:"milestone"`
	Comments  int        `json:"comments"`
	HTMLURL   string     `json:"html_url"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	ClosedAt  *time.Time `json:"closed_at"`
	// PullRequest is set when the issue is a pull request.
	PullRequest *struct {
		Merged bool `json:"merged"`
	} `json:"pull_request"`
	// Repository is the issue's repository; Gitea sets it in search results
	// and references.
	Repository *IssueRepository `json:"repository"`
}

// IssueRepository names the repository of an issue.
type IssueRepository struct {
	FullName string `json:"full_name"`
}

// IssueFilter narrows a list of issues. Zero values mean no filter, except
// State, which Gitea defaults to "open".
type IssueFilter struct {
	State string // "open", "closed" or "all"
	// PullRequests lists pull requests instead of issues.
	PullRequests bool
	// Labels keeps the issues carrying every one of these repository labels.
	// Gitea silently ignores names that are not labels of the repository.
	Labels []string
	// Milestone keeps the issues of the milestone with this title (Gitea
	// falls back to reading it as a milestone id, and ignores unknown ones).
	Milestone string
	// Assignee, CreatedBy and Mentioned are user names.
	Assignee  string
	CreatedBy string
	Mentioned string
	// Since keeps the issues updated after this RFC 3339 time.
	Since string
	// Query is a keyword search in titles and bodies.
	Query string
}

// Limits on issue filters.
const (
	maxFilterLabels = 20
	maxLabelLen     = 100
	maxTitleLen     = 255
	maxQueryLen     = 255
)

func (f IssueFilter) query() (url.Values, error) {
	q := url.Values{}
	if err := setState(q, f.State); err != nil {
		return nil, err
	}
	q.Set("type", "issues")
	if f.PullRequests {
		q.Set("type", "pulls")
	}
	if len(f.Labels) > 0 {
		if len(f.Labels) > maxFilterLabels {
			return nil, invalid("labels: at most %d names", maxFilterLabels)
		}
		for _, l := range f.Labels {
			if err := checkLabelName(l); err != nil {
				return nil, err
			}
		}
		q.Set("labels", strings.Join(f.Labels, ","))
	}
	if f.Milestone != "" {
		if err := checkText("milestone", f.Milestone, maxTitleLen); err != nil {
			return nil, err
		}
		if strings.Contains(f.Milestone, ",") {
			return nil, invalid("milestone must be one milestone title, without commas")
		}
		q.Set("milestones", f.Milestone)
	}
	for _, u := range []struct{ arg, param, name string }{
		{"assignee", "assigned_by", f.Assignee}, {"created_by", "created_by", f.CreatedBy}, {"mentioned", "mentioned_by", f.Mentioned},
	} {
		if u.name == "" {
			continue
		}
		if err := checkName(u.arg, u.name); err != nil {
			return nil, err
		}
		q.Set(u.param, u.name)
	}
	if f.Since != "" {
		if err := checkRFC3339("since", f.Since); err != nil {
			return nil, err
		}
		q.Set("since", f.Since)
	}
	if f.Query != "" {
		if err := checkText("query", f.Query, maxQueryLen); err != nil {
			return nil, err
		}
		q.Set("q", f.Query)
	}
	return q, nil
}

// ListIssues lists the issues (or pull requests) of owner/repo.
func (c *Client) ListIssues(ctx context.Context, owner, repo string, f IssueFilter, opts ListOptions) ([]Issue, PageInfo, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, PageInfo{}, err
	}
	q, err := f.query()
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	for k, v := range opts.query() {
		q[k] = v
	}
	var issues []Issue
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/issues", p+"/issues", q, &issues)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return issues, pageInfo(h, opts, len(issues)), nil
}

// Issue returns issue (or pull request) number of owner/repo.
func (c *Client) Issue(ctx context.Context, owner, repo string, number int64) (*Issue, error) {
	p, err := issuePath(owner, repo, number)
	if err != nil {
		return nil, err
	}
	var is Issue
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/issues/{number}", p, nil, &is); err != nil {
		return nil, err
	}
	return &is, nil
}

// IssueComment is a comment in an issue's or pull request's conversation.
type IssueComment struct {
	ID        int64     `json:"id"`
	Body      string    `json:"body"`
	User      User      `json:"user"`
	HTMLURL   string    `json:"html_url"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// OriginalAuthor is the author on the platform a migrated comment came from.
	OriginalAuthor string `json:"original_author"`
}

// IssueComments returns the conversation comments of issue (or pull
// request) number, oldest first, updated after since (RFC 3339) when set.
// Gitea does not page this list: it comes whole, within the response bound.
func (c *Client) IssueComments(ctx context.Context, owner, repo string, number int64, since string) ([]IssueComment, error) {
	p, err := issuePath(owner, repo, number)
	if err != nil {
		return nil, err
	}
	var q url.Values
	if since != "" {
		if err := checkRFC3339("since", since); err != nil {
			return nil, err
		}
		q = url.Values{"since": {since}}
	}
	var comments []IssueComment
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/issues/{number}/comments", p+"/comments", q, &comments); err != nil {
		return nil, c.missingIssue(ctx, owner, repo, number, err)
	}
	return comments, nil
}

// TimelineEvent is one entry of an issue's timeline: a comment or an event
// (label, assignee, milestone, title, state or branch change, reference,
// review). Which fields are set depends on Type.
type TimelineEvent struct {
	ID           int64     `json:"id"`
	Type         string    `json:"type"`
	User         *User     `json:"user"`
	Body         string    `json:"body"`
	CreatedAt    time.Time `json:"created_at"`
	Label        *Label    `json:"label"`
	Assignee     *User     `json:"assignee"`
	AssigneeTeam *struct {
		Name string `json:"name"`
	} `json:"assignee_team"`
	RemovedAssignee bool       `json:"removed_assignee"`
	Milestone       *Milestone `json:"milestone"`
	OldMilestone    *Milestone `json:"old_milestone"`
	OldTitle        string     `json:"old_title"`
	NewTitle        string     `json:"new_title"`
	OldRef          string     `json:"old_ref"`
	NewRef          string     `json:"new_ref"`
	RefAction       string     `json:"ref_action"`
	RefCommitSHA    string     `json:"ref_commit_sha"`
	RefIssue        *Issue     `json:"ref_issue"`
	DependentIssue  *Issue     `json:"dependent_issue"`
	ReviewID        int64      `json:"review_id"`
}

// IssueTimeline returns one page of the timeline of issue (or pull
// request) number, oldest first.
func (c *Client) IssueTimeline(ctx context.Context, owner, repo string, number int64, opts ListOptions) ([]TimelineEvent, PageInfo, error) {
	p, err := issuePath(owner, repo, number)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	events, err := c.timelinePage(ctx, p, opts)
	if err != nil {
		return nil, PageInfo{}, c.missingIssue(ctx, owner, repo, number, err)
	}
	// Gitea pages the stored entries, then drops the ones it does not show
	// (code comments, references the user cannot see), and its total count
	// is the length of this page. A full page may continue; a short one
	// may too when entries were dropped, so the next page is looked at.
	info := PageInfo{Total: -1}
	switch {
	case len(events) >= opts.Limit:
		info.NextPage = opts.Page + 1
	case len(events) > 0:
		next := opts
		next.Page++
		more, err := c.timelinePage(ctx, p, next)
		if err != nil {
			return nil, PageInfo{}, err
		}
		if len(more) > 0 {
			info.NextPage = next.Page
		}
	}
	return events, info, nil
}

func (c *Client) timelinePage(ctx context.Context, issuePath string, opts ListOptions) ([]TimelineEvent, error) {
	var events []TimelineEvent
	_, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/issues/{number}/timeline", issuePath+"/timeline", opts.query(), &events)
	return events, err
}

// missingIssue explains err from a list under an issue: for an issue
// number that does not exist, Gitea answers those with a server error
// rather than 404, so on a server error the issue itself is looked up.
func (c *Client) missingIssue(ctx context.Context, owner, repo string, number int64, err error) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusInternalServerError {
		if _, ierr := c.Issue(ctx, owner, repo, number); errors.Is(ierr, ErrNotFound) {
			return ierr
		}
	}
	return err
}

// IssueSearch selects issues across every repository the user can see.
type IssueSearch struct {
	Query string
	State string // "open" (default), "closed" or "all"
	// PullRequests finds pull requests instead of issues.
	PullRequests bool
	// Owner limits the search to the repositories of this user or organization.
	Owner string
	// Involves keeps the items related to the caller: "assigned",
	// "created", "mentioned", "review_requested" or "reviewed".
	Involves string
}

// SearchIssues finds issues (or pull requests) in the repositories the user can see.
func (c *Client) SearchIssues(ctx context.Context, s IssueSearch, opts ListOptions) ([]Issue, PageInfo, error) {
	q := url.Values{}
	if s.Query != "" {
		if err := checkText("query", s.Query, maxQueryLen); err != nil {
			return nil, PageInfo{}, err
		}
		q.Set("q", s.Query)
	}
	if err := setState(q, s.State); err != nil {
		return nil, PageInfo{}, err
	}
	q.Set("type", "issues")
	if s.PullRequests {
		q.Set("type", "pulls")
	}
	if s.Owner != "" {
		if err := checkName("owner", s.Owner); err != nil {
			return nil, PageInfo{}, err
		}
		q.Set("owner", s.Owner)
	}
	switch s.Involves {
	case "":
	case "assigned", "created", "mentioned", "review_requested", "reviewed":
		q.Set(s.Involves, "true")
	default:
		return nil, PageInfo{}, invalid("involves must be assigned, created, mentioned, review_requested or reviewed")
	}
	opts = opts.normalized()
	for k, v := range opts.query() {
		q[k] = v
	}
	var issues []Issue
	h, err := c.get(ctx, "GET /api/v1/repos/issues/search", "/api/v1/repos/issues/search", q, &issues)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return issues, pageInfo(h, opts, len(issues)), nil
}

// issuePath is the API path of issue number of owner/repo.
func issuePath(owner, repo string, number int64) (string, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return "", err
	}
	if number < 1 {
		return "", invalid("number must be a positive issue number")
	}
	return p + "/issues/" + strconv.FormatInt(number, 10), nil
}

// checkText accepts a non-empty free-text argument of at most max bytes
// without control characters.
func checkText(what, s string, max int) error {
	if s == "" || len(s) > max || hasControl(s) {
		return invalid("%s must be 1-%d bytes without control characters", what, max)
	}
	return nil
}

// checkLabelName accepts a label name Gitea can filter on: its filters
// are comma-separated lists, so a name cannot hold a comma.
func checkLabelName(name string) error {
	if err := checkText("label", name, maxLabelLen); err != nil {
		return err
	}
	if strings.Contains(name, ",") {
		return invalid("a label name cannot contain a comma")
	}
	return nil
}

func checkRFC3339(what, s string) error {
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		return invalid("%s must be an RFC 3339 time, e.g. 2025-01-31T00:00:00Z", what)
	}
	return nil
}
