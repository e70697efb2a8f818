package localgitea

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Account is a Gitea user with its password.
type Account struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	Email    string `json:"email"`
}

// Request is one REST call made while provisioning.
type Request struct {
	Method string
	Path   string   // e.g. "/api/v1/admin/users"
	Body   any      // sent as JSON when not nil
	As     *Account // Basic auth as this account; nil means the admin
	Sudo   string   // act as this user (admin only)
	Want   int      // the status that means success
}

// Do performs r and decodes the answer into out (if not nil). Provisioning
// uses Basic auth, never an OAuth token; a status other than r.Want is an
// error quoting the end of Gitea's answer.
func (g *Gitea) Do(ctx context.Context, r Request, out any) error {
	var body io.Reader
	if r.Body != nil {
		b, err := json.Marshal(r.Body)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, g.URL+r.Path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	as := r.As
	if as == nil {
		as = &g.Admin
	}
	req.SetBasicAuth(as.Name, as.Password)
	if r.Sudo != "" {
		req.Header.Set("Sudo", r.Sudo)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != r.Want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", r.Method, r.Path, resp.StatusCode, r.Want, Tail(string(b), 5))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decoding: %w", r.Method, r.Path, err)
		}
	}
	return nil
}

// CreateUser creates a, who need not change the password at first sign-in.
func (g *Gitea) CreateUser(ctx context.Context, a Account) error {
	return g.Do(ctx, Request{Method: http.MethodPost, Path: "/api/v1/admin/users", Want: http.StatusCreated, Body: map[string]any{
		"username": a.Name, "email": a.Email, "password": a.Password, "must_change_password": false,
	}}, nil)
}

// CreateRepo creates owner/name (owner a user, or an organisation when org
// is set) with a README on branch main.
func (g *Gitea) CreateRepo(ctx context.Context, owner, name string, private, org bool) error {
	path := "/api/v1/admin/users/" + owner + "/repos"
	if org {
		path = "/api/v1/orgs/" + owner + "/repos"
	}
	return g.Do(ctx, Request{Method: http.MethodPost, Path: path, Want: http.StatusCreated, Body: map[string]any{
		"name": name, "private": private, "auto_init": true, "readme": "Default", "default_branch": "main",
		"description": fmt.Sprintf("%s's %s repository", owner, map[bool]string{true: "private", false: "public"}[private]),
	}}, nil)
}

// PutFile commits a new file to owner/repo as owner, on newBranch (made
// from the default branch) when it is set.
func (g *Gitea) PutFile(ctx context.Context, owner, repo, path, content, newBranch string) error {
	body := map[string]any{"content": base64.StdEncoding.EncodeToString([]byte(content)), "message": "Add " + path}
	if newBranch != "" {
		body["new_branch"] = newBranch
	}
	return g.Do(ctx, Request{Method: http.MethodPost, Path: "/api/v1/repos/" + owner + "/" + repo + "/contents/" + path,
		Sudo: owner, Want: http.StatusCreated, Body: body}, nil)
}

// CreateIssue opens an issue in owner/repo as owner and returns its number.
func (g *Gitea) CreateIssue(ctx context.Context, owner, repo, title, body string) (int, error) {
	var issue struct{ Number int }
	err := g.Do(ctx, Request{Method: http.MethodPost, Path: "/api/v1/repos/" + owner + "/" + repo + "/issues", Sudo: owner,
		Want: http.StatusCreated, Body: map[string]any{"title": title, "body": body}}, &issue)
	return issue.Number, err
}

// CreatePull opens a pull request in owner/repo from head into base as
// owner and returns its number.
func (g *Gitea) CreatePull(ctx context.Context, owner, repo, head, base, title, body string) (int, error) {
	var pull struct{ Number int }
	err := g.Do(ctx, Request{Method: http.MethodPost, Path: "/api/v1/repos/" + owner + "/" + repo + "/pulls", Sudo: owner,
		Want: http.StatusCreated, Body: map[string]any{"title": title, "head": head, "base": base, "body": body}}, &pull)
	return pull.Number, err
}
