package gitea

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// ProbeClient asks Gitea whether it accepts clientID and clientSecret as an
// OAuth client, with an introspection of an empty token: that carries no
// user's credential, so Gitea's request authentication lets it through to
// the introspection handler, which checks the client first. (A made-up
// token would not do: Gitea's request authentication refuses it with a 401
// of its own before the client is checked, whatever the client.)
//
// It returns nil when Gitea accepts the client (it answers that the empty
// token is inactive), an error wrapping [ErrClientCredentials] when Gitea
// refuses the client, and another error when Gitea could not tell: an
// *APIError, or [ErrBadResponse] for an answer introspection never gives.
func (e *Endpoint) ProbeClient(ctx context.Context, clientID, clientSecret string) error {
	var in Introspection
	_, err := e.send(ctx, call{
		method: "POST",
		op:     "POST " + introspectionPath,
		path:   introspectionPath,
		form:   url.Values{"token": {""}},
		basic:  &basicAuth{user: clientID, secret: credential(clientSecret)},
	}, &in)
	var apiErr *APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized && apiErr.BasicChallenge:
		return fmt.Errorf("%w: %w", ErrClientCredentials, err)
	case err != nil:
		return err
	case in.Active:
		return &APIError{Op: "POST " + introspectionPath, Status: http.StatusOK,
			kind: fmt.Errorf("%w: an empty token reported active", ErrBadResponse)}
	}
	return nil
}
