package tools

import (
	"errors"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// ArgumentError is a call refused because of its arguments; nothing ran.
type ArgumentError struct {
	Field   string // the argument at fault, if known
	Problem string
}

func (e *ArgumentError) Error() string {
	if e.Field == "" {
		return "invalid arguments: " + e.Problem
	}
	return "invalid argument " + e.Field + ": " + e.Problem
}

// Notice is a tool failure whose text the tool wrote itself, fixed and
// safe to show, such as "Gitea Actions is disabled for this repository".
type Notice string

func (n Notice) Error() string { return string(n) }

// errorResult turns a failure of a tool of access level a into a result the
// model can act on. The texts are fixed per kind of failure; Gitea's own
// messages never pass.
func errorResult(err error, a Access) *mcp.CallToolResult {
	if a != Read {
		if text, ok := writeErrorText(err); ok {
			return ErrorText(text)
		}
	}
	return ErrorText(errorText(err))
}

// writeErrorText words the failures whose meaning differs for a change:
// nothing was changed, and what to do next.
func writeErrorText(err error) (string, bool) {
	switch {
	case errors.Is(err, gitea.ErrForbidden):
		return "forbidden: Gitea refused this change: your account may not change this repository " +
			"(read-only access, a protected branch, or a scope the token lacks). Nothing was changed.", true
	case errors.Is(err, gitea.ErrConflict):
		return "conflict: it already exists, or it changed since you read it. Nothing was changed: read it again and retry.", true
	case errors.Is(err, gitea.ErrInvalidRequest):
		return "Gitea refused the change as invalid (a name taken, a missing branch, a value it does not accept). Nothing was changed: check the arguments.", true
	case errors.Is(err, gitea.ErrUnavailable):
		return "Gitea is unavailable or failed while changing this; the change may or may not have been made: read it back before retrying.", true
	}
	return "", false
}

// ErrorText is a tool error result with a message the caller vouches for:
// fixed text that holds no token and nothing Gitea said.
func ErrorText(msg string) *mcp.CallToolResult {
	var res mcp.CallToolResult
	res.SetError(errors.New(msg))
	return &res
}

func errorText(err error) string {
	var argErr *ArgumentError
	var notice Notice
	switch {
	case errors.As(err, &argErr):
		return argErr.Error()
	case errors.As(err, &notice):
		return notice.Error()
	case errors.Is(err, gitea.ErrInvalidArgument):
		return err.Error() // our own validation message, naming the argument
	case errors.Is(err, gitea.ErrNotFound):
		return "not found: it does not exist, or your Gitea account cannot see it. Check the owner, repository, number or path."
	case errors.Is(err, gitea.ErrForbidden):
		return "forbidden: Gitea refused this for your account or token (missing permission on the repository, or a scope the token lacks)."
	case errors.Is(err, gitea.ErrUnauthorized):
		return "unauthorized: Gitea rejected your token. Reconnect to sign in again."
	case errors.Is(err, gitea.ErrRateLimited):
		return "rate limited: Gitea asked to slow down. Retry in a minute."
	case errors.Is(err, gitea.ErrUnavailable):
		return "Gitea is unavailable or failing right now. Retry shortly."
	case errors.Is(err, gitea.ErrInvalidRequest):
		return "Gitea rejected the request as invalid. Check the arguments."
	case errors.Is(err, gitea.ErrBadResponse):
		return "Gitea's answer was too large or not understood."
	case errors.Is(err, gitea.ErrConflict):
		return "conflict: Gitea reports that this clashes with the current state."
	}
	return "internal error while running the tool."
}
