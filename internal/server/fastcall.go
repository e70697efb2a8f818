package server

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/tools"
)

// The stateless tools/call fast path. A tools/call of MCP 2026-07-28 is a
// whole request in one POST: it carries its protocol version, client
// information and capabilities in _meta, and needs no session. The go-sdk
// answers it after about fifteen JSON decodes, each with a 32 KiB buffer
// of its own (its internal json.Unmarshal wraps a stream decoder), which
// made up four fifths of the memory a call allocated. This path reads
// such a request once, hands it to the one call pipeline like every other
// transport, and writes the JSON-RPC answer as JSON. It takes only the
// plain, well-formed case; anything else — a batch, a notification, an
// unknown tool, a missing or unusual field, a retried confirmation, a
// destructive call that may ask the human — goes to the SDK unchanged,
// which answers it as before.

// fastCallProtocol is the one revision the fast path speaks.
const fastCallProtocol = "2026-07-28"

// MCP _meta keys of a 2026-07-28 request.
const (
	metaProtocolVersion = "io.modelcontextprotocol/protocolVersion"
	metaClientInfo      = "io.modelcontextprotocol/clientInfo"
	metaCapabilities    = "io.modelcontextprotocol/clientCapabilities"
	metaServerInfo      = "io.modelcontextprotocol/serverInfo"
)

// fastCalls wraps the stateless handler sdk: POSTs the fast path can take
// are answered here, every other request by sdk.
func (s *Server) fastCalls(sdk http.Handler) http.Handler {
	serverInfo, _ := json.Marshal(map[string]any{metaServerInfo: &mcp.Implementation{Name: serverName, Title: serverTitle, Version: s.version}})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !fastCallHeaders(r) {
			sdk.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil { // too large or cut: the SDK says so in its own words
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			sdk.ServeHTTP(w, r)
			return
		}
		c, id, ok := s.fastCall(r, body)
		if !ok {
			r.Body = io.NopCloser(bytes.NewReader(body))
			sdk.ServeHTTP(w, r)
			return
		}
		res, ref := s.runCall(r.Context(), c)
		switch {
		case ref != nil && ref.auth != nil: // the HTTP challenge, so clients can step up
			auth.WriteError(w, ref.auth, s.challenge(pathMCP))
			return
		case ref != nil:
			res = tools.ErrorText(ref.text)
		}
		writeFastResult(w, id, serverInfo, res)
	})
}

// fastCallHeaders reports whether r's headers are those of a 2026-07-28
// tools/call the fast path may take.
func fastCallHeaders(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get(protocolVersionHeader) != fastCallProtocol ||
		r.Header.Get("Mcp-Method") != "tools/call" || r.Header.Get("Mcp-Name") == "" {
		return false
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return false
	}
	accept := strings.Join(r.Header.Values("Accept"), ",")
	return strings.Contains(accept, "application/json") && strings.Contains(accept, "text/event-stream")
}

// fastCall reads body as a tools/call the fast path may take and returns
// it with its JSON-RPC id; ok is false when the SDK should answer it.
// Keys are matched exactly, as the SDK matches them, so that no two
// readers of one request disagree on what it asks.
func (s *Server) fastCall(r *http.Request, body []byte) (c toolCall, id json.RawMessage, ok bool) {
	var msg map[string]json.RawMessage
	if json.Unmarshal(body, &msg) != nil || len(msg) != 4 || !jsonString(msg["jsonrpc"], "2.0") || !jsonString(msg["method"], "tools/call") {
		return c, nil, false
	}
	id = msg["id"]
	if len(id) == 0 || (id[0] != '"' && id[0] != '-' && (id[0] < '0' || id[0] > '9')) { // a string or a number
		return c, nil, false
	}
	var params map[string]json.RawMessage
	if json.Unmarshal(msg["params"], &params) != nil {
		return c, nil, false
	}
	for k := range params {
		if k != "_meta" && k != "name" && k != "arguments" { // a retried confirmation, or more: the SDK's
			return c, nil, false
		}
	}
	var name string
	if json.Unmarshal(params["name"], &name) != nil || name != r.Header.Get("Mcp-Name") {
		return c, nil, false
	}
	t, known := s.tools.Lookup(name)
	if !known || (t.Access == tools.Destructive && s.cfg.ConfirmDestructive) {
		return c, nil, false
	}
	var meta map[string]json.RawMessage
	if json.Unmarshal(params["_meta"], &meta) != nil || !jsonString(meta[metaProtocolVersion], fastCallProtocol) ||
		!jsonObject(meta[metaClientInfo]) || !jsonObject(meta[metaCapabilities]) {
		return c, nil, false
	}
	via := channel{request: *newRequestInfo("streamable", r), toolsets: parseToolsets(r.Header)}
	return toolCall{principal: auth.PrincipalFrom(r.Context()), name: name, args: params["arguments"], via: via}, id, true
}

// jsonString reports whether raw is the JSON string want.
func jsonString(raw json.RawMessage, want string) bool {
	var s string
	return json.Unmarshal(raw, &s) == nil && s == want
}

// jsonObject reports whether raw is a JSON object.
func jsonObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{' && json.Valid(raw)
}

// fastResult is a tools/call result as MCP 2026-07-28 carries it.
type fastResult struct {
	Meta              json.RawMessage `json:"_meta"`
	Content           []mcp.Content   `json:"content"`
	StructuredContent any             `json:"structuredContent,omitempty"`
	IsError           bool            `json:"isError,omitempty"`
	ResultType        string          `json:"resultType"`
}

// writeFastResult writes the JSON-RPC answer to request id.
func writeFastResult(w http.ResponseWriter, id, serverInfo json.RawMessage, res *mcp.CallToolResult) {
	content := res.Content
	if content == nil {
		content = []mcp.Content{}
	}
	answer := struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Result  fastResult      `json:"result"`
	}{"2.0", id, fastResult{Meta: serverInfo, Content: content, StructuredContent: res.StructuredContent, IsError: res.IsError, ResultType: "complete"}}
	data, err := json.Marshal(answer)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal_error", "internal error while answering")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}
