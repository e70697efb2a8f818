package gitea

import (
	"errors"
	"net/http"
	"slices"
	"testing"
)

func TestParseGrant(t *testing.T) {
	tests := []struct {
		raw       string
		allAccess bool
		has       []Scope
		lacks     []Scope
		unknown   []string
	}{
		{raw: "openid read:repository read:user", has: []Scope{ScopeReadRepository, ScopeReadUser}, lacks: []Scope{ScopeReadIssue, ScopeWriteRepository}},
		{raw: "write:issue", has: []Scope{ScopeReadIssue, ScopeWriteIssue}, lacks: []Scope{ScopeReadRepository}},
		{raw: "openid profile email groups", allAccess: true},
		{raw: "", allAccess: true},
		{raw: "read:repository read:repo", allAccess: true, has: []Scope{ScopeReadRepository}, unknown: []string{"read:repo"}},
		{raw: "all", allAccess: true},
		{raw: "read:repository public-only", has: []Scope{ScopeReadRepository}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			g := ParseGrant(tt.raw)
			if g.AllAccess != tt.allAccess || !slices.Equal(g.Unknown, tt.unknown) {
				t.Errorf("ParseGrant(%q) = all-access %v, unknown %v; want %v, %v", tt.raw, g.AllAccess, g.Unknown, tt.allAccess, tt.unknown)
			}
			for _, s := range tt.has {
				if !g.Scopes.Has(s) {
					t.Errorf("ParseGrant(%q) lacks %s", tt.raw, s)
				}
			}
			for _, s := range tt.lacks {
				if g.Scopes.Has(s) {
					t.Errorf("ParseGrant(%q) has %s", tt.raw, s)
				}
			}
		})
	}
	if got := JoinScopes(ParseGrant("write:issue read:repository public-only").Scopes.List()); got != "write:issue read:repository public-only" {
		t.Errorf("List = %q", got)
	}
	if !FullScopeSet().Has(ScopeWriteRepository) || Scope("read:nothing").Valid() {
		t.Error("FullScopeSet or Valid is wrong")
	}
}

func TestIntrospectClassifies401(t *testing.T) {
	tests := []struct {
		name       string
		challenge  string
		wantActive bool
		wantErr    error
	}{
		{name: "dead token: gitea's request authentication refuses it", wantActive: false},
		{name: "wrong client credentials", challenge: `Basic realm="Gitea OAuth2"`, wantErr: ErrClientCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
				if user, pass, ok := r.BasicAuth(); !ok || user != "client" || pass != "secret" || r.PostFormValue("token") != testToken {
					t.Errorf("introspection request lacks Basic credentials or the form token")
				}
				if tt.challenge != "" {
					w.Header().Set("WWW-Authenticate", tt.challenge)
				}
				w.WriteHeader(http.StatusUnauthorized)
			})
			in, err := e.Introspect(t.Context(), "client", "secret", testToken)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Introspect error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || in.Active != tt.wantActive {
				t.Errorf("Introspect = %+v, %v; want inactive", in, err)
			}
		})
	}
}

func TestUnion(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want string
	}{
		{name: "write covers read", a: "read:issue read:user", b: "write:issue", want: "write:issue read:user"},
		{name: "public-only only when both", a: "read:repository public-only", b: "read:user", want: "read:repository read:user"},
		{name: "both public-only", a: "read:repository public-only", b: "read:user public-only", want: "read:repository read:user public-only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := JoinScopes(ParseGrant(tt.a).Scopes.Union(ParseGrant(tt.b).Scopes).List())
			if got != tt.want {
				t.Errorf("Union(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestIntersect(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want string
	}{
		{name: "write meets read", a: "write:issue read:repository", b: "read:issue write:repository", want: "read:issue read:repository"},
		{name: "disjoint", a: "read:issue", b: "read:user", want: ""},
		{name: "public-only holds", a: "read:repository public-only", b: "write:repository", want: "read:repository public-only"},
		{name: "same", a: "write:repository read:user", b: "write:repository read:user", want: "write:repository read:user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := JoinScopes(ParseGrant(tt.a).Scopes.Intersect(ParseGrant(tt.b).Scopes).List())
			if got != tt.want {
				t.Errorf("Intersect(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
			}
		})
	}
}
