package gitea

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestTrackerArgumentsRefusedBeforeSending covers the issue, label,
// milestone and pull request methods: a bad argument never reaches Gitea.
func TestTrackerArgumentsRefusedBeforeSending(t *testing.T) {
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request sent for invalid arguments: %s", r.URL)
	})
	c := e.As(testToken)
	many := make([]string, maxFilterLabels+1)
	for i := range many {
		many[i] = fmt.Sprint("l", i)
	}
	tests := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{name: "issues: bad owner", call: func(ctx context.Context) error {
			_, _, err := c.ListIssues(ctx, "..", "r", IssueFilter{}, ListOptions{})
			return err
		}},
		{name: "issues: bad state", call: func(ctx context.Context) error {
			_, _, err := c.ListIssues(ctx, "o", "r", IssueFilter{State: "merged"}, ListOptions{})
			return err
		}},
		{name: "issues: comma in a label", call: func(ctx context.Context) error {
			_, _, err := c.ListIssues(ctx, "o", "r", IssueFilter{Labels: []string{"a,b"}}, ListOptions{})
			return err
		}},
		{name: "issues: empty label", call: func(ctx context.Context) error {
			_, _, err := c.ListIssues(ctx, "o", "r", IssueFilter{Labels: []string{""}}, ListOptions{})
			return err
		}},
		{name: "issues: too many labels", call: func(ctx context.Context) error {
			_, _, err := c.ListIssues(ctx, "o", "r", IssueFilter{Labels: many}, ListOptions{})
			return err
		}},
		{name: "issues: two milestones", call: func(ctx context.Context) error {
			_, _, err := c.ListIssues(ctx, "o", "r", IssueFilter{Milestone: "v1,v2"}, ListOptions{})
			return err
		}},
		{name: "issues: control character in milestone", call: func(ctx context.Context) error {
			_, _, err := c.ListIssues(ctx, "o", "r", IssueFilter{Milestone: "v1\n"}, ListOptions{})
			return err
		}},
		{name: "issues: bad assignee", call: func(ctx context.Context) error {
			_, _, err := c.ListIssues(ctx, "o", "r", IssueFilter{Assignee: "a/b"}, ListOptions{})
			return err
		}},
		{name: "issues: bad author", call: func(ctx context.Context) error {
			_, _, err := c.ListIssues(ctx, "o", "r", IssueFilter{CreatedBy: "a b"}, ListOptions{})
			return err
		}},
		{name: "issues: bad mention", call: func(ctx context.Context) error {
			_, _, err := c.ListIssues(ctx, "o", "r", IssueFilter{Mentioned: ".."}, ListOptions{})
			return err
		}},
		{name: "issues: since not RFC 3339", call: func(ctx context.Context) error {
			_, _, err := c.ListIssues(ctx, "o", "r", IssueFilter{Since: "yesterday"}, ListOptions{})
			return err
		}},
		{name: "issues: long query", call: func(ctx context.Context) error {
			_, _, err := c.ListIssues(ctx, "o", "r", IssueFilter{Query: strings.Repeat("q", maxQueryLen+1)}, ListOptions{})
			return err
		}},
		{name: "issue: number 0", call: func(ctx context.Context) error {
			_, err := c.Issue(ctx, "o", "r", 0)
			return err
		}},
		{name: "comments: negative number", call: func(ctx context.Context) error {
			_, err := c.IssueComments(ctx, "o", "r", -1, "")
			return err
		}},
		{name: "comments: bad since", call: func(ctx context.Context) error {
			_, err := c.IssueComments(ctx, "o", "r", 1, "2025-13-01")
			return err
		}},
		{name: "timeline: bad repo", call: func(ctx context.Context) error {
			_, _, err := c.IssueTimeline(ctx, "o", "r/x", 1, ListOptions{})
			return err
		}},
		{name: "search: bad state", call: func(ctx context.Context) error {
			_, _, err := c.SearchIssues(ctx, IssueSearch{State: "merged"}, ListOptions{})
			return err
		}},
		{name: "search: bad owner", call: func(ctx context.Context) error {
			_, _, err := c.SearchIssues(ctx, IssueSearch{Owner: "a/b"}, ListOptions{})
			return err
		}},
		{name: "search: unknown involvement", call: func(ctx context.Context) error {
			_, _, err := c.SearchIssues(ctx, IssueSearch{Involves: "subscribed"}, ListOptions{})
			return err
		}},
		{name: "search: control character", call: func(ctx context.Context) error {
			_, _, err := c.SearchIssues(ctx, IssueSearch{Query: "a\x00"}, ListOptions{})
			return err
		}},
		{name: "labels: bad repo", call: func(ctx context.Context) error {
			_, _, err := c.RepoLabels(ctx, "o", "..", ListOptions{})
			return err
		}},
		{name: "org labels: bad org", call: func(ctx context.Context) error {
			_, _, err := c.OrgLabels(ctx, "a/b", ListOptions{})
			return err
		}},
		{name: "org labels: empty org", call: func(ctx context.Context) error {
			_, _, err := c.OrgLabels(ctx, "", ListOptions{})
			return err
		}},
		{name: "milestones: bad state", call: func(ctx context.Context) error {
			_, _, err := c.Milestones(ctx, "o", "r", MilestoneFilter{State: "done"}, ListOptions{})
			return err
		}},
		{name: "milestones: control character in name", call: func(ctx context.Context) error {
			_, _, err := c.Milestones(ctx, "o", "r", MilestoneFilter{Name: "v\t1"}, ListOptions{})
			return err
		}},
		{name: "pulls: bad state", call: func(ctx context.Context) error {
			_, _, err := c.PullRequests(ctx, "o", "r", PullFilter{State: "merged"}, ListOptions{})
			return err
		}},
		{name: "pulls: bad sort", call: func(ctx context.Context) error {
			_, _, err := c.PullRequests(ctx, "o", "r", PullFilter{Sort: "random"}, ListOptions{})
			return err
		}},
		{name: "pulls: bad base", call: func(ctx context.Context) error {
			_, _, err := c.PullRequests(ctx, "o", "r", PullFilter{Base: "main\x00"}, ListOptions{})
			return err
		}},
		{name: "pulls: bad author", call: func(ctx context.Context) error {
			_, _, err := c.PullRequests(ctx, "o", "r", PullFilter{Author: "a?b"}, ListOptions{})
			return err
		}},
		{name: "pull: number 0", call: func(ctx context.Context) error {
			_, err := c.PullRequest(ctx, "o", "r", 0)
			return err
		}},
		{name: "diff: bad owner", call: func(ctx context.Context) error {
			_, _, err := c.PullRequestDiff(ctx, "o/x", "r", 1, 100)
			return err
		}},
		{name: "diff: no room", call: func(ctx context.Context) error {
			_, _, err := c.PullRequestDiff(ctx, "o", "r", 1, 0)
			return err
		}},
		{name: "files: number 0", call: func(ctx context.Context) error {
			_, _, err := c.PullRequestFiles(ctx, "o", "r", 0, ListOptions{})
			return err
		}},
		{name: "commits: bad repo", call: func(ctx context.Context) error {
			_, _, err := c.PullRequestCommits(ctx, "o", "", 1, ListOptions{})
			return err
		}},
		{name: "reviews: number 0", call: func(ctx context.Context) error {
			_, _, err := c.PullReviews(ctx, "o", "r", 0, ListOptions{})
			return err
		}},
		{name: "review comments: review 0", call: func(ctx context.Context) error {
			_, err := c.PullReviewComments(ctx, "o", "r", 1, 0)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(t.Context()); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("error = %v, want ErrInvalidArgument", err)
			}
		})
	}
}

func TestTrackerQueries(t *testing.T) {
	tests := []struct {
		name     string
		call     func(c *Client, ctx context.Context) error
		wantPath string
		want     map[string]string
	}{
		{
			name: "issue filters",
			call: func(c *Client, ctx context.Context) error {
				_, _, err := c.ListIssues(ctx, "o", "r", IssueFilter{State: "all", Labels: []string{"bug", "help wanted"}, Milestone: "v1.0",
					Assignee: "ann", CreatedBy: "bo", Mentioned: "cy", Since: "2025-01-31T00:00:00Z", Query: "crash"}, ListOptions{Page: 2, Limit: 5})
				return err
			},
			wantPath: "/sub/api/v1/repos/o/r/issues",
			want: map[string]string{"state": "all", "type": "issues", "labels": "bug,help wanted", "milestones": "v1.0", "assigned_by": "ann",
				"created_by": "bo", "mentioned_by": "cy", "since": "2025-01-31T00:00:00Z", "q": "crash", "page": "2", "limit": "5"},
		},
		{
			name: "search",
			call: func(c *Client, ctx context.Context) error {
				_, _, err := c.SearchIssues(ctx, IssueSearch{Query: "x", PullRequests: true, Owner: "acme", Involves: "review_requested"}, ListOptions{})
				return err
			},
			wantPath: "/sub/api/v1/repos/issues/search",
			want:     map[string]string{"q": "x", "type": "pulls", "owner": "acme", "review_requested": "true", "state": "", "limit": "50"},
		},
		{
			name: "pull filters",
			call: func(c *Client, ctx context.Context) error {
				_, _, err := c.PullRequests(ctx, "o", "r", PullFilter{State: "closed", Sort: "recentupdate", Base: "main", Author: "ann"}, ListOptions{})
				return err
			},
			wantPath: "/sub/api/v1/repos/o/r/pulls",
			want:     map[string]string{"state": "closed", "sort": "recentupdate", "base_branch": "main", "poster": "ann"},
		},
		{
			name: "pull commits skip the slow parts",
			call: func(c *Client, ctx context.Context) error {
				_, _, err := c.PullRequestCommits(ctx, "o", "r", 7, ListOptions{})
				return err
			},
			wantPath: "/sub/api/v1/repos/o/r/pulls/7/commits",
			want:     map[string]string{"verification": "false", "files": "false"},
		},
		{
			name: "milestones",
			call: func(c *Client, ctx context.Context) error {
				_, _, err := c.Milestones(ctx, "o", "r", MilestoneFilter{State: "all", Name: "v1"}, ListOptions{})
				return err
			},
			wantPath: "/sub/api/v1/repos/o/r/milestones",
			want:     map[string]string{"state": "all", "name": "v1"},
		},
		{
			name: "review comments",
			call: func(c *Client, ctx context.Context) error {
				_, err := c.PullReviewComments(ctx, "o", "r", 2, 9)
				return err
			},
			wantPath: "/sub/api/v1/repos/o/r/pulls/2/reviews/9/comments",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != tt.wantPath {
					t.Errorf("path = %q, want %q", r.URL.Path, tt.wantPath)
				}
				q := r.URL.Query()
				for k, v := range tt.want {
					if got := q.Get(k); got != v {
						t.Errorf("query %s = %q, want %q", k, got, v)
					}
				}
				writeJSON(w, 200, `[]`)
			})
			if err := tt.call(e.As(testToken), t.Context()); err != nil {
				t.Fatalf("call: %v", err)
			}
		})
	}
}

// Gitea answers a comment list of a missing issue with a 500; the client
// tells that apart from a real failure by looking the issue up.
func TestCommentsOfMissingIssue(t *testing.T) {
	for _, tt := range []struct {
		name        string
		issueStatus int
		want        error
	}{
		{name: "missing issue", issueStatus: 404, want: ErrNotFound},
		{name: "real failure", issueStatus: 200, want: ErrUnavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/sub/api/v1/repos/o/r/issues/9":
					writeJSON(w, tt.issueStatus, `{"number":9}`)
				default:
					writeJSON(w, 500, `{"message":"issue does not exist"}`)
				}
			})
			c := e.As(testToken)
			if _, err := c.IssueComments(t.Context(), "o", "r", 9, ""); !errors.Is(err, tt.want) {
				t.Errorf("IssueComments error = %v, want %v", err, tt.want)
			}
			if _, _, err := c.IssueTimeline(t.Context(), "o", "r", 9, ListOptions{}); !errors.Is(err, tt.want) {
				t.Errorf("IssueTimeline error = %v, want %v", err, tt.want)
			}
		})
	}
}

// Gitea's timeline count is the length of the page, and a page may be
// short because entries were dropped: the next page decides.
func TestTimelineNextPage(t *testing.T) {
	tests := []struct {
		name     string
		pages    map[string]string
		wantNext int
		wantHits int
	}{
		{name: "full page", pages: map[string]string{"1": `[{"id":1},{"id":2}]`}, wantNext: 2, wantHits: 1},
		{name: "short page, more after", pages: map[string]string{"1": `[{"id":1}]`, "2": `[{"id":5}]`}, wantNext: 2, wantHits: 2},
		{name: "short last page", pages: map[string]string{"1": `[{"id":1}]`, "2": `[]`}, wantNext: 0, wantHits: 2},
		{name: "empty", pages: map[string]string{"1": `[]`}, wantNext: 0, wantHits: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := 0
			e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
				hits++
				w.Header().Set("X-Total-Count", "1")
				writeJSON(w, 200, tt.pages[r.URL.Query().Get("page")])
			})
			_, info, err := e.As(testToken).IssueTimeline(t.Context(), "o", "r", 1, ListOptions{Page: 1, Limit: 2})
			if err != nil {
				t.Fatalf("IssueTimeline: %v", err)
			}
			if info.NextPage != tt.wantNext || hits != tt.wantHits || info.Total != -1 {
				t.Errorf("IssueTimeline next page %d after %d requests, total %d; want %d after %d, total -1",
					info.NextPage, hits, info.Total, tt.wantNext, tt.wantHits)
			}
		})
	}
}

func TestPullRequestDiffIsBounded(t *testing.T) {
	diff := "diff --git a/x b/x\n" + strings.Repeat("+line\n", 100)
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sub/api/v1/repos/o/r/pulls/3.diff" {
			t.Errorf("path = %q, want the .diff endpoint", r.URL.Path)
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = fmt.Fprint(w, diff)
	})
	got, truncated, err := e.As(testToken).PullRequestDiff(t.Context(), "o", "r", 3, 50)
	if err != nil || !truncated || got != diff[:50] {
		t.Errorf("PullRequestDiff = %q, %v, %v; want the first 50 bytes, truncated", got, truncated, err)
	}
	got, truncated, err = e.As(testToken).PullRequestDiff(t.Context(), "o", "r", 3, len(diff))
	if err != nil || truncated || got != diff {
		t.Errorf("PullRequestDiff(whole) = %d bytes, %v, %v; want all %d, not truncated", len(got), truncated, err, len(diff))
	}
}
