package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// statelessCall is a 2026-07-28 tools/call as the go-sdk client sends it,
// with extra params fields if given.
func statelessCall(t *testing.T, h http.Handler, tool, args, extra string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},` +
		`"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},` +
		`"name":"` + tool + `","arguments":` + args + extra + `}}`
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "http://127.0.0.1/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", "tools/call")
	req.Header.Set("Mcp-Name", tool)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// jsonRPCAnswer reads the one JSON-RPC message of an answer, sent as JSON
// or as one server-sent event.
func jsonRPCAnswer(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	body := rec.Body.String()
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream") {
		_, data, ok := strings.Cut(body, "data: ")
		if !ok {
			t.Fatalf("no event data in %q", body)
		}
		body, _, _ = strings.Cut(data, "\n")
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	return m
}

// TestFastCallAnswersAsTheSDKDoes: a stateless tools/call answered by the
// fast path carries the same JSON-RPC message the SDK sends for it (the
// SDK answers the same call when an extra field makes the fast path step
// aside), for a result, a tool error and a refusal.
func TestFastCallAnswersAsTheSDKDoes(t *testing.T) {
	h := benchServerT(t).Config.Handler
	for _, c := range []struct{ name, tool, args string }{
		{"result", "get_file_contents", `{"owner":"alice","repo":"notes","path":"README.md"}`},
		{"tool error", "get_file_contents", `{"owner":"alice","repo":"notes","path":"missing.md"}`},
		{"bad arguments", "get_file_contents", `{"owner":"alice"}`},
		{"write mode off", "create_issue", `{"owner":"alice","repo":"notes","title":"x"}`},
	} {
		fast := statelessCall(t, h, c.tool, c.args, "")
		sdk := statelessCall(t, h, c.tool, c.args, `,"x-unknown":1`)
		if fast.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: the fast path did not answer (Content-Type %q)", c.name, fast.Header().Get("Content-Type"))
		}
		if !strings.HasPrefix(sdk.Header().Get("Content-Type"), "text/event-stream") {
			t.Errorf("%s: the SDK did not answer the call with an extra field (Content-Type %q)", c.name, sdk.Header().Get("Content-Type"))
		}
		if fast.Code != sdk.Code {
			t.Errorf("%s: status %d, the SDK's %d", c.name, fast.Code, sdk.Code)
		}
		if diff := cmp.Diff(jsonRPCAnswer(t, sdk), jsonRPCAnswer(t, fast)); diff != "" {
			t.Errorf("%s: the fast path's answer differs from the SDK's (-sdk +fast):\n%s", c.name, diff)
		}
		for _, rec := range []*httptest.ResponseRecorder{fast, sdk} {
			if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: headers %v lack no-store/nosniff", c.name, rec.Header())
			}
		}
	}
}

// TestFastCallStepsAside: whatever the fast path does not take plainly
// goes to the SDK, which answers it as it always did.
func TestFastCallStepsAside(t *testing.T) {
	h := benchServerT(t).Config.Handler
	for _, c := range []struct {
		name, tool, extra string
		header            []string
		wantStatus        int
		wantInBody        string
	}{
		{name: "unknown tool", tool: "no_such_tool", wantStatus: http.StatusBadRequest, wantInBody: `unknown tool`},
		{name: "name and header disagree", tool: "get_me", header: []string{"Mcp-Name", "get_file_contents"}, wantStatus: http.StatusBadRequest},
		{name: "a case-twin key is not the name", tool: "get_me", extra: `,"NAME":"get_file_contents"`, wantStatus: http.StatusOK, wantInBody: `"login":"alice"`},
	} {
		rec := statelessCall(t, h, c.tool, `{}`, c.extra, c.header...)
		if rec.Code != c.wantStatus || !strings.Contains(rec.Body.String(), c.wantInBody) {
			t.Errorf("%s = %d %s, want %d with %s", c.name, rec.Code, rec.Body, c.wantStatus, c.wantInBody)
		}
	}
}
