package server

import (
	"net/http"
	"strings"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// wellKnownPrefix is where RFC 9728 metadata lives; each MCP endpoint also
// has its own document at the prefix followed by the endpoint's path.
const wellKnownPrefix = "/.well-known/oauth-protected-resource"

// The MCP endpoints, each a protected resource with its own metadata.
const (
	pathMCP       = "/mcp"
	pathSSE       = "/mcp/sse"
	pathToolCall  = "/mcp/tool/call"
	pathToolsList = "/mcp/tools"
)

var protectedPaths = []string{pathMCP, pathSSE, pathToolCall, pathToolsList}

// publicURL is the public URL of a path of this server.
func (s *Server) publicURL(path string) string {
	return strings.TrimRight(s.cfg.PublicBaseURL.String(), "/") + path
}

func (s *Server) metadataURL(path string) string {
	return s.publicURL(wellKnownPrefix + path)
}

// mountMetadata serves the root document (resource = PUBLIC_BASE_URL, or
// the configured override) and one per endpoint naming that endpoint. The
// documents are public: any origin may read them (Access-Control-Allow-
// Origin: *, no credentials) and a preflight for them is answered.
func (s *Server) mountMetadata(mux *http.ServeMux) {
	root := s.publicURL("")
	if s.cfg.RootResource != "" {
		root = s.cfg.RootResource
	}
	for _, method := range []string{"GET ", "OPTIONS "} {
		mux.Handle(method+wellKnownPrefix, s.metadata(root))
		for _, p := range protectedPaths {
			mux.Handle(method+wellKnownPrefix+p, s.metadata(s.publicURL(p)))
		}
	}
}

func (s *Server) metadata(resource string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		publicPreflight(w, r)
		doc := auth.ResourceMetadata{
			Resource:               resource,
			AuthorizationServers:   []string{s.authorizationServer()},
			BearerMethodsSupported: []string{"header"},
			ScopesSupported:        gitea.ScopeWords(s.scopes),
			ResourceName:           "AegisGitea MCP",
			ResourceDocumentation:  s.cfg.ResourceDocumentation,
		}
		doc.ServeHTTP(w, r)
	})
}

// authorizationServer is the issuer clients get their tokens from: the
// broker when it is on, else Gitea.
func (s *Server) authorizationServer() string {
	if s.broker != nil {
		return s.broker.Issuer()
	}
	return s.ready.issuer()
}
