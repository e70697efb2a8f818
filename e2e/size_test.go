package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// TestOutputsAreCompact measures what a tool returns against Gitea's own
// API JSON for the same data (`go test -v -run TestOutputsAreCompact ./e2e`).
// Tools must return less: the fields an assistant needs, not whole objects.
func TestOutputsAreCompact(t *testing.T) {
	g := needGitea(t)
	const scope = "openid read:repository read:issue read:user"
	a := startAegisFor(t, g, scope)
	tok := a.token(t, g, testgitea.AliceName, scope).AccessToken
	cases := []struct {
		tool string
		args map[string]any
		raw  string // the Gitea API path for the same data
	}{
		{tool: "list_issues", args: map[string]any{"owner": "alice", "repo": "notes", "state": "all"}, raw: "/api/v1/repos/alice/notes/issues?type=issues&state=all&limit=20"},
		{tool: "list_issues", args: map[string]any{"owner": "alice", "repo": "notes"}, raw: "/api/v1/repos/alice/notes/issues?type=issues&state=open&limit=20"},
		{tool: "list_issues", args: map[string]any{"owner": "alice", "repo": "notes", "state": "closed"}, raw: "/api/v1/repos/alice/notes/issues?type=issues&state=closed&limit=20"},
		{tool: "get_pull_request", args: map[string]any{"owner": "alice", "repo": "notes", "number": 2}, raw: "/api/v1/repos/alice/notes/pulls/2"},
		{tool: "get_issue", args: map[string]any{"owner": "alice", "repo": "notes", "number": 1}, raw: "/api/v1/repos/alice/notes/issues/1"},
		{tool: "list_repositories", args: map[string]any{}, raw: "/api/v1/user/repos?limit=20"},
	}
	ratios := map[string][]float64{}
	for _, c := range cases {
		res := a.toolCall(t, tok, c.tool, c.args)
		if res.IsError || res.Structured == nil {
			t.Fatalf("%s = %s", c.tool, res.Body)
		}
		ours, err := json.Marshal(res.Structured)
		if err != nil {
			t.Fatal(err)
		}
		raw := giteaJSONSize(t, g.URL+c.raw, tok)
		ratio := float64(len(ours)) / float64(raw)
		ratios[c.tool] = append(ratios[c.tool], ratio)
		t.Logf("%-18s %6d bytes vs Gitea's %6d bytes (%.0f%%) for %s", c.tool, len(ours), raw, 100*ratio, c.raw)
		if ratio >= 1 {
			t.Errorf("%s returned %d bytes, not less than Gitea's %d", c.tool, len(ours), raw)
		}
	}
	for tool, rs := range ratios {
		slices.Sort(rs)
		t.Logf("median %s output: %.0f%% of Gitea's JSON", tool, 100*rs[len(rs)/2])
	}
}

func giteaJSONSize(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d, %v", url, resp.StatusCode, err)
	}
	return len(b)
}
