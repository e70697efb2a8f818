package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

// The range of times an int64 of Unix nanoseconds holds.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

var errTimeRange = errors.New("a time is outside the years 1678 to 2262")

// encoder turns fields into query arguments and remembers the first that
// cannot be stored.
type encoder struct{ err error }

// time is t as Unix nanoseconds, NULL when zero.
func (e *encoder) time(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		e.err = errTimeRange
		return nil
	}
	return t.UnixNano()
}

// list is l as a JSON array, "[]" when empty.
func (e *encoder) list(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	text, err := json.Marshal(l)
	if err != nil {
		e.err = err
	}
	return string(text)
}

// instant is the now of a comparison in Unix nanoseconds, clamped into
// range: a zero now is before every stored time.
func instant(now time.Time) int64 {
	switch {
	case now.Before(minTime):
		return math.MinInt64
	case now.After(maxTime):
		return math.MaxInt64
	}
	return now.UnixNano()
}

// timeColumn scans Unix nanoseconds into a UTC time, NULL into the zero
// time.
type timeColumn struct{ t *time.Time }

func (c timeColumn) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.Unix(0, v).UTC()
	default:
		return fmt.Errorf("a time column holds a %T", src)
	}
	return nil
}

// listColumn scans a JSON array of strings; an empty one becomes nil.
type listColumn struct{ l *[]string }

func (c listColumn) Scan(src any) error {
	var text []byte
	switch v := src.(type) {
	case string:
		text = []byte(v)
	case []byte:
		text = v
	default:
		return fmt.Errorf("a list column holds a %T", src)
	}
	var l []string
	if err := json.Unmarshal(text, &l); err != nil {
		return errors.New("a list column holds no JSON array of strings") // the text may be a secret's neighbour: not quoted
	}
	if len(l) == 0 {
		l = nil
	}
	*c.l = l
	return nil
}

// values are a row's query arguments, or why it cannot be stored.
type values struct {
	args []any
	err  error
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryer is a *sql.DB or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// one returns the row a query selects; none is [store.ErrNotFound].
func one[T any](ctx context.Context, q queryer, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	all, err := many(ctx, q, scan, query, args...)
	switch {
	case err != nil:
		var zero T
		return zero, err
	case len(all) == 0:
		var zero T
		return zero, store.ErrNotFound
	}
	return all[0], nil
}

// many returns the rows a query selects, nil if none.
func many[T any](ctx context.Context, q queryer, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // rows.Err reports what matters
	var all []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		all = append(all, v)
	}
	return all, rows.Err()
}

const clientColumns = "id, kind, name, redirect_uris, application_type, created_at, expires_at"

func clientValues(c store.Client) values {
	var e encoder
	args := []any{c.ID, string(c.Kind), c.Name, e.list(c.RedirectURIs), c.ApplicationType, e.time(c.CreatedAt), e.time(c.ExpiresAt)}
	return values{args, e.err}
}

func scanClient(row scanner) (store.Client, error) {
	var c store.Client
	err := row.Scan(&c.ID, (*string)(&c.Kind), &c.Name, listColumn{&c.RedirectURIs}, &c.ApplicationType,
		timeColumn{&c.CreatedAt}, timeColumn{&c.ExpiresAt})
	return c, err
}

const authRequestColumns = "id, client_id, redirect_uri, state, code_challenge, scopes, resource, browser_hash, " +
	"gitea_verifier, user_id, login, consent_hash, expires_at"

func authRequestValues(r store.AuthRequest) values {
	var e encoder
	args := []any{r.ID, r.ClientID, r.RedirectURI, r.State, r.CodeChallenge, e.list(r.Scopes), r.Resource, r.BrowserHash,
		r.GiteaVerifier, r.UserID, r.Login, r.ConsentHash, e.time(r.ExpiresAt)}
	return values{args, e.err}
}

func scanAuthRequest(row scanner) (store.AuthRequest, error) {
	var r store.AuthRequest
	err := row.Scan(&r.ID, &r.ClientID, &r.RedirectURI, &r.State, &r.CodeChallenge, listColumn{&r.Scopes}, &r.Resource,
		&r.BrowserHash, &r.GiteaVerifier, &r.UserID, &r.Login, &r.ConsentHash, timeColumn{&r.ExpiresAt})
	return r, err
}

const authCodeColumns = "hash, client_id, redirect_uri, code_challenge, user_id, login, scopes, resource, expires_at"

func authCodeValues(c store.AuthCode) values {
	var e encoder
	args := []any{c.Hash, c.ClientID, c.RedirectURI, c.CodeChallenge, c.UserID, c.Login, e.list(c.Scopes), c.Resource,
		e.time(c.ExpiresAt)}
	return values{args, e.err}
}

func scanAuthCode(row scanner) (store.AuthCode, error) {
	var c store.AuthCode
	err := row.Scan(&c.Hash, &c.ClientID, &c.RedirectURI, &c.CodeChallenge, &c.UserID, &c.Login, listColumn{&c.Scopes},
		&c.Resource, timeColumn{&c.ExpiresAt})
	return c, err
}

const consentColumns = "user_id, client_id, scopes, created_at"

func consentValues(c store.Consent) values {
	var e encoder
	args := []any{c.UserID, c.ClientID, e.list(c.Scopes), e.time(c.CreatedAt)}
	return values{args, e.err}
}

func scanConsent(row scanner) (store.Consent, error) {
	var c store.Consent
	err := row.Scan(&c.UserID, &c.ClientID, listColumn{&c.Scopes}, timeColumn{&c.CreatedAt})
	return c, err
}

const upstreamColumns = "user_id, login, scopes, sealed_access, sealed_refresh, access_expiry, updated_at"

func upstreamValues(u store.Upstream) values {
	var e encoder
	args := []any{u.UserID, u.Login, e.list(u.Scopes), u.SealedAccess, u.SealedRefresh, e.time(u.AccessExpiry),
		e.time(u.UpdatedAt)}
	return values{args, e.err}
}

func scanUpstream(row scanner) (store.Upstream, error) {
	var u store.Upstream
	err := row.Scan(&u.UserID, &u.Login, listColumn{&u.Scopes}, &u.SealedAccess, &u.SealedRefresh,
		timeColumn{&u.AccessExpiry}, timeColumn{&u.UpdatedAt})
	return u, err
}

// tokenColumns are a Token's; the table's kind and used columns are the
// store's own.
const tokenColumns = "hash, family, client_id, user_id, login, scopes, resource, expires_at" //nolint:gosec // G101: column names, no credential

func tokenValues(t store.Token) values {
	var e encoder
	args := []any{t.Hash, t.Family, t.ClientID, t.UserID, t.Login, e.list(t.Scopes), t.Resource, e.time(t.ExpiresAt)}
	return values{args, e.err}
}

func scanToken(row scanner) (store.Token, error) {
	var t store.Token
	err := row.Scan(&t.Hash, &t.Family, &t.ClientID, &t.UserID, &t.Login, listColumn{&t.Scopes}, &t.Resource,
		timeColumn{&t.ExpiresAt})
	return t, err
}
