package gitea

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// The fixed paths of Gitea's OAuth2 provider below its root URL. They are
// used instead of the URLs in the discovery document, so the client secret
// and tokens only ever go to GITEA_URL, whatever the document says.
const (
	jwksPath          = "/login/oauth/keys"
	introspectionPath = "/login/oauth/introspect"
)

// Introspection is Gitea's RFC 7662 answer about a token. Gitea reports no
// expiry and no token type: take those from the JWT itself.
type Introspection struct {
	Active   bool     `json:"active"`
	Scope    string   `json:"scope"`     // the grant's raw scope string
	Username string   `json:"username"`  // the token owner's login
	Subject  string   `json:"sub"`       // the owner's numeric user id, as a string
	Audience Audience `json:"aud"`       // the client ids the grant belongs to
	ClientID string   `json:"client_id"` // set by some servers; Gitea uses aud
}

// Audience is a JWT/RFC 7662 "aud": one string or an array of strings.
type Audience []string

// UnmarshalJSON accepts both forms.
func (a *Audience) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) {
		var list []string
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*a = list
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*a = Audience{one}
	return nil
}

// Contains reports whether aud names id.
func (a Audience) Contains(id string) bool {
	for _, v := range a {
		if v == id {
			return true
		}
	}
	return false
}

// ErrClientCredentials means Gitea refused this server's OAuth client
// credentials at introspection.
var ErrClientCredentials = errors.New("gitea refused the OAuth client credentials")

// Introspect asks Gitea about token, authenticating as the OAuth client
// clientID (HTTP Basic, the only method Gitea accepts). From Gitea 1.27.0 on,
// Gitea answers "active" only for tokens issued to that same client.
//
// Gitea's own request authentication runs before its introspection handler
// and treats the form's token as the request's credential: for an expired,
// revoked or forged token it answers 401 without a Basic challenge, and that
// is reported as an inactive token. A 401 that asks for Basic credentials
// comes from the handler itself and means the client credentials are wrong:
// [ErrClientCredentials].
func (e *Endpoint) Introspect(ctx context.Context, clientID, clientSecret, token string) (*Introspection, error) {
	var in Introspection
	_, err := e.send(ctx, call{
		method: "POST",
		op:     "POST " + introspectionPath,
		path:   introspectionPath,
		form:   url.Values{"token": {token}},
		basic:  &basicAuth{user: clientID, secret: credential(clientSecret)},
	}, &in)
	var apiErr *APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized && apiErr.BasicChallenge:
		return nil, fmt.Errorf("%w: %w", ErrClientCredentials, err)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnauthorized:
		return &Introspection{Active: false}, nil
	case err != nil:
		return nil, err
	}
	return &in, nil
}

// JWKS fetches the JSON Web Key Set Gitea signs its tokens with.
func (e *Endpoint) JWKS(ctx context.Context) (json.RawMessage, error) {
	var raw json.RawMessage
	if _, err := e.send(ctx, call{op: "GET " + jwksPath, path: jwksPath}, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// tokenPath and authorizePath are Gitea's OAuth2 token and authorization
// endpoints below its root URL.
const (
	tokenPath     = "/login/oauth/access_token" //nolint:gosec // G101: a path, not a credential
	authorizePath = "/login/oauth/authorize"
)

// Tokens are what Gitea's token endpoint answers: a new access token and,
// from Gitea, a refresh token. ExpiresIn is in seconds.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

// AuthorizeURL is the URL of Gitea's authorization endpoint with query q,
// where a browser signs in and approves an OAuth client.
func (e *Endpoint) AuthorizeURL(q url.Values) string {
	u := e.BaseURL()
	u.Path += authorizePath
	u.RawQuery = q.Encode()
	return u.String()
}

// ExchangeCode trades an authorization code, got at redirectURI with the
// PKCE verifier, for tokens, authenticating as the OAuth client clientID.
// A refused code is an [*APIError] whose Status is 400 or 401.
func (e *Endpoint) ExchangeCode(ctx context.Context, clientID, clientSecret, code, verifier, redirectURI string) (*Tokens, error) {
	return e.token(ctx, clientID, clientSecret, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"code_verifier": {verifier},
		"redirect_uri":  {redirectURI},
	})
}

// RefreshTokens trades a refresh token for new tokens. A refresh token that
// Gitea no longer honours (the user revoked the grant, or it was used
// already) is an [*APIError] whose Status is 400 or 401.
func (e *Endpoint) RefreshTokens(ctx context.Context, clientID, clientSecret, refreshToken string) (*Tokens, error) {
	return e.token(ctx, clientID, clientSecret, url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
	})
}

func (e *Endpoint) token(ctx context.Context, clientID, clientSecret string, form url.Values) (*Tokens, error) {
	var out Tokens
	if _, err := e.send(ctx, call{
		method: "POST",
		op:     "POST " + tokenPath,
		path:   tokenPath,
		form:   form,
		basic:  &basicAuth{user: clientID, secret: credential(clientSecret)},
	}, &out); err != nil {
		return nil, err
	}
	if out.AccessToken == "" {
		return nil, &APIError{Op: "POST " + tokenPath, Status: http.StatusOK, kind: ErrBadResponse, cause: errors.New("no access_token in the answer")}
	}
	return &out, nil
}
