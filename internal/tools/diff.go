package tools

// Unified git diffs: the per-file sections, their paths and counts, and
// their secrets. Commits, comparisons and pull requests share these.

import (
	"slices"
	"strconv"
	"strings"
)

// diffFile is one file of a unified git diff, with its changed-line counts.
type diffFile struct {
	Path      string
	Status    string // added, deleted, renamed, copied or modified
	Additions int
	Deletions int
}

// parseGitDiffFiles lists the files of a git diff in order. When cut, the
// text ended early and its last file, whose counts may be partial, is left out.
func parseGitDiffFiles(diff string, cut bool) []diffFile {
	var files []diffFile
	var cur *diffFile
	inHunk := false
	for line := range strings.Lines(diff) {
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, "diff --git ") {
			files = append(files, diffFile{Path: diffGitPath(line[len("diff --git "):]), Status: "modified"})
			cur, inHunk = &files[len(files)-1], false
			continue
		}
		if cur == nil {
			continue // a root commit's header, before the first file
		}
		if inHunk {
			switch {
			case strings.HasPrefix(line, "+"):
				cur.Additions++
			case strings.HasPrefix(line, "-"):
				cur.Deletions++
			}
			continue
		}
		switch {
		case strings.HasPrefix(line, "@@"):
			inHunk = true
		case strings.HasPrefix(line, "new file mode"):
			cur.Status = "added"
		case strings.HasPrefix(line, "deleted file mode"):
			cur.Status = "deleted"
		case strings.HasPrefix(line, "rename to "):
			cur.Status, cur.Path = "renamed", unquoteGitPath(line[len("rename to "):])
		case strings.HasPrefix(line, "copy to "):
			cur.Status, cur.Path = "copied", unquoteGitPath(line[len("copy to "):])
		case strings.HasPrefix(line, "+++ "):
			if p := unquoteGitPath(line[len("+++ "):]); strings.HasPrefix(p, "b/") {
				cur.Path = p[2:]
			}
		}
	}
	if cut && len(files) > 0 {
		files = files[:len(files)-1]
	}
	return files
}

// parseGitDiff returns the files of a diff by path.
func parseGitDiff(diff string, cut bool) map[string]diffFile {
	files := parseGitDiffFiles(diff, cut)
	byPath := make(map[string]diffFile, len(files))
	for _, f := range files {
		byPath[f.Path] = f
	}
	return byPath
}

// diffGitPath reads the new path from the rest of a "diff --git a/X b/Y"
// line. Ambiguous names (a rename with spaces) are fixed by later header lines.
func diffGitPath(rest string) string {
	if strings.HasPrefix(rest, `"`) {
		if q, err := strconv.QuotedPrefix(rest); err == nil {
			return strings.TrimPrefix(unquoteGitPath(strings.TrimPrefix(rest[len(q):], " ")), "b/")
		}
	}
	if n := len(rest) - 5; n > 0 && n%2 == 0 && strings.HasPrefix(rest, "a/") {
		n /= 2
		if rest[2+n:5+n] == " b/" && rest[2:2+n] == rest[5+n:] {
			return rest[2 : 2+n]
		}
	}
	if i := strings.LastIndex(rest, ` "b/`); i >= 0 {
		return strings.TrimPrefix(unquoteGitPath(rest[i+1:]), "b/")
	}
	if i := strings.LastIndex(rest, " b/"); i >= 0 {
		return rest[i+3:]
	}
	return rest
}

// unquoteGitPath undoes git's C-style quoting of unusual file names.
func unquoteGitPath(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
	}
	return s
}

// fileDiff returns the part of a unified diff that concerns path: the
// section from its "diff --git" header to the next.
func fileDiff(diff, path string) (string, bool) {
	for len(diff) > 0 {
		end := strings.Index(diff[1:], "\ndiff --git ")
		section := diff
		if end >= 0 {
			section, diff = diff[:end+2], diff[end+2:]
		} else {
			diff = ""
		}
		header, _, _ := strings.Cut(section, "\n")
		if diffHeaderNames(header, path) {
			return section, true
		}
	}
	return "", false
}

// diffHeaderNames reports whether a "diff --git a/X b/Y" header names path
// as X or Y. Git quotes names holding special characters, in C style.
func diffHeaderNames(header, path string) bool {
	rest, ok := strings.CutPrefix(header, "diff --git ")
	if !ok {
		return false
	}
	if strings.HasSuffix(rest, " b/"+path) || strings.HasPrefix(rest, "a/"+path+" b/") {
		return true
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] != '"' {
			continue
		}
		j := i + 1
		for j < len(rest) && rest[j] != '"' {
			if rest[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(rest) {
			return false
		}
		if name, err := strconv.Unquote(rest[i : j+1]); err == nil && (name == "a/"+path || name == "b/"+path) {
			return true
		}
		i = j
	}
	return false
}

// maskDiff handles the secrets of a unified diff per the options. The lines
// of its hunks are checked without their +, - or space prefix, so that
// assignments and key blocks are found as they are in files.
func maskDiff(e *Env, diff string) (string, int, error) {
	lines := splitLines(diff)
	var at []int
	var body []string
	inHunk := false
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "diff --git "):
			inHunk = false
		case strings.HasPrefix(l, "@@"):
			inHunk = true
		case inHunk && l != "" && strings.ContainsRune("+- ", rune(l[0])):
			at, body = append(at, i), append(body, l[1:])
		}
	}
	n, err := maskLineSlice(e, body)
	if err != nil {
		return "", 0, err
	}
	for j, i := range at {
		lines[i] = lines[i][:1] + body[j]
	}
	return strings.Join(lines, ""), n, nil
}

// isDiffHeader reports whether line starts a file's section of a diff:
// "diff --git", or for a merge's combined diff "diff --cc" or "diff --combined".
func isDiffHeader(line string) bool {
	return strings.HasPrefix(line, "diff --git ") || strings.HasPrefix(line, "diff --cc ") || strings.HasPrefix(line, "diff --combined ")
}

// diffSections splits a unified diff into its preamble, the text before
// the first file (a root commit's header; often empty), and one section per
// file, from its header line to the next. Joined, they are the diff. Lines
// of hunks start with ' ', '+', '-' or '\', so they never look like a header.
func diffSections(diff string) (preamble string, sections []string) {
	start := -1
	for off := 0; off < len(diff); {
		end := len(diff)
		if nl := strings.IndexByte(diff[off:], '\n'); nl >= 0 {
			end = off + nl + 1
		}
		if isDiffHeader(diff[off:end]) {
			if start < 0 {
				preamble = diff[:off]
			} else {
				sections = append(sections, diff[start:off])
			}
			start = off
		}
		off = end
	}
	if start < 0 {
		return diff, nil
	}
	return preamble, append(sections, diff[start:])
}

// diffSectionPaths lists every path one file's section of a diff names,
// old and new: in its header and in the extended header lines before its
// first hunk. An unquoted header is ambiguous when names hold " b/"; then
// every reading of it is listed, so that a doubt withholds rather than shows.
func diffSectionPaths(section string) []string {
	var paths []string
	add := func(p string) {
		if p != "" && p != "/dev/null" && !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	first := true
	for line := range strings.Lines(section) {
		line = strings.TrimSuffix(line, "\n")
		if first {
			first = false
			diffHeaderPaths(line, add)
			continue
		}
		switch {
		case strings.HasPrefix(line, "@@"), strings.HasPrefix(line, "Binary files "), strings.HasPrefix(line, "GIT binary patch"):
			return paths // the file's content starts: no more names
		case strings.HasPrefix(line, "--- "):
			add(strings.TrimPrefix(unquoteGitPath(line[len("--- "):]), "a/"))
		case strings.HasPrefix(line, "+++ "):
			add(strings.TrimPrefix(unquoteGitPath(line[len("+++ "):]), "b/"))
		default:
			for _, prefix := range []string{"rename from ", "rename to ", "copy from ", "copy to "} {
				if name, ok := strings.CutPrefix(line, prefix); ok {
					add(unquoteGitPath(name))
				}
			}
		}
	}
	return paths
}

// diffHeaderPaths passes to add the paths a file's header line names.
func diffHeaderPaths(header string, add func(string)) {
	if rest, ok := strings.CutPrefix(header, "diff --git "); ok {
		if strings.HasPrefix(rest, `"`) {
			if q, err := strconv.QuotedPrefix(rest); err == nil {
				add(strings.TrimPrefix(unquoteGitPath(q), "a/"))
				add(strings.TrimPrefix(unquoteGitPath(strings.TrimPrefix(rest[len(q):], " ")), "b/"))
				return
			}
		}
		split := false
		for i := 1; i < len(rest); i++ {
			if strings.HasPrefix(rest[i:], " b/") || strings.HasPrefix(rest[i:], ` "b/`) {
				add(strings.TrimPrefix(rest[:i], "a/"))
				add(strings.TrimPrefix(unquoteGitPath(rest[i+1:]), "b/"))
				split = true
			}
		}
		if !split {
			add(strings.TrimPrefix(rest, "a/"))
		}
		return
	}
	for _, prefix := range []string{"diff --cc ", "diff --combined "} {
		if rest, ok := strings.CutPrefix(header, prefix); ok {
			add(unquoteGitPath(rest))
		}
	}
}
