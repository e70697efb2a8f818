package textsafe

import (
	"strings"
	"unicode/utf8"
)

// invisible reports whether r is a character that renders as nothing or
// reorders text: Unicode tag characters (used to smuggle ASCII past human
// readers), BiDi embeddings, overrides and isolates, zero-width characters,
// the byte-order mark, and C0/C1 controls other than tab, newline and
// carriage return.
func invisible(r rune) bool {
	switch {
	case r >= 0xE0000 && r <= 0xE007F: // tag characters
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C: // BiDi
		return true
	case r >= 0x200B && r <= 0x200D, r == 0x2060, r == 0xFEFF, r == 0x180E, r == 0x00AD, r >= 0x2061 && r <= 0x2064: // zero-width, soft hyphen, invisible operators
		return true
	case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7F, r >= 0x80 && r <= 0x9F: // controls
		return true
	case r == utf8.RuneError:
		return true
	}
	return false
}

// Clean returns s without invisible, direction-changing and control
// characters; invalid UTF-8 is dropped. Visible text is unchanged.
func Clean(s string) string {
	if !strings.ContainsFunc(s, invisible) && utf8.ValidString(s) {
		return s // the common case allocates nothing
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !invisible(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
