package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/tools"
)

type dropIn struct {
	tools.RepoRef
	Branch string `json:"branch"`
}

var dropBranch = tools.Def[dropIn, struct{}]{
	Name: "drop_branch", Desc: "Drops a branch.", Scopes: []gitea.Scope{gitea.ScopeWriteRepository},
	Access: tools.Destructive, Area: tools.AreaRepos,
	Confirm: func(in dropIn) string { return "Delete branch " + in.Branch + " in " + in.Owner + "/" + in.Repo + "?" },
	Run:     func(context.Context, *tools.Env, dropIn) (struct{}, error) { return struct{}{}, nil },
}.Tool()

func bindDrop(t *testing.T, branch string) *tools.Call {
	t.Helper()
	c, err := dropBranch.Bind(json.RawMessage(`{"owner":"alice","repo":"notes","branch":"` + branch + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func accept(confirm bool) mcp.InputResponseMap {
	return mcp.InputResponseMap{confirmInput: &mcp.ElicitResult{Action: "accept", Content: map[string]any{"confirm": confirm}}}
}

// TestConfirmationIsBoundAndSingleUse: a question's state is accepted once,
// only for the caller, tool and arguments it was issued for, and only until
// it expires; a forged or altered state is refused.
func TestConfirmationIsBoundAndSingleUse(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newConfirmations(func() time.Time { return now })
	alice := auth.NewPrincipal("1", "alice", gitea.ScopeSet{}, "tok-a")
	bob := auth.NewPrincipal("2", "bob", gitea.ScopeSet{}, "tok-b")
	call := bindDrop(t, "feature/x")

	q, ok := c.check(alice, call, nil)
	if ok || q.InputRequests == nil || q.RequestState == "" {
		t.Fatalf("first call = %+v, %v; want a question", q, ok)
	}
	if p := q.InputRequests[confirmInput].(*mcp.ElicitParams); !strings.Contains(p.Message, "Delete branch feature/x in alice/notes?") || p.Mode != "form" {
		t.Errorf("question = %q (mode %q)", p.Message, p.Mode)
	}
	state := q.RequestState

	refusals := []struct {
		name string
		p    *auth.Principal
		call *tools.Call
		a    *answer
		want string
	}{
		{name: "another user", p: bob, call: call, a: &answer{accept(true), state}, want: "does not match"},
		{name: "other arguments", p: alice, call: bindDrop(t, "main"), a: &answer{accept(true), state}, want: "does not match"},
		{name: "forged state", p: alice, call: call, a: &answer{accept(true), "e30." + strings.Repeat("A", 43)}, want: "does not match"},
		{name: "altered state", p: alice, call: call, a: &answer{accept(true), "x" + state}, want: "does not match"},
		{name: "no answer", p: alice, call: call, a: &answer{nil, state}, want: "no answer"},
	}
	for _, tt := range refusals {
		if res, ok := c.check(tt.p, tt.call, tt.a); ok || !res.IsError || !strings.Contains(textOf(res), tt.want) {
			t.Errorf("%s: confirmed=%v %q, want a refusal containing %q", tt.name, ok, textOf(res), tt.want)
		}
	}
	// "no answer" spent the state: a question is answered once, whatever the answer.
	if res, ok := c.check(alice, call, &answer{accept(true), state}); ok || !strings.Contains(textOf(res), "already used") {
		t.Errorf("replay after a spent state: confirmed=%v %q", ok, textOf(res))
	}

	fresh := func() string { q, _ := c.check(alice, call, nil); return q.RequestState }
	if _, ok := c.check(alice, call, &answer{accept(true), fresh()}); !ok {
		t.Error("a fresh, accepted question was not confirmed")
	}
	decline := mcp.InputResponseMap{confirmInput: &mcp.ElicitResult{Action: "decline"}}
	if res, ok := c.check(alice, call, &answer{decline, fresh()}); ok || !strings.Contains(textOf(res), "declined") {
		t.Errorf("declined: confirmed=%v %q", ok, textOf(res))
	}
	if res, ok := c.check(alice, call, &answer{accept(false), fresh()}); ok || !strings.Contains(textOf(res), "did not confirm") {
		t.Errorf("accepted without ticking confirm: confirmed=%v %q", ok, textOf(res))
	}
	late := fresh()
	now = now.Add(confirmTTL + time.Second)
	if res, ok := c.check(alice, call, &answer{accept(true), late}); ok || !strings.Contains(textOf(res), "expired") {
		t.Errorf("expired: confirmed=%v %q", ok, textOf(res))
	}
}

func textOf(res *mcp.CallToolResult) string {
	if res == nil || len(res.Content) == 0 {
		return ""
	}
	return res.Content[0].(*mcp.TextContent).Text
}
