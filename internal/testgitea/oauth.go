package testgitea

import (
	"context"
	"fmt"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
)

// RedirectURI is registered on every OAuth app the harness creates. Nothing
// listens there: the flow reads the code from the redirect's Location.
const RedirectURI = localgitea.RedirectURI

// OAuthApp is a confidential OAuth2 application registered in Gitea.
type OAuthApp = localgitea.OAuthApp

// TokenSet is what Gitea's token endpoint returned.
type TokenSet = localgitea.TokenSet

// App returns the OAuth app dedicated to one scope set, creating it on first
// use. Gitea fixes a grant's scope at the first consent, so each scope set
// needs its own app.
func (g *Gitea) App(ctx context.Context, scope string) (*OAuthApp, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if app, ok := g.apps[scope]; ok {
		return app, nil
	}
	app, err := g.CreateOAuthApp(ctx, fmt.Sprintf("aegis-test-%d", len(g.apps)+1))
	if err != nil {
		return nil, err
	}
	g.apps[scope] = app
	return app, nil
}

// OAuthToken gets tokens for user with scope (space-separated, e.g.
// "read:repository read:user") from the app dedicated to that scope set,
// through the authorization-code flow with PKCE.
func (g *Gitea) OAuthToken(ctx context.Context, user, scope string) (*TokenSet, *OAuthApp, error) {
	app, err := g.App(ctx, scope)
	if err != nil {
		return nil, nil, err
	}
	tok, err := g.AuthorizationCode(ctx, g.User(user), app, scope)
	return tok, app, err
}

// RevokeGrant revokes the OAuth grant an access token of the seeded user
// belongs to, through the user's settings page as the user would.
func (g *Gitea) RevokeGrant(ctx context.Context, user, accessToken string) error {
	return g.Gitea.RevokeGrant(ctx, g.User(user), accessToken)
}
