package testpg_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testpg"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := testpg.StopShared(); err != nil {
		code = 1
	}
	os.Exit(code)
}

// query runs one query on url and scans its one row into dest.
func query(t *testing.T, url, q string, dest ...any) {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if err := db.QueryRowContext(t.Context(), q).Scan(dest...); err != nil {
		t.Fatalf("%s on %s: %v", q, url, err)
	}
}

// TestDatabasesAndSchemas: a database and a schema each start empty and
// are what their URL connects to; names are checked; a name is handed out
// once.
func TestDatabasesAndSchemas(t *testing.T) {
	s := testpg.Shared(t)
	ctx := t.Context()
	db1, err := s.NewDatabase(ctx, "first")
	if err != nil {
		t.Fatal(err)
	}
	db2, err := s.NewDatabase(ctx, "second")
	if err != nil {
		t.Fatal(err)
	}
	var name string
	query(t, db1, "SELECT current_database()", &name)
	if name != "first" {
		t.Errorf("the URL of database first connects to %q", name)
	}
	setup, err := sql.Open("pgx", db1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = setup.Close() }()
	if _, err := setup.ExecContext(ctx, "CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	var tables int
	query(t, db2, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", &tables)
	if tables != 0 {
		t.Errorf("database second holds %d tables, want none: databases are apart", tables)
	}

	schema, err := s.NewSchema(ctx, "some_schema")
	if err != nil {
		t.Fatal(err)
	}
	query(t, schema, "SELECT current_schema()", &name)
	if name != "some_schema" {
		t.Errorf("the URL of schema some_schema uses %q", name)
	}

	if _, err := s.NewDatabase(ctx, "first"); err == nil {
		t.Error("database first created twice")
	}
	if _, err := s.NewSchema(ctx, "some_schema"); err == nil {
		t.Error("schema some_schema created twice")
	}
	for _, bad := range []string{"", "Upper", "a-b", "x; DROP DATABASE first", "1st"} {
		if _, err := s.NewDatabase(ctx, bad); err == nil {
			t.Errorf("NewDatabase(%q) succeeded, want the name refused", bad)
		}
		if _, err := s.NewSchema(ctx, bad); err == nil {
			t.Errorf("NewSchema(%q) succeeded, want the name refused", bad)
		}
	}
}

// TestStartAndStop: a server started in a directory answers on loopback;
// Stop ends it (its port refuses connections, its directory is gone) and
// may be called again.
func TestStartAndStop(t *testing.T) {
	if _, err := testpg.Find(); err != nil {
		testpg.Need(t) // skips, or fails with AEGIS_REQUIRE_POSTGRES=1
	}
	// Not t.TempDir(): as root the user postgres must reach the directory.
	parent, err := os.MkdirTemp("", "testpg-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(parent) }()
	if err := os.Chmod(parent, 0o755); err != nil { // #nosec G302 -- a directory others must traverse
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	s, err := testpg.Start(ctx, parent)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Stop() }()
	if filepath.Dir(filepath.Dir(s.LogFile())) != parent {
		t.Errorf("the server's log %s is not in a directory of %s", s.LogFile(), parent)
	}
	var one int
	query(t, s.URL("postgres", "connect_timeout=5"), "SELECT 1", &one)
	url, err := s.NewDatabase(ctx, "broker")
	if err != nil {
		t.Fatal(err)
	}
	query(t, url, "SELECT 1", &one)

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("a second Stop: %v", err)
	}
	var d net.Dialer
	if c, err := d.DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(s.Port())); err == nil {
		_ = c.Close()
		t.Error("the stopped server's port still takes connections")
	}
	if _, err := os.Stat(filepath.Dir(s.LogFile())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stopped server's directory is still there: %v", err)
	}
}

// TestNeed: a test's own server is stopped when the test ends.
func TestNeed(t *testing.T) {
	var s *testpg.Server
	t.Run("server", func(t *testing.T) {
		s = testpg.Need(t)
		var one int
		query(t, s.URL("postgres", ""), "SELECT 1", &one)
	})
	if s == nil { // skipped, or failed with AEGIS_REQUIRE_POSTGRES=1
		return
	}
	if _, err := os.Stat(filepath.Dir(s.LogFile())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the server of a finished test is still there: %v", err)
	}
}
