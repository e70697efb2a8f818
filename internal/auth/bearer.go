package auth

import (
	"mime"
	"net/http"
	"net/url"
	"slices"
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
// [ErrInvalidRequest], a token in the query string, any form body (this
// server takes JSON, and a form is where clients put tokens), several
// Authorization headers, and a malformed header; it answers [ErrNoToken]
// when there is no Bearer credential at all.
func BearerToken(r *http.Request) (string, error) {
	if hasTokenParam(r.URL.RawQuery) {
		return "", invalidRequest("tokens are accepted only in the Authorization header, never in the URL")
	}
	if isForm(r) {
		return "", invalidRequest("send JSON (Content-Type: application/json): form bodies are refused, as a token must never travel in one")
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
	if !isB64Token(token) {
		return "", invalidRequest("the Authorization header must be \"Bearer <token>\"")
	}
	return token, nil
}

// hasTokenParam reports whether a raw query names a token parameter. It
// splits the query itself: url.ParseQuery drops pairs it cannot parse (a
// ';' or a bad escape), which would let such a token through unseen.
func hasTokenParam(rawQuery string) bool {
	for _, pair := range strings.FieldsFunc(rawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
		key, _, _ := strings.Cut(pair, "=")
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		if slices.Contains(tokenParams, strings.ToLower(strings.TrimSpace(key))) {
			return true
		}
	}
	return false
}

// isB64Token reports whether s is an RFC 6750 b64token of acceptable size:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" || len(s) > maxTokenLen {
		return false
	}
	for _, r := range body {
		ok := r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~+/", r)
		if !ok {
			return false
		}
	}
	return true
}

// isForm reports whether the request has a form-encoded body. This server
// takes JSON only, so such a body is refused without being read.
func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}
