// Package sqlstore implements [store.Store] once, over database/sql, for
// two databases: SQLite (modernc.org/sqlite, pure Go, a file under a data
// directory, for one replica) and PostgreSQL (github.com/jackc/pgx/v5 through
// its database/sql driver, for several replicas sharing state). Open with
// [OpenSQLite], [OpenPostgres] or [Open], which chooses by the DSN's prefix.
//
// # Queries
//
// Every query is written once: both databases take $1-style placeholders,
// INSERT … ON CONFLICT and DELETE/UPDATE … RETURNING. A small dialect covers
// what differs: the collation of key columns (PostgreSQL's are COLLATE "C",
// so lists are ordered by bytes as in SQLite, whatever the database's
// locale), row locks (SELECT … FOR UPDATE on PostgreSQL; SQLite's write
// transactions lock the whole database), the migrations' lock and the
// drivers' unique-violation errors, which become [store.ErrExists].
//
// # Encoding
//
// Times are stored as int64 Unix nanoseconds (UTC), a zero time as NULL;
// they come back in UTC. A non-zero time outside the years 1678 to 2262 is
// refused. Lists (scopes, redirect URIs) are stored as JSON arrays; an empty
// list, nil or not, comes back as nil. Times are compared with the now the
// caller passes, never the database's clock.
//
// # Atomicity
//
// TakeAuthRequest and TakeAuthCode are one DELETE … RETURNING each: of
// concurrent callers the database lets exactly one delete the row.
// UseRefreshToken is a transaction that reads the token (FOR UPDATE on
// PostgreSQL, so a concurrent caller waits and then sees it used), then
// either marks it used or, when it was used already, deletes its whole
// family and commits that before returning [store.ErrReused].
//
// SQLite: every write runs in a transaction begun IMMEDIATE (it takes the
// database's write lock at BEGIN), writers of one process are serialised by
// a mutex, and other processes are waited for up to [Options.BusyTimeout].
// The file runs in WAL mode, so readers do not wait for the writer.
// PostgreSQL: transactions run at READ COMMITTED; row locks and the single
// statements above serialise the consuming methods across replicas.
//
// # Cascades
//
// DeleteClient also removes the client's pending authorization requests;
// RevokeConsent and DeleteUpstream also remove the pending codes of the
// user (for that client), so none is exchanged for a token afterwards. When
// the named row is missing they still remove what is issued and then
// return [store.ErrNotFound]. DeleteExpired removes a dynamic client past
// its ExpiresAt as DeleteClient does, and counts every row it removes.
//
// # Schema
//
// The schema is versioned: migrations, an ordered list in this package, are
// applied at open, each once, in a transaction, recorded in the table
// schema_migrations (version, applied_at). On PostgreSQL the transaction
// first takes an advisory lock, so replicas starting together migrate once.
// A database whose version is newer than this binary knows is refused with
// [ErrSchemaTooNew].
//
// # Errors
//
// Errors name the operation ("sqlstore: take auth code: …") and never carry
// a secret or a row's contents: PostgreSQL's server errors are reduced to
// their SQLSTATE code and constraint (the original is still reachable with
// errors.As), and DSNs are never quoted.
package sqlstore
