package textsafe

import (
	"strings"
	"unicode/utf8"
)

// Emoji joiners: the zero-width joiner of emoji sequences and the emoji
// presentation selector. They are kept only where an emoji needs them;
// anywhere else they are invisible and go.
const (
	zwj           = 0x200D
	emojiSelector = 0xFE0F
)

// invisible reports whether r is a character that renders as nothing or
// reorders text, and is always removed: Unicode tag characters and variation
// selectors (both used to smuggle bytes past human readers), BiDi
// embeddings, overrides and isolates, zero-width characters and invisible
// operators, the byte-order mark, fillers that render as blank space (the
// Hangul fillers, the braille blank, Khmer inherent vowels, Mongolian
// selectors, musical format marks, the combining grapheme joiner,
// interlinear annotation marks), and C0/C1 controls other than tab,
// newline and carriage return. The emoji joiners are judged by Clean in
// context.
func invisible(r rune) bool {
	switch {
	case r >= 0xE0000 && r <= 0xE007F: // tag characters
		return true
	case r >= 0xFE00 && r <= 0xFE0E, r >= 0xE0100 && r <= 0xE01EF: // variation selectors but the emoji one
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C: // BiDi
		return true
	case r >= 0x200B && r <= 0x200C, r == 0x2060, r == 0xFEFF, r == 0x00AD, r >= 0x2061 && r <= 0x2065, r >= 0x206A && r <= 0x206F:
		return true // zero-width, soft hyphen, invisible operators, deprecated format characters
	case r == 0x3164, r == 0x115F, r == 0x1160, r == 0xFFA0, r == 0x2800, r == 0x034F, r == 0x17B4, r == 0x17B5:
		return true // blank fillers, the combining grapheme joiner, Khmer inherent vowels
	case r >= 0x180B && r <= 0x180F, r >= 0x1D173 && r <= 0x1D17A, r >= 0xFFF9 && r <= 0xFFFB:
		return true // Mongolian selectors and vowel separator, musical format marks, interlinear annotations
	case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7F, r >= 0x80 && r <= 0x9F: // controls
		return true
	case r == utf8.RuneError:
		return true
	}
	return false
}

// emoji reports whether r can start or continue an emoji sequence: the
// pictographic blocks, skin-tone modifiers and regional indicators, and the
// older symbols that take the emoji selector.
func emoji(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF, r >= 0x2600 && r <= 0x27BF, r >= 0x2190 && r <= 0x21FF, r >= 0x2300 && r <= 0x23FF,
		r >= 0x2B00 && r <= 0x2BFF, r >= 0x2900 && r <= 0x297F, r >= 0x3030 && r <= 0x303D, r == 0x3297, r == 0x3299:
		return true
	case r == 0x00A9, r == 0x00AE, r == 0x203C, r == 0x2049, r == 0x2122, r == 0x2139, r == 0x24C2:
		return true
	}
	return false
}

// keycapBase reports whether r can take the emoji selector before the
// combining keycap (1️⃣, #️⃣).
func keycapBase(r rune) bool { return r >= '0' && r <= '9' || r == '#' || r == '*' }

// Clean returns s without invisible, direction-changing and control
// characters; invalid UTF-8 is dropped. An emoji selector is kept only
// right after an emoji or a keycap base, and a zero-width joiner only
// between two emoji, so emoji sequences (👨‍👩‍👧, 🏳️‍🌈, ❤️, 1️⃣) stay whole
// while neither can carry hidden text elsewhere. Visible text is
// unchanged.
func Clean(s string) string {
	if !strings.ContainsFunc(s, dropped) && utf8.ValidString(s) {
		return s // the common case allocates nothing
	}
	var b strings.Builder
	b.Grow(len(s))
	var prev rune // the last rune written
	for i, r := range s {
		switch {
		case invisible(r):
			continue
		case r == emojiSelector && !selectable(prev):
			continue
		case r == zwj && !joinable(prev, nextRune(s, i+utf8.RuneLen(r))):
			continue
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// selectable reports whether the emoji selector may follow prev.
func selectable(prev rune) bool { return emoji(prev) || keycapBase(prev) }

// joinable reports whether a zero-width joiner may stand between prev and next.
func joinable(prev, next rune) bool { return (emoji(prev) || prev == emojiSelector) && emoji(next) }

// dropped reports whether Clean might remove r: the fast path's test.
func dropped(r rune) bool { return invisible(r) || r == zwj || r == emojiSelector }

// NeedsCleaning reports whether Clean might change the text b: it holds
// invalid UTF-8 or a character Clean removes, or an emoji selector or
// joiner (which Clean keeps inside an emoji sequence). It allocates
// nothing, so that callers holding bytes skip Clean for clean text.
func NeedsCleaning(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7F {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if dropped(r) { // utf8.RuneError, for invalid UTF-8, is dropped
			return true
		}
		i += n
	}
	return false
}

// nextRune is the rune at s[i], skipping emoji selectors and invisible
// runes Clean drops; 0 at the end.
func nextRune(s string, i int) rune {
	for _, r := range s[i:] {
		if !invisible(r) && r != emojiSelector {
			return r
		}
	}
	return 0
}
