package tools

import "testing"

func TestSubjectNumber(t *testing.T) {
	tests := []struct {
		name, kind, url string
		want            int64
	}{
		{name: "issue", kind: "Issue", url: "http://g/api/v1/repos/o/r/issues/7", want: 7},
		{name: "pull", kind: "Pull", url: "http://g/api/v1/repos/o/r/pulls/12", want: 12},
		{name: "commit", kind: "Commit", url: "http://g/api/v1/repos/o/r/commits/abc", want: 0},
		{name: "not a number", kind: "Issue", url: "http://g/api/v1/repos/o/r/issues/x", want: 0},
		{name: "zero", kind: "Issue", url: "http://g/api/v1/repos/o/r/issues/0", want: 0},
		{name: "other path", kind: "Issue", url: "http://g/api/v1/repos/o/r/labels/3", want: 0},
		{name: "empty", kind: "Issue", url: "", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := subjectNumber(tt.kind, tt.url); got != tt.want {
				t.Errorf("subjectNumber(%q, %q) = %d, want %d", tt.kind, tt.url, got, tt.want)
			}
		})
	}
}
