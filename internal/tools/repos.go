package tools

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

func repoTools() []*Tool {
	return []*Tool{listRepositories.Tool(), getRepository.Tool(),
		getRepositoryLanguages.Tool(), listRepositoryTopics.Tool(), listRepositoryCollaborators.Tool(), listForks.Tool()}
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

func repoFullName(r *gitea.Repository) string { return r.FullName }

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
	Query string `json:"query,omitempty"`
	Paging
}

type repoListOut struct {
	Repositories []repoOut `json:"repositories"`
	PageOut
}

var listRepositories = Def[listRepositoriesIn, repoListOut]{
	Name:   "list_repositories",
	Title:  "List repositories",
	Desc:   "Without query, repositories you own, collaborate on or reach via your organizations; with query, all you can see whose name matches. Returns full_name (owner/repo), visibility, your permission.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository, gitea.ScopeReadUser},
	Access: Read,
	Area:   AreaRepos,
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
		return repoListOut{Repositories: compact(keepAllowed(e, repos, repoFullName), compactRepo), PageOut: pageOut(info)}, nil
	},
}

var getRepository = Def[RepoRef, repoOut]{
	Name:   "get_repository",
	Title:  "Get a repository",
	Desc:   "Metadata: description, visibility, default branch, open issue and pull request counts, your permission.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Run: func(ctx context.Context, e *Env, in RepoRef) (repoOut, error) {
		r, err := e.Repository(ctx, in.Owner, in.Repo)
		if err != nil {
			return repoOut{}, err
		}
		return compactRepo(r), nil
	},
}

type languageOut struct {
	Name    string  `json:"name"`
	Bytes   int64   `json:"bytes"`
	Percent float64 `json:"percent"`
}

type languagesOut struct {
	Languages []languageOut `json:"languages"`
	Note      string        `json:"note,omitempty"`
}

var getRepositoryLanguages = Def[RepoRef, languagesOut]{
	Name:   "get_repository_languages",
	Title:  "Get a repository's languages",
	Desc:   "Bytes and share of each language on the default branch, largest first; computed after a push, so it may lag.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Run: func(ctx context.Context, e *Env, in RepoRef) (languagesOut, error) {
		langs, err := e.RepositoryLanguages(ctx, in.Owner, in.Repo)
		if err != nil {
			return languagesOut{}, err
		}
		var total int64
		for _, n := range langs {
			total += n
		}
		out := languagesOut{Languages: []languageOut{}}
		for name, n := range langs {
			out.Languages = append(out.Languages, languageOut{Name: name, Bytes: n, Percent: math.Round(float64(n)*1000/float64(max(total, 1))) / 10})
		}
		slices.SortFunc(out.Languages, func(a, b languageOut) int {
			return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(a.Name, b.Name))
		})
		if len(out.Languages) == 0 {
			out.Note = "no language statistics: the repository is empty, holds no code Gitea recognizes, or Gitea has not computed them yet"
		}
		return out, nil
	},
}

type topicsOut struct {
	Topics []string `json:"topics"`
}

var listRepositoryTopics = Def[RepoRef, topicsOut]{
	Name:   "list_repository_topics",
	Title:  "List a repository's topics",
	Desc:   "Topics (tags such as \"go\"); at most 25.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Run: func(ctx context.Context, e *Env, in RepoRef) (topicsOut, error) {
		topics, err := e.RepositoryTopics(ctx, in.Owner, in.Repo)
		if err != nil {
			return topicsOut{}, err
		}
		return topicsOut{Topics: topics}, nil
	},
}

type repoPageIn struct {
	RepoRef
	Paging
}

type collaboratorListOut struct {
	Collaborators []personOut `json:"collaborators"`
	PageOut
}

var listRepositoryCollaborators = Def[repoPageIn, collaboratorListOut]{
	Name:   "list_repository_collaborators",
	Title:  "List a repository's collaborators",
	Desc:   "Users with direct access (not via organization teams). Anyone who can read the repository may list them.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Schema: boundPage,
	Run: func(ctx context.Context, e *Env, in repoPageIn) (collaboratorListOut, error) {
		users, info, err := e.Collaborators(ctx, in.Owner, in.Repo, in.options())
		if err != nil {
			return collaboratorListOut{}, err
		}
		return collaboratorListOut{Collaborators: compact(users, compactPerson), PageOut: pageOut(info)}, nil
	},
}

type forkListOut struct {
	Forks []repoOut `json:"forks"`
	PageOut
}

var listForks = Def[repoPageIn, forkListOut]{
	Name:   "list_forks",
	Title:  "List forks",
	Desc:   "Forks you can see: full_name, visibility, your permission.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Schema: boundPage,
	Run: func(ctx context.Context, e *Env, in repoPageIn) (forkListOut, error) {
		repos, info, err := e.Forks(ctx, in.Owner, in.Repo, in.options())
		if err != nil {
			return forkListOut{}, err
		}
		return forkListOut{Forks: compact(keepAllowed(e, repos, repoFullName), compactRepo), PageOut: pageOut(info)}, nil
	},
}
