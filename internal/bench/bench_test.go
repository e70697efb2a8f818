package bench

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoopbackOnly(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:0", "127.0.0.1:8080", "127.1.2.3:1", "[::1]:9", "[::ffff:127.0.0.1]:80"} {
		if err := checkLoopbackAddr(ok); err != nil {
			t.Errorf("checkLoopbackAddr(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"0.0.0.0:80", "10.0.0.1:80", "[::]:80", "localhost:80", "example.com:443", ":8080", "127.0.0.1"} {
		if err := checkLoopbackAddr(bad); err == nil {
			t.Errorf("checkLoopbackAddr(%q) = nil, want a refusal", bad)
		}
	}
	for _, bad := range []string{"https://127.0.0.1:443", "http://127.0.0.1", "http://192.0.2.1:3000", "http://gitea.example:3000"} {
		if err := checkLoopbackURL(bad); err == nil {
			t.Errorf("checkLoopbackURL(%q) = nil, want a refusal", bad)
		}
	}
	if err := checkLoopbackURL("http://127.0.0.1:3000"); err != nil {
		t.Errorf("checkLoopbackURL(loopback) = %v", err)
	}
}

// TestTransportDialsLoopbackOnly: whatever URL a client is handed, the
// dialer refuses a non-loopback address before any packet leaves.
func TestTransportDialsLoopbackOnly(t *testing.T) {
	c := &http.Client{Transport: newTransport(), Timeout: 5 * time.Second}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://192.0.2.1:80/", nil)
	resp, err := c.Do(req)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatal("a request to 192.0.2.1 went out")
	}
	if !strings.Contains(err.Error(), "loopback only") {
		t.Errorf("error = %v, want the loopback refusal", err)
	}
}

func TestConfigDefaultsAndRefusals(t *testing.T) {
	full := Config{Server: "/bin/true"}
	if err := full.Prepare(); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	short := Config{Server: "/bin/true", Short: true}
	if err := short.Prepare(); err != nil {
		t.Fatalf("Prepare short: %v", err)
	}
	if short.Calls >= full.Calls || short.Window >= full.Window || short.SparseDuration >= full.SparseDuration {
		t.Errorf("short %+v is not shorter than full %+v", short, full)
	}
	if full.Listen != "127.0.0.1:0" || len(full.Workers) != 2 || full.SparseTTL != time.Second {
		t.Errorf("defaults = %+v", full)
	}
	for name, c := range map[string]Config{
		"no server":            {},
		"public listen":        {Server: "/bin/true", Listen: "0.0.0.0:8080"},
		"interval within TTL":  {Server: "/bin/true", SparseInterval: 1100 * time.Millisecond},
		"fractional TTL":       {Server: "/bin/true", SparseTTL: 1500 * time.Millisecond, SparseInterval: 3 * time.Second},
		"duration under one":   {Server: "/bin/true", SparseDuration: time.Second},
		"too many workers":     {Server: "/bin/true", Workers: []int{1, 1000}},
		"negative warm-up":     {Server: "/bin/true", Warmup: -1},
		"env without a value":  {Server: "/bin/true", Env: []string{"GOGC"}},
		"window under a round": {Server: "/bin/true", Window: time.Millisecond},
	} {
		if err := c.Prepare(); err == nil {
			t.Errorf("%s: Prepare = nil, want a refusal", name)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	// The command name may hold spaces and parentheses.
	stat := "1234 (aegis (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 8 0 100 0 0"
	got, err := parseStatCPU(stat)
	if err != nil || got != 3250*time.Millisecond {
		t.Errorf("parseStatCPU = %v, %v; want 3.25s (325 ticks)", got, err)
	}
	if _, err := parseStatCPU("1234 (x) S 1 2"); err == nil {
		t.Error("a short stat line parsed")
	}
	self, err := procCPU(os.Getpid())
	if err != nil || self < 0 {
		t.Errorf("procCPU(self) = %v, %v", self, err)
	}
}

func TestParseStatusRSS(t *testing.T) {
	got, err := parseStatusRSS("Name:\tx\nVmPeak:\t 9 kB\nVmRSS:\t   12345 kB\nThreads: 3\n")
	if err != nil || got != 12345*1024 {
		t.Errorf("parseStatusRSS = %d, %v", got, err)
	}
	if _, err := parseStatusRSS("Name:\tx\n"); err == nil {
		t.Error("a status without VmRSS parsed")
	}
	if rss, err := procRSS(os.Getpid()); err != nil || rss <= 0 {
		t.Errorf("procRSS(self) = %d, %v", rss, err)
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# TYPE go_memstats_alloc_bytes_total counter
go_memstats_alloc_bytes_total 1.5e+06
# TYPE go_memstats_mallocs_total counter
go_memstats_mallocs_total 3000
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0.5"} 0.0001
go_gc_duration_seconds_sum 0.01
go_gc_duration_seconds_count 7
# TYPE go_goroutines gauge
go_goroutines 21
# TYPE aegis_gitea_requests_total counter
aegis_gitea_requests_total{status="200"} 40
aegis_gitea_requests_total{status="404"} 2
# TYPE aegis_token_cache_events_total counter
aegis_token_cache_events_total{event="hit"} 90
aegis_token_cache_events_total{event="miss"} 3
`
	s, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := sample{allocBytes: 1.5e6, allocObjects: 3000, gcs: 7, goroutines: 21, giteaCalls: 42, cacheMisses: 3}
	if s != want {
		t.Errorf("parseMetrics = %+v, want %+v", s, want)
	}
	if d := s.sub(sample{allocBytes: 5e5, gcs: 2}); d.allocBytes != 1e6 || d.gcs != 5 {
		t.Errorf("sub = %+v", d)
	}
	// The aegis counters have no series before their first event; the Go
	// collector's must be there.
	if _, err := parseMetrics(strings.NewReader("# TYPE go_goroutines gauge\ngo_goroutines 3\n")); err == nil {
		t.Error("metrics without the allocation counters parsed")
	}
}

func TestSpread(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if got := spread(ds); got != (Spread{P50: 50, P90: 90, P99: 99}) {
		t.Errorf("spread(1..100ms) = %+v", got)
	}
	if got := spread([]time.Duration{3 * time.Millisecond}); got != (Spread{P50: 3, P90: 3, P99: 3}) {
		t.Errorf("spread of one = %+v", got)
	}
	if got := spread(nil); got != (Spread{}) {
		t.Errorf("spread(nil) = %+v", got)
	}
	if ratio(1, 0) != 0 || ratio(3, 2) != 1.5 {
		t.Error("ratio")
	}
}

// fakeCaller records the order of calls and can fail.
type fakeCaller struct {
	name  string
	log   *[]string
	mu    *sync.Mutex
	calls atomic.Int64
	err   error
}

func (f *fakeCaller) call(context.Context, *tool) (string, error) {
	f.calls.Add(1)
	if f.log != nil {
		f.mu.Lock()
		*f.log = append(*f.log, f.name)
		f.mu.Unlock()
	}
	time.Sleep(time.Millisecond)
	return "", f.err
}

func (f *fakeCaller) close() {}

func TestPairAlternatesTheOrder(t *testing.T) {
	var log []string
	var mu sync.Mutex
	p, d := &fakeCaller{name: "proxied", log: &log, mu: &mu}, &fakeCaller{name: "direct", log: &log, mu: &mu}
	for i := range 4 {
		pt, dt, err := pair(t.Context(), i, p, d, nil)
		if err != nil || pt <= 0 || dt <= 0 {
			t.Fatalf("pair = %v %v %v", pt, dt, err)
		}
	}
	if got := strings.Join(log, ","); got != "direct,proxied,proxied,direct,direct,proxied,proxied,direct" {
		t.Errorf("order = %s", got)
	}
	boom := errors.New("boom")
	if _, _, err := pair(t.Context(), 0, p, &fakeCaller{err: boom}, nil); !errors.Is(err, boom) {
		t.Errorf("pair with a failing direct call = %v", err)
	}
}

func TestRunSliceCountsTheSteadyPart(t *testing.T) {
	a, b := &fakeCaller{}, &fakeCaller{}
	steady, all, d, err := runSlice(t.Context(), []caller{a, b}, nil, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if d != 180*time.Millisecond || steady <= 0 || steady > all || all != a.calls.Load()+b.calls.Load() {
		t.Errorf("runSlice = steady %d, all %d, %v (calls %d+%d)", steady, all, d, a.calls.Load(), b.calls.Load())
	}
	boom := errors.New("boom")
	if _, _, _, err := runSlice(t.Context(), []caller{&fakeCaller{err: boom}}, nil, 50*time.Millisecond); !errors.Is(err, boom) {
		t.Errorf("runSlice with a failing caller = %v", err)
	}
}

func TestBaselineCompare(t *testing.T) {
	lats := []*Latency{
		{Tool: "get_file_contents", Transport: kindSession, BytesPerCall: 100_000, ObjectsPerCall: 400},
		{Tool: "list_repositories", Transport: kindToolCall, BytesPerCall: 40_000, ObjectsPerCall: 300},
	}
	path := filepath.Join(t.TempDir(), "baseline.json")
	if err := newBaseline(lats, "today's figures", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)).write(path); err != nil {
		t.Fatal(err)
	}
	base, err := readBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	if base.Threshold != defaultThreshold || base.Recorded != "2026-12-01" || len(base.Measures) != 2 {
		t.Fatalf("baseline = %+v", base)
	}
	if checks, failed := base.compare(lats); failed || len(checks) != 2 {
		t.Errorf("the baseline's own figures fail: %v", checks)
	}
	worse := []*Latency{
		{Tool: "get_file_contents", Transport: kindSession, BytesPerCall: 124_000, ObjectsPerCall: 400}, // +24 %: fine
		{Tool: "list_repositories", Transport: kindToolCall, BytesPerCall: 30_000, ObjectsPerCall: 380}, // objects +27 %
		{Tool: "get_me", Transport: kindSSE, BytesPerCall: 1},
	}
	checks, failed := base.compare(worse)
	if !failed {
		t.Fatal("a +27 % rise in objects per call passed")
	}
	var lines []string
	for _, c := range checks {
		lines = append(lines, c.String())
	}
	out := strings.Join(lines, "\n")
	if !strings.Contains(lines[len(lines)-1], "list_repositories tool-call") || !strings.HasSuffix(lines[len(lines)-1], "FAIL") ||
		!strings.Contains(out, "not in the baseline") || strings.Count(out, "FAIL") != 1 {
		t.Errorf("checks:\n%s", out)
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readBaseline(path); err == nil {
		t.Error("a broken baseline file was read")
	}
}

// TestTheCommittedBaselineParses: bench/baseline.json, which CI compares
// with, is a baseline with every latency measure in it.
func TestTheCommittedBaselineParses(t *testing.T) {
	base, err := readBaseline("../../bench/baseline.json")
	if err != nil {
		t.Fatal(err)
	}
	if base.Comment == "" || base.Threshold != defaultThreshold {
		t.Errorf("baseline comment %q, threshold %v", base.Comment, base.Threshold)
	}
	for _, tl := range benchTools() {
		for _, kind := range measuredKinds[:4] {
			key := (&Latency{Tool: tl.name, Transport: kind}).Key()
			if f, ok := base.Measures[key]; !ok || f.BytesPerCall <= 0 || f.ObjectsPerCall <= 0 {
				t.Errorf("the baseline lacks %q (%+v)", key, f)
			}
		}
	}
}

// TestRunAgainstARealGitea runs the whole benchmark, tiny, against a real
// Gitea and the server binary built from this tree: every line is there.
func TestRunAgainstARealGitea(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Gitea and the server binary")
	}
	bin := filepath.Join(t.TempDir(), "aegis-gitea-mcp")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "../../cmd/aegis-gitea-mcp")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	jsonPath, basePath := filepath.Join(t.TempDir(), "report.json"), filepath.Join(t.TempDir(), "baseline.json")
	var out, progress bytes.Buffer
	rep, err := Run(ctx, Config{
		Server: bin, Calls: 5, Warmup: 1, Window: 100 * time.Millisecond, Rounds: 1, Workers: []int{2}, Sessions: 3,
		SparseInterval: 1300 * time.Millisecond, SparseDuration: 2600 * time.Millisecond,
		Env: []string{"GOGC=100"}, JSON: jsonPath, WriteBaseline: basePath, BaselineComment: "test", Progress: &progress,
	}, &out)
	if err != nil {
		t.Fatalf("Run: %v\n%s\n%s", err, out.String(), progress.String())
	}
	t.Logf("\n%s", out.String())
	text := out.String()
	if got := strings.Count(text, "\nlatency "); got != 8 {
		t.Errorf("%d latency lines, want 8", got)
	}
	if got := strings.Count(text, "\nthroughput "); got != 4 {
		t.Errorf("%d throughput lines, want 4", got)
	}
	if got := strings.Count(text, "\nsessions "); got != 2 {
		t.Errorf("%d sessions lines, want 2", got)
	}
	if !strings.Contains(text, "\nsparse ") || !strings.Contains(text, "simulated") || !strings.Contains(text, "# load after:") {
		t.Errorf("output lacks the sparse line or the footer:\n%s", text)
	}
	for _, l := range rep.Latency {
		if l.P50 <= 0 || l.Direct.P50 <= 0 || l.BytesPerCall <= 0 || l.GiteaPerCall < 0.99 {
			t.Errorf("latency %s: %+v", l.Key(), l)
		}
	}
	if s := rep.Sessions[1]; s.GoroutinesPerSession <= rep.Sessions[0].GoroutinesPerSession {
		t.Errorf("the standalone stream costs no goroutine: %+v %+v", rep.Sessions[0], s)
	}
	// Whether each sparse call waits for introspection is the server's to
	// improve (its verdicts are kept warm); the calls are there either way.
	if s := rep.Sparse; s.Calls != 2 || s.P50 <= 0 || s.MissesPerCall < 0 || s.MissesPerCall > 1 {
		t.Errorf("sparse caller: %+v", s)
	}
	if _, err := readBaseline(basePath); err != nil {
		t.Errorf("the written baseline: %v", err)
	}
	if _, err := os.Stat(jsonPath); err != nil {
		t.Errorf("the JSON report: %v", err)
	}
	// A run compared with a baseline of a tenth of its allocations fails.
	base, _ := readBaseline(basePath)
	for k, f := range base.Measures {
		base.Measures[k] = AllocFigure{BytesPerCall: f.BytesPerCall / 10, ObjectsPerCall: f.ObjectsPerCall / 10}
	}
	if checks, failed := base.compare(rep.Latency); !failed || len(checks) != 8 {
		t.Errorf("compare with a tenth: failed %v, %d checks", failed, len(checks))
	}
}
