package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
)

// KeySize is the length in bytes of every key: AES-256.
const KeySize = 32

// DefaultKeyID is the id a bare key (one given without "id:") gets.
const DefaultKeyID = "k1"

// version is the first field of every sealed value. A new format gets a new
// version, so values sealed today stay readable after a format change.
const version = "v1"

// maxIDLen bounds a key id; ids are short labels, not secrets.
const maxIDLen = 16

// nonceSize and tagSize are those of standard AES-GCM: 96-bit random nonce,
// 128-bit tag. Every sealed body is at least their sum long.
const (
	nonceSize = 12
	tagSize   = 16
)

var (
	// ErrUnknownKey is returned (wrapped) by [Keyring.Open] when the value
	// names a key id the ring does not hold: it was sealed under a key that
	// has since been removed, or under another deployment's keys. The error
	// text names the id, never the value.
	ErrUnknownKey = errors.New("seal: sealed under a key not in the keyring")

	// ErrCorrupt is returned (wrapped) by [Keyring.Open] when the value is not
	// in the sealed format or does not authenticate: it was changed, it was
	// sealed for another context (another row or field), or the key behind
	// its id is not the one it was sealed with. The error text says which of
	// "format" or "authentication" failed and never quotes the value.
	ErrCorrupt = errors.New("seal: sealed value is corrupt")

	// ErrNoKeys is returned by [Keyring.Seal] on a Keyring that holds no key
	// (the zero value or a nil *Keyring).
	ErrNoKeys = errors.New("seal: keyring holds no key")
)

// A Keyring holds the keys that seal and open values: one or more AES-256
// keys, each with a short id that is written into every value it seals. The
// first key is the primary: [Keyring.Seal] always uses it, while
// [Keyring.Open] accepts every key in the ring, which is what makes rotation
// possible (see the package documentation).
//
// Build one with [ParseKeyring]. A Keyring is immutable and safe for
// concurrent use. The zero value (and a nil *Keyring) holds no key: Seal
// fails with [ErrNoKeys], Open with [ErrUnknownKey], NeedsRotation reports
// false and PrimaryID returns "".
//
// A Keyring never shows its keys: printing it with any fmt verb, or logging
// it with log/slog, shows only the key ids.
type Keyring struct {
	// keys are held behind pointers so that even a reflection-based printer
	// that bypasses the methods below sees addresses, not key schedules.
	keys []*key
}

// key is one entry of a Keyring. The raw key bytes are not kept: only the
// AEAD built from them.
type key struct {
	id   string
	aead cipher.AEAD // AES-256-GCM with random 96-bit nonces prepended
}

// String is a fmt.Stringer that hides key material.
func (k *key) String() string { return "seal.key(" + k.id + ")" }

// ParseKeyring parses the operator's BROKER_ENCRYPTION_KEY setting: a
// comma-separated list of id:base64key entries, the primary first, e.g.
//
//	k2:BASE64KEY,k1:BASE64KEY
//
// A setting of a single bare key (no id and no colon) is accepted and gets
// the id [DefaultKeyID] ("k1"). Spaces around entries are ignored.
//
// Each key must be standard or URL-safe base64, padded or not, decoding to
// exactly [KeySize] bytes. Each id must be 1 to 16 of A-Z, a-z, 0-9, '_' and
// '-', and ids must be unique; the same key may not appear twice under
// different ids either (a rotation that "added" the old key again would
// rotate nothing).
//
// Errors name the wrong entry by its position (counting from 1) and, when the
// id itself is valid, by its id. They never contain key text, nor an invalid
// id (which might be a key pasted into the wrong place).
func ParseKeyring(spec string) (*Keyring, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("seal: no key given: want id:base64key[,id:base64key...] or one bare base64 key")
	}
	entries := strings.Split(spec, ",")
	ring := &Keyring{keys: make([]*key, 0, len(entries))}
	raws := make([][]byte, 0, len(entries))
	defer func() {
		for _, raw := range raws {
			clear(raw)
		}
	}()
	for i, entry := range entries {
		pos := i + 1
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("seal: entry %d is empty (a stray comma?)", pos)
		}
		id, text, hasID := strings.Cut(entry, ":")
		if !hasID {
			if len(entries) > 1 {
				return nil, fmt.Errorf("seal: entry %d has no key id: with several keys each must be id:base64key", pos)
			}
			id, text = DefaultKeyID, entry
		}
		id, text = strings.TrimSpace(id), strings.TrimSpace(text)
		if !validID(id) {
			return nil, fmt.Errorf("seal: entry %d: the key id (%d characters) is not valid: want 1 to %d of A-Z a-z 0-9 _ -", pos, len(id), maxIDLen)
		}
		for j, prev := range ring.keys {
			if prev.id == id {
				return nil, fmt.Errorf("seal: entry %d (id %s): id already used by entry %d", pos, id, j+1)
			}
		}
		if text == "" {
			return nil, fmt.Errorf("seal: entry %d (id %s): no key after the colon", pos, id)
		}
		raw, ok := decodeKey(text)
		if !ok {
			return nil, fmt.Errorf("seal: entry %d (id %s): key is not valid base64 (standard or URL-safe, padded or not)", pos, id)
		}
		raws = append(raws, raw) // cleared when ParseKeyring returns
		if len(raw) != KeySize {
			return nil, fmt.Errorf("seal: entry %d (id %s): key is %d bytes, want %d (AES-256)", pos, id, len(raw), KeySize)
		}
		for j, prev := range raws[:i] {
			if subtle.ConstantTimeCompare(prev, raw) == 1 {
				return nil, fmt.Errorf("seal: entry %d (id %s): same key as entry %d (id %s)", pos, id, j+1, ring.keys[j].id)
			}
		}
		aead, err := newAEAD(raw)
		if err != nil {
			return nil, fmt.Errorf("seal: entry %d (id %s): %w", pos, id, err)
		}
		ring.keys = append(ring.keys, &key{id: id, aead: aead})
	}
	return ring, nil
}

// decodeKey decodes text as standard or URL-safe base64, padded or not. The
// decoders are strict, so one key has one spelling per alphabet.
func decodeKey(text string) ([]byte, bool) {
	// The decoders skip CR and LF; a key is one line, so refuse them.
	if strings.ContainsAny(text, "\r\n") {
		return nil, false
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding,
	} {
		if raw, err := enc.Strict().DecodeString(text); err == nil {
			return raw, true
		}
	}
	return nil, false
}

func newAEAD(raw []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// validID reports whether id matches [A-Za-z0-9_-]{1,16}.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := range len(id) {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// GenerateKey returns a fresh random AES-256 key as padded standard base64
// (44 characters), the form ParseKeyring expects after "id:". It is what the
// admin command generate-key prints. The error is that of the system's
// random source, which on supported systems does not fail.
func GenerateKey() (string, error) {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("seal: reading random key: %w", err)
	}
	defer clear(raw)
	return base64.StdEncoding.EncodeToString(raw), nil
}

// PrimaryID returns the id of the key [Keyring.Seal] uses, or "" for a
// Keyring that holds no key.
func (k *Keyring) PrimaryID() string {
	if k == nil || len(k.keys) == 0 {
		return ""
	}
	return k.keys[0].id
}

// IDs returns the ids of the ring's keys, primary first.
func (k *Keyring) IDs() []string {
	if k == nil {
		return nil
	}
	ids := make([]string, len(k.keys))
	for i, e := range k.keys {
		ids[i] = e.id
	}
	return ids
}

// Seal encrypts plaintext under the primary key with AES-256-GCM and a fresh
// random 96-bit nonce, and returns it in the text form
//
//	v1.<keyid>.<base64url(nonce || ciphertext || tag)>
//
// (URL-safe base64 without padding). context names where the value will be
// stored, e.g. "gitea-access|user:42": it is authenticated together with the
// "v1.<keyid>." header but not stored, and [Keyring.Open] must be given the
// same context, so a sealed value copied to another row or field does not
// open. Two seals of the same plaintext differ.
//
// Seal fails only with [ErrNoKeys], on a Keyring that holds no key.
func (k *Keyring) Seal(plaintext, context string) (string, error) {
	if k == nil || len(k.keys) == 0 {
		return "", ErrNoKeys
	}
	primary := k.keys[0]
	header := version + "." + primary.id + "."
	// The AEAD draws a fresh random nonce itself (cipher.NewGCMWithRandomNonce).
	body := primary.aead.Seal(nil, nil, []byte(plaintext), additionalData(header, context)) //nolint:gosec // G407: nil nonce: the AEAD makes a random one
	return header + base64.RawURLEncoding.EncodeToString(body), nil
}

// Open reverses [Keyring.Seal]: it finds the key named in sealed, checks that
// the value was sealed under it for this context and unchanged, and returns
// the plaintext.
//
// Errors wrap [ErrUnknownKey] when the key id is not in the ring, and
// [ErrCorrupt] when sealed is not in the v1 format or does not authenticate
// (changed, sealed for another context, or the key under that id is not the
// one it was sealed with); match them with errors.Is. Error texts never
// contain the sealed value or the plaintext.
func (k *Keyring) Open(sealed, context string) (string, error) {
	id, body, ok := parse(sealed)
	if !ok {
		return "", fmt.Errorf("%w: not in the %s format", ErrCorrupt, version)
	}
	e := k.find(id)
	if e == nil {
		return "", fmt.Errorf("%w: key id %s", ErrUnknownKey, id)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil || len(raw) < nonceSize+tagSize {
		return "", fmt.Errorf("%w: not in the %s format", ErrCorrupt, version)
	}
	header := sealed[:len(sealed)-len(body)]
	plain, err := e.aead.Open(nil, nil, raw, additionalData(header, context))
	if err != nil {
		return "", fmt.Errorf("%w: authentication failed (tampered, another context, or another key under id %s)", ErrCorrupt, id)
	}
	return string(plain), nil
}

// NeedsRotation reports whether sealed should be re-sealed under the primary
// key: it is true for a value whose header names any other key, and also for
// one whose header cannot be read at all, so that a rotation pass opens it
// and reports why it fails rather than skipping it. It reads only the header
// and authenticates nothing. On a Keyring that holds no key it reports false:
// there is no key to re-seal under.
//
// The admin command rotate-key re-seals ([Keyring.Open], then
// [Keyring.Seal]) every stored value for which NeedsRotation is true.
func (k *Keyring) NeedsRotation(sealed string) bool {
	primary := k.PrimaryID()
	if primary == "" {
		return false
	}
	id, _, ok := parse(sealed)
	return !ok || id != primary
}

// find returns the ring's key with the given id, or nil.
func (k *Keyring) find(id string) *key {
	if k == nil {
		return nil
	}
	for _, e := range k.keys {
		if e.id == id {
			return e
		}
	}
	return nil
}

// parse splits a sealed value into its key id and body. It checks the
// version, the id's syntax and that the body holds only the URL-safe base64
// alphabet (the decoder would otherwise skip CR and LF); the body's decoding
// and length are checked by Open.
func parse(sealed string) (id, body string, ok bool) {
	rest, ok := strings.CutPrefix(sealed, version+".")
	if !ok {
		return "", "", false
	}
	id, body, ok = strings.Cut(rest, ".")
	if !ok || !validID(id) || body == "" {
		return "", "", false
	}
	for i := range len(body) {
		switch c := body[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return "", "", false
		}
	}
	return id, body, true
}

// additionalData is what GCM authenticates besides the ciphertext: the
// value's header "v1.<keyid>." followed by the caller's context. The header
// ends in '.', which no id contains, so the split is unambiguous.
func additionalData(header, context string) []byte {
	return []byte(header + context)
}

// String returns the ring's key ids, primary first, e.g.
// "seal.Keyring{k2 (primary), k1}"; never key material.
func (k Keyring) String() string {
	var b strings.Builder
	b.WriteString("seal.Keyring{")
	for i, e := range k.keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.id)
		if i == 0 {
			b.WriteString(" (primary)")
		}
	}
	b.WriteString("}")
	return b.String()
}

// GoString is used by %#v; it shows the key ids and that the keys are
// redacted, e.g. `seal.Keyring{IDs: []string{"k2", "k1"}, Keys: "REDACTED"}`.
// It is for reading, not valid Go to rebuild the ring.
func (k Keyring) GoString() string {
	var b strings.Builder
	b.WriteString("seal.Keyring{IDs: []string{")
	for i, e := range k.keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(e.id))
	}
	b.WriteString(`}, Keys: "REDACTED"}`)
	return b.String()
}

// Format implements fmt.Formatter so that every verb, flag and width
// (%v %+v %#v %s %q %x ...) formats only what String or, for %#v, GoString
// returns.
func (k Keyring) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, k.GoString())
		return
	}
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), k.String())
}

// LogValue implements slog.LogValuer: a ring logs as a group of its primary
// id and all its ids, never key material.
func (k Keyring) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("primary", k.PrimaryID()),
		slog.Any("ids", k.IDs()),
	)
}
