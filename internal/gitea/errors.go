package gitea

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors for the ways a Gitea call fails. Match them with errors.Is.
var (
	// ErrUnauthorized: Gitea did not accept the token (HTTP 401).
	ErrUnauthorized = errors.New("gitea rejected the token")
	// ErrForbidden: the user or the token's scopes do not allow this (HTTP 403).
	ErrForbidden = errors.New("gitea refused access")
	// ErrNotFound: it does not exist, or this user cannot see it (HTTP 404).
	ErrNotFound = errors.New("not found in gitea, or not visible to this user")
	// ErrRateLimited: Gitea asked us to slow down (HTTP 429).
	ErrRateLimited = errors.New("gitea rate limit reached")
	// ErrUnavailable: Gitea could not be reached or failed (network, 5xx).
	ErrUnavailable = errors.New("gitea is unavailable")
	// ErrInvalidRequest: Gitea rejected the request's content (HTTP 400, 422).
	ErrInvalidRequest = errors.New("gitea rejected the request")
	// ErrConflict: the request clashes with the current state (HTTP 409):
	// it already exists, or it changed since it was read.
	ErrConflict = errors.New("gitea reported a conflict with the current state")
	// ErrReadOnly: a read-only Client was asked to change data; nothing was sent.
	ErrReadOnly = errors.New("this client may only read")
	// ErrInvalidArgument: an argument was refused before any request was sent.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrBadResponse: Gitea's answer was too large or not the expected JSON.
	ErrBadResponse = errors.New("unexpected response from gitea")
)

// APIError is a failed call to Gitea. Its message names the operation and
// the status only: upstream bodies are never included, as they may echo
// request content.
type APIError struct {
	Op         string        // e.g. "GET /api/v1/user"
	Status     int           // HTTP status, or 0 when no response arrived
	RetryAfter time.Duration // from Retry-After on 429/503, else 0
	// BasicChallenge is true when a 401 asked for HTTP Basic credentials.
	BasicChallenge bool
	kind           error
	cause          error // transport error, for logs; never an upstream body
}

func (e *APIError) Error() string {
	msg := e.Op + ": " + e.kind.Error()
	if e.Status != 0 {
		msg += " (HTTP " + strconv.Itoa(e.Status) + ")"
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// Unwrap returns the sentinel kind and the transport cause, if any.
func (e *APIError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

// statusError maps a non-2xx response to an *APIError.
func statusError(op string, resp *http.Response) *APIError {
	e := &APIError{Op: op, Status: resp.StatusCode}
	switch s := resp.StatusCode; {
	case s == http.StatusUnauthorized:
		e.kind = ErrUnauthorized
		e.BasicChallenge = strings.HasPrefix(strings.ToLower(resp.Header.Get("WWW-Authenticate")), "basic")
	case s == http.StatusForbidden:
		e.kind = ErrForbidden
	case s == http.StatusNotFound:
		e.kind = ErrNotFound
	case s == http.StatusTooManyRequests:
		e.kind = ErrRateLimited
	case s == http.StatusBadRequest, s == http.StatusUnprocessableEntity:
		e.kind = ErrInvalidRequest
	case s == http.StatusConflict:
		e.kind = ErrConflict
	case s >= 500:
		e.kind = ErrUnavailable
	default:
		e.kind = fmt.Errorf("%w: unexpected status", ErrBadResponse)
	}
	if s := resp.StatusCode; s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable {
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
	}
	return e
}

// retryAfter parses a Retry-After header given in seconds; dates and
// nonsense count as absent.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(min(n, 3600)) * time.Second
}
