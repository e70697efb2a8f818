package server

import (
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/limits"
)

// sampledLog bounds the log lines that callers can cause in bulk, such as
// refusals: per kind, a few lines a second, each saying how many of its
// kind it stands for that were not written.
type sampledLog struct {
	log  *slog.Logger
	rate *limits.Rate

	mu         sync.Mutex
	suppressed map[string]int
}

// sampledPerSecond is how many lines of one kind are written a second.
const sampledPerSecond = 5

func newSampledLog(log *slog.Logger, now func() time.Time) *sampledLog {
	return &sampledLog{log: log, rate: limits.NewRate(sampledPerSecond, time.Second, 1000, now), suppressed: map[string]int{}}
}

// warn writes msg at Warn level unless kind has had its lines this second,
// and reports whether it wrote.
func (l *sampledLog) warn(kind, msg string, args ...any) bool {
	return l.write(slog.LevelWarn, kind, msg, args...)
}

// info is warn at Info level.
func (l *sampledLog) info(kind, msg string, args ...any) bool {
	return l.write(slog.LevelInfo, kind, msg, args...)
}

func (l *sampledLog) write(level slog.Level, kind, msg string, args ...any) bool {
	ok, _ := l.rate.Allow(kind)
	l.mu.Lock()
	if !ok {
		if len(l.suppressed) < 1000 || l.suppressed[kind] > 0 {
			l.suppressed[kind]++
		}
		l.mu.Unlock()
		return false
	}
	n := l.suppressed[kind]
	delete(l.suppressed, kind)
	l.mu.Unlock()
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	l.log.Log(nil, level, msg, args...) //nolint:staticcheck // no context: a sampled line belongs to no one request
	return true
}

// flush writes, for every kind with lines not written since its last one,
// how many there were; the server calls it when it closes.
func (l *sampledLog) flush() {
	l.mu.Lock()
	pending := l.suppressed
	l.suppressed = map[string]int{}
	l.mu.Unlock()
	for _, kind := range slices.Sorted(maps.Keys(pending)) {
		l.log.Warn("log lines suppressed", "kind", kind, "suppressed", pending[kind])
	}
}
