package e2e

import (
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

func TestHarnessTokensComeFromTheCodeFlow(t *testing.T) {
	g := needGitea(t)
	tok, app, err := g.OAuthToken(t.Context(), testgitea.AliceName, "openid read:repository read:user")
	if err != nil {
		t.Fatalf("OAuthToken: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.IDToken == "" {
		t.Fatalf("token set lacks a token: access=%t refresh=%t id=%t", tok.AccessToken != "", tok.RefreshToken != "", tok.IDToken != "")
	}
	if app.ClientID == "" {
		t.Fatal("app has no client id")
	}
	t.Logf("Gitea %s issued access, refresh and id tokens to alice through the authorization-code flow with PKCE", g.Version)
}
