package broker

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/clientdoc"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

// StaticClient is a client the operator registers in BROKER_CLIENTS_FILE,
// for clients that take a fixed client id (and perhaps a secret) in their
// settings instead of registering themselves.
type StaticClient struct {
	ID           string   `json:"client_id"`
	Name         string   `json:"client_name"`
	RedirectURIs []string `json:"redirect_uris"`
	// SecretSHA256 is the hex SHA-256 of the client's secret; empty makes
	// it a public client, which proves itself with PKCE alone. The secret
	// itself is never in the file.
	SecretSHA256 string `json:"client_secret_sha256,omitempty"`
}

var staticID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ParseStaticClients reads a BROKER_CLIENTS_FILE: {"clients": [...]}.
// Every client is checked; the error names the first bad one.
func ParseStaticClients(r io.Reader) ([]StaticClient, error) {
	var file struct {
		Clients []StaticClient `json:"clients"`
	}
	dec := json.NewDecoder(io.LimitReader(r, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf(`not a JSON object {"clients": [{"client_id", "client_name", "redirect_uris", "client_secret_sha256"}]}: %w`, err)
	}
	seen := map[string]bool{}
	for i, c := range file.Clients {
		at := fmt.Sprintf("client %d", i+1)
		switch {
		case !staticID.MatchString(c.ID) || strings.HasPrefix(c.ID, "dyn_"):
			return nil, fmt.Errorf(`%s: client_id must be 1-64 letters, digits, ".", "_" or "-", not starting with "dyn_"`, at)
		case seen[c.ID]:
			return nil, fmt.Errorf("%s: client_id %q is listed twice", at, c.ID)
		case len(c.RedirectURIs) == 0 || len(c.RedirectURIs) > maxRedirectURIs:
			return nil, fmt.Errorf("%s (%s): list between 1 and %d redirect_uris", at, c.ID, maxRedirectURIs)
		case c.SecretSHA256 != "" && !isSHA256Hex(c.SecretSHA256):
			return nil, fmt.Errorf("%s (%s): client_secret_sha256 must be 64 hex digits (sha256sum of the secret)", at, c.ID)
		}
		for _, u := range c.RedirectURIs {
			if err := clientdoc.CheckRedirectURI(u); err != nil {
				return nil, fmt.Errorf("%s (%s): %w", at, c.ID, err)
			}
		}
		seen[c.ID] = true
		file.Clients[i].Name = clientdoc.CleanName(c.Name)
		file.Clients[i].SecretSHA256 = strings.ToLower(c.SecretSHA256)
	}
	return file.Clients, nil
}

func isSHA256Hex(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

func (c StaticClient) client() store.Client {
	return store.Client{ID: c.ID, Kind: store.ClientStatic, Name: c.Name, RedirectURIs: c.RedirectURIs}
}

// authenticateClient checks the credentials a token or revocation request
// presents: a static client with a secret must send it (HTTP Basic or
// client_secret in the form); every other client is public and must send
// none.
func (b *Broker) authenticateClient(f tokenForm) *oauthError {
	sc, static := b.static[f.clientID]
	switch {
	case static && sc.SecretSHA256 != "":
		sum := sha256.Sum256([]byte(f.secret))
		if f.secret == "" || subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(sc.SecretSHA256)) != 1 {
			return invalidClient("client authentication failed")
		}
	case f.secret != "":
		return invalidClient("this client is public: send client_id and no secret")
	}
	return nil
}
