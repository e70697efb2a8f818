package testgitea

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configure [Start]. The zero value is ready to use.
type Options struct {
	// Logf receives progress messages; nil means the standard logger.
	Logf func(format string, args ...any)
	// AppINI is appended to the generated app.ini, e.g. to shorten the
	// access-token lifetime for a test.
	AppINI string
}

// Gitea is one running Gitea, seeded with [Alice], [Bob] and their data.
type Gitea struct {
	// URL is Gitea's root URL, e.g. http://127.0.0.1:41234 (no trailing slash).
	URL string
	// Version is the version Gitea reports.
	Version string
	// Admin is the site administrator.
	Admin Account
	// PATs holds each seeded user's personal access tokens, by user name and
	// then by token name (see [Seed]).
	PATs map[string]map[string]string

	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	logf   func(string, ...any)
	http   *http.Client

	users map[string]Account

	mu   sync.Mutex
	apps map[string]*OAuthApp // by scope set
}

// Start builds (or reuses) the Gitea binary, starts it on 127.0.0.1 with
// SQLite in a temporary directory, waits until it is healthy and seeds it.
// Call [Gitea.Stop] when done; Gitea also dies if the test process does.
func Start(ctx context.Context, opts Options) (*Gitea, error) {
	logf := opts.Logf
	if logf == nil {
		logf = stderrLogf
	}
	bin, err := Binary(ctx, logf)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "aegis-testgitea-")
	if err != nil {
		return nil, err
	}
	g := &Gitea{
		dir:    dir,
		logf:   logf,
		http:   &http.Client{Timeout: 30 * time.Second},
		Admin:  Account{Name: "siteadmin", Password: randomPassword(), Email: "siteadmin@example.test"},
		apps:   map[string]*OAuthApp{},
		exited: make(chan struct{}),
	}
	if err := g.start(ctx, bin, opts.AppINI); err != nil {
		g.Stop()
		return nil, err
	}
	start := time.Now()
	if err := g.seed(ctx); err != nil {
		g.Stop()
		return nil, fmt.Errorf("seeding Gitea: %w", err)
	}
	logf("testgitea: Gitea %s at %s, seeded in %s", g.Version, g.URL, time.Since(start).Round(time.Millisecond))
	return g, nil
}

func (g *Gitea) start(ctx context.Context, bin, extraINI string) error {
	port, err := freePort(ctx)
	if err != nil {
		return err
	}
	g.URL = "http://127.0.0.1:" + strconv.Itoa(port)
	ini := filepath.Join(g.dir, "app.ini")
	if err := os.WriteFile(ini, []byte(appINI(g.dir, bin, port)+extraINI), 0o600); err != nil {
		return err
	}
	gitea := filepath.Join(bin, "gitea")
	// The database must exist before the admin can be created, and the CLI
	// must not share SQLite with a running server.
	if err := g.cli(ctx, gitea, ini, "migrate"); err != nil {
		return err
	}
	if err := g.cli(ctx, gitea, ini, "admin", "user", "create", "--admin", "--username", g.Admin.Name,
		"--password", g.Admin.Password, "--email", g.Admin.Email, "--must-change-password=false"); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(g.dir, "gitea.log"))
	if err != nil {
		return err
	}
	// Gitea outlives Start's context: it runs until Stop.
	g.cmd = exec.CommandContext(context.WithoutCancel(ctx), gitea, "web", "--config", ini) // #nosec G204 -- our own cached build
	g.cmd.Dir, g.cmd.Env = g.dir, giteaEnv(g.dir)
	g.cmd.Stdout, g.cmd.Stderr = logFile, logFile
	// Pdeathsig: if the test binary dies, Gitea dies with it (no strays).
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := g.cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("starting Gitea: %w", err)
	}
	go func() {
		_ = g.cmd.Wait()
		_ = logFile.Close()
		close(g.exited)
	}()
	if err := g.waitHealthy(ctx, 90*time.Second); err != nil {
		return fmt.Errorf("%w\n--- gitea.log (tail) ---\n%s", err, g.logTail())
	}
	v, err := g.version(ctx)
	if err != nil {
		return err
	}
	if v != Version {
		return fmt.Errorf("gitea reports version %q, want %s", v, Version)
	}
	g.Version = v
	return nil
}

func (g *Gitea) cli(ctx context.Context, gitea, ini string, args ...string) error {
	cmd := exec.CommandContext(ctx, gitea, append(args, "--config", ini)...) // #nosec G204 -- our own cached build
	cmd.Dir, cmd.Env = g.dir, giteaEnv(g.dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gitea %s: %w\n%s", args[0], err, tail(string(out), 20))
	}
	return nil
}

func giteaEnv(dir string) []string {
	return append(os.Environ(),
		"GITEA_WORK_DIR="+dir,
		"GITEA_CUSTOM="+filepath.Join(dir, "custom"),
		"HOME="+filepath.Join(dir, "home"),
		// Gitea refuses to run as root without both this and the app.ini key;
		// CI machines run as root.
		"GITEA_I_AM_BEING_UNSAFE_RUNNING_AS_ROOT=true",
	)
}

func (g *Gitea) waitHealthy(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"/api/healthz", nil)
		if resp, err := g.http.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-g.exited:
			return errors.New("gitea exited before it became healthy")
		case <-ctx.Done():
			return fmt.Errorf("gitea not healthy within %s", limit)
		case <-tick.C:
		}
	}
}

func (g *Gitea) version(ctx context.Context) (string, error) {
	var v struct {
		Version string `json:"version"`
	}
	err := g.api(ctx, apiCall{method: http.MethodGet, path: "/api/v1/version", want: http.StatusOK}, &v)
	return v.Version, err
}

// Stop ends Gitea (SIGTERM, then SIGKILL after 10 s) and removes its data.
// It is safe to call more than once.
func (g *Gitea) Stop() {
	if g.cmd != nil && g.cmd.Process != nil {
		_ = g.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-g.exited:
		case <-time.After(10 * time.Second):
			_ = g.cmd.Process.Kill()
			<-g.exited
		}
	}
	if g.dir != "" {
		_ = os.RemoveAll(g.dir)
		g.dir = ""
	}
}

func (g *Gitea) logTail() string {
	b, err := os.ReadFile(filepath.Join(g.dir, "gitea.log"))
	if err != nil {
		return "(no log)"
	}
	return tail(string(b), 30)
}

// freePort asks the kernel for a free loopback port. Gitea binds it a
// moment later; a collision in between makes Start fail loudly, not flake silently.
func freePort(ctx context.Context) (int, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "Pw-" + hex.EncodeToString(b)
}

func appINI(dir, bin string, port int) string {
	r := strings.NewReplacer("{DIR}", dir, "{BIN}", bin, "{PORT}", strconv.Itoa(port), "{SECRET}", randomPassword())
	return r.Replace(`APP_NAME = aegis test gitea
RUN_MODE = prod
WORK_PATH = {DIR}
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = {PORT}
ROOT_URL = http://127.0.0.1:{PORT}/
DOMAIN = 127.0.0.1
APP_DATA_PATH = {DIR}/data
STATIC_ROOT_PATH = {BIN}
OFFLINE_MODE = true
DISABLE_SSH = true
START_SSH_SERVER = false
LFS_START_SERVER = false

[database]
DB_TYPE = sqlite3
PATH = {DIR}/gitea.db
SQLITE_JOURNAL_MODE = WAL
SQLITE_TIMEOUT = 10000

[repository]
ROOT = {DIR}/repos
DEFAULT_BRANCH = main

[security]
INSTALL_LOCK = true
SECRET_KEY = {SECRET}
PASSWORD_COMPLEXITY = off
MIN_PASSWORD_LENGTH = 8

[service]
DISABLE_REGISTRATION = true
REQUIRE_SIGNIN_VIEW = false
DEFAULT_KEEP_EMAIL_PRIVATE = true

[oauth2]
ENABLED = true
DEFAULT_APPLICATIONS =

[mailer]
ENABLED = false

[cron]
ENABLED = false

[actions]
ENABLED = true

[packages]
ENABLED = false

[cache]
ADAPTER = memory

[session]
PROVIDER = memory

[queue]
TYPE = channel

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[log]
MODE = console
LEVEL = warn
ROOT_PATH = {DIR}/log

[api]
ENABLE_SWAGGER = false
`)
}
