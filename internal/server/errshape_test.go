package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestEveryErrorHasOneShape: this server's own errors, the router's and
// the MCP SDK's plain-text ones all answer {"error", "error_description"}
// in JSON; successes and streams pass untouched.
func TestEveryErrorHasOneShape(t *testing.T) {
	h := newTestServer(t, &fakeGitea{}, nil).Handler()
	up := httptest.NewServer(&fakeGitea{})
	t.Cleanup(up.Close)
	shared := serverFor(t, up.URL, false, &bytes.Buffer{}).Handler() // the MCP SDK's own errors, without a token
	tests := []struct {
		name, method, target string
		shared               bool
		header               http.Header
		wantStatus           int
		wantCode, wantText   string
	}{
		{name: "no such endpoint", method: "GET", target: "/nope", wantStatus: 404, wantCode: "not_found", wantText: "no such endpoint"},
		{name: "our 405", method: "GET", target: "/mcp/tool/call", header: http.Header{"Host": {"127.0.0.1"}}, wantStatus: 405,
			wantCode: "method_not_allowed", wantText: "use POST"},
		{name: "refusal", method: "POST", target: "/mcp/tool/call", header: http.Header{"Host": {"127.0.0.1"}}, wantStatus: 401,
			wantCode: "unauthorized", wantText: "Authorization header"},
		{name: "SDK: GET without a session", method: "GET", target: "/mcp", shared: true,
			header: http.Header{"Host": {"127.0.0.1"}, "Accept": {"text/event-stream"}}, wantStatus: 400, wantCode: "bad_request", wantText: "Mcp-Session-Id"},
		{name: "SDK: unknown session", method: "DELETE", target: "/mcp", shared: true,
			header: http.Header{"Host": {"127.0.0.1"}, "Mcp-Session-Id": {"nope"}}, wantStatus: 404, wantCode: "not_found", wantText: "session not found"},
		{name: "SDK: SSE message to no session", method: "POST", target: "/mcp/sse?sessionid=nope", shared: true,
			header: http.Header{"Host": {"127.0.0.1"}, "Content-Type": {"application/json"}}, wantStatus: 404, wantCode: "session_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequestWithContext(t.Context(), tt.method, tt.target, nil)
			for k, v := range tt.header {
				req.Header[k] = v
			}
			if host := tt.header.Get("Host"); host != "" {
				req.Host = host
			}
			rec := httptest.NewRecorder()
			if tt.shared {
				shared.ServeHTTP(rec, req)
			} else {
				h.ServeHTTP(rec, req)
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("%s %s = %d %q: not JSON (%v)", tt.method, tt.target, rec.Code, rec.Body, err)
			}
			if rec.Code != tt.wantStatus || body["error"] != tt.wantCode || !strings.Contains(body["error_description"], tt.wantText) || len(body) != 2 {
				t.Errorf("%s %s = %d %v, want %d with error %q and a description holding %q", tt.method, tt.target, rec.Code, body, tt.wantStatus, tt.wantCode, tt.wantText)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
		})
	}
}

func TestShapeErrorsRewritesPlainText(t *testing.T) {
	h := shapeErrors(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/plain":
			http.Error(w, "session not found\x1b[31m\n", http.StatusNotFound)
		case "/bare":
			w.WriteHeader(http.StatusConflict)
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`))
		case "/long":
			http.Error(w, strings.Repeat("a", 5000), http.StatusBadRequest)
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	tests := []struct{ path, want string }{
		{"/plain", `{"error":"not_found","error_description":"session not found [31m"}`},
		{"/bare", `{"error":"conflict","error_description":"conflict"}`},
		{"/json", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`},
		{"/long", `{"error":"bad_request","error_description":"` + strings.Repeat("a", maxErrorText) + `"}`},
		{"/ok", "ok"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", tt.path, nil))
		if got := strings.TrimSpace(rec.Body.String()); got != tt.want {
			t.Errorf("GET %s = %s, want %s", tt.path, got, tt.want)
		}
	}
}
