package server

import (
	"net/http"
	"strings"
	"unicode"
)

// maxErrorText bounds the text kept of an error answered in plain text.
const maxErrorText = 512

// shapeErrors gives every error answer of next the one JSON shape,
// {"error": "...", "error_description": "..."}: this server's own errors
// have it already (writeError, auth.WriteError), and a plain-text error
// from elsewhere (the MCP SDK's transports, the router's 405) is rewritten
// into it, its text kept as the description. Answers that are not errors,
// or are already JSON (JSON-RPC errors included), pass untouched.
func shapeErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &errorShaper{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		sw.finish()
	})
}

// errorShaper holds back a plain-text error answer until the handler is
// done, then sends it as JSON.
type errorShaper struct {
	http.ResponseWriter
	decided bool
	status  int    // of a held-back error answer; 0 when nothing is held
	text    []byte // its text, up to maxErrorText bytes
}

func (w *errorShaper) WriteHeader(code int) {
	if w.decided {
		if w.status == 0 {
			w.ResponseWriter.WriteHeader(code) // let net/http report the superfluous call
		}
		return
	}
	w.decided = true
	if ct := w.Header().Get("Content-Type"); code >= 400 && (ct == "" || strings.HasPrefix(ct, "text/plain")) {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *errorShaper) Write(b []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.status == 0 {
		return w.ResponseWriter.Write(b)
	}
	if room := maxErrorText - len(w.text); room > 0 {
		w.text = append(w.text, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

// Flush sends what is written so far, unless an error is held back.
func (w *errorShaper) Flush() {
	if w.status == 0 {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer (deadlines).
func (w *errorShaper) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish sends a held-back error in the JSON shape.
func (w *errorShaper) finish() {
	if w.status == 0 {
		return
	}
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Type")
	writeError(w.ResponseWriter, w.status, errorCode(w.status), errorText(w.status, w.text))
}

// errorCode is the error code of a status: "bad_request", "not_found", ...
func errorCode(status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusInternalServerError:
		return "internal_error"
	}
	if text := http.StatusText(status); text != "" {
		return strings.ToLower(strings.NewReplacer(" ", "_", "-", "_", "'", "").Replace(text))
	}
	return "error"
}

// errorText is a plain-text error's text, on one line of printable
// characters, or the status's name when it has none.
func errorText(status int, text []byte) string {
	s := strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(text), ""))
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return strings.ToLower(http.StatusText(status))
	}
	return s
}
