package gitea

import (
	"context"
	"net/http"
	"net/url"
)

// TagCreate is a tag to create.
type TagCreate struct {
	Name string
	// Target is the branch, tag or commit SHA the tag points at; empty means
	// the head of the default branch.
	Target string
	// Message makes the tag annotated (a tag object of its own) when set;
	// empty makes a lightweight tag.
	Message string
}

// ForkOptions say where a fork goes.
type ForkOptions struct {
	// Organization owns the fork; empty means the calling user's account.
	Organization string
	// Name is the fork's name; empty means the same name as the original.
	Name string
}

// CreateBranch creates branch name in owner/repo at from: a branch, tag or
// commit SHA, or empty for the head of the default branch. It returns the
// new branch. A name already taken by a branch or tag is ErrConflict; an
// unknown from is ErrNotFound (resolved first, as Gitea itself answers an
// unknown ref with a 500).
func (c *Client) CreateBranch(ctx context.Context, owner, repo, name, from string) (*GitBranch, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if err := checkWriteBranch("name", name); err != nil {
		return nil, err
	}
	body := struct {
		Name string `json:"new_branch_name"`
		From string `json:"old_ref_name,omitempty"`
	}{Name: name}
	if from != "" {
		if !c.writes {
			return nil, &APIError{Op: "POST /api/v1/repos/{owner}/{repo}/branches", kind: ErrReadOnly}
		}
		// Resolve from to its commit, so an unknown ref is ErrNotFound and the
		// branch starts at the commit that was looked up.
		cm, err := c.resolveCommit(ctx, p, from)
		if err != nil {
			return nil, err
		}
		body.From = cm
	}
	var b GitBranch
	if _, err := c.send(ctx, http.MethodPost, "POST /api/v1/repos/{owner}/{repo}/branches", p+"/branches", nil, body, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// resolveCommit returns the SHA of the commit ref names in the repository at API path p.
func (c *Client) resolveCommit(ctx context.Context, p, ref string) (string, error) {
	escaped, err := escapeGitRef("from", ref, true)
	if err != nil {
		return "", err
	}
	q := url.Values{"stat": {"false"}, "files": {"false"}, "verification": {"false"}}
	var cm struct {
		SHA string `json:"sha"`
	}
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/git/commits/{sha}", p+"/git/commits/"+escaped, q, &cm); err != nil {
		return "", err
	}
	if !isFullObjectID(cm.SHA) {
		return "", &APIError{Op: "GET /api/v1/repos/{owner}/{repo}/git/commits/{sha}", kind: ErrBadResponse}
	}
	return cm.SHA, nil
}

// DeleteBranch deletes branch name of owner/repo. Gitea refuses the
// default branch, a protected branch and the target of an open pull
// request with ErrForbidden; an unknown branch is ErrNotFound.
func (c *Client) DeleteBranch(ctx context.Context, owner, repo, name string) error {
	return c.deleteRef(ctx, owner, repo, "branches", name)
}

// CreateTag creates tag t.Name in owner/repo at t.Target, annotated when
// t.Message is set, and returns it. A name already taken is ErrConflict; an
// unknown target is ErrNotFound; a protected tag name the user may not
// create is ErrInvalidRequest.
func (c *Client) CreateTag(ctx context.Context, owner, repo string, t TagCreate) (*GitTag, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if err := checkGitRef("name", t.Name); err != nil {
		return nil, err
	}
	if t.Target != "" {
		if err := checkGitRef("target", t.Target); err != nil {
			return nil, err
		}
	}
	if err := checkCommitMessage("message", t.Message); err != nil {
		return nil, err
	}
	body := struct {
		Name    string `json:"tag_name"`
		Target  string `json:"target,omitempty"`
		Message string `json:"message,omitempty"`
	}{t.Name, t.Target, t.Message}
	var tag GitTag
	if _, err := c.send(ctx, http.MethodPost, "POST /api/v1/repos/{owner}/{repo}/tags", p+"/tags", nil, body, &tag); err != nil {
		return nil, err
	}
	return &tag, nil
}

// DeleteTag deletes tag name of owner/repo. A tag a release is attached to
// is ErrConflict (delete the release instead); an unknown tag is
// ErrNotFound; a protected tag the user may not delete is ErrInvalidRequest.
func (c *Client) DeleteTag(ctx context.Context, owner, repo, name string) error {
	return c.deleteRef(ctx, owner, repo, "tags", name)
}

// deleteRef deletes the branch or tag name; kind is "branches" or "tags".
func (c *Client) deleteRef(ctx context.Context, owner, repo, kind, name string) error {
	p, err := repoPath(owner, repo)
	if err != nil {
		return err
	}
	escaped, err := escapeGitRef("name", name, false)
	if err != nil {
		return err
	}
	_, err = c.send(ctx, http.MethodDelete, "DELETE /api/v1/repos/{owner}/{repo}/"+kind+"/{name}", p+"/"+kind+"/"+escaped, nil, nil, nil)
	return err
}

// Fork forks owner/repo into o.Organization (empty: the user's account) as
// o.Name (empty: the same name) and returns the fork, whose git data Gitea
// has copied by the time it answers (HTTP 202). A fork the owner already
// has, or a name taken, is ErrConflict; an organization the user may not
// create repositories in is ErrForbidden.
func (c *Client) Fork(ctx context.Context, owner, repo string, o ForkOptions) (*Repository, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	var body struct {
		Organization *string `json:"organization,omitempty"`
		Name         *string `json:"name,omitempty"`
	}
	if o.Organization != "" {
		if err := checkName("organization", o.Organization); err != nil {
			return nil, err
		}
		body.Organization = &o.Organization
	}
	if o.Name != "" {
		if err := checkName("name", o.Name); err != nil {
			return nil, err
		}
		body.Name = &o.Name
	}
	var r Repository
	if _, err := c.send(ctx, http.MethodPost, "POST /api/v1/repos/{owner}/{repo}/forks", p+"/forks", nil, body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
