package e2e

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// tsReadScopes is what scripts/broker-client's step-up mode asks for first.
const tsReadScopes = "read:repository read:user read:issue"

// checkStepUp asserts what the TypeScript client's step-up run
// (STEP_UP_REPO, stepUp in scripts/broker-client/client.mjs) must show: a
// first authorization for reading only and its read token; create_issue
// with it refused with 403 insufficient_scope naming write:issue; a second
// authorization asking for the challenge's scope, whose consent page
// (showing write:issue) was shown although the user had consented to the
// client before; a token with write:issue; and the issue created, as user,
// in repo. No token in the client's output.
func (r *tsRun) checkStepUp(t *testing.T, b *brokerServer, user, repo, clientName string) {
	t.Helper()
	r.event(t, "done")
	start := r.event(t, "start")
	if node, _ := start["node"].(string); !strings.HasPrefix(node, "22.") || start["sdk"] == "" || start["mode"] != "dcr" || start["step_up"] != true {
		t.Errorf("start: %v, want Node 22, an SDK version, DCR and the step-up mode", start)
	}
	t.Logf("@modelcontextprotocol/sdk %v on Node %v, step-up", start["sdk"], start["node"])

	// Left alone, the SDK's 401 handling would have asked for the write
	// scope at once: the server's 401 challenge names every scope its tools
	// use. Hence the script's own, narrower, first authorization.
	if choice := r.event(t, "sdk_scope_choice"); !hasScope(choice["challenge_scope"], "write:issue") || !hasScope(choice["requested_scope"], "write:issue") {
		t.Errorf("the 401 challenge's scope and the SDK's choice from it: %v, want write:issue in both", choice)
	}

	if len(r.authorizations) != 2 {
		t.Fatalf("the browser followed %d authorizations, want 2 (read, then the step-up)", len(r.authorizations))
	}
	read, write := r.authorizations[0], r.authorizations[1]
	clientID := r.clientID(t)
	for i, a := range r.authorizations {
		q := a.request.Query()
		if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43 ||
			q.Get("resource") != b.URL+"/mcp" || q.Get("redirect_uri") != tsRedirect || q.Get("state") == "" || q.Get("client_id") != clientID {
			t.Errorf("authorization request %d: %v", i+1, q)
		}
		for _, want := range []string{clientID, tsRedirect, user, clientName} {
			if !strings.Contains(a.consent.Body, want) {
				t.Errorf("consent page %d does not show %q", i+1, want)
			}
		}
	}
	rq, wq := read.request.Query(), write.request.Query()
	if rq.Get("code_challenge") == wq.Get("code_challenge") || rq.Get("state") == wq.Get("state") {
		t.Error("the step-up reused the first authorization's PKCE challenge or state")
	}

	// The first authorization: reading only.
	if got := rq.Get("scope"); got != tsReadScopes {
		t.Errorf("the first authorization asked for %q, want %q", got, tsReadScopes)
	}
	if strings.Contains(read.consent.Body, "(write:issue)") {
		t.Error("the first consent page offers write:issue")
	}
	// Tokens saved: the read token, the write token, and between them the
	// SDK's refresh on the 403, if it made one.
	refreshes := r.requests("POST", "/oauth/token", http.StatusOK, "refresh_token")
	tokens := r.all("tokens")
	if len(tokens) != 2+refreshes {
		t.Fatalf("the client saved tokens %d times, want %d (read, write, %d refreshes)", len(tokens), 2+refreshes, refreshes)
	}
	first, last := tokens[0], tokens[len(tokens)-1]
	if hasScope(first["scope"], "write:issue") || !hasScope(first["scope"], "read:repository") || !hasScope(first["scope"], "read:issue") {
		t.Errorf("the first token's scope %q, want the read scopes without write:issue", first["scope"])
	}
	if connected := r.event(t, "connected"); connected["scope"] != first["scope"] {
		t.Errorf("connected with scope %v, want the first token's %v", connected["scope"], first["scope"])
	}

	// The write with it: 403, insufficient_scope, naming write:issue.
	var challenge map[string]string
	for _, ev := range r.events {
		if ev["event"] == "http" && ev["method"] == "POST" && ev["path"] == "/mcp" && ev["status"] == float64(http.StatusForbidden) {
			challenge = challengeParams(fmt.Sprint(ev["www_authenticate"]))
			break
		}
	}
	if challenge == nil {
		t.Fatal("create_issue with the read token was not answered 403")
	}
	if challenge["error"] != "insufficient_scope" || !hasScope(challenge["scope"], "write:issue") || !hasScope(challenge["scope"], "read:repository") ||
		challenge["resource_metadata"] != b.URL+"/.well-known/oauth-protected-resource/mcp" {
		t.Errorf("the 403's challenge %v, want insufficient_scope naming write:issue (keeping read:repository) and the resource metadata", challenge)
	}

	// What the SDK did with the 403 by itself, and how the step-up went.
	sdk := r.event(t, "sdk_step_up")
	step := r.event(t, "step_up")
	t.Logf("the SDK's own 403 handling: %v; step-up: %v", sdk, step["path"])
	switch step["path"] {
	case "sdk": // a later SDK that asks for the authorization itself
		if sdk["reauthorization_requested"] != true {
			t.Errorf("step-up by the SDK, but it asked for no authorization: %v", sdk)
		}
	case "explicit":
		// SDK 1.32.2 (StreamableHTTPClientTransport.send on 403
		// insufficient_scope): auth() with the challenge's scope refreshes,
		// as it does whenever it holds a refresh token; the refreshed token
		// has the same scope, the retry gets the same 403 and the SDK gives
		// up without asking the user (typescript-sdk#2255).
		if sdk["reauthorization_requested"] != false || sdk["refreshed"] != true || sdk["same_scope_after_refresh"] != true ||
			sdk["code"] != float64(http.StatusForbidden) || !strings.Contains(fmt.Sprint(sdk["message"]), "after trying upscoping") {
			t.Errorf("the SDK's own 403 handling: %v, want a refresh to the same scope and its give-up", sdk)
		}
		if refreshes != 1 {
			t.Errorf("%d successful refreshes, want 1 (the SDK's, on the 403)", refreshes)
		}
		if refusals, _ := sdk["refusals"].(float64); refusals != 2 {
			t.Errorf("create_issue refused %v times before the step-up, want 2 (the call, the SDK's retry)", sdk["refusals"])
		}
	default:
		t.Errorf("step_up: %v", step)
	}
	if step["challenge_error"] != "insufficient_scope" || step["challenge_scope"] != challenge["scope"] {
		t.Errorf("the challenge as the client read it: %v, want %v", step, challenge)
	}

	// The second authorization: the challenge's scope, its consent page
	// shown again (b.consent insists) with the write scope on it.
	if got := wq.Get("scope"); got != challenge["scope"] || step["requested_scope"] != got {
		t.Errorf("the step-up asked for %q (the client says %v), want the challenge's %q", got, step["requested_scope"], challenge["scope"])
	}
	if !strings.Contains(write.consent.Body, "(write:issue)") {
		t.Error("the step-up consent page does not show write:issue")
	}
	if n := r.requests("POST", "/oauth/token", http.StatusOK, "authorization_code"); n != 2 {
		t.Errorf("%d code exchanges, want 2", n)
	}
	if !hasScope(last["scope"], "write:issue") || step["scope"] != last["scope"] {
		t.Errorf("the stepped-up token's scope %q, want write:issue", last["scope"])
	}
	if n := r.requests("POST", "/oauth/register", http.StatusCreated, ""); n != 1 {
		t.Errorf("%d registrations, want 1: the step-up is the same client", n)
	}

	// The write went through, as user, and the issue is there.
	created := r.event(t, "create_issue")
	number, _ := created["number"].(float64)
	if created["is_error"] != false || number < 1 {
		t.Fatalf("create_issue after the step-up: %v", created)
	}
	if got := r.event(t, "get_issue"); got["is_error"] != false || got["number"] != number || got["title"] != created["title"] {
		t.Errorf("get_issue of the new issue: %v, want number %v titled %v", got, number, created["title"])
	}
	var issue struct {
		Number int64
		Title  string
		User   struct{ Login string }
	}
	if err := b.g.AdminGet(t.Context(), fmt.Sprintf("/api/v1/repos/%s/%s/issues/%d", user, repo, int64(number)), http.StatusOK, &issue); err != nil {
		t.Fatalf("the issue at Gitea: %v", err)
	}
	if issue.Title != created["title"] || issue.User.Login != user {
		t.Errorf("the issue at Gitea: %q by %q, want %v by %s", issue.Title, issue.User.Login, created["title"], user)
	}

	// An access and a refresh token each time, none shown.
	if len(r.tokens) != 2*len(tokens) {
		t.Errorf("the client held %d tokens, want %d", len(r.tokens), 2*len(tokens))
	}
	r.noTokensShown(t)
}

// all returns the events named name, in order.
func (r *tsRun) all(name string) []map[string]any {
	var out []map[string]any
	for _, ev := range r.events {
		if ev["event"] == name {
			out = append(out, ev)
		}
	}
	return out
}

// hasScope reports whether the space-separated scope list v holds scope.
func hasScope(v any, scope string) bool {
	s, _ := v.(string)
	return slices.Contains(strings.Fields(s), scope)
}

var challengeParam = regexp.MustCompile(`([a-z_]+)="([^"]*)"`)

// challengeParams are a Bearer challenge's parameters (this server's
// values are quoted strings without quotes or backslashes).
func challengeParams(h string) map[string]string {
	if !strings.HasPrefix(h, "Bearer ") {
		return nil
	}
	out := map[string]string{}
	for _, m := range challengeParam.FindAllStringSubmatch(h, -1) {
		out[m[1]] = m[2]
	}
	return out
}
