package tools

import (
	"cmp"
	"context"
	"strings"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

func branchTools() []*Tool {
	return []*Tool{listBranches.Tool(), getBranch.Tool(), listTags.Tool(), getTag.Tool()}
}

// gitSummary is a commit or tag message's first line, bounded.
func gitSummary(msg string) string {
	line, _, _ := strings.Cut(strings.TrimLeft(msg, "\n"), "\n")
	s, _ := Cut(strings.TrimRight(line, "\r"), gitSummaryBytes)
	return s
}

// gitSummaryBytes bounds a one-line summary.
const gitSummaryBytes = 200

// gitListIn asks for a page of a repository's branches or tags.
type gitListIn struct {
	RepoRef
	Paging
}

// gitBranchItem is a branch in a list.
type gitBranchItem struct {
	Name      string `json:"name"`
	SHA       string `json:"sha,omitempty"`
	Protected bool   `json:"protected,omitempty"`
	CanPush   bool   `json:"can_push"`
}

type gitBranchListOut struct {
	Branches []gitBranchItem `json:"branches"`
	PageOut
}

var listBranches = Def[gitListIn, gitBranchListOut]{
	Name:   "list_branches",
	Title:  "List branches",
	Desc:   "Branches: name, head commit SHA, whether protected, whether you may push. Details: get_branch.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Schema: boundPage,
	Run: func(ctx context.Context, e *Env, in gitListIn) (gitBranchListOut, error) {
		branches, info, err := e.ListBranches(ctx, in.Owner, in.Repo, in.options())
		if err != nil {
			return gitBranchListOut{}, err
		}
		return gitBranchListOut{Branches: compact(branches, func(b *gitea.GitBranch) gitBranchItem {
			item := gitBranchItem{Name: b.Name, Protected: b.Protected, CanPush: b.UserCanPush}
			if b.Commit != nil {
				item.SHA = b.Commit.ID
			}
			return item
		}), PageOut: pageOut(info)}, nil
	},
}

type gitGetBranchIn struct {
	RepoRef
	Branch string `json:"branch" jsonschema:"e.g. main or feature/x"`
}

// gitHeadOut is a branch's head commit.
type gitHeadOut struct {
	SHA     string    `json:"sha"`
	Message UserText  `json:"message"` // first line
	Author  UserText  `json:"author,omitempty"`
	Date    time.Time `json:"date"`
}

// gitProtectionOut is what a reader may learn of a branch's protection.
type gitProtectionOut struct {
	Rule              string   `json:"rule,omitempty"`
	RequiredApprovals int64    `json:"required_approvals,omitempty"`
	StatusChecks      []string `json:"required_status_checks,omitempty"`
}

type gitBranchOut struct {
	Name       string            `json:"name"`
	Head       *gitHeadOut       `json:"head,omitempty"`
	Protected  bool              `json:"protected"`
	Protection *gitProtectionOut `json:"protection,omitempty"`
	CanPush    bool              `json:"can_push"`
	CanMerge   bool              `json:"can_merge"`
}

var getBranch = Def[gitGetBranchIn, gitBranchOut]{
	Name:   "get_branch",
	Title:  "Get a branch",
	Desc:   "Head commit (SHA, summary, author, date), protection (rule, required approvals and checks), whether you may push or merge.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Run: func(ctx context.Context, e *Env, in gitGetBranchIn) (gitBranchOut, error) {
		b, err := e.Branch(ctx, in.Owner, in.Repo, in.Branch)
		if err != nil {
			return gitBranchOut{}, err
		}
		out := gitBranchOut{Name: b.Name, Protected: b.Protected, CanPush: b.UserCanPush, CanMerge: b.UserCanMerge}
		if c := b.Commit; c != nil {
			out.Head = &gitHeadOut{SHA: c.ID, Message: UserText(gitSummary(c.Message)), Date: c.Timestamp}
			if c.Author != nil {
				out.Head.Author = UserText(cmp.Or(c.Author.UserName, c.Author.Name))
			}
		}
		if b.Protected {
			p := &gitProtectionOut{Rule: b.ProtectionRule, RequiredApprovals: b.RequiredApprovals}
			if b.EnableStatusCheck {
				p.StatusChecks = b.StatusCheckContexts
			}
			out.Protection = p
		}
		return out, nil
	},
}

// gitTagItem is a tag in a list.
type gitTagItem struct {
	Name      string   `json:"name"`
	SHA       string   `json:"sha"` // the tagged commit
	Annotated bool     `json:"annotated,omitempty"`
	Summary   UserText `json:"summary,omitempty"` // first line of the tag message, or of the commit message for a lightweight tag
}

func compactGitTag(t *gitea.GitTag) gitTagItem {
	item := gitTagItem{Name: t.Name, Annotated: t.Annotated(), Summary: UserText(gitSummary(t.Message))}
	if t.Commit != nil {
		item.SHA = t.Commit.SHA
	}
	return item
}

type gitTagListOut struct {
	Tags []gitTagItem `json:"tags"`
	PageOut
}

var listTags = Def[gitListIn, gitTagListOut]{
	Name:   "list_tags",
	Title:  "List tags",
	Desc:   "Tags, newest first: name, commit SHA, whether annotated, message summary. Details: get_tag.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Schema: boundPage,
	Run: func(ctx context.Context, e *Env, in gitListIn) (gitTagListOut, error) {
		tags, info, err := e.ListTags(ctx, in.Owner, in.Repo, in.options())
		if err != nil {
			return gitTagListOut{}, err
		}
		return gitTagListOut{Tags: compact(tags, compactGitTag), PageOut: pageOut(info)}, nil
	},
}

type gitGetTagIn struct {
	RepoRef
	Tag string `json:"tag"`
}

type gitTagOut struct {
	Name      string    `json:"name"`
	SHA       string    `json:"sha"`
	TagSHA    string    `json:"tag_object_sha,omitempty"`
	Annotated bool      `json:"annotated"`
	Message   UserText  `json:"message,omitempty"`
	Truncated bool      `json:"truncated,omitempty"`
	Date      time.Time `json:"commit_date,omitzero"`
}

var getTag = Def[gitGetTagIn, gitTagOut]{
	Name:   "get_tag",
	Title:  "Get a tag",
	Desc:   "Its commit, whether annotated, and its message (an annotated tag's own, else the commit's).",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaRepos,
	Run: func(ctx context.Context, e *Env, in gitGetTagIn) (gitTagOut, error) {
		t, err := e.Tag(ctx, in.Owner, in.Repo, in.Tag)
		if err != nil {
			return gitTagOut{}, err
		}
		msg, cut := Cut(strings.TrimRight(t.Message, "\n"), e.TextBudget())
		out := gitTagOut{Name: t.Name, Annotated: t.Annotated(), Message: UserText(msg), Truncated: cut}
		if t.Commit != nil {
			out.SHA, out.Date = t.Commit.SHA, t.Commit.Created
		}
		if out.Annotated {
			out.TagSHA = t.ID
		}
		return out, nil
	},
}
