package server

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/tools"
)

// errUnknownTool is a call to a tool that does not exist.
var errUnknownTool = errors.New("unknown tool")

// callTool is the one call path every transport uses: the verified caller,
// the tool, its scopes, then the tool itself with a Gitea client bound to
// the caller's own token. Errors: errUnknownTool, an *auth.Error for a
// missing scope, a *tools.ArgumentError for bad arguments; anything that
// goes wrong inside the tool is an IsError result instead.
func (s *Server) callTool(ctx context.Context, p *auth.Principal, name string, args json.RawMessage) (*mcp.CallToolResult, error) {
	start := time.Now()
	res, err := s.guardedCall(ctx, p, name, args)
	outcome := "ok"
	switch {
	case err != nil:
		outcome = "refused"
	case res.IsError:
		outcome = "tool_error"
	}
	s.log.Info("tool call", "tool", name, "caller", p, "outcome", outcome,
		"duration_ms", time.Since(start).Milliseconds())
	return res, err
}

func (s *Server) guardedCall(ctx context.Context, p *auth.Principal, name string, args json.RawMessage) (*mcp.CallToolResult, error) {
	if p == nil { // every transport authenticates first; doubt refuses
		return nil, auth.ErrNoToken
	}
	t, ok := s.tools.Lookup(name)
	if !ok {
		return nil, errUnknownTool
	}
	if !t.Allowed(p.Scopes) {
		return nil, s.insufficientScope(p, t)
	}
	return t.Call(ctx, s.gitea.As(p.Token()), args, s.toolOpts)
}

// insufficientScope asks for the scopes the token has plus the ones the tool
// needs, so a re-grant keeps what already works.
func (s *Server) insufficientScope(p *auth.Principal, t *tools.Tool) *auth.Error {
	var missing []gitea.Scope
	for _, sc := range t.Scopes {
		if !p.Scopes.Has(sc) {
			missing = append(missing, sc)
		}
	}
	return auth.InsufficientScope(missing, append(p.Scopes.List(), missing...))
}
