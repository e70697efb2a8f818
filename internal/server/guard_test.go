package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/tools"
)

type noteIn struct {
	tools.RepoRef
	Head string `json:"head,omitempty"`
}

var (
	readNote = tools.Def[tools.RepoRef, struct{}]{Name: "read_note", Desc: "Reads.", Scopes: []gitea.Scope{gitea.ScopeReadIssue},
		Access: tools.Read, Area: tools.AreaIssues,
		Run: func(context.Context, *tools.Env, tools.RepoRef) (struct{}, error) { return struct{}{}, nil }}.Tool()
	writeNote = tools.Def[noteIn, struct{}]{Name: "write_note", Desc: "Writes.", Scopes: []gitea.Scope{gitea.ScopeWriteIssue},
		Access: tools.Write, Area: tools.AreaIssues,
		Run: func(context.Context, *tools.Env, noteIn) (struct{}, error) { return struct{}{}, nil }}.Tool()
)

// gateServer is a server in OAuth mode with a small registry and the
// write settings given.
func gateServer(t *testing.T, mutate func(*config.Config)) *Server {
	t.Helper()
	up := httptest.NewServer(&fakeGitea{})
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	cfg := &config.Config{GiteaURL: u, OAuthMode: true, OAuthClientID: "client", OAuthClientSecret: config.NewSecret("secret"),
		ListenAddr: "127.0.0.1:0", PublicBaseURL: u, RequestTimeout: 5 * time.Second, MaxRequestBodyBytes: 1 << 20,
		ConfirmDestructive: true, MaxWriteBytes: 1 << 10}
	mutate(cfg)
	reg, err := tools.NewRegistry(readNote, writeNote, dropBranch)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Config: cfg, Tools: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func names(ts []*tools.Tool) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

// TestGatesShapeWhatIsOffered: write mode, toolsets, the connection's
// toolsets and its ability to ask the human decide what is listed, and a
// call to what is not listed is refused with the reason.
func TestGatesShapeWhatIsOffered(t *testing.T) {
	writer := auth.NewPrincipal("1", "alice", gitea.ParseGrant("write:issue write:repository").Scopes, "tok")
	tests := []struct {
		name     string
		cfg      func(*config.Config)
		via      channel
		want     []string
		refusals map[string]string // tool → refusal code
	}{
		{name: "write mode off", cfg: func(*config.Config) {}, via: channel{canAsk: true}, want: []string{"read_note"},
			refusals: map[string]string{"write_note": "write_mode_off", "drop_branch": "write_mode_off", "nope": "unknown_tool"}},
		{name: "write mode on, client can ask", cfg: func(c *config.Config) { c.WriteMode, c.WriteAllowAllTokenRepos = true, true },
			via: channel{canAsk: true}, want: []string{"read_note", "write_note", "drop_branch"}},
		{name: "client cannot ask", cfg: func(c *config.Config) { c.WriteMode, c.WriteAllowAllTokenRepos = true, true },
			want: []string{"read_note", "write_note"}, refusals: map[string]string{"drop_branch": "confirmation_unavailable"}},
		{name: "no confirmation wanted", cfg: func(c *config.Config) {
			c.WriteMode, c.WriteAllowAllTokenRepos, c.ConfirmDestructive = true, true, false
		}, want: []string{"read_note", "write_note", "drop_branch"}},
		{name: "server toolsets", cfg: func(c *config.Config) {
			c.WriteMode, c.WriteAllowAllTokenRepos, c.Toolsets = true, true, []string{"Repos"}
		},
			via: channel{canAsk: true}, want: []string{"drop_branch"}, refusals: map[string]string{"read_note": "toolset_not_offered"}},
		{name: "connection narrows, never widens", cfg: func(c *config.Config) {
			c.WriteMode, c.WriteAllowAllTokenRepos, c.Toolsets = true, true, []string{"issues"}
		}, via: channel{canAsk: true, toolsets: []tools.Area{tools.AreaRepos, tools.AreaIssues}}, want: []string{"read_note", "write_note"},
			refusals: map[string]string{"drop_branch": "toolset_not_offered"}},
		{name: "unknown connection toolset narrows to nothing", cfg: func(c *config.Config) {}, via: channel{toolsets: []tools.Area{}},
			refusals: map[string]string{"read_note": "toolset_not_offered"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := gateServer(t, tt.cfg)
			if got := names(s.visibleTools(writer, tt.via)); !slices.Equal(got, tt.want) {
				t.Errorf("visible = %v, want %v", got, tt.want)
			}
			for name, code := range tt.refusals {
				args := json.RawMessage(`{"owner":"alice","repo":"notes","branch":"x"}`)
				if name == "read_note" || name == "nope" {
					args = json.RawMessage(`{"owner":"alice","repo":"notes"}`)
				}
				if _, ref := s.runCall(t.Context(), toolCall{principal: writer, name: name, args: args, via: tt.via}); ref == nil || ref.code != code {
					t.Errorf("call %s = %+v, want refusal %s", name, ref, code)
				}
			}
		})
	}
	if got := names(gateServer(t, func(*config.Config) {}).visibleTools(nil, channel{})); len(got) != 0 {
		t.Errorf("no principal sees %v", got)
	}
}

// TestWhitelist: a write is allowed only where WRITE_REPOSITORY_WHITELIST
// covers its repository and every related one; a related repository whose
// name is unknown needs owner/*.
func TestWhitelist(t *testing.T) {
	s := gateServer(t, func(c *config.Config) {
		c.WriteMode, c.WriteRepositories = true, []string{"alice/notes", "acme/*"}
	})
	tests := []struct {
		target tools.Target
		want   string // "" allowed, else the repository named in the refusal
	}{
		{target: tools.Target{Owner: "alice", Repo: "notes"}},
		{target: tools.Target{Owner: "Alice", Repo: "NOTES"}},
		{target: tools.Target{Owner: "acme", Repo: "anything"}},
		{target: tools.Target{Owner: "alice", Repo: "other"}, want: "alice/other"},
		{target: tools.Target{Owner: "alice", Repo: "notes", Related: []tools.RepoName{{Owner: "bob"}}}, want: "bob/*"},
		{target: tools.Target{Owner: "alice", Repo: "notes", Related: []tools.RepoName{{Owner: "acme"}}}},
		{target: tools.Target{Owner: "alice", Repo: "notes", Related: []tools.RepoName{{Owner: "alice"}}}, want: "alice/*"},
		// a fork into the caller's own account: bob's account is not listed
		{target: tools.Target{Owner: "alice", Repo: "notes", Related: []tools.RepoName{{Repo: "notes"}}}, want: "bob/notes"},
	}
	bob := auth.NewPrincipal("2", "bob", gitea.ScopeSet{}, "tok")
	if ref := s.writeAllowed(tools.Target{}, bob); ref == nil || !strings.Contains(ref.text, "names no repository") {
		t.Errorf("writeAllowed(no repository) = %+v, want a refusal", ref)
	}
	allowAll := gateServer(t, func(c *config.Config) { c.WriteMode, c.WriteAllowAllTokenRepos = true, true })
	if ref := allowAll.writeAllowed(tools.Target{Owner: "alice"}, bob); ref == nil {
		t.Error("WRITE_ALLOW_ALL_TOKEN_REPOS let a write without a repository through")
	}
	for _, tt := range tests {
		ref := s.writeAllowed(tt.target, bob)
		switch {
		case tt.want == "" && ref != nil:
			t.Errorf("writeAllowed(%+v) = %q, want allowed", tt.target, ref.text)
		case tt.want != "" && (ref == nil || !strings.Contains(ref.text, tt.want+" are not allowed") || !strings.Contains(ref.text, "WRITE_REPOSITORY_WHITELIST")):
			t.Errorf("writeAllowed(%+v) = %+v, want a refusal naming %s and the variable", tt.target, ref, tt.want)
		}
	}
}

// TestWriteArgumentsAreBounded: a write whose arguments exceed
// MAX_WRITE_BYTES is refused before it is bound.
func TestWriteArgumentsAreBounded(t *testing.T) {
	s := gateServer(t, func(c *config.Config) { c.WriteMode, c.WriteAllowAllTokenRepos = true, true })
	p := auth.NewPrincipal("1", "alice", gitea.ParseGrant("write:issue").Scopes, "tok")
	big := json.RawMessage(`{"owner":"alice","repo":"notes","head":"` + strings.Repeat("a", 2<<10) + `"}`)
	if _, ref := s.runCall(t.Context(), toolCall{principal: p, name: "write_note", args: big}); ref == nil || ref.code != "write_too_large" {
		t.Errorf("oversized write = %+v, want write_too_large", ref)
	}
}

// TestClientsByAccessLevel: over the whole registry, no Read tool is ever
// handed a client that may write, and every writer gets one.
func TestClientsByAccessLevel(t *testing.T) {
	s := newTestServer(t, &fakeGitea{}, &bytes.Buffer{})
	p := auth.NewPrincipal("1", "alice", gitea.FullScopeSet(), "tok")
	for _, tool := range tools.Default().Tools() {
		if got := s.clientFor(tool, p).CanWrite(); got != (tool.Access != tools.Read) {
			t.Errorf("%s (%v) gets a client that can write: %v", tool.Name, tool.Access, got)
		}
	}
}

// TestConnectionToolsets: the toolsets header and query parameter narrow a
// connection, in any spelling of the header's name.
func TestConnectionToolsets(t *testing.T) {
	for _, target := range []string{"/mcp/tools?toolsets=repos,Issues", "/mcp/tools"} {
		r := httptest.NewRequestWithContext(t.Context(), "GET", target, nil)
		if !strings.Contains(target, "?") {
			r.Header.Set("x-mcp-toolsets", "repos, issues")
		}
		if got := requestToolsets(r); !slices.Equal(got, []tools.Area{tools.AreaRepos, tools.AreaIssues}) {
			t.Errorf("toolsets of %s = %v", target, got)
		}
	}
	if got := requestToolsets(httptest.NewRequestWithContext(t.Context(), "GET", "/mcp/tools", nil)); got != nil {
		t.Errorf("toolsets without header = %v, want nil (no narrowing)", got)
	}
}

// TestAuditFailsClosed: when the audit log cannot be written (here it was
// closed under the server), writes are refused before anything is sent,
// reads follow AUDIT_FAIL_MODE, and readiness says why.
func TestAuditFailsClosed(t *testing.T) {
	p := auth.NewPrincipal("1", "alice", gitea.ParseGrant("write:issue").Scopes, "tok")
	args := json.RawMessage(`{"owner":"alice","repo":"notes"}`)
	for _, failOpen := range []bool{false, true} {
		s := gateServer(t, func(c *config.Config) {
			c.WriteMode, c.WriteAllowAllTokenRepos, c.AuditFailOpen = true, true, failOpen
			c.AuditLog = filepath.Join(t.TempDir(), "audit.log")
		})
		if err := s.audit.Close(); err != nil {
			t.Fatal(err)
		}
		if _, ref := s.runCall(t.Context(), toolCall{principal: p, name: "write_note", args: args}); ref == nil || ref.code != "audit_unavailable" {
			t.Errorf("failOpen=%v: a write with a broken audit log = %+v, want audit_unavailable", failOpen, ref)
		}
		_, ref := s.runCall(t.Context(), toolCall{principal: p, name: "read_note", args: args})
		if refused := ref != nil && ref.code == "audit_unavailable"; refused == failOpen {
			t.Errorf("failOpen=%v: a read with a broken audit log refused=%v", failOpen, refused)
		}
		if st := s.ready.probe(t.Context()); st.Ready || !strings.Contains(st.Reason, "audit log") {
			t.Errorf("readiness with a broken audit log = %+v", st)
		}
	}
}

// TestPolicyCoversRelatedRepositories: a write is decided for every
// repository it reaches whose name is known, a fork's destination too.
func TestPolicyCoversRelatedRepositories(t *testing.T) {
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte("repositories:\n  \"acme/*\": {write: deny}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(&fakeGitea{})
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	cfg := &config.Config{GiteaURL: u, OAuthMode: true, OAuthClientID: "client", OAuthClientSecret: config.NewSecret("secret"),
		ListenAddr: "127.0.0.1:0", PublicBaseURL: u, RequestTimeout: 5 * time.Second, MaxRequestBodyBytes: 1 << 20,
		WriteMode: true, WriteAllowAllTokenRepos: true, MaxWriteBytes: 1 << 20, PolicyFile: file}
	s, err := New(Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	fork, _ := s.tools.Lookup("fork_repository")
	p := auth.NewPrincipal("1", "alice", gitea.FullScopeSet(), "tok")
	for args, wantDenied := range map[string]bool{
		`{"owner":"alice","repo":"notes","organization":"acme","name":"copy"}`: true,
		`{"owner":"alice","repo":"notes","name":"copy"}`:                       false, // into alice's own account
	} {
		call, err := fork.Bind(json.RawMessage(args))
		if err != nil {
			t.Fatal(err)
		}
		ref := decide(s.policy.Load(), p, call, &audit.Event{})
		if (ref != nil) != wantDenied || (ref != nil && !strings.Contains(ref.text, `repositories["acme/*"].write`)) {
			t.Errorf("fork %s: refusal %+v, want denied %v", args, ref, wantDenied)
		}
	}
}

// TestWatchPolicyReloadsAChangedFile: a changed policy file is taken
// without a signal, and a broken one leaves the policy in force.
func TestWatchPolicyReloadsAChangedFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "policy.yaml")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("tools: {deny: [read_note]}\n")
	s := gateServer(t, func(c *config.Config) { c.PolicyFile = file })
	p := auth.NewPrincipal("1", "alice", gitea.ParseGrant("read:issue").Scopes, "tok")
	denied := func() bool {
		return !s.policy.Load().Decide(policyRequest(p, readNote, tools.Target{Owner: "alice", Repo: "notes"})).Allow
	}
	if !denied() {
		t.Fatal("the first policy does not deny read_note")
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go s.WatchPolicy(ctx, 5*time.Millisecond)
	waitFor := func(want bool) {
		t.Helper()
		for range 400 { // bounded: 2 s
			if denied() == want {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("the watched policy never became denied=%v", want)
	}
	time.Sleep(20 * time.Millisecond) // a different modification time on coarse clocks
	write("tools: {deny: [write_note]}\n")
	waitFor(false)
	write("tools: {deny: [no_such_tool]}\n") // refused: the policy in force stays
	time.Sleep(50 * time.Millisecond)
	if denied() {
		t.Error("a broken file replaced the policy")
	}
}
