package server

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// readinessTTL is how long a readiness verdict is reused: probes are
// unauthenticated, so they must not turn into a stream of calls to Gitea.
const readinessTTL = 5 * time.Second

// readiness answers whether the server can do its job: Gitea reachable at
// its base URL, accepting this server's credentials (the OAuth client's, or
// GITEA_TOKEN) and, in OAuth mode, recent enough, with its OIDC discovery
// document and signing keys loaded. The reasons are in startup.go.
type readiness struct {
	gitea *gitea.Endpoint
	oauth bool
	gate  *versionGate   // OAuth mode only
	keys  *auth.Verifier // OAuth mode only: its signing keys must be loaded
	audit *audit.Log     // when AUDIT_LOG_PATH is set: it must accept records
	// creds asks Gitea whether it accepts this server's credentials: the
	// OAuth client's, or GITEA_TOKEN in shared-token mode.
	creds func(context.Context) error
	now   func() time.Time

	mu        sync.Mutex
	checkedAt time.Time
	last      readyState
	discovery *gitea.Discovery // kept once loaded
}

type readyState struct {
	Ready        bool   `json:"-"`
	Status       string `json:"status"`
	Reason       string `json:"reason,omitempty"`
	GiteaVersion string `json:"gitea_version,omitempty"`
	Discovery    bool   `json:"oidc_discovery_loaded"`
	// configuration is true when the fault is fixed by changing the
	// configuration; cause is the error behind it, for the log only.
	configuration bool
	cause         error
}

// check returns the cached verdict or, when it is stale, asks Gitea again.
// Concurrent probes share one check.
func (r *readiness) check(ctx context.Context) readyState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.checkedAt.IsZero() && r.now().Sub(r.checkedAt) < readinessTTL {
		return r.last
	}
	r.last = r.probe(ctx)
	r.checkedAt = r.now()
	return r.last
}

func (r *readiness) probe(ctx context.Context) readyState {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st := readyState{Discovery: r.discovery != nil}
	if r.audit != nil && r.audit.Healthy() != nil {
		return st.notReady("the audit log cannot be written")
	}
	v, err := r.gitea.Version(ctx)
	if err != nil {
		return st.fault(err, versionFault)
	}
	st.GiteaVersion = v.String()
	if r.oauth && !v.AtLeast(minGitea.Major, minGitea.Minor, minGitea.Patch) {
		r.gate.shut(v)
		st = st.notReady(reasonTooOld(v))
		st.configuration = true
		return st
	}
	if r.oauth && r.discovery == nil {
		d, err := r.gitea.Discovery(ctx)
		if err != nil {
			return st.fault(err, discoveryFault)
		}
		r.discovery, st.Discovery = d, true
	}
	if r.oauth && r.gate.check(ctx) != nil {
		return st.notReady("gitea's version is not confirmed yet")
	}
	if r.creds != nil {
		if err := r.creds(ctx); err != nil {
			return st.fault(err, func(err error) (string, bool) { return credentialFault(err, r.oauth) })
		}
	}
	if r.oauth {
		if r.keys.Warm(ctx); !r.keys.KeysLoaded() {
			return st.notReady("gitea signing keys (JWKS) not loaded")
		}
	}
	st.Ready, st.Status = true, "ready"
	return st
}

// issuer is Gitea's OAuth issuer from its discovery document, or GITEA_URL
// until that is loaded.
func (r *readiness) issuer() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.discovery != nil {
		return r.discovery.Issuer
	}
	return r.gitea.BaseURL().String()
}

func (st readyState) notReady(reason string) readyState {
	st.Status, st.Reason = "not ready", reason
	return st
}

// fault is st not ready for err, worded by words.
func (st readyState) fault(err error, words func(error) (string, bool)) readyState {
	reason, configuration := words(err)
	st = st.notReady(reason)
	st.configuration, st.cause = configuration, err
	return st
}

// reasonFor turns a Gitea error into a fixed phrase for a probe's answer.
func reasonFor(err error) string {
	switch {
	case errors.Is(err, gitea.ErrUnavailable):
		return "unreachable or failing"
	case errors.Is(err, gitea.ErrBadResponse):
		return "answered with an unexpected response"
	}
	return "answered with an error"
}

func (r *readiness) serveReadyz(w http.ResponseWriter, req *http.Request) {
	st := r.check(req.Context())
	status := http.StatusOK
	if !st.Ready {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, st)
}

// serveHealth keeps the original AegisGitea-MCP /health shape for existing monitors.
func (r *readiness) serveHealth(w http.ResponseWriter, req *http.Request) {
	st := r.check(req.Context())
	body := map[string]any{"status": "healthy", "gitea_connected": st.Ready}
	status := http.StatusOK
	if !st.Ready {
		body["status"], status = "unhealthy", http.StatusServiceUnavailable
	}
	writeJSON(w, status, body)
}

func serveLiveness(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
