package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
)

// commandUsage is each command's own usage, printed once by
// `aegis-gitea-mcp COMMAND --help` (exit 0).
var commandUsage = map[string]string{
	"broker": brokerUsage,
	"serve": `Usage: aegis-gitea-mcp [serve] [--env-file FILE] [--listen HOST:PORT]

Run the HTTP server (the default command). At start it checks Gitea and this
server's credentials with it, and logs what to fix; /readyz reports the same.

  --env-file FILE      read variables from FILE instead of ./.env
  --listen HOST:PORT   the address to listen on (overrides LISTEN_ADDR; default 127.0.0.1:8080)

Configuration comes from the environment and ./.env (see .env.example).
Exit status: 0 after a clean shutdown, 1 on a runtime failure, 2 on bad
configuration or usage.
`,
	"stdio": `Usage: aegis-gitea-mcp stdio [--env-file FILE]

Serve MCP on stdin/stdout for a local MCP client, as the owner of the
personal access token in GITEA_TOKEN (needs OAUTH_MODE=false). Logs go to
stderr.

  --env-file FILE   read variables from FILE instead of ./.env

Exit status: 0 when the client closes the session, 1 on a runtime failure,
2 on bad configuration (GITEA_TOKEN rejected by Gitea included) or usage.
`,
	"config": `Usage: aegis-gitea-mcp config check [--env-file FILE] [--listen HOST:PORT]

Validate the configuration and print the effective values, secrets redacted.
Every problem is named; variables of the .env file that look meant for this
server but are not read by it are warned about.

  --env-file FILE      read variables from FILE instead of ./.env
  --listen HOST:PORT   the address serve would listen on (overrides LISTEN_ADDR)

Exit status: 0 when the configuration is valid, 2 when it is not.
`,
	"audit": `Usage: aegis-gitea-mcp audit verify PATH...

Check the hash chain of an audit log, or of a rotated set of them.

Exit status: 0 when the chain is intact, 1 naming the first bad line, 2 on
usage.
`,
	"policy": `Usage:
  aegis-gitea-mcp policy check FILE
  aegis-gitea-mcp policy explain --tool T [--user U] [--repo O/R] [--path P] [--policy FILE]

check validates a policy file; explain prints the policy's decision for a
call and the rule that made it (--policy defaults to POLICY_FILE_PATH).

Exit status: 0 on success, 2 naming the line of a mistake, or on usage.
`,
}

// wantsHelp reports whether args (before a "--") ask for help.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "--help", "-help", "-help=true", "--help=true":
			return true
		}
	}
	return false
}

// commandHelp prints cmd's usage when args ask for help and cmd has one.
func commandHelp(cmd string, args []string, stdout io.Writer) (code int, done bool) {
	text, ok := commandUsage[cmd]
	if !ok || !wantsHelp(args) {
		return 0, false
	}
	fmt.Fprint(stdout, text)
	return exitOK, true
}

// exitFor is the exit status of a failure: 2 for a configuration problem,
// 1 for any other.
func exitFor(err error) int {
	var cfgErr *config.Error
	if errors.As(err, &cfgErr) {
		return exitConfig
	}
	return exitFailure
}

// logFailure logs why the command stopped: a configuration problem names
// each variable at fault, anything else is one line.
func logFailure(log *slog.Logger, msg string, err error) {
	var cfgErr *config.Error
	if !errors.As(err, &cfgErr) {
		log.Error(msg, "error", err.Error())
		return
	}
	for _, p := range cfgErr.Problems {
		log.Error(msg, "var", p.Var, "problem", p.Message)
	}
}

// logWarnings logs the configuration's warnings (unknown .env variables).
func logWarnings(log *slog.Logger, cfg *config.Config) {
	for _, w := range cfg.Warnings {
		log.Warn("configuration warning", "var", w.Var, "problem", w.Message)
	}
}

// printWarnings prints them for config check.
func printWarnings(w io.Writer, cfg *config.Config) {
	for _, p := range cfg.Warnings {
		fmt.Fprintf(w, "aegis-gitea-mcp: warning: %s: %s\n", p.Var, p.Message)
	}
}
