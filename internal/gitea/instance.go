package gitea

import (
	"context"
	"fmt"
)

// Version returns Gitea's version. It needs no token.
func (e *Endpoint) Version(ctx context.Context) (Version, error) {
	var body struct {
		Version string `json:"version"`
	}
	if _, err := e.send(ctx, call{op: "GET /api/v1/version", path: "/api/v1/version"}, &body); err != nil {
		return Version{}, err
	}
	return ParseVersion(body.Version)
}

// Discovery fetches Gitea's OpenID Connect discovery document and checks
// that it names an issuer and a JWKS.
func (e *Endpoint) Discovery(ctx context.Context) (*Discovery, error) {
	const op = "GET /.well-known/openid-configuration"
	var d Discovery
	if _, err := e.send(ctx, call{op: op, path: "/.well-known/openid-configuration"}, &d); err != nil {
		return nil, err
	}
	if d.Issuer == "" || d.JWKSURI == "" {
		return nil, &APIError{Op: op, Status: 200, kind: fmt.Errorf("%w: discovery names no issuer or jwks_uri", ErrBadResponse)}
	}
	return &d, nil
}
