package gitea

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// refuseAll is a fake Gitea that fails the test on any request: the
// arguments under test must be refused before anything is sent.
func refuseAll(t *testing.T) *Client {
	t.Helper()
	return fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request sent for invalid arguments: %s", r.URL)
	}).As(testToken)
}

func TestUserArgumentsRefusedBeforeSending(t *testing.T) {
	c := refuseAll(t)
	for _, name := range []string{"", "..", "a/b", "bob?x=1", "a b", strings.Repeat("a", 101)} {
		if _, err := c.UserProfile(t.Context(), name); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("UserProfile(%q) error = %v, want ErrInvalidArgument", name, err)
		}
	}
	for _, query := range []string{"", "a\nb", "\x7f", strings.Repeat("q", 101)} {
		if _, _, err := c.SearchUsers(t.Context(), query, ListOptions{}); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("SearchUsers(%q) error = %v, want ErrInvalidArgument", query, err)
		}
	}
}

func TestSearchUsersSendsQueryAndReadsData(t *testing.T) {
	c := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sub/api/v1/users/search" || r.URL.Query().Get("q") != "al ice&x" || r.URL.Query().Get("limit") != "2" {
			t.Errorf("request = %s, want the search with q and limit", r.URL)
		}
		w.Header().Set("X-Total-Count", "3")
		writeJSON(w, 200, `{"ok":true,"data":[{"login":"alice","full_name":"Alice","description":"bio","followers_count":2}]}`)
	}).As(testToken)
	users, info, err := c.SearchUsers(t.Context(), "al ice&x", ListOptions{Page: 1, Limit: 2})
	if err != nil || len(users) != 1 || users[0].Login != "alice" || users[0].Description != "bio" || users[0].Followers != 2 {
		t.Fatalf("SearchUsers = %+v, %v", users, err)
	}
	if info.Total != 3 || info.NextPage != 2 {
		t.Errorf("page info = %+v, want total 3, next page 2", info)
	}
}
