package server

import (
	"context"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/broker"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/clientdoc"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/limits"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/seal"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store/sqlstore"
)

// brokerSweepInterval is how often expired broker rows are deleted.
const brokerSweepInterval = 10 * time.Minute

// openBroker opens the broker's key ring and store and builds the broker
// for this server's endpoints and scopes; roots (nil: the system's) are
// trusted for the Client ID Metadata Document fetches.
func (s *Server) openBroker(now func() time.Time, roots *x509.CertPool) error {
	bc := s.cfg.Broker
	keys, err := seal.ParseKeyring(bc.EncryptionKey.Reveal())
	if err != nil {
		return &config.Error{Problems: []config.Problem{{Var: "BROKER_ENCRYPTION_KEY", Message: err.Error()}}}
	}
	static, err := staticClients(bc.ClientsFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := openBrokerStore(ctx, bc)
	if err != nil {
		return err
	}
	var docs *clientdoc.Fetcher
	if bc.MetadataDocuments {
		docs = clientdoc.New(clientdoc.Options{AllowPrivate: bc.AllowPrivateMetadataURLs, Now: now, RootCAs: roots})
	}
	// Any of the MCP endpoints, or the server itself; /mcp (first) is the
	// one named in error texts.
	var resources []string
	for _, p := range protectedPaths {
		resources = append(resources, s.publicURL(p))
	}
	resources = append(resources, s.publicURL(""))
	b, err := broker.New(broker.Options{
		Store:                  st,
		Keys:                   keys,
		Documents:              docs,
		Gitea:                  s.gitea,
		GiteaClientID:          s.cfg.OAuthClientID,
		GiteaClientSecret:      s.cfg.OAuthClientSecret.Reveal(),
		Issuer:                 s.publicURL(""),
		Resources:              resources,
		Scopes:                 s.scopes,
		AccessTTL:              bc.AccessTTL,
		RefreshTTL:             bc.RefreshTTL,
		RegistrationTTL:        bc.RegistrationTTL,
		RegistrationsPerMinute: bc.RegistrationsPerMinute,
		StaticClients:          static,
		Audit:                  s.recordBrokerEvent,
		ClientAddr:             s.addressKey,
		Now:                    now,
		Logger:                 s.log.With("component", "broker"),
	})
	if err != nil {
		_ = st.Close()
		return err
	}
	s.broker, s.brokerStore = b, st
	// Only the broker's own tokens: a Gitea token a client sends is refused,
	// and calls run with the Gitea token the broker keeps for the user.
	s.authn = &bearerAuthenticator{verify: b.Verify, trusted: b.Trusted, gate: s.gate}
	return nil
}

// addressLimited applies the per-address request limit
// (RATE_LIMIT_PER_IP_PER_SECOND) of the MCP endpoints to a broker endpoint.
func (s *Server) addressLimited(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ref := s.requestsPerAddress(s.addressKey(r)); ref != nil {
			writeLimited(w, ref)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// addressKey is the limits key of the address r comes from, as
// TRUSTED_PROXIES let it be named.
func (s *Server) addressKey(r *http.Request) string {
	return limits.Key(limits.ClientAddr(r, s.cfg.Limits.TrustedProxies))
}

// recordBrokerEvent puts a broker event in the audit log (when there is
// one) as a security_event naming the user and the client.
func (s *Server) recordBrokerEvent(e broker.Event) {
	if s.audit == nil {
		return
	}
	uid, _ := strconv.ParseInt(e.UserID, 10, 64)
	ev := audit.Event{Kind: audit.KindSecurityEvent, Reason: e.Reason, Caller: audit.Caller{UserID: uid, Login: e.Login, ClientID: e.ClientID}}
	if _, err := s.audit.Record(ev, s.cfg.AuditFsync); err != nil {
		s.log.Error("cannot write a broker event to the audit log", "reason", e.Reason, "err", err)
	}
}

// staticClients reads BROKER_CLIENTS_FILE, when set.
func staticClients(path string) ([]broker.StaticClient, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path) // #nosec G304 -- the operator names the file
	if err != nil {
		return nil, &config.Error{Problems: []config.Problem{{Var: "BROKER_CLIENTS_FILE", Message: "cannot open: " + err.Error()}}}
	}
	defer func() { _ = f.Close() }()
	clients, err := broker.ParseStaticClients(f)
	if err != nil {
		return nil, &config.Error{Problems: []config.Problem{{Var: "BROKER_CLIENTS_FILE", Message: err.Error()}}}
	}
	return clients, nil
}

// openBrokerStore opens PostgreSQL when BROKER_DATABASE_URL is set, else
// SQLite in BROKER_DATA_DIR (created 0700).
func openBrokerStore(ctx context.Context, bc *config.Broker) (store.Store, error) {
	if u := bc.DatabaseURL.Reveal(); u != "" {
		st, err := sqlstore.OpenPostgres(ctx, u, sqlstore.Options{})
		if err != nil {
			return nil, &config.Error{Problems: []config.Problem{{Var: "BROKER_DATABASE_URL", Message: "cannot open the database: " + err.Error()}}}
		}
		return st, nil
	}
	if err := os.MkdirAll(bc.DataDir, 0o700); err != nil {
		return nil, &config.Error{Problems: []config.Problem{{Var: "BROKER_DATA_DIR", Message: "cannot create the directory: " + err.Error()}}}
	}
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(bc.DataDir, "broker.db"), sqlstore.Options{})
	if err != nil {
		return nil, &config.Error{Problems: []config.Problem{{Var: "BROKER_DATA_DIR", Message: "cannot open the broker database: " + err.Error()}}}
	}
	return st, nil
}

// sweepBroker deletes expired broker rows until ctx is done.
func (s *Server) sweepBroker(ctx context.Context) {
	t := time.NewTicker(brokerSweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := s.brokerStore.DeleteExpired(ctx, time.Now())
			if err != nil {
				s.log.Warn("cannot delete expired broker rows", "err", err)
			} else if n > 0 {
				s.log.Debug("expired broker rows deleted", "rows", n)
			}
		}
	}
}

// OpenBrokerAdmin opens the broker's store and key ring for the command
// line's broker subcommands; close the returned store when done. It needs
// OAUTH_BROKER=true in cfg.
func OpenBrokerAdmin(ctx context.Context, cfg *config.Config) (*broker.Admin, error) {
	if cfg.Broker == nil {
		return nil, &config.Error{Problems: []config.Problem{{Var: "OAUTH_BROKER", Message: "is not true: there is no broker state to manage"}}}
	}
	keys, err := seal.ParseKeyring(cfg.Broker.EncryptionKey.Reveal())
	if err != nil {
		return nil, &config.Error{Problems: []config.Problem{{Var: "BROKER_ENCRYPTION_KEY", Message: err.Error()}}}
	}
	st, err := openBrokerStore(ctx, cfg.Broker)
	if err != nil {
		return nil, err
	}
	return &broker.Admin{Store: st, Keys: keys}, nil
}
