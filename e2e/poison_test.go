package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// TestPoisonPillTextIsCutNotRefused (issue 9, finding 4): text of 62,000
// characters that JSON escapes into six bytes each ('<', '>', '&') grows
// about six times when encoded. Every tool that returns such text cuts it
// by its encoded size and answers; none refuses with "ask for less", which
// no argument could satisfy.
func TestPoisonPillTextIsCutNotRefused(t *testing.T) {
	g := needGitea(t)
	a := startWriter(t, g)
	alice := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	repo := freshRepo(t, g, testgitea.AliceName, "poison")
	at := func(extra ...any) map[string]any {
		m := map[string]any{"owner": testgitea.AliceName, "repo": repo}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i].(string)] = extra[i+1]
		}
		return m
	}
	var issue struct{ Number int64 }
	mustDecode(t, a, alice, "create_issue", at("title", "poison", "body", strings.Repeat(">", 62_000)), &issue)
	mustCall(t, a, alice, "create_issue_comment", at("number", issue.Number, "body", strings.Repeat("<", 62_000)))
	var release struct{ ID int64 }
	mustDecode(t, a, alice, "create_release", at("tag", "v1", "target", "main", "name", "poison", "body", strings.Repeat("&", 62_000)), &release)

	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"get_issue", at("number", issue.Number)},
		{"list_issue_comments", at("number", issue.Number)},
		{"get_issue_timeline", at("number", issue.Number)},
		{"fetch", map[string]any{"id": fmt.Sprintf("issue/%s/%s/%d", testgitea.AliceName, repo, issue.Number)}},
		{"get_release", at("id", release.ID)},
		{"get_latest_release", at()},
	} {
		res := a.toolCall(t, alice, c.tool, c.args)
		if res.Status != http.StatusOK || res.IsError || strings.Contains(res.Text, "ask for less") {
			t.Errorf("%s = %d %.200s: want the text cut to fit, not a refusal", c.tool, res.Status, res.Text)
			continue
		}
		if !strings.Contains(res.Text, `truncated`) {
			t.Errorf("%s does not say it cut the text: %.300s", c.tool, res.Text)
		}
	}
}

// TestSecretsInUserTextAreMasked (issue 9, finding 5): secrets split by
// invisible characters, and one-line JSON, in an issue's title, body and
// comment come back masked: the text is cleaned first, then masked.
func TestSecretsInUserTextAreMasked(t *testing.T) {
	g := needGitea(t)
	a := startWriter(t, g)
	alice := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	repo := freshRepo(t, g, testgitea.AliceName, "masking")
	const (
		awsKey   = "AKIAIOSFODNN7QWERTYZ"
		ghToken  = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
		password = "Correct-Horse-Battery-9"
	)
	split := func(s string) string { return s[:3] + "\u200b" + s[3:] }
	body := "deploy with " + split(ghToken) + "\n{\"password\": \"" + password + "\", \"user\": \"ci\"}\n"
	var issue struct{ Number int64 }
	mustDecode(t, a, alice, "create_issue", map[string]any{"owner": testgitea.AliceName, "repo": repo,
		"title": "key " + split(awsKey), "body": body}, &issue)
	mustCall(t, a, alice, "create_issue_comment", map[string]any{"owner": testgitea.AliceName, "repo": repo, "number": issue.Number,
		"body": "pass\u200bword=" + password})
	for _, tool := range []string{"get_issue", "list_issue_comments", "list_issues"} {
		args := map[string]any{"owner": testgitea.AliceName, "repo": repo, "number": issue.Number}
		if tool == "list_issues" {
			delete(args, "number")
		}
		res := a.toolCall(t, alice, tool, args)
		structured, _ := json.Marshal(res.Structured)
		for _, out := range []string{res.Text, string(structured)} {
			for _, secret := range []string{awsKey[4:], ghToken[4:], password} {
				if strings.Contains(out, secret) {
					t.Errorf("%s returned the secret %.6s... unmasked: %.300s", tool, secret, out)
				}
			}
		}
		if !strings.Contains(res.Text, "[MASKED SECRET]") {
			t.Errorf("%s masks nothing: %.300s", tool, res.Text)
		}
	}
}

// TestOneParseOneMeaning (issue 9, finding 9): keys that differ only in
// case cannot make the HTTP-level scope check and the MCP layer read
// different tools: the call is list_notifications, which this token's
// scopes do not allow, and it is refused with the challenge.
func TestOneParseOneMeaning(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes)
	alice := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	cs := a.connectWith(t, "/mcp", alice, legacyProtocol, nil)
	msg := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"list_notifications","NAME":"get_me","arguments":{}}}`
	res := do(t, "POST", a.URL+"/mcp", alice, msg, "Mcp-Session-Id", cs.ID(), "Accept", "application/json, text/event-stream",
		"Mcp-Protocol-Version", legacyProtocol)
	if res.status != http.StatusForbidden || !strings.Contains(res.header.Get("WWW-Authenticate"), "insufficient_scope") {
		t.Errorf("tools/call with a case-twin key = %d %q %.200s, want 403 insufficient_scope for list_notifications",
			res.status, res.header.Get("WWW-Authenticate"), res.body)
	}
	if strings.Contains(res.body, testgitea.AliceName) {
		t.Errorf("get_me ran: %.200s", res.body)
	}
}
