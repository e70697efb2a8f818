package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
)

// streamableHandler serves Streamable HTTP at /mcp. Sessions are bound to
// the Gitea user who opened them (the SDK compares TokenInfo.UserID), idle
// sessions expire, and Stateless drops sessions for multi-replica setups.
// The SDK's own loopback guard is off: protect checks Host against
// PUBLIC_BASE_URL and loopback, which also lets a local reverse proxy in.
func (s *Server) streamableHandler() http.Handler {
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.mcp }, &mcp.StreamableHTTPOptions{
		Stateless:                  s.cfg.Stateless,
		SessionTimeout:             s.cfg.SessionIdleTimeout,
		DisableLocalhostProtection: true,
		MaxRequestBodyBytes:        s.cfg.MaxRequestBodyBytes,
	})
	return s.protect(s.requireAuth(pathMCP, s.scopeChallenge(pathMCP, streamsOutliveWriteTimeout(h))))
}

// streamsOutliveWriteTimeout clears the server's write deadline for the
// standalone event stream a client opens with GET, which stays open for
// server notifications far longer than any one response.
func streamsOutliveWriteTimeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		}
		next.ServeHTTP(w, r)
	})
}

// rpcCall is the part of a JSON-RPC message the scope check reads.
type rpcCall struct {
	Method string `json:"method"`
	Params struct {
		Name string `json:"name"`
	} `json:"params"`
}

// scopeChallenge answers a POSTed tools/call of a tool the token's scopes do
// not cover with 403 insufficient_scope at the HTTP level, so clients can
// step up. It is a courtesy in front of the call path, which checks again:
// a body it cannot read is passed on for the SDK to refuse.
func (s *Server) scopeChallenge(path string, next http.Handler) http.Handler {
	ch := s.challenge(path)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Body == nil {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the request body is too large or unreadable")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		p := auth.PrincipalFrom(r.Context())
		for _, c := range decodeCalls(body) {
			if c.Method != "tools/call" {
				continue
			}
			if t, ok := s.tools.Lookup(c.Params.Name); ok && p != nil && !t.Allowed(p.Scopes) {
				auth.WriteError(w, s.insufficientScope(p, t), ch)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// decodeCalls reads one JSON-RPC message or a batch; anything else is none.
func decodeCalls(body []byte) []rpcCall {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var batch []rpcCall
		_ = json.Unmarshal(body, &batch)
		return batch
	}
	var one rpcCall
	if json.Unmarshal(body, &one) != nil {
		return nil
	}
	return []rpcCall{one}
}
