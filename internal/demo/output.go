package demo

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
)

// connectInfo is what the instructions name.
type connectInfo struct {
	MCP       string // the Streamable HTTP endpoint
	Base      string // the server's base URL
	Token     string // the demo user's access token
	TokenFile string // where it is kept for scripts
	Expires   time.Duration
	Gitea     string
	User      localgitea.Account
	ServerLog string
	AuditLog  string
	Env       string
}

// Labels of the lines a script (or the end-to-end test) reads.
const (
	labelMCP   = "MCP URL:"
	labelToken = "Demo token:"
)

// tokenVar is the shell variable the printed commands read the token from.
const tokenVar = "AEGIS_DEMO_TOKEN" // #nosec G101 -- the name of a variable, not a credential

// instructions prints how to use the running demo. The token is the
// demo's own, made for it alone, and said to be one; the only other secret
// printed is the demo user's password, which a browser needs.
func (p *printer) instructions(c connectInfo) {
	shellAuth := `"Authorization: Bearer $` + tokenVar + `"`
	call := fmt.Sprintf(`{"tool":"get_issue","arguments":{"owner":%q,"repo":%q,"number":%d}}`, User, Repo, Issue)

	type server struct {
		Type    string            `json:"type,omitempty"`
		URL     string            `json:"url,omitempty"`
		Headers map[string]string `json:"headers,omitempty"`
		Command string            `json:"command,omitempty"`
		Args    []string          `json:"args,omitempty"`
		Env     map[string]string `json:"env,omitempty"`
	}
	type input struct {
		Type        string `json:"type"`
		ID          string `json:"id"`
		Description string `json:"description"`
		Password    bool   `json:"password"`
	}
	vscode := mustJSON(struct {
		Inputs  []input           `json:"inputs"`
		Servers map[string]server `json:"servers"`
	}{
		Inputs: []input{{Type: "promptString", ID: "aegis-demo-token", Description: "aegis-gitea-mcp demo token", Password: true}},
		Servers: map[string]server{"aegis-demo": {Type: "http", URL: c.MCP,
			Headers: map[string]string{"Authorization": "Bearer ${input:aegis-demo-token}"}}},
	})
	desktop := mustJSON(struct {
		Servers map[string]server `json:"mcpServers"`
	}{map[string]server{"aegis-demo": {
		Command: "npx",
		Args:    []string{"-y", "mcp-remote", c.MCP, "--allow-http", "--header", "Authorization:${AEGIS_AUTH}"},
		Env:     map[string]string{"AEGIS_AUTH": "Bearer " + c.Token},
	}}})

	lines := []string{
		"",
		"  " + labelMCP + "    " + c.MCP + "   (Streamable HTTP; legacy SSE: " + c.Base + "/mcp/sse)",
		"  " + labelToken + " " + c.Token,
		fmt.Sprintf("              a demo OAuth access token of Gitea user %s, made by this demo for it alone; valid %s", User, c.Expires),
		"              (run the demo again for a new one; also in " + c.TokenFile + ")",
		"",
		"  In a shell:",
		"    export " + tokenVar + `="$(cat ` + c.TokenFile + `)"`,
		"",
		"  curl, one tool call:",
		"    curl -s -X POST " + c.Base + "/mcp/tool/call -H " + shellAuth + " -H 'Content-Type: application/json' \\",
		"      -d '" + call + "'",
		"",
		"  MCP Inspector (Node 22; without --cli and --method it opens its web UI):",
		"    npx @modelcontextprotocol/inspector --cli " + c.MCP + " --transport http --header " + shellAuth + " --method tools/call --tool-name get_me",
		"",
		"  Claude Code:",
		"    claude mcp add --transport http aegis-demo " + c.MCP + " --header " + shellAuth,
		"",
		"  VS Code (.vscode/mcp.json; paste the demo token when VS Code asks):",
		indent(vscode, "    "),
		"",
		"  Claude Desktop (claude_desktop_config.json, through the mcp-remote bridge):",
		indent(desktop, "    "),
		"",
		"  Gitea in a browser: " + c.Gitea + "   sign in as " + c.User.Name + ", password " + c.User.Password + " (the demo user's own)",
		"  The demo repository: " + c.Gitea + "/" + User + "/" + Repo + fmt.Sprintf(" (issue #%d, pull request #%d; the only repository writes may change)", Issue, Pull),
		"",
		"  Server log: " + c.ServerLog,
		"  Audit log:  " + c.AuditLog + "   (bin/aegis-gitea-mcp audit verify " + c.AuditLog + ")",
		"  Config:     " + c.Env,
		"",
	}
	p.say("%s", strings.Join(lines, "\n"))
}

func mustJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err) // structs of strings always marshal
	}
	return string(b)
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
