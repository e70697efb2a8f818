package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultListenAddr is where the server listens unless told otherwise:
// loopback, so a fresh install is never reachable from the network.
const DefaultListenAddr = "127.0.0.1:8080"

// DefaultEnvFile is read when it exists and no --env-file flag names another.
const DefaultEnvFile = ".env"

// Config is the validated, effective configuration.
type Config struct {
	// GiteaURL is the base URL of the Gitea instance, without a trailing slash.
	GiteaURL *url.URL
	// OAuthMode makes every call run with the signed-in user's OAuth token.
	// When false the server uses the shared personal access token GiteaToken.
	OAuthMode bool
	// OAuthClientID and OAuthClientSecret are the Gitea OAuth application's
	// credentials, used for token introspection.
	OAuthClientID     string
	OAuthClientSecret Secret
	// OAuthExpectedAudience is the audience a token must have been issued
	// for; it defaults to OAuthClientID.
	OAuthExpectedAudience string
	// GiteaToken is the shared personal access token used when OAuthMode is off.
	GiteaToken Secret
	// PublicBaseURL is the URL clients reach this server at.
	PublicBaseURL *url.URL
	// ListenAddr is the host:port the HTTP server listens on.
	ListenAddr string
	// LogLevel and LogFormat ("json" or "text") shape the structured logs.
	LogLevel  slog.Level
	LogFormat string
	// RequestTimeout bounds each call to Gitea.
	RequestTimeout time.Duration
	// TokenCacheTTL bounds how long a verified token is trusted without
	// asking Gitea again; it is how long a revoked grant may still work.
	TokenCacheTTL time.Duration
	// TokenKeepWarm is how long after its last use a token's verdict is
	// refreshed in the background before it expires (0: never), so that a
	// caller who calls less often than TokenCacheTTL does not wait for
	// Gitea's introspection. It does not lengthen the revocation window.
	TokenKeepWarm time.Duration
	// ResourceDocumentation is a URL published in the OAuth resource metadata.
	ResourceDocumentation string
	// RootResource overrides "resource" in the root metadata document.
	RootResource string
	// Stateless serves Streamable HTTP without sessions, for several replicas.
	Stateless bool
	// SessionIdleTimeout closes Streamable HTTP sessions idle this long.
	SessionIdleTimeout time.Duration
	// AllowedOrigins are browser origins allowed besides PUBLIC_BASE_URL's.
	AllowedOrigins []string
	// AllowedHosts are Host header values allowed besides PUBLIC_BASE_URL's
	// host and loopback names.
	AllowedHosts []string
	// MaxRequestBodyBytes bounds a request body on the MCP endpoints.
	MaxRequestBodyBytes int64
	// SecretMasking is what to do with secrets in returned file content:
	// "mask", "block" or "off".
	SecretMasking string
	// MaxToolOutputBytes is the byte budget of one tool result.
	MaxToolOutputBytes int
	// WriteMode offers the tools that change data. Off, they are neither
	// listed nor run.
	WriteMode bool
	// WriteRepositories are the repositories write tools may change, as
	// "owner/repo" or "owner/*" patterns.
	WriteRepositories []string
	// WriteAllowAllTokenRepos lets write tools change any repository the
	// caller's own Gitea permissions allow, instead of WriteRepositories.
	WriteAllowAllTokenRepos bool
	// ConfirmDestructive asks the human, through the MCP client, before every
	// destructive call; clients that cannot ask are not offered such tools.
	ConfirmDestructive bool
	// Toolsets are the tool areas this server offers; empty means all. The
	// server checks the names.
	Toolsets []string
	// MaxWriteBytes bounds the arguments of one write call.
	MaxWriteBytes int
	// PolicyFile is the YAML policy file that narrows what tools may touch;
	// empty means the built-in default (everything the other gates allow).
	PolicyFile string
	// AuditLog is where the audit log is written: a file path, "-" for
	// standard output, or empty for no audit log.
	AuditLog string
	// AuditFsync makes a write's intent record durable before the write is
	// sent to Gitea.
	AuditFsync bool
	// AuditFailOpen lets reads go on when the audit log cannot be written;
	// writes are refused then whatever it says.
	AuditFailOpen bool
	// AuditMaxBytes rotates the audit log file past this size; 0 never.
	AuditMaxBytes int64
	// AllowNonLoopbackSharedToken lets the shared-token mode listen on a
	// non-loopback address.
	AllowNonLoopbackSharedToken bool
	// Broker configures the OAuth broker (OAUTH_BROKER=true); nil when off.
	Broker *Broker
	// Limits bound what one user, one address and everyone together may use.
	Limits Limits
	// MetricsAddr is where /metrics is served (Prometheus text format), on
	// a listener of its own; empty means no metrics.
	MetricsAddr string
	// EnvFile is the .env file that was read, or "" when none was.
	EnvFile string
	// Warnings name the variables of the .env file that look meant for
	// this server but are not read by it (a misspelling, an old name); the
	// caller logs them.
	Warnings []Problem
}

// Limits are the server's resource and rate limits. A zero count turns
// that limit off.
type Limits struct {
	// CallsPerMinute is each user's budget of tool calls a minute, and
	// WritesPerMinute the smaller part of it writes may take.
	CallsPerMinute, WritesPerMinute int
	// RequestsPerSecond is each client address's budget of requests a
	// second to the MCP endpoints, before authentication.
	RequestsPerSecond int
	// MaxAuthFailures failed authentications within AuthFailureWindow
	// shut an address out of new sign-ins for the rest of the window.
	MaxAuthFailures   int
	AuthFailureWindow time.Duration
	// Calls, Sessions and Streams in flight or open at once, per user and
	// in total: tool calls running, Streamable HTTP sessions, and
	// long-lived event streams (GET /mcp and /mcp/sse).
	CallsPerUser, Calls       int
	SessionsPerUser, Sessions int
	StreamsPerUser, Streams   int
	// TrustedProxies may name the client address in X-Forwarded-For or
	// Forwarded; nobody else's headers are believed.
	TrustedProxies []netip.Prefix
}

// Problem is one invalid or missing configuration variable.
type Problem struct {
	Var     string // the variable or flag at fault, e.g. "GITEA_URL"
	Message string // what is wrong and what it expects; never the value of a secret
}

// Error lists every configuration problem found, so that one run shows them
// all, and the warnings about the .env file, which may explain them (a
// misspelt required variable).
type Error struct {
	Problems []Problem
	Warnings []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Var, p.Message)
	}
	for _, p := range e.Warnings {
		fmt.Fprintf(&b, "\n  warning: %s: %s", p.Var, p.Message)
	}
	return b.String()
}

// ErrUsage marks a command-line usage error; the flag package has already
// printed what was wrong.
var ErrUsage = errors.New("usage error")

// Load builds the configuration from command-line flags (args, without the
// program or subcommand name), the process environment (environ, as from
// [os.Environ]) and the .env file. A bad configuration is reported as an
// [*Error] naming every problem.
func Load(args, environ []string, stderr io.Writer) (*Config, error) {
	fs := flag.NewFlagSet("aegis-gitea-mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // the command prints its own usage, once
	envFile := fs.String("env-file", "", "read variables from this file instead of ./"+DefaultEnvFile)
	listen := fs.String("listen", "", "listen address, host:port (overrides LISTEN_ADDR)")
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected argument %q\n", fs.Arg(0))
		return nil, ErrUsage
	}

	l := &loader{env: environToMap(environ)}
	l.readEnvFile(*envFile)
	if *listen != "" {
		l.env["LISTEN_ADDR"] = *listen
	}
	cfg := l.build()
	if len(l.problems) > 0 {
		return nil, &Error{Problems: l.problems, Warnings: l.unknownFileVars()}
	}
	cfg.Warnings = l.unknownFileVars()
	return cfg, nil
}

type loader struct {
	env      map[string]string // process environment, which wins
	file     map[string]string // the .env file
	fileName string
	problems []Problem
	known    map[string]bool // every name looked up
}

func environToMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

func (l *loader) problem(name, format string, args ...any) {
	l.problems = append(l.problems, Problem{Var: name, Message: fmt.Sprintf(format, args...)})
}

// reported reports whether a problem was already recorded for the secret
// name or its _FILE variant, so a bad file is not also called missing.
func (l *loader) reported(name string) bool {
	for _, p := range l.problems {
		if p.Var == name || p.Var == name+"_FILE" {
			return true
		}
	}
	return false
}

// readEnvFile reads the named file, or ./.env when name is empty and that
// file exists. A named file that is missing is a problem; a missing default is not.
func (l *loader) readEnvFile(name string) {
	explicit := name != ""
	if !explicit {
		name = DefaultEnvFile
	}
	f, err := os.Open(name) // #nosec G304 -- the operator names the file
	if err != nil {
		if explicit || !errors.Is(err, os.ErrNotExist) {
			l.problem("--env-file", "cannot open %s: %v", name, errors.Unwrap(err))
		}
		return
	}
	defer func() { _ = f.Close() }()
	vars, err := parseDotenv(f)
	if err != nil {
		l.problem("--env-file", "%s: %v", name, err)
		return
	}
	l.file, l.fileName = vars, name
}

// lookup returns a variable's value from the environment or else the .env
// file; an empty value counts as unset.
func (l *loader) lookup(name string) (string, bool) {
	if l.known == nil {
		l.known = map[string]bool{}
	}
	l.known[name] = true
	if v, ok := l.env[name]; ok && v != "" {
		return v, true
	}
	if v, ok := l.file[name]; ok && v != "" {
		return v, true
	}
	return "", false
}

func (l *loader) build() *Config {
	cfg := &Config{EnvFile: l.fileName}
	cfg.GiteaURL = l.baseURL("GITEA_URL", true, "the base URL of your Gitea, e.g. https://gitea.example.com")
	cfg.OAuthMode = l.boolean("OAUTH_MODE", true)
	cfg.OAuthClientID, _ = l.lookup("GITEA_OAUTH_CLIENT_ID")
	cfg.OAuthClientSecret = l.secret("GITEA_OAUTH_CLIENT_SECRET")
	cfg.OAuthExpectedAudience, _ = l.lookup("OAUTH_EXPECTED_AUDIENCE")
	cfg.GiteaToken = l.secret("GITEA_TOKEN")
	if cfg.OAuthMode {
		if cfg.OAuthClientID == "" {
			l.problem("GITEA_OAUTH_CLIENT_ID", "is required when OAUTH_MODE=true: the client ID of the Gitea OAuth application")
		}
		if !cfg.OAuthClientSecret.IsSet() && !l.reported("GITEA_OAUTH_CLIENT_SECRET") {
			l.problem("GITEA_OAUTH_CLIENT_SECRET", "is required when OAUTH_MODE=true (or GITEA_OAUTH_CLIENT_SECRET_FILE): the Gitea OAuth application's client secret")
		}
		if cfg.OAuthExpectedAudience == "" {
			cfg.OAuthExpectedAudience = cfg.OAuthClientID
		}
	} else if !cfg.GiteaToken.IsSet() && !l.reported("GITEA_TOKEN") {
		l.problem("GITEA_TOKEN", "is required when OAUTH_MODE=false (or GITEA_TOKEN_FILE): a Gitea personal access token")
	}

	cfg.ListenAddr = l.listenAddr()
	cfg.PublicBaseURL = l.baseURL("PUBLIC_BASE_URL", false, "the URL clients reach this server at, e.g. https://mcp.example.com")
	if cfg.PublicBaseURL == nil && cfg.ListenAddr != "" {
		if !IsLoopbackAddr(cfg.ListenAddr) {
			// Clients must be told a real URL: "http://0.0.0.0:8080" is none.
			l.problem("PUBLIC_BASE_URL", "is required when LISTEN_ADDR is not a loopback address: the URL clients reach this server at, e.g. https://mcp.example.com")
		}
		cfg.PublicBaseURL = &url.URL{Scheme: "http", Host: cfg.ListenAddr}
	}
	cfg.LogLevel = l.logLevel()
	cfg.LogFormat = l.oneOf("LOG_FORMAT", "json", "json", "text")
	cfg.RequestTimeout = time.Duration(l.intRange("REQUEST_TIMEOUT_SECONDS", 30, 1, 600)) * time.Second
	cfg.TokenCacheTTL = time.Duration(l.intRange("OAUTH_CACHE_TTL_SECONDS", 60, 1, 3600)) * time.Second
	cfg.TokenKeepWarm = time.Duration(l.intRange("OAUTH_CACHE_KEEP_WARM_SECONDS", 600, 0, 86400)) * time.Second
	if u := l.baseURL("OAUTH_RESOURCE_DOCUMENTATION", false, "a documentation URL"); u != nil {
		cfg.ResourceDocumentation = u.String()
	}
	if u := l.baseURL("OAUTH_ROOT_RESOURCE", false, "the resource URL to publish in the root metadata document"); u != nil {
		cfg.RootResource = u.String()
	}
	cfg.Stateless = l.boolean("MCP_STATELESS", false)
	cfg.SessionIdleTimeout = time.Duration(l.intRange("MCP_SESSION_IDLE_TIMEOUT_SECONDS", 1800, 10, 86400)) * time.Second
	cfg.AllowedOrigins = l.origins("ALLOWED_ORIGINS")
	cfg.AllowedHosts = l.list("ALLOWED_HOSTS")
	cfg.MaxRequestBodyBytes = int64(l.intRange("MAX_REQUEST_BODY_BYTES", 1<<20, 1<<10, 16<<20))
	cfg.AllowNonLoopbackSharedToken = l.boolean("ALLOW_NON_LOOPBACK_SHARED_TOKEN", false)
	l.alias("SECRET_MASKING", "SECRET_DETECTION_MODE")
	cfg.SecretMasking = l.oneOf("SECRET_MASKING", "mask", "mask", "block", "off")
	cfg.MaxToolOutputBytes = l.intRange("MAX_TOOL_OUTPUT_BYTES", 64<<10, 4<<10, 1<<20)
	l.writeGates(cfg)
	cfg.PolicyFile, _ = l.lookup("POLICY_FILE_PATH")
	cfg.AuditLog, _ = l.lookup("AUDIT_LOG_PATH")
	cfg.AuditFsync = l.boolean("AUDIT_FSYNC", true)
	cfg.AuditFailOpen = l.oneOf("AUDIT_FAIL_MODE", "closed", "closed", "open") == "open"
	cfg.AuditMaxBytes = int64(l.intRange("AUDIT_MAX_BYTES", 100<<20, 0, 1<<30))
	cfg.Limits = l.limits()
	cfg.Broker = l.broker(cfg)
	cfg.MetricsAddr = l.metricsAddr()
	if !cfg.OAuthMode && cfg.ListenAddr != "" && !IsLoopbackAddr(cfg.ListenAddr) && !cfg.AllowNonLoopbackSharedToken {
		l.problem("LISTEN_ADDR", "must be a loopback address when OAUTH_MODE=false: the shared token would let anyone who reaches the server act as its owner (set ALLOW_NON_LOOPBACK_SHARED_TOKEN=true to override)")
	}
	return cfg
}

// repoPattern is one WRITE_REPOSITORY_WHITELIST entry: owner/repo or owner/*.
var repoPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+/([A-Za-z0-9_.-]+|\*)$`)

// writeGates reads the switches that let tools change data. Write mode with
// no repository named is refused rather than read as "everything".
func (l *loader) writeGates(cfg *Config) {
	cfg.WriteMode = l.boolean("WRITE_MODE", false)
	cfg.WriteAllowAllTokenRepos = l.boolean("WRITE_ALLOW_ALL_TOKEN_REPOS", false)
	for _, p := range l.list("WRITE_REPOSITORY_WHITELIST") {
		if !repoPattern.MatchString(p) || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") {
			l.problem("WRITE_REPOSITORY_WHITELIST", "%q is not owner/repo or owner/*", p)
			continue
		}
		cfg.WriteRepositories = append(cfg.WriteRepositories, p)
	}
	if cfg.WriteMode && len(cfg.WriteRepositories) == 0 && !cfg.WriteAllowAllTokenRepos && !l.reported("WRITE_REPOSITORY_WHITELIST") {
		l.problem("WRITE_MODE", "is true, but no repository may be written: set WRITE_REPOSITORY_WHITELIST (owner/repo,owner/*) "+
			"or WRITE_ALLOW_ALL_TOKEN_REPOS=true")
	}
	cfg.ConfirmDestructive = l.boolean("CONFIRM_DESTRUCTIVE", true)
	cfg.Toolsets = l.list("TOOLSETS")
	cfg.MaxWriteBytes = l.intRange("MAX_WRITE_BYTES", 1<<20, 1<<10, 16<<20)
}

// DefaultTrustedProxies are believed to name the client when
// TRUSTED_PROXIES is unset: loopback only.
var DefaultTrustedProxies = []string{"127.0.0.0/8", "::1"}

// limits reads the rate and resource limits.
func (l *loader) limits() Limits {
	lim := Limits{
		CallsPerMinute:    l.intRange("RATE_LIMIT_PER_MINUTE", 300, 0, 100_000),
		WritesPerMinute:   l.intRange("WRITE_RATE_LIMIT_PER_MINUTE", 30, 0, 100_000),
		RequestsPerSecond: l.intRange("RATE_LIMIT_PER_IP_PER_SECOND", 100, 0, 100_000),
		MaxAuthFailures:   l.intRange("MAX_AUTH_FAILURES", 10, 0, 100_000),
		AuthFailureWindow: time.Duration(l.intRange("AUTH_FAILURE_WINDOW", 300, 1, 86400)) * time.Second,
		CallsPerUser:      l.intRange("MAX_CONCURRENT_CALLS_PER_USER", 8, 0, 10_000),
		Calls:             l.intRange("MAX_CONCURRENT_CALLS", 64, 0, 100_000),
		SessionsPerUser:   l.intRange("MAX_SESSIONS_PER_USER", 32, 0, 100_000),
		Sessions:          l.intRange("MAX_SESSIONS", 2000, 0, 1_000_000),
		StreamsPerUser:    l.intRange("MAX_STREAMS_PER_USER", 16, 0, 100_000),
		Streams:           l.intRange("MAX_STREAMS", 1000, 0, 1_000_000),
	}
	proxies := l.list("TRUSTED_PROXIES")
	if _, set := l.lookup("TRUSTED_PROXIES"); !set {
		proxies = DefaultTrustedProxies // a reverse proxy on this machine, as Gitea assumes too
	} else if len(proxies) == 1 && strings.EqualFold(proxies[0], "none") {
		proxies = nil
	}
	for _, p := range proxies {
		prefix, err := netip.ParsePrefix(p)
		if a, aerr := netip.ParseAddr(p); aerr == nil { // a single address
			prefix, err = a.Unmap().Prefix(a.Unmap().BitLen())
		}
		if err != nil {
			l.problem("TRUSTED_PROXIES", "%q is not an address or CIDR like 10.0.0.0/8 or ::1", p)
			continue
		}
		lim.TrustedProxies = append(lim.TrustedProxies, prefix.Masked())
	}
	return lim
}

// secret reads NAME or the file named by NAME_FILE; setting both is a problem.
func (l *loader) secret(name string) Secret {
	v, direct := l.lookup(name)
	path, fromFile := l.lookup(name + "_FILE")
	switch {
	case direct && fromFile:
		l.problem(name, "set either %s or %s_FILE, not both", name, name)
		return Secret{}
	case fromFile:
		b, err := os.ReadFile(path) // #nosec G304 -- the operator names the file
		if err != nil {
			l.problem(name+"_FILE", "cannot read %s: %v", path, errors.Unwrap(err))
			return Secret{}
		}
		v = strings.TrimRight(string(b), "\r\n")
		if v == "" {
			l.problem(name+"_FILE", "%s is empty", path)
		}
	}
	return Secret{value: v}
}

// baseURL parses an absolute http(s) URL with no credentials, query or
// fragment, and drops a trailing slash. The value itself is never echoed:
// a URL may carry credentials.
func (l *loader) baseURL(name string, required bool, want string) *url.URL {
	raw, ok := l.lookup(name)
	if !ok {
		if required {
			l.problem(name, "is required: %s", want)
		}
		return nil
	}
	u, err := url.Parse(raw)
	var why string
	switch {
	case err != nil:
		why = "is not a valid URL"
	case u.Scheme != "http" && u.Scheme != "https":
		why = "must start with http:// or https://"
	case u.Host == "" || u.Hostname() == "":
		why = "has no host"
	case u.User != nil:
		why = "must not contain a user name or password"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		why = "must not have a query or fragment"
	}
	if why != "" {
		l.problem(name, "%s; want %s", why, want)
		return nil
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u
}

func (l *loader) boolean(name string, def bool) bool {
	raw, ok := l.lookup(name)
	if !ok {
		return def
	}
	switch strings.ToLower(raw) {
	case "true", "1", "yes", "on":
		return true
	case "false", "0", "no", "off":
		return false
	}
	l.problem(name, "%q is not a boolean; want true or false", raw)
	return def
}

func (l *loader) oneOf(name, def string, allowed ...string) string {
	raw, ok := l.lookup(name)
	if !ok {
		return def
	}
	for _, a := range allowed {
		if strings.EqualFold(raw, a) {
			return a
		}
	}
	l.problem(name, "%q is not one of %s", raw, strings.Join(allowed, ", "))
	return def
}

func (l *loader) logLevel() slog.Level {
	switch l.oneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error") {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (l *loader) intRange(name string, def, lo, hi int) int {
	raw, ok := l.lookup(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		l.problem(name, "%q is not a whole number from %d to %d", raw, lo, hi)
		return def
	}
	return n
}

// alias makes the original AegisGitea-MCP's name old work for name when
// name itself is unset.
func (l *loader) alias(name, old string) {
	_, _ = l.lookup(old) // known either way
	if _, ok := l.lookup(name); ok {
		return
	}
	if v, ok := l.lookup(old); ok {
		l.env[name] = v
	}
}

// list splits a comma-separated value, dropping blanks.
func (l *loader) list(name string) []string {
	raw, _ := l.lookup(name)
	var out []string
	for _, part := range strings.Split(raw, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// origins reads a list of browser origins, scheme://host[:port] each.
func (l *loader) origins(name string) []string {
	var out []string
	for _, o := range l.list(name) {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil {
			l.problem(name, "%q is not an origin like https://chat.example.com", o)
			continue
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out
}

// IsLoopbackAddr reports whether a host:port listens on loopback only.
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (l *loader) listenAddr() string {
	raw, ok := l.lookup("LISTEN_ADDR")
	if !ok {
		return DefaultListenAddr
	}
	return l.hostPort("LISTEN_ADDR", raw)
}

// metricsAddr reads METRICS_ADDR: empty (off), or host:port where ":port"
// means loopback, so metrics are never exposed by accident.
func (l *loader) metricsAddr() string {
	raw, ok := l.lookup("METRICS_ADDR")
	if !ok {
		return ""
	}
	addr := l.hostPort("METRICS_ADDR", raw)
	if host, port, err := net.SplitHostPort(addr); err == nil && host == "" {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}

// hostPort checks that raw, the value of name, is host:port.
func (l *loader) hostPort(name, raw string) string {
	host, port, err := net.SplitHostPort(raw)
	if err == nil {
		var n int
		n, err = strconv.Atoi(port)
		if err == nil && (n < 0 || n > 65535) {
			err = errors.New("port out of range")
		}
	}
	if err != nil || strings.ContainsAny(host, "/ ") {
		l.problem(name, "%q is not host:port, e.g. 127.0.0.1:8080 or :8080", raw)
		return ""
	}
	return raw
}
