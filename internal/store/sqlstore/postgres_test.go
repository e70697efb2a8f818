package sqlstore_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store/sqlstore"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store/storetest"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testpg"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := testpg.StopShared(); err != nil {
		fmt.Fprintln(os.Stderr, "stop postgres:", err)
	}
	os.Exit(code)
}

// schemas numbers the schemas handed out, one a store.
var schemas atomic.Int64

// newSchema returns the URL of a new empty schema of the test process's
// PostgreSQL (started on first use; the test is skipped where PostgreSQL
// is not installed, failed with AEGIS_REQUIRE_POSTGRES=1): each store
// gets a database of its own, cheaply.
func newSchema(t *testing.T) string {
	t.Helper()
	url, err := testpg.Shared(t).NewSchema(t.Context(), "store_"+strconv.FormatInt(schemas.Add(1), 10))
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// openPostgres opens a store in a new schema.
func openPostgres(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenPostgres(t.Context(), newSchema(t), sqlstore.Options{})
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
	url := newSchema(t)
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
