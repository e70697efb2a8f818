package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/broker"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/seal"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/server"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

const brokerUsage = `Usage:
  aegis-gitea-mcp broker generate-key                                   print a new BROKER_ENCRYPTION_KEY
  aegis-gitea-mcp broker grants [--user LOGIN] [--env-file FILE]        list users' consents to clients
  aegis-gitea-mcp broker revoke --user LOGIN [--client ID] [--env-file FILE]
                                                                        end one client's access for a user, or every client's
  aegis-gitea-mcp broker revoke --client ID [--env-file FILE]           remove a client and end its access for every user
  aegis-gitea-mcp broker rotate-key [--env-file FILE]                   re-seal kept Gitea tokens under the first BROKER_ENCRYPTION_KEY
`

// brokerCommand manages the OAuth broker's state (OAUTH_BROKER=true).
func brokerCommand(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, brokerUsage)
		return exitConfig
	}
	sub, args := args[0], args[1:]
	if sub == "generate-key" {
		key, err := seal.GenerateKey()
		if err != nil {
			fmt.Fprintf(stderr, "aegis-gitea-mcp broker generate-key: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "k1:%s\n", key)
		return exitOK
	}
	fs := flag.NewFlagSet("aegis-gitea-mcp broker "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "the Gitea login")
	client := fs.String("client", "", "the client id")
	envFile := fs.String("env-file", "", "read variables from this file instead of ./.env")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprint(stderr, brokerUsage)
		return exitConfig
	}
	var cfgArgs []string
	if *envFile != "" {
		cfgArgs = []string{"--env-file", *envFile}
	}
	cfg, code := load(cfgArgs, environ, stderr)
	if cfg == nil {
		return code
	}
	admin, err := server.OpenBrokerAdmin(ctx, cfg)
	if err != nil {
		return reportNewError(err, stderr)
	}
	defer func() { _ = admin.Store.Close() }()
	switch sub {
	case "grants":
		err = printGrants(ctx, admin, *user, stdout)
	case "revoke":
		err = revoke(ctx, admin, *user, *client, stdout)
	case "rotate-key":
		var n int
		n, err = admin.RotateKeys(ctx)
		if err == nil {
			fmt.Fprintf(stdout, "re-sealed the Gitea tokens of %d user(s) under key %s\n", n, admin.Keys.PrimaryID())
		}
	default:
		fmt.Fprintf(stderr, "aegis-gitea-mcp broker: unknown subcommand %q\n\n%s", sub, brokerUsage)
		return exitConfig
	}
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprint(stderr, brokerUsage)
		return exitConfig
	case err != nil:
		fmt.Fprintf(stderr, "aegis-gitea-mcp broker %s: %v\n", sub, err)
		return exitFailure
	}
	return exitOK
}

var errUsage = errors.New("usage")

func printGrants(ctx context.Context, admin *broker.Admin, user string, stdout io.Writer) error {
	grants, err := admin.Grants(ctx, user)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tCLIENT\tNAME\tSCOPES\tSINCE")
	for _, g := range grants {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.Login, g.ClientID, g.ClientName, strings.Join(g.Scopes, " "), g.Since.UTC().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

func revoke(ctx context.Context, admin *broker.Admin, user, client string, stdout io.Writer) error {
	var err error
	switch {
	case user != "" && client != "":
		err = admin.RevokeGrant(ctx, user, client)
	case user != "":
		err = admin.RevokeUser(ctx, user)
	case client != "":
		err = admin.RevokeClient(ctx, client)
	default:
		return errUsage
	}
	if errors.Is(err, store.ErrNotFound) {
		return errors.New("nothing to revoke: no such grant or client")
	}
	if err == nil {
		fmt.Fprintln(stdout, "revoked; access tokens already issued stop within 30 seconds, refresh tokens at once")
	}
	return err
}
