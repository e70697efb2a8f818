package server

import (
	"bytes"
	"encoding/json"
	"errors"
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
	res, err := s.callTool(r.Context(), auth.PrincipalFrom(r.Context()), name, req.Arguments)
	var authErr *auth.Error
	var argErr *tools.ArgumentError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, toolCallResponse{Content: res.Content, StructuredContent: res.StructuredContent, IsError: res.IsError})
	case errors.Is(err, errUnknownTool):
		writeError(w, http.StatusNotFound, "unknown_tool", "no tool is called that; GET "+pathToolsList+" lists them")
	case errors.As(err, &argErr):
		writeError(w, http.StatusBadRequest, "invalid_arguments", argErr.Error())
	case errors.As(err, &authErr):
		auth.WriteError(w, authErr, s.challenge(pathToolCall))
	default:
		s.log.Error("tool call failed", "tool", name, "error", err.Error())
		writeError(w, http.StatusInternalServerError, "internal_error", "internal server error")
	}
}

// serveToolsList lists the tools the caller's token may use: GET /mcp/tools.
func (s *Server) serveToolsList(w http.ResponseWriter, r *http.Request) {
	p := auth.PrincipalFrom(r.Context())
	list := []*mcp.Tool{}
	for _, t := range s.tools.Tools() {
		if p != nil && t.Allowed(p.Scopes) {
			list = append(list, t.MCP())
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tools": list})
}
