package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

// Options tune a [Store]; the zero value suits both databases.
type Options struct {
	// BusyTimeout is how long SQLite waits for another process holding
	// the database's write lock before it fails; zero means 10 seconds.
	// PostgreSQL ignores it.
	BusyTimeout time.Duration
	// MaxOpenConns caps the connection pool; zero means no cap.
	MaxOpenConns int
}

const defaultBusyTimeout = 10 * time.Second

// Store is a [store.Store] over SQLite or PostgreSQL. It is safe for
// concurrent use; Close it when done.
type Store struct {
	db      *sql.DB
	dialect dialect
	// writers serialises this process's write transactions when the
	// database has one write lock (SQLite); nil when it has row locks.
	writers *sync.Mutex
}

var _ store.Store = (*Store)(nil)

// dialect is what the two databases do differently.
type dialect struct {
	name string
	// keyText is the column type of keys: text compared and ordered by
	// its bytes.
	keyText string
	// forUpdate ends a SELECT whose rows the transaction will change.
	forUpdate string
	// lockMigrations, run first in a migration's transaction, keeps
	// concurrent openers out until it commits; empty when the
	// transaction's own lock does.
	lockMigrations string
	// isUnique reports whether err is a unique-key violation.
	isUnique func(err error) bool
	// sanitize returns err with a text that quotes no row contents.
	sanitize func(err error) error
}

var sqliteDialect = dialect{
	name:     "sqlite",
	keyText:  "TEXT",
	isUnique: isSQLiteUnique,
	sanitize: func(err error) error { return err }, // SQLite's messages name columns, never values
}

// migrationLockKey is the PostgreSQL advisory lock migrations hold: an
// arbitrary constant of this program.
const migrationLockKey = 0x6165676973 // "aegis"

var postgresDialect = dialect{
	name:           "postgres",
	keyText:        `TEXT COLLATE "C"`,
	forUpdate:      " FOR UPDATE",
	lockMigrations: "SELECT pg_advisory_xact_lock(" + strconv.Itoa(migrationLockKey) + ")",
	isUnique: func(err error) bool {
		var pgErr *pgconn.PgError
		return errors.As(err, &pgErr) && pgErr.Code == "23505"
	},
	sanitize: sanitizePostgres,
}

func isSQLiteUnique(err error) bool {
	var sqliteErr *sqlite.Error
	if !errors.As(err, &sqliteErr) {
		return false
	}
	code := sqliteErr.Code()
	return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// postgresError is a PostgreSQL server error reduced to what names no
// data: its message and detail can quote values (an invalid byte of a
// string, a duplicate key).
type postgresError struct{ err *pgconn.PgError }

func (e postgresError) Error() string {
	text := "postgres error " + e.err.Code
	if e.err.ConstraintName != "" {
		text += " (constraint " + e.err.ConstraintName + ")"
	}
	return text
}

func (e postgresError) Unwrap() error { return e.err }

func sanitizePostgres(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return postgresError{pgErr}
	}
	return err
}

// Open opens the store a DSN names: "postgres://…" or "postgresql://…" a
// PostgreSQL database (see [OpenPostgres]), "sqlite:PATH" an SQLite file
// (see [OpenSQLite]). The DSN is never quoted in errors: it may hold a
// password.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return OpenPostgres(ctx, dsn, opts)
	case strings.HasPrefix(dsn, "sqlite:"):
		return OpenSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"), opts)
	default:
		return nil, errors.New(`sqlstore: open: the dsn must start with "postgres://", "postgresql://" or "sqlite:"`)
	}
}

// OpenSQLite opens, or creates with mode 0600, the SQLite database file at
// path, whose directory must exist, and migrates its schema. The file runs
// in WAL mode with foreign keys on; see [Options.BusyTimeout].
func OpenSQLite(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, errors.New("sqlstore: open sqlite: the path must be non-empty and hold no '?'")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	if info, err := os.Stat(filepath.Dir(abs)); err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite: directory: %w", err)
	} else if !info.IsDir() {
		return nil, fmt.Errorf("sqlstore: open sqlite: %s is not a directory", filepath.Dir(abs))
	}
	// Create the file first so it has mode 0600; SQLite gives its -wal and
	// -shm files the mode of the database file.
	f, err := os.OpenFile(filepath.Clean(abs), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = defaultBusyTimeout
	}
	query := url.Values{
		"_pragma": {
			"busy_timeout(" + strconv.FormatInt(busy.Milliseconds(), 10) + ")",
			"journal_mode(WAL)",
			"foreign_keys(1)",
		},
		"_txlock": {"immediate"},
	}
	db, err := sql.Open("sqlite", abs+"?"+query.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	return start(ctx, db, sqliteDialect, &sync.Mutex{}, opts)
}

// OpenPostgres connects to the PostgreSQL database a postgres:// URL names
// (any parameter pgx understands, search_path included) and migrates its
// schema; replicas may open one database at the same time.
func OpenPostgres(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
	if !strings.HasPrefix(databaseURL, "postgres://") && !strings.HasPrefix(databaseURL, "postgresql://") {
		return nil, errors.New(`sqlstore: open postgres: the url must start with "postgres://" or "postgresql://"`)
	}
	db, err := sql.Open("pgx", databaseURL)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open postgres: %w", postgresDialect.sanitize(err))
	}
	return start(ctx, db, postgresDialect, nil, opts)
}

// start checks the connection, migrates the schema and returns the Store;
// it closes db when it fails.
func start(ctx context.Context, db *sql.DB, d dialect, writers *sync.Mutex, opts Options) (*Store, error) {
	if opts.MaxOpenConns > 0 {
		db.SetMaxOpenConns(opts.MaxOpenConns)
	}
	s := &Store{db: db, dialect: d, writers: writers}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, s.fail("open "+d.name, err)
	}
	if err := s.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return s.fail("close", err)
	}
	return nil
}

// committed marks the error of a write whose changes must stand: write
// commits the transaction, then returns err.
type committed struct{ err error }

func (c committed) Error() string { return c.err.Error() }
func (c committed) Unwrap() error { return c.err }

// write runs fn in a transaction and commits it, unless fn fails with an
// error that is not [committed]. Writes of one SQLite process take turns.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	if s.writers != nil {
		s.writers.Lock()
		defer s.writers.Unlock()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(op, err)
	}
	err = fn(tx)
	var keep committed
	if err != nil && !errors.As(err, &keep) {
		_ = tx.Rollback() // the error that made us roll back is the one to report
		return s.fail(op, err)
	}
	if err := tx.Commit(); err != nil {
		return s.fail(op, err)
	}
	if keep.err != nil {
		return s.fail(op, keep.err)
	}
	return nil
}

// fail names op in err, turns a unique violation into [store.ErrExists]
// and strips row contents from the database's messages.
func (s *Store) fail(op string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrExists), errors.Is(err, store.ErrReused):
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	case s.dialect.isUnique(err):
		return fmt.Errorf("sqlstore: %s: %w", op, store.ErrExists)
	default:
		return fmt.Errorf("sqlstore: %s: %w", op, s.dialect.sanitize(err))
	}
}

// exec runs one statement of a transaction and returns how many rows it
// changed.
func exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (int, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// execAll runs statements that take the same arguments and returns how
// many rows they changed in all.
func execAll(ctx context.Context, tx *sql.Tx, queries []string, args ...any) (int, error) {
	total := 0
	for _, q := range queries {
		n, err := exec(ctx, tx, q, args...)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// execOne runs a statement changing the row a method names; none changed
// is [store.ErrNotFound].
func execOne(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	n, err := exec(ctx, tx, query, args...)
	if err == nil && n == 0 {
		return store.ErrNotFound
	}
	return err
}
