package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Config says what to measure and for how long. A zero field takes the
// mode's default ([Config.Short] or not).
type Config struct {
	// Short is the CI mode (~25 s): the same lines from fewer calls.
	Short bool
	// Server is the aegis-gitea-mcp binary to start (required).
	Server string
	// Listen is the server's loopback host:port (default 127.0.0.1:0).
	Listen string
	// Calls and Warmup are the measured and the discarded call pairs per
	// latency measure.
	Calls, Warmup int
	// Window is each side's time per throughput measure, split into Rounds
	// alternating slices.
	Window time.Duration
	Rounds int
	// Workers are the numbers of concurrent sessions of the throughput
	// measures (default 1 and 8).
	Workers []int
	// Sessions is M, the sessions opened per batch of the memory measure.
	Sessions int
	// SparseInterval and SparseDuration shape the sparse caller; SparseTTL
	// is its server's OAUTH_CACHE_TTL_SECONDS (whole seconds, >= 1).
	SparseInterval, SparseDuration, SparseTTL time.Duration
	// Env holds more VAR=value settings for the server (e.g. GOGC,
	// GOMEMLIMIT, GODEBUG, or a server setting to compare).
	Env []string
	// Baseline is a baseline file to compare allocations with; a rise
	// beyond its threshold makes Run return [ErrRegression].
	Baseline string
	// WriteBaseline records this run's allocations as a new baseline
	// there, with BaselineComment.
	WriteBaseline, BaselineComment string
	// JSON writes the whole report there.
	JSON string
	// Progress receives setup progress (nil: discarded).
	Progress io.Writer
}

// ErrRegression is returned when allocations per call rose beyond the
// baseline's threshold.
var ErrRegression = errors.New("allocations per call rose beyond the baseline's threshold")

// Prepare fills in the mode's defaults and checks the configuration;
// [Run] calls it too.
func (c *Config) Prepare() error {
	c.defaults()
	if c.Server != "" {
		abs, err := filepath.Abs(c.Server) // the server runs in a directory of its own
		if err != nil {
			return err
		}
		c.Server = abs
	}
	return c.validate()
}

func (c *Config) defaults() {
	def := func(v *int, full, short int) {
		if *v == 0 {
			*v = map[bool]int{false: full, true: short}[c.Short]
		}
	}
	defD := func(v *time.Duration, full, short time.Duration) {
		if *v == 0 {
			*v = map[bool]time.Duration{false: full, true: short}[c.Short]
		}
	}
	// Allocation counters lag by what the server's per-P span caches
	// hold (up to ~1 MB, flushed at each GC), so a measure needs enough
	// calls for that to stay small per call: 150 keep it within ~6 %.
	def(&c.Calls, 400, 150)
	def(&c.Warmup, 50, 10)
	def(&c.Rounds, 4, 2)
	def(&c.Sessions, 200, 100)
	defD(&c.Window, 2*time.Second, 300*time.Millisecond)
	// The verdict is cached for the TTL from the end of its introspection,
	// so the interval leaves room for that and for the direct call first.
	defD(&c.SparseInterval, 1500*time.Millisecond, 1400*time.Millisecond)
	defD(&c.SparseDuration, 30*time.Second, 5600*time.Millisecond)
	defD(&c.SparseTTL, time.Second, time.Second)
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if len(c.Workers) == 0 {
		c.Workers = []int{1, 8}
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.Server == "" {
		errs = append(errs, errors.New("name the aegis-gitea-mcp binary to measure (make bench-e2e builds bin/aegis-gitea-mcp)"))
	}
	if err := checkLoopbackAddr(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen: %w", err))
	}
	for _, v := range []int{c.Calls, c.Rounds, c.Sessions} {
		if v < 1 || v > 1_000_000 {
			errs = append(errs, fmt.Errorf("calls, rounds and sessions must be between 1 and 1000000, not %d", v))
		}
	}
	for _, n := range c.Workers {
		if n < 1 || n > 256 {
			errs = append(errs, fmt.Errorf("workers must be between 1 and 256, not %d", n))
		}
	}
	if c.Warmup < 0 {
		errs = append(errs, errors.New("warmup must not be negative"))
	}
	if c.Window < 10*time.Millisecond*time.Duration(c.Rounds) || c.Window > time.Hour {
		errs = append(errs, fmt.Errorf("window %s is out of range (10ms per round to 1h)", c.Window))
	}
	if c.SparseTTL < time.Second || c.SparseTTL%time.Second != 0 || c.SparseTTL > time.Hour {
		errs = append(errs, fmt.Errorf("sparse TTL %s must be whole seconds from 1s to 1h (OAUTH_CACHE_TTL_SECONDS)", c.SparseTTL))
	}
	if c.SparseInterval <= c.SparseTTL+c.SparseTTL/5 || c.SparseInterval > time.Hour {
		errs = append(errs, fmt.Errorf("sparse interval %s must be over 1.2 times the TTL %s (and at most 1h): each call must find the verdict expired", c.SparseInterval, c.SparseTTL))
	}
	if c.SparseDuration < c.SparseInterval || c.SparseDuration > 2*time.Hour {
		errs = append(errs, fmt.Errorf("sparse duration %s must be at least one interval and at most 2h", c.SparseDuration))
	}
	for _, kv := range c.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			errs = append(errs, fmt.Errorf("env %q is not VAR=value", kv))
		}
	}
	return errors.Join(errs...)
}

// Report is everything a run measured.
type Report struct {
	Mode          string           `json:"mode"`
	Started       time.Time        `json:"started"`
	LoadBefore    string           `json:"loadavg_before"`
	LoadAfter     string           `json:"loadavg_after"`
	CPUs          int              `json:"cpus"`
	Gitea         string           `json:"gitea_version"`
	ServerVersion string           `json:"server_version"`
	ServerEnv     []string         `json:"server_env,omitempty"`
	Latency       []*Latency       `json:"latency"`
	Throughput    []*Throughput    `json:"throughput"`
	Sessions      []*SessionMemory `json:"sessions"`
	Sparse        *Sparse          `json:"sparse"`
	AllocChecks   []*AllocCheck    `json:"alloc_checks,omitempty"`
	Seconds       float64          `json:"seconds"`
}

// run is one benchmark run's state.
type run struct {
	cfg     Config
	out     io.Writer
	world   *world
	srv     *server
	clients *clients
}

// Run starts Gitea and the server, measures, and prints one line per
// measure to out as it goes ("#" lines are comments).
func Run(ctx context.Context, cfg Config, out io.Writer) (*Report, error) {
	if err := cfg.Prepare(); err != nil {
		return nil, err
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return nil, errors.New("the benchmark reads /proc: it runs on Linux only")
	}
	var base *Baseline
	if cfg.Baseline != "" {
		var err error
		if base, err = readBaseline(cfg.Baseline); err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
	}
	progress := cfg.Progress
	if progress == nil {
		progress = io.Discard
	}
	began := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(progress, "aegis-bench: %5.1fs "+format+"\n", append([]any{time.Since(began).Seconds()}, args...)...)
	}
	mode := map[bool]string{false: "full", true: "short"}[cfg.Short]
	rep := &Report{Mode: mode, Started: time.Now(), LoadBefore: loadavg(), CPUs: runtime.NumCPU(), ServerEnv: cfg.Env}

	logf("starting Gitea (built on first use, then cached)")
	w, err := startWorld(ctx, logf)
	if err != nil {
		return nil, fmt.Errorf("gitea: %w", err)
	}
	defer w.stop()
	rep.Gitea = w.gitea.Version
	r := &run{cfg: cfg, out: out, world: w, clients: newClients(w.gitea.URL, w.token)}
	logf("starting %s", cfg.Server)
	if r.srv, err = startServer(ctx, cfg.Server, filepath.Join(w.dir, "server"), cfg.Listen, w, cfg.Env); err != nil {
		return nil, err
	}
	defer r.srv.stop()
	rep.ServerVersion = r.srv.Version
	r.printf("# aegis-bench %s: Gitea %s at %s, server %s (pid %d) at %s, %d CPUs, load before: %s",
		mode, w.gitea.Version, w.gitea.URL, r.srv.Version, r.srv.pid(), r.srv.URL, rep.CPUs, rep.LoadBefore)
	r.printf("# every proxied call is paired with a direct Gitea call (keep-alive, same token), order alternating; %d pairs per latency measure after %d warm-up pairs", cfg.Calls, cfg.Warmup)
	r.printf("# server cpu: /proc/PID/stat utime+stime; alloc: go_memstats_alloc_bytes_total and go_memstats_mallocs_total (runtime/metrics) on METRICS_ADDR, read before and after, the scrape's own share subtracted")
	if len(cfg.Env) > 0 {
		r.printf("# server environment added: %s", strings.Join(cfg.Env, " "))
	}
	tools := benchTools()
	logf("warm-up: every transport and tool")
	if err := r.warmUp(ctx, tools); err != nil {
		return nil, r.srv.withLog(w.token, fmt.Errorf("warm-up: %w", err))
	}
	logf("latency measures")
	for _, t := range tools {
		for _, kind := range measuredKinds[:4] {
			l, err := r.latency(ctx, kind, t)
			if err != nil {
				return nil, r.srv.withLog(w.token, fmt.Errorf("latency %s %s: %w", t.name, kind, err))
			}
			rep.Latency = append(rep.Latency, l)
			r.printf("%s", l)
		}
	}
	logf("throughput measures")
	for _, t := range tools {
		for _, kind := range []string{kindSession, kindStateless} {
			for _, n := range cfg.Workers {
				tp, err := r.throughput(ctx, kind, t, n)
				if err != nil {
					return nil, r.srv.withLog(w.token, fmt.Errorf("throughput %s %s N=%d: %w", t.name, kind, n, err))
				}
				rep.Throughput = append(rep.Throughput, tp)
				r.printf("%s", tp)
			}
		}
	}
	logf("session memory")
	if rep.Sessions, err = r.sessionMemory(ctx); err != nil {
		return nil, r.srv.withLog(w.token, fmt.Errorf("sessions: %w", err))
	}
	for _, s := range rep.Sessions {
		r.printf("%s", s)
	}
	// The sparse caller gets a server of its own with the short TTL, so
	// that the other measures keep the default one.
	r.srv.stop()
	sparseSrv, err := startServer(ctx, cfg.Server, filepath.Join(w.dir, "server-sparse"), cfg.Listen, w, append(sparseEnv(cfg.SparseTTL), cfg.Env...))
	if err != nil {
		return nil, err
	}
	defer sparseSrv.stop()
	logf("the sparse caller's server is up; %d calls, one every %s", max(2, int(cfg.SparseDuration/cfg.SparseInterval)), cfg.SparseInterval)
	if rep.Sparse, err = r.sparse(ctx, sparseSrv, tools[0]); err != nil {
		return nil, sparseSrv.withLog(w.token, fmt.Errorf("sparse: %w", err))
	}
	r.printf("%s", rep.Sparse)
	sparseSrv.stop()

	var regressed bool
	if base != nil {
		rep.AllocChecks, regressed = base.compare(rep.Latency)
		for _, c := range rep.AllocChecks {
			r.printf("%s", c)
		}
		verdict := "ok"
		if regressed {
			verdict = "FAILED"
		}
		r.printf("# alloc-check against %s (recorded %s): %s, no measure above +%.0f%% in bytes or objects per call",
			cfg.Baseline, base.Recorded, verdict, 100*base.Threshold)
		if regressed {
			r.printf("# alloc-check FAILED: allocations per call rose more than %.0f%% above the baseline", 100*base.Threshold)
		}
	}
	rep.LoadAfter, rep.Seconds = loadavg(), time.Since(rep.Started).Seconds()
	r.printf("# load after: %s; took %.0fs", rep.LoadAfter, rep.Seconds)
	if cfg.WriteBaseline != "" {
		if err := newBaseline(rep.Latency, cfg.BaselineComment, rep.Started).write(cfg.WriteBaseline); err != nil {
			return rep, err
		}
		r.printf("# baseline written to %s", cfg.WriteBaseline)
	}
	if cfg.JSON != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return rep, err
		}
		if err := os.WriteFile(cfg.JSON, append(b, '\n'), 0o600); err != nil {
			return rep, err
		}
	}
	if regressed {
		return rep, ErrRegression
	}
	return rep, nil
}

// warmUp calls every tool through every transport before anything is
// measured, so that one-time work (lazy initialisation, first
// connections, caches filling) falls in no measure.
func (r *run) warmUp(ctx context.Context, tools []*tool) error {
	for _, kind := range measuredKinds {
		c, err := r.clients.open(ctx, r.srv.URL, kind, true)
		if err != nil {
			return err
		}
		for _, t := range tools {
			for range r.cfg.Warmup {
				if err := check(ctx, c, t); err != nil {
					c.close()
					return fmt.Errorf("%s: %w", kind, err)
				}
			}
		}
		c.close()
	}
	return nil
}

// measuredKinds are the transports of the latency measures.
var measuredKinds = []string{kindSession, kindStateless, kindSSE, kindToolCall, kindDirect}

// sparseEnv is the sparse caller's server settings: the cache TTL, and
// the time a verdict is kept warm after its last use scaled alike from
// the defaults (600 s for a TTL of 60 s), so that a shortened run stands
// for the real one. cfg.Env comes after it and wins.
func sparseEnv(ttl time.Duration) []string {
	secs := int(ttl / time.Second)
	return []string{
		"OAUTH_CACHE_TTL_SECONDS=" + strconv.Itoa(secs),
		"OAUTH_CACHE_KEEP_WARM_SECONDS=" + strconv.Itoa(secs*10),
	}
}

func (r *run) printf(format string, args ...any) {
	fmt.Fprintf(r.out, format+"\n", args...)
}
