package tools

import (
	"slices"
	"testing"
)

func TestSearchKeywords(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		{query: "guide", want: []string{"guide"}},
		{query: "How is the deployment guide configured?", want: []string{"deployment", "guide", "configured"}},
		{query: "setup setup SETUP guide", want: []string{"setup", "guide"}},
		{query: "a b", want: []string{"a b"}},
		{query: "v1.2 release-notes", want: []string{"v1.2", "release-notes"}},
	}
	for _, tt := range tests {
		if got := searchKeywords(tt.query); !slices.Equal(got, tt.want) {
			t.Errorf("searchKeywords(%q) = %q, want %q", tt.query, got, tt.want)
		}
	}
}

func TestSearchHitsRanksByKeywordsFound(t *testing.T) {
	var h searchHits
	h.add(searchResult{ID: "a"})
	h.add(searchResult{ID: "b"})
	h.add(searchResult{ID: "b"})
	h.add(searchResult{ID: "c"})
	var got []string
	for _, r := range h.best(2) {
		got = append(got, r.ID)
	}
	if !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("best(2) = %v, want [b a]", got)
	}
	var empty searchHits
	if r := empty.best(5); r == nil || len(r) != 0 {
		t.Errorf("best of nothing = %#v, want an empty, non-nil list", r)
	}
}
