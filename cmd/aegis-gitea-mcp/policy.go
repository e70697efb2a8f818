package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/server"
)

// policyCommand runs `policy check FILE` and `policy explain ...`.
func policyCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, "aegis-gitea-mcp policy: want \"policy check FILE\" or \"policy explain --policy FILE --user U --tool T [--repo O/R] [--path P]\"\n")
		return exitConfig
	}
	switch args[0] {
	case "check":
		if len(args) != 2 {
			fmt.Fprint(stderr, "aegis-gitea-mcp policy check: name one policy file\n")
			return exitConfig
		}
		if err := server.CheckPolicy(args[1]); err != nil {
			fmt.Fprintf(stderr, "aegis-gitea-mcp: %v\n", err)
			return exitConfig
		}
		fmt.Fprintf(stdout, "%s: the policy is valid\n", args[1])
		return exitOK
	case "explain":
		fs := flag.NewFlagSet("policy explain", flag.ContinueOnError)
		fs.SetOutput(stderr)
		file := fs.String("policy", os.Getenv("POLICY_FILE_PATH"), "the policy file (default: POLICY_FILE_PATH)")
		var q server.PolicyQuestion
		fs.StringVar(&q.User, "user", "", "the caller's Gitea login")
		fs.StringVar(&q.Tool, "tool", "", "the tool (required)")
		fs.StringVar(&q.Repo, "repo", "", "the repository, owner/repo")
		fs.StringVar(&q.Path, "path", "", "a path in the repository")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 || q.Tool == "" || *file == "" {
			fmt.Fprint(stderr, "aegis-gitea-mcp policy explain: want --policy FILE (or POLICY_FILE_PATH) and --tool T\n")
			return exitConfig
		}
		line, err := server.ExplainPolicy(*file, q)
		if err != nil {
			fmt.Fprintf(stderr, "aegis-gitea-mcp: %v\n", err)
			return exitConfig
		}
		fmt.Fprintln(stdout, line)
		return exitOK
	}
	fmt.Fprintf(stderr, "aegis-gitea-mcp policy: unknown subcommand %q\n", args[0])
	return exitConfig
}

// policyWatchInterval is how often the policy file is checked for changes.
const policyWatchInterval = 5 * time.Second

// reloadOnHangup reloads the server's policy on every SIGHUP, and when the
// file changes, until ctx is done; a refused file is logged by the server
// and the old policy stays.
func reloadOnHangup(ctx context.Context, srv *server.Server) {
	go srv.WatchPolicy(ctx, policyWatchInterval)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = srv.ReloadPolicy()
			}
		}
	}()
}
