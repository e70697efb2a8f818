package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// gwrRunner plays an Actions runner for one repository through Gitea's
// runner protocol (Connect, JSON), as the seed does.
type gwrRunner struct {
	g     *testgitea.Gitea
	uuid  string
	token string
}

func gwrRegisterRunner(t *testing.T, g *testgitea.Gitea, apiPath, label string) *gwrRunner {
	t.Helper()
	var reg struct {
		Token string `json:"token"`
	}
	if err := g.AdminDo(t.Context(), http.MethodPost, apiPath+"/actions/runners/registration-token", "", nil, http.StatusOK, &reg); err != nil {
		t.Fatalf("runner registration token: %v", err)
	}
	r := &gwrRunner{g: g}
	var out struct {
		Runner struct {
			UUID  string `json:"uuid"`
			Token string `json:"token"`
		} `json:"runner"`
	}
	r.call(t, "Register", map[string]any{"name": "gwr-runner", "token": reg.Token, "labels": []string{label}, "version": "test"}, &out)
	r.uuid, r.token = out.Runner.UUID, out.Runner.Token
	return r
}

func (r *gwrRunner) call(t *testing.T, method string, body, out any) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.g.URL+"/api/actions/runner.v1.RunnerService/"+method, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connect-Protocol-Version", "1")
	if r.uuid != "" {
		req.Header.Set("x-runner-uuid", r.uuid)
		req.Header.Set("x-runner-token", r.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("runner %s: %v", method, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("runner %s: status %d: %s", method, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("runner %s: %v", method, err)
		}
	}
}

// gwrTask is the part of a fetched task the test reads.
type gwrTask struct {
	ID      json.Number `json:"id"`
	Context struct {
		EventName string `json:"event_name"`
		Ref       string `json:"ref"`
		Event     struct {
			Inputs map[string]any `json:"inputs"`
		} `json:"event"`
	} `json:"context"`
}

// take fetches the next task, waiting for Gitea to queue it.
func (r *gwrRunner) take(t *testing.T) gwrTask {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		var fetched struct {
			Task *gwrTask `json:"task"`
		}
		r.call(t, "FetchTask", map[string]any{"tasksVersion": 0}, &fetched)
		if fetched.Task != nil {
			return *fetched.Task
		}
		if time.Now().After(deadline) {
			t.Fatal("the runner was given no task within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *gwrRunner) finish(t *testing.T, task gwrTask) {
	t.Helper()
	at := time.Now().UTC().Format(time.RFC3339)
	r.call(t, "UpdateTask", map[string]any{"state": map[string]any{"id": task.ID, "result": "RESULT_SUCCESS", "startedAt": at, "stoppedAt": at}}, nil)
}

type gwrRun struct {
	ID         int64  `json:"id"`
	RunAttempt int64  `json:"run_attempt"`
	Path       string `json:"path"`
	Event      string `json:"event"`
	Status     string `json:"status"`
	Conclusion string `json:"conclusion"`
	HeadBranch string `json:"head_branch"`
	HeadSHA    string `json:"head_sha"`
	Trigger    struct {
		Login string `json:"login"`
	} `json:"trigger_actor"`
}

func gwrRuns(t *testing.T, g *testgitea.Gitea, p string) []gwrRun {
	t.Helper()
	var body struct {
		Runs []gwrRun `json:"workflow_runs"`
	}
	if err := g.AdminGet(t.Context(), p+"/actions/runs", http.StatusOK, &body); err != nil {
		t.Fatalf("listing runs: %v", err)
	}
	return body.Runs
}

// gwrRunStatus waits until run id of p has status want.
func gwrRunStatus(t *testing.T, g *testgitea.Gitea, p string, id int64, want string) gwrRun {
	t.Helper()
	var run gwrRun
	for deadline := time.Now().Add(30 * time.Second); ; {
		if err := g.AdminGet(t.Context(), fmt.Sprintf("%s/actions/runs/%d", p, id), http.StatusOK, &run); err != nil {
			t.Fatal(err)
		}
		if run.Status == want {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d: status %q after 30 s, want %q", id, run.Status, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const gwrManualWorkflow = `name: Manual
on:
  workflow_dispatch:
    inputs:
      greeting:
        description: what to say
        default: hi
      mode:
        default: fast
jobs:
  hello:
    runs-on: gwr-test-label
    steps:
      - run: echo hello
`

// gwrPushWorkflow runs on pushes to a branch that does not exist: it never
// runs and cannot be dispatched.
const gwrPushWorkflow = `name: Push only
on:
  push:
    branches: [no-such-branch]
jobs:
  build:
    runs-on: gwr-test-label
    steps:
      - run: make
`

func TestGiteaWriteReleasesActions(t *testing.T) {
	g := needGitea(t)
	ctx := t.Context()
	cl := gwrSetup(t, g)
	name, p := gwrNewRepo(t, g, "wf")
	owner := testgitea.AliceName
	for file, content := range map[string]string{".gitea/workflows/manual.yml": gwrManualWorkflow, ".gitea/workflows/push.yml": gwrPushWorkflow} {
		if err := g.PutFile(ctx, owner, name, file, content, ""); err != nil {
			t.Fatalf("PutFile %s: %v", file, err)
		}
	}
	var branch struct {
		Commit struct {
			ID string `json:"id"`
		} `json:"commit"`
	}
	if err := g.AdminGet(ctx, p+"/branches/main", http.StatusOK, &branch); err != nil {
		t.Fatal(err)
	}

	// Refusals and Gitea's answers for what does not exist: no run is made.
	inputs := map[string]string{"greeting": "hello", "undeclared": "ignored"}
	gwrWant(t, "bob's dispatch", cl.bob.DispatchWorkflow(ctx, owner, name, "manual.yml", "main", nil), gitea.ErrNotFound)
	gwrWant(t, "dispatch with a read-scope token", cl.readTok.DispatchWorkflow(ctx, owner, name, "manual.yml", "main", nil), gitea.ErrForbidden)
	gwrWant(t, "dispatch on a read-only client", cl.readOnly.DispatchWorkflow(ctx, owner, name, "manual.yml", "main", nil), gitea.ErrReadOnly)
	gwrWant(t, "dispatch of a missing workflow", cl.writer.DispatchWorkflow(ctx, owner, name, "nope.yml", "main", nil), gitea.ErrNotFound)
	gwrWant(t, "dispatch at a missing branch", cl.writer.DispatchWorkflow(ctx, owner, name, "manual.yml", "no-such-branch", nil), gitea.ErrNotFound)
	gwrWant(t, "dispatch of a workflow without workflow_dispatch", cl.writer.DispatchWorkflow(ctx, owner, name, "push.yml", "main", nil), gitea.ErrInvalidRequest)
	if err := g.AdminDo(ctx, http.MethodPut, p+"/actions/workflows/manual.yml/disable", owner, nil, http.StatusNoContent, nil); err != nil {
		t.Fatal(err)
	}
	gwrWant(t, "dispatch of a disabled workflow", cl.writer.DispatchWorkflow(ctx, owner, name, "manual.yml", "main", nil), gitea.ErrForbidden)
	if err := g.AdminDo(ctx, http.MethodPut, p+"/actions/workflows/manual.yml/enable", owner, nil, http.StatusNoContent, nil); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, workflow, ref string
		inputs              map[string]string
	}{
		{"workflow path", "../manual.yml", "main", nil},
		{"workflow not yaml", "manual.txt", "main", nil},
		{"empty ref", "manual.yml", "", nil},
		{"ref with ..", "manual.yml", "main..x", nil},
		{"ref with leading dash", "manual.yml", "-main", nil},
		{"input name with space", "manual.yml", "main", map[string]string{"bad name": "x"}},
		{"input value with control character", "manual.yml", "main", map[string]string{"greeting": "\x07"}},
	} {
		gwrWant(t, tt.name, cl.writer.DispatchWorkflow(ctx, owner, name, tt.workflow, tt.ref, tt.inputs), gitea.ErrInvalidArgument)
	}
	if runs := gwrRuns(t, g, p); len(runs) != 0 {
		t.Fatalf("runs after refused dispatches = %+v, want none", runs)
	}

	// A dispatch makes a run; the runner sees the declared inputs, with
	// defaults for those left out, and not the others.
	if err := cl.writer.DispatchWorkflow(ctx, owner, name, "manual.yml", "main", inputs); err != nil {
		t.Fatalf("DispatchWorkflow: %v", err)
	}
	runs := gwrRuns(t, g, p)
	if len(runs) != 1 {
		t.Fatalf("runs after the dispatch = %+v, want one", runs)
	}
	run := runs[0]
	if run.Event != "workflow_dispatch" || run.Path != "manual.yml@refs/heads/main" || run.HeadBranch != "main" ||
		run.HeadSHA != branch.Commit.ID || run.Trigger.Login != owner || run.Status == "completed" {
		t.Errorf("dispatched run = %+v", run)
	}

	// A run that is not done cannot be run again.
	gwrWant(t, "rerun of an unfinished run", cl.writer.RerunWorkflowRun(ctx, owner, name, run.ID), gitea.ErrInvalidRequest)

	runner := gwrRegisterRunner(t, g, p, "gwr-test-label")
	task := runner.take(t)
	if task.Context.EventName != "workflow_dispatch" || task.Context.Ref != "refs/heads/main" ||
		fmt.Sprint(task.Context.Event.Inputs) != "map[greeting:hello mode:fast]" {
		t.Errorf("the dispatched task: event %q, ref %q, inputs %v; want greeting hello, mode fast (default), nothing else",
			task.Context.EventName, task.Context.Ref, task.Context.Event.Inputs)
	}
	runner.finish(t, task)
	done := gwrRunStatus(t, g, p, run.ID, "completed")
	if done.Conclusion != "success" || done.RunAttempt != 1 {
		t.Errorf("finished run = %+v, want attempt 1, success", done)
	}

	// Rerun: refusals leave the run as it is.
	gwrWant(t, "bob's rerun", cl.bob.RerunWorkflowRun(ctx, owner, name, run.ID), gitea.ErrNotFound)
	gwrWant(t, "rerun with a read-scope token", cl.readTok.RerunWorkflowRun(ctx, owner, name, run.ID), gitea.ErrForbidden)
	gwrWant(t, "rerun on a read-only client", cl.readOnly.RerunWorkflowRun(ctx, owner, name, run.ID), gitea.ErrReadOnly)
	gwrWant(t, "rerun of run 0", cl.writer.RerunWorkflowRun(ctx, owner, name, 0), gitea.ErrInvalidArgument)
	gwrWant(t, "rerun of a missing run", cl.writer.RerunWorkflowRun(ctx, owner, name, 999999), gitea.ErrNotFound)
	if still := gwrRunStatus(t, g, p, run.ID, "completed"); still.RunAttempt != 1 {
		t.Errorf("run after refused reruns = %+v, want attempt 1", still)
	}

	if err := cl.writer.RerunWorkflowRun(ctx, owner, name, run.ID); err != nil {
		t.Fatalf("RerunWorkflowRun: %v", err)
	}
	var again gwrRun
	if err := g.AdminGet(ctx, fmt.Sprintf("%s/actions/runs/%d", p, run.ID), http.StatusOK, &again); err != nil {
		t.Fatal(err)
	}
	if again.RunAttempt != 2 || again.Status == "completed" {
		t.Errorf("run after the rerun = %+v, want attempt 2, not completed", again)
	}
	task2 := runner.take(t)
	if task2.ID == task.ID || fmt.Sprint(task2.Context.Event.Inputs) != "map[greeting:hello mode:fast]" {
		t.Errorf("the rerun's task = %+v, want a new task with the same inputs", task2)
	}
	runner.finish(t, task2)
	if final := gwrRunStatus(t, g, p, run.ID, "completed"); final.RunAttempt != 2 || final.Conclusion != "success" {
		t.Errorf("rerun finished = %+v, want attempt 2, success", final)
	}
	if runs := gwrRuns(t, g, p); len(runs) != 1 {
		t.Errorf("runs after the rerun = %d, want the same one run", len(runs))
	}
}

// TestGiteaWriteReleasesNoCancelAPI pins that Gitea 1.27 has no REST route
// to cancel a run (the web UI's is not part of the API), which is why the
// client has no CancelWorkflowRun: a route Gitea lacks answers a plain-text
// 404, unlike a missing run on a route it has. If this fails, Gitea added
// the route.
func TestGiteaWriteReleasesNoCancelAPI(t *testing.T) {
	g := needGitea(t)
	tok := oauthToken(t, g, testgitea.AliceName, gwrWriteScope).AccessToken
	post := func(path string) (int, string, string) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, g.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "token "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	p := "/api/v1/repos/" + testgitea.AliceName + "/" + testgitea.AliceRepo + "/actions/runs/999999"
	if status, ctype, body := post(p + "/cancel"); status != http.StatusNotFound || strings.HasPrefix(ctype, "application/json") || !strings.Contains(body, "page not found") {
		t.Errorf("POST .../runs/{run}/cancel = %d %s %q, want the router's plain 404", status, ctype, body)
	}
	if status, ctype, body := post(p + "/rerun"); status != http.StatusNotFound || !strings.HasPrefix(ctype, "application/json") || !strings.Contains(body, "does not exist") {
		t.Errorf("POST .../runs/{run}/rerun = %d %s %q, want a JSON not-found for the run", status, ctype, body)
	}
}
