package e2e

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// Each tracker test runs with a token holding exactly the scope its tools
// declare, which shows that scope is enough; calling Gitea directly with a
// token of another scope shows it is needed.
const (
	trackerIssueScope = "read:issue"
	trackerRepoScope  = "read:repository"
	trackerOrgScope   = "read:organization"
)

// trackerRefused checks a tool is refused for a token without its scope.
func trackerRefused(t *testing.T, a *aegis, token, name string, args map[string]any) {
	t.Helper()
	res := a.toolCall(t, token, name, args)
	if res.Status != 403 || !strings.HasPrefix(res.WWWAuthenticate, `Bearer error="insufficient_scope"`) {
		t.Errorf("%s without its scope = %d %s (WWW-Authenticate %q), want 403 insufficient_scope", name, res.Status, res.Body, res.WWWAuthenticate)
	}
}

func trackerItems(t *testing.T, out map[string]any, key string) []map[string]any {
	t.Helper()
	raw, ok := out[key].([]any)
	if !ok {
		t.Fatalf("output has no list %q: %v", key, out)
	}
	items := make([]map[string]any, len(raw))
	for i, r := range raw {
		items[i] = r.(map[string]any)
	}
	return items
}

// trackerField collects one field of every item, as text.
func trackerField(items []map[string]any, key string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = fmt.Sprint(it[key])
	}
	return out
}

func trackerNumbers(t *testing.T, out map[string]any, key string) []string {
	t.Helper()
	return trackerField(trackerItems(t, out, key), "number")
}

func trackerNotes(args map[string]any) map[string]any {
	out := map[string]any{"owner": testgitea.AliceName, "repo": testgitea.AliceRepo}
	for k, v := range args {
		out[k] = v
	}
	return out
}

func TestTrackerIssueTools(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, trackerIssueScope)
	alice := a.token(t, g, testgitea.AliceName, trackerIssueScope).AccessToken
	bob := a.token(t, g, testgitea.BobName, trackerIssueScope).AccessToken
	issue, closed := fmt.Sprint(testgitea.AliceIssue), fmt.Sprint(testgitea.ClosedIssue)

	t.Run("list_issues filters", func(t *testing.T) {
		tests := []struct {
			name string
			args map[string]any
			want []string
		}{
			{name: "open", args: nil, want: []string{issue}},
			{name: "closed", args: map[string]any{"state": "closed"}, want: []string{closed}},
			{name: "one label", args: map[string]any{"state": "all", "labels": []string{testgitea.LabelDocs}}, want: []string{closed, issue}},
			{name: "all labels", args: map[string]any{"state": "all", "labels": []string{testgitea.LabelBug, testgitea.LabelDocs}}, want: []string{issue}},
			{name: "comma list", args: map[string]any{"state": "all", "labels": []string{testgitea.LabelBug + "," + testgitea.LabelDocs}}, want: []string{issue}},
			{name: "milestone", args: map[string]any{"state": "all", "milestone": testgitea.MilestoneOpen}, want: []string{issue}},
			{name: "assignee", args: map[string]any{"state": "all", "assignee": testgitea.AliceName}, want: []string{issue}},
			{name: "author", args: map[string]any{"state": "all", "created_by": testgitea.AliceName}, want: []string{closed, issue}},
			{name: "since", args: map[string]any{"state": "all", "since": "2100-01-01T00:00:00Z"}, want: []string{}},
			{name: "query", args: map[string]any{"state": "all", "query": "typo"}, want: []string{closed}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := trackerNumbers(t, mustCall(t, a, alice, "list_issues", trackerNotes(tt.args)), "issues")
				if !slices.Equal(got, tt.want) {
					t.Errorf("list_issues(%v) = %v, want %v", tt.args, got, tt.want)
				}
			})
		}
		out := mustCall(t, a, alice, "list_issues", trackerNotes(nil))
		if labels := fmt.Sprint(trackerItems(t, out, "issues")[0]["labels"]); labels != "[bug docs]" {
			t.Errorf("issue #1 labels = %s, want [bug docs]", labels)
		}
		mustRefuse(t, a, alice, "list_issues", trackerNotes(map[string]any{"labels": []string{"no-such-label"}}), "labels")
		mustRefuse(t, a, alice, "list_issues", trackerNotes(map[string]any{"milestone": "v9"}), "milestone")
		mustRefuse(t, a, alice, "list_issues", trackerNotes(map[string]any{"assignee": "nobody-here"}), "not found")
		mustRefuse(t, a, alice, "list_issues", trackerNotes(map[string]any{"since": "yesterday"}), "since")
		mustRefuse(t, a, bob, "list_issues", trackerNotes(nil), "not found")
	})

	t.Run("list_issue_comments", func(t *testing.T) {
		res := a.toolCall(t, alice, "list_issue_comments", trackerNotes(map[string]any{"number": testgitea.AliceIssue}))
		if !strings.HasPrefix(res.Text, "[untrusted content]") {
			t.Errorf("comments are not marked untrusted: %.80s", res.Text)
		}
		comments := trackerItems(t, res.Structured, "comments")
		if got := trackerField(comments, "author"); !slices.Equal(got, []string{testgitea.AliceName, g.Admin.Name}) {
			t.Errorf("comment authors = %v", got)
		}
		if got := trackerField(comments, "body"); !slices.Equal(got, []string{testgitea.CommentByAlice, testgitea.CommentByAdmin}) {
			t.Errorf("comment bodies = %v", got)
		}
		out := mustCall(t, a, alice, "list_issue_comments", trackerNotes(map[string]any{"number": testgitea.AliceIssue, "limit": 1, "page": 2}))
		if got := trackerField(trackerItems(t, out, "comments"), "body"); !slices.Equal(got, []string{testgitea.CommentByAdmin}) ||
			out["total"] != 2.0 || out["next_page"] != nil {
			t.Errorf("second page of one comment = %v", out)
		}
		mustRefuse(t, a, alice, "list_issue_comments", trackerNotes(map[string]any{"number": 9999}), "not found")
		mustRefuse(t, a, bob, "list_issue_comments", trackerNotes(map[string]any{"number": testgitea.AliceIssue}), "not found")
	})

	t.Run("get_issue_timeline", func(t *testing.T) {
		out := mustCall(t, a, alice, "get_issue_timeline", trackerNotes(map[string]any{"number": testgitea.AliceIssue, "limit": 50}))
		events := trackerItems(t, out, "events")
		found := map[string]bool{}
		for _, ev := range events {
			switch ev["type"] {
			case "label":
				found["label "+fmt.Sprint(ev["label"])] = ev["removed"] == nil && ev["actor"] == testgitea.AliceName
			case "milestone":
				found["milestone"] = ev["milestone"] == testgitea.MilestoneOpen
			case "assignees":
				found["assignee"] = ev["assignee"] == testgitea.AliceName
			case "comment":
				found["comment "+fmt.Sprint(ev["actor"])] = ev["body"] != ""
			case "issue_ref":
				ref, _ := ev["issue"].(map[string]any)
				found["reference"] = ref["number"] == float64(testgitea.ClosedIssue) && ref["title"] == testgitea.ClosedIssueTitle
			}
		}
		for _, want := range []string{"label bug", "label docs", "milestone", "assignee", "comment alice", "comment " + g.Admin.Name, "reference"} {
			if !found[want] {
				t.Errorf("timeline of #1 lacks %s: %v", want, events)
			}
		}
		out = mustCall(t, a, alice, "get_issue_timeline", trackerNotes(map[string]any{"number": testgitea.AliceIssue, "limit": 2}))
		if len(trackerItems(t, out, "events")) != 2 || out["next_page"] != 2.0 {
			t.Errorf("first timeline page of 2 = %v, want 2 events and next_page 2", out)
		}
		out = mustCall(t, a, alice, "get_issue_timeline", trackerNotes(map[string]any{"number": testgitea.AlicePull}))
		if !slices.Contains(trackerField(trackerItems(t, out, "events"), "body"), testgitea.ReviewBody) {
			t.Errorf("timeline of pull request #2 lacks the review: %v", out)
		}
		mustRefuse(t, a, alice, "get_issue_timeline", trackerNotes(map[string]any{"number": 9999}), "not found")
		mustRefuse(t, a, bob, "get_issue_timeline", trackerNotes(map[string]any{"number": testgitea.AliceIssue}), "not found")
	})

	t.Run("labels and milestones", func(t *testing.T) {
		labels := trackerItems(t, mustCall(t, a, alice, "list_labels", trackerNotes(nil)), "labels")
		if got := trackerField(labels, "name"); !slices.Equal(got, []string{testgitea.LabelBug, testgitea.LabelDocs}) || labels[1]["description"] != "Documentation" {
			t.Errorf("labels of alice/notes = %v", labels)
		}
		mustRefuse(t, a, bob, "list_labels", trackerNotes(nil), "not found")

		for _, tt := range []struct {
			state string
			want  []string
		}{
			{state: "", want: []string{testgitea.MilestoneOpen}},
			{state: "closed", want: []string{testgitea.MilestoneClosed}},
			{state: "all", want: []string{testgitea.MilestoneClosed, testgitea.MilestoneOpen}},
		} {
			args := trackerNotes(nil)
			if tt.state != "" {
				args["state"] = tt.state
			}
			ms := trackerItems(t, mustCall(t, a, alice, "list_milestones", args), "milestones")
			got := trackerField(ms, "title")
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("milestones (state %q) = %v, want %v", tt.state, got, tt.want)
			}
		}
		ms := trackerItems(t, mustCall(t, a, alice, "list_milestones", trackerNotes(nil)), "milestones")
		if ms[0]["open_issues"] != 1.0 || ms[0]["due_on"] == nil {
			t.Errorf("milestone %s = %v, want one open issue and a due date", testgitea.MilestoneOpen, ms[0])
		}
		mustRefuse(t, a, bob, "list_milestones", trackerNotes(nil), "not found")
	})

	t.Run("search_issues", func(t *testing.T) {
		find := func(token string, args map[string]any) []string {
			t.Helper()
			items := trackerItems(t, mustCall(t, a, token, "search_issues", args), "issues")
			var got []string
			for _, it := range items {
				got = append(got, fmt.Sprintf("%s#%v", it["repository"], it["number"]))
			}
			return got
		}
		notesIssue := func(n int) string { return fmt.Sprintf("%s/%s#%d", testgitea.AliceName, testgitea.AliceRepo, n) }
		if got := find(alice, map[string]any{"query": "guide"}); !slices.Contains(got, notesIssue(testgitea.AliceIssue)) {
			t.Errorf("alice's search for guide = %v, want alice/notes#1", got)
		}
		if got := find(alice, map[string]any{"query": "typo", "state": "closed", "owner": testgitea.AliceName}); !slices.Equal(got, []string{notesIssue(testgitea.ClosedIssue)}) {
			t.Errorf("alice's search for closed typo = %v", got)
		}
		if got := find(alice, map[string]any{"type": "pulls", "owner": testgitea.AliceName, "involves": "created"}); !slices.Contains(got, notesIssue(testgitea.AlicePull)) {
			t.Errorf("alice's own pull requests = %v, want alice/notes#2", got)
		}
		if got := find(bob, map[string]any{"query": "guide"}); slices.Contains(got, notesIssue(testgitea.AliceIssue)) {
			t.Errorf("bob's search found alice's private issue: %v", got)
		}
		if res := a.toolCall(t, alice, "search_issues", map[string]any{"involves": "subscribed"}); res.Status != 400 {
			t.Errorf("search_issues with an unknown involvement = %d %s, want 400", res.Status, res.Body)
		}
	})

	t.Run("scope", func(t *testing.T) {
		for _, name := range []string{"get_pull_request", "list_pull_request_reviews"} {
			trackerRefused(t, a, alice, name, trackerNotes(map[string]any{"number": testgitea.AlicePull}))
		}
		trackerRefused(t, a, alice, "list_org_labels", map[string]any{"org": testgitea.Org})
		// Gitea itself refuses what this token lacks.
		c := endpoint(t, g).As(alice)
		if _, err := c.PullRequest(t.Context(), testgitea.AliceName, testgitea.AliceRepo, testgitea.AlicePull); !errors.Is(err, gitea.ErrForbidden) {
			t.Errorf("Gitea's pull request with read:issue only: %v, want ErrForbidden", err)
		}
		if _, _, err := c.OrgLabels(t.Context(), testgitea.Org, gitea.ListOptions{}); !errors.Is(err, gitea.ErrForbidden) {
			t.Errorf("Gitea's organization labels with read:issue only: %v, want ErrForbidden", err)
		}
	})
}

var trackerSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

func TestTrackerPullTools(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, trackerRepoScope)
	alice := a.token(t, g, testgitea.AliceName, trackerRepoScope).AccessToken
	bob := a.token(t, g, testgitea.BobName, trackerRepoScope).AccessToken
	pull := trackerNotes(map[string]any{"number": testgitea.AlicePull})

	t.Run("list_pull_requests", func(t *testing.T) {
		prs := trackerItems(t, mustCall(t, a, alice, "list_pull_requests", trackerNotes(map[string]any{"sort": "oldest"})), "pull_requests")
		if len(prs) != 1 || prs[0]["number"] != float64(testgitea.AlicePull) || prs[0]["author"] != testgitea.AliceName ||
			fmt.Sprint(prs[0]["head"]) != "map[ref:"+testgitea.PullBranch+"]" || fmt.Sprint(prs[0]["base"]) != "map[ref:main]" {
			t.Errorf("pull requests of alice/notes = %v", prs)
		}
		if prs := trackerItems(t, mustCall(t, a, alice, "list_pull_requests", trackerNotes(map[string]any{"state": "closed"})), "pull_requests"); len(prs) != 0 {
			t.Errorf("closed pull requests = %v, want none", prs)
		}
		if res := a.toolCall(t, alice, "list_pull_requests", trackerNotes(map[string]any{"sort": "random"})); res.Status != 400 || !strings.Contains(res.Body, "sort") {
			t.Errorf("list_pull_requests with an unknown sort = %d %s, want 400 naming sort", res.Status, res.Body)
		}
		mustRefuse(t, a, bob, "list_pull_requests", trackerNotes(nil), "not found")
	})

	t.Run("get_pull_request", func(t *testing.T) {
		pr := mustCall(t, a, alice, "get_pull_request", pull)
		head, _ := pr["head"].(map[string]any)
		base, _ := pr["base"].(map[string]any)
		if pr["title"] != "Add a greeting" || pr["body"] != "Adds greeting.txt." || pr["state"] != "open" || pr["mergeable"] != true ||
			pr["merged"] != nil || pr["author"] != testgitea.AliceName || fmt.Sprint(pr["reviewers"]) != "["+g.Admin.Name+"]" || pr["changed_files"] != 1.0 || pr["additions"] != 1.0 ||
			head["ref"] != testgitea.PullBranch || !trackerSHA.MatchString(fmt.Sprint(head["sha"])) ||
			base["ref"] != "main" || !trackerSHA.MatchString(fmt.Sprint(base["sha"])) {
			t.Errorf("get_pull_request #2 = %v", pr)
		}
		mustRefuse(t, a, alice, "get_pull_request", trackerNotes(map[string]any{"number": testgitea.AliceIssue}), "not found")
		mustRefuse(t, a, bob, "get_pull_request", pull, "not found")
	})

	t.Run("get_pull_request_diff", func(t *testing.T) {
		const added = "+Hello from the feature branch."
		out := mustCall(t, a, alice, "get_pull_request_diff", pull)
		diff := fmt.Sprint(out["diff"])
		if !strings.HasPrefix(diff, "diff --git a/greeting.txt b/greeting.txt\n") || !strings.Contains(diff, added) || out["truncated"] != nil {
			t.Errorf("diff of #2 = %v", out)
		}
		out = mustCall(t, a, alice, "get_pull_request_diff", trackerNotes(map[string]any{"number": testgitea.AlicePull, "file": testgitea.ReviewPath}))
		if out["diff"] != diff || out["file"] != testgitea.ReviewPath {
			t.Errorf("diff of greeting.txt = %v, want the whole one-file diff", out)
		}
		mustRefuse(t, a, alice, "get_pull_request_diff", trackerNotes(map[string]any{"number": testgitea.AlicePull, "file": "README.md"}), "file")
		mustRefuse(t, a, bob, "get_pull_request_diff", pull, "not found")
	})

	t.Run("files and commits", func(t *testing.T) {
		files := trackerItems(t, mustCall(t, a, alice, "list_pull_request_files", pull), "files")
		if len(files) != 1 || files[0]["filename"] != testgitea.ReviewPath || files[0]["status"] != "added" || files[0]["additions"] != 1.0 {
			t.Errorf("files of #2 = %v", files)
		}
		commits := trackerItems(t, mustCall(t, a, alice, "list_pull_request_commits", pull), "commits")
		if len(commits) != 1 || commits[0]["message"] != "Add "+testgitea.ReviewPath || commits[0]["author"] != testgitea.AliceName ||
			!trackerSHA.MatchString(fmt.Sprint(commits[0]["sha"])) || commits[0]["additions"] != 1.0 {
			t.Errorf("commits of #2 = %v", commits)
		}
		mustRefuse(t, a, alice, "list_pull_request_files", trackerNotes(map[string]any{"number": 9999}), "not found")
		mustRefuse(t, a, bob, "list_pull_request_commits", pull, "not found")
	})

	t.Run("reviews", func(t *testing.T) {
		reviews := trackerItems(t, mustCall(t, a, alice, "list_pull_request_reviews", pull), "reviews")
		if len(reviews) != 1 || reviews[0]["reviewer"] != g.Admin.Name || reviews[0]["state"] != "COMMENT" ||
			reviews[0]["body"] != testgitea.ReviewBody || reviews[0]["comments"] != 1.0 {
			t.Fatalf("reviews of #2 = %v", reviews)
		}
		id := reviews[0]["id"]
		res := a.toolCall(t, alice, "list_review_comments", trackerNotes(map[string]any{"number": testgitea.AlicePull, "review_id": id}))
		comments := trackerItems(t, res.Structured, "comments")
		if len(comments) != 1 || comments[0]["path"] != testgitea.ReviewPath || comments[0]["line"] != float64(testgitea.ReviewLine) ||
			comments[0]["body"] != testgitea.ReviewLineComment || comments[0]["author"] != g.Admin.Name ||
			!strings.Contains(fmt.Sprint(comments[0]["diff_hunk"]), "Hello from the feature branch.") || !strings.HasPrefix(res.Text, "[untrusted content]") {
			t.Errorf("comments of review %v = %s", id, res.Body)
		}
		mustRefuse(t, a, alice, "list_review_comments", trackerNotes(map[string]any{"number": testgitea.AlicePull, "review_id": 999999}), "not found")
		mustRefuse(t, a, bob, "list_pull_request_reviews", pull, "not found")
	})

	t.Run("scope", func(t *testing.T) {
		trackerRefused(t, a, alice, "list_issue_comments", pull)
		trackerRefused(t, a, alice, "list_labels", trackerNotes(nil))
		trackerRefused(t, a, alice, "search_issues", map[string]any{"query": "guide"})
		c := endpoint(t, g).As(alice)
		if _, err := c.IssueComments(t.Context(), testgitea.AliceName, testgitea.AliceRepo, testgitea.AliceIssue, ""); !errors.Is(err, gitea.ErrForbidden) {
			t.Errorf("Gitea's issue comments with read:repository only: %v, want ErrForbidden", err)
		}
		if _, _, err := c.SearchIssues(t.Context(), gitea.IssueSearch{Query: "guide"}, gitea.ListOptions{}); !errors.Is(err, gitea.ErrForbidden) {
			t.Errorf("Gitea's issue search with read:repository only: %v, want ErrForbidden", err)
		}
		if _, _, err := c.Milestones(t.Context(), testgitea.AliceName, testgitea.AliceRepo, gitea.MilestoneFilter{}, gitea.ListOptions{}); !errors.Is(err, gitea.ErrForbidden) {
			t.Errorf("Gitea's milestones with read:repository only: %v, want ErrForbidden", err)
		}
	})
}

func TestTrackerOrgLabels(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, trackerOrgScope)
	bob := a.token(t, g, testgitea.BobName, trackerOrgScope).AccessToken

	labels := trackerItems(t, mustCall(t, a, bob, "list_org_labels", map[string]any{"org": testgitea.Org}), "labels")
	if got := trackerField(labels, "name"); !slices.Equal(got, []string{testgitea.OrgLabel}) || labels[0]["color"] == "" {
		t.Errorf("labels of %s = %v", testgitea.Org, labels)
	}
	mustRefuse(t, a, bob, "list_org_labels", map[string]any{"org": "no-such-org"}, "not found")
	if res := a.toolCall(t, bob, "list_org_labels", map[string]any{"org": "../admin"}); res.Status != 200 || !res.IsError || !strings.Contains(res.Text, "org") {
		t.Errorf("list_org_labels with a path in org = %d %s, want a tool error naming org", res.Status, res.Body)
	}
	trackerRefused(t, a, bob, "list_labels", map[string]any{"owner": testgitea.Org, "repo": testgitea.OrgRepo})
	trackerRefused(t, a, bob, "list_pull_requests", map[string]any{"owner": testgitea.Org, "repo": testgitea.OrgRepo})
	c := endpoint(t, g).As(bob)
	if _, _, err := c.RepoLabels(t.Context(), testgitea.Org, testgitea.OrgRepo, gitea.ListOptions{}); !errors.Is(err, gitea.ErrForbidden) {
		t.Errorf("Gitea's repository labels with read:organization only: %v, want ErrForbidden", err)
	}
}
