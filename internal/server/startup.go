package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/auth"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// The reasons /readyz and the startup log give for the faults an operator
// fixes. They are fixed phrases: nothing of Gitea's answers is in them but
// a status code and a version's numbers.
const (
	reasonUnreachable    = "Gitea unreachable (check GITEA_URL and that Gitea is running)"
	reasonNotBaseURL     = "GITEA_URL is not a Gitea base URL (did you include /api/v1?)"
	reasonRedirected     = "GITEA_URL redirects to another address (e.g. http:// to https://): set GITEA_URL to the URL Gitea is served at, its ROOT_URL"
	reasonUntrustedTLS   = "Gitea's TLS certificate is not trusted (check GITEA_URL's host name, or add Gitea's CA to the system's trusted certificates, e.g. with SSL_CERT_FILE)"
	reasonNoDiscovery    = "Gitea serves no OIDC discovery document (is its OAuth2 provider on? [oauth2] ENABLED = true in app.ini)"
	reasonClientRejected = "client credentials rejected (check GITEA_OAUTH_CLIENT_ID and GITEA_OAUTH_CLIENT_SECRET: the client ID and secret of the Gitea OAuth app)"
	reasonTokenRejected  = "token rejected (check GITEA_TOKEN: Gitea does not accept it; it may be expired, revoked or mistyped)"
)

// reasonTooOld is the reason for a Gitea older than OAuth mode needs. It
// shows the version's numbers only, not Gitea's text for it.
func reasonTooOld(v gitea.Version) string {
	return fmt.Sprintf("Gitea too old (found %d.%d.%d, need %d.%d.%d)", v.Major, v.Minor, v.Patch, minGitea.Major, minGitea.Minor, minGitea.Patch)
}

// versionFault is why Gitea's answer to GET /api/v1/version does not do, and
// whether fixing it takes a change of configuration (as opposed to Gitea
// coming back).
func versionFault(err error) (reason string, configuration bool) {
	var apiErr *gitea.APIError
	status := 0
	if errors.As(err, &apiErr) {
		status = apiErr.Status
	}
	switch {
	case untrustedCertificate(err):
		return reasonUntrustedTLS, true
	case status == 0 && errors.Is(err, gitea.ErrBadResponse): // a redirect to another origin, refused
		return reasonRedirected, true
	case status == 0:
		return reasonUnreachable, false
	case errors.Is(err, gitea.ErrNotFound), errors.Is(err, gitea.ErrBadResponse):
		// A 404, or a page that is not Gitea's version answer.
		return reasonNotBaseURL, true
	case errors.Is(err, gitea.ErrUnavailable):
		return fmt.Sprintf("Gitea failing (it answered HTTP %d)", status), false
	}
	return fmt.Sprintf("Gitea refused GET /api/v1/version (HTTP %d)", status), false
}

// untrustedCertificate reports whether err is a failed TLS certificate check.
func untrustedCertificate(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// discoveryFault is why Gitea's OIDC discovery document could not be loaded.
func discoveryFault(err error) (reason string, configuration bool) {
	if errors.Is(err, gitea.ErrNotFound) {
		return reasonNoDiscovery, true
	}
	return "gitea OIDC discovery " + reasonFor(err), false
}

// credentialFault is why Gitea did not confirm this server's credentials:
// the OAuth client's in OAuth mode, GITEA_TOKEN in shared-token mode.
func credentialFault(err error, oauth bool) (reason string, configuration bool) {
	switch {
	case errors.Is(err, gitea.ErrClientCredentials):
		return reasonClientRejected, true
	case !oauth && errors.Is(err, gitea.ErrUnauthorized):
		return reasonTokenRejected, true
	case oauth:
		return "gitea's token introspection " + reasonFor(err), false
	}
	return "gitea could not check GITEA_TOKEN: it " + reasonFor(err), false
}

// credentialRecheck is how long Gitea's acceptance of GITEA_TOKEN is
// trusted before readiness asks again.
const credentialRecheck = time.Minute

// sharedTokenCheck asks Gitea whether it accepts GITEA_TOKEN, reusing an
// acceptance for a minute; a refusal is asked again at the next check.
type sharedTokenCheck struct {
	gitea     *gitea.Endpoint
	principal *auth.Principal // holds the token
	now       func() time.Time

	mu       sync.Mutex
	accepted time.Time
}

func (c *sharedTokenCheck) check(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.accepted.IsZero() && c.now().Sub(c.accepted) < credentialRecheck {
		return nil
	}
	_, err := c.gitea.As(c.principal.Token()).CurrentUser(ctx)
	if errors.Is(err, gitea.ErrForbidden) { // accepted, without read:user
		err = nil
	}
	if err == nil {
		c.accepted = c.now()
	} else {
		c.accepted = time.Time{}
	}
	return err
}

// preflight is [Server.Preflight].
func (s *Server) preflight(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	consequence := "tokens are refused"
	if !s.cfg.OAuthMode {
		consequence = "tool calls fail"
		s.log.Warn("shared-token mode (OAUTH_MODE=false): every caller acts as the owner of GITEA_TOKEN; use it only for a single local user")
		if err := s.identifySharedToken(ctx); err != nil && !errors.Is(err, gitea.ErrUnauthorized) {
			s.log.Warn("cannot learn whose GITEA_TOKEN this is yet; the policy's users rules and the audit log name it shared-token", "reason", reasonFor(err))
		}
	}
	st := s.ready.check(ctx)
	if s.gate != nil {
		if err := s.gate.tooOldError(); err != nil {
			return err
		}
	}
	var detail []any
	if st.cause != nil {
		detail = []any{"error", st.cause.Error()} // an *APIError: the call and its status, never a body or a credential
	}
	switch {
	case st.Ready:
		s.log.Info("startup checks passed: gitea answers and accepts this server's credentials", "gitea_version", st.GiteaVersion, "oauth_mode", s.cfg.OAuthMode)
	case st.configuration:
		s.log.Error("startup check failed: fix the configuration and restart; until then "+consequence, append([]any{"reason", st.Reason}, detail...)...)
	default:
		s.log.Warn("gitea is not ready yet; "+consequence+" until it is", append([]any{"reason", st.Reason}, detail...)...)
	}
	return nil
}

// shut closes the gate for good for a Gitea found older than OAuth mode
// needs, even one that was recent enough before (fail closed).
func (g *versionGate) shut(v gitea.Version) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.tooOld == nil {
		g.log.Error("OAuth mode refused: Gitea is older than 1.27.0, whose introspection would accept other apps' tokens", "gitea_version", v.String())
	}
	g.ok, g.tooOld = false, &v
}

// tooOldErr is the startup error for a Gitea too old for OAuth mode.
func tooOldErr(v gitea.Version) error {
	return errors.New(reasonTooOld(v) + ": OAuth mode needs Gitea 1.27.0 or newer, whose token introspection answers only for this app's tokens; upgrade Gitea")
}

// stdioTokenError is why stdio cannot start with GITEA_TOKEN: a rejected
// token is a configuration problem, anything else a runtime one.
func stdioTokenError(err error) error {
	if errors.Is(err, gitea.ErrUnauthorized) {
		return &config.Error{Problems: []config.Problem{{Var: "GITEA_TOKEN",
			Message: "Gitea rejected the token: create a personal access token in Gitea (Settings > Applications) and set it here"}}}
	}
	return fmt.Errorf("checking GITEA_TOKEN with gitea: %w", err)
}

// errStdioNeedsSharedToken is stdio's refusal in OAuth mode.
var errStdioNeedsSharedToken = &config.Error{Problems: []config.Problem{{Var: "OAUTH_MODE",
	Message: "stdio needs OAUTH_MODE=false and a personal access token in GITEA_TOKEN: a local client cannot do the OAuth flow"}}}

// listenError words a failure to listen on addr, the value of the
// variable name (and of the flag, when there is one). The common causes
// are configuration problems naming the variable.
func listenError(name, flag, addr string, err error) error {
	where := name
	if flag != "" {
		where = name + " or " + flag
	}
	var why string
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		why = fmt.Sprintf("%s is already in use (bind: address already in use): stop what listens there, or choose another address with %s", addr, where)
	case errors.Is(err, syscall.EACCES):
		why = fmt.Sprintf("no permission to listen on %s (ports below 1024 need privileges): choose another port with %s", addr, where)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		why = fmt.Sprintf("%s is not an address of this machine: choose another with %s", addr, where)
	default:
		return fmt.Errorf("listen on %s (%s): %w", addr, where, err)
	}
	return &config.Error{Problems: []config.Problem{{Var: name, Message: why}}}
}
