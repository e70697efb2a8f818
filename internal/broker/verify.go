package broker

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

// Verify turns one of the broker's access tokens into the principal the
// call runs as: the Gitea user, the scopes both the user's consent and the
// Gitea grant hold, and the user's current Gitea access token (refreshed
// with Gitea first when it is about to expire). Refusals are [*auth.Error]
// values; a Gitea token, or any token this broker did not issue, is
// refused.
func (b *Broker) Verify(ctx context.Context, token string) (*auth.Principal, error) {
	if !strings.HasPrefix(token, accessTokenPrefix) {
		return nil, auth.TokenRefused("this server accepts only access tokens it issued itself; sign in through its authorization server")
	}
	key := store.Hash(token)
	now := b.now()
	if p, ok := b.verdicts.get(key, now); ok {
		return p, nil
	}
	t, err := b.store.AccessToken(ctx, key, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, auth.TokenRefused("the access token is unknown, expired or revoked")
	case err != nil:
		b.log.Error("cannot look up an access token", "err", err)
		return nil, auth.CannotVerify("the token store cannot be read")
	}
	up, access, err := b.upstream(ctx, t.UserID, false)
	switch {
	case errors.Is(err, errGrantGone):
		return nil, auth.TokenRefused("your access at Gitea has ended (the app was removed or the grant expired); sign in again")
	case err != nil:
		b.log.Warn("cannot use a Gitea grant", "user", t.Login, "err", err)
		return nil, auth.CannotVerify("Gitea cannot be reached to renew your access")
	}
	p := auth.NewPrincipal(t.UserID, t.Login, parseScopes(t.Scopes).Intersect(parseScopes(up.Scopes)), access)
	p.Expires = t.ExpiresAt
	until := earliest(now.Add(verdictTTL), t.ExpiresAt, up.AccessExpiry.Add(-upstreamEarly))
	b.verdicts.put(key, t.Family, p, until)
	return p, nil
}

// upstream returns the user's Gitea grant and its access token in the
// clear, refreshing the token with Gitea when it expires within
// upstreamEarly; check also asks Gitea's introspection whether a token
// that need not be refreshed is still active. errGrantGone means Gitea
// no longer honours the grant; its row is then deleted, with every token
// of the user.
func (b *Broker) upstream(ctx context.Context, userID string, check bool) (store.Upstream, string, error) {
	up, err := b.store.Upstream(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return up, "", errGrantGone
	} else if err != nil {
		return up, "", err
	}
	if b.now().Add(upstreamEarly).Before(up.AccessExpiry) {
		access, err := b.keys.Open(up.SealedAccess, accessContext(userID))
		if err != nil || !check {
			return up, access, err
		}
		in, err := b.gitea.Introspect(ctx, b.giteaID, b.giteaSecret, access)
		switch {
		case err != nil:
			return up, "", err
		case !in.Active:
			return up, "", b.grantGone(ctx, userID)
		}
		return up, access, nil
	}
	v, err, _ := b.refreshes.Do(userID, func() (any, error) { return b.refreshUpstream(context.WithoutCancel(ctx), up) })
	if err != nil {
		return up, "", err
	}
	fresh := v.(refreshed)
	return fresh.up, fresh.access, nil
}

// How often, and how far apart, a refused Gitea refresh reads the user's
// grant again before taking it for gone.
const (
	refreshRereads   = 4
	refreshRereadGap = 500 * time.Millisecond
)

type refreshed struct {
	up     store.Upstream
	access string
}

// refreshUpstream renews the user's Gitea tokens. When Gitea refuses the
// refresh token, another replica may have just spent it: the row is read
// again before the grant is taken for gone.
func (b *Broker) refreshUpstream(ctx context.Context, up store.Upstream) (refreshed, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	rt, err := b.keys.Open(up.SealedRefresh, refreshContext(up.UserID))
	if err != nil {
		return refreshed{}, err
	}
	tokens, err := b.gitea.RefreshTokens(ctx, b.giteaID, b.giteaSecret, rt)
	var apiErr *gitea.APIError
	if errors.As(err, &apiErr) && (apiErr.Status == http.StatusBadRequest || apiErr.Status == http.StatusUnauthorized) {
		// Gitea may refuse a refresh token another replica spent a moment
		// ago (INVALIDATE_REFRESH_TOKENS): give its new tokens time to land.
		for try := 0; try < refreshRereads; try++ {
			if again, aerr := b.store.Upstream(ctx, up.UserID); aerr == nil && again.UpdatedAt.After(up.UpdatedAt) {
				access, err := b.keys.Open(again.SealedAccess, accessContext(up.UserID))
				return refreshed{again, access}, err
			}
			select {
			case <-ctx.Done():
				return refreshed{}, ctx.Err()
			case <-time.After(refreshRereadGap):
			}
		}
		return refreshed{}, b.grantGone(ctx, up.UserID)
	}
	if err != nil {
		return refreshed{}, err
	}
	fresh, err := b.saveUpstream(ctx, tokens, up.UserID)
	if errors.Is(err, errGrantGone) {
		return refreshed{}, b.grantGone(ctx, up.UserID)
	}
	return refreshed{fresh, tokens.AccessToken}, err
}

// grantGone forgets a user's Gitea grant and every token the broker
// issued on it, and returns errGrantGone.
func (b *Broker) grantGone(ctx context.Context, userID string) error {
	if err := b.store.DeleteUpstream(ctx, userID); err != nil && !errors.Is(err, store.ErrNotFound) {
		b.log.Error("cannot forget a revoked Gitea grant", "err", err)
	}
	b.verdicts.dropUser(userID)
	b.log.Info("a Gitea grant is no longer active; its tokens are revoked", "user_id", userID)
	b.record(Event{Reason: ReasonGrantEnded, UserID: userID})
	return errGrantGone
}

// maxVerdicts bounds the verified-token cache.
const maxVerdicts = 10000

// verdicts caches verified access tokens for a short while, so a call
// needs neither the store nor the key ring.
type verdicts struct {
	mu sync.Mutex
	m  map[string]verdict
}

type verdict struct {
	p      *auth.Principal
	family string
	until  time.Time
}

func newVerdicts() *verdicts { return &verdicts{m: map[string]verdict{}} }

func (v *verdicts) get(key string, now time.Time) (*auth.Principal, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.m[key]
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e.p, true
}

func (v *verdicts) put(key, family string, p *auth.Principal, until time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.m) >= maxVerdicts {
		for k := range v.m { // an arbitrary victim: a cache miss only costs a store read
			delete(v.m, k)
			break
		}
	}
	v.m[key] = verdict{p: p, family: family, until: until}
}

func (v *verdicts) dropFamily(family string) {
	v.drop(func(e verdict) bool { return e.family == family })
}

func (v *verdicts) dropUser(userID string) {
	v.drop(func(e verdict) bool { return e.p.UserID == userID })
}

func (v *verdicts) drop(match func(verdict) bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for k, e := range v.m {
		if match(e) {
			delete(v.m, k)
		}
	}
}

// Trusted reports, without the store or Gitea, whether token is an access
// token verified a moment ago and still trusted.
func (b *Broker) Trusted(token string) bool {
	if !strings.HasPrefix(token, accessTokenPrefix) {
		return false
	}
	_, ok := b.verdicts.get(store.Hash(token), b.now())
	return ok
}

func earliest(first time.Time, rest ...time.Time) time.Time {
	for _, t := range rest {
		if t.Before(first) {
			first = t
		}
	}
	return first
}
