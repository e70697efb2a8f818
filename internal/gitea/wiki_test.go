package gitea

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestWikiPageSegment(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "plain", in: "Home", want: "Home"},
		{name: "title with space", in: "Deployment Guide", want: "Deployment+Guide"},
		{name: "sub_url", in: "Deployment-Guide", want: "Deployment-Guide"},
		{name: "dash marker", in: "Set-up.-", want: "Set-up.-"},
		{name: "escaped sub_url", in: "C%2B%2B", want: "C%2B%2B"},
		{name: "percent in a title", in: "100% done", want: "100%25+done"},
		{name: "query characters", in: "a?b#c", want: "a%3Fb%23c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := wikiPageSegment(tt.in); err != nil || got != tt.want {
				t.Errorf("wikiPageSegment(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestWikiArgumentsRefusedBeforeSending(t *testing.T) {
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request sent for invalid arguments: %s", r.URL)
	})
	c := e.As(testToken)
	for _, name := range []string{"", ".", "..", "a/b", `a\b`, "%2E%2E", "..%2F..%2Fx", "a\nb", strings.Repeat("p", 256)} {
		if _, err := c.WikiPage(t.Context(), "o", "r", name); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("WikiPage(%q) error = %v, want ErrInvalidArgument", name, err)
		}
	}
	if _, _, err := c.ListWikiPages(t.Context(), "o/x", "r", ListOptions{}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("ListWikiPages with a bad owner error = %v, want ErrInvalidArgument", err)
	}
}

// Gitea reads limit=1 as its default page size: a page of one is taken
// from a page of two.
func TestListWikiPagesOfOne(t *testing.T) {
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("limit") != "2" || q.Get("page") != "2" {
			t.Errorf("query = %s, want page 2 of 2", r.URL.RawQuery)
		}
		w.Header().Set("X-Total-Count", "5")
		writeJSON(w, 200, `[{"title":"C","sub_url":"C"},{"title":"D","sub_url":"D"}]`)
	})
	c := e.As(testToken)
	for page, want := range map[int]string{3: "C", 4: "D"} {
		pages, info, err := c.ListWikiPages(t.Context(), "o", "r", ListOptions{Page: page, Limit: 1})
		if err != nil || len(pages) != 1 || pages[0].Title != want || info.Total != 5 || info.NextPage != page+1 {
			t.Errorf("ListWikiPages(page %d, limit 1) = %+v, %+v, %v; want %s", page, pages, info, err, want)
		}
	}
}
