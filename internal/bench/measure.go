package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Latency is one transport's answer times for one tool, against direct
// calls interleaved with them, and what the server spent on each call.
type Latency struct {
	Tool      string `json:"tool"`
	Transport string `json:"transport"`
	Calls     int    `json:"calls"`
	Spread
	Direct         Spread  `json:"direct"`
	RatioP50       float64 `json:"ratio_p50"`
	RatioP99       float64 `json:"ratio_p99"`
	CPUPerCallMS   float64 `json:"server_cpu_ms_per_call"`
	BytesPerCall   float64 `json:"alloc_bytes_per_call"`
	ObjectsPerCall float64 `json:"alloc_objects_per_call"`
	GiteaPerCall   float64 `json:"gitea_requests_per_call"`
	CallsPerGC     float64 `json:"calls_per_gc"` // 0: no collection during the measure
}

// Key names the measure in the baseline.
func (l *Latency) Key() string { return l.Tool + " " + l.Transport }

// Spread is a latency distribution's percentiles, in milliseconds.
type Spread struct {
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
}

func (l *Latency) String() string {
	gc := "no gc"
	if l.CallsPerGC > 0 {
		gc = fmt.Sprintf("gc every %.1f calls", l.CallsPerGC)
	}
	return fmt.Sprintf("latency    %-17s %-13s n=%-4d %s | direct %s | ratio p50 %.2f p99 %.2f | server cpu %.3fms/call | alloc %.1fKB %.0f objects/call | gitea %.2f req/call, %s",
		l.Tool, l.Transport, l.Calls, l.Spread, l.Direct, l.RatioP50, l.RatioP99, l.CPUPerCallMS, l.BytesPerCall/1024, l.ObjectsPerCall, l.GiteaPerCall, gc)
}

func (s Spread) String() string {
	return fmt.Sprintf("p50 %.2fms p90 %.2fms p99 %.2fms", s.P50, s.P90, s.P99)
}

// spread takes the nearest-rank percentiles of ds (it sorts ds).
func spread(ds []time.Duration) Spread {
	if len(ds) == 0 {
		return Spread{}
	}
	slices.Sort(ds)
	at := func(p float64) float64 {
		i := min(len(ds)-1, max(0, int(math.Ceil(p*float64(len(ds))))-1))
		return float64(ds[i]) / float64(time.Millisecond)
	}
	return Spread{P50: at(0.50), P90: at(0.90), P99: at(0.99)}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// pair makes one proxied and one direct call of t, the direct one first
// when i is even, and returns their times.
func pair(ctx context.Context, i int, proxied, direct caller, t *tool) (p, d time.Duration, err error) {
	timed := func(c caller) (time.Duration, error) {
		start := time.Now()
		_, err := c.call(ctx, t)
		return time.Since(start), err
	}
	if i%2 == 0 {
		if d, err = timed(direct); err == nil {
			p, err = timed(proxied)
		}
	} else {
		if p, err = timed(proxied); err == nil {
			d, err = timed(direct)
		}
	}
	return p, d, err
}

// latency measures one transport for one tool: warm-up pairs first, then
// cfg.Calls pairs between two metric scrapes and CPU readings.
func (b *run) latency(ctx context.Context, kind string, t *tool) (*Latency, error) {
	c, err := b.clients.open(ctx, b.srv.URL, kind, true)
	if err != nil {
		return nil, err
	}
	defer c.close()
	if err := check(ctx, c, t); err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	if err := check(ctx, b.clients.direct, t); err != nil {
		return nil, err
	}
	for i := range b.cfg.Warmup {
		if _, _, err := pair(ctx, i, c, b.clients.direct, t); err != nil {
			return nil, err
		}
	}
	proxied := make([]time.Duration, 0, b.cfg.Calls)
	direct := make([]time.Duration, 0, b.cfg.Calls)
	scrapeCost, err := b.scrapeCost(ctx)
	if err != nil {
		return nil, err
	}
	before, cpu0, err := b.reading(ctx)
	if err != nil {
		return nil, err
	}
	for i := range b.cfg.Calls {
		p, d, err := pair(ctx, i, c, b.clients.direct, t)
		if err != nil {
			return nil, err
		}
		proxied, direct = append(proxied, p), append(direct, d)
	}
	after, cpu1, err := b.reading(ctx)
	if err != nil {
		return nil, err
	}
	n := float64(b.cfg.Calls)
	delta := after.sub(before).sub(scrapeCost)
	l := &Latency{Tool: t.name, Transport: kind, Calls: b.cfg.Calls, Spread: spread(proxied), Direct: spread(direct),
		CPUPerCallMS:   float64(cpu1-cpu0) / float64(time.Millisecond) / n,
		BytesPerCall:   max(0, delta.allocBytes) / n,
		ObjectsPerCall: max(0, delta.allocObjects) / n,
		GiteaPerCall:   delta.giteaCalls / n,
		CallsPerGC:     ratio(n, delta.gcs),
	}
	l.RatioP50, l.RatioP99 = ratio(l.P50, l.Direct.P50), ratio(l.P99, l.Direct.P99)
	return l, nil
}

// reading scrapes the server's metrics and reads its CPU time. What the
// scrape allocates is calibrated ([run.calibrate]) and subtracted.
func (b *run) reading(ctx context.Context) (sample, time.Duration, error) {
	s, err := b.srv.scrape(ctx)
	if err != nil {
		return sample{}, 0, err
	}
	cpu, err := b.srv.cpu()
	return s, cpu, err
}

// scrapeCost is what a scrape itself allocates in the server, the least
// of a few back-to-back pairs, for a measure to subtract. It is taken
// before each measure: the text grows as series appear.
func (b *run) scrapeCost(ctx context.Context) (sample, error) {
	best := sample{allocBytes: math.Inf(1)}
	for range 3 {
		s0, err := b.srv.scrape(ctx)
		if err != nil {
			return sample{}, err
		}
		s1, err := b.srv.scrape(ctx)
		if err != nil {
			return sample{}, err
		}
		if d := s1.sub(s0); d.allocBytes < best.allocBytes {
			best = d
		}
	}
	return sample{allocBytes: max(0, best.allocBytes), allocObjects: max(0, best.allocObjects)}, nil
}

// Throughput is the calls per second N concurrent callers get through the
// server, against N callers reading directly, in alternating slices.
type Throughput struct {
	Tool         string  `json:"tool"`
	Transport    string  `json:"transport"`
	Workers      int     `json:"workers"`
	Rate         float64 `json:"calls_per_second"`
	DirectRate   float64 `json:"direct_calls_per_second"`
	Ratio        float64 `json:"ratio"`
	CPUPerCallMS float64 `json:"server_cpu_ms_per_call"`
}

func (t *Throughput) String() string {
	return fmt.Sprintf("throughput %-17s %-13s N=%-3d %7.1f calls/s | direct %7.1f calls/s | ratio %.2f | server cpu %.3fms/call",
		t.Tool, t.Transport, t.Workers, t.Rate, t.DirectRate, t.Ratio, t.CPUPerCallMS)
}

// throughput runs n callers of kind (n sessions) and n direct callers in
// turn, cfg.Window of each in cfg.Rounds slices, the side that goes first
// alternating. Each slice's first tenth is ramp-up, not counted.
func (b *run) throughput(ctx context.Context, kind string, t *tool, n int) (*Throughput, error) {
	proxied, err := b.clients.openMany(ctx, b.srv.URL, kind, true, n)
	if err != nil {
		return nil, err
	}
	defer closeAll(proxied)
	direct := make([]caller, n)
	for i := range direct {
		direct[i] = b.clients.direct
	}
	for _, c := range proxied { // warm-up
		if err := check(ctx, c, t); err != nil {
			return nil, err
		}
	}
	per := b.cfg.Window / time.Duration(b.cfg.Rounds)
	var pCalls, dCalls, pAll int64
	var pTime, dTime, cpu time.Duration
	for r := range b.cfg.Rounds {
		for side := range 2 {
			if (side == 0) == (r%2 == 0) {
				calls, _, d, err := runSlice(ctx, direct, t, per)
				if err != nil {
					return nil, err
				}
				dCalls, dTime = dCalls+calls, dTime+d
				continue
			}
			cpu0, err := b.srv.cpu()
			if err != nil {
				return nil, err
			}
			calls, all, d, err := runSlice(ctx, proxied, t, per)
			if err != nil {
				return nil, err
			}
			cpu1, err := b.srv.cpu()
			if err != nil {
				return nil, err
			}
			pCalls, pAll, pTime, cpu = pCalls+calls, pAll+all, pTime+d, cpu+cpu1-cpu0
		}
	}
	res := &Throughput{Tool: t.name, Transport: kind, Workers: n,
		Rate: float64(pCalls) / pTime.Seconds(), DirectRate: float64(dCalls) / dTime.Seconds(),
		CPUPerCallMS: ratio(float64(cpu)/float64(time.Millisecond), float64(pAll))}
	res.Ratio = ratio(res.Rate, res.DirectRate)
	return res, nil
}

// runSlice keeps every caller calling t for d and returns the calls that
// ended after the first tenth of d (steady), all calls, and the steady
// time. A caller not safe for concurrent use appears once in callers.
func runSlice(ctx context.Context, callers []caller, t *tool, d time.Duration) (steady, all int64, steadyTime time.Duration, err error) {
	start := time.Now()
	from, until := start.Add(d/10), start.Add(d)
	var nSteady, nAll atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for _, c := range callers {
		g.Go(func() error {
			for time.Now().Before(until) {
				if _, err := c.call(gctx, t); err != nil {
					return err
				}
				end := time.Now()
				nAll.Add(1)
				if !end.Before(from) && !end.After(until) {
					nSteady.Add(1)
				}
			}
			return nil
		})
	}
	err = g.Wait()
	return nSteady.Load(), nAll.Load(), until.Sub(from), err
}

// SessionMemory is what M more open sessions cost the server.
type SessionMemory struct {
	Transport            string  `json:"transport"`
	Standalone           bool    `json:"standalone_stream"`
	Sessions             int     `json:"sessions"`
	RSSDelta             int64   `json:"rss_delta_bytes"`
	PerSession           float64 `json:"rss_bytes_per_session"`
	GoroutinesPerSession float64 `json:"goroutines_per_session"`
}

func (s *SessionMemory) String() string {
	with := "without"
	if s.Standalone {
		with = "with   "
	}
	return fmt.Sprintf("sessions   %-17s %-13s M=%-4d %s the standalone GET stream | RSS %+.1fMB = %.1fKB/session | %.1f goroutines/session",
		"(open, idle)", kindSession, s.Sessions, with, float64(s.RSSDelta)/(1<<20), s.PerSession/1024, s.GoroutinesPerSession)
}

// sessionMemory opens cfg.Sessions sessions without the standalone stream
// and then as many more with it, keeping the first ones open (so that the
// second batch cannot reuse the memory of the first), and reads the RSS
// and goroutines before and after each batch once they settled.
func (b *run) sessionMemory(ctx context.Context) ([]*SessionMemory, error) {
	var open []caller
	defer func() { closeAll(open) }()
	var out []*SessionMemory
	for _, standalone := range []bool{false, true} {
		g0, rss0, err := b.settle(ctx)
		if err != nil {
			return nil, err
		}
		cs, err := b.clients.openMany(ctx, b.srv.URL, kindSession, standalone, b.cfg.Sessions)
		if err != nil {
			return nil, err
		}
		open = append(open, cs...)
		g1, rss1, err := b.settle(ctx)
		if err != nil {
			return nil, err
		}
		m := float64(b.cfg.Sessions)
		out = append(out, &SessionMemory{Transport: kindSession, Standalone: standalone, Sessions: b.cfg.Sessions,
			RSSDelta: rss1 - rss0, PerSession: float64(rss1-rss0) / m, GoroutinesPerSession: (g1 - g0) / m})
	}
	return out, nil
}

// settle waits (up to 5 s) until the server's goroutine count holds still
// for three readings 100 ms apart, then returns it and the RSS.
func (b *run) settle(ctx context.Context) (goroutines float64, rss int64, err error) {
	deadline := time.Now().Add(5 * time.Second)
	last, still := -1.0, 0
	for still < 3 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		s, err := b.srv.scrape(ctx)
		if err != nil {
			return 0, 0, err
		}
		if s.goroutines == last {
			still++
		} else {
			last, still = s.goroutines, 0
		}
	}
	rss, err = b.srv.rss()
	return last, rss, err
}

// Sparse is a caller who calls seldom: each call finds the token's cached
// verdict expired and waits for Gitea's introspection.
type Sparse struct {
	Tool      string  `json:"tool"`
	Transport string  `json:"transport"`
	Calls     int     `json:"calls"`
	Interval  float64 `json:"interval_seconds"`
	TTL       float64 `json:"cache_ttl_seconds"`
	Simulated bool    `json:"simulated"`
	Spread
	Direct           Spread  `json:"direct"`
	RatioP50         float64 `json:"ratio_p50"`
	RatioP99         float64 `json:"ratio_p99"`
	MissesPerCall    float64 `json:"token_cache_misses_per_call"`
	simulatedComment string
}

func (s *Sparse) String() string {
	return fmt.Sprintf("sparse     %-17s %-13s n=%-4d %s | direct %s | ratio p50 %.2f p99 %.2f | token cache misses %.2f/call | a call every %s, OAUTH_CACHE_TTL_SECONDS=%s, OAUTH_CACHE_KEEP_WARM_SECONDS=%s%s",
		s.Tool, s.Transport, s.Calls, s.Spread, s.Direct, s.RatioP50, s.RatioP99, s.MissesPerCall,
		seconds(s.Interval), seconds(s.TTL), seconds(10*s.TTL), s.simulatedComment)
}

func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).String()
}

// sparse calls get_file_contents on the stateless path once every
// cfg.SparseInterval for cfg.SparseDuration, each call paired with a
// direct one (order alternating), on srv, a server started with
// OAUTH_CACHE_TTL_SECONDS=cfg.SparseTTL.
func (b *run) sparse(ctx context.Context, srv *server, t *tool) (*Sparse, error) {
	c, err := b.clients.open(ctx, srv.URL, kindStateless, false)
	if err != nil {
		return nil, err
	}
	defer c.close()
	if err := check(ctx, c, t); err != nil { // warm-up, not counted
		return nil, err
	}
	n := max(2, int(b.cfg.SparseDuration/b.cfg.SparseInterval))
	before, err := srv.scrape(ctx)
	if err != nil {
		return nil, err
	}
	tick := time.NewTicker(b.cfg.SparseInterval)
	defer tick.Stop()
	proxied := make([]time.Duration, 0, n)
	direct := make([]time.Duration, 0, n)
	for i := range n {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		p, d, err := pair(ctx, i, c, b.clients.direct, t)
		if err != nil {
			return nil, err
		}
		proxied, direct = append(proxied, p), append(direct, d)
	}
	after, err := srv.scrape(ctx)
	if err != nil {
		return nil, err
	}
	s := &Sparse{Tool: t.name, Transport: kindStateless, Calls: n, Interval: b.cfg.SparseInterval.Seconds(), TTL: b.cfg.SparseTTL.Seconds(),
		Spread: spread(proxied), Direct: spread(direct), MissesPerCall: after.sub(before).cacheMisses / float64(n)}
	s.RatioP50, s.RatioP99 = ratio(s.P50, s.Direct.P50), ratio(s.P99, s.Direct.P99)
	s.Simulated = b.cfg.SparseInterval < realSparseInterval || b.cfg.SparseDuration < realSparseDuration
	if s.Simulated {
		s.simulatedComment = fmt.Sprintf(" (simulated with short TTLs: stands for the issue's call every %s for %s at the defaults 60s/600s)",
			realSparseInterval, realSparseDuration)
	}
	return s, nil
}

// The sparse caller of the table.
const (
	realSparseInterval = 70 * time.Second
	realSparseDuration = 10 * time.Minute
)
