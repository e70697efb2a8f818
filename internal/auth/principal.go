package auth

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// Principal is a verified caller: a Gitea user, the scopes its token holds,
// and the token itself, which is only ever sent back to Gitea. It prints and
// logs without the token. A Principal is immutable and may be shared.
type Principal struct {
	// UserID is the Gitea user's numeric id, as a string; sessions are bound to it.
	UserID string
	// Login is the Gitea user name.
	Login string
	// Scopes are the token's Gitea scopes.
	Scopes gitea.ScopeSet
	// Expires is when the token stops being valid; zero when unknown (a
	// personal access token).
	Expires time.Time
	// token sits behind a pointer so that printing a Principal value, where
	// Format is not called, shows an address rather than the token.
	token *secret
}

type secret struct{ value string }

// NewPrincipal returns a Principal for a token verified by other means,
// such as the shared personal access token of OAuth-less mode.
func NewPrincipal(userID, login string, scopes gitea.ScopeSet, token string) *Principal {
	return &Principal{UserID: userID, Login: login, Scopes: scopes, token: &secret{token}}
}

// Token returns the caller's token, to be sent to Gitea and nowhere else.
func (p *Principal) Token() string {
	if p == nil || p.token == nil {
		return ""
	}
	return p.token.value
}

// LogValue logs a principal as its user only.
func (p *Principal) LogValue() slog.Value {
	if p == nil {
		return slog.StringValue("<none>")
	}
	return slog.GroupValue(slog.String("user", p.Login), slog.String("user_id", p.UserID))
}

// Format prints a principal without its token, whatever the verb.
func (p *Principal) Format(f fmt.State, _ rune) {
	if p == nil {
		_, _ = fmt.Fprint(f, "auth.Principal(nil)")
		return
	}
	_, _ = fmt.Fprintf(f, "auth.Principal{%s (%s)}", p.Login, p.UserID)
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the request's verified caller, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
