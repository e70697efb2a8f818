package server

import (
	"net/http"
	"sync"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
)

// streamableHandler serves Streamable HTTP at /mcp. Sessions are bound to
// the Gitea user who opened them (the SDK compares TokenInfo.UserID), idle
// sessions expire, and Stateless drops sessions for multi-replica setups.
// MCP 2026-07-28 has no sessions at all, so its requests (named by their
// Mcp-Protocol-Version header) always go to a stateless handler; older
// clients keep their sessions. The SDK's own loopback guard is off: protect
// checks Host against PUBLIC_BASE_URL and loopback, which also lets a local
// reverse proxy in. Sessions and their event streams count against their
// owner's limits (limitSessions).
func (s *Server) streamableHandler() http.Handler {
	handler := func(stateless bool) http.Handler {
		return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.mcp }, &mcp.StreamableHTTPOptions{
			Stateless:                  stateless,
			SessionTimeout:             s.cfg.SessionIdleTimeout,
			DisableLocalhostProtection: true,
			MaxRequestBodyBytes:        s.cfg.MaxRequestBodyBytes,
		})
	}
	h := handler(s.cfg.Stateless)
	if s.cfg.Stateless {
		h = s.fastCalls(h)
	} else {
		sessions, stateless := s.limitSessions(h), s.fastCalls(handler(true))
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get(protocolVersionHeader) >= statelessProtocol {
				stateless.ServeHTTP(w, r)
				return
			}
			sessions.ServeHTTP(w, r)
		})
	}
	return s.protect(s.requireAuth(pathMCP, s.answerRefusals(pathMCP, toolsetsFromQuery(h))))
}

// The MCP revision from which requests carry their own protocol version
// and capabilities, with no session, and the header that names it.
const (
	statelessProtocol     = "2026-07-28"
	protocolVersionHeader = "Mcp-Protocol-Version"
)

// toolsetsFromQuery makes /mcp?toolsets=... the request's toolsets header,
// which the MCP layer reads.
func toolsetsFromQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); q.Has("toolsets") {
			r.Header[toolsetsHeader] = q["toolsets"]
		}
		next.ServeHTTP(w, r)
	})
}

// mcpRequestSlot returns the refusal slot of an authenticated MCP request,
// or nil.
func mcpRequestSlot(r *http.Request) *refusalSlot {
	ti := sdkauth.TokenInfoFromContext(r.Context())
	if ti == nil {
		return nil
	}
	if info, ok := ti.Extra[requestKey].(*requestInfo); ok {
		return info.refusal
	}
	return nil
}

// refusalSlot hands the pipeline's authentication or scope refusal of a
// call back to the HTTP request that carried it.
type refusalSlot struct {
	mu  sync.Mutex
	err *auth.Error
}

func (s *refusalSlot) set(err *auth.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *refusalSlot) get() *auth.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// answerRefusals lets a POST whose call the pipeline refused for its token
// (a missing scope) be answered at the HTTP level, 403 with the
// insufficient_scope challenge, so clients can step up. The decision is the
// pipeline's; this only renders it, in place of the SDK's answer, as long as
// nothing of that answer has been sent yet.
func (s *Server) answerRefusals(path string, next http.Handler) http.Handler {
	ch := s.challenge(path)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slot := mcpRequestSlot(r)
		if r.Method != http.MethodPost || slot == nil {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&refusingWriter{ResponseWriter: w, slot: slot, challenge: ch}, r)
	})
}

// refusingWriter is the HTTP response of one POST to /mcp: when the
// pipeline has refused a call in it by the time the SDK first writes, the
// refusal's challenge is sent instead of the SDK's answer.
type refusingWriter struct {
	http.ResponseWriter
	slot      *refusalSlot
	challenge auth.Challenge
	decided   bool
	refused   bool
}

func (w *refusingWriter) decide() {
	if w.decided {
		return
	}
	w.decided = true
	if err := w.slot.get(); err != nil {
		w.refused = true
		h := w.Header()
		h.Del("Content-Type")
		h.Del("Connection")
		auth.WriteError(w.ResponseWriter, err, w.challenge)
	}
}

func (w *refusingWriter) WriteHeader(code int) {
	if w.decide(); !w.refused {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *refusingWriter) Write(b []byte) (int, error) {
	if w.decide(); w.refused {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *refusingWriter) Flush() {
	if w.decide(); !w.refused {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer (deadlines).
func (w *refusingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
