package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"time"

	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/limits"
)

// authenticator turns a request into its verified caller.
type authenticator interface {
	authenticate(r *http.Request) (*auth.Principal, *auth.Error)
	// verified reports, without asking Gitea, whether r carries a token
	// already verified and still trusted.
	verified(r *http.Request) bool
}

// bearerAuthenticator verifies the request's own bearer token, once Gitea
// is known to be a version whose introspection can be trusted: with Gitea
// (the Verifier, direct mode) or with the broker (its own tokens).
type bearerAuthenticator struct {
	verify  func(ctx context.Context, token string) (*auth.Principal, error)
	trusted func(token string) bool
	gate    *versionGate
}

func (a *bearerAuthenticator) verified(r *http.Request) bool {
	token, err := auth.BearerToken(r)
	return err == nil && a.trusted(token)
}

func (a *bearerAuthenticator) authenticate(r *http.Request) (*auth.Principal, *auth.Error) {
	token, err := auth.BearerToken(r)
	if err != nil {
		return nil, asAuthError(err)
	}
	if err := a.gate.check(r.Context()); err != nil {
		return nil, err
	}
	p, err := a.verify(r.Context(), token)
	if err != nil {
		return nil, asAuthError(err)
	}
	return p, nil
}

// sharedTokenAuthenticator is the OAuth-less mode: every caller acts as the
// owner of the one configured personal access token. Tokens in URLs are
// still refused.
type sharedTokenAuthenticator struct{ principal *auth.Principal }

// verified is false: the shared token is not the caller's to present, so
// a shut-out address stays shut.
func (a *sharedTokenAuthenticator) verified(*http.Request) bool { return false }

func (a *sharedTokenAuthenticator) authenticate(r *http.Request) (*auth.Principal, *auth.Error) {
	switch _, err := auth.BearerToken(r); {
	case err == nil:
	case !errors.Is(err, auth.ErrNoToken):
		return nil, asAuthError(err)
	case r.Header.Get("Authorization") != "": // a Basic or other credential: refused, never ignored
		return nil, auth.ErrNotBearer
	}
	return a.principal, nil
}

func asAuthError(err error) *auth.Error {
	var ae *auth.Error
	if errors.As(err, &ae) {
		return ae
	}
	return &auth.Error{Status: http.StatusServiceUnavailable, Code: auth.CodeTemporarilyUnavailable,
		Description: "cannot verify the token right now; retry shortly", RetryAfter: 5 * time.Second}
}

// requireAuth authenticates every request to next, answering refusals with
// the challenge of the endpoint at path. Before that it applies the limits
// of the client's address: requests a second, and a shut-out after too
// many failed authentications. On success the principal is in the request
// context and, in OAuth mode, in the go-sdk's TokenInfo, which binds
// Streamable HTTP sessions to their user and carries the principal and the
// request's refusal slot to the MCP layer. In shared-token mode there is
// one caller, so the SDK sees no token at all (nor a non-Bearer
// Authorization header it would answer itself).
func (s *Server) requireAuth(path string, next http.Handler) http.Handler {
	ch := s.challenge(path)
	withTokenInfo := sdkauth.RequireBearerToken(func(_ context.Context, _ string, r *http.Request) (*sdkauth.TokenInfo, error) {
		return tokenInfo(auth.PrincipalFrom(r.Context()), newRequestInfo(transportAt(path), r)), nil
	}, &sdkauth.RequireBearerTokenOptions{AllowMissingExpiration: true, ClockSkew: auth.DefaultClockSkew})(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := limits.ClientAddr(r, s.cfg.Limits.TrustedProxies)
		r = r.WithContext(context.WithValue(r.Context(), clientAddrKey{}, addr))
		if ref := s.admitAddress(r, limits.Key(addr)); ref != nil {
			s.metrics.AuthFailure(ref.code)
			s.sampled.warn(ref.code, "request refused by an address limit", "path", r.URL.Path, "reason", ref.code)
			writeLimited(w, ref)
			return
		}
		p, err := s.authn.authenticate(r)
		if err != nil {
			s.metrics.AuthFailure(cmp.Or(err.Code, "no_token"))
			if err.Status >= 500 {
				s.log.Warn("cannot verify a token", "path", r.URL.Path, "reason", err.Error())
			} else if err != auth.ErrNoToken { // asking without a token is how clients find the challenge
				s.countAuthFailure(r, path, limits.Key(addr))
			}
			s.recordAuthRefusal(r, path, err)
			auth.WriteError(w, err, ch)
			return
		}
		r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		if s.shared != nil {
			next.ServeHTTP(w, r)
			return
		}
		withTokenInfo.ServeHTTP(w, r)
	})
}

// requestsPerAddress spends one of the address key's requests this
// second (RATE_LIMIT_PER_IP_PER_SECOND), or refuses.
func (s *Server) requestsPerAddress(key string) *refusal {
	if ok, wait := s.limits.requests.Allow(key); !ok {
		return rateLimited("rate_limited", wait,
			fmt.Sprintf("your address has sent more than %d requests a second, this server's limit (RATE_LIMIT_PER_IP_PER_SECOND)", s.cfg.Limits.RequestsPerSecond))
	}
	return nil
}

// clientAddrKey holds a request's client address (netip.Addr), as
// TRUSTED_PROXIES let it be named.
type clientAddrKey struct{}

// admitAddress applies the limits of the address a request comes from,
// keyed by key: its requests a second, and whether too many failed
// authentications have shut it out. A shut-out address may still ask
// without a credential (for the challenge) and use a token this server has
// already verified and holds in its cache: the shut-out stops guessing,
// not the users behind a shared address.
func (s *Server) admitAddress(r *http.Request, key string) *refusal {
	if ref := s.requestsPerAddress(key); ref != nil {
		return ref
	}
	if out, wait := s.limits.authFailures.Exhausted(key); out && presentsCredential(r) && !s.authn.verified(r) {
		return rateLimited("too_many_auth_failures", wait,
			fmt.Sprintf("your address failed to authenticate %d times in %s, this server's limit (MAX_AUTH_FAILURES, AUTH_FAILURE_WINDOW)",
				s.cfg.Limits.MaxAuthFailures, s.cfg.Limits.AuthFailureWindow))
	}
	return nil
}

// presentsCredential reports whether r carries any credential, in a header
// or (refused, but still a guess) in its URL. A request without one only
// learns the challenge, which a shut-out address may still do.
func presentsCredential(r *http.Request) bool {
	_, err := auth.BearerToken(r)
	return r.Header.Get("Authorization") != "" || !errors.Is(err, auth.ErrNoToken)
}

// countAuthFailure counts a refused token against its address; the
// failure that shuts the address out is put on record once.
func (s *Server) countAuthFailure(r *http.Request, path, key string) {
	s.limits.authFailures.Allow(key)
	if out, _ := s.limits.authFailures.Exhausted(key); out {
		if s.sampled.warn("address_shut_out", "an address is shut out after too many failed authentications", "path", r.URL.Path) {
			s.recordSecurityEvent(r, path, "too_many_auth_failures")
		}
	}
}

// newRequestInfo describes r, which came in through transport.
func newRequestInfo(transport string, r *http.Request) *requestInfo {
	info := &requestInfo{transport: transport, requestID: r.Header.Get("X-Request-ID"), remoteAddr: clientAddr(r)}
	if transport == "streamable" {
		info.refusal = &refusalSlot{}
	}
	return info
}

// clientAddr is the address requireAuth found for r, or else its peer.
func clientAddr(r *http.Request) string {
	if a, ok := r.Context().Value(clientAddrKey{}).(netip.Addr); ok && a.IsValid() {
		return a.String()
	}
	return r.RemoteAddr
}

// transportAt names the transport served at path.
func transportAt(path string) string {
	switch path {
	case pathMCP:
		return "streamable"
	case pathSSE:
		return "sse"
	case pathToolCall:
		return "tool_call"
	}
	return "tools_list"
}

// challenge describes the endpoint at path for WWW-Authenticate.
func (s *Server) challenge(path string) auth.Challenge {
	return auth.Challenge{ResourceMetadataURL: s.metadataURL(path), Scopes: s.scopes}
}

// minGitea is the oldest Gitea whose token introspection answers only for
// the calling app's own tokens (CVE-2026-58425 affects older versions).
var minGitea = gitea.Version{Major: 1, Minor: 27, Patch: 0}

// versionGate holds OAuth mode closed until Gitea's version is known to be
// recent enough, and shut for good when it is not.
type versionGate struct {
	gitea *gitea.Endpoint
	log   interface{ Error(string, ...any) }

	mu      sync.Mutex
	ok      bool
	tooOld  *gitea.Version
	checked time.Time
}

func (g *versionGate) check(ctx context.Context) *auth.Error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ok {
		return nil
	}
	if g.tooOld == nil && time.Since(g.checked) > time.Second {
		g.checked = time.Now()
		v, err := g.gitea.Version(ctx)
		switch {
		case err != nil:
		case v.AtLeast(minGitea.Major, minGitea.Minor, minGitea.Patch):
			g.ok = true
			return nil
		default:
			g.tooOld = &v
			g.log.Error("OAuth mode refused: Gitea is older than 1.27.0, whose introspection would accept other apps' tokens", "gitea_version", v.String())
		}
	}
	return &auth.Error{Status: http.StatusServiceUnavailable, Code: auth.CodeTemporarilyUnavailable,
		Description: "this server cannot verify tokens with this Gitea (it needs Gitea 1.27.0 or newer, reachable)", RetryAfter: 30 * time.Second}
}

// err reports a too-old Gitea found at startup.
func (g *versionGate) tooOldError() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.tooOld != nil {
		return tooOldErr(*g.tooOld)
	}
	return nil
}
