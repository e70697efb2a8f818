package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

// The kinds of rows in the tokens table.
const (
	accessKind  = "access"
	refreshKind = "refresh"
)

var (
	upsertConsent  = upsertQuery("consents", consentColumns, 2)
	upsertUpstream = upsertQuery("upstreams", upstreamColumns, 1)
	insertToken    = insertQuery("tokens", tokenColumns+", kind")

	// Of a user and a client ($1, $2): what RevokeConsent removes besides
	// the consent.
	issuedForConsent = []string{
		"DELETE FROM tokens WHERE user_id = $1 AND client_id = $2",
		"DELETE FROM auth_codes WHERE user_id = $1 AND client_id = $2",
	}
	// Of a user ($1): what DeleteUpstream removes besides the grant.
	issuedToUser = []string{
		"DELETE FROM tokens WHERE user_id = $1",
		"DELETE FROM auth_codes WHERE user_id = $1",
		"DELETE FROM consents WHERE user_id = $1",
	}
	// What DeleteExpired removes at now ($1), in this order: the rows of
	// dynamic clients past their expiry first, then the clients, then
	// whatever expired. A NULL expires_at is never for a client, and
	// already expired for the rest.
	deleteExpired = append(issuedTo(expiredDynamicClient),
		"DELETE FROM clients WHERE kind = 'dynamic' AND expires_at <= $1",
		"DELETE FROM auth_requests WHERE expires_at IS NULL OR expires_at <= $1",
		"DELETE FROM auth_codes WHERE expires_at IS NULL OR expires_at <= $1",
		"DELETE FROM tokens WHERE expires_at IS NULL OR expires_at <= $1",
	)
)

const expiredDynamicClient = "client_id IN (SELECT id FROM clients WHERE kind = 'dynamic' AND expires_at <= $1)"

// PutConsent adds or replaces the consent of c.UserID for c.ClientID.
func (s *Store) PutConsent(ctx context.Context, c store.Consent) error {
	return s.writeRow(ctx, "put consent", upsertConsent, consentValues(c))
}

// Consent returns a user's consent for a client, or [store.ErrNotFound].
func (s *Store) Consent(ctx context.Context, userID, clientID string) (store.Consent, error) {
	return get(ctx, s, "consent", scanConsent,
		"SELECT "+consentColumns+" FROM consents WHERE user_id = $1 AND client_id = $2", userID, clientID)
}

// Consents lists a user's consents ordered by ClientID; nil if none.
func (s *Store) Consents(ctx context.Context, userID string) ([]store.Consent, error) {
	return list(ctx, s, "consents", scanConsent,
		"SELECT "+consentColumns+" FROM consents WHERE user_id = $1 ORDER BY client_id", userID)
}

// RevokeConsent removes a user's consent for a client and the tokens and
// codes that client holds for the user; [store.ErrNotFound] if there was
// no consent (the tokens and codes are removed all the same).
func (s *Store) RevokeConsent(ctx context.Context, userID, clientID string) error {
	return s.deleteNamed(ctx, "revoke consent", issuedForConsent,
		"DELETE FROM consents WHERE user_id = $1 AND client_id = $2", userID, clientID)
}

// PutUpstream adds or replaces the user's Gitea grant.
func (s *Store) PutUpstream(ctx context.Context, u store.Upstream) error {
	return s.writeRow(ctx, "put upstream", upsertUpstream, upstreamValues(u))
}

// Upstream returns the user's Gitea grant, or [store.ErrNotFound].
func (s *Store) Upstream(ctx context.Context, userID string) (store.Upstream, error) {
	return get(ctx, s, "upstream", scanUpstream,
		"SELECT "+upstreamColumns+" FROM upstreams WHERE user_id = $1", userID)
}

// Upstreams lists every user's grant ordered by UserID; nil if none.
func (s *Store) Upstreams(ctx context.Context) ([]store.Upstream, error) {
	return list(ctx, s, "upstreams", scanUpstream, "SELECT "+upstreamColumns+" FROM upstreams ORDER BY user_id")
}

// DeleteUpstream removes the user's Gitea grant and the user's tokens,
// codes and consents; [store.ErrNotFound] if there was no grant (the rest
// is removed all the same).
func (s *Store) DeleteUpstream(ctx context.Context, userID string) error {
	return s.deleteNamed(ctx, "delete upstream", issuedToUser, "DELETE FROM upstreams WHERE user_id = $1", userID)
}

// createToken adds t as a token of kind.
func (s *Store) createToken(ctx context.Context, op string, t store.Token, kind string) error {
	row := tokenValues(t)
	row.args = append(row.args, kind)
	return s.writeRow(ctx, op, insertToken, row)
}

// CreateAccessToken adds t; [store.ErrExists] if its Hash is taken by any
// token, access or refresh.
func (s *Store) CreateAccessToken(ctx context.Context, t store.Token) error {
	return s.createToken(ctx, "create access token", t, accessKind)
}

// AccessToken returns the access token with hash; [store.ErrNotFound] if
// none (a refresh token's hash included), revoked or expired at now.
func (s *Store) AccessToken(ctx context.Context, hash string, now time.Time) (store.Token, error) {
	return get(ctx, s, "access token", scanToken,
		"SELECT "+tokenColumns+" FROM tokens WHERE hash = $1 AND kind = 'access' AND expires_at > $2",
		hash, instant(now))
}

// CreateRefreshToken adds t, unused; [store.ErrExists] if its Hash is
// taken by any token, access or refresh.
func (s *Store) CreateRefreshToken(ctx context.Context, t store.Token) error {
	return s.createToken(ctx, "create refresh token", t, refreshKind)
}

// usedToken is a refresh token and whether it was used.
type usedToken struct {
	token store.Token
	used  bool
}

// UseRefreshToken consumes the refresh token with hash: the first call
// returns it and marks it used; a later one deletes its whole family and
// returns [store.ErrReused] with the token. [store.ErrNotFound] if none (an access
// token's hash included), revoked or expired at now, used or not.
func (s *Store) UseRefreshToken(ctx context.Context, hash string, now time.Time) (store.Token, error) {
	var result store.Token
	err := s.write(ctx, "use refresh token", func(tx *sql.Tx) error {
		found, err := one(ctx, tx, scanUsedToken, "SELECT "+tokenColumns+", used FROM tokens WHERE hash = $1 AND kind = 'refresh' AND expires_at > $2"+
			s.dialect.forUpdate, hash, instant(now))
		switch {
		case err != nil:
			return err
		case found.used:
			if _, err := exec(ctx, tx, "DELETE FROM tokens WHERE family = $1", found.token.Family); err != nil {
				return err
			}
			result = found.token
			return committed{store.ErrReused}
		}
		if _, err := exec(ctx, tx, "UPDATE tokens SET used = 1 WHERE hash = $1", hash); err != nil {
			return err
		}
		result = found.token
		return nil
	})
	if errors.Is(err, store.ErrReused) {
		return result, err
	}
	if err != nil {
		return store.Token{}, err
	}
	return result, nil
}

func scanUsedToken(row scanner) (usedToken, error) {
	var u usedToken
	var err error
	u.token, err = scanToken(usedScanner{row, &u.used})
	return u, err
}

// usedScanner scans a token's columns and then its used flag.
type usedScanner struct {
	row  scanner
	used *bool
}

func (u usedScanner) Scan(dest ...any) error {
	var used int64
	if err := u.row.Scan(append(dest, &used)...); err != nil {
		return err
	}
	*u.used = used != 0
	return nil
}

// FindToken returns the access or refresh token with hash, used or not;
// [store.ErrNotFound] if none, revoked or expired at now.
func (s *Store) FindToken(ctx context.Context, hash string, now time.Time) (store.Token, error) {
	found, err := get(ctx, s, "find token", scanUsedToken,
		"SELECT "+tokenColumns+", used FROM tokens WHERE hash = $1 AND expires_at > $2", hash, instant(now))
	found.token.Spent = found.used
	return found.token, err
}

// RevokeFamily removes every token of a family; no error if none.
func (s *Store) RevokeFamily(ctx context.Context, family string) error {
	return s.write(ctx, "revoke family", func(tx *sql.Tx) error {
		_, err := exec(ctx, tx, "DELETE FROM tokens WHERE family = $1", family)
		return err
	})
}

// DeleteExpired removes, at now, the expired authorization requests, codes
// and tokens (used refresh tokens too, once expired), and every dynamic
// client whose ExpiresAt is not after now with everything issued to it;
// it returns how many rows it removed.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	removed := 0
	err := s.write(ctx, "delete expired", func(tx *sql.Tx) error {
		var err error
		removed, err = execAll(ctx, tx, deleteExpired, instant(now))
		return err
	})
	if err != nil {
		return 0, err
	}
	return removed, nil
}
