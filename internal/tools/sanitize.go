package tools

// The output walker: every tool result passes through it once, in
// Call.Run, as encoded JSON. Every string in it, object keys too, is
// cleaned of invisible and direction-changing characters and then has its
// secrets masked, whatever type the tool gave the field; and the walker
// names the fields that hold user-controlled text, for the untrusted
// marker. It reads the bytes json.Marshal wrote: a string that needs no
// change is copied as it is (and the whole result is, when none changes);
// only a changed string is decoded and encoded again.

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/textsafe"
)

// resultField names the values of a result that is not a JSON object.
var resultField = []byte("result")

// enumField reports whether Gitea or this server picks the values of the
// field name from a fixed set (an issue's state, a status, a merge style, a
// file's type), so that a value of one word there is machine-made. A value
// with anything else (a space, a dot, a slash) counts as user-controlled
// even here.
func enumField(name []byte) bool {
	switch string(name) {
	case "state", "status", "conclusion", "type", "event", "ref_action", "style", "merge_style", "operation", "permission", "visibility", "color":
		return true
	}
	return false
}

// sanitize cleans and masks every string of data, the JSON encoding of a
// tool result, and returns the result and the fields that hold
// user-controlled text, in the order they first appear. A string value is
// user-controlled unless it is machine-made (see [machineMade]); an object
// key that is not a plain field name (a map's key), or that cleaning or
// masking changed, makes the field holding the object user-controlled. data is returned as it is when nothing
// changes. With mask false (secret masking off) strings are cleaned only.
func sanitize(data []byte, mask bool) ([]byte, []string) {
	w := walker{src: data, mask: mask}
	w.walk()
	if w.out == nil {
		return data, w.fields
	}
	return append(w.out, data[w.done:]...), w.fields
}

type walker struct {
	src    []byte
	mask   bool
	out    []byte // the result so far, nil until a string changes
	done   int    // src[:done] is in out
	fields []string
}

// frame is an open object or array.
type frame struct {
	object bool
	name   []byte // the field the container is the value of
	key    []byte // in an object, the field its next value belongs to
}

func (w *walker) walk() {
	var stackBuf [16]frame
	stack := stackBuf[:0]
	expectKey := false
	for i := 0; i < len(w.src); {
		switch c := w.src[i]; c {
		case '{', '[':
			stack = append(stack, frame{object: c == '{', name: fieldAt(stack)})
			expectKey = c == '{'
			i++
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			i++
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1].object
			i++
		case '"':
			end, value, changed := w.string(i)
			if expectKey && len(stack) > 0 {
				top := &stack[len(stack)-1]
				top.key = value
				if !fieldName(value) {
					top.key = top.name
				}
				if changed || !fieldName(value) { // a key Gitea users wrote
					w.user(top.name)
				}
				expectKey = false
			} else if field := fieldAt(stack); !machineMade(field, value) {
				w.user(field)
			}
			i = end
		default: // ':', numbers, true, false, null
			i++
		}
	}
}

// fieldAt is the field a value at the top of stack belongs to: the
// current key of an object, the field an array is the value of.
func fieldAt(stack []frame) []byte {
	if len(stack) == 0 {
		return resultField
	}
	if top := &stack[len(stack)-1]; top.object {
		return top.key
	}
	return stack[len(stack)-1].name
}

// user records that field holds user-controlled text.
func (w *walker) user(field []byte) {
	for _, f := range w.fields {
		if f == string(field) {
			return
		}
	}
	w.fields = append(w.fields, string(field))
}

// string handles the JSON string starting at src[start] and returns the
// index after it, its content as it now stands, still JSON-escaped, and
// whether cleaning or masking changed it.
func (w *walker) string(start int) (end int, value []byte, changed bool) {
	src := w.src
	i := start + 1
	escaped, high, trigger, dirty := false, false, false, false
scan:
	for ; i < len(src); i++ {
		switch byteClass[src[i]] {
		case plainByte:
		case quoteByte:
			break scan
		case escapeByte:
			if i+1 >= len(src) {
				continue
			}
			escaped = true
			if e := src[i+1]; e == 'u' && i+5 < len(src) {
				dirty = dirty || !keptEscape(src[i+2:i+6])
				i += 5
			} else {
				dirty = dirty || e == 'b' || e == 'f'
				i++
			}
		case highByte:
			high = true
		case triggerByte:
			trigger = true
		}
	}
	raw := src[start+1 : min(i, len(src))]
	end = min(i+1, len(src))
	dirty = dirty || high && textsafe.NeedsCleaning(raw)
	if mayHideSecret := w.mask && trigger && textsafe.MayHoldSecret(raw); !dirty && !mayHideSecret {
		return end, raw, false
	}
	var text string
	if escaped {
		text = string(unquote(nil, raw))
	} else {
		text = string(raw)
	}
	s := text
	if dirty {
		s = textsafe.Clean(s)
	}
	if w.mask {
		s, _ = textsafe.MaskSecrets(s)
	}
	if s == text {
		return end, raw, false
	}
	if w.out == nil {
		w.out = make([]byte, 0, len(src)+len(s)-len(raw)+64)
	}
	w.out = append(w.out, src[w.done:start]...)
	w.out = append(w.out, '"')
	from := len(w.out)
	w.out = appendQuoted(w.out, s)
	value = w.out[from:len(w.out):len(w.out)]
	w.out = append(w.out, '"')
	w.done = end
	return end, value, true
}

// Classes of the bytes of an encoded string, for the walker's one pass.
const (
	plainByte   = iota
	quoteByte   // its end
	escapeByte  // a backslash
	highByte    // DEL or part of a non-ASCII character: it may need cleaning
	triggerByte // it may start a secret's look-up: [textsafe.SecretTriggers]
)

var byteClass = func() (class [256]uint8) {
	for _, c := range []byte(textsafe.SecretTriggers) {
		class[c] = triggerByte
	}
	for c := 0x7F; c < len(class); c++ {
		class[c] = highByte
	}
	class['"'], class['\\'] = quoteByte, escapeByte
	return class
}()

// keptEscape reports whether the \u escape with these four hex digits
// stands for a character Clean keeps and json.Marshal escapes: <, >, &,
// U+2028 and U+2029. Any other (a control, U+FFFD for invalid UTF-8)
// sends the string through Clean.
func keptEscape(hex []byte) bool {
	switch string(hex) {
	case "003c", "003e", "0026", "2028", "2029", "003C", "003E":
		return true
	}
	return false
}

// fieldName reports whether a key is a plain field name, as tools name
// their output fields: lower-case ASCII letters, digits and underscores.
func fieldName(key []byte) bool {
	if len(key) == 0 || len(key) > 64 {
		return false
	}
	for _, c := range key {
		if lower, digit := 'a' <= c && c <= 'z', '0' <= c && c <= '9'; !lower && !digit && c != '_' {
			return false
		}
	}
	return true
}

// machineMade reports whether value, a JSON string's escaped content, is
// one no Gitea user wrote, under the field name: empty; an enum word under
// an enum field ([enumField]); or by its shape a hex
// object id or colour (with a digit: SHAs, "ee0701"), a number, a boolean,
// an RFC 3339 time or a date. Anything else is user-controlled: names,
// paths, refs, titles, bodies, labels, contexts, logins, e-mail addresses
// URLs (which carry repository, branch, file and asset names) and this
// server's notes (which may quote a name).
func machineMade(name, value []byte) bool {
	switch {
	case len(value) == 0:
		return true
	case enumField(name) && enumWord(value):
		return true
	}
	return hexID(value) || digits(value) || timestamp(value) || string(value) == "true" || string(value) == "false"
}

// enumWord reports whether v is one word of letters, digits, '_' and '-'
// starting with a letter, as enum values are (open, REQUEST_CHANGES,
// rebase-merge).
func enumWord(v []byte) bool {
	if len(v) > 40 || len(v) == 0 || !asciiLetter(v[0]) {
		return false
	}
	for _, c := range v {
		if digit := '0' <= c && c <= '9'; !asciiLetter(c) && !digit && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func asciiLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// hexID reports whether v is a lower-case hex string of at least six
// digits holding a digit (a SHA, an abbreviated one, a colour), with or
// without a leading '#'.
func hexID(v []byte) bool {
	v = bytes.TrimPrefix(v, []byte("#"))
	if len(v) < 6 || len(v) > 64 {
		return false
	}
	digit := false
	for _, c := range v {
		switch {
		case '0' <= c && c <= '9':
			digit = true
		case 'a' <= c && c <= 'f':
		default:
			return false
		}
	}
	return digit
}

// digits reports whether v is a decimal number.
func digits(v []byte) bool {
	v = bytes.TrimPrefix(v, []byte("-"))
	if len(v) == 0 || len(v) > 32 {
		return false
	}
	for _, c := range v {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// timestamp reports whether v is an RFC 3339 time (2006-01-02T15:04:05Z,
// with fractions or an offset) or a date (2006-01-02).
func timestamp(v []byte) bool {
	shape := func(v []byte, pattern string) bool {
		for i := range len(pattern) {
			if pattern[i] == '9' {
				if v[i] < '0' || v[i] > '9' {
					return false
				}
			} else if v[i] != pattern[i] {
				return false
			}
		}
		return true
	}
	const date, clock = "9999-99-99", "9999-99-99T99:99:99"
	if len(v) == len(date) {
		return shape(v, date)
	}
	if len(v) < len(clock)+1 || len(v) > 40 || !shape(v, clock) {
		return false
	}
	rest := v[len(clock):]
	if rest[0] == '.' {
		rest = rest[1:]
		for len(rest) > 0 && '0' <= rest[0] && rest[0] <= '9' {
			rest = rest[1:]
		}
	}
	return string(rest) == "Z" || len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && shape(rest[1:], "99:99")
}

// unquote appends the text of raw, a JSON string's escaped content, to dst.
func unquote(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			dst = append(dst, c)
			i++
			continue
		}
		e := raw[i+1]
		i += 2
		switch e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(raw, i)
			if !ok {
				dst = utf8.AppendRune(dst, utf8.RuneError)
				continue
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(raw, i+2); ok && i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					}
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
	}
	return dst
}

// hex4 reads the four hex digits at raw[i:].
func hex4(raw []byte, i int) (rune, bool) {
	if i+4 > len(raw) {
		return 0, false
	}
	var r rune
	for _, c := range raw[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c|0x20 && c|0x20 <= 'f':
			c = (c | 0x20) - 'a' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendQuoted appends s escaped as json.Marshal escapes it, without the
// quotes: HTML characters and the line and paragraph separators escaped.
func appendQuoted(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, '\\', 'n')
		case r == '\r':
			dst = append(dst, '\\', 'r')
		case r == '\t':
			dst = append(dst, '\\', 't')
		case r < 0x20 || r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}
