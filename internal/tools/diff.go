package tools

// Unified git diffs: the per-file sections, their paths and counts, and
// their secrets. Commits, comparisons and pull requests share these.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/textsafe"
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
	return diffFilesByPath(parseGitDiffFiles(diff, cut))
}

// diffFilesByPath returns files by path.
func diffFilesByPath(files []diffFile) map[string]diffFile {
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
// of its hunks are cleaned first (so that no invisible character splits a
// secret out of reach and the count is right) and checked without their +,
// - or space prefix, so that assignments and key blocks are found as they
// are in files.
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
			at, body = append(at, i), append(body, textsafe.Clean(l[1:]))
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

// Streamed diffs. A large diff is read line by line and a call keeps only
// what its result can show (a few output budgets), never the whole diff:
// see diffFileSection and scanDiff, which learn from the stream what
// fileDiff, parseGitDiffFiles and withholdDiff learn from the whole text.

// diffKeepBudgets is how many text budgets of a diff's text a call keeps.
// One would do (JSON encoding never shortens a text), but masking can
// (a secret becomes the mask): the margin lets the result be cut where it
// would be cut from the whole diff unless masking halves the text.
const diffKeepBudgets = 2

// diffKeep is the most bytes of a diff's text one call keeps:
// diffKeepBudgets text budgets (124 KiB at the default budget).
func diffKeep(e *Env) int { return diffKeepBudgets * e.TextBudget() }

// diffLineMax is the least of one line a scan reads whole (paths, headers);
// of a longer line, it sees the beginning only.
const diffLineMax = 64 << 10

// scanDiffLines calls fn with each line r holds, its newline included, in
// order, until fn returns false. Of a line longer than max it passes the
// first max bytes, with long set, and skips the rest. line is valid only
// during the call. It holds one buffer and at most max bytes of one line.
func scanDiffLines(r io.Reader, max int, fn func(line []byte, long bool) bool) error {
	br := bufio.NewReaderSize(r, 32<<10)
	var acc []byte // the beginning of a line longer than br's buffer
	total := 0     // that line's length so far
	for {
		frag, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			acc = append(acc, frag[:min(len(frag), max-len(acc))]...)
			total += len(frag)
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		line, long := frag, len(frag) > max
		switch {
		case total > 0:
			acc = append(acc, frag[:min(len(frag), max-len(acc))]...)
			total += len(frag)
			line, long = acc, total > max
		case long:
			line = frag[:max]
		}
		if len(line) > 0 && !fn(line, long) {
			return nil
		}
		acc, total = acc[:0], 0
		if err != nil {
			return nil // io.EOF
		}
	}
}

// diffFileSection reads a unified diff and returns the part of it that
// concerns path, as fileDiff finds it in the whole text, keeping at most
// keep bytes of it: cut says the part was longer. It stops reading at the
// part's end. A header line longer than diffLineMax (and keep) names no
// file. A cut part ending inside a private key block ends before it (see
// dropOpenKeyBlock).
func diffFileSection(r io.Reader, path string, keep int) (part string, found, cut bool, err error) {
	var b []byte
	err = scanDiffLines(r, max(keep+1, diffLineMax), func(line []byte, long bool) bool {
		if bytes.HasPrefix(line, []byte("diff --git ")) {
			if found {
				return false // the next file's part
			}
			found = !long && diffHeaderNames(string(bytes.TrimSuffix(line, []byte("\n"))), path)
		}
		if !found {
			return true
		}
		if long || len(b)+len(line) > keep {
			b, cut = appendKept(b, line[:keep-len(b)]), true
			return false
		}
		b = appendKept(b, line)
		return true
	})
	if cut {
		b = dropOpenKeyBlock(b)
	}
	return string(b), found, cut, err
}

// dropOpenKeyBlock shortens a cut text that ends inside a private key
// block (from a line holding "-----BEGIN " and "PRIVATE KEY" to one holding
// "-----END ", as maskLineSlice reads them) to end before the block:
// masking finds a key block by both its ends, and a cut text has only the
// first.
func dropOpenKeyBlock(b []byte) []byte {
	open := -1
	for off := 0; off < len(b); {
		end := len(b)
		if nl := bytes.IndexByte(b[off:], '\n'); nl >= 0 {
			end = off + nl + 1
		}
		line := b[off:end]
		switch {
		case open < 0 && bytes.Contains(line, []byte("-----BEGIN ")) && bytes.Contains(line, []byte("PRIVATE KEY")):
			if !bytes.Contains(line, []byte("-----END ")) {
				open = off
			}
		case open >= 0 && bytes.Contains(line, []byte("-----END ")):
			open = -1
		}
		off = end
	}
	if open >= 0 {
		return b[:open]
	}
	return b
}

// diffScan is what one pass over a unified diff learns.
type diffScan struct {
	files    []diffFile // as parseGitDiffFiles finds them, the last one kept
	withheld []string   // as withholdDiff lists them
	text     string     // the beginning of withholdDiff's diff, at most keep bytes
	textCut  bool       // text is not all of it
}

// Files returns the diff's files; of a cut diff, the last, whose counts
// may be partial, is left out, as parseGitDiffFiles does.
func (s *diffScan) Files(cut bool) []diffFile {
	if cut && len(s.files) > 0 {
		return s.files[:len(s.files)-1]
	}
	return s.files
}

// ByPath returns [diffScan.Files] by path, as parseGitDiff does.
func (s *diffScan) ByPath(cut bool) map[string]diffFile { return diffFilesByPath(s.Files(cut)) }

// scanDiff reads a unified diff and learns, in one pass, what
// parseGitDiffFiles and withholdDiff learn from the whole text, holding the
// files' counts and at most keep bytes of the diff's text. allowed is the
// policy, nil when there is none: a section (a file's part) naming a path
// it refuses is left out of the text and listed in withheld. With a
// policy, a section whose header holds a line longer than diffLineMax is
// withheld: its paths could not be read whole. A cut text ending inside a
// private key block ends before it (see dropOpenKeyBlock).
func scanDiff(r io.Reader, keep int, allowed func(path string) bool) (*diffScan, error) {
	d := &diffScanner{keep: keep, allowed: allowed, cur: -1}
	if err := scanDiffLines(r, max(keep+1, diffLineMax), d.line); err != nil {
		return nil, err
	}
	d.endSection()
	if d.textCut {
		d.text = dropOpenKeyBlock(d.text)
	}
	return &diffScan{files: d.files, withheld: d.withheld, text: string(d.text), textCut: d.textCut}, nil
}

// diffScanner is scanDiff's state.
type diffScanner struct {
	keep    int
	allowed func(string) bool

	// The files and their counts, as parseGitDiffFiles reads them.
	files  []diffFile
	cur    int // files' index of the file being read; -1 before the first
	inHunk bool

	// The policy's sections, as withholdDiff reads them (with a policy only).
	inSection   bool
	deciding    bool   // still in the section's header: its paths are not all known
	secAllowed  bool   // every path the section names so far is allowed
	pending     []byte // the section's header, kept until decided
	pendingOver bool   // pending lost bytes, past keep
	name        string // the section's file, as parseGitDiffFiles reads the section alone
	nameOpen    bool   // name may still change: a "diff --git" section before its first hunk

	withheld []string
	text     []byte
	textCut  bool // some of the text was not kept: nothing more is
}

var (
	diffGitPrefix   = []byte("diff --git ")
	diffCCPrefix    = []byte("diff --cc ")
	diffCombined    = []byte("diff --combined ")
	hunkPrefix      = []byte("@@")
	binaryPrefix    = []byte("Binary files ")
	gitBinaryPrefix = []byte("GIT binary patch")
)

func (d *diffScanner) line(line []byte, long bool) bool {
	l := bytes.TrimSuffix(line, []byte("\n"))
	d.count(l)
	if d.allowed == nil {
		d.keepText(line)
		return true
	}
	if bytes.HasPrefix(l, diffGitPrefix) || bytes.HasPrefix(l, diffCCPrefix) || bytes.HasPrefix(l, diffCombined) {
		d.endSection()
		d.inSection, d.deciding, d.secAllowed = true, true, !long
		d.pending, d.pendingOver = d.pending[:0], false
		header := string(l)
		diffHeaderPaths(header, d.check)
		d.name, d.nameOpen = "", bytes.HasPrefix(l, diffGitPrefix)
		if d.nameOpen {
			d.name = diffGitPath(header[len(diffGitPrefix):])
		}
		d.keepPending(line)
		return true
	}
	if !d.inSection {
		d.keepText(line) // the preamble
		return true
	}
	if d.nameOpen {
		if bytes.HasPrefix(l, hunkPrefix) {
			d.nameOpen = false
		} else if p, ok := diffPathLine(l); ok {
			d.name = p
		}
	}
	if !d.deciding {
		if d.secAllowed {
			d.keepText(line)
		}
		return true
	}
	if bytes.HasPrefix(l, hunkPrefix) || bytes.HasPrefix(l, binaryPrefix) || bytes.HasPrefix(l, gitBinaryPrefix) {
		d.decide() // the file's content starts: no more names
		if d.secAllowed {
			d.keepText(line)
		}
		return true
	}
	if long {
		d.secAllowed = false
	}
	if s := string(l); strings.HasPrefix(s, "--- ") {
		d.check(strings.TrimPrefix(unquoteGitPath(s[len("--- "):]), "a/"))
	} else if strings.HasPrefix(s, "+++ ") {
		d.check(strings.TrimPrefix(unquoteGitPath(s[len("+++ "):]), "b/"))
	} else {
		for _, prefix := range []string{"rename from ", "rename to ", "copy from ", "copy to "} {
			if name, ok := strings.CutPrefix(s, prefix); ok {
				d.check(unquoteGitPath(name))
			}
		}
	}
	d.keepPending(line)
	return true
}

// count follows parseGitDiffFiles over one line, l, without its newline.
func (d *diffScanner) count(l []byte) {
	if bytes.HasPrefix(l, diffGitPrefix) {
		d.files = append(d.files, diffFile{Path: diffGitPath(string(l[len(diffGitPrefix):])), Status: "modified"})
		d.cur, d.inHunk = len(d.files)-1, false
		return
	}
	if d.cur < 0 || len(l) == 0 {
		return
	}
	cur := &d.files[d.cur]
	if d.inHunk {
		switch l[0] {
		case '+':
			cur.Additions++
		case '-':
			cur.Deletions++
		}
		return
	}
	switch {
	case bytes.HasPrefix(l, hunkPrefix):
		d.inHunk = true
	case bytes.HasPrefix(l, []byte("new file mode")):
		cur.Status = "added"
	case bytes.HasPrefix(l, []byte("deleted file mode")):
		cur.Status = "deleted"
	case bytes.HasPrefix(l, []byte("rename to ")):
		cur.Status, cur.Path = "renamed", unquoteGitPath(string(l[len("rename to "):]))
	case bytes.HasPrefix(l, []byte("copy to ")):
		cur.Status, cur.Path = "copied", unquoteGitPath(string(l[len("copy to "):]))
	case bytes.HasPrefix(l, []byte("+++ ")):
		if p := unquoteGitPath(string(l[len("+++ "):])); strings.HasPrefix(p, "b/") {
			cur.Path = p[2:]
		}
	}
}

// diffPathLine reads the path a header line of a file's section gives the
// file, as parseGitDiffFiles does: "rename to", "copy to" or "+++ b/".
func diffPathLine(l []byte) (string, bool) {
	switch {
	case bytes.HasPrefix(l, []byte("rename to ")):
		return unquoteGitPath(string(l[len("rename to "):])), true
	case bytes.HasPrefix(l, []byte("copy to ")):
		return unquoteGitPath(string(l[len("copy to "):])), true
	case bytes.HasPrefix(l, []byte("+++ ")):
		if p := unquoteGitPath(string(l[len("+++ "):])); strings.HasPrefix(p, "b/") {
			return p[2:], true
		}
	}
	return "", false
}

// check is a path the section names: one the policy refuses withholds it.
func (d *diffScanner) check(path string) {
	if path != "" && path != "/dev/null" && d.secAllowed && !d.allowed(path) {
		d.secAllowed = false
	}
}

// decide ends the section's header: an allowed section's goes to the text.
func (d *diffScanner) decide() {
	if !d.deciding {
		return
	}
	d.deciding = false
	if d.secAllowed {
		d.keepText(d.pending)
		if d.pendingOver {
			d.textCut = true
		}
	}
	d.pending = d.pending[:0]
}

// endSection ends the section being read, listing it if withheld.
func (d *diffScanner) endSection() {
	if !d.inSection {
		return
	}
	d.decide()
	if !d.secAllowed && d.name != "" && !slices.Contains(d.withheld, d.name) {
		d.withheld = append(d.withheld, d.name)
	}
	d.inSection = false
}

// keepPending keeps a line of a section's header until it is decided.
func (d *diffScanner) keepPending(line []byte) {
	if d.pendingOver {
		return
	}
	if room := d.keep - len(d.pending); len(line) > room {
		d.pending, d.pendingOver = appendKept(d.pending, line[:room]), true
		return
	}
	d.pending = appendKept(d.pending, line)
}

// keepText adds to the text while it has room; once anything did not fit,
// nothing more is added, so the text is always the diff's beginning.
func (d *diffScanner) keepText(b []byte) {
	if d.textCut || len(b) == 0 {
		return
	}
	if room := d.keep - len(d.text); len(b) > room {
		d.text, d.textCut = appendKept(d.text, b[:room]), true
		return
	}
	d.text = appendKept(d.text, b)
}

// appendKept is append for a kept text, growing it by doubling (append
// grows a large slice by a quarter, which costs several times the text in
// copies): keeping n bytes allocates less than 2n.
func appendKept(dst, src []byte) []byte {
	if need := len(dst) + len(src); need > cap(dst) {
		grown := make([]byte, len(dst), max(need, 2*cap(dst), 4<<10))
		copy(grown, dst)
		dst = grown
	}
	return append(dst, src...)
}
