package tools

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/textsafe"
)

func commitTools() []*Tool {
	return []*Tool{listCommits.Tool(), getCommit.Tool(), compareRefs.Tool(), getCommitStatus.Tool()}
}

// Bounds on commit and diff outputs.
const (
	maxDiffBytes      = 2 << 20 // read of a diff, for per-file line counts: streamed, not held
	maxChangedFiles   = 300     // files listed for one commit or comparison
	maxCompareCommits = 50      // commits listed for one comparison
)

// gitCommitItem is a commit in a list.
type gitCommitItem struct {
	SHA     string   `json:"sha"`
	Message UserText `json:"message"` // first line
	Author  UserText `json:"author,omitempty"`
	Login   string   `json:"author_login,omitempty"`
	Date    string   `json:"date,omitempty"`
}

func compactGitCommit(c *gitea.GitCommit) gitCommitItem {
	item := gitCommitItem{SHA: c.SHA, Message: UserText(gitSummary(c.Commit.Message))}
	if a := c.Commit.Author; a != nil {
		item.Author, item.Date = UserText(a.Name), a.Date
	}
	if c.Author != nil {
		item.Login = c.Author.Login
	}
	return item
}

type listCommitsIn struct {
	RepoRef
	Ref   string `json:"ref,omitempty" jsonschema:"branch, tag or SHA to start from (default: default branch)"`
	Path  string `json:"path,omitempty" jsonschema:"only commits touching this file or directory (then 50 per page, whatever limit)"`
	Since string `json:"since,omitempty" jsonschema:"after this RFC 3339 time, e.g. 2024-05-01T00:00:00Z"`
	Until string `json:"until,omitempty" jsonschema:"before this RFC 3339 time"`
	Paging
}

type gitCommitListOut struct {
	Commits []gitCommitItem `json:"commits"`
	PageOut
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, &ArgumentError{Field: field, Problem: "must be an RFC 3339 date-time, e.g. 2024-05-01T00:00:00Z"}
	}
	return t, nil
}

var listCommits = Def[listCommitsIn, gitCommitListOut]{
	Name:   "list_commits",
	Title:  "List commits",
	Desc:   "Commits, newest first: SHA, first line of the message, author, date. Details and diff: get_commit.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Schema: boundPage,
	Run: func(ctx context.Context, e *Env, in listCommitsIn) (gitCommitListOut, error) {
		since, err := parseTime("since", in.Since)
		if err != nil {
			return gitCommitListOut{}, err
		}
		until, err := parseTime("until", in.Until)
		if err != nil {
			return gitCommitListOut{}, err
		}
		f := gitea.CommitFilter{Ref: in.Ref, Path: in.Path, Since: since, Until: until}
		commits, info, err := e.ListCommits(ctx, in.Owner, in.Repo, f, in.options())
		if err != nil {
			return gitCommitListOut{}, err
		}
		return gitCommitListOut{Commits: compact(commits, compactGitCommit), PageOut: pageOut(info)}, nil
	},
}

type getCommitIn struct {
	RepoRef
	Ref          string `json:"ref" jsonschema:"SHA, or a branch or tag (its head commit)"`
	IncludePatch bool   `json:"include_patch,omitempty" jsonschema:"add the diff (secrets masked, cut to fit)"`
}

// gitFileChange is a file changed by a commit or comparison. The line counts
// are absent when the diff was too large to count them.
type gitFileChange struct {
	Path      string `json:"path"`
	Status    string `json:"status"`
	Additions *int   `json:"additions,omitempty"`
	Deletions *int   `json:"deletions,omitempty"`
	Withheld  string `json:"withheld,omitempty"` // "policy": named, no counts, no patch
}

type gitStatsOut struct {
	Additions int `json:"additions"`
	Deletions int `json:"deletions"`
	Files     int `json:"files"`
}

type gitCommitOut struct {
	SHA            string          `json:"sha"`
	Message        UserText        `json:"message"`
	Author         UserText        `json:"author,omitempty"`
	Login          string          `json:"author_login,omitempty"`
	Date           string          `json:"date,omitempty"`
	Committer      UserText        `json:"committer,omitempty"` // when not the author
	Parents        []string        `json:"parents,omitempty"`
	Stats          *gitStatsOut    `json:"stats,omitempty"`
	Files          []gitFileChange `json:"files"`
	Patch          UserText        `json:"patch,omitempty"`
	PatchTruncated bool            `json:"patch_truncated,omitempty"`
	Withheld       []string        `json:"withheld,omitempty"` // files the policy withholds: out of the patch and the stats
	URL            string          `json:"url,omitempty"`
	Note           string          `json:"note,omitempty"`
}

var getCommit = Def[getCommitIn, gitCommitOut]{
	Name:   "get_commit",
	Title:  "Get a commit",
	Desc:   "Full message, author, parents, line stats, and changed files with additions and deletions.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Run: func(ctx context.Context, e *Env, in getCommitIn) (gitCommitOut, error) {
		c, err := e.Commit(ctx, in.Owner, in.Repo, in.Ref)
		if err != nil {
			return gitCommitOut{}, err
		}
		msg, msgCut := Cut(strings.TrimRight(c.Commit.Message, "\n"), e.TextBudget()/2)
		out := gitCommitOut{SHA: c.SHA, Message: UserText(msg), URL: c.HTMLURL}
		item := compactGitCommit(c)
		out.Author, out.Login, out.Date = item.Author, item.Login, item.Date
		if cm := c.Commit.Committer; cm != nil && c.Commit.Author != nil && cm.Name != c.Commit.Author.Name {
			out.Committer = UserText(cm.Name)
		}
		for _, p := range c.Parents {
			out.Parents = append(out.Parents, p.SHA)
		}
		if c.Stats != nil {
			out.Stats = &gitStatsOut{Additions: c.Stats.Additions, Deletions: c.Stats.Deletions, Files: len(c.Files)}
		}
		var notes []string
		if msgCut {
			notes = append(notes, "message cut")
		}
		var scan *diffScan
		diffCut, err := e.ReadCommitDiff(ctx, in.Owner, in.Repo, c.SHA, maxDiffBytes, func(r io.Reader) error {
			var err error
			scan, err = scanCommitDiff(e, in.RepoRef, r, in.IncludePatch)
			return err
		})
		if err != nil {
			return gitCommitOut{}, err
		}
		counted, withheld := scan.ByPath(diffCut), scan.withheld
		files := make([]gitFileChange, 0, min(len(c.Files), maxChangedFiles))
		for _, f := range c.Files {
			fc := gitFileChange{Path: f.Filename, Status: f.Status, Withheld: e.withheld(in.Owner, in.Repo, f.Filename)}
			if fc.Withheld == "" && slices.Contains(withheld, f.Filename) {
				fc.Withheld = withheldMark // renamed or copied from a withheld path
			}
			if fc.Withheld != "" && !slices.Contains(withheld, f.Filename) {
				withheld = append(withheld, f.Filename)
			}
			d, ok := counted[f.Filename]
			if fc.Withheld != "" && ok && out.Stats != nil {
				out.Stats.Additions, out.Stats.Deletions = max(out.Stats.Additions-d.Additions, 0), max(out.Stats.Deletions-d.Deletions, 0)
			}
			if len(files) == maxChangedFiles {
				continue // counted on for the stats; the note says the list is cut
			}
			if ok && fc.Withheld == "" {
				fc.Additions, fc.Deletions = &d.Additions, &d.Deletions
			}
			files = append(files, fc)
		}
		if len(c.Files) > maxChangedFiles {
			notes = append(notes, fmt.Sprintf("only the first %d of %d files listed", maxChangedFiles, len(c.Files)))
		}
		out.Files, out.Withheld = files, withheld
		notes = append(notes, withheldNote(len(withheld)))
		if diffCut {
			notes = append(notes, "diff too large: line counts missing for some files")
		}
		if in.IncludePatch {
			var note string
			if out.Patch, out.PatchTruncated, note, err = diffPatch(e, out, scan.text, diffCut || scan.textCut); err != nil {
				return gitCommitOut{}, err
			}
			notes = append(notes, note)
		}
		out.Note = joinNotes(notes...)
		return out, nil
	},
}

// scanCommitDiff reads a commit's or comparison's diff as a stream, keeping
// its files' counts, the paths the policy withholds and, when patch is
// set, the beginning of the diff left (at most diffKeep bytes), never the
// whole diff.
func scanCommitDiff(e *Env, repo RepoRef, r io.Reader, patch bool) (*diffScan, error) {
	keep := 0
	if patch {
		keep = diffKeep(e)
	}
	var allowed func(string) bool
	if e.pathsRestricted() {
		allowed = func(p string) bool { return e.PathAllowed(repo.Owner, repo.Repo, p) }
	}
	return scanDiff(r, keep, allowed)
}

// diffPatch prepares a diff for output beside the rest of a result, out:
// secrets handled per the options, cut to what the budget leaves.
func diffPatch(e *Env, out any, diff string, cut bool) (UserText, bool, string, error) {
	rest, err := jsonSize(out)
	if err != nil {
		return "", false, "", err
	}
	diff, masked, err := maskDiff(e, diff)
	if err != nil {
		return "", false, "", err
	}
	text, truncated, note, err := fitContent(e, diff, e.TextBudget()-rest)
	if err != nil {
		return "", false, "", err
	}
	if masked > 0 {
		note = joinNotes(fmt.Sprintf("%d secret(s) in changed lines masked as %s", masked, textsafe.Masked), note)
	}
	if truncated || cut {
		note = joinNotes(note, "patch cut to fit: narrow it with get_commit on single commits or get_file_contents")
	}
	return text, truncated || cut, note, nil
}

type compareRefsIn struct {
	RepoRef
	Base         string `json:"base" jsonschema:"ref compared against, e.g. main"`
	Head         string `json:"head" jsonschema:"ref whose changes are listed"`
	IncludePatch bool   `json:"include_patch,omitempty" jsonschema:"add the diff (secrets masked, cut to fit)"`
}

type gitCompareOut struct {
	TotalCommits   int             `json:"total_commits"`
	Commits        []gitCommitItem `json:"commits"`
	Files          []gitFileChange `json:"files"`
	Patch          UserText        `json:"patch,omitempty"`
	PatchTruncated bool            `json:"patch_truncated,omitempty"`
	Withheld       []string        `json:"withheld,omitempty"` // files the policy withholds: out of the patch
	Note           string          `json:"note,omitempty"`
}

var compareRefs = Def[compareRefsIn, gitCompareOut]{
	Name:   "compare_refs",
	Title:  "Compare two refs",
	Desc:   "What head adds to base (base...head, from the merge base): commits, newest first (at most 50), and changed files with additions and deletions.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Run: func(ctx context.Context, e *Env, in compareRefsIn) (gitCompareOut, error) {
		cmp, err := e.Compare(ctx, in.Owner, in.Repo, in.Base, in.Head)
		if err != nil {
			return gitCompareOut{}, err
		}
		out := gitCompareOut{TotalCommits: cmp.TotalCommits}
		var notes []string
		commits := cmp.Commits
		if len(commits) > maxCompareCommits {
			commits = commits[:maxCompareCommits]
			notes = append(notes, fmt.Sprintf("only the newest %d commits listed: see the rest with list_commits on head", maxCompareCommits))
		}
		out.Commits = compact(commits, compactGitCommit)
		var scan *diffScan
		diffCut, err := e.ReadCompareDiff(ctx, in.Owner, in.Repo, in.Base, in.Head, maxDiffBytes, func(r io.Reader) error {
			var err error
			scan, err = scanCommitDiff(e, in.RepoRef, r, in.IncludePatch)
			return err
		})
		if err != nil {
			return gitCompareOut{}, err
		}
		out.Files = []gitFileChange{}
		changed := scan.Files(diffCut)
		out.Withheld = scan.withheld
		for _, d := range changed {
			if len(out.Files) == maxChangedFiles {
				notes = append(notes, fmt.Sprintf("only the first %d files listed", maxChangedFiles))
				break
			}
			fc := gitFileChange{Path: d.Path, Status: d.Status, Additions: &d.Additions, Deletions: &d.Deletions}
			if slices.Contains(out.Withheld, d.Path) || !e.PathAllowed(in.Owner, in.Repo, d.Path) {
				fc.Additions, fc.Deletions, fc.Withheld = nil, nil, withheldMark
			}
			out.Files = append(out.Files, fc)
		}
		notes = append(notes, withheldNote(len(out.Withheld)))
		if diffCut {
			notes = append(notes, "diff too large: the files after the listed ones are missing")
		}
		if in.IncludePatch {
			var note string
			if out.Patch, out.PatchTruncated, note, err = diffPatch(e, out, scan.text, diffCut || scan.textCut); err != nil {
				return gitCompareOut{}, err
			}
			notes = append(notes, note)
		}
		out.Note = joinNotes(notes...)
		return out, nil
	},
}

type getCommitStatusIn struct {
	RepoRef
	Ref string `json:"ref" jsonschema:"SHA, or a branch or tag (its head commit)"`
}

type gitStatusItem struct {
	Context     string    `json:"context"`
	State       string    `json:"state"`
	Description UserText  `json:"description,omitempty"`
	TargetURL   string    `json:"target_url,omitempty"`
	Creator     string    `json:"creator,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}

type gitStatusOut struct {
	SHA      string          `json:"sha"`
	State    string          `json:"state"`
	Total    int64           `json:"total"`
	Statuses []gitStatusItem `json:"statuses"`
	Note     string          `json:"note,omitempty"`
}

var getCommitStatus = Def[getCommitStatusIn, gitStatusOut]{
	Name:   "get_commit_status",
	Title:  "Get a commit's CI status",
	Desc:   "Combined CI status (success, pending, failure, error, warning; none without statuses) and each check's latest: context, state, description, link.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Run: func(ctx context.Context, e *Env, in getCommitStatusIn) (gitStatusOut, error) {
		s, info, err := e.CombinedStatus(ctx, in.Owner, in.Repo, in.Ref, gitea.ListOptions{Limit: gitea.MaxPageSize})
		if err != nil {
			return gitStatusOut{}, err
		}
		out := gitStatusOut{SHA: s.SHA, State: s.State, Total: int64(len(s.Statuses))}
		if info.Total > out.Total {
			out.Total = info.Total
			out.Note = fmt.Sprintf("only the first %d statuses are listed and combined", len(s.Statuses))
		}
		if len(s.Statuses) == 0 {
			out.State = "none"
		}
		out.Statuses = compact(s.Statuses, func(st *gitea.GitCommitStatus) gitStatusItem {
			desc, _ := Cut(st.Description, gitSummaryBytes)
			item := gitStatusItem{Context: st.Context, State: st.State, Description: UserText(desc), TargetURL: st.TargetURL, UpdatedAt: st.UpdatedAt}
			if st.Creator != nil {
				item.Creator = st.Creator.Login
			}
			return item
		})
		return out, nil
	},
}

// joinNotes joins the non-empty notes with "; ".
func joinNotes(notes ...string) string {
	var kept []string
	for _, n := range notes {
		if n != "" {
			kept = append(kept, n)
		}
	}
	return strings.Join(kept, "; ")
}
