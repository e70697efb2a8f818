package tools

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

type fileChangeIn struct {
	Path     string `json:"path"`
	FromPath string `json:"from_path,omitempty"`
}

// embeddedRef is embedded unexported, as input types often are.
type embeddedRef struct {
	RepoRef
	ID int64 `json:"id"`
}

type hiddenRefIn struct {
	embeddedRef
	Body string `json:"body"`
}

type targetIn struct {
	RepoRef
	Branch    string         `json:"branch,omitempty"`
	NewBranch string         `json:"new_branch,omitempty"`
	Number    int64          `json:"number,omitempty"`
	Files     []fileChangeIn `json:"files,omitempty"`
	Fork      string         `json:"fork_owner,omitempty"`
}

func (in targetIn) relatedRepos() []RepoName {
	if in.Fork == "" {
		return nil
	}
	return []RepoName{{Owner: in.Fork}}
}

var targeted = Def[targetIn, struct{}]{
	Name: "targeted", Desc: "Targets.", Scopes: []gitea.Scope{gitea.ScopeWriteRepository}, Access: Write, Area: AreaRepos,
	Run: func(context.Context, *Env, targetIn) (struct{}, error) { return struct{}{}, nil },
}

// TestBindReadsTheTarget: a bound call names what it acts on, read from
// its arguments, nested files and related repositories included.
func TestBindReadsTheTarget(t *testing.T) {
	tests := []struct {
		args string
		want Target
	}{
		{args: `{"owner":"alice","repo":"notes","number":3}`, want: Target{Owner: "alice", Repo: "notes", Number: 3}},
		{args: `{"owner":"alice","repo":"notes","branch":"main","new_branch":"fix","files":[{"path":"a.md"},{"path":"b.md","from_path":"old/b.md"}]}`,
			want: Target{Owner: "alice", Repo: "notes", Ref: "fix", Paths: []string{"a.md", "b.md", "old/b.md"}}},
		{args: `{"owner":"alice","repo":"notes","fork_owner":"bob"}`,
			want: Target{Owner: "alice", Repo: "notes", Related: []RepoName{{Owner: "bob"}}}},
	}
	tool := targeted.Tool()
	for _, tt := range tests {
		c, err := tool.Bind(json.RawMessage(tt.args))
		if err != nil {
			t.Fatalf("Bind(%s): %v", tt.args, err)
		}
		if diff := cmp.Diff(tt.want, c.Target); diff != "" {
			t.Errorf("Bind(%s) target (-want +got):\n%s", tt.args, diff)
		}
	}
	if got := targetOf(hiddenRefIn{embeddedRef: embeddedRef{RepoRef: RepoRef{Owner: "alice", Repo: "notes"}}}); got.Owner != "alice" || got.Repo != "notes" {
		t.Errorf("target through an unexported embedded struct = %+v, want alice/notes", got)
	}
	if got := (Target{Owner: "a", Repo: "b", Related: []RepoName{{Owner: "c"}}}).Repos(); len(got) != 2 || got[1].String() != "c/*" {
		t.Errorf("Repos() = %v", got)
	}
}

// TestReadToolRefusesAWriter: a Read tool never runs with a client that
// may write.
func TestReadToolRefusesAWriter(t *testing.T) {
	e, err := gitea.NewEndpoint(gitea.Options{BaseURL: mustURL(t, "http://127.0.0.1:1")})
	if err != nil {
		t.Fatal(err)
	}
	c, err := getMe.Tool().Bind(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(t.Context(), e.AsWriter("tok"), Options{}); !errors.Is(err, errWrongClient) {
		t.Errorf("Run(read tool, writer) error = %v, want errWrongClient", err)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
