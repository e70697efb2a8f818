package tools

import (
	"context"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// The label and milestone tools; issueTools lists them.

type labelOut struct {
	Name        UserText `json:"name"`
	Color       string   `json:"color,omitempty"`
	Description UserText `json:"description,omitempty"`
	Exclusive   bool     `json:"exclusive,omitempty"` // scoped: one label per scope on an issue
	Archived    bool     `json:"archived,omitempty"`
}

func compactLabel(l *gitea.Label) labelOut {
	desc, _ := Cut(l.Description, 500)
	return labelOut{Name: UserText(l.Name), Color: l.Color, Description: UserText(desc), Exclusive: l.Exclusive, Archived: l.IsArchived}
}

type labelListOut struct {
	Labels []labelOut `json:"labels"`
	PageOut
}

type listLabelsIn struct {
	RepoRef
	Paging
}

var listLabels = Def[listLabelsIn, labelListOut]{
	Name:   "list_labels",
	Title:  "List repository labels",
	Desc:   "Labels: name, color, description. An organization's shared labels: list_org_labels.",
	Scopes: []gitea.Scope{gitea.ScopeReadIssue},
	Access: Read,
	Area:   AreaIssues,
	Schema: boundPage,
	Run: func(ctx context.Context, e *Env, in listLabelsIn) (labelListOut, error) {
		labels, info, err := e.RepoLabels(ctx, in.Owner, in.Repo, in.options())
		if err != nil {
			return labelListOut{}, err
		}
		return labelListOut{Labels: compact(labels, compactLabel), PageOut: pageOut(info)}, nil
	},
}

type listOrgLabelsIn struct {
	Org string `json:"org"`
	Paging
}

var listOrgLabels = Def[listOrgLabelsIn, labelListOut]{
	Name:   "list_org_labels",
	Title:  "List organization labels",
	Desc:   "Labels shared with all the organization's repositories: name, color, description.",
	Scopes: []gitea.Scope{gitea.ScopeReadOrganization},
	Access: Read,
	Area:   AreaIssues,
	Schema: boundPage,
	Run: func(ctx context.Context, e *Env, in listOrgLabelsIn) (labelListOut, error) {
		labels, info, err := e.OrgLabels(ctx, in.Org, in.options())
		if err != nil {
			return labelListOut{}, err
		}
		return labelListOut{Labels: compact(labels, compactLabel), PageOut: pageOut(info)}, nil
	},
}

type listMilestonesIn struct {
	RepoRef
	State string `json:"state,omitempty" jsonschema:"default open"`
	Paging
}

type milestoneOut struct {
	ID           int64      `json:"id"` // what issue and milestone writes take
	Title        UserText   `json:"title"`
	State        string     `json:"state"`
	Description  UserText   `json:"description,omitempty"`
	OpenIssues   int        `json:"open_issues"`
	ClosedIssues int        `json:"closed_issues"`
	DueOn        *time.Time `json:"due_on,omitempty"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
}

type milestoneListOut struct {
	Milestones []milestoneOut `json:"milestones"`
	PageOut
}

var listMilestones = Def[listMilestonesIn, milestoneListOut]{
	Name:   "list_milestones",
	Title:  "List milestones",
	Desc:   "Milestones: title, state, description, open and closed issue counts, due date. Filter issues by one: list_issues milestone.",
	Scopes: []gitea.Scope{gitea.ScopeReadIssue},
	Access: Read,
	Area:   AreaIssues,
	Schema: func(s *jsonschema.Schema) {
		boundPage(s)
		s.Properties["state"].Enum = []any{"open", "closed", "all"}
	},
	Run: func(ctx context.Context, e *Env, in listMilestonesIn) (milestoneListOut, error) {
		ms, info, err := e.Milestones(ctx, in.Owner, in.Repo, gitea.MilestoneFilter{State: in.State}, in.options())
		if err != nil {
			return milestoneListOut{}, err
		}
		return milestoneListOut{Milestones: compact(ms, func(m *gitea.Milestone) milestoneOut {
			desc, _ := Cut(m.Description, 1000)
			return milestoneOut{ID: m.ID, Title: UserText(m.Title), State: m.State, Description: UserText(desc),
				OpenIssues: m.OpenIssues, ClosedIssues: m.ClosedIssues, DueOn: m.DueOn, ClosedAt: m.ClosedAt}
		}), PageOut: pageOut(info)}, nil
	},
}
