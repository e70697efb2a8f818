package gitea

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits on arguments, checked before any request is sent.
const (
	maxNameLen = 100
	maxPathLen = 4096
	maxRefLen  = 255
	// maxProseLen bounds a long text sent to Gitea (a body, a page, a
	// description); the server's MAX_WRITE_BYTES bounds a whole call first.
	maxProseLen = 16 << 20
)

// namePattern is Gitea's alphabet for user, organisation and repository names.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// ValidName reports whether s could be a Gitea owner or repository name.
func ValidName(s string) bool { return checkName("name", s) == nil }

// checkName refuses anything that is not a plausible Gitea owner or
// repository name, so a name can never change the shape of an API path.
func checkName(what, s string) error {
	if s == "" || len(s) > maxNameLen || s == "." || s == ".." || !namePattern.MatchString(s) {
		return invalid("%s must be 1-%d letters, digits, '-', '_' or '.'", what, maxNameLen)
	}
	return nil
}

// escapeRepoPath validates a path inside a repository and returns it with
// each segment escaped. It refuses absolute paths, empty, "." and ".."
// segments, backslashes and control characters.
func escapeRepoPath(p string) (string, error) {
	if p == "" || len(p) > maxPathLen {
		return "", invalid("path must be 1-%d bytes", maxPathLen)
	}
	if hasControl(p) || strings.Contains(p, `\`) {
		return "", invalid("path must not contain control characters or backslashes")
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if s == "" || s == "." || s == ".." {
			return "", invalid("path must be relative to the repository root, without empty, '.' or '..' segments")
		}
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/"), nil
}

// checkRef accepts an empty ref (the default branch) or a branch, tag or
// commit name without control characters.
func checkRef(ref string) error {
	if len(ref) > maxRefLen || hasControl(ref) {
		return invalid("ref must be at most %d bytes without control characters", maxRefLen)
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// setState adds an open/closed/all state filter to q; empty adds none.
func setState(q url.Values, state string) error {
	switch state {
	case "":
	case "open", "closed", "all":
		q.Set("state", state)
	default:
		return invalid("state must be open, closed or all")
	}
	return nil
}

// checkProse accepts free text of at most limit bytes: valid UTF-8 without
// control characters other than tab, newline and carriage return.
func checkProse(what, s string, limit int) error {
	if len(s) > limit || !utf8.ValidString(s) ||
		strings.ContainsFunc(s, func(r rune) bool { return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f }) {
		return invalid("%s must be at most %d bytes of text without control characters other than tabs and line breaks", what, limit)
	}
	return nil
}
