package tools

import (
	"context"
	"errors"
	"fmt"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// Gitea 1.27 has no API to cancel a run, so there is no cancel tool.

type dispatchWorkflowIn struct {
	RepoRef
	Workflow string            `json:"workflow" jsonschema:"file, e.g. ci.yml"`
	Ref      string            `json:"ref" jsonschema:"branch or refs/tags/TAG"`
	Inputs   map[string]string `json:"inputs,omitempty"`
}

type dispatchOut struct {
	Started string `json:"started"`
	Note    string `json:"note"`
}

var dispatchWorkflow = Def[dispatchWorkflowIn, dispatchOut]{
	Name:   "dispatch_workflow",
	Title:  "Dispatch a workflow",
	Desc:   "Runs a workflow that has a workflow_dispatch trigger.",
	Scopes: relWriteScopes,
	Access: Write,
	Area:   AreaActions,
	Run: func(ctx context.Context, e *Env, in dispatchWorkflowIn) (dispatchOut, error) {
		err := e.DispatchWorkflow(ctx, in.Owner, in.Repo, in.Workflow, in.Ref, in.Inputs)
		switch {
		case errors.Is(err, gitea.ErrNotFound) && e.relRepoVisible(ctx, in.RepoRef):
			return dispatchOut{}, Notice("not found: this repository has no such workflow file (list_workflows shows them) or branch or tag, " +
				"or Gitea Actions is disabled for it. Nothing was started.")
		case errors.Is(err, gitea.ErrInvalidRequest):
			return dispatchOut{}, Notice("Gitea refused to start it: the workflow has no workflow_dispatch trigger at this ref, " +
				"or an input is not valid. Nothing was started.")
		case errors.Is(err, gitea.ErrForbidden):
			return dispatchOut{}, Notice("forbidden: the workflow is disabled, or your account or token may not run this repository's workflows. " +
				"Nothing was started.")
		case err != nil:
			return dispatchOut{}, err
		}
		return dispatchOut{Started: in.Workflow + " at " + in.Ref,
			Note: "Gitea gives no run id: list_workflow_runs with workflow " + in.Workflow + " shows the new run first."}, nil
	},
}

type rerunOut struct {
	ID      int64  `json:"id"`
	Attempt int64  `json:"attempt,omitempty"`
	Status  string `json:"status,omitempty"`
	URL     string `json:"url,omitempty"`
	Note    string `json:"note,omitempty"`
}

type rerunIn struct {
	RepoRef
	RunID int64 `json:"run_id" jsonschema:"run id (list_workflow_runs)"`
}

var rerunWorkflowRun = Def[rerunIn, rerunOut]{
	Name:   "rerun_workflow_run",
	Title:  "Rerun a workflow run",
	Desc:   "Reruns a finished run as a new attempt.",
	Scopes: relWriteScopes,
	Access: Write,
	Area:   AreaActions,
	Schema: actMinOne("run_id"),
	Run: func(ctx context.Context, e *Env, in rerunIn) (rerunOut, error) {
		err := e.RerunWorkflowRun(ctx, in.Owner, in.Repo, in.RunID)
		switch {
		case errors.Is(err, gitea.ErrNotFound) && e.relRepoVisible(ctx, in.RepoRef):
			return rerunOut{}, Notice(actMissing("workflow run", in.RunID))
		case errors.Is(err, gitea.ErrInvalidRequest):
			return rerunOut{}, Notice(fmt.Sprintf("run %d is not finished: only a finished run can be rerun. Nothing was changed.", in.RunID))
		case err != nil:
			return rerunOut{}, err
		}
		r, err := e.WorkflowRun(ctx, in.Owner, in.Repo, in.RunID)
		if err != nil { // the rerun was made; only the read-back failed
			return rerunOut{ID: in.RunID, Note: "rerun started; get_workflow_run shows its progress."}, nil
		}
		return rerunOut{ID: r.ID, Attempt: r.RunAttempt, Status: r.Status, URL: r.HTMLURL}, nil
	},
}
