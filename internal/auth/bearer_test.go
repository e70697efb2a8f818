package auth

import (
	"cmp"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

const bearerTok = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImEifQ.eyJnbnQiOjF9.c2ln-_~+/=="

func TestBearerToken(t *testing.T) {
	long := strings.Repeat("a", maxTokenLen)
	tests := []struct {
		name        string
		method      string
		target      string
		auth        []string // Authorization header values, in order
		contentType string
		body        string
		want        string
		wantErr     error // nil, ErrNoToken or ErrInvalidRequest
		wantStatus  int
	}{
		{name: "bearer", auth: []string{"Bearer " + bearerTok}, want: bearerTok},
		{name: "lower-case scheme", auth: []string{"bearer " + bearerTok}, want: bearerTok},
		{name: "upper-case scheme", auth: []string{"BEARER " + bearerTok}, want: bearerTok},
		{name: "mixed-case scheme", auth: []string{"BeArEr " + bearerTok}, want: bearerTok},
		{name: "extra spaces", auth: []string{"  Bearer    " + bearerTok + "  "}, want: bearerTok},
		{name: "longest token", auth: []string{"Bearer " + long}, want: long},
		{name: "unrelated query", target: "/mcp?cursor=abc&limit=5", auth: []string{"Bearer " + bearerTok}, want: bearerTok},
		{name: "json body", method: http.MethodPost, contentType: "application/json", body: `{"token":"x"}`,
			auth: []string{"Bearer " + bearerTok}, want: bearerTok},

		{name: "access_token in query", target: "/mcp?access_token=" + bearerTok, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "token in query", target: "/mcp?token=" + bearerTok, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "api_key in query", target: "/mcp?api_key=" + bearerTok, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "empty access_token in query", target: "/mcp?access_token", wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "query token beside a header", target: "/mcp?x=1&access_token=" + bearerTok,
			auth: []string{"Bearer " + bearerTok}, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "form body", method: http.MethodPost, contentType: "application/x-www-form-urlencoded",
			body: "access_token=" + bearerTok, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "form body with charset and a header", method: http.MethodPost, contentType: "Application/X-WWW-Form-Urlencoded; charset=utf-8",
			body: "a=b", auth: []string{"Bearer " + bearerTok}, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "multipart body", method: http.MethodPost, contentType: "multipart/form-data; boundary=x",
			body: "--x--", auth: []string{"Bearer " + bearerTok}, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "two authorization headers", auth: []string{"Bearer " + bearerTok, "Bearer " + bearerTok}, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "bearer and basic", auth: []string{"Basic dXNlcjpwYXNz", "Bearer " + bearerTok}, wantErr: ErrInvalidRequest, wantStatus: 400},

		{name: "no header", wantErr: ErrNoToken, wantStatus: 401},
		{name: "basic", auth: []string{"Basic dXNlcjpwYXNz"}, wantErr: ErrNoToken, wantStatus: 401},
		{name: "gitea token scheme", auth: []string{"token 4f1c0e3b2a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b"}, wantErr: ErrNoToken, wantStatus: 401},
		{name: "empty header", auth: []string{""}, wantErr: ErrNoToken, wantStatus: 401},
		{name: "scheme prefix only", auth: []string{"Bearerx " + bearerTok}, wantErr: ErrNoToken, wantStatus: 401},

		{name: "bearer without token", auth: []string{"Bearer"}, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "bearer and a space", auth: []string{"Bearer "}, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "bearer and spaces", auth: []string{"Bearer     "}, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "two tokens", auth: []string{"Bearer abc def"}, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "quote", auth: []string{`Bearer abc"def`}, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "comma", auth: []string{"Bearer abc,def"}, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "tab inside", auth: []string{"Bearer abc\tdef"}, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "non-ascii", auth: []string{"Bearer t\u00f6ken"}, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "NUL", auth: []string{"Bearer abc\x00"}, wantErr: ErrInvalidRequest, wantStatus: 400},
		{name: "over 4096 bytes", auth: []string{"Bearer " + long + "a"}, wantErr: ErrInvalidRequest, wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequestWithContext(t.Context(), cmp.Or(tt.method, http.MethodGet), cmp.Or(tt.target, "/mcp"), strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			for _, a := range tt.auth {
				r.Header.Add("Authorization", a)
			}
			got, err := BearerToken(r)
			if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("BearerToken(%q) = %s, %v; want %s, %v", tt.auth, short(got), err, short(tt.want), tt.wantErr)
			}
			if tt.wantErr == nil {
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("BearerToken error %v is a %T, want *auth.Error", err, err)
			}
			if e.Status != tt.wantStatus {
				t.Errorf("BearerToken(%q) status = %d, want %d", tt.auth, e.Status, tt.wantStatus)
			}
			if errors.Is(tt.wantErr, ErrNoToken) && e.Code != "" {
				t.Errorf("BearerToken(%q) code = %q, want none: no credential was sent", tt.auth, e.Code)
			}
			if strings.Contains(e.Error(), bearerTok) {
				t.Errorf("BearerToken error %q contains the token", e.Error())
			}
		})
	}
}

// TestBearerTokenDoesNotReadTheBody: a form body is refused without being read.
func TestBearerTokenDoesNotReadTheBody(t *testing.T) {
	body := strings.NewReader("access_token=" + bearerTok)
	r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/mcp", body)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := BearerToken(r); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("BearerToken(form body) = %v, want ErrInvalidRequest", err)
	}
	if body.Len() != len("access_token=")+len(bearerTok) {
		t.Errorf("BearerToken read %d bytes of the body; want none", int(body.Size())-body.Len())
	}
	if r.Form != nil || r.PostForm != nil {
		t.Error("BearerToken parsed the form")
	}
}

// TestBearerTokenRefusesUnparsableTokenParams: url.Values drops query pairs
// it cannot parse (a ';' in the pair, a bad %-escape), so such a pair
// carrying a token slips past the "never in the URL" refusal.
func TestBearerTokenRefusesUnparsableTokenParams(t *testing.T) {
	tests := []struct {
		name   string
		target string
	}{
		{name: "semicolon", target: "/mcp?access_token=" + bearerTok + ";x=1"},
		{name: "bad escape", target: "/mcp?access_token=" + bearerTok + "%zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/mcp", nil)
			u, err := url.Parse(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			r.URL = u
			r.Header.Set("Authorization", "Bearer "+bearerTok)
			if _, err := BearerToken(r); !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("BearerToken(%q) = %v, want ErrInvalidRequest", tt.target, err)
			}
		})
	}
}

// isB64TokenChar reports whether c may appear in an RFC 6750 b64token.
func isB64TokenChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/=", c) >= 0
}

func FuzzBearerToken(f *testing.F) {
	for _, seed := range []struct{ header, query string }{
		{"Bearer " + bearerTok, ""},
		{"bearer abc", "cursor=1"},
		{"Bearer ", ""},
		{"Bearer a b", ""},
		{"Basic dXNlcjpwYXNz", ""},
		{"Bearer abc", "access_token=abc"},
		{"Bearer \u00e9\u00e9", ""},
		{"Bearer\tabc", ""},
		{"  BEARER   a==  ", "token"},
		{"Bearer " + strings.Repeat("x", maxTokenLen+1), ""},
	} {
		f.Add(seed.header, seed.query)
	}
	f.Fuzz(func(t *testing.T, header, query string) {
		r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/mcp", nil)
		r.URL.RawQuery = query
		r.Header["Authorization"] = []string{header}
		tok, err := BearerToken(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Status != http.StatusBadRequest && e.Status != http.StatusUnauthorized) {
				t.Fatalf("BearerToken(%q) error = %v, want a 400 or 401 *auth.Error", header, err)
			}
			if tok != "" {
				t.Fatalf("BearerToken(%q) = %q with error %v, want no token", header, tok, err)
			}
			return
		}
		if tok == "" || len(tok) > maxTokenLen {
			t.Fatalf("BearerToken(%q) = %q (%d bytes), want 1..%d bytes", header, tok, len(tok), maxTokenLen)
		}
		for i := range len(tok) {
			if !isB64TokenChar(tok[i]) {
				t.Fatalf("BearerToken(%q) = %q, byte %d (%q) is not a b64token character", header, tok, i, tok[i])
			}
		}
		if !utf8.ValidString(tok) || !strings.Contains(header, tok) {
			t.Fatalf("BearerToken(%q) = %q, not taken from the header", header, tok)
		}
		q, _ := url.ParseQuery(query)
		if slices.ContainsFunc(tokenParams, q.Has) {
			t.Fatalf("BearerToken(query %q) = %q, want a refusal of the token parameter", query, tok)
		}
	})
}
