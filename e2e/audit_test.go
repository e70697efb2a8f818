package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestAuditLogRecordsEveryCall: with AUDIT_LOG_PATH, reads, writes (their
// intent before they are sent and their outcome after), refusals of every
// kind and refused tokens are on record, in a chain that verifies, and the
// log holds neither a token nor what the arguments said.
func TestAuditLogRecordsEveryCall(t *testing.T) {
	g := needGitea(t)
	repo, other := freshRepo(t, g, testgitea.AliceName, "waudit"), freshRepo(t, g, testgitea.AliceName, "waudit-other")
	path := filepath.Join(t.TempDir(), "audit.log")
	a := startAegisFor(t, g, writeScopes, "WRITE_MODE=true", "WRITE_REPOSITORY_WHITELIST=alice/"+repo, "AUDIT_LOG_PATH="+path)
	tok := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	const secretTitle = "the-title-must-not-be-logged"

	mustCall(t, a, tok, "get_me", nil)
	mustCall(t, a, tok, "create_issue", map[string]any{"owner": "alice", "repo": repo, "title": secretTitle})
	if res := a.toolCall(t, tok, "create_issue", map[string]any{"owner": "alice", "repo": other, "title": secretTitle}); res.Status != http.StatusForbidden {
		t.Fatalf("write outside the whitelist = %d", res.Status)
	}
	if res := a.toolCall(t, "", "get_me", nil); res.Status != http.StatusUnauthorized {
		t.Fatalf("call without a token = %d", res.Status)
	}
	cs := a.connect(t, "/mcp", tok)
	if _, isErr := call(t, cs, "get_issue", map[string]any{"owner": "alice", "repo": repo, "number": 1}); isErr {
		t.Fatal("get_issue over /mcp failed")
	}

	rep, err := audit.Verify(path)
	if err != nil {
		t.Fatalf("audit verify: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{tok, secretTitle, a.App.ClientSecret} {
		if strings.Contains(string(data), leak) {
			t.Errorf("the audit log holds %q", leak[:min(len(leak), 12)])
		}
	}
	var events []audit.Event
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		var e audit.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		events = append(events, e)
	}
	if len(events) != rep.Records {
		t.Errorf("%d lines, %d verified", len(events), rep.Records)
	}
	has := func(what string, ok func(audit.Event) bool) {
		t.Helper()
		for _, e := range events {
			if ok(e) {
				return
			}
		}
		t.Errorf("no record of %s in %s", what, data)
	}
	has("the read", func(e audit.Event) bool {
		return e.Tool == "get_me" && e.Kind == audit.KindToolInvocation && e.Outcome == audit.OutcomeOK && e.Caller.Login == "alice" &&
			e.Caller.Transport == audit.TransportToolCall && e.RequestID != ""
	})
	has("the write's intent", func(e audit.Event) bool {
		return e.Tool == "create_issue" && e.Phase == audit.PhaseIntent && e.Target.Repo == repo && len(e.ArgumentsSHA256) == 64
	})
	has("the write's outcome", func(e audit.Event) bool {
		return e.Tool == "create_issue" && e.Phase == audit.PhaseOutcome && e.Outcome == audit.OutcomeOK && e.Target.Repo == repo
	})
	has("the whitelist refusal", func(e audit.Event) bool {
		return e.Kind == audit.KindAccessDenied && e.Tool == "create_issue" && e.Reason == "repository_not_writable" && e.Target.Repo == other
	})
	has("the refused token", func(e audit.Event) bool {
		return e.Kind == audit.KindAccessDenied && e.Tool == "" && strings.HasPrefix(e.Reason, "authentication")
	})
	has("the call over Streamable HTTP", func(e audit.Event) bool {
		return e.Tool == "get_issue" && e.Caller.Transport == audit.TransportStreamable && e.Target.Number == 1
	})
}

// TestAuditChainUnderConcurrentCalls: hundreds of calls at once, across
// /mcp/tool/call, a Streamable HTTP session and an SSE session, leave one
// chain that verifies, with a record for each call.
func TestAuditChainUnderConcurrentCalls(t *testing.T) {
	g := needGitea(t)
	path := filepath.Join(t.TempDir(), "audit.log")
	a := startAegisFor(t, g, toolScopes, append([]string{"AUDIT_LOG_PATH=" + path}, noCallLimits...)...)
	tok := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	sessions := []*mcp.ClientSession{a.connect(t, "/mcp", tok), a.connect(t, "/mcp/sse", tok)}
	const perTransport = 80
	var wg sync.WaitGroup
	errs := make(chan string, 3*perTransport)
	for i := range perTransport {
		wg.Go(func() {
			if res := a.toolCall(t, tok, "get_me", nil); res.Status != http.StatusOK || res.IsError {
				errs <- res.Body
			}
		})
		for _, cs := range sessions {
			wg.Go(func() {
				res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "get_issue",
					Arguments: map[string]any{"owner": "alice", "repo": "notes", "number": 1 + i%2}})
				if err != nil || res.IsError {
					errs <- fmt.Sprint(err)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("a concurrent call failed: %s", e)
	}
	rep, err := audit.Verify(path)
	if err != nil {
		t.Fatalf("audit verify after %d concurrent calls: %v", 3*perTransport, err)
	}
	if rep.Records < 3*perTransport {
		t.Errorf("%d records for %d calls", rep.Records, 3*perTransport)
	}
}
