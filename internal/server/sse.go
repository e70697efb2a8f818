package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
)

// The legacy HTTP+SSE transport (MCP 2024-11-05) at /mcp/sse: GET opens an
// event stream whose first event names the URL to POST messages to. The
// SDK's SSEHandler does not bind a session to its user, so this one does:
// the GET records the session's owner, every POST is authenticated on its
// own, a POST by anyone else is refused with 403 before anything runs, and
// each message carries the principal of the POST that delivered it, so a
// tool runs with that POST's token.

// streamKeepAlive is how often an idle event stream (GET /mcp/sse, GET
// /mcp) gets a comment, well inside the 60 s read timeout proxies such as
// nginx apply by default. Tests shorten it.
var streamKeepAlive = 25 * time.Second

// sseSessions are the open SSE sessions by id.
type sseSessions struct {
	mu sync.Mutex
	m  map[string]*sseSession
}

func (ss *sseSessions) add(s *sseSession) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.m[s.id] = s
}

func (ss *sseSessions) remove(s *sseSession) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, s.id)
}

// closeAll closes every SSE session, which ends its stream.
func (ss *sseSessions) closeAll() {
	ss.mu.Lock()
	open := make([]*sseSession, 0, len(ss.m))
	for _, s := range ss.m {
		open = append(open, s)
	}
	ss.mu.Unlock()
	for _, s := range open {
		_ = s.Close()
	}
}

// count is how many SSE sessions are open.
func (ss *sseSessions) count() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.m)
}

func (ss *sseSessions) get(id string) *sseSession {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.m[id]
}

// sseSession is one stream: an mcp.Transport and its mcp.Connection.
type sseSession struct {
	id       string
	owner    string   // the Gitea user id of the principal that opened it
	toolsets []string // the toolsets the stream was opened with, if any
	endpoint string
	incoming chan jsonrpc.Message
	done     chan struct{}

	mu     sync.Mutex // guards w and closed
	w      http.ResponseWriter
	closed bool
}

var (
	_ mcp.Transport                = (*sseSession)(nil)
	_ mcp.Connection               = (*sseSession)(nil)
	_ mcp.ProtocolVersionSupporter = (*sseSession)(nil)
)

// Connect sends the endpoint event.
func (t *sseSession) Connect(context.Context) (mcp.Connection, error) {
	if err := t.event("endpoint", []byte(t.endpoint)); err != nil {
		return nil, err
	}
	return t, nil
}

// SupportsProtocolVersion excludes 2026-07-28, which defines no SSE binding.
func (t *sseSession) SupportsProtocolVersion(v string) bool { return v < statelessProtocol }

func (t *sseSession) SessionID() string { return t.id }

func (t *sseSession) Read(ctx context.Context) (jsonrpc.Message, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case msg := <-t.incoming:
		return msg, nil
	case <-t.done:
		return nil, io.EOF
	}
}

func (t *sseSession) Write(ctx context.Context, msg jsonrpc.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return err
	}
	return t.event("message", data)
}

// event writes one server-sent event and flushes it.
func (t *sseSession) event(name string, data []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return io.EOF
	}
	if _, err := fmt.Fprintf(t.w, "event: %s\ndata: %s\n\n", name, data); err != nil {
		return err
	}
	return http.NewResponseController(t.w).Flush()
}

func (t *sseSession) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		t.closed = true
		close(t.done)
	}
	return nil
}

// serveSSEStream opens a session for the authenticated caller (GET /mcp/sse).
func (s *Server) serveSSEStream(w http.ResponseWriter, r *http.Request) {
	p := auth.PrincipalFrom(r.Context())
	release, ok := s.openStream(w, p)
	if !ok {
		return
	}
	defer release()
	sw := newStreamWriter(w) // each write gets its own deadline, however long the stream lives
	w = sw
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	id := rand.Text()
	sess := &sseSession{
		id:       id,
		owner:    p.UserID,
		toolsets: streamToolsets(r),
		endpoint: s.cfg.PublicBaseURL.Path + pathSSE + "?sessionid=" + id,
		incoming: make(chan jsonrpc.Message, 16),
		done:     make(chan struct{}),
		w:        w,
	}
	s.sse.add(sess)
	defer s.sse.remove(sess)
	ss, err := s.mcp.Connect(r.Context(), sess, nil)
	if err != nil {
		_ = sess.Close()
		return
	}
	defer func() { _ = ss.Close() }()
	stop := sw.keepAlive(r.Context(), streamKeepAlive)
	defer stop()
	select {
	case <-r.Context().Done():
	case <-sess.done:
	}
}

// streamToolsets is what a GET /mcp/sse narrows its stream to, from the
// toolsets header or query parameter; nil means no narrowing.
func streamToolsets(r *http.Request) []string {
	if q := r.URL.Query(); q.Has("toolsets") {
		return q["toolsets"]
	}
	return r.Header.Values(toolsetsHeader)
}

// serveSSEMessage delivers one POSTed message to its session, if the
// caller owns it (POST /mcp/sse?sessionid=...).
func (s *Server) serveSSEMessage(w http.ResponseWriter, r *http.Request) {
	sess := s.sse.get(r.URL.Query().Get("sessionid"))
	if sess == nil {
		writeError(w, http.StatusNotFound, "session_not_found", "no such session: open a new one with GET "+pathSSE)
		return
	}
	p := auth.PrincipalFrom(r.Context())
	if p == nil || p.UserID != sess.owner {
		s.log.Warn("sse post into another user's session refused", "caller", p)
		writeError(w, http.StatusForbidden, "session_forbidden", "this session belongs to another user")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the message as application/json")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the request body is too large")
			return
		}
		writeError(w, http.StatusBadRequest, "bad_request", "the request body could not be read")
		return
	}
	msg, err := jsonrpc.DecodeMessage(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "parse_error", "the body is not a JSON-RPC message")
		return
	}
	if req, ok := msg.(*jsonrpc.Request); ok {
		h := r.Header.Clone()
		if sess.toolsets != nil { // the stream's toolsets hold for every message in it
			h[toolsetsHeader] = sess.toolsets
		} else {
			delete(h, toolsetsHeader)
		}
		req.Extra = &mcp.RequestExtra{TokenInfo: tokenInfo(p, newRequestInfo("sse", r)), Header: h}
	}
	select {
	case sess.incoming <- msg:
		w.WriteHeader(http.StatusAccepted)
	case <-sess.done:
		writeError(w, http.StatusNotFound, "session_not_found", "the session has closed")
	case <-r.Context().Done():
	}
}

// sseHandler routes /mcp/sse: GET streams, POST delivers.
func (s *Server) sseHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pathSSE, s.serveSSEStream)
	mux.HandleFunc("POST "+pathSSE, s.serveSSEMessage)
	mux.Handle(pathSSE, methodNotAllowed("GET, POST"))
	return s.protect(s.requireAuth(pathSSE, mux))
}
