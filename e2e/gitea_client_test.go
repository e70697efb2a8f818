package e2e

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

const readScopes = "openid read:repository read:user"

func endpoint(t *testing.T, g *testgitea.Gitea) *gitea.Endpoint {
	t.Helper()
	u, err := url.Parse(g.URL)
	if err != nil {
		t.Fatal(err)
	}
	e, err := gitea.NewEndpoint(gitea.Options{BaseURL: u})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// oauthToken gets a token set for user through the real authorization-code flow.
func oauthToken(t *testing.T, g *testgitea.Gitea, user, scope string) *testgitea.TokenSet {
	t.Helper()
	tok, _, err := g.OAuthToken(t.Context(), user, scope)
	if err != nil {
		t.Fatalf("OAuth code flow for %s: %v", user, err)
	}
	return tok
}

func repoNames(t *testing.T, c *gitea.Client) []string {
	t.Helper()
	var names []string
	for page := 1; page != 0; {
		repos, info, err := c.MyRepositories(t.Context(), gitea.ListOptions{Page: page, Limit: 2})
		if err != nil {
			t.Fatalf("MyRepositories page %d: %v", page, err)
		}
		for _, r := range repos {
			names = append(names, r.FullName)
		}
		page = info.NextPage
	}
	slices.Sort(names)
	return names
}

func TestAliceSeesHerRepositoriesOnly(t *testing.T) {
	g := needGitea(t)
	e := endpoint(t, g)
	alice := e.As(oauthToken(t, g, testgitea.AliceName, readScopes).AccessToken)

	me, err := alice.CurrentUser(t.Context())
	if err != nil || me.Login != testgitea.AliceName {
		t.Fatalf("CurrentUser = %+v, %v; want alice", me, err)
	}
	names := repoNames(t, alice)
	if !slices.Contains(names, "alice/notes") {
		t.Errorf("alice's repositories %v lack alice/notes", names)
	}
	for _, forbidden := range []string{"bob/secrets", "acme/handbook"} {
		if slices.Contains(names, forbidden) {
			t.Errorf("alice's repositories %v include %s", names, forbidden)
		}
	}
	found, _, err := alice.SearchRepositories(t.Context(), "secrets", gitea.ListOptions{})
	if err != nil {
		t.Fatalf("SearchRepositories: %v", err)
	}
	if len(found) != 0 {
		t.Errorf("alice's search for bob's private repository found %d repositories", len(found))
	}

	f, err := alice.FileContents(t.Context(), testgitea.AliceName, testgitea.AliceRepo, testgitea.GuideFile, "")
	if err != nil {
		t.Fatalf("FileContents: %v", err)
	}
	if b, err := f.Decode(); err != nil || string(b) != testgitea.GuideContent {
		t.Errorf("guide = %q, %v; want the seeded content", b, err)
	}
	if _, err := alice.FileContents(t.Context(), testgitea.AliceName, testgitea.AliceRepo, "greeting.txt", testgitea.PullBranch); err != nil {
		t.Errorf("FileContents at the PR branch: %v", err)
	}
	if _, err := alice.FileContents(t.Context(), testgitea.AliceName, testgitea.AliceRepo, "missing.txt", ""); !errors.Is(err, gitea.ErrNotFound) {
		t.Errorf("FileContents(missing) error = %v, want ErrNotFound", err)
	}
}

func TestBobCannotSeeAlicesPrivateRepository(t *testing.T) {
	g := needGitea(t)
	e := endpoint(t, g)
	bob := e.As(oauthToken(t, g, testgitea.BobName, readScopes).AccessToken)

	if _, err := bob.Repository(t.Context(), testgitea.AliceName, testgitea.AliceRepo); !errors.Is(err, gitea.ErrNotFound) {
		t.Errorf("bob reading alice/notes: error = %v, want ErrNotFound", err)
	}
	if _, err := bob.FileContents(t.Context(), testgitea.AliceName, testgitea.AliceRepo, testgitea.GuideFile, ""); !errors.Is(err, gitea.ErrNotFound) {
		t.Errorf("bob reading alice's guide: error = %v, want ErrNotFound", err)
	}
	handbook, err := bob.Repository(t.Context(), testgitea.Org, testgitea.OrgRepo)
	if err != nil {
		t.Fatalf("bob reading acme/handbook through his team: %v", err)
	}
	if !handbook.Permissions.Pull || handbook.Permissions.Push {
		t.Errorf("bob's permissions on acme/handbook = %+v, want read-only", handbook.Permissions)
	}
	names := repoNames(t, bob)
	for _, want := range []string{"acme/handbook", "bob/secrets", "bob/website"} {
		if !slices.Contains(names, want) {
			t.Errorf("bob's repositories %v lack %s", names, want)
		}
	}
}

func TestOnlyAccessTokensAreAPIBearers(t *testing.T) {
	g := needGitea(t)
	e := endpoint(t, g)
	tok := oauthToken(t, g, testgitea.AliceName, readScopes)
	tests := []struct{ name, token string }{
		{name: "refresh token", token: tok.RefreshToken},
		{name: "id token", token: tok.IDToken},
		{name: "garbage", token: "not-a-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.As(tt.token).CurrentUser(t.Context()); !errors.Is(err, gitea.ErrUnauthorized) {
				t.Errorf("CurrentUser with the %s: error = %v, want ErrUnauthorized", tt.name, err)
			}
		})
	}
	if _, err := e.As(tok.AccessToken).CurrentUser(t.Context()); err != nil {
		t.Errorf("CurrentUser with the access token: %v", err)
	}
}

func TestScopesAreEnforcedByGitea(t *testing.T) {
	g := needGitea(t)
	e := endpoint(t, g)
	// read:repository without read:user: /user is refused, repositories are not.
	c := e.As(oauthToken(t, g, testgitea.AliceName, "read:repository").AccessToken)
	if _, err := c.CurrentUser(t.Context()); !errors.Is(err, gitea.ErrForbidden) {
		t.Errorf("CurrentUser without read:user: error = %v, want ErrForbidden", err)
	}
	if _, err := c.Repository(t.Context(), testgitea.AliceName, testgitea.AliceRepo); err != nil {
		t.Errorf("Repository with read:repository: %v", err)
	}
}

func TestPersonalAccessTokenWorks(t *testing.T) {
	g := needGitea(t)
	c := endpoint(t, g).As(g.PATs[testgitea.AliceName][testgitea.PATReadRepository])
	me, err := c.CurrentUser(context.Background())
	if err != nil || me.Login != testgitea.AliceName {
		t.Errorf("CurrentUser with alice's PAT = %+v, %v; want alice", me, err)
	}
}

func TestInstanceEndpoints(t *testing.T) {
	g := needGitea(t)
	e := endpoint(t, g)
	v, err := e.Version(t.Context())
	if err != nil || !v.AtLeast(1, 27, 0) || v.String() != testgitea.Version {
		t.Errorf("Version = %v, %v; want %s", v, err, testgitea.Version)
	}
	d, err := e.Discovery(t.Context())
	if err != nil {
		t.Fatalf("Discovery: %v", err)
	}
	if d.Issuer != g.URL || d.JWKSURI != g.URL+"/login/oauth/keys" || d.IntrospectionEndpoint != g.URL+"/login/oauth/introspect" {
		t.Errorf("Discovery = %+v, want Gitea's issuer, keys and introspection URLs", d)
	}
}

// TestScopelessGrantIsAllAccessInGitea pins the Gitea behaviour the OAuth
// verifier must refuse: a grant with only "openid profile" holds no access
// scope, and Gitea then lets the token do anything the user can.
func TestScopelessGrantIsAllAccessInGitea(t *testing.T) {
	g := needGitea(t)
	c := endpoint(t, g).As(oauthToken(t, g, testgitea.AliceName, "openid profile").AccessToken)
	if _, err := c.CurrentUser(t.Context()); err != nil {
		t.Errorf("CurrentUser with an openid-profile grant: %v (Gitea changed: it no longer treats it as all-access)", err)
	}
	if _, err := c.Repository(t.Context(), testgitea.AliceName, testgitea.AliceRepo); err != nil {
		t.Errorf("Repository with an openid-profile grant: %v", err)
	}
}
