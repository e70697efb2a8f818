package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// serverEnv is the configuration every benchmarked server runs with: the
// defaults, except limits a benchmark would trip (rates and session
// counts), metrics on a loopback port of its own, and an audit log as a
// deployment keeps one.
var serverEnv = []string{
	"RATE_LIMIT_PER_MINUTE=100000",
	"RATE_LIMIT_PER_IP_PER_SECOND=100000",
	"MAX_CONCURRENT_CALLS_PER_USER=256",
	"MAX_SESSIONS_PER_USER=100000",
	"MAX_SESSIONS=100000",
	"MAX_STREAMS_PER_USER=100000",
	"MAX_STREAMS=100000",
	"METRICS_ADDR=127.0.0.1:0",
}

// server is a running aegis-gitea-mcp process this benchmark started.
type server struct {
	URL        string // http://127.0.0.1:PORT
	metricsURL string // http://127.0.0.1:PORT/metrics
	Version    string
	cmd        *exec.Cmd
	exited     chan struct{}
	logPath    string
	http       *http.Client
	stopOnce   sync.Once
}

// startServer starts bin serve in a directory of its own under dir (no
// stray .env is read), with only the given environment, and waits until
// it listens. The process is told to die with this one (Pdeathsig).
func startServer(ctx context.Context, bin, dir, listen string, w *world, extra []string) (*server, error) {
	if err := checkLoopbackAddr(listen); err != nil {
		return nil, fmt.Errorf("-listen: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	secretFile := filepath.Join(dir, "client-secret")
	if err := os.WriteFile(secretFile, []byte(w.app.ClientSecret+"\n"), 0o600); err != nil {
		return nil, err
	}
	env := append([]string{
		"GITEA_URL=" + w.gitea.URL,
		"GITEA_OAUTH_CLIENT_ID=" + w.app.ClientID,
		"GITEA_OAUTH_CLIENT_SECRET_FILE=" + secretFile,
		"AUDIT_LOG_PATH=" + filepath.Join(dir, "audit.log"),
		"HOME=" + dir,
	}, serverEnv...)
	env = append(env, extra...)
	s := &server{
		exited:  make(chan struct{}),
		logPath: filepath.Join(dir, "server.log"),
		http:    &http.Client{Timeout: 10 * time.Second, Transport: newTransport()},
	}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	// The server outlives ctx's cancellation until stop, which ends it in order.
	s.cmd = exec.CommandContext(context.WithoutCancel(ctx), bin, "serve", "--listen", listen) // #nosec G204 -- the binary the user named
	s.cmd.Dir, s.cmd.Env, s.cmd.Stdout = dir, env, logFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		_ = logFile.Close()
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	addrs := make(chan map[string]any, 4)
	go s.readLog(stderr, logFile, addrs)
	go func() {
		_ = s.cmd.Wait()
		_ = logFile.Close()
		close(s.exited)
	}()
	if err := s.waitListening(ctx, addrs); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w\n--- server log (tail) ---\n%s", err, s.logTail(w.token))
	}
	return s, nil
}

// readLog copies the server's JSON log to its file and hands on the lines
// that name the listeners.
func (s *server) readLog(r io.Reader, file io.Writer, addrs chan<- map[string]any) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		_, _ = file.Write(append(sc.Bytes(), '\n'))
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		if msg := line["msg"]; msg == "listening" || msg == "metrics listening" {
			select {
			case addrs <- line:
			default:
			}
		}
	}
	_, _ = io.Copy(file, r)
}

func (s *server) waitListening(ctx context.Context, addrs <-chan map[string]any) error {
	timeout := time.NewTimer(90 * time.Second)
	defer timeout.Stop()
	for s.URL == "" || s.metricsURL == "" {
		select {
		case line := <-addrs:
			addr, _ := line["addr"].(string)
			if err := checkLoopbackAddr(addr); err != nil {
				return fmt.Errorf("server: %w", err)
			}
			if line["msg"] == "listening" {
				s.URL = "http://" + addr
				s.Version, _ = line["version"].(string)
			} else {
				s.metricsURL = "http://" + addr + "/metrics"
			}
		case <-s.exited:
			return errors.New("the server exited before it listened")
		case <-timeout.C:
			return errors.New("the server did not listen within 90 s")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// logTail is the end of the server's log, with the token masked should it
// ever appear there.
func (s *server) logTail(token string) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no log)"
	}
	text := string(b)
	if token != "" {
		text = strings.ReplaceAll(text, token, "[token]")
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// withLog adds the end of the server's log to err.
func (s *server) withLog(token string, err error) error {
	return fmt.Errorf("%w\n--- server log (tail) ---\n%s", err, s.logTail(token))
}

// pid is the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// stop ends the server by its PID: SIGTERM, then SIGKILL after 15 s.
func (s *server) stop() {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
}

// cpu is the CPU time (user and system, every thread) the process used so far.
func (s *server) cpu() (time.Duration, error) { return procCPU(s.pid()) }

// rss is the process's resident set size in bytes.
func (s *server) rss() (int64, error) { return procRSS(s.pid()) }

// procCPU reads utime+stime from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU takes utime and stime (fields 14 and 15) from a
// /proc/PID/stat line. The command name (field 2) is in parentheses and
// may hold spaces, so fields are counted after its closing parenthesis.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("/proc stat: no command name")
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, errors.New("/proc stat: too few fields")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc stat: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// procRSS reads VmRSS from /proc/PID/status.
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return parseStatusRSS(string(b))
}

func parseStatusRSS(status string) (int64, error) {
	for line := range strings.Lines(status) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("/proc status: VmRSS %q", strings.TrimSpace(rest))
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("/proc status: no VmRSS")
}

// sample is what one scrape of the server's metrics says.
type sample struct {
	allocBytes   float64 // go_memstats_alloc_bytes_total
	allocObjects float64 // go_memstats_mallocs_total
	gcs          float64 // go_gc_duration_seconds count
	goroutines   float64 // go_goroutines
	giteaCalls   float64 // aegis_gitea_requests_total, every status
	cacheMisses  float64 // aegis_token_cache_events_total{event="miss"}
}

// sub is s minus o, for the counters.
func (s sample) sub(o sample) sample {
	return sample{
		allocBytes: s.allocBytes - o.allocBytes, allocObjects: s.allocObjects - o.allocObjects, gcs: s.gcs - o.gcs,
		goroutines: s.goroutines - o.goroutines, giteaCalls: s.giteaCalls - o.giteaCalls, cacheMisses: s.cacheMisses - o.cacheMisses,
	}
}

// scrape reads the server's /metrics.
func (s *server) scrape(ctx context.Context) (sample, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.metricsURL, nil)
	if err != nil {
		return sample{}, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return sample{}, fmt.Errorf("metrics: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return sample{}, fmt.Errorf("metrics: status %d", resp.StatusCode)
	}
	return parseMetrics(io.LimitReader(resp.Body, 16<<20))
}

// parseMetrics takes the figures the benchmark needs from the Prometheus
// text format. The Go collector's memstats counters are runtime/metrics'
// /gc/heap/allocs:bytes and :objects (tiny allocations included).
func parseMetrics(r io.Reader) (sample, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return sample{}, fmt.Errorf("metrics: %w", err)
	}
	sum := func(name string, labels map[string]string) (float64, error) {
		f := families[name]
		if f == nil {
			return 0, fmt.Errorf("metrics: no %s", name)
		}
		var total float64
		for _, m := range f.GetMetric() {
			if !hasLabels(m, labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				total += m.Counter.GetValue()
			case m.Gauge != nil:
				total += m.Gauge.GetValue()
			case m.Summary != nil:
				total += float64(m.Summary.GetSampleCount())
			case m.Histogram != nil:
				total += float64(m.Histogram.GetSampleCount())
			}
		}
		return total, nil
	}
	optional := func(name string, labels map[string]string) float64 {
		v, _ := sum(name, labels) // a counter vector has no series before its first event
		return v
	}
	var s sample
	var errs [4]error
	s.allocBytes, errs[0] = sum("go_memstats_alloc_bytes_total", nil)
	s.allocObjects, errs[1] = sum("go_memstats_mallocs_total", nil)
	s.gcs, errs[2] = sum("go_gc_duration_seconds", nil)
	s.goroutines, errs[3] = sum("go_goroutines", nil)
	s.giteaCalls = optional("aegis_gitea_requests_total", nil)
	s.cacheMisses = optional("aegis_token_cache_events_total", map[string]string{"event": "miss"})
	return s, errors.Join(errs[:]...)
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == k && l.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// loadavg is /proc/loadavg without its newline.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
