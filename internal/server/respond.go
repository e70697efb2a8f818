package server

import (
	"encoding/json"
	"net/http"
)

// errorBody is every error response: a stable code and a fixed, human text,
// in OAuth's error shape, the one auth.WriteError answers refusals with.
// It never carries an upstream body, an internal error or a token.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, errorBody{Error: code, ErrorDescription: message})
}
