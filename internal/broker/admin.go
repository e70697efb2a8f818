package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/seal"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

// Admin is what an operator does to the broker's state from the command
// line: list and revoke grants, and re-seal the kept Gitea tokens under
// the primary key. It works on the store directly, so it also works while
// servers run; a revocation holds at once on the next refresh and within
// 30 seconds (the verdict cache) for access tokens.
type Admin struct {
	Store store.Store
	Keys  *seal.Keyring
}

// Grant is one user's consent to one client.
type Grant struct {
	UserID, Login string
	ClientID      string
	ClientName    string
	Scopes        []string
	Since         time.Time
}

// ErrNoSuchUser is a login with no Gitea grant at the broker.
var ErrNoSuchUser = errors.New("no such user at the broker (never signed in, or revoked)")

// Grants lists the consents of the user login, or of every user when
// login is empty, ordered by user and client.
func (a *Admin) Grants(ctx context.Context, login string) ([]Grant, error) {
	users, err := a.users(ctx, login)
	if err != nil {
		return nil, err
	}
	var out []Grant
	for _, u := range users {
		consents, err := a.Store.Consents(ctx, u.UserID)
		if err != nil {
			return nil, err
		}
		for _, c := range consents {
			g := Grant{UserID: u.UserID, Login: u.Login, ClientID: c.ClientID, Scopes: c.Scopes, Since: c.CreatedAt}
			if cl, err := a.Store.Client(ctx, c.ClientID, time.Now()); err == nil {
				g.ClientName = cl.Name
			}
			out = append(out, g)
		}
	}
	return out, nil
}

// RevokeUser ends every client's access for the user login and forgets
// the user's Gitea tokens.
func (a *Admin) RevokeUser(ctx context.Context, login string) error {
	users, err := a.users(ctx, login)
	if err != nil {
		return err
	}
	return a.Store.DeleteUpstream(ctx, users[0].UserID)
}

// RevokeGrant ends one client's access for the user login.
func (a *Admin) RevokeGrant(ctx context.Context, login, clientID string) error {
	users, err := a.users(ctx, login)
	if err != nil {
		return err
	}
	return a.Store.RevokeConsent(ctx, users[0].UserID, clientID)
}

// RevokeClient removes a client and ends its access for every user.
func (a *Admin) RevokeClient(ctx context.Context, clientID string) error {
	return a.Store.DeleteClient(ctx, clientID)
}

// RotateKeys re-seals every kept Gitea token sealed under a key other than
// the primary and returns how many users' grants it re-sealed.
func (a *Admin) RotateKeys(ctx context.Context) (int, error) {
	ups, err := a.Store.Upstreams(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range ups {
		if !a.Keys.NeedsRotation(u.SealedAccess) && !a.Keys.NeedsRotation(u.SealedRefresh) {
			continue
		}
		if u.SealedAccess, err = a.reseal(u.SealedAccess, accessContext(u.UserID)); err != nil {
			return n, fmt.Errorf("user %s: %w", u.Login, err)
		}
		if u.SealedRefresh, err = a.reseal(u.SealedRefresh, refreshContext(u.UserID)); err != nil {
			return n, fmt.Errorf("user %s: %w", u.Login, err)
		}
		if err := a.Store.PutUpstream(ctx, u); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (a *Admin) reseal(sealed, context string) (string, error) {
	plain, err := a.Keys.Open(sealed, context)
	if err != nil {
		return "", err
	}
	return a.Keys.Seal(plain, context)
}

// users returns the grant of the user login, or every grant when login
// is empty.
func (a *Admin) users(ctx context.Context, login string) ([]store.Upstream, error) {
	ups, err := a.Store.Upstreams(ctx)
	if err != nil || login == "" {
		return ups, err
	}
	for _, u := range ups {
		if u.Login == login {
			return []store.Upstream{u}, nil
		}
	}
	return nil, ErrNoSuchUser
}
