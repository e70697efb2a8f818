package testgitea

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
)

// fixtureSeq makes fixture names unique within one Gitea.
var fixtureSeq atomic.Int64

// NewRepo creates a fresh repository for a test that changes data, so the
// seeded world stays as the read tests expect it. owner is a seeded user or
// [Org]; the repository has a README on branch main. It returns the name,
// prefix followed by a sequence number.
func (g *Gitea) NewRepo(ctx context.Context, owner, prefix string, private bool) (string, error) {
	name := fmt.Sprintf("%s-%d", prefix, fixtureSeq.Add(1))
	if err := g.createRepo(ctx, owner, name, private, owner == Org); err != nil {
		return "", err
	}
	return name, nil
}

// AddCollaborator gives user permission ("read", "write" or "admin") on owner/repo.
func (g *Gitea) AddCollaborator(ctx context.Context, owner, repo, user, permission string) error {
	return g.api(ctx, apiCall{method: http.MethodPut, path: "/api/v1/repos/" + owner + "/" + repo + "/collaborators/" + user,
		want: http.StatusNoContent, body: map[string]any{"permission": permission}}, nil)
}

// AdminGet reads path (e.g. "/api/v1/repos/alice/notes/issues/1") as the
// site administrator and decodes the JSON answer into out. Tests use it to
// read back what a tool wrote, independently of the server under test.
// It fails unless Gitea answers with status want.
func (g *Gitea) AdminGet(ctx context.Context, path string, want int, out any) error {
	return g.api(ctx, apiCall{method: http.MethodGet, path: path, want: want}, out)
}

// AdminDo sends one REST call as the site administrator, acting as the
// user sudo when it is set, and decodes the answer into out (if not nil).
// Tests use it to arrange state a tool under test then changes.
func (g *Gitea) AdminDo(ctx context.Context, method, path, sudo string, body any, want int, out any) error {
	return g.api(ctx, apiCall{method: method, path: path, sudo: sudo, body: body, want: want}, out)
}
