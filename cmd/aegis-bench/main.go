// Command aegis-bench is the end-to-end benchmark (make bench-e2e): it
// starts a real Gitea and the aegis-gitea-mcp binary on loopback, drives
// every transport with the official go-sdk client against direct Gitea
// calls, and prints one line per measure. See internal/bench.
//
// Usage:
//
//	aegis-bench -server bin/aegis-gitea-mcp [-short] [-baseline bench/baseline.json] [flags]
//
// Exit status: 0 on success, 1 on a failure or an allocation regression
// against the baseline, 2 on bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// intsFlag is a comma-separated list of integers.
type intsFlag []int

func (l *intsFlag) String() string { return fmt.Sprint([]int(*l)) }
func (l *intsFlag) Set(v string) error {
	*l = nil
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return err
		}
		*l = append(*l, n)
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg bench.Config
	var env listFlag
	var workers intsFlag
	fs := flag.NewFlagSet("aegis-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&cfg.Short, "short", false, "CI mode (~25 s): the same lines from fewer calls")
	fs.StringVar(&cfg.Server, "server", "bin/aegis-gitea-mcp", "the aegis-gitea-mcp binary to measure")
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:0", "the server's listen address (loopback only)")
	fs.IntVar(&cfg.Calls, "calls", 0, "call pairs per latency measure (default 400, -short 150)")
	fs.IntVar(&cfg.Warmup, "warmup", 0, "discarded call pairs before each latency measure (default 50, -short 10)")
	fs.DurationVar(&cfg.Window, "window", 0, "time per side per throughput measure (default 2s, -short 300ms)")
	fs.IntVar(&cfg.Rounds, "rounds", 0, "alternating slices per throughput measure (default 4, -short 2)")
	fs.Var(&workers, "workers", "concurrent sessions of the throughput measures, comma-separated (default 1,8)")
	fs.IntVar(&cfg.Sessions, "sessions", 0, "sessions opened per batch of the memory measure (default 200, -short 100)")
	fs.DurationVar(&cfg.SparseInterval, "sparse-interval", 0, "the sparse caller's interval (default 1.5s, -short 1.4s; the issue's: 70s)")
	fs.DurationVar(&cfg.SparseDuration, "sparse-duration", 0, "the sparse caller's duration (default 30s, -short 5.6s; the issue's: 10m)")
	fs.DurationVar(&cfg.SparseTTL, "sparse-ttl", 0, "OAUTH_CACHE_TTL_SECONDS of the sparse caller's server (default 1s; the server's default: 60s); OAUTH_CACHE_KEEP_WARM_SECONDS is 10 times it")
	fs.Var(&env, "env", "VAR=value added to the server's environment (repeatable), e.g. -env GOGC=200")
	fs.StringVar(&cfg.Baseline, "baseline", "", "compare allocations per call with this baseline; exit 1 on a rise beyond its threshold")
	fs.StringVar(&cfg.WriteBaseline, "write-baseline", "", "record this run's allocations per call as a baseline file")
	fs.StringVar(&cfg.BaselineComment, "baseline-comment", "", "the comment of a baseline -write-baseline records")
	fs.StringVar(&cfg.JSON, "json", "", "also write the whole report as JSON to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "aegis-bench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	cfg.Env, cfg.Workers, cfg.Progress = env, workers, stderr
	if err := cfg.Prepare(); err != nil {
		fmt.Fprintf(stderr, "aegis-bench: %v\n", err)
		return 2
	}
	if _, err := os.Stat(cfg.Server); err != nil {
		fmt.Fprintf(stderr, "aegis-bench: the server binary: %v (make build, or name one with -server)\n", err)
		return 2
	}
	_, err := bench.Run(ctx, cfg, stdout)
	switch {
	case errors.Is(err, bench.ErrRegression):
		fmt.Fprintf(stderr, "aegis-bench: %v\n", err)
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "aegis-bench: %v\n", err)
		return 1
	}
	return 0
}
