package localgitea

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

// Options configure [Start].
type Options struct {
	// Dir is Gitea's work directory: app.ini, the SQLite database, the
	// repositories and Gitea's log. It is created when missing and kept:
	// a later Start on the same Dir finds the same data ([Gitea.Stop]
	// leaves it alone).
	Dir string
	// Bin is the directory [Binary] returned.
	Bin string
	// Port is the loopback port tried first; when it is 0 or taken, a
	// free one is used ([Gitea.URL] says which).
	Port int
	// Admin is the site administrator. Start creates it through Gitea's
	// CLI when the database is new; on a reused Dir it is the account
	// created then.
	Admin Account
	// SecretKey is app.ini's SECRET_KEY; keep it for a reused Dir. Empty
	// means a random one.
	SecretKey string
	// AppName is the name Gitea shows in its pages; empty means
	// "aegis local gitea".
	AppName string
	// AppINI is appended to the generated app.ini; a key it sets again
	// in a section overrides the generated one (e.g. [oauth2]
	// ACCESS_TOKEN_EXPIRATION_TIME).
	AppINI string
	// Logf receives progress messages; nil discards them.
	Logf func(format string, args ...any)
}

// Gitea is one running Gitea, a child process of this one.
type Gitea struct {
	// URL is Gitea's root URL, e.g. http://127.0.0.1:41234 (no trailing slash).
	URL string
	// Version is the version Gitea reports.
	Version string
	// Admin is the site administrator; provisioning calls authenticate as it.
	Admin Account
	// Created says that this Start created the database (a new Dir).
	Created bool

	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	logf   func(string, ...any)
	http   *http.Client
	stop   sync.Once
}

// Start starts Gitea from opts.Bin on 127.0.0.1 with SQLite in opts.Dir
// and waits until it is healthy and reports [Version]. Gitea runs until
// [Gitea.Stop]; it is also killed if this process dies (Pdeathsig).
func Start(ctx context.Context, opts Options) (*Gitea, error) {
	if opts.Dir == "" || opts.Bin == "" || opts.Admin.Name == "" || opts.Admin.Password == "" {
		return nil, errors.New("localgitea: Start needs Dir, Bin and an Admin with a password")
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, err
	}
	g := &Gitea{
		dir:    opts.Dir,
		logf:   opts.Logf,
		http:   &http.Client{Timeout: 30 * time.Second},
		Admin:  opts.Admin,
		exited: make(chan struct{}),
	}
	if g.logf == nil {
		g.logf = func(string, ...any) {}
	}
	if err := g.start(ctx, opts); err != nil {
		g.Stop()
		return nil, err
	}
	return g, nil
}

func (g *Gitea) start(ctx context.Context, opts Options) error {
	port := opts.Port
	if port == 0 || !PortFree(ctx, port) {
		var err error
		if port, err = FreePort(ctx); err != nil {
			return err
		}
	}
	g.URL = "http://127.0.0.1:" + strconv.Itoa(port)
	secret := opts.SecretKey
	if secret == "" {
		secret = RandomPassword()
	}
	name := opts.AppName
	if name == "" {
		name = "aegis local gitea"
	}
	ini := filepath.Join(g.dir, "app.ini")
	if err := os.WriteFile(ini, []byte(appINI(g.dir, opts.Bin, name, secret, port)+opts.AppINI), 0o600); err != nil {
		return err
	}
	_, err := os.Stat(filepath.Join(g.dir, "gitea.db"))
	g.Created = errors.Is(err, os.ErrNotExist)
	gitea := filepath.Join(opts.Bin, "gitea")
	// The database must exist before the admin can be created, and the CLI
	// must not share SQLite with a running server. migrate also upgrades a
	// reused database.
	if err := g.cli(ctx, gitea, ini, "migrate"); err != nil {
		return err
	}
	if g.Created {
		if err := g.cli(ctx, gitea, ini, "admin", "user", "create", "--admin", "--username", g.Admin.Name,
			"--password", g.Admin.Password, "--email", g.Admin.Email, "--must-change-password=false"); err != nil {
			return err
		}
	}
	logFile, err := os.Create(g.LogPath())
	if err != nil {
		return err
	}
	// Gitea outlives Start's context: it runs until Stop.
	g.cmd = exec.CommandContext(context.WithoutCancel(ctx), gitea, "web", "--config", ini) // #nosec G204 -- our own cached build
	g.cmd.Dir, g.cmd.Env = g.dir, giteaEnv(g.dir)
	g.cmd.Stdout, g.cmd.Stderr = logFile, logFile
	// Pdeathsig: if this process dies, Gitea dies with it (no strays).
	// Setpgid: a Ctrl-C in the terminal reaches this process only, which
	// then stops Gitea in order.
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
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gitea %s: %w\n%s", args[0], err, Tail(string(out), 20))
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
			if ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("gitea not healthy within %s", limit)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (g *Gitea) version(ctx context.Context) (string, error) {
	var v struct {
		Version string `json:"version"`
	}
	err := g.Do(ctx, Request{Method: http.MethodGet, Path: "/api/v1/version", Want: http.StatusOK}, &v)
	return v.Version, err
}

// PID is the Gitea process's id (0 before it started).
func (g *Gitea) PID() int {
	if g.cmd == nil || g.cmd.Process == nil {
		return 0
	}
	return g.cmd.Process.Pid
}

// Exited is closed once the Gitea process has ended.
func (g *Gitea) Exited() <-chan struct{} { return g.exited }

// Dir is Gitea's work directory, [Options.Dir].
func (g *Gitea) Dir() string { return g.dir }

// LogPath is the file Gitea's own log goes to, in [Gitea.Dir].
func (g *Gitea) LogPath() string { return filepath.Join(g.dir, "gitea.log") }

// Stop ends Gitea by its PID (SIGTERM, then SIGKILL after 10 s) and waits
// until it is gone. Its directory stays. It is safe to call more than once.
func (g *Gitea) Stop() {
	g.stop.Do(func() {
		if g.cmd == nil || g.cmd.Process == nil {
			return
		}
		_ = g.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-g.exited:
		case <-time.After(10 * time.Second):
			_ = g.cmd.Process.Kill()
			<-g.exited
		}
	})
}

func (g *Gitea) logTail() string {
	b, err := os.ReadFile(g.LogPath())
	if err != nil {
		return "(no log)"
	}
	return Tail(string(b), 30)
}

// PortFree says whether the loopback port can be listened on now.
func PortFree(ctx context.Context, port int) bool {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// FreePort asks the kernel for a free loopback port. The caller's server
// binds it a moment later; a collision in between makes its start fail
// loudly, not flake silently.
func FreePort(ctx context.Context) (int, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// RandomPassword is a fresh random password (24 hex digits behind "Pw-").
func RandomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "Pw-" + hex.EncodeToString(b)
}

func appINI(dir, bin, name, secret string, port int) string {
	r := strings.NewReplacer("{DIR}", dir, "{BIN}", bin, "{NAME}", name, "{PORT}", strconv.Itoa(port), "{SECRET}", secret)
	return r.Replace(`APP_NAME = {NAME}
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
