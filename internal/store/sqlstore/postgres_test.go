//go:build unix

package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store/sqlstore"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store/storetest"
)

// requirePostgres, set to 1 (as CI does), fails the PostgreSQL tests
// where PostgreSQL is not installed instead of skipping them.
const requirePostgres = "AEGIS_REQUIRE_POSTGRES"

// postgres is the throwaway server of this test run, started by the first
// test that needs it and stopped by TestMain.
var postgres struct {
	once    sync.Once
	server  *pgServer
	missing string // why there is no server to start: the binaries are not installed
	err     error  // why it did not start
}

func TestMain(m *testing.M) {
	code := m.Run()
	if postgres.server != nil {
		if err := postgres.server.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop postgres:", err)
		}
	}
	os.Exit(code)
}

// pgServer is a PostgreSQL server on loopback with its data in a
// temporary directory.
type pgServer struct {
	dir  string // removed by stop
	port int
	cmd  *exec.Cmd
	// exited is closed when the server has exited, with exitErr set.
	exited  chan struct{}
	exitErr error
	// schemas numbers the schemas handed out, one a store.
	schemas atomic.Int64
}

// startedPostgres returns the server, starting it on first use; it skips
// the test (fails with AEGIS_REQUIRE_POSTGRES=1) where PostgreSQL is not
// installed.
func startedPostgres(t *testing.T) *pgServer {
	t.Helper()
	postgres.once.Do(func() {
		bin, missing := findPostgres()
		if missing != "" {
			postgres.missing = missing
			return
		}
		postgres.server, postgres.err = startPostgres(bin)
	})
	switch {
	case postgres.missing != "" && os.Getenv(requirePostgres) == "1":
		t.Fatalf("%s, and %s=1 requires it: apt-get install postgresql", postgres.missing, requirePostgres)
	case postgres.missing != "":
		t.Skipf("%s: apt-get install postgresql to run these tests", postgres.missing)
	case postgres.err != nil:
		t.Fatalf("start postgres: %v", postgres.err)
	}
	return postgres.server
}

// findPostgres returns the directory of initdb and postgres: from PATH, else
// the newest of Debian's /usr/lib/postgresql/*/bin.
func findPostgres() (bin, missing string) {
	if initdb, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("postgres"); err == nil {
			return filepath.Dir(initdb), ""
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin") // the pattern is valid
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, dir := range dirs {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, ""
		}
	}
	return "", "PostgreSQL's initdb and postgres are neither in PATH nor in /usr/lib/postgresql/*/bin"
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

// runAs is the credential PostgreSQL runs with: it refuses root, so as
// root the Debian package's user postgres, else nobody; nil when not root.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, uerr := strconv.ParseUint(u.Uid, 10, 32)
		gid, gerr := strconv.ParseUint(u.Gid, 10, 32)
		if uerr != nil || gerr != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, and there is no user postgres or nobody to run PostgreSQL as")
}

// freePort is a TCP port on 127.0.0.1 nobody listens on just now.
func freePort() (int, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startPostgres initialises a cluster in a new temporary directory and
// starts its server on loopback, fast and unsafe (no fsync).
func startPostgres(bin string) (*pgServer, error) {
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sqlstore-postgres-")
	if err != nil {
		return nil, err
	}
	srv := &pgServer{dir: dir}
	fail := func(err error) (*pgServer, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(err)
		}
	}
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "--username=aegis", "--auth=trust",
		"--encoding=UTF8", "--no-locale", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %w\n%s", err, out))
	}
	if srv.port, err = freePort(); err != nil {
		return fail(err)
	}
	log, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return fail(err)
	}
	defer func() { _ = log.Close() }() // the child has its own descriptor
	// The server outlives this call: stop ends it.
	srv.cmd = exec.CommandContext(context.Background(), filepath.Join(bin, "postgres"), "-D", data,
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(srv.port),
		"-c", "unix_socket_directories="+dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	srv.cmd.Stdout, srv.cmd.Stderr = log, log
	srv.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := srv.cmd.Start(); err != nil {
		return fail(err)
	}
	srv.exited = make(chan struct{})
	go func() {
		srv.exitErr = srv.cmd.Wait()
		close(srv.exited)
	}()
	if err := srv.waitReady(); err != nil {
		_ = srv.cmd.Process.Kill()
		<-srv.exited
		logged, _ := os.ReadFile(log.Name())
		return fail(fmt.Errorf("%w\n%s", err, logged))
	}
	return srv, nil
}

// url is a URL of the server's database postgres; params are added to
// its query.
func (p *pgServer) url(params string) string {
	u := "postgres://aegis@127.0.0.1:" + strconv.Itoa(p.port) + "/postgres?sslmode=disable"
	if params != "" {
		u += "&" + params
	}
	return u
}

// waitReady waits until the server takes connections.
func (p *pgServer) waitReady() error {
	db, err := sql.Open("pgx", p.url("connect_timeout=2"))
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("postgres exited: %w", p.exitErr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not take connections within 30s: %w", err)
		}
	}
}

// stop shuts the server down (fast shutdown, then kill) by its PID and
// removes its directory.
func (p *pgServer) stop() error {
	defer func() { _ = os.RemoveAll(p.dir) }()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		return err
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return errors.New("postgres did not shut down within 15s: killed")
	}
}

// newSchema creates an empty schema and returns a URL whose connections
// use it: each store gets a database of its own, cheaply.
func (p *pgServer) newSchema(t *testing.T) string {
	t.Helper()
	name := "store_" + strconv.FormatInt(p.schemas.Add(1), 10)
	db, err := sql.Open("pgx", p.url(""))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if _, err := db.ExecContext(t.Context(), "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	return p.url("search_path=" + name)
}

// openPostgres opens a store in a new schema.
func openPostgres(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenPostgres(t.Context(), startedPostgres(t).newSchema(t), sqlstore.Options{})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	return s
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		t.Helper()
		return openPostgres(t)
	})
}

// TestPostgresMigrations starts replicas at once against one new database:
// each migration is applied once, and a newer schema is refused.
func TestPostgresMigrations(t *testing.T) {
	ctx := t.Context()
	url := startedPostgres(t).newSchema(t)
	const replicas = 8
	stores := make([]*sqlstore.Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = sqlstore.Open(ctx, url, sqlstore.Options{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		if err := stores[i].Close(); err != nil {
			t.Fatal(err)
		}
	}

	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	sameVersions(t, schemaVersions(t, db))

	again, err := sqlstore.OpenPostgres(ctx, url, sqlstore.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	sameVersions(t, schemaVersions(t, db))

	wantNewerSchemaRefused(t, db, func() (*sqlstore.Store, error) { return sqlstore.OpenPostgres(ctx, url, sqlstore.Options{}) })
}

// TestPostgresErrorsQuoteNoData checks a server error's text: PostgreSQL
// quotes the invalid bytes of a value in its message; the store's error
// keeps the SQLSTATE and hides the message.
func TestPostgresErrorsQuoteNoData(t *testing.T) {
	s := openPostgres(t)
	t.Cleanup(func() { _ = s.Close() })
	err := s.CreateClient(t.Context(), store.Client{ID: "c", Kind: store.ClientStatic, Name: "secret\xffvalue"})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		t.Fatalf("err = %v, want a PostgreSQL error (invalid UTF-8)", err)
	}
	if text := err.Error(); strings.Contains(text, "0xff") || strings.Contains(text, pgErr.Message) ||
		!strings.Contains(text, pgErr.Code) {
		t.Errorf("error %q: want the SQLSTATE %s, not the message %q", text, pgErr.Code, pgErr.Message)
	}
}
