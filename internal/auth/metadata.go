package auth

import (
	"encoding/json"
	"net/http"
)

// ResourceMetadata is an OAuth 2.0 Protected Resource Metadata document
// (RFC 9728 §2).
type ResourceMetadata struct {
	// Resource is the protected resource's identifier: the URL of the
	// endpoint the client is calling (RFC 9728 §3.3).
	Resource string `json:"resource"`
	// AuthorizationServers are issuer URLs; here, Gitea's.
	AuthorizationServers []string `json:"authorization_servers"`
	// BearerMethodsSupported is always ["header"]: tokens in URLs or bodies are refused.
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	// ScopesSupported are the Gitea scopes the tools use.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// ResourceName is a human-readable name.
	ResourceName string `json:"resource_name,omitempty"`
	// ResourceDocumentation is a URL of documentation for developers.
	ResourceDocumentation string `json:"resource_documentation,omitempty"`
}

// ServeHTTP serves the document. It is public information, so any origin
// may read it (RFC 9728 §3.1).
func (m *ResourceMetadata) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, OPTIONS")
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=3600")
	_ = json.NewEncoder(w).Encode(m)
}
