// Package localgitea runs a real Gitea on this machine: it builds the
// pinned release from the Go module proxy once (cached by version and
// recipe, behind a file lock), starts it on a loopback port with SQLite in
// a directory the caller owns, provisions it through the REST API as the
// site administrator, and obtains OAuth tokens through Gitea's
// authorization-code flow with PKCE, signing in through the login form and
// approving the consent form as a browser would.
//
// The end-to-end test harness (internal/testgitea) and the local demo
// (internal/demo, cmd/aegis-demo) share it; the server binary does not
// import it.
package localgitea
