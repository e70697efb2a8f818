// Command aegis-demo is the one-command local demo (`make demo`): it
// builds (first run only) and starts a real Gitea on loopback, seeds a
// demo user and repository, gets a real OAuth token through Gitea's
// authorization-code flow, and serves aegis-gitea-mcp against it until
// Ctrl-C. See internal/demo. It is a binary of its own, so the server
// binary carries no Gitea builder.
//
// Usage:
//
//	aegis-demo [--dir DIR] [--reset] [--listen HOST:PORT]
//
// Exit status: 0 after a clean stop, 1 on a failure, 2 on bad usage, 130
// when interrupted before it was ready.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/demo"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one ends the demo at once (its
		// Gitea dies with it, by Pdeathsig).
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	def, err := demo.DefaultDir()
	if err != nil {
		def = ""
	}
	fs := flag.NewFlagSet("aegis-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", def, "the directory the demo keeps its state in (Gitea's data, accounts, logs); reused by the next run")
	reset := fs.Bool("reset", false, "empty --dir first: a new Gitea, user and token")
	listen := fs.String("listen", "", "loopback host:port for the MCP server (default 127.0.0.1:8080, or a free port when taken)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: aegis-demo [--dir DIR] [--reset] [--listen HOST:PORT]\n\n"+
			"Builds (first run only) and starts a real Gitea on loopback, seeds a demo user and repository,\n"+
			"gets a real OAuth token and serves aegis-gitea-mcp against it until Ctrl-C.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "aegis-demo: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	err = demo.Run(ctx, demo.Options{Dir: *dir, Reset: *reset, Listen: *listen, Out: stdout, Version: version})
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil: // a signal before it was ready
		fmt.Fprintln(stderr, "aegis-demo: interrupted before it was ready; everything it started is stopped")
		return 130
	default:
		fmt.Fprintf(stderr, "aegis-demo: %v\n", err)
		return 1
	}
}
