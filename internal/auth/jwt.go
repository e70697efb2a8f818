package auth

import (
	"context"
	"errors"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// allowedAlgorithms are the asymmetric algorithms Gitea can sign with. HS*
// is excluded: its key is Gitea's secret, so no public check is possible,
// and accepting it would let the public key be used as an HMAC secret.
var allowedAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// giteaClaims are the claims of a Gitea OAuth token. An access token has
// tt == 0 and a grant id; refresh tokens (tt == 1) are signed with the same
// key, and id tokens carry no grant id.
type giteaClaims struct {
	GrantID   int64                `json:"gnt"`
	Kind      *int                 `json:"tt"`
	Expiry    *josejwt.NumericDate `json:"exp"`
	NotBefore *josejwt.NumericDate `json:"nbf"`
}

// accessClaims are what the local check learns about a valid access token.
type accessClaims struct {
	grantID int64
	expires time.Time
}

// checkJWT verifies the token's signature against Gitea's keys and its
// claims, without asking Gitea anything else. Errors are *Error values.
func (v *Verifier) checkJWT(ctx context.Context, raw string) (accessClaims, *Error) {
	tok, err := josejwt.ParseSigned(raw, allowedAlgorithms)
	if err != nil {
		return accessClaims{}, invalidToken("the token is not a Gitea OAuth access token signed with an accepted algorithm", err)
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID == "" {
		return accessClaims{}, invalidToken("the token names no signing key", nil)
	}
	h := tok.Headers[0]
	key, err := v.keys.key(ctx, h.KeyID)
	switch {
	case errors.Is(err, errKeysUnavailable):
		return accessClaims{}, unavailable("gitea's signing keys could not be fetched", err)
	case err != nil:
		return accessClaims{}, invalidToken("the token is not signed by this Gitea", err)
	case key.Algorithm != "" && key.Algorithm != h.Algorithm:
		return accessClaims{}, invalidToken("the token's algorithm does not match its key", nil)
	}
	var c giteaClaims
	if err := tok.Claims(key.Key, &c); err != nil {
		return accessClaims{}, invalidToken("the token's signature is not valid", err)
	}
	now := v.now()
	switch {
	case c.Expiry == nil:
		return accessClaims{}, invalidToken("the token has no expiry", nil)
	case now.After(c.Expiry.Time().Add(v.clockSkew)):
		return accessClaims{}, invalidToken("the token has expired; get a new one", nil)
	case c.NotBefore != nil && now.Add(v.clockSkew).Before(c.NotBefore.Time()):
		return accessClaims{}, invalidToken("the token is not valid yet", nil)
	case c.Kind == nil || *c.Kind != 0 || c.GrantID <= 0:
		return accessClaims{}, invalidToken("this is not an access token (refresh and id tokens are refused)", nil)
	}
	return accessClaims{grantID: c.GrantID, expires: c.Expiry.Time()}, nil
}
