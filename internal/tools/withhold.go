package tools

// Paths the server's policy withholds: "named, not shown". A read that
// returns paths Gitea chose (a listing, a tree, a diff, search results)
// keeps a withheld entry's path, so the model knows it exists, marks it
// withheld and shows none of its content, SHA, size, line counts or patch.
// Paths named by arguments are the server's to refuse before a tool runs
// (see [Target]); the tools check them again where they read content.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// withheldMark is the value of the withheld field of an entry the policy
// withholds: `"withheld": "policy"`.
const withheldMark = "policy"

// maxWithheldNames bounds a list of withheld paths that no other bound
// limits (search_code's).
const maxWithheldNames = 50

// PathAllowed reports whether the server's policy lets path of
// owner/repo be shown; true when [Options.PathAllowed] is nil. Every read
// that returns paths Gitea chose asks it for each one.
func (e *Env) PathAllowed(owner, repo, path string) bool {
	return e.opts.PathAllowed == nil || e.opts.PathAllowed(owner, repo, path)
}

// pathsRestricted reports whether some paths may be withheld, that is
// whether a policy answers [Env.PathAllowed].
func (e *Env) pathsRestricted() bool { return e.opts.PathAllowed != nil }

// withheld returns withheldMark when path of owner/repo is withheld, ""
// otherwise: the value of an entry's withheld field.
func (e *Env) withheld(owner, repo, path string) string {
	if e.PathAllowed(owner, repo, path) {
		return ""
	}
	return withheldMark
}

// withheldNote says how many paths were withheld, for a result's note.
func withheldNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d path(s) withheld by this server's policy: named (withheld: policy), content not shown", n)
}

// withholdDiff removes from a unified diff the sections of the files the
// policy withholds: a section goes when any path it names, old or new, is
// withheld. It returns the diff left and the paths of the sections
// removed, each once, in diff order.
func (e *Env) withholdDiff(owner, repo, diff string) (string, []string) {
	if !e.pathsRestricted() {
		return diff, nil
	}
	preamble, sections := diffSections(diff)
	var b strings.Builder
	b.WriteString(preamble)
	var withheld []string
	for _, s := range sections {
		allowed := true
		for _, p := range diffSectionPaths(s) {
			if !e.PathAllowed(owner, repo, p) {
				allowed = false
				break
			}
		}
		if allowed {
			b.WriteString(s)
			continue
		}
		name := ""
		if files := parseGitDiffFiles(s, false); len(files) > 0 {
			name = files[0].Path
		}
		if name != "" && !slices.Contains(withheld, name) {
			withheld = append(withheld, name)
		}
	}
	return b.String(), withheld
}

// rootedTreeRef makes sure that a tree listed at ref, with no path, is the
// tree of a commit, whose entries' paths are relative to the repository
// root, and returns the ref to list. Gitea also lists a tree by its own
// SHA, whose entries' paths are relative to that directory: the policy,
// asked about them, would judge the wrong paths. So when paths may be
// withheld, a ref that could be an object id is resolved to its commit,
// and refused if it names no commit.
func rootedTreeRef(ctx context.Context, e *Env, repo RepoRef, ref string) (string, error) {
	if !e.pathsRestricted() || !maybeObjectID(ref) {
		return ref, nil
	}
	commits, _, err := e.ListCommits(ctx, repo.Owner, repo.Repo, gitea.CommitFilter{Ref: ref}, gitea.ListOptions{Page: 1, Limit: 1})
	if err != nil || len(commits) == 0 || commits[0].SHA == "" {
		return "", &ArgumentError{Field: "ref", Problem: "must name a branch, tag or commit (a tree's SHA is not accepted on this server)"}
	}
	return commits[0].SHA, nil
}

// maybeObjectID reports whether ref could be an abbreviated or full git
// object id: 4 to 64 hexadecimal digits.
func maybeObjectID(ref string) bool {
	if len(ref) < 4 || len(ref) > 64 {
		return false
	}
	return !strings.ContainsFunc(ref, func(r rune) bool {
		return (r < '0' || r > '9') && (r < 'a' || r > 'f') && (r < 'A' || r > 'F')
	})
}

// errPathWithheld refuses a read of a path, named by its arguments, that
// the policy withholds. The server refuses such calls before they run;
// tools that read content check again.
var errPathWithheld = &ArgumentError{Field: "path", Problem: "is withheld by this server's policy"}

// RepoAllowed reports whether items of the repository fullName
// ("owner/repo") may be shown; true when [Options.RepoAllowed] is nil. A
// name that is not owner/repo is shown only without a policy.
func (e *Env) RepoAllowed(fullName string) bool {
	if e.opts.RepoAllowed == nil {
		return true
	}
	owner, repo, ok := strings.Cut(fullName, "/")
	return ok && e.opts.RepoAllowed(owner, repo)
}

// keepAllowed returns the items whose repository, named by repoOf, the
// policy lets the caller see; with no policy, all of them.
func keepAllowed[T any](e *Env, items []T, repoOf func(*T) string) []T {
	if e.opts.RepoAllowed == nil {
		return items
	}
	out := items[:0:0]
	for i := range items {
		if e.RepoAllowed(repoOf(&items[i])) {
			out = append(out, items[i])
		}
	}
	return out
}
