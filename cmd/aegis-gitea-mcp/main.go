// Command aegis-gitea-mcp is a security-first MCP server for self-hosted
// Gitea: every call runs as the signed-in Gitea user.
//
// Usage:
//
//	aegis-gitea-mcp [serve] [--env-file FILE] [--listen HOST:PORT]
//	aegis-gitea-mcp stdio [--env-file FILE]
//	aegis-gitea-mcp config check [--env-file FILE] [--listen HOST:PORT]
//	aegis-gitea-mcp audit verify PATH...
//	aegis-gitea-mcp policy check FILE
//	aegis-gitea-mcp policy explain [--policy FILE] --tool T [--user U] [--repo O/R] [--path P]
//	aegis-gitea-mcp healthcheck [--ready] [--url URL] [--timeout D]
//	aegis-gitea-mcp broker generate-key | grants | revoke | rotate-key
//	aegis-gitea-mcp version | --version
//
// Exit status: 0 on success, 1 on a runtime failure, 2 on bad configuration
// or usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/logging"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/server"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

const usage = `Usage:
  aegis-gitea-mcp [serve] [--env-file FILE] [--listen HOST:PORT]   run the HTTP server (default)
  aegis-gitea-mcp stdio [--env-file FILE]                           serve MCP on stdin/stdout (OAUTH_MODE=false, GITEA_TOKEN)
  aegis-gitea-mcp config check [--env-file FILE] [--listen ...]     validate and print the configuration
  aegis-gitea-mcp audit verify PATH...                              check an audit log's hash chain (exit 1 names the first bad line)
  aegis-gitea-mcp policy check FILE                                 validate a policy file (exit 2 names the line)
  aegis-gitea-mcp policy explain --tool T [--user U] [--repo O/R] [--path P] [--policy FILE]
                                                                    print the policy's decision and the rule that made it
  aegis-gitea-mcp healthcheck [--ready] [--url URL] [--timeout D]   probe a running server's /healthz (/readyz): exit 0 healthy, 1 not
  aegis-gitea-mcp broker generate-key|grants|revoke|rotate-key      manage the OAuth broker's state (OAUTH_BROKER=true)
  aegis-gitea-mcp version                                           print the version

Configuration comes from the environment and ./.env (see .env.example).
`

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitConfig  = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "" || args[0][0] != '-' || isHelpOrVersion(args[0])) {
		cmd, args = args[0], args[1:]
	}
	if code, done := commandHelp(cmd, args, stdout); done {
		return code
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, environ, stderr)
	case "stdio":
		return stdio(ctx, args, environ, stderr)
	case "config":
		if len(args) == 0 || args[0] != "check" {
			fmt.Fprint(stderr, "aegis-gitea-mcp config: want \"config check\"\n\n"+usage)
			return exitConfig
		}
		return configCheck(args[1:], environ, stdout, stderr)
	case "audit":
		if len(args) == 0 || args[0] != "verify" {
			fmt.Fprint(stderr, "aegis-gitea-mcp audit: want \"audit verify PATH...\"\n\n"+usage)
			return exitConfig
		}
		return auditVerify(args[1:], stdout, stderr)
	case "policy":
		return policyCommand(args, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, args, environ, stdout, stderr)
	case "broker":
		return brokerCommand(ctx, args, environ, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "aegis-gitea-mcp %s (%s)\n", buildVersion(), runtime.Version())
		return exitOK
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "aegis-gitea-mcp: unknown command %q\n\n%s", cmd, usage)
	return exitConfig
}

func isHelpOrVersion(arg string) bool {
	switch arg {
	case "-h", "--help", "-help", "--version", "-version":
		return true
	}
	return false
}

// load reads the configuration, printing every problem on failure.
func load(args, environ []string, stderr io.Writer) (*config.Config, int) {
	cfg, err := config.Load(args, environ, stderr)
	var cfgErr *config.Error
	switch {
	case errors.As(err, &cfgErr):
		fmt.Fprintf(stderr, "aegis-gitea-mcp: %v\n", err)
		return nil, exitConfig
	case err != nil:
		fmt.Fprint(stderr, "\n"+usage)
		return nil, exitConfig
	}
	return cfg, exitOK
}

func configCheck(args, environ []string, stdout, stderr io.Writer) int {
	cfg, code := load(args, environ, stderr)
	if cfg == nil {
		return code
	}
	// The server checks what only it knows (the toolset names).
	if err := server.Check(cfg); err != nil {
		return reportNewError(err, stderr)
	}
	printWarnings(stderr, cfg)
	if _, err := cfg.WriteTo(stdout); err != nil {
		return exitFailure
	}
	fmt.Fprintln(stdout, "# configuration is valid")
	return exitOK
}

// newServer loads the configuration and builds the server, reporting any
// failure on stderr with the exit status to use.
func newServer(args, environ []string, stderr io.Writer) (*server.Server, *slog.Logger, int) {
	cfg, code := load(args, environ, stderr)
	if cfg == nil {
		return nil, nil, code
	}
	log := logging.New(stderr, cfg.LogLevel, cfg.LogFormat)
	logWarnings(log, cfg)
	srv, err := server.New(server.Options{Config: cfg, Logger: log, Version: buildVersion()})
	if err != nil {
		return nil, nil, reportNewError(err, stderr)
	}
	return srv, log, exitOK
}

// reportNewError prints why the server could not be built and returns the
// exit status: a configuration problem found by the server exits 2 too.
func reportNewError(err error, stderr io.Writer) int {
	fmt.Fprintf(stderr, "aegis-gitea-mcp: cannot start: %v\n", err)
	var cfgErr *config.Error
	if errors.As(err, &cfgErr) {
		return exitConfig
	}
	return exitFailure
}

func serve(ctx context.Context, args, environ []string, stderr io.Writer) int {
	srv, log, code := newServer(args, environ, stderr)
	if srv == nil {
		return code
	}
	defer closeServer(srv, log)
	reloadOnHangup(ctx, srv)
	if err := srv.Preflight(ctx); err != nil {
		log.Error("cannot start", "error", err.Error())
		return exitFailure
	}
	if err := srv.ListenAndServe(ctx); err != nil {
		logFailure(log, "server failed", err)
		return exitFor(err)
	}
	return exitOK
}

// stdio serves MCP on the process's stdin and stdout; logs go to stderr,
// since stdout belongs to the protocol.
func stdio(ctx context.Context, args, environ []string, stderr io.Writer) int {
	srv, log, code := newServer(args, environ, stderr)
	if srv == nil {
		return code
	}
	defer closeServer(srv, log)
	reloadOnHangup(ctx, srv)
	if err := srv.ServeStdio(ctx, os.Stdin, os.Stdout); err != nil && !errors.Is(err, context.Canceled) {
		logFailure(log, "stdio session failed", err)
		return exitFor(err)
	}
	return exitOK
}

// closeServer releases what the server opened once it stopped.
func closeServer(srv *server.Server, log *slog.Logger) {
	if err := srv.Close(); err != nil {
		log.Error("closing the audit log", "error", err.Error())
	}
}

// buildVersion is the -ldflags version, else the module version `go install`
// recorded, else "dev".
func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
