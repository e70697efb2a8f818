package testgitea

import (
	"context"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
)

// Account is a Gitea user the harness created, with its password.
type Account = localgitea.Account

// apiCall is one REST call made while seeding: a [localgitea.Request]
// spelled the seed's short way.
type apiCall struct {
	method string
	path   string
	body   any
	as     *Account // Basic auth as this account; nil means the admin
	sudo   string   // act as this user (admin only)
	want   int      // expected status
}

// api performs c and decodes the answer into out (if not nil). Seeding
// uses Basic auth, never the OAuth tokens under test.
func (g *Gitea) api(ctx context.Context, c apiCall, out any) error {
	return g.Do(ctx, localgitea.Request{Method: c.method, Path: c.path, Body: c.body, As: c.as, Sudo: c.sudo, Want: c.want}, out)
}

// The seed's helpers from localgitea.
var (
	tail           = localgitea.Tail
	randomPassword = localgitea.RandomPassword
)
