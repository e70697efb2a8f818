package tools

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

func issueTools() []*Tool {
	return []*Tool{
		listIssues.Tool(), getIssue.Tool(), listIssueComments.Tool(), getIssueTimeline.Tool(), searchIssues.Tool(),
		listLabels.Tool(), listOrgLabels.Tool(), listMilestones.Tool(),
	}
}

// issueSummary is an issue in a list: no body.
type issueSummary struct {
	Number    int64     `json:"number"`
	Title     UserText  `json:"title"`
	State     string    `json:"state"`
	Author    string    `json:"author"`
	Labels    []string  `json:"labels,omitempty"`
	Comments  int       `json:"comments,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func summarize(is *gitea.Issue) issueSummary {
	s := issueSummary{Number: is.Number, Title: UserText(is.Title), State: is.State, Author: is.User.Login, Comments: is.Comments, UpdatedAt: is.UpdatedAt}
	for _, l := range is.Labels {
		s.Labels = append(s.Labels, l.Name)
	}
	return s
}

type listIssuesIn struct {
	RepoRef
	State     string   `json:"state,omitempty" jsonschema:"default open"`
	Labels    []string `json:"labels,omitempty" jsonschema:"label names; issues must carry all"`
	Milestone string   `json:"milestone,omitempty" jsonschema:"its title"`
	Assignee  string   `json:"assignee,omitempty" jsonschema:"login"`
	CreatedBy string   `json:"created_by,omitempty" jsonschema:"login"`
	Mentioned string   `json:"mentioned,omitempty" jsonschema:"login"`
	Since     string   `json:"since,omitempty" jsonschema:"updated after this RFC 3339 time"`
	Query     string   `json:"query,omitempty" jsonschema:"words in title or body"`
	Paging
}

type issueListOut struct {
	Issues []issueSummary `json:"issues"`
	PageOut
}

// maxLabelPages bounds the label pages read to check a label filter.
const maxLabelPages = 10

var listIssues = Def[listIssuesIn, issueListOut]{
	Name:   "list_issues",
	Title:  "List issues",
	Desc:   "Issues (not pull requests), newest first: number, title, state, author, labels. Filters combine. Read one: get_issue.",
	Scopes: []gitea.Scope{gitea.ScopeReadIssue},
	Access: Read,
	Area:   AreaIssues,
	Schema: func(s *jsonschema.Schema) {
		boundPage(s)
		s.Properties["state"].Enum = []any{"open", "closed", "all"}
		maxLabels := 20
		s.Properties["labels"].MaxItems = &maxLabels
	},
	Run: func(ctx context.Context, e *Env, in listIssuesIn) (issueListOut, error) {
		f := gitea.IssueFilter{State: in.State, Milestone: in.Milestone, Assignee: in.Assignee,
			CreatedBy: in.CreatedBy, Mentioned: in.Mentioned, Since: in.Since, Query: in.Query}
		for _, l := range in.Labels {
			for name := range strings.SplitSeq(l, ",") {
				if name = strings.TrimSpace(name); name != "" {
					f.Labels = append(f.Labels, name)
				}
			}
		}
		// Gitea ignores label and milestone names it does not know and then
		// lists every issue: refuse them rather than answer unfiltered.
		if err := checkIssueLabels(ctx, e, in.Owner, in.Repo, f.Labels); err != nil {
			return issueListOut{}, err
		}
		if err := checkIssueMilestone(ctx, e, in.Owner, in.Repo, f.Milestone); err != nil {
			return issueListOut{}, err
		}
		issues, info, err := e.ListIssues(ctx, in.Owner, in.Repo, f, in.options())
		if errors.Is(err, gitea.ErrNotFound) && (f.Assignee != "" || f.CreatedBy != "" || f.Mentioned != "") {
			return issueListOut{}, &ArgumentError{Problem: "not found: the repository, or a user named in assignee, created_by or mentioned, " +
				"does not exist or is not visible to you"}
		}
		if err != nil {
			return issueListOut{}, err
		}
		return issueListOut{Issues: compact(issues, summarize), PageOut: pageOut(info)}, nil
	},
}

// checkIssueLabels refuses label names that are not labels of owner/repo.
func checkIssueLabels(ctx context.Context, e *Env, owner, repo string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	var known []string
	for page := 1; page != 0 && page <= maxLabelPages; {
		labels, info, err := e.RepoLabels(ctx, owner, repo, gitea.ListOptions{Page: page, Limit: gitea.MaxPageSize})
		if err != nil {
			return err
		}
		for _, l := range labels {
			known = append(known, l.Name)
		}
		page = info.NextPage
	}
	for i, name := range names {
		if !slices.Contains(known, name) {
			return &ArgumentError{Field: "labels", Problem: fmt.Sprintf("name %d is not a label of this repository "+
				"(names are case-sensitive; organization labels cannot be filtered on; see list_labels)", i+1)}
		}
	}
	return nil
}

// checkIssueMilestone refuses a title that is not a milestone of owner/repo.
func checkIssueMilestone(ctx context.Context, e *Env, owner, repo, title string) error {
	if title == "" {
		return nil
	}
	ms, _, err := e.Milestones(ctx, owner, repo, gitea.MilestoneFilter{State: "all", Name: title}, gitea.ListOptions{Limit: gitea.MaxPageSize})
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Title == title {
			return nil
		}
	}
	return &ArgumentError{Field: "milestone", Problem: "no milestone of this repository has this exact title (see list_milestones)"}
}

type getIssueIn struct {
	RepoRef
	Number int64 `json:"number" jsonschema:"the #N shown in Gitea"`
}

type issueOut struct {
	issueSummary
	Body        UserText   `json:"body,omitempty"`
	Truncated   bool       `json:"truncated,omitempty"` // the body was cut to the output budget
	Assignees   []string   `json:"assignees,omitempty"`
	Milestone   string     `json:"milestone,omitempty"`
	PullRequest bool       `json:"pull_request,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	URL         string     `json:"url"`
}

var getIssue = Def[getIssueIn, issueOut]{
	Name:   "get_issue",
	Title:  "Get an issue",
	Desc:   "An issue with its body (untrusted user text), labels, assignees, milestone. Find numbers with list_issues.",
	Scopes: []gitea.Scope{gitea.ScopeReadIssue},
	Access: Read,
	Area:   AreaIssues,
	Schema: trackerBounds,
	Run: func(ctx context.Context, e *Env, in getIssueIn) (issueOut, error) {
		is, err := e.Issue(ctx, in.Owner, in.Repo, in.Number)
		if err != nil {
			return issueOut{}, err
		}
		body, cut := Cut(is.Body, e.TextBudget())
		out := issueOut{issueSummary: summarize(is), Body: UserText(body), Truncated: cut, PullRequest: is.PullRequest != nil,
			CreatedAt: is.CreatedAt, ClosedAt: is.ClosedAt, URL: is.HTMLURL}
		for _, a := range is.Assignees {
			out.Assignees = append(out.Assignees, a.Login)
		}
		if is.Milestone != nil {
			out.Milestone = is.Milestone.Title
		}
		return out, nil
	},
}

// trackerBounds sets the bounds of a number argument and of paging, if present.
func trackerBounds(s *jsonschema.Schema) {
	one := 1.0
	for _, name := range []string{"number", "review_id"} {
		if p, ok := s.Properties[name]; ok {
			p.Minimum = &one
		}
	}
	if _, ok := s.Properties["limit"]; ok {
		boundPage(s)
	}
}

// trackerShare is how many bytes each of n long texts in one list result may
// take, so that the whole list fits the output budget.
func trackerShare(e *Env, n int) int { return max(256, e.TextBudget()/max(n, 1)-256) }

// trackerCutNote is the note of a list in which some texts were cut.
const trackerCutNote = "some texts were cut to fit the output budget: ask for a smaller limit to see more of each"

type listIssueCommentsIn struct {
	RepoRef
	Number int64  `json:"number"`
	Since  string `json:"since,omitempty" jsonschema:"updated after this RFC 3339 time"`
	Paging
}

type commentOut struct {
	ID        int64      `json:"id"`
	Author    string     `json:"author"`
	Body      UserText   `json:"body"`
	Truncated bool       `json:"truncated,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"` // when edited
}

type commentListOut struct {
	Comments []commentOut `json:"comments"`
	PageOut
	Note string `json:"note,omitempty"`
}

var listIssueComments = Def[listIssueCommentsIn, commentListOut]{
	Name:   "list_issue_comments",
	Title:  "List issue comments",
	Desc:   "Comments of an issue or pull request, oldest first: author, time, body (untrusted). Line comments: list_review_comments; events: get_issue_timeline.",
	Scopes: []gitea.Scope{gitea.ScopeReadIssue},
	Access: Read,
	Area:   AreaIssues,
	Schema: trackerBounds,
	Run: func(ctx context.Context, e *Env, in listIssueCommentsIn) (commentListOut, error) {
		all, err := e.IssueComments(ctx, in.Owner, in.Repo, in.Number, in.Since)
		if err != nil {
			return commentListOut{}, err
		}
		page, info := trackerPage(all, in.options())
		out := commentListOut{Comments: make([]commentOut, 0, len(page)), PageOut: pageOut(info)}
		share := trackerShare(e, len(page))
		for _, c := range page {
			body, cut := Cut(c.Body, share)
			co := commentOut{ID: c.ID, Author: cmp.Or(c.User.Login, c.OriginalAuthor), Body: UserText(body), Truncated: cut, CreatedAt: c.CreatedAt}
			if c.UpdatedAt.Sub(c.CreatedAt) > time.Second {
				updated := c.UpdatedAt
				co.UpdatedAt = &updated
			}
			if cut {
				out.Note = trackerCutNote
			}
			out.Comments = append(out.Comments, co)
		}
		return out, nil
	},
}

// trackerPage pages a list Gitea returns whole.
func trackerPage[T any](all []T, opts gitea.ListOptions) ([]T, gitea.PageInfo) {
	if opts.Page < 1 {
		opts.Page = 1
	}
	if opts.Limit < 1 || opts.Limit > gitea.MaxPageSize {
		opts.Limit = gitea.MaxPageSize
	}
	info := gitea.PageInfo{Total: int64(len(all))}
	start := min((opts.Page-1)*opts.Limit, len(all))
	end := min(start+opts.Limit, len(all))
	if end < len(all) {
		info.NextPage = opts.Page + 1
	}
	return all[start:end], info
}

type getIssueTimelineIn struct {
	RepoRef
	Number int64 `json:"number"`
	Paging
}

// timelineEventOut is one timeline entry; the fields set depend on type.
type timelineEventOut struct {
	Type      string    `json:"type"`
	Actor     string    `json:"actor,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Body is the text of a comment or review.
	Body      UserText `json:"body,omitempty"`
	Truncated bool     `json:"truncated,omitempty"`
	// Removed is set when a label, assignee or review request was removed.
	Removed      bool         `json:"removed,omitempty"`
	Label        UserText     `json:"label,omitempty"`
	Assignee     string       `json:"assignee,omitempty"`
	Milestone    UserText     `json:"milestone,omitempty"`
	OldMilestone UserText     `json:"old_milestone,omitempty"`
	OldTitle     UserText     `json:"old_title,omitempty"`
	NewTitle     UserText     `json:"new_title,omitempty"`
	OldRef       string       `json:"old_ref,omitempty"`
	NewRef       string       `json:"new_ref,omitempty"`
	Issue        *issueRefOut `json:"issue,omitempty"` // the referring or depended-on issue
	Commit       string       `json:"commit,omitempty"`
	RefAction    string       `json:"ref_action,omitempty"`
	ReviewID     int64        `json:"review_id,omitempty"`
	Value        string       `json:"value,omitempty"` // a deadline or a time spent
}

// issueRefOut names an issue another entry points to.
type issueRefOut struct {
	Repository  string   `json:"repository,omitempty"`
	Number      int64    `json:"number"`
	Title       UserText `json:"title"`
	State       string   `json:"state"`
	PullRequest bool     `json:"pull_request,omitempty"`
}

type timelineOut struct {
	Events []timelineEventOut `json:"events"`
	PageOut
	Note string `json:"note,omitempty"`
}

var getIssueTimeline = Def[getIssueTimelineIn, timelineOut]{
	Name:   "get_issue_timeline",
	Title:  "Get an issue's timeline",
	Desc:   "Events of an issue or pull request, oldest first: comments, label, assignee, milestone, title, state and branch changes, references, reviews.",
	Scopes: []gitea.Scope{gitea.ScopeReadIssue},
	Access: Read,
	Area:   AreaIssues,
	Schema: trackerBounds,
	Run: func(ctx context.Context, e *Env, in getIssueTimelineIn) (timelineOut, error) {
		events, info, err := e.IssueTimeline(ctx, in.Owner, in.Repo, in.Number, in.options())
		if err != nil {
			return timelineOut{}, err
		}
		out := timelineOut{Events: make([]timelineEventOut, 0, len(events)), PageOut: pageOut(info)}
		share := trackerShare(e, len(events))
		for i := range events {
			ev := compactEvent(&events[i], share)
			if ev.Truncated {
				out.Note = trackerCutNote
			}
			out.Events = append(out.Events, ev)
		}
		return out, nil
	},
}

func compactEvent(t *gitea.TimelineEvent, share int) timelineEventOut {
	ev := timelineEventOut{Type: t.Type, CreatedAt: t.CreatedAt, OldRef: t.OldRef, NewRef: t.NewRef,
		OldTitle: UserText(t.OldTitle), NewTitle: UserText(t.NewTitle), ReviewID: t.ReviewID}
	if t.User != nil {
		ev.Actor = t.User.Login
	}
	switch t.Type {
	case "comment", "review", "dismiss_review":
		body, cut := Cut(t.Body, share)
		ev.Body, ev.Truncated = UserText(body), cut
	case "label":
		ev.Removed = t.Body != "1" // Gitea stores "1" for an added label
	case "assignees", "review_request":
		ev.Removed = t.RemovedAssignee
	case "added_deadline", "modified_deadline", "removed_deadline", "add_time_manual", "delete_time_manual",
		"stop_tracking", "change_time_estimate":
		ev.Value, _ = Cut(t.Body, 64)
	}
	if t.Label != nil {
		ev.Label = UserText(t.Label.Name)
	}
	switch {
	case t.Assignee != nil:
		ev.Assignee = t.Assignee.Login
	case t.AssigneeTeam != nil:
		ev.Assignee = "team " + t.AssigneeTeam.Name
	}
	if t.Milestone != nil {
		ev.Milestone = UserText(t.Milestone.Title)
	}
	if t.OldMilestone != nil {
		ev.OldMilestone = UserText(t.OldMilestone.Title)
	}
	ref := t.RefIssue
	if ref == nil {
		ref = t.DependentIssue
	}
	if ref != nil {
		ev.Issue = &issueRefOut{Number: ref.Number, Title: UserText(ref.Title), State: ref.State, PullRequest: ref.PullRequest != nil}
		if ref.Repository != nil {
			ev.Issue.Repository = ref.Repository.FullName
		}
	}
	ev.Commit = t.RefCommitSHA
	if t.RefAction != "" && t.RefAction != "none" {
		ev.RefAction = t.RefAction
	}
	return ev
}

// issueRepo names the repository of an issue in search results.
func issueRepo(is *gitea.Issue) string {
	if is.Repository == nil {
		return ""
	}
	return is.Repository.FullName
}

type searchIssuesIn struct {
	Query    string `json:"query,omitempty" jsonschema:"words in title or body"`
	State    string `json:"state,omitempty" jsonschema:"default open"`
	Type     string `json:"type,omitempty" jsonschema:"default issues"`
	Owner    string `json:"owner,omitempty" jsonschema:"only repositories of this owner"`
	Involves string `json:"involves,omitempty" jsonschema:"only items related to you this way"`
	Paging
}

type searchIssueOut struct {
	Repository string `json:"repository"`
	issueSummary
	PullRequest bool `json:"pull_request,omitempty"`
}

type searchIssuesOut struct {
	Issues []searchIssueOut `json:"issues"`
	PageOut
}

var searchIssues = Def[searchIssuesIn, searchIssuesOut]{
	Name:   "search_issues",
	Title:  "Search issues",
	Desc:   "Issues or pull requests across all repositories you can see, newest first: repository, number, title, state, author.",
	Scopes: []gitea.Scope{gitea.ScopeReadIssue},
	Access: Read,
	Area:   AreaIssues,
	Schema: func(s *jsonschema.Schema) {
		boundPage(s)
		s.Properties["state"].Enum = []any{"open", "closed", "all"}
		s.Properties["type"].Enum = []any{"issues", "pulls"}
		s.Properties["involves"].Enum = []any{"assigned", "created", "mentioned", "review_requested", "reviewed"}
		maxQuery := 255
		s.Properties["query"].MaxLength = &maxQuery
	},
	Run: func(ctx context.Context, e *Env, in searchIssuesIn) (searchIssuesOut, error) {
		issues, info, err := e.SearchIssues(ctx, gitea.IssueSearch{Query: in.Query, State: in.State, PullRequests: in.Type == "pulls",
			Owner: in.Owner, Involves: in.Involves}, in.options())
		if err != nil {
			return searchIssuesOut{}, err
		}
		return searchIssuesOut{Issues: compact(keepAllowed(e, issues, issueRepo), func(is *gitea.Issue) searchIssueOut {
			out := searchIssueOut{issueSummary: summarize(is), PullRequest: is.PullRequest != nil}
			if is.Repository != nil {
				out.Repository = is.Repository.FullName
			}
			return out
		}), PageOut: pageOut(info)}, nil
	},
}
