package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// adminIssue is an issue as the site administrator reads it back.
type adminIssue struct {
	Number    int64  `json:"number"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	State     string `json:"state"`
	Labels    []struct{ Name string }
	Assignees []struct{ Login string }
	Milestone *struct {
		ID    int64
		Title string
	}
}

func (is adminIssue) labels() []string {
	var out []string
	for _, l := range is.Labels {
		out = append(out, l.Name)
	}
	slices.Sort(out)
	return out
}

func readIssue(t *testing.T, g *testgitea.Gitea, owner, repo string, number int64) adminIssue {
	t.Helper()
	var is adminIssue
	if err := g.AdminGet(t.Context(), fmt.Sprintf("/api/v1/repos/%s/%s/issues/%d", owner, repo, number), http.StatusOK, &is); err != nil {
		t.Fatal(err)
	}
	return is
}

func countIssues(t *testing.T, g *testgitea.Gitea, owner, repo string) int {
	t.Helper()
	var list []adminIssue
	if err := g.AdminGet(t.Context(), "/api/v1/repos/"+owner+"/"+repo+"/issues?state=all&type=issues", http.StatusOK, &list); err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// TestWriteTrackerIssues: the issue tools change real data, read back
// through Gitea's API as the administrator, and refuse what they must
// without changing anything.
func TestWriteTrackerIssues(t *testing.T) {
	g := needGitea(t)
	a := startWriter(t, g)
	alice := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	bob := a.token(t, g, testgitea.BobName, writeScopes).AccessToken
	repo := freshRepo(t, g, testgitea.AliceName, "wtrack")
	args := func(kv ...any) map[string]any {
		m := map[string]any{"owner": testgitea.AliceName, "repo": repo}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}

	for _, l := range []string{"bug", "docs"} {
		mustCall(t, a, alice, "create_label", args("name", l, "color", "#ee0701"))
	}
	var ms struct{ ID int64 }
	mustDecode(t, a, alice, "create_milestone", args("title", "v1", "due_on", "2031-06-15T12:00:00Z"), &ms)
	if ms.ID == 0 {
		t.Fatal("create_milestone returned no id")
	}

	var created struct {
		Number    int64
		Labels    []string
		Assignees []string
		Milestone string
		URL       string
	}
	mustDecode(t, a, alice, "create_issue", args("title", "Fix the guide", "body", "Steps:\n1. read", "labels", []string{"bug", "docs"},
		"milestone", ms.ID, "assignees", []string{"alice"}), &created)
	is := readIssue(t, g, "alice", repo, created.Number)
	if is.Title != "Fix the guide" || is.Body != "Steps:\n1. read" || !slices.Equal(is.labels(), []string{"bug", "docs"}) ||
		is.Milestone == nil || is.Milestone.ID != ms.ID || len(is.Assignees) != 1 || is.Assignees[0].Login != "alice" {
		t.Errorf("created issue reads back as %+v", is)
	}
	if !strings.HasSuffix(created.URL, fmt.Sprintf("/alice/%s/issues/%d", repo, created.Number)) || len(created.Labels) != 2 {
		t.Errorf("create_issue result = %+v", created)
	}

	t.Run("update_issue", func(t *testing.T) {
		mustCall(t, a, alice, "update_issue", args("number", created.Number, "state", "closed", "milestone", 0, "assignees", []string{}, "title", "Guide fixed"))
		is := readIssue(t, g, "alice", repo, created.Number)
		if is.State != "closed" || is.Milestone != nil || len(is.Assignees) != 0 || is.Title != "Guide fixed" || is.Body != "Steps:\n1. read" {
			t.Errorf("after update_issue: %+v", is)
		}
	})

	t.Run("labels on an issue", func(t *testing.T) {
		mustCall(t, a, alice, "remove_issue_label", args("number", created.Number, "label", "bug"))
		if got := readIssue(t, g, "alice", repo, created.Number).labels(); !slices.Equal(got, []string{"docs"}) {
			t.Errorf("after remove_issue_label: %v", got)
		}
		mustCall(t, a, alice, "add_issue_labels", args("number", created.Number, "labels", []string{"bug"}))
		if got := readIssue(t, g, "alice", repo, created.Number).labels(); !slices.Equal(got, []string{"bug", "docs"}) {
			t.Errorf("after add_issue_labels: %v", got)
		}
		mustRefuse(t, a, alice, "add_issue_labels", args("number", created.Number, "labels", []string{"nope"}), `"nope" is not a label`)
	})

	t.Run("comments", func(t *testing.T) {
		var c struct{ ID int64 }
		mustDecode(t, a, alice, "create_issue_comment", args("number", created.Number, "body", "First <b>&</b> last"), &c)
		var back struct{ Body string }
		path := fmt.Sprintf("/api/v1/repos/alice/%s/issues/comments/%d", repo, c.ID)
		if err := g.AdminGet(t.Context(), path, 200, &back); err != nil || back.Body != "First <b>&</b> last" {
			t.Fatalf("comment reads back %q, %v", back.Body, err)
		}
		mustCall(t, a, alice, "edit_issue_comment", args("comment_id", c.ID, "body", "Edited"))
		if err := g.AdminGet(t.Context(), path, 200, &back); err != nil || back.Body != "Edited" {
			t.Errorf("edited comment reads back %q, %v", back.Body, err)
		}
		mustRefuse(t, a, bob, "delete_issue_comment", args("comment_id", c.ID), "not found")
		mustCall(t, a, alice, "delete_issue_comment", args("comment_id", c.ID))
		if err := g.AdminGet(t.Context(), path, http.StatusNotFound, nil); err != nil {
			t.Errorf("deleted comment: %v", err)
		}
	})

	t.Run("labels and milestones", func(t *testing.T) {
		var l struct{ Name, Color string }
		mustDecode(t, a, alice, "update_label", args("name", "docs", "new_name", "documentation", "color", "#00aabb"), &l)
		var labels []struct{ Name, Color string }
		if err := g.AdminGet(t.Context(), "/api/v1/repos/alice/"+repo+"/labels", 200, &labels); err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(labels, func(x struct{ Name, Color string }) bool { return x.Name == "documentation" && x.Color == "00aabb" }) {
			t.Errorf("labels after update_label: %+v", labels)
		}
		mustCall(t, a, alice, "delete_label", args("name", "documentation"))
		if got := readIssue(t, g, "alice", repo, created.Number).labels(); !slices.Equal(got, []string{"bug"}) {
			t.Errorf("issue labels after delete_label: %v", got)
		}
		mustCall(t, a, alice, "update_milestone", args("id", ms.ID, "title", "v1.0", "state", "closed"))
		var m struct {
			Title, State string
		}
		if err := g.AdminGet(t.Context(), fmt.Sprintf("/api/v1/repos/alice/%s/milestones/%d", repo, ms.ID), 200, &m); err != nil || m.Title != "v1.0" || m.State != "closed" {
			t.Errorf("milestone after update_milestone: %+v, %v", m, err)
		}
		mustCall(t, a, alice, "delete_milestone", args("id", ms.ID))
		if err := g.AdminGet(t.Context(), fmt.Sprintf("/api/v1/repos/alice/%s/milestones/%d", repo, ms.ID), http.StatusNotFound, nil); err != nil {
			t.Errorf("deleted milestone: %v", err)
		}
	})

	t.Run("refusals change nothing", func(t *testing.T) {
		before := countIssues(t, g, "alice", repo)
		mustRefuse(t, a, alice, "create_issue", args("title", "x", "labels", []string{"no-such-label"}), "no-such-label")
		mustRefuse(t, a, bob, "create_issue", args("title", "from bob"), "not found")
		mustRefuse(t, a, alice, "create_issue", args("title", "x", "milestone", 999999), "milestone")
		if after := countIssues(t, g, "alice", repo); after != before {
			t.Errorf("refused create_issue calls made %d issues", after-before)
		}
		// bob may read acme/handbook through his team, not change it.
		mustRefuse(t, a, bob, "create_label", map[string]any{"owner": testgitea.Org, "repo": testgitea.OrgRepo, "name": "x", "color": "#000000"},
			"may not change this repository")
	})
}

// TestGetIssueAnswersLongEscapedBodies: a body long enough to fill the
// output budget and full of characters JSON escapes (< and & take six
// bytes each) is cut to fit, not refused.
func TestGetIssueAnswersLongEscapedBodies(t *testing.T) {
	g := needGitea(t)
	a := startWriter(t, g)
	alice := a.token(t, g, testgitea.AliceName, writeScopes).AccessToken
	repo := freshRepo(t, g, testgitea.AliceName, "wescape")
	body := strings.Repeat("<a href='x'>&amp;</a>\n", 3000) // ~66 KB raw, ~200 KB escaped
	var created struct{ Number int64 }
	mustDecode(t, a, alice, "create_issue", map[string]any{"owner": "alice", "repo": repo, "title": "escapes", "body": body}, &created)
	var got struct{ Body string }
	mustDecode(t, a, alice, "get_issue", map[string]any{"owner": "alice", "repo": repo, "number": created.Number}, &got)
	if len(got.Body) < 1000 || !strings.HasPrefix(body, got.Body) {
		t.Errorf("get_issue body is %d bytes, want a prefix of the %d-byte body", len(got.Body), len(body))
	}
}
