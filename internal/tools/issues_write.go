package tools

import (
	"context"
	"fmt"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// The issue tracker's write tools: issues, comments, labels, milestones.
func issueWriteTools() []*Tool {
	return []*Tool{
		createIssue.Tool(), updateIssue.Tool(),
		createIssueComment.Tool(), editIssueComment.Tool(), deleteIssueComment.Tool(),
		addIssueLabels.Tool(), removeIssueLabel.Tool(),
		createLabel.Tool(), updateLabel.Tool(), deleteLabel.Tool(),
		createMilestone.Tool(), updateMilestone.Tool(), deleteMilestone.Tool(),
	}
}

var writeIssueScopes = []gitea.Scope{gitea.ScopeWriteIssue}

// issueWriteOut is what an issue looks like after a change: what Gitea
// stored, which may be less than asked (Gitea drops labels, milestone and
// assignees set by users who may not triage).
type issueWriteOut struct {
	Number    int64    `json:"number"`
	Title     UserText `json:"title"`
	State     string   `json:"state"`
	Labels    []string `json:"labels,omitempty"`
	Assignees []string `json:"assignees,omitempty"`
	Milestone string   `json:"milestone,omitempty"`
	URL       string   `json:"url"`
}

func issueWritten(is *gitea.Issue) issueWriteOut {
	out := issueWriteOut{Number: is.Number, Title: UserText(is.Title), State: is.State, URL: is.HTMLURL}
	for _, l := range is.Labels {
		out.Labels = append(out.Labels, l.Name)
	}
	for _, a := range is.Assignees {
		out.Assignees = append(out.Assignees, a.Login)
	}
	if is.Milestone != nil {
		out.Milestone = is.Milestone.Title
	}
	return out
}

type createIssueIn struct {
	RepoRef
	Title     string   `json:"title" jsonschema:"issue title"`
	Body      string   `json:"body,omitempty" jsonschema:"Markdown description"`
	Labels    []string `json:"labels,omitempty" jsonschema:"label names of the repository"`
	Milestone int64    `json:"milestone,omitempty" jsonschema:"milestone id (list_milestones)"`
	Assignees []string `json:"assignees,omitempty" jsonschema:"user names"`
}

var createIssue = Def[createIssueIn, issueWriteOut]{
	Name:   "create_issue",
	Title:  "Create an issue",
	Desc:   "Opens an issue. Labels by name; the result shows what Gitea set.",
	Scopes: writeIssueScopes,
	Access: Write,
	Area:   AreaIssues,
	Run: func(ctx context.Context, e *Env, in createIssueIn) (issueWriteOut, error) {
		labels, err := e.LabelIDs(ctx, in.Owner, in.Repo, in.Labels)
		if err != nil {
			return issueWriteOut{}, err
		}
		is, err := e.CreateIssue(ctx, in.Owner, in.Repo, gitea.IssueCreate{Title: in.Title, Body: in.Body, Labels: labels,
			Milestone: in.Milestone, Assignees: in.Assignees})
		if err != nil {
			return issueWriteOut{}, err
		}
		return issueWritten(is), nil
	},
}

type updateIssueIn struct {
	RepoRef
	Number    int64     `json:"number" jsonschema:"issue number"`
	Title     *string   `json:"title,omitempty" jsonschema:"new title"`
	Body      *string   `json:"body,omitempty" jsonschema:"new description (replaces it)"`
	State     *string   `json:"state,omitempty" jsonschema:"open or closed"`
	Assignees *[]string `json:"assignees,omitempty" jsonschema:"replaces the assignees; [] clears"`
	Milestone *int64    `json:"milestone,omitempty" jsonschema:"milestone id; 0 clears"`
}

var updateIssue = Def[updateIssueIn, issueWriteOut]{
	Name:       "update_issue",
	Title:      "Update an issue",
	Desc:       "Changes an issue's title, body, state, assignees or milestone; omitted fields stay.",
	Scopes:     writeIssueScopes,
	Access:     Write,
	Area:       AreaIssues,
	Idempotent: true,
	Schema: func(s *jsonschema.Schema) {
		trackerBounds(s)
		s.Properties["state"].Enum = []any{"open", "closed"}
	},
	Run: func(ctx context.Context, e *Env, in updateIssueIn) (issueWriteOut, error) {
		is, err := e.EditIssue(ctx, in.Owner, in.Repo, in.Number, gitea.IssueEdit{Title: in.Title, Body: in.Body, State: in.State,
			Assignees: in.Assignees, Milestone: in.Milestone})
		if err != nil {
			return issueWriteOut{}, err
		}
		return issueWritten(is), nil
	},
}

type commentWriteOut struct {
	ID  int64  `json:"id"`
	URL string `json:"url"`
}

type createCommentIn struct {
	RepoRef
	Number int64  `json:"number" jsonschema:"issue or pull request number"`
	Body   string `json:"body" jsonschema:"Markdown text"`
}

// addComment posts a conversation comment; issues and pull requests share it.
func addComment(ctx context.Context, e *Env, in createCommentIn) (commentWriteOut, error) {
	c, err := e.CreateIssueComment(ctx, in.Owner, in.Repo, in.Number, in.Body)
	if err != nil {
		return commentWriteOut{}, err
	}
	return commentWriteOut{ID: c.ID, URL: c.HTMLURL}, nil
}

var createIssueComment = Def[createCommentIn, commentWriteOut]{
	Name:   "create_issue_comment",
	Title:  "Comment on an issue",
	Desc:   "Adds a comment to an issue's conversation.",
	Scopes: writeIssueScopes,
	Access: Write,
	Area:   AreaIssues,
	Schema: trackerBounds,
	Run:    addComment,
}

type commentIDIn struct {
	RepoRef
	CommentID int64 `json:"comment_id" jsonschema:"comment id (list_issue_comments)"`
}

type editCommentIn struct {
	commentIDIn
	Body string `json:"body" jsonschema:"new Markdown text (replaces it)"`
}

// commentBounds sets the bound of a comment id.
func commentBounds(s *jsonschema.Schema) {
	one := 1.0
	s.Properties["comment_id"].Minimum = &one
}

var editIssueComment = Def[editCommentIn, commentWriteOut]{
	Name:       "edit_issue_comment",
	Title:      "Edit a comment",
	Desc:       "Replaces the text of an issue or pull request comment.",
	Scopes:     writeIssueScopes,
	Access:     Write,
	Area:       AreaIssues,
	Idempotent: true,
	Schema:     commentBounds,
	Run: func(ctx context.Context, e *Env, in editCommentIn) (commentWriteOut, error) {
		c, err := e.EditIssueComment(ctx, in.Owner, in.Repo, in.CommentID, in.Body)
		if err != nil {
			return commentWriteOut{}, err
		}
		return commentWriteOut{ID: c.ID, URL: c.HTMLURL}, nil
	},
}

// deletedOut confirms a deletion.
type deletedOut struct {
	Deleted string `json:"deleted"`
}

var deleteIssueComment = Def[commentIDIn, deletedOut]{
	Name:       "delete_issue_comment",
	Title:      "Delete a comment",
	Desc:       "Deletes an issue or pull request comment.",
	Scopes:     writeIssueScopes,
	Access:     Destructive,
	Idempotent: true, // by id, which Gitea never reuses
	Area:       AreaIssues,
	Schema:     commentBounds,
	Confirm: func(in commentIDIn) string {
		return fmt.Sprintf("Delete comment %d in %s/%s?", in.CommentID, in.Owner, in.Repo)
	},
	Run: func(ctx context.Context, e *Env, in commentIDIn) (deletedOut, error) {
		if err := e.DeleteIssueComment(ctx, in.Owner, in.Repo, in.CommentID); err != nil {
			return deletedOut{}, err
		}
		return deletedOut{Deleted: fmt.Sprintf("comment %d", in.CommentID)}, nil
	},
}

type issueLabelsIn struct {
	RepoRef
	Number int64    `json:"number" jsonschema:"issue or pull request number"`
	Labels []string `json:"labels" jsonschema:"label names to add"`
}

type issueLabelsOut struct {
	Number int64    `json:"number"`
	Labels []string `json:"labels"` // every label it carries now
}

func labelNames(ls []gitea.Label) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Name
	}
	return out
}

var addIssueLabels = Def[issueLabelsIn, issueLabelsOut]{
	Name:       "add_issue_labels",
	Title:      "Add labels",
	Desc:       "Adds labels, by name, to an issue or pull request.",
	Scopes:     writeIssueScopes,
	Access:     Write,
	Area:       AreaIssues,
	Idempotent: true,
	Schema: func(s *jsonschema.Schema) {
		trackerBounds(s)
		one := 1
		s.Properties["labels"].MinItems = &one
	},
	Run: func(ctx context.Context, e *Env, in issueLabelsIn) (issueLabelsOut, error) {
		ids, err := e.LabelIDs(ctx, in.Owner, in.Repo, in.Labels)
		if err != nil {
			return issueLabelsOut{}, err
		}
		ls, err := e.AddIssueLabels(ctx, in.Owner, in.Repo, in.Number, ids)
		if err != nil {
			return issueLabelsOut{}, err
		}
		return issueLabelsOut{Number: in.Number, Labels: labelNames(ls)}, nil
	},
}

type removeLabelIn struct {
	RepoRef
	Number int64  `json:"number" jsonschema:"issue or pull request number"`
	Label  string `json:"label" jsonschema:"label name"`
}

var removeIssueLabel = Def[removeLabelIn, issueLabelsOut]{
	Name:       "remove_issue_label",
	Title:      "Remove a label",
	Desc:       "Takes a label, by name, off an issue or pull request.",
	Scopes:     writeIssueScopes,
	Access:     Write,
	Area:       AreaIssues,
	Idempotent: true,
	Schema:     trackerBounds,
	Run: func(ctx context.Context, e *Env, in removeLabelIn) (issueLabelsOut, error) {
		ids, err := e.LabelIDs(ctx, in.Owner, in.Repo, []string{in.Label})
		if err != nil {
			return issueLabelsOut{}, err
		}
		if err := e.RemoveIssueLabel(ctx, in.Owner, in.Repo, in.Number, ids[0]); err != nil {
			return issueLabelsOut{}, err
		}
		is, err := e.Issue(ctx, in.Owner, in.Repo, in.Number)
		if err != nil {
			return issueLabelsOut{}, err
		}
		return issueLabelsOut{Number: in.Number, Labels: labelNames(is.Labels)}, nil
	},
}

type createLabelIn struct {
	RepoRef
	Name        string `json:"name" jsonschema:"label name; scope/name for a scoped label"`
	Color       string `json:"color" jsonschema:"#rrggbb"`
	Description string `json:"description,omitempty"`
	Exclusive   bool   `json:"exclusive,omitempty" jsonschema:"scoped: one label of its scope per issue"`
}

var createLabel = Def[createLabelIn, labelOut]{
	Name:   "create_label",
	Title:  "Create a label",
	Desc:   "Adds a label to a repository.",
	Scopes: writeIssueScopes,
	Access: Write,
	Area:   AreaIssues,
	Run: func(ctx context.Context, e *Env, in createLabelIn) (labelOut, error) {
		l, err := e.CreateLabel(ctx, in.Owner, in.Repo, gitea.LabelCreate{Name: in.Name, Color: in.Color,
			Description: in.Description, Exclusive: in.Exclusive})
		if err != nil {
			return labelOut{}, err
		}
		return compactLabel(l), nil
	},
}

type updateLabelIn struct {
	RepoRef
	Name        string  `json:"name" jsonschema:"the label's current name"`
	NewName     *string `json:"new_name,omitempty"`
	Color       *string `json:"color,omitempty" jsonschema:"#rrggbb"`
	Description *string `json:"description,omitempty"`
	Exclusive   *bool   `json:"exclusive,omitempty"`
	Archived    *bool   `json:"archived,omitempty" jsonschema:"hidden from pickers, kept on issues"`
}

// labelID resolves one label name of owner/repo.
func labelID(ctx context.Context, e *Env, in RepoRef, name string) (int64, error) {
	ids, err := e.LabelIDs(ctx, in.Owner, in.Repo, []string{name})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

var updateLabel = Def[updateLabelIn, labelOut]{
	Name:       "update_label",
	Title:      "Update a label",
	Desc:       "Renames, recolors, describes or archives a repository label; omitted fields stay.",
	Scopes:     writeIssueScopes,
	Access:     Write,
	Area:       AreaIssues,
	Idempotent: true,
	Run: func(ctx context.Context, e *Env, in updateLabelIn) (labelOut, error) {
		id, err := labelID(ctx, e, in.RepoRef, in.Name)
		if err != nil {
			return labelOut{}, err
		}
		l, err := e.EditLabel(ctx, in.Owner, in.Repo, id, gitea.LabelEdit{Name: in.NewName, Color: in.Color,
			Description: in.Description, Exclusive: in.Exclusive, Archived: in.Archived})
		if err != nil {
			return labelOut{}, err
		}
		return compactLabel(l), nil
	},
}

type labelNameIn struct {
	RepoRef
	Name string `json:"name" jsonschema:"label name"`
}

var deleteLabel = Def[labelNameIn, deletedOut]{
	Name:   "delete_label",
	Title:  "Delete a label",
	Desc:   "Deletes a repository label, taking it off every issue.",
	Scopes: writeIssueScopes,
	Access: Destructive,
	Area:   AreaIssues,
	Confirm: func(in labelNameIn) string {
		return fmt.Sprintf("Delete label %q in %s/%s?", in.Name, in.Owner, in.Repo)
	},
	Run: func(ctx context.Context, e *Env, in labelNameIn) (deletedOut, error) {
		id, err := labelID(ctx, e, in.RepoRef, in.Name)
		if err != nil {
			return deletedOut{}, err
		}
		if err := e.DeleteLabel(ctx, in.Owner, in.Repo, id); err != nil {
			return deletedOut{}, err
		}
		return deletedOut{Deleted: "label " + in.Name}, nil
	},
}

type createMilestoneIn struct {
	RepoRef
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	DueOn       string `json:"due_on,omitempty" jsonschema:"RFC 3339 time"`
}

// dueOn parses an optional RFC 3339 due date.
func dueOn(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, &ArgumentError{Field: "due_on", Problem: "must be an RFC 3339 time, e.g. 2026-12-31T00:00:00Z"}
	}
	return &t, nil
}

func milestoneWritten(m *gitea.Milestone) milestoneOut {
	return milestoneOut{ID: m.ID, Title: UserText(m.Title), State: m.State, OpenIssues: m.OpenIssues, ClosedIssues: m.ClosedIssues,
		DueOn: m.DueOn, ClosedAt: m.ClosedAt}
}

var createMilestone = Def[createMilestoneIn, milestoneOut]{
	Name:   "create_milestone",
	Title:  "Create a milestone",
	Desc:   "Adds a milestone to a repository.",
	Scopes: writeIssueScopes,
	Access: Write,
	Area:   AreaIssues,
	Run: func(ctx context.Context, e *Env, in createMilestoneIn) (milestoneOut, error) {
		due, err := dueOn(in.DueOn)
		if err != nil {
			return milestoneOut{}, err
		}
		m, err := e.CreateMilestone(ctx, in.Owner, in.Repo, gitea.MilestoneCreate{Title: in.Title, Description: in.Description, DueOn: due})
		if err != nil {
			return milestoneOut{}, err
		}
		return milestoneWritten(m), nil
	},
}

type milestoneIDIn struct {
	RepoRef
	ID int64 `json:"id" jsonschema:"milestone id (list_milestones)"`
}

type updateMilestoneIn struct {
	milestoneIDIn
	Title       *string `json:"title,omitempty"`
	Description *string `json:"description,omitempty"`
	DueOn       *string `json:"due_on,omitempty" jsonschema:"RFC 3339 time; empty clears"`
	State       *string `json:"state,omitempty" jsonschema:"open or closed"`
}

func milestoneBounds(s *jsonschema.Schema) {
	one := 1.0
	s.Properties["id"].Minimum = &one
	if p, ok := s.Properties["state"]; ok {
		p.Enum = []any{"open", "closed"}
	}
}

var updateMilestone = Def[updateMilestoneIn, milestoneOut]{
	Name:       "update_milestone",
	Title:      "Update a milestone",
	Desc:       "Changes a milestone's title, description, due date or state; omitted fields stay.",
	Scopes:     writeIssueScopes,
	Access:     Write,
	Area:       AreaIssues,
	Idempotent: true,
	Schema:     milestoneBounds,
	Run: func(ctx context.Context, e *Env, in updateMilestoneIn) (milestoneOut, error) {
		edit := gitea.MilestoneEdit{Title: in.Title, Description: in.Description, State: in.State}
		if in.DueOn != nil {
			due, err := dueOn(*in.DueOn)
			if err != nil {
				return milestoneOut{}, err
			}
			if due == nil {
				due = &time.Time{} // the zero time clears it
			}
			edit.DueOn = due
		}
		m, err := e.EditMilestone(ctx, in.Owner, in.Repo, in.ID, edit)
		if err != nil {
			return milestoneOut{}, err
		}
		return milestoneWritten(m), nil
	},
}

var deleteMilestone = Def[milestoneIDIn, deletedOut]{
	Name:       "delete_milestone",
	Title:      "Delete a milestone",
	Desc:       "Deletes a milestone; its issues stay, without it.",
	Scopes:     writeIssueScopes,
	Access:     Destructive,
	Idempotent: true, // by id, which Gitea never reuses
	Area:       AreaIssues,
	Schema:     milestoneBounds,
	Confirm: func(in milestoneIDIn) string {
		return fmt.Sprintf("Delete milestone %d in %s/%s?", in.ID, in.Owner, in.Repo)
	},
	Run: func(ctx context.Context, e *Env, in milestoneIDIn) (deletedOut, error) {
		if err := e.DeleteMilestone(ctx, in.Owner, in.Repo, in.ID); err != nil {
			return deletedOut{}, err
		}
		return deletedOut{Deleted: fmt.Sprintf("milestone %d", in.ID)}, nil
	},
}
