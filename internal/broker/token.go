package broker

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/clientdoc"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

// maxTokenForm bounds a token or revocation request's body.
const maxTokenForm = 8 << 10

// tokenResponse is an RFC 6749 §5.1 answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// serveToken is the token endpoint: an authorization code (with its PKCE
// verifier) or a refresh token for a new access token and refresh token.
// Clients are public: they send their client_id and no secret.
func (b *Broker) serveToken(w http.ResponseWriter, r *http.Request) {
	form, oerr := readForm(w, r)
	if oerr == nil {
		oerr = b.authenticateClient(form)
	}
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	var resp *tokenResponse
	switch form.get("grant_type") {
	case "authorization_code":
		resp, oerr = b.redeemCode(r.Context(), form)
	case "refresh_token":
		resp, oerr = b.refresh(r.Context(), form)
	case "":
		oerr = invalidRequest("grant_type is required")
	default:
		oerr = &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type", description: `grant_type must be "authorization_code" or "refresh_token"`}
	}
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// tokenForm is a token or revocation request: its form parameters, each
// at most once, and the client id (from the form or from HTTP Basic with
// an empty password, which some public clients send).
type tokenForm struct {
	values   map[string]string
	clientID string
	secret   string // what the client presented as its secret, if anything
}

func (f tokenForm) get(k string) string { return f.values[k] }

func readForm(w http.ResponseWriter, r *http.Request) (tokenForm, *oauthError) {
	if !strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded") {
		return tokenForm{}, invalidRequest("send the parameters as application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenForm)
	if err := r.ParseForm(); err != nil {
		return tokenForm{}, invalidRequest("the request body could not be read")
	}
	f := tokenForm{values: map[string]string{}}
	for k, vs := range r.PostForm {
		if len(vs) > 1 {
			return tokenForm{}, invalidRequest("the parameter " + quoteCut(k) + " is given more than once")
		}
		f.values[k] = vs[0]
	}
	f.clientID, f.secret = f.values["client_id"], f.values["client_secret"]
	if user, pass, ok := r.BasicAuth(); ok {
		if (f.clientID != "" && f.clientID != user) || f.secret != "" {
			return tokenForm{}, invalidClient("send the client's credentials once: HTTP Basic or the form, not both")
		}
		f.clientID, f.secret = user, pass
	}
	if f.clientID == "" {
		return tokenForm{}, invalidClient("client_id is required")
	}
	return f, nil
}

// redeemCode exchanges an authorization code. The code is consumed by the
// first attempt, right or wrong, so a code that leaks cannot be retried.
func (b *Broker) redeemCode(ctx context.Context, f tokenForm) (*tokenResponse, *oauthError) {
	code := f.get("code")
	if !strings.HasPrefix(code, codePrefix) || f.get("code_verifier") == "" || f.get("redirect_uri") == "" {
		return nil, invalidRequest("code, code_verifier and redirect_uri are required")
	}
	c, err := b.store.TakeAuthCode(ctx, store.Hash(code), b.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, invalidGrant("the code is unknown, used already or expired")
	case err != nil:
		b.log.Error("cannot redeem a code", "err", err)
		return nil, serverError("cannot redeem the code right now")
	case c.ClientID != f.clientID:
		return nil, invalidGrant("the code was issued to another client")
	case c.RedirectURI != f.get("redirect_uri"):
		return nil, invalidGrant("redirect_uri differs from the authorization request's")
	case !checkVerifier(f.get("code_verifier"), c.CodeChallenge):
		return nil, invalidGrant("the code_verifier does not match the code_challenge (PKCE)")
	case f.get("resource") != "" && f.get("resource") != c.Resource:
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_target", description: "resource differs from the authorization request's"}
	}
	client, oerr := b.tokenClient(ctx, c.ClientID)
	if oerr != nil {
		return nil, oerr
	}
	return b.issueTokens(ctx, client, store.Token{Family: randomToken(""), ClientID: c.ClientID, UserID: c.UserID, Login: c.Login, Scopes: c.Scopes, Resource: c.Resource})
}

const unknownRefresh = "the refresh token is unknown, revoked or expired; sign in again"

// refresh rotates a refresh token: the old one is spent, a second use of
// it revokes every token of its authorization (RFC 9700 §4.14.2). The
// user's Gitea grant is checked with Gitea first, so access revoked at
// Gitea ends here. What can fail for a while (Gitea, the client's
// metadata document) is checked before the token is spent, so a client
// told to retry can.
func (b *Broker) refresh(ctx context.Context, f tokenForm) (*tokenResponse, *oauthError) {
	rt := f.get("refresh_token")
	if !strings.HasPrefix(rt, refreshPrefix) {
		return nil, invalidRequest("refresh_token is required")
	}
	known, err := b.store.FindToken(ctx, store.Hash(rt), b.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, invalidGrant(unknownRefresh)
	case err != nil:
		b.log.Error("cannot look up a refresh token", "err", err)
		return nil, serverError("cannot refresh right now")
	}
	var client store.Client
	if !known.Spent { // a spent one goes straight to reuse detection
		if _, _, err := b.upstream(ctx, known.UserID, true); err != nil {
			return nil, b.upstreamRefusal(ctx, known, err)
		}
		var oerr *oauthError
		if client, oerr = b.tokenClient(ctx, known.ClientID); oerr != nil {
			return nil, oerr
		}
	}
	t, err := b.store.UseRefreshToken(ctx, store.Hash(rt), b.now())
	switch {
	case errors.Is(err, store.ErrReused):
		b.log.Warn("security_event: a refresh token was used twice; its authorization is revoked", "client_id", t.ClientID, "user", t.Login)
		b.verdicts.dropFamily(t.Family)
		b.record(Event{Reason: ReasonRefreshReused, UserID: t.UserID, Login: t.Login, ClientID: t.ClientID})
		return nil, invalidGrant("this refresh token was used before, so every token of this authorization is revoked; sign in again")
	case errors.Is(err, store.ErrNotFound):
		return nil, invalidGrant(unknownRefresh)
	case err != nil:
		b.log.Error("cannot use a refresh token", "err", err)
		return nil, serverError("cannot refresh right now")
	case t.ClientID != f.clientID:
		_ = b.store.RevokeFamily(ctx, t.Family)
		b.verdicts.dropFamily(t.Family)
		return nil, invalidGrant("the refresh token was issued to another client")
	case f.get("resource") != "" && f.get("resource") != t.Resource:
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_target", description: "resource differs from the authorization's"}
	}
	if s := f.get("scope"); s != "" {
		asked, bad := b.requestedScopes(s)
		if bad != "" || !covers(parseScopes(t.Scopes), parseScopes(gitea.ScopeWords(asked))) {
			return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_scope", description: "a refresh can only keep or narrow the scopes granted"}
		}
		t.Scopes = gitea.ScopeWords(asked)
	}
	return b.issueTokens(ctx, client, t)
}

// upstreamRefusal answers a refresh whose Gitea grant cannot be used.
func (b *Broker) upstreamRefusal(ctx context.Context, t store.Token, err error) *oauthError {
	if errors.Is(err, errGrantGone) {
		_ = b.store.RevokeFamily(ctx, t.Family)
		b.verdicts.dropFamily(t.Family)
		return invalidGrant("your access at Gitea has ended (the app was removed or the grant expired); sign in again")
	}
	b.log.Warn("cannot check a Gitea grant", "user", t.Login, "err", err)
	return serverError("cannot reach Gitea to check your access; retry shortly")
}

// tokenClient is the client a token request names; an error that may
// pass (the store, fetching its metadata document) is a 503, so the
// client retries rather than starting over.
func (b *Broker) tokenClient(ctx context.Context, id string) (store.Client, *oauthError) {
	c, err := b.client(ctx, id)
	var derr *clientdoc.Error
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, errUnknownClient), errors.As(err, &derr) && !errors.Is(err, clientdoc.ErrFetch):
		return c, invalidClient("the client is not registered, or its metadata document is not acceptable")
	default:
		b.log.Warn("cannot look up a client", "client_id", id, "err", err)
		return c, serverError("cannot look up the client right now")
	}
}

// issueTokens issues c an access and a refresh token of family t.Family.
func (b *Broker) issueTokens(ctx context.Context, c store.Client, t store.Token) (*tokenResponse, *oauthError) {
	if c.Kind == store.ClientDynamic {
		if err := b.store.TouchClient(ctx, c.ID, b.now().Add(b.regTTL)); err != nil {
			b.log.Warn("cannot extend a client registration", "client_id", c.ID, "err", err)
		}
	}
	now := b.now()
	access, refresh := randomToken(accessTokenPrefix), randomToken(refreshPrefix)
	at, rt := t, t
	at.Hash, at.ExpiresAt = store.Hash(access), now.Add(b.accessTTL)
	rt.Hash, rt.ExpiresAt = store.Hash(refresh), now.Add(b.refreshTTL)
	if err := b.store.CreateAccessToken(ctx, at); err != nil {
		b.log.Error("cannot store an access token", "err", err)
		return nil, serverError("cannot issue tokens right now")
	}
	if err := b.store.CreateRefreshToken(ctx, rt); err != nil {
		b.log.Error("cannot store a refresh token", "err", err)
		return nil, serverError("cannot issue tokens right now")
	}
	return &tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(b.accessTTL / time.Second),
		RefreshToken: refresh, Scope: gitea.JoinScopes(parseScopes(t.Scopes).List())}, nil
}

// serveRevoke is RFC 7009 revocation: an access or refresh token ends its
// whole authorization (every token of its family). The answer is 200
// whether or not the token was known, as the RFC asks.
func (b *Broker) serveRevoke(w http.ResponseWriter, r *http.Request) {
	f, oerr := readForm(w, r)
	if oerr == nil {
		oerr = b.authenticateClient(f)
	}
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	tok := f.get("token")
	if tok == "" {
		writeOAuthError(w, invalidRequest("token is required"))
		return
	}
	t, err := b.store.FindToken(r.Context(), store.Hash(tok), b.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		b.log.Error("cannot look up a token to revoke", "err", err)
		writeOAuthError(w, serverError("cannot revoke right now"))
		return
	case t.ClientID == f.clientID:
		if err := b.store.RevokeFamily(r.Context(), t.Family); err != nil {
			b.log.Error("cannot revoke a token", "err", err)
			writeOAuthError(w, serverError("cannot revoke right now"))
			return
		}
		b.verdicts.dropFamily(t.Family)
		b.log.Info("client revoked its tokens", "client_id", t.ClientID, "user", t.Login)
		b.record(Event{Reason: ReasonRevoked, UserID: t.UserID, Login: t.Login, ClientID: t.ClientID})
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(http.StatusOK)
}
