package broker

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/clientdoc"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/limits"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/seal"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

// Defaults for [Options] zero values.
const (
	DefaultAccessTTL              = 15 * time.Minute
	DefaultRefreshTTL             = 30 * 24 * time.Hour
	DefaultRegistrationTTL        = 30 * 24 * time.Hour
	DefaultRegistrationsPerMinute = 10
	// requestTTL bounds an authorization in progress and its code.
	requestTTL = 10 * time.Minute
	codeTTL    = time.Minute
	// verdictTTL is how long a verified access token is trusted without
	// asking the store again: the longest a revocation at another replica
	// takes to hold here.
	verdictTTL = 30 * time.Second
	// upstreamEarly refreshes a Gitea token this long before it expires.
	upstreamEarly = time.Minute
)

// The broker's paths.
const (
	PathMetadata      = "/.well-known/oauth-authorization-server"
	PathOpenIDConfig  = "/.well-known/openid-configuration"
	PathRegister      = "/oauth/register"
	PathAuthorize     = "/oauth/authorize"
	PathCallback      = "/oauth/callback"
	PathConsent       = "/oauth/consent"
	PathToken         = "/oauth/token" //nolint:gosec // G101: a path, not a credential
	PathRevoke        = "/oauth/revoke"
	accessTokenPrefix = "aegis_at_"
	refreshPrefix     = "aegis_rt_"
	codePrefix        = "aegis_ac_"
)

// Options configure [New].
type Options struct {
	// Store keeps the broker's state. Required.
	Store store.Store
	// Keys seal the users' Gitea tokens. Required.
	Keys *seal.Keyring
	// Documents fetches Client ID Metadata Documents; nil turns them off
	// (clients must register).
	Documents *clientdoc.Fetcher
	// Gitea is the upstream authorization server and API. Required.
	Gitea *gitea.Endpoint
	// GiteaClientID and GiteaClientSecret are the broker's own Gitea OAuth
	// app, whose redirect URI is Issuer + /oauth/callback. Required.
	GiteaClientID     string
	GiteaClientSecret string
	// Issuer is this server's public base URL (no trailing slash); its
	// metadata, endpoints and the "iss" of its answers derive from it.
	// Required.
	Issuer string
	// Resources are the MCP URLs a client may ask a token for (RFC 8707
	// "resource"); a token is good for the one it was issued for.
	// Required.
	Resources []string
	// Scopes are the Gitea scopes this server's tools use: what a client
	// gets when it names none, and all it may ask for. Required.
	Scopes []gitea.Scope
	// AccessTTL is the lifetime of an access token. Zero means
	// [DefaultAccessTTL].
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of a refresh token (each refresh issues a
	// new one). Zero means [DefaultRefreshTTL].
	RefreshTTL time.Duration
	// RegistrationTTL is how long a dynamically registered client that
	// gets no token is kept. Zero means [DefaultRegistrationTTL].
	RegistrationTTL time.Duration
	// RegistrationsPerMinute bounds registrations per client address. Zero
	// means [DefaultRegistrationsPerMinute].
	RegistrationsPerMinute int
	// ClientAddr names the address a request comes from, for the
	// registration limit; nil means the socket peer.
	ClientAddr func(r *http.Request) string
	// Audit, if set, is told of every event an auditor wants to see: a
	// registration, an authorization, a revocation, a reused refresh token,
	// a Gitea grant that ended. It must be quick.
	Audit func(Event)
	// StaticClients are registered by the operator (BROKER_CLIENTS_FILE).
	StaticClients []StaticClient
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the broker's events (never a token); nil means
	// slog.Default().
	Logger *slog.Logger
}

// Broker is the authorization server. It is safe for concurrent use.
type Broker struct {
	store        store.Store
	keys         *seal.Keyring
	docs         *clientdoc.Fetcher
	gitea        *gitea.Endpoint
	giteaID      string
	giteaSecret  string
	issuer       string
	resources    []string
	scopes       []gitea.Scope
	accessTTL    time.Duration
	refreshTTL   time.Duration
	regTTL       time.Duration
	registration *limits.Rate
	clientAddr   func(r *http.Request) string
	now          func() time.Time
	log          *slog.Logger
	verdicts     *verdicts
	refreshes    singleflight.Group // one Gitea refresh per user at a time
	secureCookie bool
	static       map[string]StaticClient
	audit        func(Event)
}

// Event is a broker event for the audit log. Reason is one of the Reason
// constants; the ids say who and which client, when known.
type Event struct {
	Reason                  string
	UserID, Login, ClientID string
}

// The reasons of broker events: fixed texts, safe to record.
const (
	ReasonRegistered    = "broker: client registered"
	ReasonAuthorized    = "broker: client authorized by the user"
	ReasonRefused       = "broker: client refused by the user"
	ReasonRefreshReused = "broker: refresh token reused, authorization revoked"
	ReasonRevoked       = "broker: client revoked its tokens"
	ReasonGrantEnded    = "broker: Gitea grant ended, the user's tokens revoked"
)

func (b *Broker) record(e Event) {
	if b.audit != nil {
		b.audit(e)
	}
}

// New returns a Broker for opts.
func New(opts Options) (*Broker, error) {
	switch {
	case opts.Store == nil, opts.Keys == nil, opts.Gitea == nil:
		return nil, errors.New("broker: Store, Keys and Gitea are required")
	case opts.GiteaClientID == "" || opts.GiteaClientSecret == "":
		return nil, errors.New("broker: the Gitea OAuth app's client id and secret are required")
	case len(opts.Resources) == 0 || len(opts.Scopes) == 0:
		return nil, errors.New("broker: Resources and Scopes are required")
	}
	iss, err := url.Parse(opts.Issuer)
	if err != nil || (iss.Scheme != "https" && iss.Scheme != "http") || iss.Host == "" || iss.RawQuery != "" || iss.Fragment != "" {
		return nil, errors.New("broker: Issuer must be an absolute http(s) URL without query or fragment")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	perMinute := cmp.Or(opts.RegistrationsPerMinute, DefaultRegistrationsPerMinute)
	b := &Broker{
		store:        opts.Store,
		keys:         opts.Keys,
		docs:         opts.Documents,
		gitea:        opts.Gitea,
		giteaID:      opts.GiteaClientID,
		giteaSecret:  opts.GiteaClientSecret,
		issuer:       strings.TrimRight(opts.Issuer, "/"),
		resources:    slices.Clone(opts.Resources),
		scopes:       slices.Clone(opts.Scopes),
		accessTTL:    cmp.Or(opts.AccessTTL, DefaultAccessTTL),
		refreshTTL:   cmp.Or(opts.RefreshTTL, DefaultRefreshTTL),
		regTTL:       cmp.Or(opts.RegistrationTTL, DefaultRegistrationTTL),
		registration: limits.NewRate(perMinute, time.Minute, 0, now),
		clientAddr:   opts.ClientAddr,
		now:          now,
		log:          cmp.Or(opts.Logger, slog.Default()),
		verdicts:     newVerdicts(),
		secureCookie: iss.Scheme == "https",
		audit:        opts.Audit,
	}
	b.static = make(map[string]StaticClient, len(opts.StaticClients))
	for _, c := range opts.StaticClients {
		b.static[c.ID] = c
	}
	if b.clientAddr == nil {
		b.clientAddr = func(r *http.Request) string { return limits.Key(limits.ClientAddr(r, nil)) }
	}
	return b, nil
}

// Issuer returns the broker's issuer identifier: what protected-resource
// metadata names as its authorization server.
func (b *Broker) Issuer() string { return b.issuer }

// Mount registers the broker's endpoints on mux.
// Each handler is wrapped by wrap first (nil: none): the server's
// per-address request limit.
func (b *Broker) Mount(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	handle := func(pattern string, h http.HandlerFunc) {
		if wrap != nil {
			mux.Handle(pattern, wrap(h))
			return
		}
		mux.Handle(pattern, h)
	}
	for _, p := range []string{PathMetadata, PathOpenIDConfig} {
		handle("GET "+p, b.serveMetadata)
		handle("OPTIONS "+p, b.serveMetadata)
	}
	handle("POST "+PathRegister, b.serveRegister)
	handle("OPTIONS "+PathRegister, b.servePreflight)
	handle("GET "+PathAuthorize, b.serveAuthorize)
	handle("GET "+PathCallback, b.serveCallback)
	handle("GET "+PathConsent, b.serveConsentPage)
	handle("POST "+PathConsent, b.serveConsentDecision)
	handle("POST "+PathToken, b.serveToken)
	handle("OPTIONS "+PathToken, b.servePreflight)
	handle("POST "+PathRevoke, b.serveRevoke)
	handle("OPTIONS "+PathRevoke, b.servePreflight)
}

func (b *Broker) url(path string) string { return b.issuer + path }

// randomToken returns prefix followed by 32 random bytes, base64url.
func randomToken(prefix string) string {
	var buf [32]byte
	_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails
	return prefix + base64.RawURLEncoding.EncodeToString(buf[:])
}
