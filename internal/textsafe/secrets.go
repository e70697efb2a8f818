package textsafe

import (
	"bytes"
	"regexp"
	"strings"
)

// Mode says what to do with secrets found in returned content.
type Mode string

// Modes; the zero value behaves as Mask.
const (
	Mask  Mode = "mask"  // replace each secret with a marker
	Block Mode = "block" // refuse to return content holding a secret
	Off   Mode = "off"   // return content as it is
)

// Masked replaces a secret in returned content.
const Masked = "[MASKED SECRET]"

// A secretPattern finds one kind of credential within a line. The first
// capture group that took part in a match, when there is one, is the secret
// part; otherwise the whole match is. bit is the pattern's flag in the
// result of [candidates], which runs a pattern only on lines that can hold
// its match.
type secretPattern struct {
	re  *regexp.Regexp
	bit uint16
}

// Candidate flags, set by [candidates].
const (
	candAWS       uint16 = 1 << iota // AKIA, ASIA
	candGitHub                       // gh?_
	candGitHubPAT                    // github_pat_
	candGitLab                       // glpat-
	candGitea                        // gto_
	candSlack                        // xox
	candStripe                       // sk_live_, sk_test_
	candOpenAI                       // sk-
	candGoogle                       // AIza
	candJWT                          // eyJ
	candURL                          // :// and @
	candKeyword                      // a secret's key name and ':' or '='
	candPEM                          // -----BEGIN, across lines
)

// secretKey is the part of a key name that says it holds a secret. A key
// is matched in any case, with whatever letters, digits and _.- surround
// this part: DB_PASSWORD, github_token, x-api-key.
var secretKey = `[A-Za-z0-9_.-]*(?:` + asciiFold(`secret|passw(?:or)?d|passwd|token|api[_-]?key|apikey|private[_-]?key|access[_-]?key|credential`) + `)[A-Za-z0-9_.-]*`

// asciiFold makes the lower-case letters of expr match in either case,
// ASCII only: (?i) would also let the long s and the Kelvin sign stand for
// s and k, which [candidates] does not look for.
func asciiFold(expr string) string {
	var b strings.Builder
	for _, r := range expr {
		if 'a' <= r && r <= 'z' {
			b.WriteString("[" + string(r) + string(r-'a'+'A') + "]")
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pemPattern finds PEM private keys, whole blocks, across lines.
var pemPattern = regexp.MustCompile(`-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----`)

// secretPatterns find credentials within one line, in this order.
var secretPatterns = []secretPattern{
	// Well-known token formats.
	{regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`), candAWS},                                        // AWS access key id
	{regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{36,}\b`), candGitHub},                                    // GitHub tokens
	{regexp.MustCompile(`\bgithub_pat_[A-Za-z0-9_]{40,}\b`), candGitHubPAT},                               // GitHub fine-grained PAT
	{regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}\b`), candGitLab},                                      // GitLab PAT
	{regexp.MustCompile(`\bgto_[A-Za-z0-9]{20,}\b`), candGitea},                                           // Gitea OAuth client secret
	{regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}\b`), candSlack},                                  // Slack
	{regexp.MustCompile(`\bsk_(?:live|test)_[A-Za-z0-9]{16,}\b`), candStripe},                             // Stripe
	{regexp.MustCompile(`\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}\b`), candOpenAI},                          // OpenAI / Anthropic keys
	{regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`), candGoogle},                                         // Google API key
	{regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b`), candJWT}, // JWTs
	// Credentials in URLs: scheme://user:password@host.
	{regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:([^\s/@]+)@`), candURL},
	// .env and config assignments whose key names a secret, at the start
	// of a line, also as an added or removed line of a diff:
	// API_KEY=..., "password": "...", db_password: ..., +deploy_token = ...
	{regexp.MustCompile(`^[+-]?[ \t]*(?:` + asciiFold("export") + `[ \t]+)?["']?` + secretKey + `["']?[ \t]*[:=][ \t]*["']?([^\s"'#=][^"'\n#]*)`), candKeyword},
	// Quoted values of such keys anywhere in a line, several to a line:
	// one-line JSON {"password": "...", "api_key": "..."}, {'token': '...'},
	// password="..." in a call. The key stands after a space, a bracket or
	// a comma, so that a quoted label ("Password:", "...") is no key.
	{regexp.MustCompile(`(?:^|[\s{(\[,])(?:"` + secretKey + `"|'` + secretKey + `'|` + secretKey + `)[ \t]*[:=][ \t]*(?:"((?:[^"\\\n]|\\.)*)"|'([^'\n]*)')`), candKeyword},
}

// placeholders are values that are obviously not secrets; masking them
// would only hide useful configuration examples.
var placeholders = regexp.MustCompile(`(?i)^(?:|x+|\*+|changeme|change_me|example|your[_-].*|<.*>|\$\{.*\}|\$[A-Z_]+|true|false|null|none|redacted|\[masked secret\])$`)

// MaskSecrets replaces every secret in s with [Masked] and returns the
// result and the number of secrets found. Text that holds none of the
// patterns' literal parts (a token prefix, a key name with ':' or '=')
// is returned as it is, without running a pattern.
func MaskSecrets(s string) (string, int) {
	c := candidates(s)
	if c == 0 {
		return s, 0
	}
	found := 0
	if c&candPEM != 0 {
		s, found = maskPattern(pemPattern, s)
	}
	if c&^candPEM == 0 {
		return s, found
	}
	var b strings.Builder // the result, once a line changed
	changed := false
	for start := 0; start < len(s); {
		end := len(s)
		if nl := strings.IndexByte(s[start:], '\n'); nl >= 0 {
			end = start + nl + 1
		}
		line := s[start:end]
		masked := line
		if c := candidates(line); c != 0 {
			for _, p := range secretPatterns {
				if c&p.bit != 0 {
					var n int
					masked, n = maskPattern(p.re, masked)
					found += n
				}
			}
		}
		if masked != line && !changed {
			changed = true
			b.Grow(len(s) + 64)
			b.WriteString(s[:start])
		}
		if changed {
			b.WriteString(masked)
		}
		start = end
	}
	if !changed {
		return s, found
	}
	return b.String(), found
}

// maskPattern masks the matches of re in s that are not placeholders.
func maskPattern(re *regexp.Regexp, s string) (string, int) {
	found := 0
	s = re.ReplaceAllStringFunc(s, func(m string) string {
		sub := re.FindStringSubmatchIndex(m)
		for g := 2; g+1 < len(sub); g += 2 {
			if sub[g] < 0 {
				continue
			}
			// mask the captured secret only
			secret := strings.TrimSpace(m[sub[g]:sub[g+1]])
			if placeholders.MatchString(secret) || strings.ContainsAny(secret, "()") { // a placeholder, or code
				return m
			}
			found++
			return m[:sub[g]] + Masked + m[sub[g+1]:]
		}
		if len(sub) > 2 { // capture groups, none of which took part
			return m
		}
		found++
		return Masked
	})
	return s, found
}

// MayHoldSecret reports whether b, text or its JSON encoding, may hold a
// secret [MaskSecrets] masks: false means it holds none. It allocates
// nothing.
func MayHoldSecret(b []byte) bool { return candidates(b) != 0 }

// SecretTriggers are the characters [MaskSecrets] starts its look-ups
// from: text holding none of them holds no secret it masks.
const SecretTriggers = ":=_-AJ"

// shortText is the length up to which [candidates] reads text byte by
// byte; longer text it searches for each trigger with a vectorised search.
const shortText = 256

// candidates flags the patterns that may match in s: those whose literal
// part it holds. Each literal is looked for from a character it must hold,
// one of [SecretTriggers]: the ':' or '=' after a key name, the '_' or '-'
// of a token prefix, the 'A' of AKIA or AIza, the 'J' of eyJ, the ':' of
// "://" (with an '@' in s), the first '-' of a PEM header. So text holding
// none of those costs one pass. No allocation.
func candidates[T string | []byte](s T) uint16 {
	var c uint16
	at := false
	if len(s) <= shortText {
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case ':', '=', '_', '-', 'A', 'J':
				c |= candidateAt(s, i, c)
			case '@':
				at = true
			}
		}
	} else {
		for k := 0; k < len(SecretTriggers); k++ {
			for i := indexByte(s, 0, SecretTriggers[k]); i >= 0; i = indexByte(s, i+1, SecretTriggers[k]) {
				c |= candidateAt(s, i, c)
			}
		}
		at = c&candURL != 0 && indexByte(s, 0, '@') >= 0
	}
	if !at {
		c &^= candURL
	}
	return c
}

// candidateAt flags the patterns whose literal part holds the trigger at
// s[i]; c, those flagged already, saves looking for a key name again.
func candidateAt[T string | []byte](s T, i int, c uint16) uint16 {
	switch s[i] {
	case ':', '=':
		var found uint16
		if s[i] == ':' && hasPrefixAt(s, i, "://") {
			found |= candURL
		}
		if c&candKeyword == 0 && !maskedAfter(s, i+1) && secretKeyBefore(s, i) {
			found |= candKeyword
		}
		return found
	case '_':
		switch {
		case i >= 3 && s[i-3] == 'g' && s[i-2] == 'h' && strings.IndexByte("pousr", s[i-1]) >= 0:
			return candGitHub
		case i >= 6 && hasPrefixAt(s, i-6, "github_pat_"):
			return candGitHubPAT
		case i >= 3 && hasPrefixAt(s, i-3, "gto_"):
			return candGitea
		case i >= 2 && s[i-2] == 's' && s[i-1] == 'k':
			return candStripe
		}
	case '-':
		switch {
		case hasPrefixAt(s, i, "-----BEGIN "):
			return candPEM
		case i >= 5 && hasPrefixAt(s, i-5, "glpat-"):
			return candGitLab
		case i >= 4 && hasPrefixAt(s, i-4, "xox"):
			return candSlack
		case i >= 2 && s[i-2] == 's' && s[i-1] == 'k':
			return candOpenAI
		}
	case 'A':
		if hasPrefixAt(s, i, "AKIA") || hasPrefixAt(s, i, "ASIA") {
			return candAWS
		} else if hasPrefixAt(s, i, "AIza") {
			return candGoogle
		}
	case 'J':
		if i >= 2 && s[i-2] == 'e' && s[i-1] == 'y' {
			return candJWT
		}
	}
	return 0
}

// secretKeyBefore reports whether the ':' or '=' at s[i] follows a key
// name that names a secret, as secretKey matches it: the name, maybe a
// quote, maybe blanks.
func secretKeyBefore[T string | []byte](s T, i int) bool {
	j := i
	for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	if j > 0 && (s[j-1] == '"' || s[j-1] == '\'') {
		j--
	}
	k := j
	for k > 0 && keyChar(s[k-1]) {
		k--
	}
	for ; k < j; k++ {
		if keyword(s, k, j) {
			return true
		}
	}
	return false
}

// maskedAfter reports whether s holds at i, after blanks and a quote
// (JSON-escaped or not), a value masked already: the text passed through
// here before.
func maskedAfter[T string | []byte](s T, i int) bool {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i < len(s) && s[i] == '\\' {
		i++
	}
	if i < len(s) && (s[i] == '"' || s[i] == '\'') {
		i++
	}
	return hasPrefixAt(s, i, Masked)
}

// keyChar reports whether c may be part of a key name.
func keyChar(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-'
}

// keyword reports whether s[i:end] starts with a key name's secret part
// (see secretKey), in any case.
func keyword[T string | []byte](s T, i, end int) bool {
	s = s[:end]
	switch s[i] | 0x20 {
	case 's':
		return hasFoldAt(s, i, "secret")
	case 'p':
		return hasFoldAt(s, i, "passw") || hasFoldAt(s, i, "private")
	case 't':
		return hasFoldAt(s, i, "token")
	case 'a':
		return hasFoldAt(s, i, "apikey") || hasFoldAt(s, i, "api_key") || hasFoldAt(s, i, "api-key") || hasFoldAt(s, i, "access")
	case 'c':
		return hasFoldAt(s, i, "credential")
	}
	return false
}

// indexByte is the index of the first c in s at or after from, or -1.
func indexByte[T string | []byte](s T, from int, c byte) int {
	var i int
	switch v := any(s).(type) {
	case string:
		i = strings.IndexByte(v[from:], c)
	case []byte:
		i = bytes.IndexByte(v[from:], c)
	}
	if i < 0 {
		return -1
	}
	return from + i
}

// hasPrefixAt reports whether s holds p at i.
func hasPrefixAt[T string | []byte](s T, i int, p string) bool {
	if len(s)-i < len(p) {
		return false
	}
	for j := 0; j < len(p); j++ {
		if s[i+j] != p[j] {
			return false
		}
	}
	return true
}

// hasFoldAt reports whether s holds p, lower-case ASCII letters, _ and -,
// at i in any case.
func hasFoldAt[T string | []byte](s T, i int, p string) bool {
	if len(s)-i < len(p) {
		return false
	}
	for j := 0; j < len(p); j++ {
		if c := s[i+j]; c != p[j] && c|0x20 != p[j] {
			return false
		}
	}
	return true
}
