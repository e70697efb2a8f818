package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// TestSearchAndFetch follows the ChatGPT connector convention: the text of
// each result is exactly the JSON document ChatGPT parses.
func TestSearchAndFetch(t *testing.T) {
	g := needGitea(t)
	const scope = "openid read:repository read:issue"
	a := startAegisFor(t, g, scope)
	alice := a.token(t, g, testgitea.AliceName, scope).AccessToken
	bob := a.token(t, g, testgitea.BobName, scope).AccessToken

	var found struct {
		Results []struct{ ID, Title, URL string } `json:"results"`
	}
	res := a.toolCall(t, alice, "search", map[string]any{"query": "guide"})
	if res.IsError || json.Unmarshal([]byte(res.Text), &found) != nil {
		t.Fatalf("search as alice = %s, want plain JSON results", res.Text)
	}
	ids := map[string]bool{}
	for _, r := range found.Results {
		ids[r.ID] = true
		if r.URL == "" || r.Title == "" {
			t.Errorf("result %+v lacks a title or url", r)
		}
	}
	if !ids["issue/alice/notes/1"] {
		t.Errorf("alice's search for guide = %v, want issue/alice/notes/1", ids)
	}
	// A natural-language query: each keyword is searched, best matches first.
	found.Results = nil
	res = a.toolCall(t, alice, "search", map[string]any{"query": "Where is the setup guide?"})
	if res.IsError || json.Unmarshal([]byte(res.Text), &found) != nil || len(found.Results) == 0 || found.Results[0].ID != "issue/alice/notes/1" {
		t.Errorf("alice's search for the setup guide = %s, want issue/alice/notes/1 first", res.Text)
	}
	res = a.toolCall(t, alice, "search", map[string]any{"query": "notes"})
	if !strings.Contains(res.Text, `"repo/alice/notes"`) {
		t.Errorf("alice's search for notes = %s, want her repository", res.Text)
	}
	res = a.toolCall(t, alice, "search", map[string]any{"query": "greeting"})
	if !strings.Contains(res.Text, `"pull/alice/notes/2"`) {
		t.Errorf("alice's search for greeting = %s, want pull request #2", res.Text)
	}
	if res := a.toolCall(t, bob, "search", map[string]any{"query": "guide"}); strings.Contains(res.Text, "alice/notes") {
		t.Errorf("bob's search shows alice's private repository: %s", res.Text)
	}

	type fetched struct {
		ID, Title, Text, URL string
		Metadata             map[string]string
	}
	for _, tt := range []struct{ id, want string }{
		{id: "repo/alice/notes", want: "Default branch: main"},
		{id: "issue/alice/notes/1", want: "setup"},
		{id: "pull/alice/notes/2", want: "greeting.txt"},
		{id: "file/alice/notes/" + testgitea.GuideFile, want: "Alice's private guide."},
	} {
		var doc fetched
		res := a.toolCall(t, alice, "fetch", map[string]any{"id": tt.id})
		if res.IsError || json.Unmarshal([]byte(res.Text), &doc) != nil || doc.ID != tt.id || !strings.Contains(doc.Text, tt.want) || doc.URL == "" {
			t.Errorf("fetch(%s) = %s, want plain JSON whose text holds %q", tt.id, res.Text, tt.want)
		}
	}
	for _, tt := range []struct{ token, id, want string }{
		{token: bob, id: "issue/alice/notes/1", want: "not found"},
		{token: bob, id: "file/alice/notes/README.md", want: "not found"},
		{token: alice, id: "issue/alice/notes/x", want: "id"},
		{token: alice, id: "file/alice/notes/../../etc/passwd", want: "path"},
		{token: alice, id: "wiki/alice/notes", want: "id"},
	} {
		if res := a.toolCall(t, tt.token, "fetch", map[string]any{"id": tt.id}); !res.IsError || !strings.Contains(res.Text, tt.want) {
			t.Errorf("fetch(%s) = %d %s, want a tool error about %q", tt.id, res.Status, res.Text, tt.want)
		}
	}
}
