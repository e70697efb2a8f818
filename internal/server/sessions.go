package server

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
)

// sessionIDHeader names a Streamable HTTP session.
const sessionIDHeader = "Mcp-Session-Id"

// streamWriteTimeout bounds one write to an event stream: a client that
// stops reading is dropped instead of holding its connection for ever.
const streamWriteTimeout = writeTimeout

// sessionTracker follows the Streamable HTTP sessions this server holds,
// so that each counts against its owner's limit for as long as it lives,
// and the event streams opened on a session end when it does.
type sessionTracker struct {
	mu   sync.Mutex
	live map[string]map[*heldStream]struct{} // by session id: its open streams
}

// heldStream is one open event stream, which stop ends: its request's
// context is cancelled and a write blocked on a client that does not read
// fails at once.
type heldStream struct {
	cancel context.CancelFunc
	rc     *http.ResponseController
}

func (h *heldStream) stop() {
	h.cancel()
	_ = h.rc.SetWriteDeadline(time.Now())
}

func (t *sessionTracker) begin(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.live[id] = map[*heldStream]struct{}{}
}

// endAll stops every stream of every session.
func (t *sessionTracker) endAll() {
	t.mu.Lock()
	var all []*heldStream
	for _, streams := range t.live {
		for h := range streams {
			all = append(all, h)
		}
	}
	t.mu.Unlock()
	for _, h := range all {
		h.stop()
	}
}

// endStreams ends every open event stream, so that a graceful shutdown
// need not wait for clients to hang up: they reconnect elsewhere at once.
func (s *Server) endStreams() {
	s.tracked.endAll()
	s.sse.closeAll()
}

// count is how many sessions live.
func (t *sessionTracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.live)
}

// end forgets session id and stops its streams.
func (t *sessionTracker) end(id string) {
	t.mu.Lock()
	streams := t.live[id]
	delete(t.live, id)
	t.mu.Unlock()
	for h := range streams {
		h.stop()
	}
}

// attach adds h to session id's streams; false if no such session lives.
func (t *sessionTracker) attach(id string, h *heldStream) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	streams, ok := t.live[id]
	if ok {
		streams[h] = struct{}{}
	}
	return ok
}

func (t *sessionTracker) detach(id string, h *heldStream) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.live[id], h)
}

// limitSessions makes the sessions and streams of the Streamable HTTP
// handler next count against their owner's limits: a POST without a
// session id may open a session, a GET opens a stream on one. A caller at
// a limit is answered 429 before the SDK sees the request.
func (s *Server) limitSessions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.PrincipalFrom(r.Context())
		id := r.Header.Get(sessionIDHeader)
		switch {
		case p == nil:
			next.ServeHTTP(w, r)
		case r.Method == http.MethodPost && id == "":
			s.serveNewSession(w, r, p, next)
		case r.Method == http.MethodGet:
			s.serveStream(w, r, p, id, next)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// serveNewSession lets next answer a request that may open a session, and
// if it did, holds one of p's session slots until the session ends.
func (s *Server) serveNewSession(w http.ResponseWriter, r *http.Request, p *auth.Principal, next http.Handler) {
	release, ref := s.limits.openSession(p)
	if ref != nil {
		s.sampled.warn(ref.code, "session refused by a limit", "caller", p, "reason", ref.code)
		writeLimited(w, ref)
		return
	}
	next.ServeHTTP(w, r)
	ss := s.liveSession(w.Header().Get(sessionIDHeader))
	if ss == nil { // no session came of it (not an initialize, or it failed)
		release()
		return
	}
	s.tracked.begin(ss.ID())
	go func() {
		_ = ss.Wait() // closed by DELETE, idle expiry or shutdown
		s.tracked.end(ss.ID())
		release()
	}()
}

// liveSession is the MCP session called id, or nil.
func (s *Server) liveSession(id string) *mcp.ServerSession {
	if id == "" {
		return nil
	}
	for ss := range s.mcp.Sessions() {
		if ss.ID() == id {
			return ss
		}
	}
	return nil
}

// serveStream lets next serve an event stream on session id while it
// holds one of p's stream slots, ends it when the session ends, and drops
// a client that stops reading.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, p *auth.Principal, id string, next http.Handler) {
	release, ok := s.openStream(w, p)
	if !ok {
		return
	}
	defer release()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	sw := newStreamWriter(w)
	h := &heldStream{cancel: cancel, rc: sw.rc}
	if s.tracked.attach(id, h) {
		defer s.tracked.detach(id, h)
	}
	stop := sw.keepAlive(ctx, streamKeepAlive)
	defer stop()
	next.ServeHTTP(sw, r.WithContext(ctx))
}

// openStream takes one of p's event-stream slots, or answers w with the
// limit's refusal and reports false.
func (s *Server) openStream(w http.ResponseWriter, p *auth.Principal) (release func(), ok bool) {
	release, ref := s.limits.openStream(p)
	if ref != nil {
		s.sampled.warn(ref.code, "event stream refused by a limit", "caller", p, "reason", ref.code)
		writeLimited(w, ref)
		return nil, false
	}
	return release, true
}

// streamWriter is the response of a long-lived event stream: each write
// gets streamWriteTimeout to complete, however long the stream stays open,
// and writes are serialised so that keep-alive comments can go between
// the events.
type streamWriter struct {
	http.ResponseWriter
	rc *http.ResponseController

	mu         sync.Mutex
	headerSent bool
	started    bool // the header sent was 200: comments may follow
}

func newStreamWriter(w http.ResponseWriter) *streamWriter {
	return &streamWriter{ResponseWriter: w, rc: http.NewResponseController(w)}
}

func (w *streamWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.headerSent {
		w.headerSent, w.started = true, code == http.StatusOK
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *streamWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.headerSent { // an implicit 200
		w.headerSent, w.started = true, true
	}
	_ = w.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	return w.ResponseWriter.Write(b)
}

func (w *streamWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	_ = w.rc.Flush()
}

// keepAlive writes an SSE comment every interval once the stream has
// started, so that proxies with a read timeout (nginx's is 60 s) keep an
// idle stream open. stop ends it, and returns once nothing more will be
// written.
func (w *streamWriter) keepAlive(ctx context.Context, interval time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if w.comment() != nil {
					return
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// comment writes one keep-alive comment, if the stream has started.
func (w *streamWriter) comment() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.started {
		return nil
	}
	_ = w.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := io.WriteString(w.ResponseWriter, ": keep-alive\n\n"); err != nil {
		return err
	}
	return w.rc.Flush()
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *streamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
