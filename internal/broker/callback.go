package broker

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

// serveCallback is where Gitea sends the browser back after sign-in. It
// checks that the same browser comes back with the state it left with,
// trades Gitea's code for the user's Gitea tokens (kept here, sealed),
// learns from introspection who the user is and what the grant holds, and
// then asks for the user's consent to the client unless it was given
// before for these scopes.
func (b *Broker) serveCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	req, ok := b.pendingRequest(w, r, store.Hash(q.Get("state")))
	if !ok {
		return
	}
	if req.UserID != "" {
		showError(w, http.StatusBadRequest, "This sign-in has already come back from Gitea. Start again from the application.")
		return
	}
	if q.Get("error") != "" || q.Get("code") == "" {
		b.finish(w, r, req, func(req store.AuthRequest) {
			b.redirectError(w, r, req.RedirectURI, req.State, "access_denied", "the user did not sign in at Gitea or declined there")
		})
		return
	}
	up, err := b.signIn(ctx, req, q.Get("code"))
	if err != nil {
		b.log.Warn("a Gitea sign-in failed", "client_id", req.ClientID, "err", err)
		b.finish(w, r, req, func(store.AuthRequest) {
			showError(w, http.StatusBadGateway, "Gitea did not complete the sign-in. Start again from the application.")
		})
		return
	}
	req.UserID, req.Login = up.UserID, up.Login
	granted, _ := grantable(req, up)
	if len(granted.List()) == 0 {
		b.finish(w, r, req, func(req store.AuthRequest) {
			b.redirectError(w, r, req.RedirectURI, req.State, "invalid_scope",
				"your Gitea grant to this server holds none of the scopes asked for; remove the app in Gitea's settings (Applications) and sign in again")
		})
		return
	}
	if c, err := b.store.Consent(ctx, req.UserID, req.ClientID); err == nil && covers(parseScopes(c.Scopes), granted) {
		b.issueCode(w, r, req, granted)
		return
	}
	if err := b.store.UpdateAuthRequest(ctx, req); err != nil {
		b.storeFailed(w, "cannot save a sign-in", err)
		return
	}
	http.Redirect(w, r, b.url(PathConsent)+"?"+url.Values{"request": {req.ID}}.Encode(), http.StatusSeeOther)
}

// signIn trades Gitea's code for the user's tokens, asks Gitea's
// introspection who the user is and which scopes the grant holds, and
// stores the grant, sealed.
func (b *Broker) signIn(ctx context.Context, req store.AuthRequest, code string) (store.Upstream, error) {
	verifier, err := b.keys.Open(req.GiteaVerifier, verifierContext(req.ID))
	if err != nil {
		return store.Upstream{}, err
	}
	tokens, err := b.gitea.ExchangeCode(ctx, b.giteaID, b.giteaSecret, code, verifier, b.url(PathCallback))
	if err != nil {
		return store.Upstream{}, err
	}
	return b.saveUpstream(ctx, tokens, "")
}

// errGrantGone means Gitea no longer honours the user's grant.
var errGrantGone = errors.New("the Gitea grant is no longer active")

// saveUpstream introspects fresh Gitea tokens and stores them, sealed, as
// the user's grant. wantUser, when set, is the user they must belong to.
func (b *Broker) saveUpstream(ctx context.Context, tokens *gitea.Tokens, wantUser string) (store.Upstream, error) {
	in, err := b.gitea.Introspect(ctx, b.giteaID, b.giteaSecret, tokens.AccessToken)
	switch {
	case err != nil:
		return store.Upstream{}, err
	case !in.Active || !in.Audience.Contains(b.giteaID) || in.Subject == "" || in.Username == "":
		return store.Upstream{}, errGrantGone
	case wantUser != "" && in.Subject != wantUser:
		return store.Upstream{}, errors.New("gitea answered for another user")
	}
	grant := gitea.ParseGrant(in.Scope)
	if grant.AllAccess {
		return store.Upstream{}, errors.New("the Gitea grant has unrestricted access; refused")
	}
	now := b.now()
	up := store.Upstream{UserID: in.Subject, Login: in.Username, Scopes: gitea.ScopeWords(grant.Scopes.List()), UpdatedAt: now,
		AccessExpiry: now.Add(time.Duration(tokens.ExpiresIn) * time.Second)}
	if up.SealedAccess, err = b.keys.Seal(tokens.AccessToken, accessContext(up.UserID)); err != nil {
		return store.Upstream{}, err
	}
	if up.SealedRefresh, err = b.keys.Seal(tokens.RefreshToken, refreshContext(up.UserID)); err != nil {
		return store.Upstream{}, err
	}
	if err := b.store.PutUpstream(ctx, up); err != nil {
		return store.Upstream{}, err
	}
	return up, nil
}

func accessContext(userID string) string  { return "gitea-access|" + userID }
func refreshContext(userID string) string { return "gitea-refresh|" + userID }

// pendingRequest returns the authorization in progress with id, answering
// the browser itself when there is none or it is another browser's.
func (b *Broker) pendingRequest(w http.ResponseWriter, r *http.Request, id string) (store.AuthRequest, bool) {
	req, err := b.store.AuthRequest(r.Context(), id, b.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		showError(w, http.StatusBadRequest, "This sign-in is unknown, finished or older than 10 minutes. Start again from the application.")
		return req, false
	case err != nil:
		b.storeFailed(w, "cannot read a sign-in", err)
		return req, false
	case !b.boundBrowser(r, req):
		showError(w, http.StatusForbidden, "This sign-in was started in another browser (or its cookie is gone). Start again from the application, in this browser.")
		return req, false
	}
	return req, true
}

// finish ends the authorization req for good (it is taken from the store,
// so it cannot be finished twice) and then answers with then.
func (b *Broker) finish(w http.ResponseWriter, r *http.Request, req store.AuthRequest, then func(store.AuthRequest)) {
	taken, err := b.store.TakeAuthRequest(r.Context(), req.ID, b.now())
	if err != nil {
		showError(w, http.StatusBadRequest, "This sign-in is finished already. Start again from the application.")
		return
	}
	b.clearBindingCookie(w, req.ID)
	then(taken)
}

// grantable splits what req asks for into the scopes the user's Gitea
// grant up holds, which a client may be given, and those it lacks: a grant
// made before this server's scopes grew keeps its first scopes at Gitea.
func grantable(req store.AuthRequest, up store.Upstream) (granted gitea.ScopeSet, missing []gitea.Scope) {
	asked, held := parseScopes(req.Scopes), parseScopes(up.Scopes)
	return asked.Intersect(held), lacking(held, asked)
}

// issueCode finishes req with a single-use code for the scopes granted,
// sent to the client.
func (b *Broker) issueCode(w http.ResponseWriter, r *http.Request, req store.AuthRequest, granted gitea.ScopeSet) {
	req.Scopes = gitea.ScopeWords(granted.List())
	code := randomToken(codePrefix)
	b.finish(w, r, req, func(taken store.AuthRequest) {
		err := b.store.CreateAuthCode(r.Context(), store.AuthCode{
			Hash: store.Hash(code), ClientID: req.ClientID, RedirectURI: req.RedirectURI, CodeChallenge: req.CodeChallenge,
			UserID: req.UserID, Login: req.Login, Scopes: req.Scopes, Resource: req.Resource, ExpiresAt: b.now().Add(codeTTL),
		})
		if err != nil {
			b.log.Error("cannot store an authorization code", "err", err)
			b.redirectError(w, r, req.RedirectURI, req.State, "temporarily_unavailable", "cannot finish the authorization right now; retry")
			return
		}
		b.log.Info("client authorized", "user", req.Login, "client_id", req.ClientID, "scopes", req.Scopes)
		b.record(Event{Reason: ReasonAuthorized, UserID: req.UserID, Login: req.Login, ClientID: req.ClientID})
		q := url.Values{"code": {code}, "iss": {b.issuer}}
		if taken.State != "" {
			q.Set("state", taken.State)
		}
		// The redirect URI is one the client registered (checked at /authorize).
		http.Redirect(w, r, withQuery(req.RedirectURI, q), http.StatusSeeOther) //nolint:gosec // G710: see above
	})
}

func (b *Broker) storeFailed(w http.ResponseWriter, what string, err error) {
	b.log.Error(what, "err", err)
	showError(w, http.StatusServiceUnavailable, "The server cannot finish this sign-in right now. Retry shortly.")
}

func parseScopes(words []string) gitea.ScopeSet {
	return gitea.ParseGrant(strings.Join(words, " ")).Scopes
}

// covers reports whether have grants everything in want.
func covers(have, want gitea.ScopeSet) bool { return len(lacking(have, want)) == 0 }

// lacking lists the scopes of want that have does not grant.
func lacking(have, want gitea.ScopeSet) []gitea.Scope {
	var out []gitea.Scope
	for _, sc := range want.List() {
		if !have.Has(sc) {
			out = append(out, sc)
		}
	}
	return out
}

// equalHashes compares two hex hashes in constant time.
func equalHashes(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
