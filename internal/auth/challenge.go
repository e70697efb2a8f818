package auth

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// Challenge describes the protected resource a refused request asked for.
type Challenge struct {
	// ResourceMetadataURL is the RFC 9728 metadata document of the endpoint.
	ResourceMetadataURL string
	// Scopes are the scopes the endpoint needs; an [*Error]'s own scopes,
	// when it has any, take their place.
	Scopes []gitea.Scope
}

// errorBody is the JSON body of a refusal, in OAuth's error shape.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// WriteError answers a refused request: the status, a WWW-Authenticate
// challenge (RFC 6750 §3) on 400, 401 and 403, Retry-After on 503, and a
// short JSON body. Nothing of the request or of Gitea's answers is echoed.
func WriteError(w http.ResponseWriter, err *Error, ch Challenge) {
	h := w.Header()
	if err.Status != http.StatusServiceUnavailable {
		h.Set("WWW-Authenticate", challengeHeader(err, ch))
	} else if err.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(err.RetryAfter.Seconds())))
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(err.Status)
	code := err.Code
	if code == "" {
		code = "unauthorized"
	}
	_ = json.NewEncoder(w).Encode(errorBody{Error: code, ErrorDescription: err.Description})
}

func challengeHeader(err *Error, ch Challenge) string {
	scopes := ch.Scopes
	if len(err.Scopes) > 0 {
		scopes = err.Scopes
	}
	var params []string
	if err.Code != "" {
		params = append(params, param("error", err.Code), param("error_description", err.Description))
	}
	if len(scopes) > 0 {
		params = append(params, param("scope", gitea.JoinScopes(scopes)))
	}
	if ch.ResourceMetadataURL != "" {
		params = append(params, param("resource_metadata", ch.ResourceMetadataURL))
	}
	if len(params) == 0 {
		return "Bearer"
	}
	return "Bearer " + strings.Join(params, ", ")
}

// param renders name="value", keeping value inside RFC 6750's quoted-string
// alphabet (printable ASCII without '"' and '\').
func param(name, value string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r == '\\' || r < 0x20 || r > 0x7e:
			return ' '
		}
		return r
	}, value)
	return name + `="` + clean + `"`
}
