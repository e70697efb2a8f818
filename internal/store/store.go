package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Errors a [Store] returns; match them with errors.Is.
var (
	// ErrNotFound: the row does not exist, or has expired.
	ErrNotFound = errors.New("store: not found")
	// ErrExists: a row with that key already exists.
	ErrExists = errors.New("store: already exists")
	// ErrReused: a refresh token was presented a second time. Its whole
	// family has been revoked by the call that returned this error.
	ErrReused = errors.New("store: refresh token reused")
)

// Hash is the stored form of a secret the broker hands out (a code, an
// access or refresh token, a state): the hex SHA-256 of its value. A row
// keyed by a Hash cannot be turned back into the secret.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ClientKind says how a client came to be known.
type ClientKind string

// Client kinds.
const (
	// ClientStatic is configured by the operator.
	ClientStatic ClientKind = "static"
	// ClientDynamic registered itself (RFC 7591) and expires when unused.
	ClientDynamic ClientKind = "dynamic"
	// ClientMetadata is a Client ID Metadata Document's URL; its row only
	// remembers the document between fetches.
	ClientMetadata ClientKind = "metadata"
)

// Client is an OAuth client of the broker. Broker clients are public: they
// prove themselves with PKCE, not a secret.
type Client struct {
	ID              string // the client_id; for ClientMetadata, the document's https URL
	Kind            ClientKind
	Name            string   // client_name, shown on the consent page
	RedirectURIs    []string // matched exactly
	ApplicationType string   // "web" or "native"
	CreatedAt       time.Time
	// ExpiresAt is when an unused dynamic registration is forgotten; zero
	// means never. Using the client (a token issued) moves it on.
	ExpiresAt time.Time
}

// AuthRequest is an authorization in progress, from the client's
// /authorize to the code it gets back: the client's request, the browser
// it runs in, the round trip through Gitea's sign-in and the user's consent.
type AuthRequest struct {
	ID            string // Hash of the state sent to Gitea and kept in the browser's cookie
	ClientID      string
	RedirectURI   string
	State         string // the client's own state, returned to it unchanged
	CodeChallenge string // PKCE S256 challenge of the client
	Scopes        []string
	Resource      string
	BrowserHash   string // Hash of the browser-binding cookie's value
	// GiteaVerifier is the PKCE verifier of the round trip to Gitea,
	// sealed by the broker.
	GiteaVerifier string
	// Set once Gitea has signed the user in:
	UserID string
	Login  string
	// ConsentHash is the Hash of the CSRF token of the consent form shown
	// for this request; empty before the form is shown.
	ConsentHash string
	ExpiresAt   time.Time
}

// AuthCode is a single-use authorization code, handed to the client's
// redirect URI and exchanged at the token endpoint.
type AuthCode struct {
	Hash          string
	ClientID      string
	RedirectURI   string
	CodeChallenge string
	UserID        string
	Login         string
	Scopes        []string
	Resource      string
	ExpiresAt     time.Time
}

// Consent records that a user allowed a client the listed Gitea scopes.
type Consent struct {
	UserID    string
	ClientID  string
	Scopes    []string
	CreatedAt time.Time
}

// Upstream is a user's Gitea grant to the broker's Gitea OAuth app: one
// per user (Gitea keeps one grant per user and app). Its tokens are sealed
// by the broker; the store never sees them in the clear.
type Upstream struct {
	UserID        string
	Login         string
	Scopes        []string // what Gitea's introspection says the grant holds
	SealedAccess  string
	SealedRefresh string
	AccessExpiry  time.Time
	UpdatedAt     time.Time
}

// Token is a broker-issued access or refresh token, stored by its Hash.
// The tokens a client obtains from one authorization, and every refresh
// after it, form one family: revoking the family ends them all.
type Token struct {
	Hash      string
	Family    string
	ClientID  string
	UserID    string
	Login     string
	Scopes    []string
	Resource  string
	ExpiresAt time.Time
	// Spent is set by FindToken on a refresh token already used once.
	Spent bool
}

// Store keeps the broker's state. Implementations are safe for concurrent
// use, also by several processes sharing one database: every consuming
// method (TakeAuthRequest, TakeAuthCode, UseRefreshToken) succeeds for
// exactly one caller.
//
// A row expires at its ExpiresAt: it is expired at every now not before
// that instant. A zero ExpiresAt means never for a Client, and already
// expired for an AuthRequest, AuthCode or Token.
type Store interface {
	// CreateClient adds c; ErrExists if its ID is taken.
	CreateClient(ctx context.Context, c Client) error
	// PutClient adds or replaces c (a metadata document re-fetched).
	PutClient(ctx context.Context, c Client) error
	// Client returns the client with id, ErrNotFound if none or expired
	// at now.
	Client(ctx context.Context, id string, now time.Time) (Client, error)
	// TouchClient moves a dynamic client's expiry to expires.
	TouchClient(ctx context.Context, id string, expires time.Time) error
	// Clients lists every client, expired ones included, ordered by ID.
	Clients(ctx context.Context) ([]Client, error)
	// DeleteClient removes the client and everything issued to it: its
	// consents, codes and tokens.
	DeleteClient(ctx context.Context, id string) error

	// CreateAuthRequest adds r; ErrExists if its ID is taken.
	CreateAuthRequest(ctx context.Context, r AuthRequest) error
	// AuthRequest returns the request with id, ErrNotFound if none or
	// expired at now.
	AuthRequest(ctx context.Context, id string, now time.Time) (AuthRequest, error)
	// UpdateAuthRequest replaces the request with r.ID; ErrNotFound if it
	// no longer exists.
	UpdateAuthRequest(ctx context.Context, r AuthRequest) error
	// TakeAuthRequest returns the request and deletes it, for exactly one
	// caller; ErrNotFound otherwise.
	TakeAuthRequest(ctx context.Context, id string, now time.Time) (AuthRequest, error)

	// CreateAuthCode adds c; ErrExists if its Hash is taken.
	CreateAuthCode(ctx context.Context, c AuthCode) error
	// TakeAuthCode returns the code and deletes it, for exactly one caller;
	// ErrNotFound if it was taken already, never existed or expired.
	TakeAuthCode(ctx context.Context, hash string, now time.Time) (AuthCode, error)

	// PutConsent adds or replaces the consent of c.UserID for c.ClientID.
	PutConsent(ctx context.Context, c Consent) error
	// Consent returns a user's consent for a client, or ErrNotFound.
	Consent(ctx context.Context, userID, clientID string) (Consent, error)
	// Consents lists a user's consents, ordered by ClientID.
	Consents(ctx context.Context, userID string) ([]Consent, error)
	// RevokeConsent removes a user's consent for a client and every token
	// that client holds for that user; ErrNotFound if there was none.
	RevokeConsent(ctx context.Context, userID, clientID string) error

	// PutUpstream adds or replaces the user's Gitea grant.
	PutUpstream(ctx context.Context, u Upstream) error
	// Upstream returns the user's Gitea grant, or ErrNotFound.
	Upstream(ctx context.Context, userID string) (Upstream, error)
	// Upstreams lists every user's grant, ordered by UserID (key rotation
	// re-seals them).
	Upstreams(ctx context.Context) ([]Upstream, error)
	// DeleteUpstream removes the user's Gitea grant and every broker token
	// and consent of that user (the user revoked the app at Gitea).
	DeleteUpstream(ctx context.Context, userID string) error

	// CreateAccessToken adds t; ErrExists if its Hash is taken.
	CreateAccessToken(ctx context.Context, t Token) error
	// AccessToken returns the access token with hash, ErrNotFound if none,
	// revoked or expired at now.
	AccessToken(ctx context.Context, hash string, now time.Time) (Token, error)
	// CreateRefreshToken adds t; ErrExists if its Hash is taken.
	CreateRefreshToken(ctx context.Context, t Token) error
	// UseRefreshToken consumes the refresh token with hash: the first call
	// returns it and marks it used; a later call with the same hash
	// revokes its whole family (access and refresh tokens) and returns
	// ErrReused together with the token, so the caller can name the family
	// and client it revoked. ErrNotFound if none, revoked or expired at now.
	UseRefreshToken(ctx context.Context, hash string, now time.Time) (Token, error)
	// FindToken returns the access or refresh token with hash, whether or
	// not it was used, for revocation; ErrNotFound if none or expired at
	// now.
	FindToken(ctx context.Context, hash string, now time.Time) (Token, error)
	// RevokeFamily removes every token of a family; no error if none.
	RevokeFamily(ctx context.Context, family string) error

	// DeleteExpired removes every row expired at now (used refresh tokens
	// are kept until they expire, so reuse is still detected; a dynamic
	// client goes with everything issued to it, as by DeleteClient) and
	// returns how many rows it removed.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
	// Close releases the store.
	Close() error
}
