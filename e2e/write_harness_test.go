package e2e

import (
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// writeScopes grant every tool, write tools included (write implies read).
const writeScopes = "openid read:user read:organization read:notification write:repository write:issue"

// startWriter serves aegis in write mode for writeScopes' app, allowed to
// change any repository the caller's own Gitea permissions allow, and
// running destructive tools without asking; extra settings (VAR=value)
// come last and win.
func startWriter(t *testing.T, g *testgitea.Gitea, extra ...string) *aegis {
	t.Helper()
	return startAegisFor(t, g, writeScopes,
		append([]string{"WRITE_MODE=true", "WRITE_ALLOW_ALL_TOKEN_REPOS=true", "CONFIRM_DESTRUCTIVE=false"}, extra...)...)
}

// freshRepo creates a throw-away repository of owner (with a README on
// main) for a test that changes data, and returns its name.
func freshRepo(t *testing.T, g *testgitea.Gitea, owner, prefix string) string {
	t.Helper()
	name, err := g.NewRepo(t.Context(), owner, prefix, true)
	if err != nil {
		t.Fatalf("creating a repository for %s: %v", owner, err)
	}
	return name
}
