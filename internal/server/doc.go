// Package server is the composition root of the HTTP server: it wires the
// configuration, the Gitea endpoint and the handlers, sets the middleware
// order in one place, and runs the listener with timeouts and graceful
// shutdown.
package server
