package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// The pull request write tools: open, edit, merge, ask for and give reviews,
// comment.
func pullWriteTools() []*Tool {
	return []*Tool{
		createPullRequest.Tool(), updatePullRequest.Tool(), mergePullRequest.Tool(),
		requestReviewers.Tool(), createPullRequestReview.Tool(), createPRComment.Tool(),
	}
}

var (
	writePullScopes = []gitea.Scope{gitea.ScopeWriteRepository}
	// Label names are resolved through the repository's labels, which
	// Gitea files under the issue scope, and a milestone is removed through
	// the issue behind the pull request; a write tool can only declare
	// write scopes, and write:issue implies read:issue.
	writePullTrackerScopes = []gitea.Scope{gitea.ScopeWriteRepository, gitea.ScopeWriteIssue}
)

// pullWriteOut is a pull request after a change: what Gitea stored, which
// may be less than asked (Gitea drops labels, milestone and assignees set by
// users who may not write pull requests).
type pullWriteOut struct {
	Number    int64      `json:"number"`
	Title     UserText   `json:"title"`
	State     string     `json:"state"`
	Merged    bool       `json:"merged,omitempty"`
	Draft     bool       `json:"draft,omitempty"`
	Head      pullRefOut `json:"head"`
	Base      string     `json:"base"`
	Labels    []string   `json:"labels,omitempty"`
	Assignees []string   `json:"assignees,omitempty"`
	Milestone UserText   `json:"milestone,omitempty"`
	URL       string     `json:"url"`
}

func pullWritten(pr *gitea.PullRequest) pullWriteOut {
	base := ""
	if pr.Base.Repo != nil {
		base = pr.Base.Repo.FullName
	}
	out := pullWriteOut{Number: pr.Number, Title: UserText(pr.Title), State: pr.State, Merged: pr.Merged, Draft: pr.Draft,
		Head: compactPullRef(pr.Head, base), Base: pr.Base.Ref, URL: pr.HTMLURL}
	for _, l := range pr.Labels {
		out.Labels = append(out.Labels, l.Name)
	}
	for _, a := range pr.Assignees {
		out.Assignees = append(out.Assignees, a.Login)
	}
	if pr.Milestone != nil {
		out.Milestone = UserText(pr.Milestone.Title)
	}
	return out
}

type createPullIn struct {
	RepoRef
	Title     string   `json:"title"`
	Body      string   `json:"body,omitempty"`
	Head      string   `json:"head" jsonschema:"branch, or owner:branch of a fork"`
	Base      string   `json:"base" jsonschema:"target branch"`
	Assignees []string `json:"assignees,omitempty"`
	Labels    []string `json:"labels,omitempty" jsonschema:"names"`
	Milestone int64    `json:"milestone,omitempty" jsonschema:"id"`
}

// relatedRepos is the fork a head "owner:branch" (or Gitea's
// "owner/repo:branch") names: another owner's repository, its name unknown
// beforehand for "owner:branch".
func (in createPullIn) relatedRepos() []RepoName {
	owner, _, fork := strings.Cut(in.Head, ":")
	if !fork || owner == "" {
		return nil
	}
	if o, r, named := strings.Cut(owner, "/"); named {
		if strings.EqualFold(o, in.Owner) && strings.EqualFold(r, in.Repo) {
			return nil
		}
		return []RepoName{{Owner: o, Repo: r}}
	}
	if strings.EqualFold(owner, in.Owner) {
		return nil // Gitea reads the base owner's own name as the base repository
	}
	return []RepoName{{Owner: owner}}
}

var createPullRequest = Def[createPullIn, pullWriteOut]{
	Name:   "create_pull_request",
	Title:  "Create a pull request",
	Desc:   "Opens a pull request from head into base.",
	Scopes: writePullTrackerScopes,
	Access: Write,
	Area:   AreaPulls,
	Run: func(ctx context.Context, e *Env, in createPullIn) (pullWriteOut, error) {
		labels, err := e.LabelIDs(ctx, in.Owner, in.Repo, in.Labels)
		if err != nil {
			return pullWriteOut{}, err
		}
		pr, err := e.CreatePullRequest(ctx, in.Owner, in.Repo, gitea.PullCreate{Title: in.Title, Body: in.Body, Head: in.Head,
			Base: in.Base, Assignees: in.Assignees, Labels: labels, Milestone: in.Milestone})
		if err != nil {
			return pullWriteOut{}, err
		}
		return pullWritten(pr), nil
	},
}

type updatePullIn struct {
	RepoRef
	Number    int64     `json:"number" jsonschema:"pull request number"`
	Title     *string   `json:"title,omitempty"`
	Body      *string   `json:"body,omitempty"`
	State     *string   `json:"state,omitempty"`
	Base      *string   `json:"base,omitempty" jsonschema:"target branch"`
	Assignees *[]string `json:"assignees,omitempty" jsonschema:"[] clears"`
	Labels    *[]string `json:"labels,omitempty" jsonschema:"names; [] clears"`
	Milestone *int64    `json:"milestone,omitempty" jsonschema:"id; 0 clears"`
}

var updatePullRequest = Def[updatePullIn, pullWriteOut]{
	Name:       "update_pull_request",
	Title:      "Update a pull request",
	Desc:       "Edits a pull request; omitted fields stay.",
	Scopes:     writePullTrackerScopes,
	Access:     Write,
	Area:       AreaPulls,
	Idempotent: true,
	Schema: func(s *jsonschema.Schema) {
		trackerBounds(s)
		s.Properties["state"].Enum = []any{"open", "closed"}
		zero := 0.0
		s.Properties["milestone"].Minimum = &zero
	},
	Run: func(ctx context.Context, e *Env, in updatePullIn) (pullWriteOut, error) {
		edit := gitea.PullEdit{Title: in.Title, Body: in.Body, State: in.State, Base: in.Base, Assignees: in.Assignees,
			Milestone: in.Milestone}
		if in.Labels != nil {
			ids, err := e.LabelIDs(ctx, in.Owner, in.Repo, *in.Labels)
			if err != nil {
				return pullWriteOut{}, err
			}
			edit.Labels = &ids
		}
		pr, err := e.EditPullRequest(ctx, in.Owner, in.Repo, in.Number, edit)
		if err != nil {
			return pullWriteOut{}, err
		}
		return pullWritten(pr), nil
	},
}

type mergePullIn struct {
	RepoRef
	Number       int64  `json:"number" jsonschema:"pull request number"`
	Style        string `json:"style"`
	HeadSHA      string `json:"head_sha" jsonschema:"full head SHA from get_pull_request"`
	Title        string `json:"title,omitempty" jsonschema:"commit subject"`
	Message      string `json:"message,omitempty" jsonschema:"commit body"`
	DeleteBranch bool   `json:"delete_branch,omitempty" jsonschema:"delete the head branch"`
}

type mergeOut struct {
	Number      int64  `json:"number"`
	Merged      bool   `json:"merged"`
	MergeCommit string `json:"merge_commit,omitempty"`
	URL         string `json:"url,omitempty"`
	Note        string `json:"note,omitempty"`
}

// Why a merge did not happen, in words the model can act on.
const (
	staleHeadText = "the pull request's head moved since you read it: nothing was merged; read it again " +
		"(get_pull_request), review the new commits and merge with the new head_sha"
	notMergeableText = "Gitea refused to merge it now: nothing was merged. It may be merged already, a draft, conflicting, " +
		"still being checked (retry in a moment), blocked by branch protection or missing approvals, " +
		"or this style is not allowed in the repository: read it with get_pull_request"
	mergeConflictText = "Gitea could not merge it (merge conflicts, the base branch moved, or a hook rejected the push): " +
		"nothing was merged; read it again with get_pull_request"
	mergeNotFoundText = "not found: no such open pull request, or your account cannot see it (Gitea answers so for a closed one too). " +
		"Nothing was merged."
	forkBranchText = "delete_branch would delete a branch in the fork the head comes from, another repository than this call's: " +
		"nothing was merged; merge without delete_branch"
)

func pullShortSHA(sha string) string {
	if len(sha) > 10 {
		return sha[:10]
	}
	return sha
}

var mergePullRequest = Def[mergePullIn, mergeOut]{
	Name:   "merge_pull_request",
	Title:  "Merge a pull request",
	Desc:   "Merges a pull request if its head is still head_sha.",
	Scopes: writePullScopes,
	Access: Destructive,
	Area:   AreaPulls,
	Schema: func(s *jsonschema.Schema) {
		trackerBounds(s)
		s.Properties["style"].Enum = trackerEnum(gitea.MergeStyles)
		s.Properties["head_sha"].Pattern = fullSHAPattern // refused before the human is asked
	},
	Confirm: func(in mergePullIn) string {
		q := fmt.Sprintf("Merge pull request #%d in %s/%s (%s, head %s)", in.Number, in.Owner, in.Repo, in.Style, pullShortSHA(in.HeadSHA))
		if in.DeleteBranch {
			q += " and delete its head branch"
		}
		return q + "?"
	},
	Run: func(ctx context.Context, e *Env, in mergePullIn) (mergeOut, error) {
		if in.DeleteBranch {
			pr, err := e.PullRequest(ctx, in.Owner, in.Repo, in.Number)
			if err != nil {
				return mergeOut{}, mergeError(err)
			}
			if pr.Head.Repo != nil && pr.Base.Repo != nil && !strings.EqualFold(pr.Head.Repo.FullName, pr.Base.Repo.FullName) {
				return mergeOut{}, Notice(forkBranchText)
			}
		}
		err := e.MergePullRequest(ctx, in.Owner, in.Repo, in.Number, gitea.Merge{Style: in.Style, Title: in.Title, Message: in.Message,
			HeadCommitID: in.HeadSHA, DeleteBranchAfterMerge: in.DeleteBranch})
		if err != nil {
			return mergeOut{}, mergeError(err)
		}
		out := mergeOut{Number: in.Number, Merged: true}
		pr, err := e.PullRequest(ctx, in.Owner, in.Repo, in.Number)
		if err != nil {
			out.Note = "merged; reading it back failed: get_pull_request shows the merge commit"
			return out, nil
		}
		out.MergeCommit, out.URL = pr.MergeCommitSHA, pr.HTMLURL
		return out, nil
	},
}

// mergeError words a refused merge; nothing was merged in any case.
func mergeError(err error) error {
	switch {
	case errors.Is(err, gitea.ErrStaleHead):
		return Notice(staleHeadText)
	case errors.Is(err, gitea.ErrNotMergeable):
		return Notice(notMergeableText)
	case errors.Is(err, gitea.ErrConflict):
		return Notice(mergeConflictText)
	case errors.Is(err, gitea.ErrNotFound):
		return Notice(mergeNotFoundText)
	}
	return err
}

// fullSHAPattern is a full commit SHA, SHA-1 or SHA-256.
const fullSHAPattern = "^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$"

type requestReviewersIn struct {
	RepoRef
	Number        int64    `json:"number" jsonschema:"pull request number"`
	Reviewers     []string `json:"reviewers,omitempty" jsonschema:"user names"`
	TeamReviewers []string `json:"team_reviewers,omitempty" jsonschema:"team names"`
}

type reviewersOut struct {
	Number int64 `json:"number"`
	// Reviewers is everyone asked to review or having reviewed, now.
	Reviewers []string `json:"reviewers"`
}

var requestReviewers = Def[requestReviewersIn, reviewersOut]{
	Name:       "request_reviewers",
	Title:      "Request reviewers",
	Desc:       "Asks users or teams to review a pull request.",
	Scopes:     writePullScopes,
	Access:     Write,
	Area:       AreaPulls,
	Idempotent: true,
	Schema:     trackerBounds,
	Run: func(ctx context.Context, e *Env, in requestReviewersIn) (reviewersOut, error) {
		if err := e.RequestReviewers(ctx, in.Owner, in.Repo, in.Number, in.Reviewers, in.TeamReviewers); err != nil {
			return reviewersOut{}, err
		}
		pr, err := e.PullRequest(ctx, in.Owner, in.Repo, in.Number)
		if err != nil {
			return reviewersOut{}, err
		}
		out := reviewersOut{Number: in.Number, Reviewers: []string{}}
		for _, r := range pr.RequestedReviewers {
			out.Reviewers = append(out.Reviewers, r.Login)
		}
		for _, t := range pr.RequestedTeams {
			out.Reviewers = append(out.Reviewers, "team "+t.Name)
		}
		return out, nil
	},
}

type reviewCommentIn struct {
	Path    string `json:"path"`
	Body    string `json:"body"`
	NewLine int64  `json:"new_line,omitempty" jsonschema:"new file line"`
	OldLine int64  `json:"old_line,omitempty" jsonschema:"old file line (removed)"`
}

type createReviewIn struct {
	RepoRef
	Number   int64             `json:"number" jsonschema:"pull request number"`
	Event    string            `json:"event"`
	Body     string            `json:"body,omitempty"`
	CommitID string            `json:"commit_id,omitempty" jsonschema:"full SHA; default the head"`
	Comments []reviewCommentIn `json:"comments,omitempty" jsonschema:"line comments"`
}

type reviewWriteOut struct {
	ID     int64  `json:"id"`
	State  string `json:"state"`
	Commit string `json:"commit,omitempty"`
	URL    string `json:"url,omitempty"`
}

// reviewEvents maps the tool's events to Gitea's.
var reviewEvents = map[string]string{
	"approve":         gitea.ReviewEventApprove,
	"request_changes": gitea.ReviewEventRequestChanges,
	"comment":         gitea.ReviewEventComment,
}

var createPullRequestReview = Def[createReviewIn, reviewWriteOut]{
	Name:   "create_pull_request_review",
	Title:  "Review a pull request",
	Desc:   "Submits a review, optionally with line comments.",
	Scopes: writePullScopes,
	Access: Write,
	Area:   AreaPulls,
	Schema: func(s *jsonschema.Schema) {
		trackerBounds(s)
		s.Properties["event"].Enum = []any{"approve", "request_changes", "comment"}
	},
	Run: func(ctx context.Context, e *Env, in createReviewIn) (reviewWriteOut, error) {
		r := gitea.ReviewCreate{Event: reviewEvents[in.Event], Body: in.Body, CommitID: in.CommitID}
		for _, c := range in.Comments {
			r.Comments = append(r.Comments, gitea.ReviewComment{Path: c.Path, Body: c.Body, NewLine: c.NewLine, OldLine: c.OldLine})
		}
		rv, err := e.CreatePullReview(ctx, in.Owner, in.Repo, in.Number, r)
		if err != nil {
			return reviewWriteOut{}, err
		}
		return reviewWriteOut{ID: rv.ID, State: rv.State, Commit: rv.CommitID, URL: rv.HTMLURL}, nil
	},
}

var createPRComment = Def[createCommentIn, commentWriteOut]{
	Name:   "create_pr_comment",
	Title:  "Comment on a pull request",
	Desc:   "Adds a comment to a pull request's conversation.",
	Scopes: writeIssueScopes, // Gitea files it as a comment on the issue behind the pull request
	Access: Write,
	Area:   AreaPulls,
	Schema: trackerBounds,
	Run:    addComment,
}
