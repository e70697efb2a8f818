package auth

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// Defaults for [VerifierOptions] zero values.
const (
	DefaultCacheTTL     = 60 * time.Second
	DefaultRefusalTTL   = 10 * time.Second
	DefaultCacheEntries = 10000
	DefaultClockSkew    = 30 * time.Second
	keyRefreshInterval  = 30 * time.Second
	keyRetryInterval    = time.Second
	keyRefreshMaxWait   = 100 * time.Millisecond
	upstreamTimeout     = 10 * time.Second
)

// VerifierOptions configure a [Verifier]. Zero values are the secure defaults.
type VerifierOptions struct {
	// Gitea is the authorization server. Required.
	Gitea *gitea.Endpoint
	// ClientID and ClientSecret are this server's Gitea OAuth app, used to
	// call introspection. Required.
	ClientID     string
	ClientSecret string
	// Audience is the client id a token must have been issued to; empty
	// means ClientID.
	Audience string
	// RecommendedScopes are named in refusals of all-access grants.
	RecommendedScopes []gitea.Scope
	// CacheTTL bounds how long a positive verdict is reused (never past the
	// token's expiry). Zero means [DefaultCacheTTL]. It is also how long a
	// revoked grant may still be honoured.
	CacheTTL time.Duration
	// RefusalTTL is how long a refusal is reused. Zero means [DefaultRefusalTTL].
	RefusalTTL time.Duration
	// CacheEntries bounds each of the verdict cache's two parts: at most
	// CacheEntries accepted verdicts and, separately, at most CacheEntries
	// refusals are held, so refusals (which anyone can cause) never evict
	// an accepted verdict. Zero means [DefaultCacheEntries].
	CacheEntries int
	// ClockSkew is the tolerance on a token's expiry. Zero means [DefaultClockSkew].
	ClockSkew time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives why tokens were refused (never the tokens); nil means slog.Default().
	Logger *slog.Logger
	// KeepWarm is how long after its last use a token's accepted verdict is
	// refreshed in the background shortly before it expires, so that a
	// caller who calls less often than CacheTTL does not wait for Gitea.
	// Zero means [DefaultKeepWarm]; negative turns it off. It does not
	// lengthen the revocation window.
	KeepWarm time.Duration
	// CacheEvent, if set, is told of every verdict cache lookup: "hit" (an
	// accepted token), "hit_refused" or "miss". It must be safe for
	// concurrent use and quick.
	CacheEvent func(event string)
}

// Verifier checks bearer tokens; it is safe for concurrent use.
type Verifier struct {
	gitea        *gitea.Endpoint
	clientID     string
	clientSecret string
	audience     string
	recommended  []gitea.Scope
	cacheTTL     time.Duration
	refusalTTL   time.Duration
	clockSkew    time.Duration
	now          func() time.Time
	log          *slog.Logger
	keys         *keySet
	cache        *verdictCache
	flight       singleflight.Group
	onCache      func(event string)
	warm         *warmth
	client       clientState // what Gitea last said of ClientID and ClientSecret
}

// NewVerifier returns a Verifier for opts.
func NewVerifier(opts VerifierOptions) (*Verifier, error) {
	if opts.Gitea == nil || opts.ClientID == "" || opts.ClientSecret == "" {
		return nil, errors.New("auth: Gitea, ClientID and ClientSecret are required")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	v := &Verifier{
		gitea:        opts.Gitea,
		clientID:     opts.ClientID,
		clientSecret: opts.ClientSecret,
		audience:     cmp.Or(opts.Audience, opts.ClientID),
		recommended:  opts.RecommendedScopes,
		cacheTTL:     cmp.Or(opts.CacheTTL, DefaultCacheTTL),
		refusalTTL:   cmp.Or(opts.RefusalTTL, DefaultRefusalTTL),
		clockSkew:    cmp.Or(opts.ClockSkew, DefaultClockSkew),
		now:          now,
		log:          cmp.Or(opts.Logger, slog.Default()),
		cache:        newVerdictCache(cmp.Or(opts.CacheEntries, DefaultCacheEntries)),
		onCache:      opts.CacheEvent,
		warm:         newWarmth(keepWarm(opts.KeepWarm), cmp.Or(opts.CacheTTL, DefaultCacheTTL)),
	}
	v.keys = &keySet{
		fetch:       opts.Gitea.JWKS,
		now:         now,
		minInterval: keyRefreshInterval,
		retryAfter:  keyRetryInterval,
		maxWait:     keyRefreshMaxWait,
		timeout:     upstreamTimeout,
	}
	return v, nil
}

// Warm fetches Gitea's signing keys ahead of the first request, waiting up
// to ctx. A failure is not fatal: keys are fetched again on demand.
func (v *Verifier) Warm(ctx context.Context) { v.keys.warm(ctx) }

// KeysLoaded reports whether Gitea's signing keys have been fetched.
func (v *Verifier) KeysLoaded() bool { return v.keys.loaded() }

// Verify checks token and returns its principal, or an [*Error] saying why
// it is refused. A verdict is reused, keyed by the token's SHA-256, until the
// token expires or the cache TTL passes; concurrent first uses of one token
// share a single check.
func (v *Verifier) Verify(ctx context.Context, token string) (*Principal, error) {
	key := tokenKey(sha256.Sum256([]byte(token)))
	if got, ok := v.cache.get(key, v.now()); ok {
		v.cacheEvent(got)
		if got.principal != nil {
			v.warm.used(key, v.now())
		}
		return got.principal, got.err
	}
	v.cacheEvent(nil)
	ch := v.flight.DoChan(string(key[:]), func() (any, error) {
		if got, ok := v.cache.get(key, v.now()); ok {
			return got, nil
		}
		// The check outlives any one caller: others may be waiting on it.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), upstreamTimeout)
		defer cancel()
		got := v.check(cctx, token)
		if got.until.After(v.now()) {
			v.cache.put(key, got, v.now())
		}
		if got.principal != nil {
			v.warm.schedule(key, got, v.now(), func() { v.refresh(key) })
		}
		return got, nil
	})
	select {
	case res := <-ch:
		got := res.Val.(*verdict)
		return got.principal, got.err
	case <-ctx.Done():
		return nil, unavailable("the request ended while the token was being verified", ctx.Err())
	}
}

// keepWarm reads VerifierOptions.KeepWarm: 0 is the default, negative off.
func keepWarm(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultKeepWarm
	case d < 0:
		return 0
	}
	return d
}

// cacheEvent reports a lookup that found got (nil: nothing) to the
// CacheEvent hook.
func (v *Verifier) cacheEvent(got *verdict) {
	switch {
	case v.onCache == nil:
	case got == nil:
		v.onCache("miss")
	case got.err != nil:
		v.onCache("hit_refused")
	default:
		v.onCache("hit")
	}
}

// check verifies a token from scratch. A refusal is cached for the refusal
// TTL; an outage (Gitea unreachable) is never cached.
func (v *Verifier) check(ctx context.Context, token string) *verdict {
	refuse := func(err *Error) *verdict {
		until := v.now().Add(v.refusalTTL)
		if err.Status == 503 {
			until = time.Time{}
		}
		v.log.Info("token refused", "status", err.Status, "code", err.Code, "reason", err.Error())
		return &verdict{err: err, until: until}
	}
	if looksLikePersonalAccessToken(token) { // never sent on to Gitea
		return refuse(personalAccessToken())
	}
	claims, bad := v.checkJWT(ctx, token)
	if bad != nil {
		return refuse(bad)
	}
	in, err := v.gitea.Introspect(ctx, v.clientID, v.clientSecret, token)
	if err == nil && in.Active { // Gitea checked the client before it said so
		v.client.record(true, v.now())
	}
	switch {
	case errors.Is(err, gitea.ErrClientCredentials):
		v.client.record(false, v.now())
		v.log.Error("gitea refused this server's OAuth client credentials at introspection: check GITEA_OAUTH_CLIENT_ID and GITEA_OAUTH_CLIENT_SECRET")
		return refuse(unavailable("the server's OAuth client is misconfigured", err))
	case err != nil:
		return refuse(unavailable("gitea's token introspection is unreachable", err))
	case !in.Active:
		return refuse(invalidToken("the token is not active: expired, revoked, or issued to another application", nil))
	case !in.Audience.Contains(v.audience):
		return refuse(invalidToken("the token was issued to another application", nil))
	case in.Subject == "" || in.Username == "":
		return refuse(unavailable("gitea's introspection named no user", nil))
	}
	grant := gitea.ParseGrant(in.Scope)
	if grant.AllAccess {
		return refuse(allAccessGrant(v.recommended, grant))
	}
	p := &Principal{UserID: in.Subject, Login: in.Username, Scopes: grant.Scopes, Expires: claims.expires, token: &secret{token}}
	until := v.now().Add(v.cacheTTL)
	if claims.expires.Before(until) {
		until = claims.expires
	}
	v.log.Debug("token verified", "user", in.Username, "grant", claims.grantID, "scopes", fmt.Sprint(grant.Scopes.List()))
	return &verdict{principal: p, until: until}
}
