package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/tools"
)

// toolCallRequest is the body of POST /mcp/tool/call. "tool" is the
// original AegisGitea-MCP's key and "name" its later API reference's; both
// are accepted, but not two different names.
type toolCallRequest struct {
	Tool      string          `json:"tool"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// toolCallResponse is the MCP result of the call.
type toolCallResponse struct {
	Content           []mcp.Content `json:"content"`
	StructuredContent any           `json:"structuredContent,omitempty"`
	IsError           bool          `json:"isError"`
}

// serveToolCall runs one tool for the caller: POST /mcp/tool/call.
func (s *Server) serveToolCall(w http.ResponseWriter, r *http.Request) {
	// Only JSON: a text/plain POST is a "simple" request a browser sends
	// cross-site without asking first.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the call as application/json")
		return
	}
	var req toolCallRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the request body is too large")
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_json", `the body must be a JSON object {"tool": "<name>", "arguments": {...}}`)
		return
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "invalid_json", "the body must hold one JSON object")
		return
	}
	name := req.Tool
	switch {
	case name == "":
		name = req.Name
	case req.Name != "" && req.Name != req.Tool:
		writeError(w, http.StatusBadRequest, "invalid_request", `"tool" and "name" name different tools`)
		return
	}
	if name == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", `"tool" is required`)
		return
	}
	if trimmed := bytes.TrimSpace(req.Arguments); len(trimmed) > 0 && trimmed[0] != '{' && !bytes.Equal(trimmed, []byte("null")) {
		writeError(w, http.StatusBadRequest, "invalid_arguments", `"arguments" must be a JSON object`)
		return
	}
	// A plain HTTP call cannot ask the human.
	via := channel{toolsets: requestToolsets(r), request: *newRequestInfo("tool_call", r)}
	res, ref := s.runCall(r.Context(), toolCall{principal: auth.PrincipalFrom(r.Context()), name: name, args: req.Arguments, via: via})
	if ref != nil {
		s.writeRefusal(w, ref, pathToolCall)
		return
	}
	writeJSON(w, http.StatusOK, toolCallResponse{Content: res.Content, StructuredContent: res.StructuredContent, IsError: res.IsError})
}

// writeRefusal renders a refusal for plain HTTP: a challenge for an
// authentication or scope refusal, else the status and fixed text.
func (s *Server) writeRefusal(w http.ResponseWriter, ref *refusal, path string) {
	switch {
	case ref.auth != nil:
		auth.WriteError(w, ref.auth, s.challenge(path))
	case ref.retryAfter > 0:
		writeLimited(w, ref)
	case ref.code == "unknown_tool":
		writeError(w, ref.status, ref.code, "no tool is called that; GET "+pathToolsList+" lists them")
	default:
		writeError(w, ref.status, ref.code, ref.text)
	}
}

// requestToolsets reads the toolsets a plain HTTP request narrows to, from
// the X-MCP-Toolsets header or the toolsets query parameter.
func requestToolsets(r *http.Request) []tools.Area {
	h := r.Header
	if q := r.URL.Query(); q.Has("toolsets") {
		h = http.Header{toolsetsHeader: q["toolsets"]}
	}
	return parseToolsets(h)
}

// serveToolsList lists the tools the caller may use: GET /mcp/tools.
func (s *Server) serveToolsList(w http.ResponseWriter, r *http.Request) {
	list := s.visibleTools(auth.PrincipalFrom(r.Context()), channel{toolsets: requestToolsets(r)})
	writeJSON(w, http.StatusOK, map[string]any{"tools": mcpTools(list)})
}
