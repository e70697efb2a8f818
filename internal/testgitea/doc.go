// Package testgitea runs a real Gitea for end-to-end tests through
// internal/localgitea (which builds the pinned release from the Go module
// proxy once, cached, starts it on loopback with SQLite, and runs the
// OAuth authorization-code flow with PKCE as a browser would): it starts
// one in a temporary directory and seeds the test world — users,
// repositories, an organisation, personal access tokens and one OAuth app
// per scope set.
//
// It is for tests only; nothing in the server imports it.
package testgitea
