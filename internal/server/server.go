package server

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/broker"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/metrics"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/policy"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/textsafe"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/tools"
)

// Timeouts of the HTTP server. Streaming endpoints extend their own write
// deadline with http.ResponseController.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 15 * time.Second
)

// Options configure [New].
type Options struct {
	Config  *config.Config // required
	Logger  *slog.Logger   // nil means slog.Default()
	Version string         // this build's version, shown at GET /
	// Gitea overrides the endpoint built from Config; tests use it.
	Gitea *gitea.Endpoint
	// Tools overrides the tool registry; nil means tools.Default().
	Tools *tools.Registry
	// Now is the clock for token expiry and caching; nil means time.Now.
	Now func() time.Time
	// ClientMetadataRootCAs are the certificate authorities the broker
	// trusts when it fetches Client ID Metadata Documents; nil means the
	// system's. Plumbing for tests and operators with a private CA: the
	// end-to-end tests serve a document from an httptest TLS server.
	ClientMetadataRootCAs *x509.CertPool
}

// Server is the HTTP server and the MCP server behind all its transports.
type Server struct {
	cfg      *config.Config
	log      *slog.Logger
	version  string
	gitea    *gitea.Endpoint
	tools    *tools.Registry
	authn    authenticator
	gate     *versionGate    // OAuth mode only
	verifier *auth.Verifier  // OAuth mode only
	shared   *auth.Principal // shared-token mode only
	ready    *readiness
	mcp      *mcp.Server
	sse      *sseSessions
	// toolOpts shape every tool result (budget, secret masking).
	toolOpts    tools.Options
	areas       []tools.Area  // the toolsets this server offers
	scopes      []gitea.Scope // what a token needs for every offered tool
	confirm     *confirmations
	limits      *limiter
	sampled     *sampledLog      // lines callers can cause in bulk
	metrics     *metrics.Metrics // nil without METRICS_ADDR
	tracked     *sessionTracker
	audit       *audit.Log // nil without AUDIT_LOG_PATH
	policy      atomic.Pointer[policy.Policy]
	broker      *broker.Broker // OAUTH_BROKER=true only
	brokerStore store.Store
	hosts       []string // allowed Host names
	origins     []string // allowed browser origins
}

// New builds a Server from opts.
func New(opts Options) (*Server, error) {
	cfg := opts.Config
	if cfg == nil {
		return nil, errors.New("server: Options.Config is required")
	}
	s := &Server{
		cfg:      cfg,
		log:      cmp.Or(opts.Logger, slog.Default()),
		version:  opts.Version,
		gitea:    opts.Gitea,
		tools:    opts.Tools,
		sse:      &sseSessions{m: map[string]*sseSession{}},
		toolOpts: tools.Options{MaxOutputBytes: cfg.MaxToolOutputBytes, Secrets: textsafe.Mode(cfg.SecretMasking)},
	}
	if s.tools == nil {
		s.tools = tools.Default()
	}
	if cfg.MetricsAddr != "" {
		s.metrics = metrics.New(opts.Version)
	}
	if err := s.chooseAreas(); err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s.confirm = newConfirmations(now)
	s.limits = newLimiter(cfg.Limits, now)
	s.sampled = newSampledLog(s.log, now)
	s.tracked = &sessionTracker{live: map[string]map[*heldStream]struct{}{}}
	s.metrics.OpenGauge("streamable", s.tracked.count)
	s.metrics.OpenGauge("sse", s.sse.count)
	pol, err := loadPolicy(cfg.PolicyFile, s.tools)
	if err != nil {
		return nil, err
	}
	s.policy.Store(pol)
	if s.audit, err = openAudit(cfg.AuditLog, cfg.AuditMaxBytes, now); err != nil {
		return nil, &config.Error{Problems: []config.Problem{{Var: "AUDIT_LOG_PATH", Message: "cannot open the audit log: " + err.Error()}}}
	}
	if s.audit != nil && s.audit.RecoveredTornTail() {
		s.log.Warn("the audit log ended with a torn line (a crash during a write); it was set aside and the chain continues in a new file")
	}
	if s.gitea == nil {
		var err error
		s.gitea, err = gitea.NewEndpoint(gitea.Options{
			BaseURL:   cfg.GiteaURL,
			Timeout:   cfg.RequestTimeout,
			UserAgent: "aegis-gitea-mcp/" + opts.Version,
			Observe:   s.metrics.GiteaObserver(),
		})
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	s.ready = &readiness{gitea: s.gitea, oauth: cfg.OAuthMode, audit: s.audit, now: time.Now}
	if cfg.OAuthMode {
		v, err := auth.NewVerifier(auth.VerifierOptions{
			Gitea:             s.gitea,
			ClientID:          cfg.OAuthClientID,
			ClientSecret:      cfg.OAuthClientSecret.Reveal(),
			Audience:          cfg.OAuthExpectedAudience,
			RecommendedScopes: s.scopes,
			CacheTTL:          cfg.TokenCacheTTL,
			KeepWarm:          keepWarm(cfg.TokenKeepWarm),
			Now:               opts.Now,
			Logger:            s.log,
			CacheEvent:        s.metrics.TokenCacheObserver(),
		})
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		s.gate = &versionGate{gitea: s.gitea, log: s.log}
		s.verifier = v
		s.authn = &bearerAuthenticator{verify: v.Verify, trusted: v.Trusted, gate: s.gate}
		s.ready.gate, s.ready.keys, s.ready.creds = s.gate, v, v.CheckClient
		if cfg.Broker != nil {
			if err := s.openBroker(now, opts.ClientMetadataRootCAs); err != nil {
				v.Close()
				return nil, err
			}
		}
	} else {
		s.shared = auth.NewPrincipal("shared-token", "shared-token", gitea.FullScopeSet(), cfg.GiteaToken.Reveal())
		s.authn = &sharedTokenAuthenticator{principal: s.shared}
		s.ready.creds = (&sharedTokenCheck{gitea: s.gitea, principal: s.shared, now: time.Now}).check
	}
	s.mcp = s.newMCPServer()
	s.hosts, s.origins = s.allowedHostsAndOrigins()
	return s, nil
}

// keepWarm is OAUTH_CACHE_KEEP_WARM_SECONDS as the verifier takes it:
// zero there means off.
func keepWarm(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// Check validates what only the server knows of cfg (the toolset names,
// the policy file), without opening or starting anything: a problem is a
// *config.Error.
func Check(cfg *config.Config) error {
	if _, err := parseAreas(cfg); err != nil {
		return err
	}
	_, err := loadPolicy(cfg.PolicyFile, tools.Default())
	return err
}

// parseAreas reads TOOLSETS (default all). An unknown toolset is a
// configuration error.
func parseAreas(cfg *config.Config) ([]tools.Area, error) {
	if len(cfg.Toolsets) == 0 {
		return tools.Areas, nil
	}
	var areas []tools.Area
	for _, name := range cfg.Toolsets {
		a := tools.Area(strings.ToLower(name))
		if !a.Valid() {
			return nil, &config.Error{Problems: []config.Problem{{Var: "TOOLSETS",
				Message: fmt.Sprintf("%q is not a toolset; the toolsets are %v", name, tools.Areas)}}}
		}
		areas = append(areas, a)
	}
	return areas, nil
}

// chooseAreas sets the toolsets this server offers and the scopes its
// offered tools need.
func (s *Server) chooseAreas() error {
	areas, err := parseAreas(s.cfg)
	if err != nil {
		return err
	}
	s.areas = areas
	var offered []*tools.Tool
	for _, t := range s.tools.Tools() {
		if slices.Contains(s.areas, t.Area) && (t.Access == tools.Read || s.cfg.WriteMode) {
			offered = append(offered, t)
		}
	}
	s.scopes = tools.ScopesOf(offered)
	return nil
}

// Close releases what New opened (the audit log) and logs how many sampled
// log lines were left out since their last line. Call it once the server
// has stopped serving.
func (s *Server) Close() error {
	s.sampled.flush()
	if s.verifier != nil {
		s.verifier.Close()
	}
	if s.brokerStore != nil {
		_ = s.brokerStore.Close()
	}
	if s.audit == nil {
		return nil
	}
	return s.audit.Close()
}

// Preflight checks Gitea before serving, as readiness does, and logs what
// to fix: Gitea unreachable, GITEA_URL not Gitea's base URL, the OAuth
// client credentials or GITEA_TOKEN rejected (see startup.go). In OAuth mode
// it refuses a Gitea older than 1.27.0 and fetches the signing keys and
// discovery document. Any other fault is only logged: readiness reports it
// until it is fixed, and requests are refused meanwhile. In shared-token
// mode it logs the warning that every caller acts as the token's owner.
func (s *Server) Preflight(ctx context.Context) error { return s.preflight(ctx) }

// Handler returns the server's routes wrapped in its middleware. The order,
// outermost first: request id, access log (with panic recovery), the one
// JSON shape of error answers (shapeErrors), routes; the MCP endpoints then
// add Host/Origin checks and body limits, authentication, and (on /mcp) the
// scope challenge.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", serveLiveness)
	mux.HandleFunc("GET /readyz", s.ready.serveReadyz)
	mux.HandleFunc("GET /health", s.ready.serveHealth)
	mux.HandleFunc("GET /{$}", s.serveRoot)
	s.mountMetadata(mux)
	if s.broker != nil {
		s.broker.Mount(mux, s.addressLimited)
	}
	mux.Handle(pathMCP, privateAnswers(s.streamableHandler()))
	mux.Handle(pathSSE, privateAnswers(s.sseHandler()))
	mux.Handle("POST "+pathToolCall, privateAnswers(s.protect(s.requireAuth(pathToolCall, http.HandlerFunc(s.serveToolCall)))))
	mux.Handle("GET "+pathToolsList, privateAnswers(s.protect(s.requireAuth(pathToolsList, http.HandlerFunc(s.serveToolsList)))))
	mux.Handle(pathToolCall, privateAnswers(s.protect(methodNotAllowed(http.MethodPost))))
	mux.Handle(pathToolsList, privateAnswers(s.protect(methodNotAllowed(http.MethodGet))))
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	return withRequestID(withAccessLog(s.log, s.metrics, shapeErrors(mux)))
}

// methodNotAllowed answers 405 naming the one method a path takes.
func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use "+allow)
	})
}

func (s *Server) serveRoot(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"name": "aegis-gitea-mcp", "version": s.version, "status": "ok"})
}

// ServeStdio serves MCP over stdin/stdout as the shared token's owner until
// ctx is done or the client disconnects. It needs OAUTH_MODE=false.
func (s *Server) ServeStdio(ctx context.Context, in io.ReadCloser, out io.WriteCloser) error {
	if s.shared == nil {
		return errStdioNeedsSharedToken
	}
	if err := s.identifySharedToken(ctx); err != nil {
		return stdioTokenError(err)
	}
	return s.mcp.Run(ctx, s.stdioTransport(in, out))
}

// identifySharedToken learns whose GITEA_TOKEN it is, so the policy's users
// rules and the audit records name the real Gitea user. Call it before
// serving: it replaces the shared principal. A token without read:user
// keeps the placeholder name; only an error other than that is returned.
func (s *Server) identifySharedToken(ctx context.Context) error {
	u, err := s.gitea.As(s.shared.Token()).CurrentUser(ctx)
	switch {
	case errors.Is(err, gitea.ErrForbidden):
		return nil
	case err != nil:
		return err
	}
	s.shared = auth.NewPrincipal(strconv.FormatInt(u.ID, 10), u.Login, s.shared.Scopes, s.shared.Token())
	s.authn = &sharedTokenAuthenticator{principal: s.shared}
	return nil
}

// Serve answers requests on l until ctx is done, then shuts down gracefully:
// it stops accepting, lets requests in flight finish for up to 15 seconds,
// and returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	if s.cfg.PublicBaseURL.Port() == "0" { // derived from LISTEN_ADDR with port 0: name the real port
		if s.broker != nil {
			return errors.New("server: OAUTH_BROKER needs a fixed port in PUBLIC_BASE_URL or LISTEN_ADDR: its issuer URL is fixed at start")
		}
		s.cfg.PublicBaseURL.Host = l.Addr().String()
		s.hosts, s.origins = s.allowedHostsAndOrigins()
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if s.metrics != nil {
		stop, err := s.serveMetrics(ctx)
		if err != nil {
			return err
		}
		defer stop()
	}
	s.log.Info("listening", "addr", l.Addr().String(), "gitea_url", s.cfg.GiteaURL.String(),
		"oauth_mode", s.cfg.OAuthMode, "public_base_url", s.cfg.PublicBaseURL.String(), "version", s.version)
	if s.broker != nil {
		go s.sweepBroker(ctx)
	}
	srv.RegisterOnShutdown(s.endStreams) // Shutdown waits for handlers, and a stream's never ends by itself
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.log.Info("stopped")
	return nil
}

// serveMetrics serves GET /metrics on METRICS_ADDR, a listener of its own,
// until stop is called.
func (s *Server) serveMetrics(ctx context.Context) (stop func(), err error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", s.cfg.MetricsAddr)
	if err != nil {
		return nil, listenError("METRICS_ADDR", "", s.cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout, WriteTimeout: writeTimeout, IdleTimeout: idleTimeout,
		MaxHeaderBytes: maxHeaderBytes, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(l) }()
	s.log.Info("metrics listening", "addr", l.Addr().String())
	return func() { _ = srv.Close() }, nil
}

// ListenAndServe listens on the configured address and calls [Server.Serve].
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", s.cfg.ListenAddr)
	if err != nil {
		return listenError("LISTEN_ADDR", "--listen", s.cfg.ListenAddr, err)
	}
	return s.Serve(ctx, l)
}
