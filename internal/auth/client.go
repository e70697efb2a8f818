package auth

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// clientRecheck is how long Gitea's acceptance of this server's OAuth
// client credentials is trusted before [Verifier.CheckClient] asks again.
const clientRecheck = time.Minute

// clientState is what Gitea last said of this server's OAuth client
// credentials, from a probe or from a real introspection.
type clientState struct {
	mu       sync.Mutex
	accepted time.Time // when Gitea last accepted them; zero: not since the last refusal
}

func (c *clientState) record(accepted bool, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if accepted {
		c.accepted = now
	} else {
		c.accepted = time.Time{}
	}
}

func (c *clientState) acceptedSince(t time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.accepted.IsZero() && c.accepted.After(t)
}

// CheckClient reports whether Gitea accepts this server's OAuth client
// credentials (GITEA_OAUTH_CLIENT_ID and GITEA_OAUTH_CLIENT_SECRET): nil
// when it does, an error wrapping [gitea.ErrClientCredentials] when it
// refuses them, and another error when it cannot be asked. Gitea's answer to
// a real introspection counts too: an acceptance within the last minute is
// reused; otherwise Gitea is asked with a probe that carries no user's token
// ([gitea.Endpoint.ProbeClient]).
func (v *Verifier) CheckClient(ctx context.Context) error {
	if v.client.acceptedSince(v.now().Add(-clientRecheck)) {
		return nil
	}
	err := v.gitea.ProbeClient(ctx, v.clientID, v.clientSecret)
	switch {
	case err == nil:
		v.client.record(true, v.now())
	case errors.Is(err, gitea.ErrClientCredentials):
		v.client.record(false, v.now())
	}
	return err
}
