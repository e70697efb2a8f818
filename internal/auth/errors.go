package auth

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// RFC 6750 §3.1 error codes, plus the one used when Gitea cannot be asked.
const (
	CodeInvalidRequest         = "invalid_request"
	CodeInvalidToken           = "invalid_token"
	CodeInsufficientScope      = "insufficient_scope"
	CodeTemporarilyUnavailable = "temporarily_unavailable"
)

// Error is a refused request: the status to answer with, the RFC 6750 code
// (empty when no token was sent), and a fixed description safe to show the
// client. The cause is for logs only.
type Error struct {
	Status      int
	Code        string
	Description string
	// Scopes are the scopes to name in the challenge, when they matter.
	Scopes []gitea.Scope
	// RetryAfter is set on 503 answers.
	RetryAfter time.Duration
	cause      error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("auth: %d %s: %s", e.Status, e.Code, e.Description)
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// Unwrap returns the cause, for logs and errors.Is.
func (e *Error) Unwrap() error { return e.cause }

// Is matches errors with the same status and code, so callers can compare
// with the sentinels below.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status && t.Code == e.Code
}

// Sentinels for errors.Is; the values returned carry more detail.
var (
	ErrNoToken = &Error{Status: http.StatusUnauthorized, Description: "this endpoint needs an OAuth bearer token from Gitea in the Authorization header"}
	// ErrNotBearer is an Authorization header with another scheme (Basic,
	// token, ...), where no credential or a Bearer token belongs.
	ErrNotBearer         = &Error{Status: http.StatusUnauthorized, Description: "this server takes credentials only as an OAuth Bearer token in the Authorization header; send no other scheme"}
	ErrInvalidRequest    = &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest}
	ErrInvalidToken      = &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken}
	ErrInsufficientScope = &Error{Status: http.StatusForbidden, Code: CodeInsufficientScope}
	ErrUnavailable       = &Error{Status: http.StatusServiceUnavailable, Code: CodeTemporarilyUnavailable}
)

func invalidRequest(desc string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: desc}
}

func invalidToken(desc string, cause error) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: desc, cause: cause}
}

// unavailable reports that Gitea could not be asked: never allow on doubt.
func unavailable(what string, cause error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeTemporarilyUnavailable,
		Description: "cannot verify the token right now: " + what + "; retry shortly", RetryAfter: 5 * time.Second, cause: cause}
}

// InsufficientScope refuses a token that lacks the missing scopes; the
// challenge asks for request, which should keep the scopes the token has.
func InsufficientScope(missing, request []gitea.Scope) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeInsufficientScope, Scopes: request,
		Description: "the token lacks the Gitea scope " + gitea.JoinScopes(missing) + " this needs; " + regrant}
}

// InsufficientScopeHere is [InsufficientScope] for a token this server
// issued itself (the OAuth broker): the client authorizes again here, and
// the Gitea grant is left alone.
func InsufficientScopeHere(missing, request []gitea.Scope) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeInsufficientScope, Scopes: request,
		Description: "the token lacks the Gitea scope " + gitea.JoinScopes(missing) + " this needs; authorize again through this server, asking for the scopes of this challenge"}
}

// regrant tells a user how to get a token with other scopes: Gitea keeps a
// grant's scope from the first consent, so the old grant must go first.
const regrant = "to re-grant, revoke this app's grant in Gitea (Settings > Applications > Authorized OAuth2 Applications), then reconnect and approve the needed scopes"

// quoteWords shows at most three scope words, each cut to 32 characters of
// a plain alphabet: they come from the grant, so they are bounded and tamed.
func quoteWords(words []string) string {
	var out []string
	for i, w := range words {
		if i == 3 {
			out = append(out, "...")
			break
		}
		w = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(":_-.", r) {
				return r
			}
			return '?'
		}, w)
		if len(w) > 32 {
			w = w[:32] + "..."
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// allAccessGrant refuses a grant that Gitea would treat as unrestricted.
func allAccessGrant(recommended []gitea.Scope, grant gitea.ScopeGrant) *Error {
	why := "the grant holds no Gitea access scope, which Gitea treats as full access to the account"
	switch {
	case len(grant.Unknown) > 0:
		why = fmt.Sprintf("the grant holds scope words Gitea does not know (%s), which makes Gitea ignore its scopes and allow full access",
			quoteWords(grant.Unknown))
	case grant.All:
		why = "the grant asks for \"all\", full access to the account"
	}
	return &Error{Status: http.StatusForbidden, Code: CodeInsufficientScope, Scopes: recommended,
		Description: why + "; this server refuses such tokens. Grant specific scopes, e.g. \"" + gitea.JoinScopes(recommended) + "\"; " + regrant}
}

// TokenRefused is a 401 invalid_token refusal with a fixed description,
// for verifiers other than [Verifier] (the OAuth broker's).
func TokenRefused(desc string) *Error { return invalidToken(desc, nil) }

// CannotVerify is a 503 refusal: the token cannot be checked right now.
func CannotVerify(what string) *Error { return unavailable(what, nil) }
