package policy

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxPathLen bounds a request path, in bytes; maxPatternLen a pattern.
const (
	maxPathLen    = 4096
	maxPatternLen = 1024
)

// fold returns s case-folded: every rune becomes the smallest rune of its
// Unicode simple-folding orbit, so fold(a) == fold(b) exactly when
// strings.EqualFold(a, b) for single runes (K, k and the Kelvin sign all
// fold alike). Invalid UTF-8 bytes become U+FFFD.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'a' <= c && c <= 'z' {
			ascii = false
			break
		}
	}
	if ascii {
		return s // already folded: no lower-case ASCII letters
	}
	return strings.Map(foldRune, s)
}

func foldRune(r rune) rune {
	low := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < low {
			low = f
		}
	}
	return low
}

// matchStar reports whether name matches glob, in which '*' matches any
// run of bytes (none included) and every other byte only itself. Both are
// UTF-8, so a literal can only match at a rune boundary. It runs in
// O(len(glob)·len(name)) at worst.
func matchStar(glob, name string) bool {
	g, n := 0, 0
	star, mark := -1, 0
	for g < len(glob) || n < len(name) {
		if g < len(glob) {
			if c := glob[g]; c == '*' {
				star, mark = g, n
				g++
				continue
			} else if n < len(name) && name[n] == c {
				g++
				n++
				continue
			}
		}
		if star >= 0 && mark < len(name) {
			mark++
			g, n = star+1, mark
			continue
		}
		return false
	}
	return true
}

// namePattern is a tools or toolsets entry.
type namePattern struct {
	raw    string // as written, for Decision.Rule
	folded string
}

func (p namePattern) match(folded string) bool { return matchStar(p.folded, folded) }

// validName reports whether s holds only the characters of tool, toolset,
// owner, repository and user names, plus '*' when glob is true.
func validName(s string, glob bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		case c == '*' && glob:
		default:
			return false
		}
	}
	return true
}

// pathPattern is a paths entry, split into segments; "**" is a segment of
// its own.
type pathPattern struct {
	raw    string
	segs   []string // as written, for allow
	folded []string // folded, for deny
}

// newPathPattern checks and splits a paths entry; problem says what is
// wrong with it.
func newPathPattern(raw string) (pat pathPattern, problem string) {
	switch {
	case raw == "":
		return pat, "an empty path pattern"
	case len(raw) > maxPatternLen:
		return pat, "a path pattern longer than 1024 bytes"
	case !utf8.ValidString(raw):
		return pat, "a path pattern that is not valid UTF-8"
	case strings.ContainsFunc(raw, isControl):
		return pat, "a control character in a path pattern"
	case strings.ContainsAny(raw, `\?[]{}`):
		return pat, `unsupported glob syntax (only * and ** are supported; \ ? [ ] { } are refused)`
	case raw[0] == '/':
		return pat, "an absolute path pattern (paths are relative to the repository root)"
	case raw[0] == '!':
		return pat, "a path pattern starting with ! (negation is not supported: use allow and deny)"
	}
	segs := strings.Split(strings.TrimSuffix(raw, "/"), "/")
	for _, s := range segs {
		switch {
		case s == "":
			return pat, "an empty segment (//) in a path pattern"
		case s == "." || s == "..":
			return pat, `a "." or ".." segment in a path pattern`
		case s != "**" && strings.Contains(s, "**"):
			return pat, `"**" inside a segment (it must be a whole segment, as in src/**/x)`
		}
	}
	pat = pathPattern{raw: raw, segs: segs, folded: make([]string, len(segs))}
	for i, s := range segs {
		pat.folded[i] = fold(s)
	}
	return pat, ""
}

// covers reports whether the pattern segments pat match path or one of the
// directories above it (a prefix of path, the root included). It is the
// wildcard algorithm of matchStar one level up, "**" playing '*' over
// segments, with an implicit trailing "**": a pattern used up has matched
// a prefix. It takes O(len(pat)·len(path)) calls of matchStar at worst.
func (pathPattern) covers(pat, path []string) bool {
	p, n := 0, 0
	star, mark := -1, 0
	for {
		switch {
		case p == len(pat):
			return true
		case pat[p] == "**":
			star, mark = p, n
			p++
		case n < len(path) && matchStar(pat[p], path[n]):
			p++
			n++
		case star >= 0 && mark < len(path):
			mark++
			p, n = star+1, mark
		default:
			return false
		}
	}
}

// isControl reports C0 and C1 control characters and DEL.
func isControl(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f }

// cleanPath checks a request path and returns its cleaned segments (none
// for the root), or a problem that denies it.
func cleanPath(p string) (segs []string, problem string) {
	switch {
	case len(p) > maxPathLen:
		return nil, "a path is longer than 4096 bytes"
	case !utf8.ValidString(p):
		return nil, "a path is not valid UTF-8"
	case strings.ContainsFunc(p, isControl):
		return nil, "a path holds a control character"
	case strings.ContainsRune(p, '\\'):
		return nil, "a path holds a backslash"
	case strings.HasPrefix(p, "/"):
		return nil, "a path is absolute"
	}
	c := path.Clean(p)
	switch {
	case c == "..", strings.HasPrefix(c, "../"):
		return nil, "a path leads out of the repository"
	case c == ".":
		return nil, ""
	}
	return strings.Split(c, "/"), ""
}
