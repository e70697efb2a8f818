package gitea

import (
	"errors"
	"net/http"
	"testing"
)

func TestRepoInfoArgumentsRefusedBeforeSending(t *testing.T) {
	c := refuseAll(t)
	tests := []struct{ name, owner, repo string }{
		{name: "empty owner", owner: "", repo: "r"},
		{name: "dotdot repo", owner: "o", repo: ".."},
		{name: "slash in repo", owner: "o", repo: "r/../x"},
		{name: "query in owner", owner: "o?a=b", repo: "r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			_, err1 := c.RepositoryLanguages(ctx, tt.owner, tt.repo)
			_, err2 := c.RepositoryTopics(ctx, tt.owner, tt.repo)
			_, _, err3 := c.Collaborators(ctx, tt.owner, tt.repo, ListOptions{})
			_, _, err4 := c.Forks(ctx, tt.owner, tt.repo, ListOptions{})
			for i, err := range []error{err1, err2, err3, err4} {
				if !errors.Is(err, ErrInvalidArgument) {
					t.Errorf("call %d for %q/%q: error = %v, want ErrInvalidArgument", i+1, tt.owner, tt.repo, err)
				}
			}
		})
	}
}

func TestRepositoryTopicsNeverNil(t *testing.T) {
	c := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sub/api/v1/repos/o/r/topics" || r.URL.Query().Get("limit") != "50" {
			t.Errorf("request = %s, want one page of 50 topics", r.URL)
		}
		writeJSON(w, 200, `{"topics":null}`)
	}).As(testToken)
	topics, err := c.RepositoryTopics(t.Context(), "o", "r")
	if err != nil || topics == nil || len(topics) != 0 {
		t.Errorf("RepositoryTopics = %#v, %v; want an empty, non-nil list", topics, err)
	}
}
