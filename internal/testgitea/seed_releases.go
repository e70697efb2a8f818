package testgitea

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// The seeded releases, workflow and wiki, on [BobPublicRepo] unless said otherwise.
const (
	// ReleaseTag is a published release with notes ReleaseNotes and one
	// asset, ReleaseAsset; it is the repository's latest release.
	ReleaseTag   = "v1.0.0"
	ReleaseName  = "Website 1.0"
	ReleaseNotes = "First stable release.\n\n- New landing page\n- Faster builds\n"
	ReleaseAsset = "checksums.txt"
	// ReleaseAssetContent is ReleaseAsset's content.
	ReleaseAssetContent = "0123abcd  website-1.0.0.tar.gz\n"
	// PrereleaseTag is a prerelease without notes, created after ReleaseTag.
	PrereleaseTag  = "v1.1.0-rc.1"
	PrereleaseName = "Website 1.1 RC1"
	// DraftReleaseName is a draft: only tokens that may write the repository see it.
	DraftReleaseName = "Website 2.0 draft"
	// PrivateReleaseTag is a release of [BobPrivateRepo].
	PrivateReleaseTag = "v0.1.0"

	// WorkflowFile is a Gitea Actions workflow run on pushes to main, with
	// two jobs. A runner registered by the seed ran WorkflowJob, which
	// failed with the log JobLog; no runner can take WorkflowQueuedJob, so
	// it stays queued, and so does the run.
	WorkflowFile      = ".gitea/workflows/ci.yml"
	WorkflowName      = "CI"
	WorkflowJob       = "build"
	WorkflowQueuedJob = "deploy"
	// JobLogSecret appears in JobLog's last lines; tools must mask it.
	JobLogSecret = "AKIAIOSFODNN7EXAMPLE" // #nosec G101 -- AWS's documented example key, a fixture for masking
	// JobLogLastLine is the last line of JobLog.
	JobLogLastLine = "error: build failed with exit code 2"

	// WikiHome and WikiDeploy are wiki pages; WikiDeploySubURL is the name
	// Gitea gives WikiDeploy in URLs.
	WikiHome         = "Home"
	WikiHomeContent  = "# Website wiki\n\nStart with the [[Deployment Guide]] page.\n"
	WikiDeploy       = "Deployment Guide"
	WikiDeploySubURL = "Deployment-Guide"
	WikiDeployBody   = "Deploy with `make deploy` after the CI run is green.\n"
)

// workflowYAML is WorkflowFile's content.
const workflowYAML = `name: ` + WorkflowName + `
on:
  push:
    branches: [main]
jobs:
  ` + WorkflowJob + `:
    runs-on: ubuntu-latest
    steps:
      - run: make build
  ` + WorkflowQueuedJob + `:
    runs-on: no-such-runner
    steps:
      - run: make deploy
`

// JobLog is the log the seed's runner reports for WorkflowJob, one string
// per line: 200 lines of progress, then the failure.
func JobLog() []string {
	lines := make([]string, 0, 203)
	for i := range 200 {
		lines = append(lines, fmt.Sprintf("compiling module %03d of 200", i+1))
	}
	return append(lines, "deploy key: "+JobLogSecret, "make: *** [build] Error 2", JobLogLastLine)
}

// seedReleases runs three independent strands at once, as wiki and git
// writes are slow: releases, wiki pages, and the workflow with its run.
func (g *Gitea) seedReleases(ctx context.Context) error {
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return g.seedReleaseList(ctx) })
	eg.Go(func() error { return g.seedWiki(ctx) })
	eg.Go(func() error {
		// The workflow runs on pushes to main only: the release tags,
		// created meanwhile, do not trigger it.
		if err := g.putFile(ctx, BobName, BobPublicRepo, WorkflowFile, workflowYAML, ""); err != nil {
			return err
		}
		if err := g.waitForRun(ctx, websitePath); err != nil {
			return err
		}
		return g.runJob(ctx)
	})
	return eg.Wait()
}

const websitePath = "/api/v1/repos/" + BobName + "/" + BobPublicRepo

func (g *Gitea) seedReleaseList(ctx context.Context) error {
	var rel struct{ ID int64 }
	releases := []map[string]any{
		{"tag_name": ReleaseTag, "name": ReleaseName, "body": ReleaseNotes, "target_commitish": "main"},
		{"tag_name": PrereleaseTag, "name": PrereleaseName, "prerelease": true, "target_commitish": "main"},
		{"tag_name": "v2.0.0", "name": DraftReleaseName, "draft": true, "target_commitish": "main"},
	}
	for i, body := range releases {
		var out struct{ ID int64 }
		if err := g.api(ctx, apiCall{method: http.MethodPost, path: websitePath + "/releases", sudo: BobName,
			want: http.StatusCreated, body: body}, &out); err != nil {
			return err
		}
		if i == 0 {
			rel = out
		}
	}
	if err := g.uploadAsset(ctx, websitePath+fmt.Sprintf("/releases/%d/assets", rel.ID), ReleaseAsset, ReleaseAssetContent); err != nil {
		return err
	}
	return g.api(ctx, apiCall{method: http.MethodPost, path: "/api/v1/repos/" + BobName + "/" + BobPrivateRepo + "/releases",
		sudo: BobName, want: http.StatusCreated, body: map[string]any{"tag_name": PrivateReleaseTag, "name": "Secret release",
			"body": "Not for alice.", "target_commitish": "main"}}, nil)
}

func (g *Gitea) seedWiki(ctx context.Context) error {
	for _, page := range [][2]string{{WikiHome, WikiHomeContent}, {WikiDeploy, WikiDeployBody}} {
		err := g.api(ctx, apiCall{method: http.MethodPost, path: websitePath + "/wiki/new", sudo: BobName, want: http.StatusCreated,
			body: map[string]any{"title": page[0], "content_base64": base64.StdEncoding.EncodeToString([]byte(page[1])),
				"message": "Add " + page[0]}}, nil)
		if err != nil {
			return err
		}
	}
	return nil
}

// uploadAsset attaches a file to a release as its owner.
func (g *Gitea) uploadAsset(ctx context.Context, path, name, content string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL+path+"?name="+url.QueryEscape(name), strings.NewReader(content))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.SetBasicAuth(g.Admin.Name, g.Admin.Password)
	req.Header.Set("Sudo", BobName)
	resp, err := g.http.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST %s: status %d, want %d", path, resp.StatusCode, http.StatusCreated)
	}
	return nil
}

// waitForRun waits until the workflow push has produced its run: Gitea
// detects workflows asynchronously, and tests must find the run there.
func (g *Gitea) waitForRun(ctx context.Context, repoPath string) error {
	deadline := time.Now().Add(60 * time.Second) // generous: a slow CI machine must not fail every test here
	for {
		var runs struct {
			TotalCount int64 `json:"total_count"`
		}
		if err := g.api(ctx, apiCall{method: http.MethodGet, path: repoPath + "/actions/runs", want: http.StatusOK}, &runs); err != nil {
			return err
		}
		if runs.TotalCount > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no Actions run for %s after pushing %s", repoPath, WorkflowFile)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// runJob plays a runner, through Gitea's real runner protocol (Connect,
// JSON encoded): it registers for bob/website with the label
// "ubuntu-latest", takes WorkflowJob, reports JobLog and a failure.
func (g *Gitea) runJob(ctx context.Context) error {
	var reg struct {
		Token string `json:"token"`
	}
	err := g.api(ctx, apiCall{method: http.MethodPost, path: websitePath + "/actions/runners/registration-token", want: http.StatusOK}, &reg)
	if err != nil {
		return err
	}
	var runner struct {
		Runner seedRunner `json:"runner"`
	}
	err = g.runnerCall(ctx, "Register", nil, map[string]any{"name": "seed-runner", "token": reg.Token,
		"labels": []string{"ubuntu-latest"}, "version": "seed"}, &runner)
	if err != nil {
		return err
	}
	auth := &runner.Runner
	var fetched struct {
		Task *struct {
			ID json.Number `json:"id"`
		} `json:"task"`
	}
	// Gitea hands the job to runners once it has queued it, which can lag
	// the run's creation on a busy machine: ask again for a while.
	for deadline := time.Now().Add(30 * time.Second); fetched.Task == nil; {
		if err := g.runnerCall(ctx, "FetchTask", auth, map[string]any{"tasksVersion": 0}, &fetched); err != nil {
			return err
		}
		if fetched.Task != nil {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the seed runner was given no task within 30 s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	at := time.Now().UTC().Format(time.RFC3339)
	var rows []map[string]any
	for _, line := range JobLog() {
		rows = append(rows, map[string]any{"time": at, "content": line})
	}
	err = g.runnerCall(ctx, "UpdateLog", auth, map[string]any{"taskId": fetched.Task.ID, "index": 0, "rows": rows, "noMore": true}, nil)
	if err != nil {
		return err
	}
	step := map[string]any{"id": 0, "result": "RESULT_FAILURE", "startedAt": at, "stoppedAt": at, "logIndex": 0, "logLength": len(rows)}
	return g.runnerCall(ctx, "UpdateTask", auth, map[string]any{"state": map[string]any{"id": fetched.Task.ID,
		"result": "RESULT_FAILURE", "startedAt": at, "stoppedAt": at, "steps": []any{step}}}, nil)
}

// seedRunner is the runner the seed registered.
type seedRunner struct {
	UUID  string `json:"uuid"`
	Token string `json:"token"`
}

// runnerCall is one unary call of Gitea's runner service; auth is the
// registered runner, nil for Register.
func (g *Gitea) runnerCall(ctx context.Context, method string, auth *seedRunner, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	path := "/api/actions/runner.v1.RunnerService/" + method
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connect-Protocol-Version", "1")
	if auth != nil {
		req.Header.Set("x-runner-uuid", auth.UUID)
		req.Header.Set("x-runner-token", auth.Token)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: status %d: %s", path, resp.StatusCode, tail(string(b), 5))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("POST %s: decoding: %w", path, err)
		}
	}
	return nil
}
