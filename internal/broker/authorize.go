package broker

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/clientdoc"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

// cookiePrefix names the cookie that binds an authorization in progress to
// the browser that started it. With https it is a __Host- cookie: Secure,
// no Domain, Path=/.
const cookiePrefix = "aegis-auth-"

// serveAuthorize starts an authorization (RFC 6749 §4.1.1 with PKCE S256
// and an RFC 8707 resource, both required): it checks the client and its
// redirect URI, remembers the request, binds it to this browser and sends
// the browser to Gitea to sign in.
func (b *Broker) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if dup := repeated(q); dup != "" {
		showError(w, http.StatusBadRequest, "The request names "+dup+" more than once.")
		return
	}
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	if clientID == "" {
		showError(w, http.StatusBadRequest, "The request names no client_id.")
		return
	}
	c, err := b.client(r.Context(), clientID)
	if err != nil {
		b.showClientError(w, err)
		return
	}
	if redirectURI == "" && len(c.RedirectURIs) == 1 {
		redirectURI = c.RedirectURIs[0]
	}
	if !slices.Contains(c.RedirectURIs, redirectURI) {
		showError(w, http.StatusBadRequest, "The redirect_uri is not one this application registered, so you were not sent back to it.")
		return
	}
	// From here on errors go back to the client's own redirect URI.
	state := q.Get("state")
	fail := func(code, desc string) { b.redirectError(w, r, redirectURI, state, code, desc) }
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", `response_type must be "code"`)
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256")
		return
	case !validChallenge(q.Get("code_challenge")):
		fail("invalid_request", "code_challenge must be the base64url SHA-256 of the code verifier (43 characters)")
		return
	case q.Get("resource") == "":
		fail("invalid_target", "resource is required (RFC 8707): name this server's MCP URL, e.g. "+b.resources[0])
		return
	case !slices.Contains(b.resources, q.Get("resource")):
		fail("invalid_target", "resource must be this server's MCP URL, e.g. "+b.resources[0])
		return
	case q.Get("request") != "" || q.Get("request_uri") != "":
		fail("request_not_supported", "request objects are not supported")
		return
	}
	scopes, bad := b.requestedScopes(q.Get("scope"))
	if bad != "" {
		fail("invalid_scope", bad)
		return
	}
	giteaState := randomToken("")
	browser := randomToken("")
	verifier := randomToken("")
	id := store.Hash(giteaState)
	sealedVerifier, err := b.keys.Seal(verifier, verifierContext(id))
	if err != nil {
		fail("server_error", "cannot start the sign-in right now")
		return
	}
	req := store.AuthRequest{
		ID:            id,
		ClientID:      c.ID,
		RedirectURI:   redirectURI,
		State:         state,
		CodeChallenge: q.Get("code_challenge"),
		Scopes:        gitea.ScopeWords(scopes),
		Resource:      q.Get("resource"),
		BrowserHash:   store.Hash(browser),
		GiteaVerifier: sealedVerifier,
		ExpiresAt:     b.now().Add(requestTTL),
	}
	if err := b.store.CreateAuthRequest(r.Context(), req); err != nil {
		b.log.Error("cannot store an authorization request", "err", err)
		fail("temporarily_unavailable", "cannot start the sign-in right now; retry shortly")
		return
	}
	b.setBindingCookie(w, id, browser)
	challenge := sha256.Sum256([]byte(verifier))
	http.Redirect(w, r, b.gitea.AuthorizeURL(url.Values{
		"client_id":     {b.giteaID},
		"redirect_uri":  {b.url(PathCallback)},
		"response_type": {"code"},
		// Gitea keeps a grant's first scopes, and offers no API to change
		// them: the broker asks for every scope its tools use, once, and
		// narrows per client with its own consent.
		"scope":                 {gitea.JoinScopes(b.scopes)},
		"state":                 {giteaState},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"},
	}), http.StatusFound)
}

// requestedScopes reads a request's scope parameter: Gitea scopes this
// server offers. None named means all this server's tools need; the
// OpenID words clients add by habit are ignored.
func (b *Broker) requestedScopes(raw string) ([]gitea.Scope, string) {
	var out []gitea.Scope
	for _, word := range strings.Fields(raw) {
		switch sc := gitea.Scope(word); {
		case word == "openid" || word == "profile" || word == "email" || word == "offline_access":
		case !sc.Valid():
			return nil, "unknown scope " + quoteCut(word) + "; this server takes Gitea scopes such as " + string(b.scopes[0])
		case !b.offers(sc):
			return nil, "this server does not use the scope " + word
		case !slices.Contains(out, sc):
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return slices.Clone(b.scopes), ""
	}
	return out, ""
}

// offers reports whether sc is one of the server's scopes, or the read
// scope of one of its write scopes.
func (b *Broker) offers(sc gitea.Scope) bool {
	for _, have := range b.scopes {
		if have == sc || (have.Writes() && sc.WriteScope() == have) {
			return true
		}
	}
	return false
}

func (b *Broker) showClientError(w http.ResponseWriter, err error) {
	var derr *clientdoc.Error
	switch {
	case errors.Is(err, errUnknownClient):
		showError(w, http.StatusBadRequest, "This application is not registered with this server. Ask its vendor to support Client ID Metadata Documents or Dynamic Client Registration.")
	case errors.As(err, &derr):
		showError(w, http.StatusBadRequest, "This application's client metadata document cannot be used: "+derr.Description+".")
	default:
		b.log.Error("cannot look up a client", "err", err)
		showError(w, http.StatusServiceUnavailable, "The server cannot look up this application right now. Retry shortly.")
	}
}

// validChallenge reports whether s can be an S256 challenge: 32 bytes,
// base64url without padding.
func validChallenge(s string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(raw) == sha256.Size
}

// checkVerifier reports whether verifier matches an S256 challenge.
func checkVerifier(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}

// repeated names a parameter given more than once, which RFC 6749 §3.1
// forbids; empty if none.
func repeated(q url.Values) string {
	for k, vs := range q {
		if len(vs) > 1 {
			return quoteCut(k)
		}
	}
	return ""
}

// quoteCut quotes s cut to 40 bytes, for error texts that name input.
func quoteCut(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return '?'
		}
		return r
	}, s) + `"`
}

func verifierContext(requestID string) string { return "gitea-pkce|" + requestID }

func (b *Broker) cookieName(requestID string) string {
	name := cookiePrefix + requestID[:16]
	if b.secureCookie {
		return "__Host-" + name
	}
	return name
}

// setBindingCookie ties the authorization requestID to this browser:
// only the browser holding the cookie can finish it.
func (b *Broker) setBindingCookie(w http.ResponseWriter, requestID, value string) {
	// Secure whenever the issuer is https; only a loopback issuer is http.
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // G124: Secure as above, HttpOnly, SameSite=Lax
		Name: b.cookieName(requestID), Value: value, Path: "/",
		MaxAge: int(requestTTL.Seconds()), Secure: b.secureCookie, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

func (b *Broker) clearBindingCookie(w http.ResponseWriter, requestID string) {
	http.SetCookie(w, &http.Cookie{Name: b.cookieName(requestID), Value: "", Path: "/", MaxAge: -1, //nolint:gosec // G124: as setBindingCookie
		Secure: b.secureCookie, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// boundBrowser reports whether r comes from the browser that started req.
func (b *Broker) boundBrowser(r *http.Request, req store.AuthRequest) bool {
	c, err := r.Cookie(b.cookieName(req.ID))
	return err == nil && c.Value != "" && equalHashes(store.Hash(c.Value), req.BrowserHash)
}
