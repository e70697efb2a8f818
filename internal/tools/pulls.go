package tools

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

func pullTools() []*Tool {
	return []*Tool{
		listPullRequests.Tool(), getPullRequest.Tool(), getPullRequestDiff.Tool(), listPullRequestFiles.Tool(),
		listPullRequestCommits.Tool(), listPullRequestReviews.Tool(), listReviewComments.Tool(),
	}
}

type pullRefOut struct {
	Ref  string `json:"ref"`
	SHA  string `json:"sha,omitempty"`
	Repo string `json:"repository,omitempty"` // owner/repo, for a pull request from a fork
}

func compactPullRef(r gitea.PullRequestRef, base string) pullRefOut {
	out := pullRefOut{Ref: r.Ref, SHA: r.SHA}
	if r.Repo != nil && r.Repo.FullName != base {
		out.Repo = r.Repo.FullName
	}
	return out
}

// pullSummary is a pull request in a list: no body.
type pullSummary struct {
	Number    int64      `json:"number"`
	Title     UserText   `json:"title"`
	State     string     `json:"state"`
	Draft     bool       `json:"draft,omitempty"`
	Merged    bool       `json:"merged,omitempty"`
	Author    string     `json:"author"`
	Head      pullRefOut `json:"head"`
	Base      pullRefOut `json:"base"`
	Labels    []string   `json:"labels,omitempty"`
	Comments  int        `json:"comments,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`
}

func summarizePull(pr *gitea.PullRequest) pullSummary {
	base := ""
	if pr.Base.Repo != nil {
		base = pr.Base.Repo.FullName
	}
	s := pullSummary{Number: pr.Number, Title: UserText(pr.Title), State: pr.State, Draft: pr.Draft, Merged: pr.Merged,
		Author: pr.User.Login, Head: compactPullRef(pr.Head, base), Base: compactPullRef(pr.Base, base),
		Comments: pr.Comments, UpdatedAt: pr.UpdatedAt}
	s.Head.SHA, s.Base.SHA = "", "" // in get_pull_request
	s.Base.Repo = ""
	for _, l := range pr.Labels {
		s.Labels = append(s.Labels, l.Name)
	}
	return s
}

type listPullRequestsIn struct {
	RepoRef
	State  string `json:"state,omitempty" jsonschema:"default open"`
	Sort   string `json:"sort,omitempty" jsonschema:"default newest"`
	Base   string `json:"base,omitempty" jsonschema:"target branch"`
	Author string `json:"author,omitempty" jsonschema:"login"`
	Paging
}

type pullListOut struct {
	PullRequests []pullSummary `json:"pull_requests"`
	PageOut
}

var listPullRequests = Def[listPullRequestsIn, pullListOut]{
	Name:   "list_pull_requests",
	Title:  "List pull requests",
	Desc:   "Pull requests: number, title, state, draft, merged, author, head and base branches, labels. Read one: get_pull_request.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaPulls,
	Schema: func(s *jsonschema.Schema) {
		boundPage(s)
		s.Properties["state"].Enum = []any{"open", "closed", "all"}
		s.Properties["sort"].Enum = append([]any{"newest"}, trackerEnum(gitea.PullSorts)...)
	},
	Run: func(ctx context.Context, e *Env, in listPullRequestsIn) (pullListOut, error) {
		sort := in.Sort
		if sort == "newest" {
			sort = ""
		}
		pulls, info, err := e.PullRequests(ctx, in.Owner, in.Repo, gitea.PullFilter{State: in.State, Sort: sort, Base: in.Base, Author: in.Author}, in.options())
		if err != nil {
			return pullListOut{}, err
		}
		return pullListOut{PullRequests: compact(pulls, summarizePull), PageOut: pageOut(info)}, nil
	},
}

func trackerEnum(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

type pullNumberIn struct {
	RepoRef
	Number int64 `json:"number"`
}

type pullOut struct {
	pullSummary
	Body          UserText   `json:"body,omitempty"`
	BodyTruncated bool       `json:"body_truncated,omitempty"`
	Mergeable     bool       `json:"mergeable"`
	Locked        bool       `json:"locked,omitempty"`
	MergedAt      *time.Time `json:"merged_at,omitempty"`
	MergedBy      string     `json:"merged_by,omitempty"`
	MergeCommit   string     `json:"merge_commit,omitempty"`
	MergeBase     string     `json:"merge_base,omitempty"`
	Assignees     []string   `json:"assignees,omitempty"`
	Milestone     UserText   `json:"milestone,omitempty"`
	// Reviewers are Gitea's requested_reviewers: everyone asked to review
	// or having reviewed (latest review each, dismissed ones left out).
	Reviewers      []string   `json:"reviewers,omitempty"`
	ReviewComments int        `json:"review_comments,omitempty"`
	ChangedFiles   int        `json:"changed_files"`
	Additions      int        `json:"additions"`
	Deletions      int        `json:"deletions"`
	CreatedAt      time.Time  `json:"created_at"`
	ClosedAt       *time.Time `json:"closed_at,omitempty"`
	URL            string     `json:"url"`
}

var getPullRequest = Def[pullNumberIn, pullOut]{
	Name:   "get_pull_request",
	Title:  "Get a pull request",
	Desc:   "Title, body (untrusted), state, draft, mergeable, merged, head and base refs and SHAs, author, reviewers, file, line and comment counts. Diff: get_pull_request_diff.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaPulls,
	Schema: trackerBounds,
	Run: func(ctx context.Context, e *Env, in pullNumberIn) (pullOut, error) {
		pr, err := e.PullRequest(ctx, in.Owner, in.Repo, in.Number)
		if err != nil {
			return pullOut{}, err
		}
		base := ""
		if pr.Base.Repo != nil {
			base = pr.Base.Repo.FullName
		}
		body, cut := Cut(pr.Body, e.TextBudget())
		out := pullOut{pullSummary: summarizePull(pr), Body: UserText(body), BodyTruncated: cut, Mergeable: pr.Mergeable, Locked: pr.IsLocked,
			MergedAt: pr.MergedAt, MergeBase: pr.MergeBase, ReviewComments: pr.ReviewComments, ChangedFiles: pr.ChangedFiles,
			Additions: pr.Additions, Deletions: pr.Deletions, CreatedAt: pr.CreatedAt, ClosedAt: pr.ClosedAt, URL: pr.HTMLURL}
		out.Head, out.Base = compactPullRef(pr.Head, base), compactPullRef(pr.Base, base)
		if pr.Merged {
			out.MergeCommit = pr.MergeCommitSHA
			if pr.MergedBy != nil {
				out.MergedBy = pr.MergedBy.Login
			}
		}
		for _, a := range pr.Assignees {
			out.Assignees = append(out.Assignees, a.Login)
		}
		if pr.Milestone != nil {
			out.Milestone = UserText(pr.Milestone.Title)
		}
		for _, r := range pr.RequestedReviewers {
			out.Reviewers = append(out.Reviewers, r.Login)
		}
		for _, t := range pr.RequestedTeams {
			out.Reviewers = append(out.Reviewers, "team "+t.Name)
		}
		return out, nil
	},
}

type getPullRequestDiffIn struct {
	pullNumberIn
	File string `json:"file,omitempty" jsonschema:"a changed file's path: only its diff"`
}

type pullDiffOut struct {
	File      string   `json:"file,omitempty"`
	Diff      UserText `json:"diff"`
	Truncated bool     `json:"truncated,omitempty"`
	Withheld  []string `json:"withheld,omitempty"` // files the policy withholds, their parts removed from diff
	Note      string   `json:"note,omitempty"`
}

// maxDiffFetch bounds how much of a diff is read to find one file's part;
// it is read as a stream, keeping the part only (see diffFileSection).
const maxDiffFetch = 8 << 20

var getPullRequestDiff = Def[getPullRequestDiffIn, pullDiffOut]{
	Name:   "get_pull_request_diff",
	Title:  "Get a pull request's diff",
	Desc:   "Unified diff, or one file's part. Long diffs are cut (truncated): then ask for one file at a time (see list_pull_request_files). Secrets masked.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaPulls,
	Schema: func(s *jsonschema.Schema) {
		trackerBounds(s)
		maxPath := 4096
		s.Properties["file"].MaxLength = &maxPath
	},
	Run: func(ctx context.Context, e *Env, in getPullRequestDiffIn) (pullDiffOut, error) {
		if in.File != "" && !e.PathAllowed(in.Owner, in.Repo, in.File) {
			return pullDiffOut{File: in.File, Withheld: []string{in.File}, Note: withheldNote(1)}, nil
		}
		var (
			diff     string
			fetchCut bool
			err      error
		)
		if in.File == "" {
			diff, fetchCut, err = e.PullRequestDiff(ctx, in.Owner, in.Repo, in.Number, e.TextBudget())
		} else {
			// The diff is read as a stream: only the file's part is kept,
			// and of it no more than the output can show (diffKeep).
			var found, partCut bool
			fetchCut, err = e.ReadPullRequestDiff(ctx, in.Owner, in.Repo, in.Number, maxDiffFetch, func(r io.Reader) error {
				var err error
				diff, found, partCut, err = diffFileSection(r, in.File, diffKeep(e))
				return err
			})
			if err == nil && !found {
				problem := "is not a file this pull request changes (see list_pull_request_files)"
				if fetchCut {
					problem = fmt.Sprintf("was not found in the first %d MiB of the diff (see list_pull_request_files)", maxDiffFetch>>20)
				}
				return pullDiffOut{}, &ArgumentError{Field: "file", Problem: problem}
			}
			fetchCut = partCut
		}
		if err != nil {
			return pullDiffOut{}, err
		}
		out := pullDiffOut{File: in.File}
		diff, out.Withheld = e.withholdDiff(in.Owner, in.Repo, diff)
		var cut bool
		if out.Diff, cut, out.Note, err = e.Content(diff); err != nil {
			return pullDiffOut{}, err
		}
		out.Note = joinNotes(out.Note, withheldNote(len(out.Withheld)))
		if out.Truncated = cut || fetchCut; out.Truncated {
			advice := "the diff was cut to fit the output budget: list the changed files with list_pull_request_files " +
				"and ask for one at a time with file"
			if in.File != "" {
				advice = "this file's diff was cut to fit the output budget; read the file itself at the head SHA for the rest"
			}
			out.Note = strings.TrimPrefix(out.Note+"; "+advice, "; ")
		}
		return out, nil
	},
}

type listPullPageIn struct {
	pullNumberIn
	Paging
}

type pullFileOut struct {
	Filename         string `json:"filename"`
	PreviousFilename string `json:"previous_filename,omitempty"`
	Status           string `json:"status"`
	Additions        int    `json:"additions"` // zero when withheld, as are deletions and changes
	Deletions        int    `json:"deletions"`
	Changes          int    `json:"changes"`
	Withheld         string `json:"withheld,omitempty"` // "policy": named, nothing more shown
}

type pullFileListOut struct {
	Files []pullFileOut `json:"files"`
	PageOut
}

var listPullRequestFiles = Def[listPullPageIn, pullFileListOut]{
	Name:   "list_pull_request_files",
	Title:  "List a pull request's files",
	Desc:   "Changed files: filename, status (added, modified, deleted, renamed), lines added and deleted. One file's diff: get_pull_request_diff file.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaPulls,
	Schema: trackerBounds,
	Run: func(ctx context.Context, e *Env, in listPullPageIn) (pullFileListOut, error) {
		files, info, err := e.PullRequestFiles(ctx, in.Owner, in.Repo, in.Number, in.options())
		if err != nil {
			return pullFileListOut{}, err
		}
		return pullFileListOut{Files: compact(files, func(f *gitea.PullRequestFile) pullFileOut {
			out := pullFileOut{Filename: f.Filename, PreviousFilename: f.PreviousFilename, Status: f.Status}
			if out.Withheld = e.withheld(in.Owner, in.Repo, f.Filename); out.Withheld == "" && f.PreviousFilename != "" {
				out.Withheld = e.withheld(in.Owner, in.Repo, f.PreviousFilename)
			}
			if out.Withheld == "" {
				out.Additions, out.Deletions, out.Changes = f.Additions, f.Deletions, f.Changes
			}
			return out
		}), PageOut: pageOut(info)}, nil
	},
}

type pullCommitOut struct {
	SHA       string    `json:"sha"`
	Author    UserText  `json:"author"`
	Date      time.Time `json:"date"`
	Message   UserText  `json:"message"`
	Truncated bool      `json:"truncated,omitempty"`
	Additions int       `json:"additions,omitempty"`
	Deletions int       `json:"deletions,omitempty"`
}

type pullCommitListOut struct {
	Commits []pullCommitOut `json:"commits"`
	PageOut
	Note string `json:"note,omitempty"`
}

var listPullRequestCommits = Def[listPullPageIn, pullCommitListOut]{
	Name:   "list_pull_request_commits",
	Title:  "List a pull request's commits",
	Desc:   "Commits, oldest first: SHA, author, date, message (untrusted), lines added and deleted.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaPulls,
	Schema: trackerBounds,
	Run: func(ctx context.Context, e *Env, in listPullPageIn) (pullCommitListOut, error) {
		commits, info, err := e.PullRequestCommits(ctx, in.Owner, in.Repo, in.Number, in.options())
		if err != nil {
			return pullCommitListOut{}, err
		}
		out := pullCommitListOut{Commits: make([]pullCommitOut, 0, len(commits)), PageOut: pageOut(info)}
		share := trackerShare(e, len(commits))
		for _, c := range commits {
			msg, cut := Cut(strings.TrimSpace(c.Commit.Message), share)
			co := pullCommitOut{SHA: c.SHA, Author: UserText(c.Commit.Author.Name), Date: c.Commit.Author.Date, Message: UserText(msg), Truncated: cut}
			if c.Author != nil && c.Author.Login != "" {
				co.Author = UserText(c.Author.Login)
			}
			if c.Stats != nil {
				co.Additions, co.Deletions = c.Stats.Additions, c.Stats.Deletions
			}
			if cut {
				out.Note = trackerCutNote
			}
			out.Commits = append(out.Commits, co)
		}
		return out, nil
	},
}

type reviewOut struct {
	ID          int64     `json:"id"`
	Reviewer    string    `json:"reviewer"`
	State       string    `json:"state"`
	Body        UserText  `json:"body,omitempty"`
	Truncated   bool      `json:"truncated,omitempty"`
	Comments    int       `json:"comments,omitempty"` // line comments: list_review_comments
	Commit      string    `json:"commit,omitempty"`
	Stale       bool      `json:"stale,omitempty"`
	Dismissed   bool      `json:"dismissed,omitempty"`
	Official    bool      `json:"official,omitempty"`
	SubmittedAt time.Time `json:"submitted_at"`
}

type reviewListOut struct {
	Reviews []reviewOut `json:"reviews"`
	PageOut
	Note string `json:"note,omitempty"`
}

var listPullRequestReviews = Def[listPullPageIn, reviewListOut]{
	Name:   "list_pull_request_reviews",
	Title:  "List a pull request's reviews",
	Desc:   "Reviews: id, reviewer, state (APPROVED, REQUEST_CHANGES, COMMENT, PENDING, REQUEST_REVIEW), body (untrusted), comment count, time. Line comments: list_review_comments.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaPulls,
	Schema: trackerBounds,
	Run: func(ctx context.Context, e *Env, in listPullPageIn) (reviewListOut, error) {
		reviews, info, err := e.PullReviews(ctx, in.Owner, in.Repo, in.Number, in.options())
		if err != nil {
			return reviewListOut{}, err
		}
		out := reviewListOut{Reviews: make([]reviewOut, 0, len(reviews)), PageOut: pageOut(info)}
		share := trackerShare(e, len(reviews))
		for _, r := range reviews {
			body, cut := Cut(r.Body, share)
			ro := reviewOut{ID: r.ID, State: r.State, Body: UserText(body), Truncated: cut, Comments: r.Comments, Commit: r.CommitID,
				Stale: r.Stale, Dismissed: r.Dismissed, Official: r.Official, SubmittedAt: r.SubmittedAt}
			switch {
			case r.User != nil:
				ro.Reviewer = r.User.Login
			case r.Team != nil:
				ro.Reviewer = "team " + r.Team.Name
			}
			if cut {
				out.Note = trackerCutNote
			}
			out.Reviews = append(out.Reviews, ro)
		}
		return out, nil
	},
}

type listReviewCommentsIn struct {
	pullNumberIn
	ReviewID int64 `json:"review_id" jsonschema:"from list_pull_request_reviews"`
	Paging
}

type reviewCommentOut struct {
	ID        int64     `json:"id"`
	Author    string    `json:"author"`
	Path      string    `json:"path"`
	Line      int       `json:"line,omitempty"`     // in the new file
	OldLine   int       `json:"old_line,omitempty"` // in the old file, for a removed line
	Body      UserText  `json:"body"`
	Truncated bool      `json:"truncated,omitempty"`
	DiffHunk  UserText  `json:"diff_hunk,omitempty"` // its last lines, ending at the commented line
	Resolved  bool      `json:"resolved,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Withheld is "policy" on a comment on a file the policy withholds:
	// the file's lines (diff_hunk) are not shown, the comment is.
	Withheld string `json:"withheld,omitempty"`
}

type reviewCommentListOut struct {
	Comments []reviewCommentOut `json:"comments"`
	PageOut
	Note string `json:"note,omitempty"`
}

// Review comment hunks keep their end, the lines around the comment.
const (
	hunkLines = 6
	hunkBytes = 800
)

var listReviewComments = Def[listReviewCommentsIn, reviewCommentListOut]{
	Name:   "list_review_comments",
	Title:  "List a review's line comments",
	Desc:   "One review's line comments: path, line, body (untrusted), end of the diff hunk, resolved or not.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaPulls,
	Schema: trackerBounds,
	Run: func(ctx context.Context, e *Env, in listReviewCommentsIn) (reviewCommentListOut, error) {
		all, err := e.PullReviewComments(ctx, in.Owner, in.Repo, in.Number, in.ReviewID)
		if err != nil {
			return reviewCommentListOut{}, err
		}
		page, info := trackerPage(all, in.options())
		out := reviewCommentListOut{Comments: make([]reviewCommentOut, 0, len(page)), PageOut: pageOut(info)}
		share := trackerShare(e, len(page)) - hunkBytes
		for _, c := range page {
			body, cut := Cut(c.Body, max(share, 256))
			co := reviewCommentOut{ID: c.ID, Path: c.Path, Line: c.Line, OldLine: c.OldLine, Body: UserText(body), Truncated: cut,
				Resolved: c.Resolver != nil, CreatedAt: c.CreatedAt}
			if c.User != nil {
				co.Author = c.User.Login
			}
			// The hunk is repository content: secrets in it are masked, or
			// the hunk left out when the server withholds such content or
			// the policy the file.
			co.Withheld = e.withheld(in.Owner, in.Repo, c.Path)
			if hunk, _, _, err := e.Content(hunkTail(c.DiffHunk)); err == nil && co.Withheld == "" {
				co.DiffHunk = hunk
			}
			if cut {
				out.Note = trackerCutNote
			}
			out.Comments = append(out.Comments, co)
		}
		return out, nil
	},
}

// hunkTail keeps the last lines of a diff hunk, within hunkBytes.
func hunkTail(hunk string) string {
	lines := strings.Split(strings.TrimRight(hunk, "\n"), "\n")
	lines = lines[max(0, len(lines)-hunkLines):]
	for i := range lines {
		lines[i], _ = Cut(lines[i], hunkBytes/hunkLines)
	}
	return strings.Join(lines, "\n")
}
