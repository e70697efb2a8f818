// Package seal encrypts, with authentication, the secrets the server must
// keep and later use again: the Gitea access and refresh tokens the OAuth
// broker stores server-side. A [Keyring] holds the keys; [Keyring.Seal]
// turns a token into a short text fit for a database column, and
// [Keyring.Open] turns it back, failing unless the text is unchanged, was
// sealed under a key of the ring, and is opened for the same context it was
// sealed for.
//
// What sealing protects: a copy of the database or of a backup does not
// reveal the tokens, and a sealed value cannot be moved to another row or
// field (another user's row, or from the refresh column to the access
// column) because the caller's context, e.g. "gitea-access|user:42", is
// authenticated with it. It does not hide a token's length, and it cannot
// protect against whoever holds the keys or the running process's memory.
//
// # Format
//
// A sealed value is ASCII text:
//
//	v1.<keyid>.<base64url(nonce || ciphertext || tag)>
//
// "v1" is the format version. keyid names the key it was sealed under
// (1 to 16 of A-Z a-z 0-9 _ -). The body is URL-safe base64 without padding
// of a random 96-bit nonce, the AES-256-GCM ciphertext (as long as the
// plaintext) and the 128-bit tag, so a value is about 4/3 × (plaintext + 28)
// + 4 + len(keyid) characters. The additional authenticated data is the
// header "v1.<keyid>." followed by the context; the context itself is not
// stored.
//
// # Keys
//
// The operator sets BROKER_ENCRYPTION_KEY to a comma-separated list of
// id:base64key entries, the primary first ([ParseKeyring]):
//
//	BROKER_ENCRYPTION_KEY=k2:<new key>,k1:<old key>
//
// A single bare key is accepted and gets the id "k1". [GenerateKey] (the
// admin command generate-key) makes a key; `openssl rand -base64 32` does
// too. An id must never be reused for different key material: a value
// sealed under the old material then fails as [ErrCorrupt] rather than
// [ErrUnknownKey].
//
// # Rotation
//
// Seal always uses the primary key; Open accepts every key in the ring. To
// replace key k1 by k2 without a moment in which some instance cannot open
// what another sealed:
//
//  1. Generate k2 and add it last on every instance: k1:OLD,k2:NEW. Nothing
//     is sealed under k2 yet, but every instance can open it.
//  2. Once all instances run with that, make k2 primary: k2:NEW,k1:OLD. New
//     and refreshed tokens are now sealed under k2.
//  3. Run the admin command rotate-key: it opens and re-seals under k2 every
//     stored value for which [Keyring.NeedsRotation] reports true.
//  4. When rotate-key finds nothing left (and backups sealed under k1 may be
//     lost), remove k1: k2:NEW. A value still sealed under k1 then fails to
//     open with [ErrUnknownKey].
//
// (A single instance may do steps 1 and 2 at once.)
//
// How often: GCM with random 96-bit nonces is safe for about 2^32 seals per
// key. That is NIST SP 800-38D's limit, which keeps the chance that any two
// seals share a nonce below 2^-32; a repeated nonce reveals how the two
// plaintexts differ and lets an attacker forge values under that key. Count
// every seal, including each re-seal on token refresh and by rotate-key. The
// broker seals far fewer values than that, so rotate on a schedule (e.g.
// yearly), when someone who knew the key leaves, or at once if the key may
// have leaked — and long before any key approaches 2^32 seals.
//
// A Keyring never shows its keys: printed with fmt or logged with log/slog it
// shows only key ids, and errors never contain key material, sealed values
// or plaintext.
package seal
