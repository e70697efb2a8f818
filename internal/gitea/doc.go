// Package gitea is a thin, typed client for the parts of Gitea's REST API and
// OpenID Connect endpoints this server uses.
//
// An [Endpoint] is one Gitea instance, shared by all requests. [Endpoint.As]
// returns a [Client] that acts as one user: every call it makes carries a
// context and that user's own token, and nothing else. Response bodies are
// bounded, redirects to another host are refused, and upstream failures map
// to a few sentinel errors ([ErrUnauthorized], [ErrForbidden], [ErrNotFound],
// [ErrRateLimited], [ErrUnavailable], ...) whose messages never contain an
// upstream body or a token.
package gitea
