package gitea

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestActionsArgumentsRefusedBeforeSending(t *testing.T) {
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request sent for invalid arguments: %s", r.URL)
	})
	c := e.As(testToken)
	runs := func(f RunFilter) func() error {
		return func() error { _, _, err := c.ListWorkflowRuns(t.Context(), "o", "r", f, ListOptions{}); return err }
	}
	tests := []struct {
		name string
		call func() error
	}{
		{name: "workflows: bad repo", call: func() error { _, err := c.Workflows(t.Context(), "o", ".."); return err }},
		{name: "runs: bad status", call: runs(RunFilter{Status: "broken"})},
		{name: "runs: bad event", call: runs(RunFilter{Event: "push&status=x"})},
		{name: "runs: control in branch", call: runs(RunFilter{Branch: "main\x00"})},
		{name: "runs: workflow path", call: runs(RunFilter{Workflow: "../ci.yml"})},
		{name: "runs: workflow not yaml", call: runs(RunFilter{Workflow: "ci"})},
		{name: "runs: hidden workflow", call: runs(RunFilter{Workflow: ".yml"})},
		{name: "run: zero id", call: func() error { _, err := c.WorkflowRun(t.Context(), "o", "r", 0); return err }},
		{name: "jobs: negative run", call: func() error { _, _, err := c.ListWorkflowJobs(t.Context(), "o", "r", -1, ListOptions{}); return err }},
		{name: "job: zero id", call: func() error { _, err := c.WorkflowJob(t.Context(), "o", "r", 0); return err }},
		{name: "log: zero id", call: func() error { _, err := c.JobLog(t.Context(), "o", "r", 0, 10); return err }},
		{name: "log: zero limit", call: func() error { _, err := c.JobLog(t.Context(), "o", "r", 1, 0); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("error = %v, want ErrInvalidArgument", err)
			}
		})
	}
}

func TestWorkflowRunsQuery(t *testing.T) {
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		want := "/sub/api/v1/repos/o/r/actions/workflows/ci.yml/runs"
		if r.URL.Path != want || r.URL.Query().Get("status") != "success" || r.URL.Query().Get("branch") != "main" ||
			r.URL.Query().Get("event") != "push" || r.URL.Query().Get("limit") != "5" {
			t.Errorf("request = %s, want %s with the filters", r.URL, want)
		}
		w.Header().Set("X-Total-Count", "7")
		writeJSON(w, 200, `{"workflow_runs":[{"id":3,"status":"completed","conclusion":"success"}],"total_count":7}`)
	})
	runs, info, err := e.As(testToken).ListWorkflowRuns(t.Context(), "o", "r",
		RunFilter{Workflow: "ci.yml", Status: "success", Branch: "main", Event: "push"}, ListOptions{Page: 1, Limit: 5})
	if err != nil || len(runs) != 1 || runs[0].Conclusion != "success" || info.Total != 7 || info.NextPage != 2 {
		t.Fatalf("ListWorkflowRuns = %+v, %+v, %v", runs, info, err)
	}
}

func TestJobLogKeepsTheTail(t *testing.T) {
	var lines []string
	for i := range 100 {
		lines = append(lines, fmt.Sprintf("line %03d é", i))
	}
	log := strings.Join(lines, "\n") + "\n"
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sub/api/v1/repos/o/r/actions/jobs/9/logs" {
			t.Errorf("path = %s", r.URL.Path)
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprint(w, log)
	})
	c := e.As(testToken)
	tests := []struct {
		name  string
		limit int
	}{
		{name: "whole", limit: len(log)},
		{name: "mid-line", limit: 100},
		{name: "mid-rune", limit: 57},
		{name: "tiny", limit: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.JobLog(t.Context(), "o", "r", 9, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got.Size != int64(len(log)) || got.Partial || got.Omitted+int64(len(got.Text)) != got.Size ||
				len(got.Text) > tt.limit || !strings.HasSuffix(log, got.Text) || !utf8.ValidString(got.Text) {
				t.Errorf("JobLog(limit %d) = size %d omitted %d text %q", tt.limit, got.Size, got.Omitted, got.Text)
			}
			if got.Omitted > 0 && tt.limit > 20 && !strings.HasPrefix(got.Text, "line ") {
				t.Errorf("JobLog(limit %d) text %q does not start at a line", tt.limit, got.Text)
			}
		})
	}
}

// TestJobLogOverTheResponseLimit: a log is read through whatever its size,
// holding only its tail, so its true size and end are known.
func TestJobLogOverTheResponseLimit(t *testing.T) {
	e := fakeGitea(t, Options{MaxResponseBytes: 100}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = fmt.Fprint(w, strings.Repeat("x", 500))
	})
	got, err := e.As(testToken).JobLog(t.Context(), "o", "r", 1, 40)
	if err != nil || got.Partial || got.Size != 500 || got.Omitted != 460 || len(got.Text) != 40 {
		t.Fatalf("JobLog = %+v, %v; want all 500 bytes counted and the last 40 kept", got, err)
	}
}
