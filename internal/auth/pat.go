package auth

// personalAccessTokenLen is the length of a Gitea personal access token:
// 20 random bytes, hex-encoded (models/auth.NewAccessToken).
const personalAccessTokenLen = 40

// looksLikePersonalAccessToken reports whether token has the shape of a
// Gitea personal access token: 40 hexadecimal characters. Gitea's OAuth
// access tokens are JWTs (three base64url parts joined by dots), which can
// never have that shape, so the test refuses no OAuth token. It looks at
// the shape only; the token is neither sent anywhere nor shown.
func looksLikePersonalAccessToken(token string) bool {
	if len(token) != personalAccessTokenLen {
		return false
	}
	for i := range len(token) {
		c := token[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// personalAccessToken refuses a personal access token sent in OAuth mode,
// saying what to send instead.
func personalAccessToken() *Error {
	return invalidToken("this looks like a personal access token; this server takes OAuth access tokens from Gitea's sign-in, "+
		"or run it with OAUTH_MODE=false", nil)
}
