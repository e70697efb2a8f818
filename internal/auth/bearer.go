package auth

import (
	"mime"
	"net/http"
	"strings"
)

// tokenParams are query and form parameters clients use to pass tokens. A
// request carrying any of them is refused: tokens in URLs end up in logs,
// histories and Referer headers.
var tokenParams = []string{"access_token", "token", "api_key", "apikey", "private_token", "oauth_token", "bearer", "auth", "authorization"}

// maxTokenLen bounds a bearer token; Gitea's JWTs are a few hundred bytes.
const maxTokenLen = 4096

// BearerToken returns the request's bearer token. It accepts exactly one
// Authorization header with the Bearer scheme (any case). It refuses, with
// [ErrInvalidRequest], a token in the query string or a form body, several
// Authorization headers, and a malformed header; it answers [ErrNoToken]
// when there is no Bearer credential at all.
func BearerToken(r *http.Request) (string, error) {
	q := r.URL.Query()
	for _, p := range tokenParams {
		if q.Has(p) {
			return "", invalidRequest("tokens are accepted only in the Authorization header, never in the URL")
		}
	}
	if isForm(r) {
		return "", invalidRequest("tokens are accepted only in the Authorization header, never in a form body")
	}
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", ErrNoToken
	case 1:
	default:
		return "", invalidRequest("send exactly one Authorization header")
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", ErrNoToken
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > maxTokenLen || strings.ContainsFunc(token, notTokenChar) {
		return "", invalidRequest("the Authorization header must be \"Bearer <token>\"")
	}
	return token, nil
}

// notTokenChar is false for the characters RFC 6750's b64token allows.
func notTokenChar(r rune) bool {
	switch {
	case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("-._~+/=", r)
}

// isForm reports whether the request has a form-encoded body. This server
// takes JSON only, so such a body is refused without being read.
func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}
