package textsafe

import (
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

// secretPatterns find credentials. The first capture group, when present,
// is the secret part; otherwise the whole match is.
var secretPatterns = []*regexp.Regexp{
	// PEM private keys, whole blocks.
	regexp.MustCompile(`-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----`),
	// Well-known token formats.
	regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`),                                        // AWS access key id
	regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{36,}\b`),                                       // GitHub tokens
	regexp.MustCompile(`\bgithub_pat_[A-Za-z0-9_]{40,}\b`),                                     // GitHub fine-grained PAT
	regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}\b`),                                         // GitLab PAT
	regexp.MustCompile(`\bgto_[A-Za-z0-9]{20,}\b`),                                             // Gitea OAuth client secret
	regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}\b`),                                    // Slack
	regexp.MustCompile(`\bsk_(?:live|test)_[A-Za-z0-9]{16,}\b`),                                // Stripe
	regexp.MustCompile(`\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}\b`),                             // OpenAI / Anthropic keys
	regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`),                                            // Google API key
	regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b`), // JWTs
	// Credentials in URLs: scheme://user:password@host.
	regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:([^\s/@]+)@`),
	// .env and config assignments whose key names a secret, also as an
	// added or removed line of a diff:
	// API_KEY=..., "password": "...", db_password: ..., +deploy_token = ...
	regexp.MustCompile(`(?im)^[+-]?[ \t]*(?:export[ \t]+)?["']?[A-Za-z0-9_.-]*(?:secret|passw(?:or)?d|passwd|token|api[_-]?key|apikey|private[_-]?key|access[_-]?key|credential)[A-Za-z0-9_.-]*["']?[ \t]*[:=][ \t]*["']?([^\s"'#=][^"'\n#]*)`),
}

// placeholders are values that are obviously not secrets; masking them
// would only hide useful configuration examples.
var placeholders = regexp.MustCompile(`(?i)^(?:|x+|\*+|changeme|change_me|example|your[_-].*|<.*>|\$\{.*\}|\$[A-Z_]+|true|false|null|none|redacted|\[masked secret\])$`)

// MaskSecrets replaces every secret in s with [Masked] and returns the
// result and the number of secrets found.
func MaskSecrets(s string) (string, int) {
	found := 0
	for _, re := range secretPatterns {
		s = re.ReplaceAllStringFunc(s, func(m string) string {
			sub := re.FindStringSubmatchIndex(m)
			if len(sub) >= 4 && sub[2] >= 0 { // mask the captured secret only
				secret := strings.TrimSpace(m[sub[2]:sub[3]])
				if placeholders.MatchString(secret) || strings.ContainsAny(secret, "()") { // a placeholder, or code
					return m
				}
				found++
				return m[:sub[2]] + Masked + m[sub[3]:]
			}
			found++
			return Masked
		})
	}
	return s, found
}
