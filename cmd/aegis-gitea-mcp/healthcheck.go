package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
)

// The healthcheck subcommand is the probe of a running server for places
// with no curl: a distroless or scratch image's HEALTHCHECK, a systemd
// ExecStartPost, a Kubernetes exec probe. It asks /healthz (or /readyz with
// --ready) and exits 0 when the answer is 200, 1 for anything else (no
// answer within the timeout, a refused connection, a redirect, another
// status), 2 for a usage mistake. Without --url it asks the address serve
// listens on (LISTEN_ADDR from the environment, --env-file or ./.env, as
// serve reads it), on loopback when that address is a wildcard.

const healthcheckUsage = `Usage: aegis-gitea-mcp healthcheck [--ready] [--url URL] [--timeout D] [--env-file FILE]

Asks a running server's GET /healthz (liveness) or, with --ready, GET /readyz
(Gitea reachable, OIDC discovery and signing keys loaded) and exits 0 when it
answers 200, 1 otherwise. Without --url it asks http://LISTEN_ADDR, with
127.0.0.1 (or ::1) for a wildcard host such as 0.0.0.0 or an empty one.

`

// probeTimeoutMax bounds --timeout: a probe is meant to be quick.
const probeTimeoutMax = time.Minute

func healthcheck(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("aegis-gitea-mcp healthcheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and usage are printed below, once
	rawURL := fs.String("url", "", "the server's base URL, e.g. http://127.0.0.1:8080 (default: from LISTEN_ADDR)")
	ready := fs.Bool("ready", false, "ask /readyz instead of /healthz")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long (at most 1m)")
	envFile := fs.String("env-file", "", "read LISTEN_ADDR from this file instead of ./"+config.DefaultEnvFile)
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, healthcheckUsage)
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout)
			return exitOK
		}
		fmt.Fprintf(stderr, "aegis-gitea-mcp healthcheck: %v\n\n", err)
		printUsage(stderr)
		return exitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "aegis-gitea-mcp healthcheck: unexpected argument %q\n\n", fs.Arg(0))
		printUsage(stderr)
		return exitConfig
	}
	if *timeout <= 0 || *timeout > probeTimeoutMax {
		fmt.Fprintf(stderr, "aegis-gitea-mcp healthcheck: --timeout must be more than 0 and at most %s\n", probeTimeoutMax)
		return exitConfig
	}
	base, err := probeBase(*rawURL, environ, *envFile)
	if err != nil {
		fmt.Fprintf(stderr, "aegis-gitea-mcp healthcheck: %v\n", err)
		return exitConfig
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	target := strings.TrimRight(base, "/") + path
	if err := probe(ctx, target, *timeout); err != nil {
		fmt.Fprintf(stderr, "unhealthy: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "healthy: GET %s answered 200\n", target)
	return exitOK
}

// probeBase is the base URL to probe: --url, else http:// and the address
// serve would listen on, a wildcard host replaced by loopback.
func probeBase(rawURL string, environ []string, envFile string) (string, error) {
	if rawURL != "" {
		u, err := url.Parse(rawURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return "", fmt.Errorf("--url %q is not an http:// or https:// base URL such as http://127.0.0.1:8080", rawURL)
		}
		return u.String(), nil
	}
	addr, err := config.ListenAddr(environ, envFile)
	if err != nil {
		return "", err
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "0" {
		return "", fmt.Errorf("cannot probe LISTEN_ADDR %q (a port chosen at start is not known here): give --url", addr)
	}
	return "http://" + net.JoinHostPort(loopbackFor(host), port), nil
}

// loopbackFor is the host to dial for a listening host: loopback for a
// wildcard (all interfaces include loopback), else the host itself.
func loopbackFor(host string) string {
	if host == "" {
		return "127.0.0.1"
	}
	if a, err := netip.ParseAddr(host); err == nil && a.IsUnspecified() {
		if a.Is4() || a.Is4In6() {
			return "127.0.0.1"
		}
		return "::1"
	}
	return host
}

// probe GETs target within timeout and returns nil for a 200. Proxies from
// the environment are not used (the probe is of this server, not a path to
// it), and redirects are not followed.
func probe(ctx context.Context, target string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "aegis-gitea-mcp-healthcheck/"+buildVersion())
	client := &http.Client{
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %s%s", target, resp.Status, reasonOf(body))
	}
	return nil
}

// reasonOf is ": <reason>" from a probe's JSON answer ({"status": "not
// ready", "reason": "..."}), when it has a short printable one.
func reasonOf(body []byte) string {
	var st struct{ Reason string }
	if json.Unmarshal(body, &st) != nil || st.Reason == "" || len(st.Reason) > 200 ||
		strings.IndexFunc(st.Reason, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return ""
	}
	return ": " + st.Reason
}
