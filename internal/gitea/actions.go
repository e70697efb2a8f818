package gitea

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Workflow is a Gitea Actions workflow file of a repository.
type Workflow struct {
	ID        string    `json:"id"` // the file name, e.g. ci.yml
	Name      string    `json:"name"`
	Path      string    `json:"path"`
	State     string    `json:"state"` // active or disabled_manually
	HTMLURL   string    `json:"html_url"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// WorkflowRun is one run of a workflow.
type WorkflowRun struct {
	ID           int64     `json:"id"`
	RunNumber    int64     `json:"run_number"`
	RunAttempt   int64     `json:"run_attempt"`
	DisplayTitle string    `json:"display_title"`
	Path         string    `json:"path"` // workflow file and ref, e.g. ci.yml@refs/heads/main
	Event        string    `json:"event"`
	Status       string    `json:"status"`     // queued, waiting, in_progress or completed
	Conclusion   string    `json:"conclusion"` // when completed: success, failure, cancelled or skipped
	HeadBranch   string    `json:"head_branch"`
	HeadSHA      string    `json:"head_sha"`
	Actor        User      `json:"actor"`
	TriggerActor User      `json:"trigger_actor"`
	HTMLURL      string    `json:"html_url"`
	StartedAt    time.Time `json:"started_at"` // the Unix epoch or zero until started
	CompletedAt  time.Time `json:"completed_at"`
}

// WorkflowJob is one job of a workflow run.
type WorkflowJob struct {
	ID          int64          `json:"id"`
	RunID       int64          `json:"run_id"`
	RunAttempt  int64          `json:"run_attempt"`
	Name        string         `json:"name"`
	Labels      []string       `json:"labels"`
	Status      string         `json:"status"`
	Conclusion  string         `json:"conclusion"`
	RunnerName  string         `json:"runner_name"`
	HeadBranch  string         `json:"head_branch"`
	HeadSHA     string         `json:"head_sha"`
	Steps       []WorkflowStep `json:"steps"`
	HTMLURL     string         `json:"html_url"`
	CreatedAt   time.Time      `json:"created_at"`
	StartedAt   time.Time      `json:"started_at"`
	CompletedAt time.Time      `json:"completed_at"`
}

// WorkflowStep is one step of a job.
type WorkflowStep struct {
	Number      int64     `json:"number"`
	Name        string    `json:"name"`
	Status      string    `json:"status"`
	Conclusion  string    `json:"conclusion"`
	StartedAt   time.Time `json:"started_at"`
	CompletedAt time.Time `json:"completed_at"`
}

// RunStatuses are the status filters Gitea accepts for runs and jobs.
var RunStatuses = []string{"queued", "waiting", "in_progress", "completed", "success", "failure", "cancelled", "skipped"}

// RunFilter narrows a list of workflow runs. Zero values mean no filter.
type RunFilter struct {
	Workflow string // workflow file name, e.g. ci.yml
	Status   string // one of RunStatuses
	Branch   string
	Event    string // e.g. push, pull_request, schedule, workflow_dispatch
}

var (
	actionsEventPattern = regexp.MustCompile(`^[a-z][a-z_]{0,49}$`)
	workflowFilePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}\.ya?ml$`)
)

func (f RunFilter) check() error {
	if f.Workflow != "" && (!workflowFilePattern.MatchString(f.Workflow) || strings.HasPrefix(f.Workflow, ".")) {
		return invalid("workflow must be a workflow file name such as ci.yml")
	}
	if f.Status != "" && !slices.Contains(RunStatuses, f.Status) {
		return invalid("status must be one of %s", strings.Join(RunStatuses, ", "))
	}
	if f.Event != "" && !actionsEventPattern.MatchString(f.Event) {
		return invalid("event must be an event name such as push or pull_request")
	}
	if f.Branch != "" {
		if err := checkRef(f.Branch); err != nil {
			return invalid("branch must be at most %d bytes without control characters", maxRefLen)
		}
	}
	return nil
}

func checkActionsID(what string, id int64) error {
	if id < 1 {
		return invalid("%s must be a positive id", what)
	}
	return nil
}

// Workflows lists the workflow files of owner/repo's default branch.
func (c *Client) Workflows(ctx context.Context, owner, repo string) ([]Workflow, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	var body struct {
		Workflows []Workflow `json:"workflows"`
	}
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/actions/workflows", p+"/actions/workflows", nil, &body); err != nil {
		return nil, err
	}
	return body.Workflows, nil
}

// ListWorkflowRuns lists the workflow runs of owner/repo, newest first.
func (c *Client) ListWorkflowRuns(ctx context.Context, owner, repo string, f RunFilter, opts ListOptions) ([]WorkflowRun, PageInfo, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, PageInfo{}, err
	}
	if err := f.check(); err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	q := opts.query()
	for k, v := range map[string]string{"status": f.Status, "branch": f.Branch, "event": f.Event} {
		if v != "" {
			q.Set(k, v)
		}
	}
	op, path := "GET /api/v1/repos/{owner}/{repo}/actions/runs", p+"/actions/runs"
	if f.Workflow != "" {
		op, path = "GET /api/v1/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs", p+"/actions/workflows/"+url.PathEscape(f.Workflow)+"/runs"
	}
	var body struct {
		Runs []WorkflowRun `json:"workflow_runs"`
	}
	h, err := c.get(ctx, op, path, q, &body)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return body.Runs, pageInfo(h, opts, len(body.Runs)), nil
}

// WorkflowRun returns run id of owner/repo.
func (c *Client) WorkflowRun(ctx context.Context, owner, repo string, id int64) (*WorkflowRun, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if err := checkActionsID("run_id", id); err != nil {
		return nil, err
	}
	var r WorkflowRun
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/actions/runs/{run}", p+"/actions/runs/"+strconv.FormatInt(id, 10), nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ListWorkflowJobs lists the jobs of run runID of owner/repo.
func (c *Client) ListWorkflowJobs(ctx context.Context, owner, repo string, runID int64, opts ListOptions) ([]WorkflowJob, PageInfo, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, PageInfo{}, err
	}
	if err := checkActionsID("run_id", runID); err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	var body struct {
		Jobs []WorkflowJob `json:"jobs"`
	}
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/actions/runs/{run}/jobs",
		p+"/actions/runs/"+strconv.FormatInt(runID, 10)+"/jobs", opts.query(), &body)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return body.Jobs, pageInfo(h, opts, len(body.Jobs)), nil
}

// WorkflowJob returns job id of owner/repo.
func (c *Client) WorkflowJob(ctx context.Context, owner, repo string, id int64) (*WorkflowJob, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if err := checkActionsID("job_id", id); err != nil {
		return nil, err
	}
	var j WorkflowJob
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/actions/jobs/{job_id}", p+"/actions/jobs/"+strconv.FormatInt(id, 10), nil, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// JobLog is the end of a job's log.
type JobLog struct {
	// Text is the last bytes of the log, starting at a line when it was cut.
	Text string
	// Size is the size of the log in bytes; a lower bound when Partial.
	Size int64
	// Omitted is how many bytes before Text were left out.
	Omitted int64
	// Partial is true when the log is larger than this client reads in one
	// response: Text is then the end of the log's readable beginning.
	Partial bool
}

// logTailSlack is how far past a cut JobLog looks for the next line start.
const logTailSlack = 512

// JobLog returns at most the last limit bytes of the log of job id of
// owner/repo. A job that has not started has no log: Gitea answers not found.
func (c *Client) JobLog(ctx context.Context, owner, repo string, id int64, limit int) (*JobLog, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if err := checkActionsID("job_id", id); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, invalid("limit must be positive")
	}
	// The log is read through so that its size is known; only a little
	// more than its tail is held.
	text, total, err := c.getTail(ctx, "GET /api/v1/repos/{owner}/{repo}/actions/jobs/{job_id}/logs",
		p+"/actions/jobs/"+strconv.FormatInt(id, 10)+"/logs", nil, limit+logTailSlack)
	if err != nil {
		return nil, err
	}
	log := &JobLog{Text: text, Size: total, Partial: total < 0}
	if log.Partial {
		log.Size = maxTailRead
	}
	before := log.Size - int64(len(text)) // bytes the tail read already left out
	if len(text) > limit {
		start := len(text) - limit
		if nl := strings.IndexByte(text[start:min(len(text), start+logTailSlack)], '\n'); nl >= 0 && start+nl+1 < len(text) {
			start += nl + 1
		}
		for start < len(text) && !utf8.RuneStart(text[start]) {
			start++
		}
		log.Text = text[start:]
	}
	log.Omitted = before + int64(len(text)-len(log.Text))
	return log, nil
}
