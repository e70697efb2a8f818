package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

// insertQuery is an INSERT of one row into table, an argument a column.
func insertQuery(table, columns string) string {
	n := len(strings.Split(columns, ","))
	marks := make([]string, n)
	for i := range marks {
		marks[i] = "$" + strconv.Itoa(i+1)
	}
	return "INSERT INTO " + table + " (" + columns + ") VALUES (" + strings.Join(marks, ", ") + ")"
}

// upsertQuery is insertQuery replacing the row whose first keyColumns
// columns match.
func upsertQuery(table, columns string, keyColumns int) string {
	names := strings.Split(columns, ", ")
	set := make([]string, 0, len(names)-keyColumns)
	for _, name := range names[keyColumns:] {
		set = append(set, name+" = excluded."+name)
	}
	return insertQuery(table, columns) + " ON CONFLICT (" + strings.Join(names[:keyColumns], ", ") +
		") DO UPDATE SET " + strings.Join(set, ", ")
}

// updateQuery replaces every column of the row whose first column matches.
func updateQuery(table, columns string) string {
	names := strings.Split(columns, ", ")
	set := make([]string, 0, len(names)-1)
	for i, name := range names[1:] {
		set = append(set, name+" = $"+strconv.Itoa(i+2))
	}
	return "UPDATE " + table + " SET " + strings.Join(set, ", ") + " WHERE " + names[0] + " = $1"
}

// issuedTo are the statements deleting what was issued to the clients
// that match the condition on client_id.
func issuedTo(clients string) []string {
	tables := []string{"consents", "auth_codes", "auth_requests", "tokens"}
	queries := make([]string, len(tables))
	for i, table := range tables {
		queries[i] = "DELETE FROM " + table + " WHERE " + clients
	}
	return queries
}

var (
	insertClient      = insertQuery("clients", clientColumns)
	upsertClient      = upsertQuery("clients", clientColumns, 1)
	insertAuthRequest = insertQuery("auth_requests", authRequestColumns)
	updateAuthRequest = updateQuery("auth_requests", authRequestColumns)
	insertAuthCode    = insertQuery("auth_codes", authCodeColumns)
	issuedToClient    = issuedTo("client_id = $1")
)

// get returns the row a read selects; none is [store.ErrNotFound].
func get[T any](ctx context.Context, s *Store, op string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := one(ctx, s.db, scan, query, args...)
	if err != nil {
		return v, s.fail(op, err)
	}
	return v, nil
}

// list returns the rows a read selects, nil if none.
func list[T any](ctx context.Context, s *Store, op string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	all, err := many(ctx, s.db, scan, query, args...)
	if err != nil {
		return nil, s.fail(op, err)
	}
	return all, nil
}

// take deletes the row a DELETE … RETURNING names and returns it; none is
// [store.ErrNotFound].
func take[T any](ctx context.Context, s *Store, op string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	var taken T
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		var err error
		taken, err = one(ctx, tx, scan, query, args...)
		return err
	})
	return taken, err
}

// writeRow runs one statement storing a row; [store.ErrNotFound] if it
// changed none (an UPDATE of a missing row).
func (s *Store) writeRow(ctx context.Context, op, query string, row values) error {
	if row.err != nil {
		return s.fail(op, row.err)
	}
	return s.write(ctx, op, func(tx *sql.Tx) error {
		return execOne(ctx, tx, query, row.args...)
	})
}

// deleteNamed removes, in one transaction, the rows the issued statements
// match and then the row the named statement does, all taking args;
// [store.ErrNotFound] if that row was missing, the rest removed all the
// same.
func (s *Store) deleteNamed(ctx context.Context, op string, issued []string, named string, args ...any) error {
	return s.write(ctx, op, func(tx *sql.Tx) error {
		if _, err := execAll(ctx, tx, issued, args...); err != nil {
			return err
		}
		n, err := exec(ctx, tx, named, args...)
		if err == nil && n == 0 {
			return committed{store.ErrNotFound}
		}
		return err
	})
}

// CreateClient adds c; [store.ErrExists] if its ID is taken.
func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	return s.writeRow(ctx, "create client", insertClient, clientValues(c))
}

// PutClient adds or replaces c.
func (s *Store) PutClient(ctx context.Context, c store.Client) error {
	return s.writeRow(ctx, "put client", upsertClient, clientValues(c))
}

// Client returns the client with id; [store.ErrNotFound] if none or its
// ExpiresAt is not after now.
func (s *Store) Client(ctx context.Context, id string, now time.Time) (store.Client, error) {
	return get(ctx, s, "client", scanClient,
		"SELECT "+clientColumns+" FROM clients WHERE id = $1 AND (expires_at IS NULL OR expires_at > $2)",
		id, instant(now))
}

// TouchClient sets a dynamic client's ExpiresAt to expires (zero: never).
// Other clients are left as they are; [store.ErrNotFound] if there is no
// client with id.
func (s *Store) TouchClient(ctx context.Context, id string, expires time.Time) error {
	const op = "touch client"
	var e encoder
	at := e.time(expires)
	if e.err != nil {
		return s.fail(op, e.err)
	}
	return s.write(ctx, op, func(tx *sql.Tx) error {
		n, err := exec(ctx, tx, "UPDATE clients SET expires_at = $2 WHERE id = $1 AND kind = 'dynamic'", id, at)
		if err != nil || n > 0 {
			return err
		}
		_, err = one(ctx, tx, scanClient, "SELECT "+clientColumns+" FROM clients WHERE id = $1", id)
		return err
	})
}

// Clients lists every client, expired ones included, ordered by ID; nil if
// none.
func (s *Store) Clients(ctx context.Context) ([]store.Client, error) {
	return list(ctx, s, "clients", scanClient, "SELECT "+clientColumns+" FROM clients ORDER BY id")
}

// DeleteClient removes the client and its consents, authorization
// requests, codes and tokens; [store.ErrNotFound] if there was no client
// with id (what was issued to it is removed all the same).
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.deleteNamed(ctx, "delete client", issuedToClient, "DELETE FROM clients WHERE id = $1", id)
}

// CreateAuthRequest adds r; [store.ErrExists] if its ID is taken.
func (s *Store) CreateAuthRequest(ctx context.Context, r store.AuthRequest) error {
	return s.writeRow(ctx, "create auth request", insertAuthRequest, authRequestValues(r))
}

// AuthRequest returns the request with id; [store.ErrNotFound] if none or
// expired at now.
func (s *Store) AuthRequest(ctx context.Context, id string, now time.Time) (store.AuthRequest, error) {
	return get(ctx, s, "auth request", scanAuthRequest,
		"SELECT "+authRequestColumns+" FROM auth_requests WHERE id = $1 AND expires_at > $2", id, instant(now))
}

// UpdateAuthRequest replaces every field of the request with r.ID, expired
// or not; [store.ErrNotFound] if there is none.
func (s *Store) UpdateAuthRequest(ctx context.Context, r store.AuthRequest) error {
	return s.writeRow(ctx, "update auth request", updateAuthRequest, authRequestValues(r))
}

// TakeAuthRequest deletes the request with id and returns it, for exactly
// one caller; [store.ErrNotFound] if none or expired at now (an expired one
// is left to DeleteExpired).
func (s *Store) TakeAuthRequest(ctx context.Context, id string, now time.Time) (store.AuthRequest, error) {
	return take(ctx, s, "take auth request", scanAuthRequest,
		"DELETE FROM auth_requests WHERE id = $1 AND expires_at > $2 RETURNING "+authRequestColumns, id, instant(now))
}

// CreateAuthCode adds c; [store.ErrExists] if its Hash is taken.
func (s *Store) CreateAuthCode(ctx context.Context, c store.AuthCode) error {
	return s.writeRow(ctx, "create auth code", insertAuthCode, authCodeValues(c))
}

// TakeAuthCode deletes the code with hash and returns it, for exactly one
// caller; [store.ErrNotFound] if none or expired at now.
func (s *Store) TakeAuthCode(ctx context.Context, hash string, now time.Time) (store.AuthCode, error) {
	return take(ctx, s, "take auth code", scanAuthCode,
		"DELETE FROM auth_codes WHERE hash = $1 AND expires_at > $2 RETURNING "+authCodeColumns, hash, instant(now))
}
