package auth

import "crypto/sha256"

// Trusted reports, without asking Gitea, whether token has a cached
// verdict that accepts it: it was verified within the cache TTL and has
// not expired. Limits use it to let known callers through a shut-out.
func (v *Verifier) Trusted(token string) bool {
	got, ok := v.cache.get(tokenKey(sha256.Sum256([]byte(token))), v.now())
	return ok && got.err == nil && got.principal != nil
}
