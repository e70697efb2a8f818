package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

const testMetadataURL = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"

// bearerChallenge matches a Bearer challenge whose parameters are all
// quoted-strings of printable ASCII without '"' and '\' (RFC 6750 §3).
var bearerChallenge = regexp.MustCompile(`^Bearer( [a-z_]+="[\x20\x21\x23-\x5b\x5d-\x7e]*"(, [a-z_]+="[\x20\x21\x23-\x5b\x5d-\x7e]*")*)?$`)

func TestWriteError(t *testing.T) {
	ch := Challenge{ResourceMetadataURL: testMetadataURL, Scopes: testRecommended}
	scopes := gitea.JoinScopes(testRecommended)
	lacking := InsufficientScope([]gitea.Scope{gitea.ScopeWriteIssue}, []gitea.Scope{gitea.ScopeReadRepository, gitea.ScopeWriteIssue})
	tests := []struct {
		name           string
		err            *Error
		ch             Challenge
		wantStatus     int
		wantChallenge  string // exact; "-" for none
		wantRetryAfter string
		wantBody       errorBody
	}{
		{
			name:          "no token",
			err:           ErrNoToken,
			ch:            ch,
			wantStatus:    401,
			wantChallenge: `Bearer scope="` + scopes + `", resource_metadata="` + testMetadataURL + `"`,
			wantBody:      errorBody{Error: "unauthorized", ErrorDescription: ErrNoToken.Description},
		},
		{
			name:          "no token, bare challenge",
			err:           ErrNoToken,
			wantStatus:    401,
			wantChallenge: "Bearer",
			wantBody:      errorBody{Error: "unauthorized", ErrorDescription: ErrNoToken.Description},
		},
		{
			name:       "invalid token",
			err:        invalidToken("the token has expired; get a new one", errors.New("cause for logs only")),
			ch:         ch,
			wantStatus: 401,
			wantChallenge: `Bearer error="invalid_token", error_description="the token has expired; get a new one", scope="` + scopes +
				`", resource_metadata="` + testMetadataURL + `"`,
			wantBody: errorBody{Error: CodeInvalidToken, ErrorDescription: "the token has expired; get a new one"},
		},
		{
			name:       "invalid request",
			err:        invalidRequest("send exactly one Authorization header"),
			ch:         ch,
			wantStatus: 400,
			wantChallenge: `Bearer error="invalid_request", error_description="send exactly one Authorization header", scope="` + scopes +
				`", resource_metadata="` + testMetadataURL + `"`,
			wantBody: errorBody{Error: CodeInvalidRequest, ErrorDescription: "send exactly one Authorization header"},
		},
		{
			name:       "insufficient scope names the error's scopes",
			err:        lacking,
			ch:         ch,
			wantStatus: 403,
			wantChallenge: `Bearer error="insufficient_scope", error_description="` + lacking.Description +
				`", scope="read:repository write:issue", resource_metadata="` + testMetadataURL + `"`,
			wantBody: errorBody{Error: CodeInsufficientScope, ErrorDescription: lacking.Description},
		},
		{
			name:           "unavailable",
			err:            unavailable("gitea's token introspection is unreachable", errors.New("dial tcp: refused")),
			ch:             ch,
			wantStatus:     503,
			wantChallenge:  "-",
			wantRetryAfter: "5",
			wantBody: errorBody{Error: CodeTemporarilyUnavailable,
				ErrorDescription: "cannot verify the token right now: gitea's token introspection is unreachable; retry shortly"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, tt.err, tt.ch)
			resp := rec.Result()
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("WriteError(%v) status = %d, want %d", tt.err, resp.StatusCode, tt.wantStatus)
			}
			got, ok := resp.Header["Www-Authenticate"]
			switch {
			case tt.wantChallenge == "-" && ok:
				t.Errorf("WriteError(%v) WWW-Authenticate = %q, want none", tt.err, got)
			case tt.wantChallenge != "-" && (len(got) != 1 || got[0] != tt.wantChallenge):
				t.Errorf("WriteError(%v) WWW-Authenticate = %q,\nwant %q", tt.err, got, tt.wantChallenge)
			case ok && !bearerChallenge.MatchString(got[0]):
				t.Errorf("WriteError(%v) WWW-Authenticate %q is not a valid Bearer challenge", tt.err, got[0])
			}
			if got := resp.Header.Get("Retry-After"); got != tt.wantRetryAfter {
				t.Errorf("WriteError(%v) Retry-After = %q, want %q", tt.err, got, tt.wantRetryAfter)
			}
			for h, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("WriteError(%v) %s = %q, want %q", tt.err, h, got, want)
				}
			}
			var body errorBody
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("WriteError(%v) body is not JSON: %v", tt.err, err)
			}
			if diff := cmp.Diff(tt.wantBody, body); diff != "" {
				t.Errorf("WriteError(%v) body mismatch (-want +got):\n%s", tt.err, diff)
			}
			if strings.Contains(rec.Body.String(), "cause for logs only") || strings.Contains(rec.Body.String(), "dial tcp") {
				t.Errorf("WriteError(%v) body %q shows the cause", tt.err, rec.Body.String())
			}
		})
	}
}

// TestWriteErrorSanitizesChallenge: whatever a description holds, the
// challenge stays one valid header line of quoted-strings.
func TestWriteErrorSanitizesChallenge(t *testing.T) {
	tests := []struct {
		name string
		desc string
		want string // the error_description parameter
	}{
		{name: "quotes", desc: `scope "read:repo" is unknown`, want: `error_description="scope 'read:repo' is unknown"`},
		{name: "backslash", desc: `a\"b`, want: `error_description="a 'b"`},
		{name: "line breaks", desc: "one\r\nX-Injected: yes", want: `error_description="one  X-Injected: yes"`},
		{name: "non-ascii", desc: "caf\u00e9 \u2014 ok\x7f", want: `error_description="caf    ok "`},
		{name: "invalid utf-8", desc: "bad\xff", want: `error_description="bad "`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			e := &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: tt.desc}
			WriteError(rec, e, Challenge{ResourceMetadataURL: `https://x.example/"meta"`})
			got := rec.Header().Get("WWW-Authenticate")
			if !bearerChallenge.MatchString(got) {
				t.Errorf("WriteError(%q) WWW-Authenticate %q is not a valid Bearer challenge", tt.desc, got)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("WriteError(%q) WWW-Authenticate = %q, want it to contain %q", tt.desc, got, tt.want)
			}
			var body errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.ErrorDescription != strings.ToValidUTF8(tt.desc, "\ufffd") {
				t.Errorf("WriteError(%q) body = %+v, %v; want the description JSON-encoded", tt.desc, body, err)
			}
		})
	}
}

func TestResourceMetadata(t *testing.T) {
	m := &ResourceMetadata{
		Resource:               "https://mcp.example.com/mcp",
		AuthorizationServers:   []string{"https://gitea.example.com/"},
		BearerMethodsSupported: []string{"header"},
		ScopesSupported:        []string{"read:repository", "read:issue"},
		ResourceName:           "AegisGitea MCP",
	}
	tests := []struct {
		name       string
		method     string
		wantStatus int
		wantBody   bool
	}{
		{name: "GET", method: http.MethodGet, wantStatus: http.StatusOK, wantBody: true},
		{name: "preflight", method: http.MethodOptions, wantStatus: http.StatusNoContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequestWithContext(t.Context(), tt.method, "/.well-known/oauth-protected-resource/mcp", nil)
			r.Header.Set("Origin", "https://chat.example.com")
			rec := httptest.NewRecorder()
			m.ServeHTTP(rec, r)
			resp := rec.Result()
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("%s status = %d, want %d", tt.method, resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("%s Access-Control-Allow-Origin = %q, want *", tt.method, got)
			}
			if got := resp.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "GET") {
				t.Errorf("%s Access-Control-Allow-Methods = %q, want GET allowed", tt.method, got)
			}
			if !tt.wantBody {
				if rec.Body.Len() != 0 {
					t.Errorf("%s body = %q, want none", tt.method, rec.Body.String())
				}
				return
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			var raw map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			want := map[string]any{
				"resource":                 "https://mcp.example.com/mcp",
				"authorization_servers":    []any{"https://gitea.example.com/"},
				"bearer_methods_supported": []any{"header"},
				"scopes_supported":         []any{"read:repository", "read:issue"},
				"resource_name":            "AegisGitea MCP",
			}
			if diff := cmp.Diff(want, raw); diff != "" {
				t.Errorf("metadata mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestErrorIs: errors.Is compares status and code, so the sentinels match
// the detailed errors.
func TestErrorIs(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{name: "invalid token", err: invalidToken("x", nil), target: ErrInvalidToken, want: true},
		{name: "invalid token is not no token", err: invalidToken("x", nil), target: ErrNoToken, want: false},
		{name: "unavailable", err: unavailable("x", nil), target: ErrUnavailable, want: true},
		{name: "scope", err: InsufficientScope(nil, nil), target: ErrInsufficientScope, want: true},
		{name: "request", err: invalidRequest("x"), target: ErrInvalidRequest, want: true},
		{name: "cause", err: unavailable("x", gitea.ErrUnavailable), target: gitea.ErrUnavailable, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.target, got, tt.want)
			}
		})
	}
}

// FuzzChallengeParam: a challenge parameter stays an RFC 6750 quoted-string
// whatever the value, so no description can break or extend the header.
func FuzzChallengeParam(f *testing.F) {
	f.Add("the grant holds \"odd\" words\\ and\r\nnew: lines")
	f.Fuzz(func(t *testing.T, value string) {
		p := param("error_description", value)
		inner := strings.TrimSuffix(strings.TrimPrefix(p, `error_description="`), `"`)
		if len(inner) != len(p)-len(`error_description=""`) || strings.ContainsAny(inner, "\"\\\r\n") {
			t.Fatalf("param(%q) = %s breaks the quoted-string", value, p)
		}
		for _, r := range inner {
			if r < 0x20 || r > 0x7e {
				t.Fatalf("param(%q) = %s holds %q", value, p, r)
			}
		}
	})
}
