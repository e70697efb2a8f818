package broker

import (
	"net/http"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// Metadata is this server's RFC 8414 authorization server metadata. The
// same document answers at the OpenID-style path, which MCP clients also
// probe; the broker is not an OpenID provider (it issues no id tokens).
type Metadata struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	RegistrationEndpoint          string   `json:"registration_endpoint"`
	RevocationEndpoint            string   `json:"revocation_endpoint"`
	ResponseTypes                 []string `json:"response_types_supported"`
	ResponseModes                 []string `json:"response_modes_supported"`
	GrantTypes                    []string `json:"grant_types_supported"`
	CodeChallengeMethods          []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethods []string `json:"revocation_endpoint_auth_methods_supported"`
	ScopesSupported               []string `json:"scopes_supported"`
	// ClientIDMetadataDocument says a client may use an https URL naming
	// its metadata document as its client_id.
	ClientIDMetadataDocument bool `json:"client_id_metadata_document_supported"`
	// IssuerInResponse says authorization responses carry "iss" (RFC 9207).
	IssuerInResponse bool `json:"authorization_response_iss_parameter_supported"`
}

// Metadata returns the broker's metadata document.
func (b *Broker) Metadata() Metadata {
	return Metadata{
		Issuer:                        b.issuer,
		AuthorizationEndpoint:         b.url(PathAuthorize),
		TokenEndpoint:                 b.url(PathToken),
		RegistrationEndpoint:          b.url(PathRegister),
		RevocationEndpoint:            b.url(PathRevoke),
		ResponseTypes:                 []string{"code"},
		ResponseModes:                 []string{"query"},
		GrantTypes:                    []string{"authorization_code", "refresh_token"},
		CodeChallengeMethods:          []string{"S256"},
		TokenEndpointAuthMethods:      b.authMethods(),
		RevocationEndpointAuthMethods: []string{"none"},
		ScopesSupported:               gitea.ScopeWords(b.scopes),
		ClientIDMetadataDocument:      b.docs != nil,
		IssuerInResponse:              true,
	}
}

func (b *Broker) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		b.servePreflight(w, r)
		return
	}
	writeJSON(w, http.StatusOK, b.Metadata())
}

// authMethods are the token endpoint's client authentication methods:
// public clients, and a secret when a static client has one.
func (b *Broker) authMethods() []string {
	for _, c := range b.static {
		if c.SecretSHA256 != "" {
			return []string{"none", "client_secret_basic", "client_secret_post"}
		}
	}
	return []string{"none"}
}
