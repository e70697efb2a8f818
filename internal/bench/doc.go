// Package bench is the end-to-end benchmark behind `make bench-e2e`
// (cmd/aegis-bench). It starts a real Gitea on loopback through
// internal/localgitea, seeds one user with a few repositories and a small
// file, gets an OAuth access token through Gitea's authorization-code flow
// with PKCE, and starts the server binary as a separate process, so that
// the CPU time in /proc/PID/stat and the RSS are the server's alone and
// its allocation counters (the Go collector's runtime/metrics figures on
// METRICS_ADDR, read before and after each measure) count nothing of the
// benchmark's own work.
//
// It drives every transport with the official go-sdk client (Streamable
// HTTP with a session and on the session-less 2026-07-28 path, legacy
// SSE) and POST /mcp/tool/call with net/http, each against a direct
// keep-alive client reading the same data from Gitea with the same token.
// Calls are interleaved A/B with the order alternating, warm-up excluded,
// and each measure prints one line.
//
// Every address it dials or listens on is loopback; anything else is
// refused. It is a developer and CI tool: the server binary does not
// import it.
package bench
