package config

import (
	"strings"
	"testing"
	"time"
)

func TestBrokerConfig(t *testing.T) {
	cfg, err := load(t, nil, oauthEnv("OAUTH_BROKER=true", "BROKER_ENCRYPTION_KEY=k1:c2VjcmV0", "PUBLIC_BASE_URL=https://mcp.example.com"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	b := cfg.Broker
	if b == nil || b.DataDir != "data" || b.AccessTTL != 15*time.Minute || b.RefreshTTL != 30*24*time.Hour ||
		!b.MetadataDocuments || b.AllowPrivateMetadataURLs || b.DatabaseURL.IsSet() || b.EncryptionKey.Reveal() != "k1:c2VjcmV0" {
		t.Errorf("broker defaults = %+v", b)
	}
	off, err := load(t, nil, oauthEnv())
	if err != nil || off.Broker != nil {
		t.Errorf("without OAUTH_BROKER: Broker = %+v, %v; want nil", off.Broker, err)
	}
}

func TestBrokerConfigProblems(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    []string
	}{
		{name: "no key", environ: oauthEnv("OAUTH_BROKER=true"), want: []string{"BROKER_ENCRYPTION_KEY"}},
		{name: "shared-token mode", environ: []string{"GITEA_URL=http://g", "OAUTH_MODE=false", "GITEA_TOKEN=t", "OAUTH_BROKER=true", "BROKER_ENCRYPTION_KEY=k"},
			want: []string{"OAUTH_BROKER"}},
		{name: "not a postgres URL", environ: oauthEnv("OAUTH_BROKER=true", "BROKER_ENCRYPTION_KEY=k", "BROKER_DATABASE_URL=mysql://db/x"),
			want: []string{"BROKER_DATABASE_URL"}},
		{name: "plain http to the world", environ: oauthEnv("OAUTH_BROKER=true", "BROKER_ENCRYPTION_KEY=k", "LISTEN_ADDR=0.0.0.0:8080", "PUBLIC_BASE_URL=http://mcp.example.com"),
			want: []string{"PUBLIC_BASE_URL"}},
		{name: "token lifetimes", environ: oauthEnv("OAUTH_BROKER=true", "BROKER_ENCRYPTION_KEY=k", "BROKER_ACCESS_TOKEN_TTL_SECONDS=5", "BROKER_REFRESH_TOKEN_TTL_SECONDS=x"),
			want: []string{"BROKER_ACCESS_TOKEN_TTL_SECONDS", "BROKER_REFRESH_TOKEN_TTL_SECONDS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, nil, tt.environ)
			if got := problemVars(t, err); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("problems = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := load(t, nil, oauthEnv("OAUTH_BROKER=true", "BROKER_ENCRYPTION_KEY=k", "PUBLIC_BASE_URL=http://127.0.0.1:8080")); err != nil {
		t.Errorf("http on loopback: %v, want accepted", err)
	}
}

func TestBrokerSecretsNeverPrinted(t *testing.T) {
	cfg, err := load(t, nil, oauthEnv("OAUTH_BROKER=true", "BROKER_ENCRYPTION_KEY=k1:the-key-material",
		"BROKER_DATABASE_URL=postgres://aegis:db-password@127.0.0.1/aegis", "PUBLIC_BASE_URL=https://mcp.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if _, err := cfg.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"the-key-material", "db-password"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("config check prints %q", secret)
		}
	}
	if !strings.Contains(out.String(), "OAUTH_BROKER=true") || !strings.Contains(out.String(), "BROKER_ENCRYPTION_KEY=(set, redacted)") {
		t.Errorf("config check does not show the broker settings:\n%s", out.String())
	}
}
