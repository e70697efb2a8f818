package server

import "net/http"

// privateAnswers marks every answer of an MCP endpoint as data for one
// caller: Cache-Control: no-store (no browser, proxy or CDN may keep a
// copy) and X-Content-Type-Options: nosniff. The SDK sets its own headers
// late (Cache-Control: no-cache on its event streams, just before it
// writes), so the headers are fixed when the answer's header is sent, not
// before the handler runs: whatever a handler set, these win, on results,
// streams and errors alike.
func privateAnswers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pw := &privateWriter{ResponseWriter: w}
		next.ServeHTTP(pw, r)
		pw.fix() // a handler that wrote nothing: net/http sends the header now
	})
}

// privateWriter fixes the caching headers once, as the header goes out.
type privateWriter struct {
	http.ResponseWriter
	sent bool
}

func (w *privateWriter) fix() {
	if w.sent {
		return
	}
	w.sent = true
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

func (w *privateWriter) WriteHeader(code int) {
	w.fix()
	if code < 200 && code != http.StatusSwitchingProtocols { // an informational header: the real one follows
		w.sent = false
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *privateWriter) Write(b []byte) (int, error) {
	w.fix()
	return w.ResponseWriter.Write(b)
}

// FlushError is what http.ResponseController.Flush calls: a flush sends
// the header, so it is fixed first.
func (w *privateWriter) FlushError() error {
	w.fix()
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush serves handlers that assert http.Flusher.
func (w *privateWriter) Flush() { _ = w.FlushError() }

// Unwrap lets http.ResponseController reach the real writer (deadlines,
// full duplex).
func (w *privateWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
