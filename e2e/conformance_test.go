package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// conformanceEnv selects TestConformance; `make conformance` sets it. The
// suite needs npm (to install the pinned suite and Node 22), so it is a
// target of its own rather than part of every `go test`.
const conformanceEnv = "AEGIS_CONFORMANCE"

// TestConformance runs the official MCP conformance suite's fixture-free
// server scenarios against /mcp with a real token from the code flow.
func TestConformance(t *testing.T) {
	if os.Getenv(conformanceEnv) != "1" {
		t.Skip("the MCP conformance suite runs with `make conformance` (" + conformanceEnv + "=1)")
	}
	g := needGitea(t)
	a := startAegisFor(t, g, toolScopes)
	tok := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken

	cmd := exec.CommandContext(t.Context(), "bash", "../scripts/conformance/run.sh")
	cmd.Env = append(os.Environ(), "MCP_URL="+a.URL+"/mcp", "CONFORMANCE_BEARER_TOKEN="+tok)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Log(out.String())
	if err != nil {
		t.Fatalf("conformance suite failed: %v", err)
	}
	if !strings.Contains(out.String(), "conformance: 6 passed, 0 failed") {
		t.Errorf("summary line missing from the suite's output")
	}
	if strings.Contains(out.String(), tok) {
		t.Error("the suite's output contains the token")
	}
}
