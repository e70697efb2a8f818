package gitea

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestReleaseArgumentsRefusedBeforeSending(t *testing.T) {
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request sent for invalid arguments: %s", r.URL)
	})
	c := e.As(testToken)
	tests := []struct {
		name string
		call func() error
	}{
		{name: "list: bad owner", call: func() error { _, _, err := c.ListReleases(t.Context(), "..", "r", ListOptions{}); return err }},
		{name: "get: zero id", call: func() error { _, err := c.Release(t.Context(), "o", "r", 0); return err }},
		{name: "get: negative id", call: func() error { _, err := c.Release(t.Context(), "o", "r", -3); return err }},
		{name: "latest: slash in repo", call: func() error { _, err := c.LatestRelease(t.Context(), "o", "a/b"); return err }},
		{name: "tag: empty", call: func() error { _, err := c.ReleaseByTag(t.Context(), "o", "r", ""); return err }},
		{name: "tag: dotdot", call: func() error { _, err := c.ReleaseByTag(t.Context(), "o", "r", "../../user"); return err }},
		{name: "tag: control", call: func() error { _, err := c.ReleaseByTag(t.Context(), "o", "r", "v1\n"); return err }},
		{name: "tag: query", call: func() error { _, err := c.ReleaseByTag(t.Context(), "o", "r", "v1?x=1"); return err }},
		{name: "tag: leading slash", call: func() error { _, err := c.ReleaseByTag(t.Context(), "o", "r", "/v1"); return err }},
		{name: "tag: too long", call: func() error { _, err := c.ReleaseByTag(t.Context(), "o", "r", strings.Repeat("v", 256)); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("error = %v, want ErrInvalidArgument", err)
			}
		})
	}
}

func TestReleaseByTagEscapesTheTag(t *testing.T) {
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		if want := "/sub/api/v1/repos/o/r/releases/tags/release%2F1.0"; r.URL.EscapedPath() != want {
			t.Errorf("path = %q, want %q", r.URL.EscapedPath(), want)
		}
		writeJSON(w, 200, `{"id":4,"tag_name":"release/1.0","assets":[{"name":"a.txt","size":3,"download_count":2}]}`)
	})
	r, err := e.As(testToken).ReleaseByTag(t.Context(), "o", "r", "release/1.0")
	if err != nil || r.ID != 4 || len(r.Assets) != 1 || r.Assets[0].DownloadCount != 2 {
		t.Fatalf("ReleaseByTag = %+v, %v", r, err)
	}
}
