package tools

import (
	"context"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

func repoTools() []*Tool {
	return []*Tool{listRepositories.Tool(), getRepository.Tool()}
}

// repoOut is a repository, compact.
type repoOut struct {
	FullName      string    `json:"full_name"`
	Description   UserText  `json:"description,omitempty"`
	Private       bool      `json:"private"`
	Fork          bool      `json:"fork,omitempty"`
	Archived      bool      `json:"archived,omitempty"`
	Empty         bool      `json:"empty,omitempty"`
	DefaultBranch string    `json:"default_branch,omitempty"`
	Stars         int       `json:"stars,omitempty"`
	OpenIssues    int       `json:"open_issues,omitempty"`
	OpenPulls     int       `json:"open_pulls,omitempty"`
	Permission    string    `json:"permission"` // admin, write or read
	UpdatedAt     time.Time `json:"updated_at"`
	URL           string    `json:"url,omitempty"`
}

func compactRepo(r *gitea.Repository) repoOut {
	perm := "read"
	switch {
	case r.Permissions.Admin:
		perm = "admin"
	case r.Permissions.Push:
		perm = "write"
	}
	return repoOut{
		FullName: r.FullName, Description: UserText(r.Description), Private: r.Private, Fork: r.Fork, Archived: r.Archived,
		Empty: r.Empty, DefaultBranch: r.DefaultBranch, Stars: r.Stars, OpenIssues: r.OpenIssues, OpenPulls: r.OpenPulls,
		Permission: perm, UpdatedAt: r.UpdatedAt, URL: r.HTMLURL,
	}
}

type listRepositoriesIn struct {
	Query string `json:"query,omitempty" jsonschema:"search repository names you can see; omit to list your own and shared repositories"`
	Paging
}

type repoListOut struct {
	Repositories []repoOut `json:"repositories"`
	PageOut
}

var listRepositories = Def[listRepositoriesIn, repoListOut]{
	Name:  "list_repositories",
	Title: "List repositories",
	Desc: "Repositories you can access: without query, the ones you own, collaborate on or reach through your organizations; " +
		"with query, every visible repository whose name matches. Returns full_name (owner/repo), visibility, your permission. Paginated.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository, gitea.ScopeReadUser},
	Access: Read,
	Schema: func(s *jsonschema.Schema) {
		boundPage(s)
		maxQuery := 100
		s.Properties["query"].MaxLength = &maxQuery
	},
	Run: func(ctx context.Context, e *Env, in listRepositoriesIn) (repoListOut, error) {
		var repos []gitea.Repository
		var info gitea.PageInfo
		var err error
		if in.Query == "" {
			repos, info, err = e.MyRepositories(ctx, in.options())
		} else {
			repos, info, err = e.SearchRepositories(ctx, in.Query, in.options())
		}
		if err != nil {
			return repoListOut{}, err
		}
		return repoListOut{Repositories: compact(repos, compactRepo), PageOut: pageOut(info)}, nil
	},
}

var getRepository = Def[RepoRef, repoOut]{
	Name:   "get_repository",
	Title:  "Get a repository",
	Desc:   "One repository's metadata: description, visibility, default branch, counts of open issues and pull requests, your permission.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Run: func(ctx context.Context, e *Env, in RepoRef) (repoOut, error) {
		r, err := e.Repository(ctx, in.Owner, in.Repo)
		if err != nil {
			return repoOut{}, err
		}
		return compactRepo(r), nil
	},
}
