package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
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
}

// Server is the HTTP server.
type Server struct {
	cfg     *config.Config
	log     *slog.Logger
	version string
	gitea   *gitea.Endpoint
	ready   *readiness
}

// New builds a Server from opts.
func New(opts Options) (*Server, error) {
	if opts.Config == nil {
		return nil, errors.New("server: Options.Config is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	g := opts.Gitea
	if g == nil {
		var err error
		g, err = gitea.NewEndpoint(gitea.Options{
			BaseURL:   opts.Config.GiteaURL,
			Timeout:   opts.Config.RequestTimeout,
			UserAgent: "aegis-gitea-mcp/" + opts.Version,
		})
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	return &Server{
		cfg:     opts.Config,
		log:     log,
		version: opts.Version,
		gitea:   g,
		ready:   &readiness{gitea: g, oauth: opts.Config.OAuthMode, now: time.Now},
	}, nil
}

// Handler returns the server's routes wrapped in its middleware. The order,
// outermost first: request id, access log (with panic recovery), routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", serveLiveness)
	mux.HandleFunc("GET /readyz", s.ready.serveReadyz)
	mux.HandleFunc("GET /health", s.ready.serveHealth)
	mux.HandleFunc("GET /{$}", s.serveRoot)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	return withRequestID(withAccessLog(s.log, mux))
}

func (s *Server) serveRoot(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"name": "aegis-gitea-mcp", "version": s.version, "status": "ok"})
}

// Serve answers requests on l until ctx is done, then shuts down gracefully:
// it stops accepting, lets requests in flight finish for up to 15 seconds,
// and returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
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
	s.log.Info("listening", "addr", l.Addr().String(), "gitea_url", s.cfg.GiteaURL.String(),
		"oauth_mode", s.cfg.OAuthMode, "public_base_url", s.cfg.PublicBaseURL.String(), "version", s.version)
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

// ListenAndServe listens on the configured address and calls [Server.Serve].
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", s.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.ListenAddr, err)
	}
	return s.Serve(ctx, l)
}
