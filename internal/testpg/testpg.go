package testpg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
)

// RequireEnv, set to 1 (as CI does), makes [Need] and [Shared] fail a test
// where PostgreSQL is not installed instead of skipping it.
const RequireEnv = "AEGIS_REQUIRE_POSTGRES"

// User is the superuser of the cluster, trusted without a password on
// loopback.
const User = "aegis"

// ErrNotInstalled means initdb and postgres are not installed.
var ErrNotInstalled = errors.New("PostgreSQL's initdb and postgres are neither in PATH nor in /usr/lib/postgresql/*/bin")

// Find returns the directory holding initdb and postgres: PATH's, else the
// newest of Debian's /usr/lib/postgresql/*/bin. The error is
// [ErrNotInstalled] when there is none.
func Find() (string, error) {
	if initdb, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("postgres"); err == nil {
			return filepath.Dir(initdb), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin") // the pattern is valid
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, dir := range dirs {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", ErrNotInstalled
}

// versionOf is the major version of a /usr/lib/postgresql/N/bin directory.
func versionOf(bin string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin))) // not a number: 0, tried last
	return n
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}

// Server is a PostgreSQL server on 127.0.0.1 with its cluster in a
// directory of its own.
type Server struct {
	dir   string // removed by Stop
	port  int
	cmd   *exec.Cmd
	admin *sql.DB // the database postgres, for CREATE DATABASE and SCHEMA
	// exited is closed when the server has exited, with exitErr set.
	exited  chan struct{}
	exitErr error

	stopOnce sync.Once
	stopErr  error
}

// Start initialises a cluster in a new directory in dir ("" for the
// system's temporary directory; as root it must be one the user postgres
// can reach) with the binaries [Find] names and starts its server on a
// free port of 127.0.0.1: fast and unsafe (fsync off), with up to 200
// connections. ctx bounds the start, not the server: call [Server.Stop].
func Start(ctx context.Context, dir string) (*Server, error) {
	bin, err := Find()
	if err != nil {
		return nil, err
	}
	attr, err := procAttr()
	if err != nil {
		return nil, err
	}
	if dir, err = os.MkdirTemp(dir, "aegis-testpg-"); err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	fail := func(err error) (*Server, error) {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("testpg: start postgres: %w", err)
	}
	if err := chownTo(dir, attr); err != nil {
		return fail(err)
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "--username="+User, "--auth=trust", // #nosec G204 -- the installed initdb
		"--encoding=UTF8", "--no-locale", "--no-sync")
	initdb.SysProcAttr = attr
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %w\n%s", err, out))
	}
	if s.port, err = localgitea.FreePort(ctx); err != nil {
		return fail(err)
	}
	log, err := os.Create(s.LogFile())
	if err != nil {
		return fail(err)
	}
	defer func() { _ = log.Close() }() // the child has its own descriptor
	// The server outlives ctx: Stop ends it, by its process id.
	s.cmd = exec.CommandContext(context.WithoutCancel(ctx), filepath.Join(bin, "postgres"), "-D", data, // #nosec G204 -- the installed postgres
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(s.port),
		"-c", "unix_socket_directories="+dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	s.cmd.Stdout, s.cmd.Stderr = log, log
	s.cmd.SysProcAttr = attr
	if err := s.cmd.Start(); err != nil {
		return fail(err)
	}
	s.exited = make(chan struct{})
	go func() {
		s.exitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx); err != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
		logged, _ := os.ReadFile(s.LogFile())
		return fail(fmt.Errorf("%w\n%s", err, logged))
	}
	return s, nil
}

// waitReady waits until the server takes connections, and keeps one pool
// to its database postgres.
func (s *Server) waitReady(ctx context.Context) error {
	db, err := sql.Open("pgx", s.URL("postgres", "connect_timeout=2"))
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := db.PingContext(pctx)
		cancel()
		if err == nil {
			s.admin = db
			return nil
		}
		select {
		case <-s.exited:
			_ = db.Close()
			return fmt.Errorf("postgres exited: %w", s.exitErr)
		case <-ctx.Done():
			_ = db.Close()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = db.Close()
			return fmt.Errorf("postgres did not take connections within 30s: %w", err)
		}
	}
}

// Port is the server's port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// LogFile is the server's log, removed by Stop.
func (s *Server) LogFile() string { return filepath.Join(s.dir, "postgres.log") }

// URL is a postgres:// URL of the database as [User], without TLS; params
// ("k=v&k2=v2"), when set, are added to its query.
func (s *Server) URL(database, params string) string {
	u := "postgres://" + User + "@127.0.0.1:" + strconv.Itoa(s.port) + "/" + database + "?sslmode=disable"
	if params != "" {
		u += "&" + params
	}
	return u
}

// identifier is a name NewDatabase and NewSchema take: an unquoted
// PostgreSQL identifier that needs no quoting.
var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// NewDatabase creates the empty database name (lower-case letters,
// digits and _; not one that exists) and returns its URL.
func (s *Server) NewDatabase(ctx context.Context, name string) (string, error) {
	if !identifier.MatchString(name) {
		return "", fmt.Errorf("testpg: database name %q: use lower-case letters, digits and _", name)
	}
	if _, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("testpg: create database %s: %w", name, err)
	}
	return s.URL(name, ""), nil
}

// NewSchema creates the empty schema name (lower-case letters, digits and
// _; not one that exists) in the database postgres and returns a URL whose
// connections use it (search_path): a database of its own to a program
// that names no schema, cheaper than [Server.NewDatabase].
func (s *Server) NewSchema(ctx context.Context, name string) (string, error) {
	if !identifier.MatchString(name) {
		return "", fmt.Errorf("testpg: schema name %q: use lower-case letters, digits and _", name)
	}
	if _, err := s.admin.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
		return "", fmt.Errorf("testpg: create schema %s: %w", name, err)
	}
	return s.URL("postgres", "search_path="+name), nil
}

// Stop shuts the server down (a fast shutdown, which ends its clients'
// connections; killed after 15 s) by its process id and removes its
// directory. A second Stop returns what the first did.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.stop() })
	return s.stopErr
}

func (s *Server) stop() error {
	defer func() { _ = os.RemoveAll(s.dir) }()
	_ = s.admin.Close()
	if err := interrupt(s.cmd.Process); err != nil {
		_ = s.cmd.Process.Kill()
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return errors.New("testpg: postgres did not shut down within 15s: killed")
	}
}

// Need starts a server for t, stopped when t ends (its log is shown if t
// failed). It skips t where PostgreSQL is not installed, and fails it
// instead when [RequireEnv] is 1.
func Need(t testing.TB) *Server {
	t.Helper()
	if _, err := Find(); err != nil {
		missing(t, err)
	}
	s, err := Start(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logged, _ := os.ReadFile(s.LogFile())
			t.Logf("postgres log:\n%s", tail(string(logged), 40))
		}
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// shared is the server of [Shared].
var shared struct {
	mu     sync.Mutex
	server *Server
	err    error // why it is not there; set once tried
}

// Shared returns the test process's one server, starting it on first use;
// the test binary's TestMain stops it with [StopShared]. It skips t where
// PostgreSQL is not installed, and fails it instead when [RequireEnv] is
// 1.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.mu.Lock()
	if shared.server == nil && shared.err == nil {
		if _, shared.err = Find(); shared.err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			shared.server, shared.err = Start(ctx, "")
			cancel()
		}
	}
	s, err := shared.server, shared.err
	shared.mu.Unlock()
	switch {
	case errors.Is(err, ErrNotInstalled):
		missing(t, err)
	case err != nil:
		t.Fatal(err)
	}
	return s
}

// StopShared stops the server [Shared] started, if it did.
func StopShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.server == nil {
		return nil
	}
	return shared.server.Stop()
}

// missing skips t, or fails it when RequireEnv is 1, for err.
func missing(t testing.TB, err error) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%v, and %s=1 requires it: apt-get install postgresql", err, RequireEnv)
	}
	t.Skipf("%v: apt-get install postgresql to run this test", err)
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(0, len(l)-lines):], "\n")
}
