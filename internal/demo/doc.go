// Package demo is the one-command local demo (cmd/aegis-demo, `make
// demo`): it builds (first run only, cached) and starts a real Gitea on
// loopback with SQLite through internal/localgitea, seeds a demo user and
// a private repository with an issue and a pull request, registers an
// OAuth app, signs the demo user in through Gitea's authorization-code
// flow with PKCE for a real access token, and serves aegis-gitea-mcp in
// OAuth mode against it in this process (internal/server, configured
// through internal/config as `serve` is), write mode on for the demo
// repository only. It prints how to connect, and on Ctrl-C or SIGTERM
// stops the server, then Gitea, by its PID.
//
// Everything it keeps is in one directory (--dir): Gitea's data, the
// accounts and the OAuth app (state.json), the server's configuration,
// log and audit log. The next run reuses it; --reset starts over.
package demo
