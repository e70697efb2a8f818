package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/logging"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/server"
)

// The demo world.
const (
	// User is the Gitea user the demo signs in as.
	User = "demo"
	// Repo is User's private repository: a README, docs/guide.md, issue
	// #Issue and open pull request #Pull from PullBranch. Write mode is
	// on for it and for nothing else.
	Repo       = "hello"
	Issue      = 1
	Pull       = 2
	PullBranch = "feature/greeting"
	// Scopes is what the demo token is granted: every read tool, and the
	// write tools (on Repo only, by the server's whitelist).
	Scopes = "read:repository read:issue read:user read:organization read:notification write:repository write:issue"
	// AppName is the OAuth app the demo registers in Gitea.
	AppName = "aegis-demo"
)

const (
	// tokenLifetime is how long the demo's access token lasts (Gitea's
	// default is an hour): a client configured with it keeps working for
	// a day of trying things.
	tokenLifetime    = 24 * time.Hour
	defaultListen    = "127.0.0.1:8080"
	defaultGiteaPort = 3000
	// stopTimeout bounds the server's shutdown; Gitea's Stop has its own.
	stopTimeout = 20 * time.Second
)

// Options configure [Run].
type Options struct {
	// Dir holds everything the demo keeps; "" means [DefaultDir].
	Dir string
	// Reset empties Dir first: a new Gitea, user and token.
	Reset bool
	// Listen is the loopback host:port the MCP server listens on; ""
	// means 127.0.0.1:8080, or a free port when that is taken.
	Listen string
	// Out receives the progress and the instructions.
	Out io.Writer
	// Version is the server version reported to clients.
	Version string
}

// DefaultDir is the demo's directory when --dir is not given: beside the
// Gitea build in the user cache directory, out of any checkout.
func DefaultDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory (name one with --dir): %w", err)
	}
	return filepath.Join(d, "aegis-gitea-mcp", "demo"), nil
}

// Run runs the demo until ctx is done, then stops everything it started.
// It returns nil after a clean stop.
func Run(ctx context.Context, o Options) error {
	p := &printer{out: o.Out, start: time.Now()}
	if o.Listen != "" {
		if err := checkListen(o.Listen); err != nil {
			return err
		}
	}
	dir, err := demoDir(o.Dir)
	if err != nil {
		return err
	}
	if err := checkDir(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	if o.Reset {
		if err := reset(dir); err != nil {
			return fmt.Errorf("--reset: %w", err)
		}
	}
	st, reused, err := loadState(dir)
	if err != nil {
		return err
	}
	if reused {
		p.say("AegisGitea-MCP demo, state in %s (reused from the last run: same Gitea data, same user; --reset starts over)", dir)
	} else {
		p.say("AegisGitea-MCP demo, state in %s (new; the next run reuses it)", dir)
		// A run that stopped before seeding finished leaves nothing worth keeping.
		if err := os.RemoveAll(filepath.Join(dir, giteaDir)); err != nil {
			return err
		}
	}

	g, err := startGitea(ctx, p, dir, st)
	if err != nil {
		return err
	}
	defer g.Stop()
	if u, err := url.Parse(g.URL); err == nil {
		st.GiteaPort, _ = strconv.Atoi(u.Port())
	}
	st.GiteaVersion = g.Version
	if st.Seeded && g.Created {
		p.detail("Gitea's database was gone from %s: seeding it again", g.Dir())
		st.Seeded, st.App = false, nil
	}
	if st.Seeded {
		p.step("reusing user %s and %s/%s (issue #%d, pull request #%d) from the last run", User, User, Repo, Issue, Pull)
	} else {
		p.step("seeding: user %s, private repository %s/%s with issue #%d and pull request #%d, OAuth app %q", User, User, Repo, Issue, Pull, AppName)
		if err := seed(ctx, g, st); err != nil {
			return fmt.Errorf("seeding Gitea: %w", err)
		}
	}
	if err := st.save(dir); err != nil {
		return err
	}

	p.step("signing in as %s through Gitea's OAuth authorization-code flow (PKCE; the login and consent forms, as a browser)", User)
	tok, err := g.AuthorizationCode(ctx, st.User, st.App, Scopes)
	if err != nil {
		return fmt.Errorf("getting the demo token: %w", err)
	}
	tokenPath := filepath.Join(dir, tokenFile)
	if err := os.WriteFile(tokenPath, []byte(tok.AccessToken+"\n"), 0o600); err != nil {
		return err
	}

	p.step("starting aegis-gitea-mcp in OAuth mode against it, write mode on for %s/%s only", User, Repo)
	l, note, err := listen(ctx, o.Listen)
	if err != nil {
		return err
	}
	if note != "" {
		p.detail("%s", note)
	}
	srv, logPath, closeLog, err := newServer(dir, g, st, l.Addr().String(), o.Version)
	if err != nil {
		_ = l.Close()
		return err
	}
	defer closeLog()
	if err := srv.Preflight(ctx); err != nil {
		_ = l.Close()
		_ = srv.Close()
		return fmt.Errorf("the server's start-up checks failed (log: %s): %w", logPath, err)
	}
	serveCtx, stopServe := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServe()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(serveCtx, l) }()

	base := "http://" + l.Addr().String()
	p.instructions(connectInfo{MCP: base + "/mcp", Base: base, Token: tok.AccessToken, TokenFile: tokenPath,
		Expires: time.Duration(tok.ExpiresIn) * time.Second, Gitea: g.URL, User: st.User,
		ServerLog: logPath, AuditLog: filepath.Join(dir, auditLog), Env: filepath.Join(dir, envFile)})
	p.step("ready: Ctrl-C stops the server and Gitea (pid %d)", g.PID())

	var runErr error
	select {
	case <-ctx.Done():
		p.step("stopping: aegis-gitea-mcp, then Gitea (pid %d)", g.PID())
	case err := <-served:
		runErr = fmt.Errorf("the server stopped (log: %s): %w", logPath, err)
		served <- nil
	case <-g.Exited():
		runErr = fmt.Errorf("gitea exited unexpectedly (log: %s)", g.LogPath())
	}
	stopServe()
	select {
	case err := <-served:
		if err != nil && runErr == nil {
			runErr = fmt.Errorf("stopping the server: %w", err)
		}
	case <-time.After(stopTimeout):
		runErr = errors.Join(runErr, fmt.Errorf("the server did not stop within %s", stopTimeout))
	}
	if err := srv.Close(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("closing the audit log: %w", err))
	}
	g.Stop()
	if runErr == nil {
		p.step("stopped; nothing left running. The next run reuses %s", dir)
	}
	return runErr
}

func demoDir(dir string) (string, error) {
	if dir == "" {
		return DefaultDir()
	}
	return filepath.Abs(dir)
}

// startGitea gets the Gitea build (building it on the first run) and
// starts it on st's port, or a free one when that is taken.
func startGitea(ctx context.Context, p *printer, dir string, st *state) (*localgitea.Gitea, error) {
	if localgitea.Cached() {
		bin, _ := localgitea.BinaryDir()
		p.step("Gitea %s: cached build in %s", localgitea.Version, bin)
	} else {
		p.step("Gitea %s is not built yet: building it once (the next runs, and make test, reuse the build)", localgitea.Version)
	}
	bin, err := localgitea.Binary(ctx, p.detail)
	if err != nil {
		return nil, err
	}
	p.step("starting Gitea on 127.0.0.1 (SQLite in %s)", filepath.Join(dir, giteaDir))
	g, err := localgitea.Start(ctx, localgitea.Options{
		Dir: filepath.Join(dir, giteaDir), Bin: bin, Port: st.GiteaPort, Admin: st.Admin, SecretKey: st.SecretKey,
		AppName: "AegisGitea-MCP demo", Logf: p.detail,
		AppINI: fmt.Sprintf("\n[oauth2]\nACCESS_TOKEN_EXPIRATION_TIME = %d\n", int(tokenLifetime.Seconds())),
	})
	if err != nil {
		return nil, fmt.Errorf("starting Gitea: %w", err)
	}
	p.step("Gitea %s is up at %s (pid %d)", g.Version, g.URL, g.PID())
	return g, nil
}

// seed creates the demo world and the OAuth app, and marks st seeded.
func seed(ctx context.Context, g *localgitea.Gitea, st *state) error {
	if err := g.CreateUser(ctx, st.User); err != nil {
		return err
	}
	if err := g.CreateRepo(ctx, User, Repo, true, false); err != nil {
		return err
	}
	guide := "# Guide\n\nThis repository belongs to the AegisGitea-MCP demo. Ask your assistant what is in it,\n" +
		"to summarise issue #1 or review pull request #2. Write mode is on here, and only here.\n"
	if err := g.PutFile(ctx, User, Repo, "docs/guide.md", guide, ""); err != nil {
		return err
	}
	issue, err := g.CreateIssue(ctx, User, Repo, "Say hello through MCP",
		"Ask your assistant to read this issue and to comment on it: the comment is written as "+User+", with "+User+"'s own token.")
	if err != nil {
		return err
	}
	if err := g.PutFile(ctx, User, Repo, "greeting.txt", "Hello from the feature branch.\n", PullBranch); err != nil {
		return err
	}
	pull, err := g.CreatePull(ctx, User, Repo, PullBranch, "main", "Add a greeting", "Adds greeting.txt. Ask your assistant to review the diff.")
	if err != nil {
		return err
	}
	if issue != Issue || pull != Pull {
		return fmt.Errorf("the demo's issue and pull request are #%d and #%d, want #%d and #%d", issue, pull, Issue, Pull)
	}
	if st.App, err = g.CreateOAuthApp(ctx, AppName); err != nil {
		return err
	}
	st.Seeded = true
	return nil
}

// listen listens on addr, which must be loopback; with addr "" on
// 127.0.0.1:8080, or on a free port when that is taken (note says so).
func listen(ctx context.Context, addr string) (l net.Listener, note string, err error) {
	explicit := addr != ""
	if !explicit {
		addr = defaultListen
	}
	if err := checkListen(addr); err != nil {
		return nil, "", err
	}
	var lc net.ListenConfig
	l, err = lc.Listen(ctx, "tcp", addr)
	if err == nil || explicit || !errors.Is(err, syscall.EADDRINUSE) {
		return l, "", err
	}
	if l, err = lc.Listen(ctx, "tcp", "127.0.0.1:0"); err != nil {
		return nil, "", err
	}
	return l, fmt.Sprintf("%s is taken; listening on %s instead (--listen chooses)", defaultListen, l.Addr()), nil
}

// checkListen refuses an address that is not loopback.
func checkListen(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--listen %q: the demo listens on loopback only (127.0.0.1, ::1 or localhost)", addr)
	}
	return nil
}

// newServer writes the server's configuration as a .env file in dir and
// builds the server from it through the same loader `serve` uses, reading
// nothing else (no ./.env, no environment variables): the demo is the
// same wherever it runs.
func newServer(dir string, g *localgitea.Gitea, st *state, addr, version string) (*server.Server, string, func(), error) {
	secretPath := filepath.Join(dir, secretFile)
	if err := os.WriteFile(secretPath, []byte(st.App.ClientSecret+"\n"), 0o600); err != nil {
		return nil, "", nil, err
	}
	env := strings.Join([]string{
		"# Written by aegis-demo on every run: the demo server's configuration.",
		"# Run the server binary with it while the demo's Gitea runs:",
		"#   bin/aegis-gitea-mcp serve --env-file " + filepath.Join(dir, envFile),
		"GITEA_URL=" + g.URL,
		"OAUTH_MODE=true",
		"GITEA_OAUTH_CLIENT_ID=" + st.App.ClientID,
		"GITEA_OAUTH_CLIENT_SECRET_FILE=" + secretPath,
		"LISTEN_ADDR=" + addr,
		"PUBLIC_BASE_URL=http://" + addr,
		"WRITE_MODE=true",
		"WRITE_REPOSITORY_WHITELIST=" + User + "/" + Repo,
		"AUDIT_LOG_PATH=" + filepath.Join(dir, auditLog),
		"LOG_LEVEL=info",
		"LOG_FORMAT=text",
		"",
	}, "\n")
	envPath := filepath.Join(dir, envFile)
	if err := os.WriteFile(envPath, []byte(env), 0o600); err != nil {
		return nil, "", nil, err
	}
	var problems bytes.Buffer
	cfg, err := config.Load([]string{"--env-file", envPath}, nil, &problems)
	if err != nil {
		return nil, "", nil, fmt.Errorf("the demo's configuration %s: %w %s", envPath, err, problems.String())
	}
	logPath := filepath.Join(dir, serverLog)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600) // #nosec G304 -- in the demo directory
	if err != nil {
		return nil, "", nil, err
	}
	closeLog := func() { _ = logFile.Close() }
	srv, err := server.New(server.Options{Config: cfg, Logger: logging.New(logFile, cfg.LogLevel, cfg.LogFormat), Version: version})
	if err != nil {
		closeLog()
		return nil, "", nil, fmt.Errorf("building the server: %w", err)
	}
	return srv, logPath, closeLog, nil
}

// printer writes the demo's progress: each step with the time since the
// start, details indented under it.
type printer struct {
	mu    sync.Mutex
	out   io.Writer
	start time.Time
}

func (p *printer) say(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = fmt.Fprintf(p.out, format+"\n", args...)
}

func (p *printer) step(format string, args ...any) {
	p.say("[%6.1fs] "+format, append([]any{time.Since(p.start).Seconds()}, args...)...)
}

func (p *printer) detail(format string, args ...any) {
	p.say("[%6.1fs]     "+format, append([]any{time.Since(p.start).Seconds()}, args...)...)
}
