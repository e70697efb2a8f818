package gitea

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Limits on workflow_dispatch inputs, checked before any request is sent.
const (
	maxDispatchInputs     = 50
	maxDispatchInputValue = 64 << 10
)

// dispatchInputPattern is the alphabet of a workflow_dispatch input name.
var dispatchInputPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,99}$`)

// workflowDispatch is Gitea's CreateActionWorkflowDispatch.
type workflowDispatch struct {
	Ref    string            `json:"ref"`
	Inputs map[string]string `json:"inputs,omitempty"`
}

// DispatchWorkflow starts a run of workflowID (a workflow file name such as
// ci.yml) of owner/repo at ref: a branch name, refs/heads/<branch> or
// refs/tags/<tag> (a bare name is taken as a branch). The workflow must
// have a workflow_dispatch trigger at ref, or Gitea answers
// ErrInvalidRequest; a workflow or ref that does not exist answers
// ErrNotFound, a disabled workflow ErrForbidden. Gitea reads only the
// inputs the workflow declares, takes the default for any left out, and
// ignores the others.
func (c *Client) DispatchWorkflow(ctx context.Context, owner, repo, workflowID, ref string, inputs map[string]string) error {
	p, err := repoPath(owner, repo)
	if err != nil {
		return err
	}
	if !workflowFilePattern.MatchString(workflowID) || strings.HasPrefix(workflowID, ".") {
		return invalid("workflow_id must be a workflow file name such as ci.yml")
	}
	if err := checkNewTag("ref", ref); err != nil {
		return err
	}
	if len(inputs) > maxDispatchInputs {
		return invalid("inputs must hold at most %d entries", maxDispatchInputs)
	}
	for name, value := range inputs {
		if !dispatchInputPattern.MatchString(name) {
			return invalid("input names must be 1-100 letters, digits, '_' or '-', starting with a letter or '_'")
		}
		if err := checkProse("input "+name, value, maxDispatchInputValue); err != nil {
			return err
		}
	}
	_, err = c.send(ctx, http.MethodPost, "POST /api/v1/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
		p+"/actions/workflows/"+url.PathEscape(workflowID)+"/dispatches", nil, workflowDispatch{Ref: ref, Inputs: inputs}, nil)
	return err
}

// RerunWorkflowRun runs all jobs of run runID of owner/repo again, as a new
// attempt. A run that is not done yet answers ErrInvalidRequest.
//
// Gitea 1.27 has no API to cancel a run: that is done in its web UI only.
func (c *Client) RerunWorkflowRun(ctx context.Context, owner, repo string, runID int64) error {
	p, err := repoPath(owner, repo)
	if err != nil {
		return err
	}
	if err := checkActionsID("run_id", runID); err != nil {
		return err
	}
	_, err = c.send(ctx, http.MethodPost, "POST /api/v1/repos/{owner}/{repo}/actions/runs/{run}/rerun",
		p+"/actions/runs/"+strconv.FormatInt(runID, 10)+"/rerun", nil, nil, nil)
	return err
}
