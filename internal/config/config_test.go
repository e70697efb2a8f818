package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// oauthEnv is a minimal valid OAuth-mode environment.
func oauthEnv(extra ...string) []string {
	return append([]string{
		"GITEA_URL=https://gitea.example.com/",
		"GITEA_OAUTH_CLIENT_ID=client-1",
		"GITEA_OAUTH_CLIENT_SECRET=s3cret-value",
	}, extra...)
}

// load runs Load in an empty working directory so no stray ./.env is read.
func load(t *testing.T, args, environ []string) (*Config, error) {
	t.Helper()
	t.Chdir(t.TempDir())
	return Load(args, environ, &bytes.Buffer{})
}

func problemVars(t *testing.T, err error) []string {
	t.Helper()
	var cfgErr *Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("error = %v, want *config.Error", err)
	}
	var names []string
	for _, p := range cfgErr.Problems {
		names = append(names, p.Var)
	}
	return names
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := load(t, nil, oauthEnv())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := cfg.GiteaURL.String(); got != "https://gitea.example.com" {
		t.Errorf("GiteaURL = %q, want trailing slash dropped", got)
	}
	if !cfg.OAuthMode {
		t.Error("OAuthMode = false, want true by default")
	}
	if cfg.OAuthExpectedAudience != "client-1" {
		t.Errorf("OAuthExpectedAudience = %q, want the client id", cfg.OAuthExpectedAudience)
	}
	if cfg.ListenAddr != DefaultListenAddr {
		t.Errorf("ListenAddr = %q, want %q", cfg.ListenAddr, DefaultListenAddr)
	}
	if got := cfg.PublicBaseURL.String(); got != "http://127.0.0.1:8080" {
		t.Errorf("PublicBaseURL = %q, want it derived from the listen address", got)
	}
	if cfg.LogFormat != "json" || cfg.LogLevel.String() != "INFO" {
		t.Errorf("logs = %s/%s, want json/INFO", cfg.LogFormat, cfg.LogLevel)
	}
	if cfg.RequestTimeout != 30*time.Second {
		t.Errorf("RequestTimeout = %v, want 30s", cfg.RequestTimeout)
	}
}

func TestLimits(t *testing.T) {
	cfg, err := load(t, nil, oauthEnv())
	if err != nil {
		t.Fatal(err)
	}
	if l := cfg.Limits; l.CallsPerMinute != 300 || l.WritesPerMinute != 30 || l.MaxAuthFailures != 10 || l.AuthFailureWindow != 5*time.Minute ||
		l.CallsPerUser != 8 || l.SessionsPerUser != 32 || l.StreamsPerUser != 16 || prefixList(l.TrustedProxies) != "127.0.0.0/8,::1/128" {
		t.Errorf("default limits = %+v", l)
	}
	cfg, err = load(t, nil, oauthEnv("TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.7 ,::1", "RATE_LIMIT_PER_MINUTE=0"))
	if err != nil {
		t.Fatal(err)
	}
	if got := prefixList(cfg.Limits.TrustedProxies); got != "10.0.0.0/8,192.168.1.7/32,::1/128" {
		t.Errorf("TRUSTED_PROXIES = %s", got)
	}
	if cfg.MetricsAddr != "" {
		t.Errorf("METRICS_ADDR defaults to %q, want off", cfg.MetricsAddr)
	}
	for raw, want := range map[string]string{":9090": "127.0.0.1:9090", "0.0.0.0:9090": "0.0.0.0:9090"} {
		if c, err := load(t, nil, oauthEnv("METRICS_ADDR="+raw)); err != nil || c.MetricsAddr != want {
			t.Errorf("METRICS_ADDR=%s = %q, %v; want %s", raw, c.MetricsAddr, err, want)
		}
	}
	if cfg.Limits.CallsPerMinute != 0 {
		t.Errorf("RATE_LIMIT_PER_MINUTE=0 read as %d, want 0 (off)", cfg.Limits.CallsPerMinute)
	}
	if cfg, err = load(t, nil, oauthEnv("TRUSTED_PROXIES=none")); err != nil || cfg.Limits.TrustedProxies != nil {
		t.Errorf("TRUSTED_PROXIES=none = %v, %v; want no proxy trusted", cfg.Limits.TrustedProxies, err)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    []string
	}{
		{name: "nothing set", environ: nil, want: []string{"GITEA_URL", "GITEA_OAUTH_CLIENT_ID", "GITEA_OAUTH_CLIENT_SECRET"}},
		{name: "shared token mode needs a token", environ: []string{"GITEA_URL=http://g", "OAUTH_MODE=false"}, want: []string{"GITEA_TOKEN"}},
		{name: "bad enums and numbers", environ: oauthEnv("LOG_LEVEL=loud", "LOG_FORMAT=xml", "REQUEST_TIMEOUT_SECONDS=0", "OAUTH_MODE=maybe"),
			want: []string{"OAUTH_MODE", "LOG_LEVEL", "LOG_FORMAT", "REQUEST_TIMEOUT_SECONDS"}},
		{name: "bad listen address", environ: oauthEnv("LISTEN_ADDR=localhost"), want: []string{"LISTEN_ADDR"}},
		{name: "shared token on every interface", environ: []string{"GITEA_URL=http://g", "OAUTH_MODE=false", "GITEA_TOKEN=t", "LISTEN_ADDR=:8080",
			"PUBLIC_BASE_URL=https://mcp.example.com"}, want: []string{"LISTEN_ADDR"}},
		{name: "every interface without a public URL", environ: oauthEnv("LISTEN_ADDR=0.0.0.0:8080"), want: []string{"PUBLIC_BASE_URL"}},
		{name: "bad origin and numbers", environ: oauthEnv("ALLOWED_ORIGINS=https://ok.example,chat.example.com", "OAUTH_CACHE_TTL_SECONDS=0",
			"MAX_REQUEST_BODY_BYTES=10", "MCP_STATELESS=sometimes"), want: []string{"OAUTH_CACHE_TTL_SECONDS", "MCP_STATELESS", "ALLOWED_ORIGINS", "MAX_REQUEST_BODY_BYTES"}},
		{name: "bad limits", environ: oauthEnv("TRUSTED_PROXIES=10.0.0.0/8,proxy.example.com", "MAX_SESSIONS=-1", "AUTH_FAILURE_WINDOW=0", "METRICS_ADDR=9090"),
			want: []string{"AUTH_FAILURE_WINDOW", "MAX_SESSIONS", "TRUSTED_PROXIES", "METRICS_ADDR"}},
		{name: "bad public URL", environ: oauthEnv("PUBLIC_BASE_URL=mcp.example.com"), want: []string{"PUBLIC_BASE_URL"}},
		{name: "secret and its file", environ: oauthEnv("GITEA_OAUTH_CLIENT_SECRET_FILE=/x"), want: []string{"GITEA_OAUTH_CLIENT_SECRET"}},
		{name: "missing secret file", environ: []string{"GITEA_URL=http://g", "GITEA_OAUTH_CLIENT_ID=c", "GITEA_OAUTH_CLIENT_SECRET_FILE=/nonexistent/secret"},
			want: []string{"GITEA_OAUTH_CLIENT_SECRET_FILE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, nil, tt.environ)
			got := problemVars(t, err)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("problems = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGiteaURLProblems(t *testing.T) {
	tests := []struct {
		url  string
		want string
	}{
		{url: "gitea.example.com", want: "must start with http:// or https://"},
		{url: "ftp://gitea.example.com", want: "must start with http:// or https://"},
		{url: "https://", want: "has no host"},
		{url: "https://user:hunter2@gitea.example.com", want: "must not contain a user name or password"},
		{url: "https://gitea.example.com/?a=b", want: "must not have a query or fragment"},
		{url: "https://gitea example.com", want: "is not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := load(t, nil, []string{"GITEA_URL=" + tt.url, "GITEA_OAUTH_CLIENT_ID=c", "GITEA_OAUTH_CLIENT_SECRET=s"})
			if err == nil || !strings.Contains(err.Error(), "GITEA_URL: "+tt.want) {
				t.Fatalf("Load(GITEA_URL=%q) error = %v, want %q", tt.url, err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q echoes the password in the URL", err)
			}
		})
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("file-secret-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := []string{"GITEA_URL=https://g", "GITEA_OAUTH_CLIENT_ID=c", "GITEA_OAUTH_CLIENT_SECRET_FILE=" + secretFile,
		"GITEA_TOKEN=pat-secret-value"}
	cfg, err := load(t, nil, environ)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := cfg.OAuthClientSecret.Reveal(); got != "file-secret-value" {
		t.Errorf("secret from file = %q, want the trimmed file content", got)
	}
	var out bytes.Buffer
	if _, err := cfg.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"file-secret-value", "pat-secret-value"} {
		if strings.Contains(out.String(), leak) {
			t.Errorf("config output contains a secret:\n%s", out.String())
		}
	}
	if !strings.Contains(out.String(), "GITEA_OAUTH_CLIENT_SECRET=(set, redacted)") {
		t.Errorf("config output does not show the secret as set:\n%s", out.String())
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := sprintf(format, cfg); strings.Contains(s, "secret-value") {
			t.Errorf("Sprintf(%q, cfg) leaks a secret: %s", format, s)
		}
	}
}

func TestEnvFileAndPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "custom.env")
	content := "# comment\nexport GITEA_URL=https://from-file.example\nGITEA_OAUTH_CLIENT_ID=file-client\n" +
		"GITEA_OAUTH_CLIENT_SECRET='file secret'\nLOG_LEVEL=debug # inline comment\nLISTEN_ADDR=127.0.0.1:9000\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := load(t, []string{"--env-file", file, "--listen", "127.0.0.1:9100"}, []string{"GITEA_OAUTH_CLIENT_ID=env-client"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.GiteaURL.Host != "from-file.example" {
		t.Errorf("GiteaURL = %v, want it from the file", cfg.GiteaURL)
	}
	if cfg.OAuthClientID != "env-client" {
		t.Errorf("OAuthClientID = %q, want the environment to win over the file", cfg.OAuthClientID)
	}
	if cfg.OAuthClientSecret.Reveal() != "file secret" || cfg.LogLevel.String() != "DEBUG" {
		t.Errorf("secret/level = %q/%v, want quoted value and inline comment handled", cfg.OAuthClientSecret.Reveal(), cfg.LogLevel)
	}
	if cfg.ListenAddr != "127.0.0.1:9100" {
		t.Errorf("ListenAddr = %q, want the --listen flag to win", cfg.ListenAddr)
	}
}

func TestDefaultEnvFileIsOptionalButNamedFileIsNot(t *testing.T) {
	if _, err := load(t, []string{"--env-file", "/nonexistent/.env"}, oauthEnv()); err == nil {
		t.Fatal("Load with a missing --env-file succeeded, want an error")
	} else if got := problemVars(t, err); len(got) != 1 || got[0] != "--env-file" {
		t.Errorf("problems = %v, want [--env-file]", got)
	}
	if _, err := load(t, nil, oauthEnv()); err != nil {
		t.Errorf("Load without ./.env: %v", err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--no-such-flag"}, {"stray"}} {
		if _, err := load(t, args, oauthEnv()); !errors.Is(err, ErrUsage) {
			t.Errorf("Load(%q) error = %v, want ErrUsage", args, err)
		}
	}
}

func TestSharedTokenMayListenWideWhenTold(t *testing.T) {
	cfg, err := load(t, nil, []string{"GITEA_URL=http://g", "OAUTH_MODE=false", "GITEA_TOKEN=t", "LISTEN_ADDR=0.0.0.0:8080", "PUBLIC_BASE_URL=http://mcp.internal:8080",
		"ALLOW_NON_LOOPBACK_SHARED_TOKEN=true", "ALLOWED_ORIGINS=https://Chat.Example.com/", "ALLOWED_HOSTS=mcp.internal, ,"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := strings.Join(cfg.AllowedOrigins, ","); got != "https://Chat.Example.com" {
		t.Errorf("AllowedOrigins = %q", got)
	}
	if got := strings.Join(cfg.AllowedHosts, ","); got != "mcp.internal" {
		t.Errorf("AllowedHosts = %q", got)
	}
}

func TestIsLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:80": true, "[::1]:80": true, "localhost:1": true, ":8080": false,
		"0.0.0.0:80": false, "10.0.0.1:80": false, "example.com:80": false, "nonsense": false} {
		if got := IsLoopbackAddr(addr); got != want {
			t.Errorf("IsLoopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}
