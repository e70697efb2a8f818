package broker

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
)

func TestParseStaticClients(t *testing.T) {
	tests := []struct {
		name, file, err string
	}{
		{name: "public and confidential", file: `{"clients":[{"client_id":"chatgpt","client_name":"ChatGPT","redirect_uris":["https://chatgpt.com/cb"],
			"client_secret_sha256":"` + strings.Repeat("ab", 32) + `"},{"client_id":"editor","redirect_uris":["http://127.0.0.1:7777/cb"]}]}`},
		{name: "not JSON", file: `clients: []`, err: "not a JSON object"},
		{name: "unknown field", file: `{"clients":[{"client_id":"x","redirect_uris":["https://a.example/cb"],"client_secret":"plain"}]}`, err: "not a JSON object"},
		{name: "bad id", file: `{"clients":[{"client_id":"dyn_x","redirect_uris":["https://a.example/cb"]}]}`, err: "client 1: client_id"},
		{name: "twice", file: `{"clients":[{"client_id":"x","redirect_uris":["https://a.example/cb"]},{"client_id":"x","redirect_uris":["https://a.example/cb"]}]}`, err: "client 2: client_id \"x\" is listed twice"},
		{name: "no redirect", file: `{"clients":[{"client_id":"x"}]}`, err: "redirect_uris"},
		{name: "bad redirect", file: `{"clients":[{"client_id":"x","redirect_uris":["http://a.example/cb"]}]}`, err: "loopback"},
		{name: "bad hash", file: `{"clients":[{"client_id":"x","redirect_uris":["https://a.example/cb"],"client_secret_sha256":"secret"}]}`, err: "64 hex digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStaticClients(strings.NewReader(tt.file))
			if tt.err == "" {
				if err != nil || len(got) != 2 || got[0].Name != "ChatGPT" {
					t.Fatalf("ParseStaticClients = %+v, %v", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseStaticClients error = %v, want it to say %q", err, tt.err)
			}
		})
	}
}

// TestStaticConfidentialClient: a static client with a secret must present
// it at the token endpoint; a public one must present none.
func TestStaticConfidentialClient(t *testing.T) {
	w := newWorld(t)
	sum := sha256.Sum256([]byte("the-client-secret"))
	w.b.static = map[string]StaticClient{"chatgpt": {ID: "chatgpt", Name: "ChatGPT", RedirectURIs: []string{testRedirect}, SecretSHA256: hex.EncodeToString(sum[:])}}
	w.upstream(t, "read:repository", "read:user")
	tests := []struct {
		name   string
		secret string
		ok     bool
	}{
		{name: "no secret", secret: ""},
		{name: "wrong secret", secret: "guess"},
		{name: "right secret", secret: "the-client-secret", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"authorization_code"}, "client_id": {"chatgpt"}, "code": {w.issued(t, "chatgpt")},
				"redirect_uri": {testRedirect}, "code_verifier": {testVerifier}}
			if tt.secret != "" {
				form.Set("client_secret", tt.secret)
			}
			rec := w.token(form)
			if got := rec.Code == 200; got != tt.ok || (!tt.ok && !strings.Contains(rec.Body.String(), `"invalid_client"`)) {
				t.Errorf("token: %d %s, want ok=%v (else invalid_client)", rec.Code, rec.Body, tt.ok)
			}
		})
	}
	public := url.Values{"grant_type": {"authorization_code"}, "client_id": {"dyn_test"}, "code": {"aegis_ac_x"},
		"redirect_uri": {testRedirect}, "code_verifier": {testVerifier}, "client_secret": {"anything"}}
	w.client(t)
	if rec := w.token(public); !strings.Contains(rec.Body.String(), `"invalid_client"`) {
		t.Errorf("a public client sending a secret: %d %s, want invalid_client", rec.Code, rec.Body)
	}
	if got := w.b.Metadata().TokenEndpointAuthMethods; strings.Join(got, ",") != "none,client_secret_basic,client_secret_post" {
		t.Errorf("token_endpoint_auth_methods_supported = %v", got)
	}
}
