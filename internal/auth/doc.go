// Package auth makes this server an OAuth 2.1 protected resource in front of
// Gitea, which is the authorization server.
//
// A request's bearer token comes only from its Authorization header
// ([BearerToken]). The [Verifier] checks it in two steps: locally, as a JWT
// signed with a key from Gitea's JWKS (allow-listed asymmetric algorithms,
// required expiry, an access token rather than a refresh or id token), then
// with Gitea's token introspection, which alone knows whether the token is
// still active, which OAuth client it was issued to (its audience) and which
// scopes it holds. Verdicts are cached under a SHA-256 of the token, never
// the token, and concurrent first uses of a token share one introspection.
// The result is a [Principal]: the Gitea user, the scopes, and the token to
// call Gitea with on that user's behalf.
//
// Failures are [*Error] values carrying the HTTP status and the RFC 6750
// error code; [WriteChallenge] turns one into a response with a
// WWW-Authenticate challenge pointing at the RFC 9728 metadata that
// [ResourceMetadata] describes. Error texts are fixed: they never contain a
// token or anything Gitea said.
package auth
