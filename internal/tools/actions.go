package tools

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

func actionsTools() []*Tool {
	return []*Tool{listWorkflows.Tool(), listWorkflowRuns.Tool(), getWorkflowRun.Tool(), listWorkflowJobs.Tool(), getJobLog.Tool()}
}

// actUnsupported starts the text of a 404 from an Actions list endpoint on
// a repository the caller can see.
const actUnsupported = "Gitea Actions is disabled for this repository or this Gitea version does not support "

// actErr explains an Actions failure. A 403 means the Actions unit is off
// or unreadable for the caller. A 404 on a repository the caller can see
// gets the text missing: the item, or the endpoint, does not exist.
func (e *Env) actErr(ctx context.Context, r RepoRef, missing string, err error) error {
	switch {
	case errors.Is(err, gitea.ErrForbidden):
		return Notice("Gitea Actions is disabled for this repository, or your account may not read its Actions.")
	case errors.Is(err, gitea.ErrNotFound) && e.relRepoVisible(ctx, r):
		return Notice(missing)
	}
	return err
}

// actMissing is the 404 text for one run or job.
func actMissing(what string, id int64) string {
	return fmt.Sprintf("not found: this repository has no %s %d (or Gitea Actions is disabled for it, or this Gitea version does not support this Actions API).", what, id)
}

// actTime drops zero times and the Unix-epoch placeholder Gitea gives
// what has not started or finished.
func actTime(t time.Time) *time.Time {
	if t.Unix() <= 0 {
		return nil
	}
	return &t
}

type workflowOut struct {
	File  string   `json:"file"`
	Name  UserText `json:"name"` // from the file: empty when withheld
	Path  string   `json:"path"`
	State string   `json:"state"`
	// Withheld is "policy" for a workflow file the policy withholds.
	Withheld string `json:"withheld,omitempty"`
}

type workflowListOut struct {
	Workflows []workflowOut `json:"workflows"`
	Note      string        `json:"note,omitempty"`
}

var listWorkflows = Def[RepoRef, workflowListOut]{
	Name:   "list_workflows",
	Title:  "List Actions workflows",
	Desc:   "Workflow files on the default branch (.gitea/workflows, .github/workflows): file, name, path, state.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaActions,
	Run: func(ctx context.Context, e *Env, in RepoRef) (workflowListOut, error) {
		wfs, err := e.Workflows(ctx, in.Owner, in.Repo)
		if err != nil {
			return workflowListOut{}, e.actErr(ctx, in, actUnsupported+"listing workflows.", err)
		}
		out := workflowListOut{Workflows: compact(wfs, func(w *gitea.Workflow) workflowOut {
			wo := workflowOut{File: w.ID, Path: w.Path, State: w.State, Withheld: e.withheld(in.Owner, in.Repo, w.Path)}
			if wo.Withheld == "" {
				wo.Name = UserText(w.Name)
			}
			return wo
		})}
		if len(wfs) == 0 {
			out.Note = "this repository has no workflow files on its default branch."
		}
		return out, nil
	},
}

// runOut is a workflow run, compact.
type runOut struct {
	ID          int64      `json:"id"`
	Number      int64      `json:"run_number"`
	Title       UserText   `json:"title"`
	Workflow    string     `json:"workflow"`
	Event       string     `json:"event"`
	Status      string     `json:"status"`
	Conclusion  string     `json:"conclusion,omitempty"`
	Branch      string     `json:"branch,omitempty"`
	SHA         string     `json:"sha"`
	Actor       string     `json:"actor,omitempty"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
}

func actRun(r *gitea.WorkflowRun) runOut {
	file, _, _ := strings.Cut(r.Path, "@")
	return runOut{ID: r.ID, Number: r.RunNumber, Title: UserText(r.DisplayTitle), Workflow: file, Event: r.Event, Status: r.Status,
		Conclusion: r.Conclusion, Branch: r.HeadBranch, SHA: r.HeadSHA, Actor: r.Actor.Login,
		StartedAt: actTime(r.StartedAt), CompletedAt: actTime(r.CompletedAt)}
}

type listWorkflowRunsIn struct {
	RepoRef
	Workflow string `json:"workflow,omitempty" jsonschema:"file name, e.g. ci.yml"`
	Status   string `json:"status,omitempty" jsonschema:"state or result"`
	Branch   string `json:"branch,omitempty"`
	Event    string `json:"event,omitempty" jsonschema:"e.g. push, pull_request"`
	Paging
}

type runListOut struct {
	Runs []runOut `json:"runs"`
	PageOut
	Note string `json:"note,omitempty"`
}

var listWorkflowRuns = Def[listWorkflowRunsIn, runListOut]{
	Name:   "list_workflow_runs",
	Title:  "List Actions workflow runs",
	Desc:   "Runs, newest first: id, title, workflow, event, status and conclusion, branch, commit. A run's jobs: list_workflow_jobs.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaActions,
	Schema: func(s *jsonschema.Schema) {
		boundPage(s)
		s.Properties["status"].Enum = make([]any, len(gitea.RunStatuses))
		for i, st := range gitea.RunStatuses {
			s.Properties["status"].Enum[i] = st
		}
	},
	Run: func(ctx context.Context, e *Env, in listWorkflowRunsIn) (runListOut, error) {
		f := gitea.RunFilter{Workflow: in.Workflow, Status: in.Status, Branch: in.Branch, Event: in.Event}
		runs, info, err := e.ListWorkflowRuns(ctx, in.Owner, in.Repo, f, in.options())
		if err != nil {
			missing := actUnsupported + "listing workflow runs."
			if in.Workflow != "" {
				missing = "not found: this repository has no workflow file " + in.Workflow + " (list_workflows shows them), or " + missing
			}
			return runListOut{}, e.actErr(ctx, in.RepoRef, missing, err)
		}
		out := runListOut{Runs: compact(runs, actRun), PageOut: pageOut(info)}
		switch {
		case len(runs) > 0:
		case f != gitea.RunFilter{}:
			out.Note = "no workflow runs match these filters."
		default:
			out.Note = "this repository has no workflow runs."
		}
		return out, nil
	},
}

type runIn struct {
	RepoRef
	RunID int64 `json:"run_id" jsonschema:"from list_workflow_runs"`
}

type runDetailOut struct {
	runOut
	Attempt   int64  `json:"attempt,omitempty"`
	Path      string `json:"path"`
	TriggerBy string `json:"triggered_by,omitempty"`
	URL       string `json:"url"`
}

func actMinOne(names ...string) func(*jsonschema.Schema) {
	return func(s *jsonschema.Schema) {
		one := 1.0
		for _, n := range names {
			s.Properties[n].Minimum = &one
		}
	}
}

var getWorkflowRun = Def[runIn, runDetailOut]{
	Name:   "get_workflow_run",
	Title:  "Get an Actions workflow run",
	Desc:   "Title, workflow, trigger, status and conclusion, commit, timing. Its jobs: list_workflow_jobs.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaActions,
	Schema: actMinOne("run_id"),
	Run: func(ctx context.Context, e *Env, in runIn) (runDetailOut, error) {
		r, err := e.WorkflowRun(ctx, in.Owner, in.Repo, in.RunID)
		if err != nil {
			return runDetailOut{}, e.actErr(ctx, in.RepoRef, actMissing("workflow run", in.RunID), err)
		}
		return runDetailOut{runOut: actRun(r), Attempt: r.RunAttempt, Path: r.Path, TriggerBy: r.TriggerActor.Login, URL: r.HTMLURL}, nil
	},
}

type jobOut struct {
	ID          int64      `json:"id"`
	Name        UserText   `json:"name"`
	Status      string     `json:"status"`
	Conclusion  string     `json:"conclusion,omitempty"`
	Labels      []string   `json:"labels,omitempty"`
	Runner      string     `json:"runner,omitempty"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	Steps       []stepOut  `json:"steps,omitempty"`
}

type stepOut struct {
	Number     int64    `json:"number"`
	Name       UserText `json:"name"`
	Status     string   `json:"status"`
	Conclusion string   `json:"conclusion,omitempty"`
}

type listWorkflowJobsIn struct {
	RepoRef
	RunID int64 `json:"run_id" jsonschema:"from list_workflow_runs"`
	Paging
}

type jobListOut struct {
	Jobs []jobOut `json:"jobs"`
	PageOut
	Note string `json:"note,omitempty"`
}

var listWorkflowJobs = Def[listWorkflowJobsIn, jobListOut]{
	Name:   "list_workflow_jobs",
	Title:  "List the jobs of a workflow run",
	Desc:   "Jobs: id, name, status and conclusion, runner, timing, steps. A job's log: get_job_log.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaActions,
	Schema: func(s *jsonschema.Schema) { boundPage(s); actMinOne("run_id")(s) },
	Run: func(ctx context.Context, e *Env, in listWorkflowJobsIn) (jobListOut, error) {
		jobs, info, err := e.ListWorkflowJobs(ctx, in.Owner, in.Repo, in.RunID, in.options())
		if err != nil {
			return jobListOut{}, e.actErr(ctx, in.RepoRef, actMissing("workflow run", in.RunID), err)
		}
		out := jobListOut{Jobs: compact(jobs, func(j *gitea.WorkflowJob) jobOut {
			o := jobOut{ID: j.ID, Name: UserText(j.Name), Status: j.Status, Conclusion: j.Conclusion, Labels: j.Labels,
				Runner: j.RunnerName, StartedAt: actTime(j.StartedAt), CompletedAt: actTime(j.CompletedAt)}
			for _, s := range j.Steps {
				o.Steps = append(o.Steps, stepOut{Number: s.Number, Name: UserText(s.Name), Status: s.Status, Conclusion: s.Conclusion})
			}
			return o
		}), PageOut: pageOut(info)}
		if len(jobs) == 0 {
			out.Note = "this run has no jobs on this page."
		}
		return out, nil
	},
}

// Bounds of get_job_log's tail_bytes.
const (
	actMinTail     = 1000
	actMaxTail     = 60000
	actDefaultTail = 16000
)

type getJobLogIn struct {
	RepoRef
	JobID     int64 `json:"job_id" jsonschema:"from list_workflow_jobs"`
	TailBytes int   `json:"tail_bytes,omitempty" jsonschema:"from the log's end"`
}

type jobLogOut struct {
	JobID        int64    `json:"job_id"`
	Status       string   `json:"status,omitempty"`
	Log          UserText `json:"log,omitempty"`
	SizeBytes    int64    `json:"size_bytes,omitempty"`
	OmittedBytes int64    `json:"omitted_bytes,omitempty"`
	Truncated    bool     `json:"truncated,omitempty"`
	Note         string   `json:"note,omitempty"`
}

var getJobLog = Def[getJobLogIn, jobLogOut]{
	Name:   "get_job_log",
	Title:  "Get the end of a job's log",
	Desc:   "The log's end, where failures show; says how many earlier bytes were left out. Secrets masked; a job not yet started has no log.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaActions,
	Schema: func(s *jsonschema.Schema) {
		actMinOne("job_id")(s)
		lo, hi, def := float64(actMinTail), float64(actMaxTail), actDefaultTail
		s.Properties["tail_bytes"].Minimum, s.Properties["tail_bytes"].Maximum = &lo, &hi
		s.Properties["tail_bytes"].Default = []byte(fmt.Sprint(def))
	},
	Run: func(ctx context.Context, e *Env, in getJobLogIn) (jobLogOut, error) {
		tail := min(cmp.Or(in.TailBytes, actDefaultTail), e.TextBudget())
		log, err := e.JobLog(ctx, in.Owner, in.Repo, in.JobID, tail)
		if errors.Is(err, gitea.ErrNotFound) {
			// Gitea answers 404 for a job without a log too: ask for the job.
			job, jerr := e.WorkflowJob(ctx, in.Owner, in.Repo, in.JobID)
			if jerr != nil {
				return jobLogOut{}, e.actErr(ctx, in.RepoRef, actMissing("job", in.JobID), jerr)
			}
			out := jobLogOut{JobID: job.ID, Status: job.Status}
			if job.Status == "queued" || job.Status == "waiting" {
				out.Note = "no log yet: the job has not started (status " + job.Status + "); it runs once a runner picks it up."
			} else {
				out.Note = "Gitea has no log for this job: it has not started yet, or its log expired or was removed."
			}
			return out, nil
		}
		if err != nil {
			return jobLogOut{}, e.actErr(ctx, in.RepoRef, actMissing("job", in.JobID), err)
		}
		out := jobLogOut{JobID: in.JobID, SizeBytes: log.Size, OmittedBytes: log.Omitted}
		var notes []string
		if log.Partial {
			notes = append(notes, fmt.Sprintf("the log is larger than the %d bytes this server reads: shown is the end of its readable beginning", log.Size))
		}
		if log.Omitted > 0 {
			notes = append(notes, fmt.Sprintf("the first %d of %d bytes were left out", log.Omitted, log.Size))
			if tail < min(actMaxTail, e.TextBudget()) {
				notes = append(notes, fmt.Sprintf("raise tail_bytes (up to %d) to see more", min(actMaxTail, e.TextBudget())))
			}
		}
		text, cut, note, err := e.Content(log.Text)
		if err != nil {
			return jobLogOut{}, err
		}
		if note != "" {
			notes = append(notes, note)
		}
		if cut {
			notes = append(notes, "the shown part was cut to fit the output budget")
		}
		text, dropped := actFitTail(text, e.TextBudget())
		out.OmittedBytes += int64(dropped)
		if dropped > 0 {
			notes = append(notes, fmt.Sprintf("%d more bytes were left out to fit the output budget", dropped))
		}
		out.Log, out.Truncated, out.Note = text, cut || out.OmittedBytes > 0 || log.Partial, strings.Join(notes, "; ")
		if log.Size == 0 {
			out.Note = "the log is empty."
		}
		return out, nil
	},
}

// actFitTail drops as little of the beginning of a log as makes its JSON
// form fit limit bytes: escaping (newlines, quotes, <, >, &) makes the JSON
// longer than the text.
func actFitTail(t UserText, limit int) (UserText, int) {
	fits := func(s UserText) bool {
		b, err := json.Marshal(s)
		return err == nil && len(b) <= limit
	}
	if fits(t) {
		return t, 0
	}
	starts := make([]int, 0, len(t)+1)
	for i := range string(t) {
		starts = append(starts, i)
	}
	starts = append(starts, len(t))
	i := min(sort.Search(len(starts), func(i int) bool { return fits(t[starts[i]:]) }), len(starts)-1)
	return t[starts[i]:], starts[i]
}
