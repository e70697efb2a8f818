package server

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/limits"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/tools"
)

// limiter holds the server's rate and resource limits (config.Limits):
// per user, calls and writes a minute and calls in flight; per client
// address, requests a second and failed authentications a window; per
// user and in total, sessions and event streams.
type limiter struct {
	cfg          config.Limits
	calls        *limits.Rate
	writes       *limits.Rate
	requests     *limits.Rate
	authFailures *limits.Rate
	inFlight     *limits.Slots
	sessions     *limits.Slots
	streams      *limits.Slots
}

func newLimiter(cfg config.Limits, now func() time.Time) *limiter {
	return &limiter{
		cfg:          cfg,
		calls:        limits.NewRate(cfg.CallsPerMinute, time.Minute, 0, now),
		writes:       limits.NewRate(cfg.WritesPerMinute, time.Minute, 0, now),
		requests:     limits.NewRate(cfg.RequestsPerSecond, time.Second, 0, now),
		authFailures: limits.NewRate(cfg.MaxAuthFailures, cfg.AuthFailureWindow, 0, now),
		inFlight:     limits.NewSlots(cfg.CallsPerUser, cfg.Calls),
		sessions:     limits.NewSlots(cfg.SessionsPerUser, cfg.Sessions),
		streams:      limits.NewSlots(cfg.StreamsPerUser, cfg.Streams),
	}
}

// admitCall spends one of p's calls a minute, and one of its writes if t
// writes, and takes one of the slots for calls in flight. release gives
// the slot back once the call is over.
func (l *limiter) admitCall(p *auth.Principal, t *tools.Tool) (release func(), ref *refusal) {
	if ok, wait := l.calls.Allow(p.UserID); !ok {
		return nil, rateLimited("rate_limited", wait,
			fmt.Sprintf("you have made %d tool calls in the last minute, this server's limit (RATE_LIMIT_PER_MINUTE)", l.cfg.CallsPerMinute))
	}
	if t.Access != tools.Read {
		if ok, wait := l.writes.Allow(p.UserID); !ok {
			return nil, rateLimited("write_rate_limited", wait,
				fmt.Sprintf("you have made %d writes in the last minute, this server's limit (WRITE_RATE_LIMIT_PER_MINUTE)", l.cfg.WritesPerMinute))
		}
	}
	return hold(l.inFlight, p, time.Second, "too_many_calls",
		fmt.Sprintf("you already have %d tool calls running, this server's limit (MAX_CONCURRENT_CALLS_PER_USER): wait for one to finish", l.cfg.CallsPerUser),
		fmt.Sprintf("this server is running %d tool calls, its limit (MAX_CONCURRENT_CALLS)", l.cfg.Calls))
}

// openSession takes one of p's session slots; release gives it back when
// the session ends.
func (l *limiter) openSession(p *auth.Principal) (release func(), ref *refusal) {
	return hold(l.sessions, p, 10*time.Second, "too_many_sessions",
		fmt.Sprintf("you already hold %d open sessions, this server's limit (MAX_SESSIONS_PER_USER): close one (DELETE it) or let an idle one expire", l.cfg.SessionsPerUser),
		fmt.Sprintf("this server holds %d open sessions, its limit (MAX_SESSIONS)", l.cfg.Sessions))
}

// openStream takes one of p's event-stream slots; release gives it back
// when the stream closes.
func (l *limiter) openStream(p *auth.Principal) (release func(), ref *refusal) {
	return hold(l.streams, p, 10*time.Second, "too_many_streams",
		fmt.Sprintf("you already hold %d open event streams, this server's limit (MAX_STREAMS_PER_USER): close one first", l.cfg.StreamsPerUser),
		fmt.Sprintf("this server holds %d open event streams, its limit (MAX_STREAMS)", l.cfg.Streams))
}

// hold takes one of p's slots, or refuses with code and userFull when p
// holds its share, or server_busy and allFull when everyone's is taken;
// wait is how long to suggest waiting.
func hold(slots *limits.Slots, p *auth.Principal, wait time.Duration, code, userFull, allFull string) (release func(), ref *refusal) {
	release, full := slots.Acquire(p.UserID)
	switch full {
	case limits.PerKeyFull:
		return nil, rateLimited(code, wait, userFull)
	case limits.TotalFull:
		return nil, rateLimited("server_busy", wait, allFull)
	}
	return release, nil
}

// rateLimited is a refusal for a limit: 429, and how long to wait.
func rateLimited(code string, wait time.Duration, why string) *refusal {
	secs := retrySeconds(wait)
	return &refusal{status: http.StatusTooManyRequests, code: code, retryAfter: time.Duration(secs) * time.Second,
		text: why + "; retry in " + strconv.Itoa(secs) + " s"}
}

// retrySeconds rounds a wait up to whole seconds, at least one.
func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// writeLimited answers an HTTP request refused by a limit: 429 with
// Retry-After and the limit's fixed text.
func writeLimited(w http.ResponseWriter, ref *refusal) {
	if ref.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(ref.retryAfter)))
	}
	writeError(w, ref.status, ref.code, ref.text)
}
