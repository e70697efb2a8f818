package config

import (
	"net"
	"strings"
	"time"
)

// Broker configures the OAuth broker: this server as the authorization
// server of its MCP endpoints, with Gitea behind it.
type Broker struct {
	// EncryptionKey seals the users' Gitea tokens at rest: one or more
	// "id:base64" AES-256 keys, the first sealing, all opening.
	EncryptionKey Secret
	// DatabaseURL is a postgres:// URL for state shared by several
	// replicas; empty means SQLite in DataDir.
	DatabaseURL Secret
	// DataDir holds the SQLite database when DatabaseURL is empty.
	DataDir string
	// AccessTTL and RefreshTTL are the lifetimes of the broker's access
	// and refresh tokens.
	AccessTTL, RefreshTTL time.Duration
	// RegistrationTTL is how long an unused dynamic client registration is
	// kept.
	RegistrationTTL time.Duration
	// RegistrationsPerMinute bounds client registrations per address.
	RegistrationsPerMinute int
	// MetadataDocuments accepts Client ID Metadata Documents (an https URL
	// as client_id).
	MetadataDocuments bool
	// AllowPrivateMetadataURLs lets metadata documents live on loopback
	// and private addresses: for tests only.
	AllowPrivateMetadataURLs bool
	// ClientsFile names the operator's static clients (JSON); the server
	// reads and checks it.
	ClientsFile string
}

// broker reads the OAUTH_BROKER settings; nil when the broker is off.
func (l *loader) broker(cfg *Config) *Broker {
	if !l.boolean("OAUTH_BROKER", false) {
		return nil
	}
	b := &Broker{
		EncryptionKey:            l.secret("BROKER_ENCRYPTION_KEY"),
		DatabaseURL:              l.secret("BROKER_DATABASE_URL"),
		AccessTTL:                time.Duration(l.intRange("BROKER_ACCESS_TOKEN_TTL_SECONDS", 900, 60, 86400)) * time.Second,
		RefreshTTL:               time.Duration(l.intRange("BROKER_REFRESH_TOKEN_TTL_SECONDS", 30*86400, 3600, 365*86400)) * time.Second,
		RegistrationTTL:          time.Duration(l.intRange("BROKER_REGISTRATION_TTL_SECONDS", 30*86400, 3600, 365*86400)) * time.Second,
		RegistrationsPerMinute:   l.intRange("BROKER_REGISTRATIONS_PER_MINUTE", 10, 1, 10_000),
		MetadataDocuments:        l.boolean("BROKER_CLIENT_METADATA_DOCUMENTS", true),
		AllowPrivateMetadataURLs: l.boolean("BROKER_ALLOW_PRIVATE_METADATA_URLS", false),
	}
	b.ClientsFile, _ = l.lookup("BROKER_CLIENTS_FILE")
	b.DataDir, _ = l.lookup("BROKER_DATA_DIR")
	if b.DataDir == "" {
		b.DataDir = "data"
	}
	if !b.EncryptionKey.IsSet() && !l.reported("BROKER_ENCRYPTION_KEY") {
		l.problem("BROKER_ENCRYPTION_KEY", "is required when OAUTH_BROKER=true (or BROKER_ENCRYPTION_KEY_FILE): "+
			"a 32-byte key, base64; make one with `aegis-gitea-mcp broker generate-key`")
	}
	if u := b.DatabaseURL.Reveal(); u != "" && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		l.problem("BROKER_DATABASE_URL", "must be a postgres:// URL (leave it empty for SQLite in BROKER_DATA_DIR)")
	}
	if !cfg.OAuthMode {
		l.problem("OAUTH_BROKER", "needs OAUTH_MODE=true: the broker signs users in through the Gitea OAuth app GITEA_OAUTH_CLIENT_ID")
	}
	if u := cfg.PublicBaseURL; u != nil && u.Scheme != "https" && !IsLoopbackAddr(net.JoinHostPort(u.Hostname(), "0")) {
		l.problem("PUBLIC_BASE_URL", "must be https when OAUTH_BROKER=true (cookies and tokens cross it); only a loopback address may use http")
	}
	return b
}
