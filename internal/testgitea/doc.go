// Package testgitea runs a real Gitea for end-to-end tests: it builds the
// pinned release from the Go module proxy once (cached by version), starts
// it on a loopback port with SQLite in a temporary directory, seeds users,
// repositories, an organisation and OAuth apps, and obtains real OAuth
// tokens through Gitea's authorization-code flow with PKCE, signing in
// through the login form and approving the consent form as a browser would.
//
// It is for tests only; nothing in the server imports it.
package testgitea
