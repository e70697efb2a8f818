// Package broker makes this server the OAuth authorization server of its
// own MCP endpoints, in front of Gitea (OAUTH_BROKER=true).
//
// MCP clients register themselves (Client ID Metadata Documents, or RFC
// 7591 Dynamic Client Registration), send the user here to authorize, and
// get this server's own short-lived access tokens and rotating refresh
// tokens. The user signs in at Gitea through this server's Gitea OAuth app
// and approves each client on a consent page served here. The user's Gitea
// tokens never leave the server: they are sealed (AES-256-GCM) in the
// [store.Store], refreshed with Gitea when they expire, and used only to
// call Gitea on that user's behalf in the one call pipeline; a client's
// token is never passed through to Gitea.
//
// Endpoints ([Broker.Mount]): RFC 8414 metadata, /oauth/register,
// /oauth/authorize, /oauth/callback (Gitea's redirect), /oauth/consent,
// /oauth/token and /oauth/revoke. [Broker.Verify] turns one of this
// server's access tokens into the [auth.Principal] the pipeline runs as.
//
// Consent comes after the Gitea sign-in, so it is keyed by the Gitea user
// and the client; Gitea's own code only ever reaches this server's
// callback, never a client, so a client the user has not approved here
// gets nothing even when Gitea skips its own approval screen.
package broker
