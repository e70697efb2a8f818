package config

import (
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Setting is one effective configuration value, ready to print.
type Setting struct {
	Name  string
	Value string
}

// Settings returns the effective configuration in a stable order, with every
// secret shown only as set or not set.
func (c *Config) Settings() []Setting {
	return append(c.settings(), c.Broker.settings()...)
}

// settings of the broker, only when it is on.
func (b *Broker) settings() []Setting {
	if b == nil {
		return []Setting{{"OAUTH_BROKER", "false"}}
	}
	return []Setting{
		{"OAUTH_BROKER", "true"},
		{"BROKER_ENCRYPTION_KEY", secretState(b.EncryptionKey)},
		{"BROKER_DATABASE_URL", secretState(b.DatabaseURL)},
		{"BROKER_DATA_DIR", b.DataDir},
		{"BROKER_ACCESS_TOKEN_TTL_SECONDS", strconv.Itoa(int(b.AccessTTL.Seconds()))},
		{"BROKER_REFRESH_TOKEN_TTL_SECONDS", strconv.Itoa(int(b.RefreshTTL.Seconds()))},
		{"BROKER_REGISTRATION_TTL_SECONDS", strconv.Itoa(int(b.RegistrationTTL.Seconds()))},
		{"BROKER_REGISTRATIONS_PER_MINUTE", strconv.Itoa(b.RegistrationsPerMinute)},
		{"BROKER_CLIENT_METADATA_DOCUMENTS", strconv.FormatBool(b.MetadataDocuments)},
		{"BROKER_ALLOW_PRIVATE_METADATA_URLS", strconv.FormatBool(b.AllowPrivateMetadataURLs)},
		{"BROKER_CLIENTS_FILE", b.ClientsFile},
	}
}

func (c *Config) settings() []Setting {
	return []Setting{
		{"GITEA_URL", urlString(c.GiteaURL)},
		{"OAUTH_MODE", strconv.FormatBool(c.OAuthMode)},
		{"GITEA_OAUTH_CLIENT_ID", c.OAuthClientID},
		{"GITEA_OAUTH_CLIENT_SECRET", secretState(c.OAuthClientSecret)},
		{"OAUTH_EXPECTED_AUDIENCE", c.OAuthExpectedAudience},
		{"GITEA_TOKEN", secretState(c.GiteaToken)},
		{"PUBLIC_BASE_URL", urlString(c.PublicBaseURL)},
		{"LISTEN_ADDR", c.ListenAddr},
		{"LOG_LEVEL", strings.ToLower(c.LogLevel.String())},
		{"LOG_FORMAT", c.LogFormat},
		{"REQUEST_TIMEOUT_SECONDS", strconv.Itoa(int(c.RequestTimeout.Seconds()))},
		{"OAUTH_CACHE_TTL_SECONDS", strconv.Itoa(int(c.TokenCacheTTL.Seconds()))},
		{"OAUTH_CACHE_KEEP_WARM_SECONDS", strconv.Itoa(int(c.TokenKeepWarm.Seconds()))},
		{"OAUTH_RESOURCE_DOCUMENTATION", c.ResourceDocumentation},
		{"OAUTH_ROOT_RESOURCE", c.RootResource},
		{"MCP_STATELESS", strconv.FormatBool(c.Stateless)},
		{"MCP_SESSION_IDLE_TIMEOUT_SECONDS", strconv.Itoa(int(c.SessionIdleTimeout.Seconds()))},
		{"ALLOWED_ORIGINS", strings.Join(c.AllowedOrigins, ",")},
		{"ALLOWED_HOSTS", strings.Join(c.AllowedHosts, ",")},
		{"MAX_REQUEST_BODY_BYTES", strconv.FormatInt(c.MaxRequestBodyBytes, 10)},
		{"ALLOW_NON_LOOPBACK_SHARED_TOKEN", strconv.FormatBool(c.AllowNonLoopbackSharedToken)},
		{"SECRET_MASKING", c.SecretMasking},
		{"MAX_TOOL_OUTPUT_BYTES", strconv.Itoa(c.MaxToolOutputBytes)},
		{"WRITE_MODE", strconv.FormatBool(c.WriteMode)},
		{"WRITE_REPOSITORY_WHITELIST", strings.Join(c.WriteRepositories, ",")},
		{"WRITE_ALLOW_ALL_TOKEN_REPOS", strconv.FormatBool(c.WriteAllowAllTokenRepos)},
		{"CONFIRM_DESTRUCTIVE", strconv.FormatBool(c.ConfirmDestructive)},
		{"TOOLSETS", strings.Join(c.Toolsets, ",")},
		{"MAX_WRITE_BYTES", strconv.Itoa(c.MaxWriteBytes)},
		{"POLICY_FILE_PATH", c.PolicyFile},
		{"AUDIT_LOG_PATH", c.AuditLog},
		{"AUDIT_FSYNC", strconv.FormatBool(c.AuditFsync)},
		{"AUDIT_FAIL_MODE", map[bool]string{true: "open", false: "closed"}[c.AuditFailOpen]},
		{"AUDIT_MAX_BYTES", strconv.FormatInt(c.AuditMaxBytes, 10)},
		{"RATE_LIMIT_PER_MINUTE", strconv.Itoa(c.Limits.CallsPerMinute)},
		{"WRITE_RATE_LIMIT_PER_MINUTE", strconv.Itoa(c.Limits.WritesPerMinute)},
		{"RATE_LIMIT_PER_IP_PER_SECOND", strconv.Itoa(c.Limits.RequestsPerSecond)},
		{"MAX_AUTH_FAILURES", strconv.Itoa(c.Limits.MaxAuthFailures)},
		{"AUTH_FAILURE_WINDOW", strconv.Itoa(int(c.Limits.AuthFailureWindow.Seconds()))},
		{"MAX_CONCURRENT_CALLS_PER_USER", strconv.Itoa(c.Limits.CallsPerUser)},
		{"MAX_CONCURRENT_CALLS", strconv.Itoa(c.Limits.Calls)},
		{"MAX_SESSIONS_PER_USER", strconv.Itoa(c.Limits.SessionsPerUser)},
		{"MAX_SESSIONS", strconv.Itoa(c.Limits.Sessions)},
		{"MAX_STREAMS_PER_USER", strconv.Itoa(c.Limits.StreamsPerUser)},
		{"MAX_STREAMS", strconv.Itoa(c.Limits.Streams)},
		{"TRUSTED_PROXIES", prefixList(c.Limits.TrustedProxies)},
		{"METRICS_ADDR", c.MetricsAddr},
	}
}

func prefixList(ps []netip.Prefix) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return strings.Join(out, ",")
}

// WriteTo prints the effective configuration as NAME=value lines.
func (c *Config) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	if c.EnvFile != "" {
		fmt.Fprintf(&b, "# read %s; the environment overrides it\n", c.EnvFile)
	}
	for _, s := range c.Settings() {
		fmt.Fprintf(&b, "%s=%s\n", s.Name, s.Value)
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func urlString(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.String()
}

func secretState(s Secret) string {
	if s.IsSet() {
		return "(set, redacted)"
	}
	return "(not set)"
}
