package tools

import (
	"context"
	"errors"
	"fmt"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// The write tools of branches, tags and forks; repoWriteTools lists them.

// gitNotice replaces a Gitea failure of kind with a notice the tool words
// itself; other failures pass unchanged.
func gitNotice(err, kind error, notice string) error {
	if errors.Is(err, kind) {
		return Notice(notice)
	}
	return err
}

type createBranchIn struct {
	RepoRef
	Branch string `json:"branch"`
	From   string `json:"from,omitempty" jsonschema:"branch, tag or SHA (default: the default branch)"`
}

type branchWriteOut struct {
	Branch string `json:"branch"`
	SHA    string `json:"sha"` // its head commit
}

var createBranch = Def[createBranchIn, branchWriteOut]{
	Name:   "create_branch",
	Title:  "Create a branch",
	Desc:   "Creates a branch.",
	Scopes: gitWriteScopes,
	Access: Write,
	Area:   AreaRepos,
	Run: func(ctx context.Context, e *Env, in createBranchIn) (branchWriteOut, error) {
		b, err := e.CreateBranch(ctx, in.Owner, in.Repo, in.Branch, in.From)
		if err != nil {
			return branchWriteOut{}, gitNotice(err, gitea.ErrConflict, "conflict: a branch or tag of that name already exists. Nothing was created.")
		}
		out := branchWriteOut{Branch: b.Name}
		if b.Commit != nil {
			out.SHA = b.Commit.ID
		}
		return out, nil
	},
}

var deleteBranch = Def[gitGetBranchIn, deletedOut]{
	Name:   "delete_branch",
	Title:  "Delete a branch",
	Desc:   "Deletes a branch.",
	Scopes: gitWriteScopes,
	Access: Destructive,
	Area:   AreaRepos,
	Confirm: func(in gitGetBranchIn) string {
		return fmt.Sprintf("Delete branch %q in %s/%s?", in.Branch, in.Owner, in.Repo)
	},
	Run: func(ctx context.Context, e *Env, in gitGetBranchIn) (deletedOut, error) {
		err := e.DeleteBranch(ctx, in.Owner, in.Repo, in.Branch)
		if err != nil {
			err = gitNotice(err, gitea.ErrForbidden, "forbidden: Gitea refused to delete this branch: it is the default branch, a protected one "+
				"or the base of an open pull request, or your account may not change this repository. Nothing was deleted.")
			return deletedOut{}, gitNotice(err, gitea.ErrNotFound, "not found: no such branch, or your account cannot see the repository. Nothing was deleted.")
		}
		return deletedOut{Deleted: "branch " + in.Branch}, nil
	},
}

type createTagIn struct {
	RepoRef
	Tag     string `json:"tag"`
	Target  string `json:"target,omitempty" jsonschema:"branch, tag or SHA (default: the default branch)"`
	Message string `json:"message,omitempty"`
}

type tagWriteOut struct {
	Tag       string `json:"tag"`
	SHA       string `json:"sha"` // the tagged commit
	Annotated bool   `json:"annotated"`
}

var createTag = Def[createTagIn, tagWriteOut]{
	Name:   "create_tag",
	Title:  "Create a tag",
	Desc:   "Creates a tag, annotated if message is set.",
	Scopes: gitWriteScopes,
	Access: Write,
	Area:   AreaRepos,
	Run: func(ctx context.Context, e *Env, in createTagIn) (tagWriteOut, error) {
		t, err := e.CreateTag(ctx, in.Owner, in.Repo, gitea.TagCreate{Name: in.Tag, Target: in.Target, Message: in.Message})
		if err != nil {
			err = gitNotice(err, gitea.ErrConflict, "conflict: a tag of that name already exists. Nothing was created.")
			return tagWriteOut{}, gitNotice(err, gitea.ErrInvalidRequest,
				"Gitea refused the tag: a protected-tag rule keeps your account from creating it, or Gitea does not accept the name. Nothing was created.")
		}
		out := tagWriteOut{Tag: t.Name, Annotated: t.Annotated()}
		if t.Commit != nil {
			out.SHA = t.Commit.SHA
		}
		return out, nil
	},
}

var deleteTag = Def[gitGetTagIn, deletedOut]{
	Name:   "delete_tag",
	Title:  "Delete a tag",
	Desc:   "Deletes a tag that no release uses.",
	Scopes: gitWriteScopes,
	Access: Destructive,
	Area:   AreaRepos,
	Confirm: func(in gitGetTagIn) string {
		return fmt.Sprintf("Delete tag %q in %s/%s?", in.Tag, in.Owner, in.Repo)
	},
	Run: func(ctx context.Context, e *Env, in gitGetTagIn) (deletedOut, error) {
		err := e.DeleteTag(ctx, in.Owner, in.Repo, in.Tag)
		if err != nil {
			err = gitNotice(err, gitea.ErrConflict, "conflict: a release is attached to this tag: delete the release instead. Nothing was deleted.")
			err = gitNotice(err, gitea.ErrInvalidRequest, "Gitea refused: the tag is protected and your account may not delete it. Nothing was deleted.")
			return deletedOut{}, gitNotice(err, gitea.ErrNotFound, "not found: no such tag, or your account cannot see the repository. Nothing was deleted.")
		}
		return deletedOut{Deleted: "tag " + in.Tag}, nil
	},
}

type forkRepositoryIn struct {
	RepoRef
	Organization string `json:"organization,omitempty"`
	Name         string `json:"name,omitempty"`
}

// relatedRepos names the fork's destination, the repository the call
// creates, when it is known beforehand. Into an organization it is
// org/name; without a name, the name is the original's as Gitea resolves it
// (a renamed repository's current name, not necessarily the repo argument),
// so it counts as unknown and only an "org/*" rule covers it. Without an
// organization the fork lands in the caller's own account, which the
// pipeline fills in (an empty Owner).
func (in forkRepositoryIn) relatedRepos() []RepoName {
	return []RepoName{{Owner: in.Organization, Repo: in.Name}}
}

type forkOut struct {
	FullName      string `json:"full_name"`
	Private       bool   `json:"private"`
	DefaultBranch string `json:"default_branch,omitempty"`
	URL           string `json:"url"`
}

var forkRepository = Def[forkRepositoryIn, forkOut]{
	Name:   "fork_repository",
	Title:  "Fork a repository",
	Desc:   "Forks a repository into your account or an organization.",
	Scopes: gitWriteScopes,
	Access: Write,
	Area:   AreaRepos,
	Run: func(ctx context.Context, e *Env, in forkRepositoryIn) (forkOut, error) {
		r, err := e.Fork(ctx, in.Owner, in.Repo, gitea.ForkOptions{Organization: in.Organization, Name: in.Name})
		if err != nil {
			err = gitNotice(err, gitea.ErrConflict, "conflict: the destination already has a fork of this repository or a repository of that name: "+
				"pass another name or organization. Nothing was created.")
			if in.Organization != "" {
				err = gitNotice(err, gitea.ErrForbidden, "forbidden: Gitea refused the fork: your account may not create repositories in that organization "+
					"(or the token lacks a scope). Nothing was created.")
			}
			return forkOut{}, err
		}
		return forkOut{FullName: r.FullName, Private: r.Private, DefaultBranch: r.DefaultBranch, URL: r.HTMLURL}, nil
	},
}
