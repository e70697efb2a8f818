package sqlstore_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store/sqlstore"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store/storetest"
)

// openSQLiteFile opens the store in path and closes it when the test ends.
func openSQLiteFile(t *testing.T, path string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenSQLite(t.Context(), path, sqlstore.Options{})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() }) // a second Close is harmless
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		t.Helper()
		s, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "broker.db"), sqlstore.Options{})
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		return s
	})
}

// rawSQLite opens the file with the driver itself, closed when the test
// ends.
func rawSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// schemaVersions reads the versions schema_migrations records.
func schemaVersions(t *testing.T, db *sql.DB) []int {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	var versions []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return versions
}

// wantVersions is every version this binary applies, once each.
func wantVersions() []int {
	var versions []int
	for v := 1; v <= sqlstore.SchemaVersion(); v++ {
		versions = append(versions, v)
	}
	return versions
}

// sameVersions fails the test unless got is every version, once each.
func sameVersions(t *testing.T, got []int) {
	t.Helper()
	if sqlstore.SchemaVersion() < 1 {
		t.Fatalf("SchemaVersion() = %d, want at least 1", sqlstore.SchemaVersion())
	}
	if diff := cmp.Diff(wantVersions(), got); diff != "" {
		t.Errorf("schema versions (-want +got):\n%s", diff)
	}
}

func TestSQLiteMigrations(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "broker.db")
	first := openSQLiteFile(t, path)
	client := store.Client{ID: "kept", Kind: store.ClientStatic, Name: "kept across opens"}
	if err := first.CreateClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	again := openSQLiteFile(t, path)
	if _, err := again.Client(ctx, client.ID, time.Now()); err != nil {
		t.Errorf("client stored before the reopen: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	db := rawSQLite(t, path)
	sameVersions(t, schemaVersions(t, db))

	wantNewerSchemaRefused(t, db, func() (*sqlstore.Store, error) { return sqlstore.OpenSQLite(ctx, path, sqlstore.Options{}) })
}

// wantNewerSchemaRefused records in db a version past this binary's, then
// wants open to refuse the database with ErrSchemaTooNew.
func wantNewerSchemaRefused(t *testing.T, db *sql.DB, open func() (*sqlstore.Store, error)) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
		sqlstore.SchemaVersion()+1, time.Now().UnixNano()); err != nil {
		t.Fatal(err)
	}
	s, err := open()
	if err == nil {
		_ = s.Close()
		t.Fatal("a database of a newer schema was opened")
	}
	if !errors.Is(err, sqlstore.ErrSchemaTooNew) {
		t.Errorf("err = %v, want ErrSchemaTooNew", err)
	}
}

func TestSQLiteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "broker.db")
	openSQLiteFile(t, path)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("database file mode = %o, want 600", mode)
	}
	var journal string
	if err := rawSQLite(t, path).QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&journal); err != nil {
		t.Fatal(err)
	}
	if journal != "wal" {
		t.Errorf("journal mode = %q, want wal", journal)
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		open func() (*sqlstore.Store, error)
	}{
		{"a missing directory", func() (*sqlstore.Store, error) {
			return sqlstore.OpenSQLite(t.Context(), filepath.Join(dir, "absent", "broker.db"), sqlstore.Options{})
		}},
		{"a file for a directory", func() (*sqlstore.Store, error) {
			file := filepath.Join(dir, "file")
			if err := os.WriteFile(file, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return sqlstore.OpenSQLite(t.Context(), filepath.Join(file, "broker.db"), sqlstore.Options{})
		}},
		{"a path with a query", func() (*sqlstore.Store, error) {
			return sqlstore.OpenSQLite(t.Context(), filepath.Join(dir, "broker.db?mode=ro"), sqlstore.Options{})
		}},
		{"an empty path", func() (*sqlstore.Store, error) { return sqlstore.OpenSQLite(t.Context(), "", sqlstore.Options{}) }},
		{"an unknown scheme", func() (*sqlstore.Store, error) {
			return sqlstore.Open(t.Context(), "mysql://user:hunter2@db/broker", sqlstore.Options{})
		}},
		{"a non-postgres url", func() (*sqlstore.Store, error) {
			return sqlstore.OpenPostgres(t.Context(), "mysql://user:hunter2@db/broker", sqlstore.Options{})
		}},
		{"a postgres url pgx cannot parse", func() (*sqlstore.Store, error) {
			return sqlstore.Open(t.Context(), "postgres://user:hunter2@127.0.0.1:1/broker?sslmode=bogus", sqlstore.Options{})
		}},
		{"a postgres server that is not there", func() (*sqlstore.Store, error) {
			return sqlstore.OpenPostgres(t.Context(), "postgresql://user:hunter2@127.0.0.1:1/broker?connect_timeout=2", sqlstore.Options{})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.open()
			if err == nil {
				_ = s.Close()
				t.Fatal("opened")
			}
			t.Logf("refused: %v", err)
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q quotes the password", err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the missing directory was created: %v", err)
	}
}

func TestOpenChoosesSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broker.db")
	s, err := sqlstore.Open(t.Context(), "sqlite:"+path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	sameVersions(t, schemaVersions(t, rawSQLite(t, path)))
}

func TestSQLiteRefusesTimesOutOfRange(t *testing.T) {
	ctx := t.Context()
	s := openSQLiteFile(t, filepath.Join(t.TempDir(), "broker.db"))
	far := store.Client{ID: "far", Kind: store.ClientDynamic, ExpiresAt: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.CreateClient(ctx, far); err == nil || errors.Is(err, store.ErrExists) {
		t.Fatalf("CreateClient of a time past 2262: err = %v, want a range error", err)
	}
	if err := s.TouchClient(ctx, "far", far.ExpiresAt); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TouchClient to a time past 2262: err = %v, want a range error", err)
	}
	if _, err := s.Client(ctx, "far", time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused client was stored: %v", err)
	}
}

// TestSQLiteStoresShareFile races two stores on one file, as two
// processes would: each has its own pool and its own writer mutex, so
// only SQLite's lock and busy timeout keep the one winner.
func TestSQLiteStoresShareFile(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "broker.db")
	stores := []*sqlstore.Store{openSQLiteFile(t, path), openSQLiteFile(t, path)}
	now := time.Now()
	refresh := store.Token{Hash: store.Hash("refresh"), Family: "f", ClientID: "c", UserID: "u", ExpiresAt: now.Add(time.Hour)}
	if err := stores[0].CreateRefreshToken(ctx, refresh); err != nil {
		t.Fatal(err)
	}
	var (
		mu                  sync.Mutex
		wins, reused, other int
		wg                  sync.WaitGroup
	)
	for i := range storetest.Racers {
		s := stores[i%len(stores)]
		wg.Go(func() {
			_, err := s.UseRefreshToken(ctx, refresh.Hash, now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrReused):
				reused++
			case !errors.Is(err, store.ErrNotFound):
				t.Errorf("unexpected error: %v", err)
				other++
			}
		})
	}
	wg.Wait()
	if wins != 1 || reused < 1 || other > 0 {
		t.Errorf("%d racers on two stores: %d won, %d saw reuse; want 1 winner and a reuse", storetest.Racers, wins, reused)
	}
}
