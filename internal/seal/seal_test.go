package seal

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
)

// rawKey returns a fixed 32-byte key derived from seed, so tests can look for
// its bytes in output.
func rawKey(seed byte) []byte {
	b := make([]byte, KeySize)
	for i := range b {
		b[i] = seed + byte(i)*7
	}
	return b
}

func stdKey(seed byte) string { return base64.StdEncoding.EncodeToString(rawKey(seed)) }

// keyForms are all the spellings of a key a leak check must look for.
func keyForms(seed byte) []string {
	raw := rawKey(seed)
	return []string{
		base64.StdEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw),
		hex.EncodeToString(raw),
		strings.ToUpper(hex.EncodeToString(raw)),
		string(raw),
		fmt.Sprintf("%v", raw),  // [1 8 15 ...]
		fmt.Sprintf("%#v", raw), // []byte{0x1, 0x8, ...}
		strings.Trim(fmt.Sprintf("%v", raw[:8]), "[]"),
	}
}

func mustRing(t testing.TB, spec string) *Keyring {
	t.Helper()
	k, err := ParseKeyring(spec)
	if err != nil {
		t.Fatalf("ParseKeyring: %v", err)
	}
	return k
}

func mustSeal(t testing.TB, k *Keyring, plaintext, context string) string {
	t.Helper()
	s, err := k.Seal(plaintext, context)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return s
}

var (
	specK1   = "k1:" + stdKey(1)
	specK2   = "k2:" + stdKey(2)
	specK2K1 = specK2 + "," + specK1
)

func TestRoundTrip(t *testing.T) {
	k := mustRing(t, specK2K1)
	tests := []struct {
		name      string
		plaintext string
		context   string
	}{
		{name: "token", plaintext: "gto_0123456789abcdef0123456789abcdef", context: "gitea-access|user:42"},
		{name: "empty plaintext", plaintext: "", context: "gitea-refresh|user:42"},
		{name: "empty context", plaintext: "secret", context: ""},
		{name: "binary and unicode", plaintext: "\x00\xff\n.v1.k2.é世界", context: "ctx|\x00|.."},
		{name: "long", plaintext: strings.Repeat("x", 64<<10), context: "long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed := mustSeal(t, k, tt.plaintext, tt.context)
			if !strings.HasPrefix(sealed, "v1.k2.") {
				t.Errorf("sealed value starts %.10q, want v1.k2.", sealed)
			}
			body := strings.TrimPrefix(sealed, "v1.k2.")
			raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
			if err != nil {
				t.Fatalf("body is not unpadded base64url: %v", err)
			}
			if want := nonceSize + len(tt.plaintext) + tagSize; len(raw) != want {
				t.Errorf("body is %d bytes, want nonce+plaintext+tag = %d", len(raw), want)
			}
			if len(tt.plaintext) >= 4 && strings.Contains(sealed, tt.plaintext) {
				t.Error("sealed value contains the plaintext")
			}
			got, err := k.Open(sealed, tt.context)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got != tt.plaintext {
				t.Errorf("Open = %.20q, want %.20q", got, tt.plaintext)
			}
		})
	}
}

func TestSealsDiffer(t *testing.T) {
	k := mustRing(t, specK1)
	seen := map[string]bool{}
	for range 100 {
		s := mustSeal(t, k, "same token", "same|context")
		if seen[s] {
			t.Fatal("two seals of the same plaintext and context are equal")
		}
		seen[s] = true
	}
}

func TestContextBinding(t *testing.T) {
	k := mustRing(t, specK1)
	const sealedFor = "gitea-access|user:42"
	sealed := mustSeal(t, k, "token", sealedFor)
	tests := []struct {
		name    string
		context string
	}{
		{name: "another user", context: "gitea-access|user:43"},
		{name: "another field", context: "gitea-refresh|user:42"},
		{name: "empty", context: ""},
		{name: "prefix", context: "gitea-access|user:4"},
		{name: "extended", context: sealedFor + "2"},
		{name: "case", context: "Gitea-access|user:42"},
		{name: "header smuggled into context", context: "k1." + sealedFor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := k.Open(sealed, tt.context)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open with context %q = %q, %v; want ErrCorrupt", tt.context, got, err)
			}
			if got != "" {
				t.Errorf("Open returned %q alongside its error", got)
			}
		})
	}
}

// TestTamperEveryByte changes every byte of the sealed body (nonce,
// ciphertext and tag) in several ways, and every character of the text,
// header included; nothing opens.
func TestTamperEveryByte(t *testing.T) {
	k := mustRing(t, specK2K1)
	const plaintext, context = "a token of some length", "gitea-access|user:42"
	sealed := mustSeal(t, k, plaintext, context)
	header, body := sealed[:len("v1.k2.")], sealed[len("v1.k2."):]
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		t.Fatal(err)
	}
	region := func(i int) string {
		switch {
		case i < nonceSize:
			return "nonce"
		case i < len(raw)-tagSize:
			return "ciphertext"
		default:
			return "tag"
		}
	}
	for i := range raw {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			tampered := bytes.Clone(raw)
			tampered[i] ^= mask
			s := header + base64.RawURLEncoding.EncodeToString(tampered)
			if got, err := k.Open(s, context); !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s byte %d ^ %#x: Open = %q, %v; want ErrCorrupt", region(i), i, mask, got, err)
			}
		}
	}

	for i := range len(sealed) {
		for _, c := range []byte("AQgw_-.=\n 0k1") {
			if sealed[i] == c {
				continue
			}
			s := sealed[:i] + string(c) + sealed[i+1:]
			got, err := k.Open(s, context)
			inID := i >= len("v1.") && i < len(header)-1
			switch {
			case err == nil:
				t.Errorf("char %d (%q→%q): Open succeeded with %q", i, sealed[i], c, got)
			case inID && errors.Is(err, ErrUnknownKey):
			case !errors.Is(err, ErrCorrupt):
				t.Errorf("char %d (%q→%q): Open error %v, want ErrCorrupt", i, sealed[i], c, err)
			}
		}
	}

	tests := []struct {
		name   string
		sealed string
	}{
		{name: "truncated by one", sealed: sealed[:len(sealed)-1]},
		{name: "truncated to the nonce", sealed: header + base64.RawURLEncoding.EncodeToString(raw[:nonceSize])},
		{name: "shorter than nonce and tag", sealed: header + base64.RawURLEncoding.EncodeToString(raw[:nonceSize+tagSize-1])},
		{name: "tag removed", sealed: header + base64.RawURLEncoding.EncodeToString(raw[:len(raw)-tagSize])},
		{name: "byte appended", sealed: header + base64.RawURLEncoding.EncodeToString(append(bytes.Clone(raw), 0))},
		{name: "char appended", sealed: sealed + "A"},
		{name: "padding added", sealed: header + base64.URLEncoding.EncodeToString(raw)},
		{name: "std alphabet", sealed: header + base64.RawStdEncoding.EncodeToString(raw)},
		{name: "newline inside", sealed: sealed[:20] + "\n" + sealed[20:]},
		{name: "trailing newline", sealed: sealed + "\n"},
		{name: "leading space", sealed: " " + sealed},
		{name: "no body", sealed: header},
		{name: "version 2", sealed: "v2" + sealed[2:]},
		{name: "no version", sealed: sealed[len("v1."):]},
		{name: "moved to the other key", sealed: "v1.k1." + body},
		{name: "extra field", sealed: header + "x." + body},
		{name: "empty id", sealed: "v1.." + body},
		{name: "empty", sealed: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.sealed == sealed {
				t.Skip("this nonce and ciphertext encode the same in both alphabets")
			}
			if got, err := k.Open(tt.sealed, context); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Open = %q, %v; want ErrCorrupt", got, err)
			}
		})
	}
}

func TestUnknownKey(t *testing.T) {
	k1 := mustRing(t, specK1)
	k2 := mustRing(t, specK2)
	sealed := mustSeal(t, k2, "token", "ctx")
	_, err := k1.Open(sealed, "ctx")
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Open of a k2 value with ring [k1]: %v, want ErrUnknownKey", err)
	}
	if errors.Is(err, ErrCorrupt) {
		t.Error("an unknown key is also reported as ErrCorrupt")
	}
	if !strings.Contains(err.Error(), "k2") {
		t.Errorf("error %q does not name the key id", err)
	}
	if strings.Contains(err.Error(), sealed[len("v1.k2."):][:8]) {
		t.Errorf("error %q contains the sealed body", err)
	}

	// The same id under other key material is a wrong key, not an unknown one.
	other := mustRing(t, "k2:"+stdKey(9))
	if _, err := other.Open(sealed, "ctx"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Open under another key with the same id: %v, want ErrCorrupt", err)
	}

	var zero Keyring
	if _, err := zero.Open(sealed, "ctx"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("zero Keyring Open: %v, want ErrUnknownKey", err)
	}
	var nilRing *Keyring
	if _, err := nilRing.Open(sealed, "ctx"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("nil Keyring Open: %v, want ErrUnknownKey", err)
	}
	if _, err := zero.Seal("x", "ctx"); !errors.Is(err, ErrNoKeys) {
		t.Errorf("zero Keyring Seal: %v, want ErrNoKeys", err)
	}
	if _, err := nilRing.Seal("x", "ctx"); !errors.Is(err, ErrNoKeys) {
		t.Errorf("nil Keyring Seal: %v, want ErrNoKeys", err)
	}
	if zero.PrimaryID() != "" || nilRing.PrimaryID() != "" || zero.NeedsRotation(sealed) || nilRing.NeedsRotation(sealed) {
		t.Error("an empty Keyring reports a primary or a rotation")
	}
}

func TestRotation(t *testing.T) {
	old := mustRing(t, specK1)
	rotated := mustRing(t, specK2K1)
	if got := rotated.PrimaryID(); got != "k2" {
		t.Fatalf("PrimaryID = %q, want k2", got)
	}
	if got := fmt.Sprint(rotated.IDs()); got != "[k2 k1]" {
		t.Errorf("IDs = %s, want [k2 k1]", got)
	}
	const context = "gitea-refresh|user:7"
	sealedK1 := mustSeal(t, old, "old token", context)

	tests := []struct {
		name          string
		ring          *Keyring
		sealed        string
		wantRotation  bool
		wantPlaintext string
	}{
		{name: "old ring, own value", ring: old, sealed: sealedK1, wantRotation: false, wantPlaintext: "old token"},
		{name: "rotated ring opens k1 value", ring: rotated, sealed: sealedK1, wantRotation: true, wantPlaintext: "old token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ring.NeedsRotation(tt.sealed); got != tt.wantRotation {
				t.Errorf("NeedsRotation = %v, want %v", got, tt.wantRotation)
			}
			got, err := tt.ring.Open(tt.sealed, context)
			if err != nil || got != tt.wantPlaintext {
				t.Errorf("Open = %q, %v; want %q", got, err, tt.wantPlaintext)
			}
		})
	}

	// rotate-key: open and re-seal under the primary.
	plain, err := rotated.Open(sealedK1, context)
	if err != nil {
		t.Fatal(err)
	}
	resealed := mustSeal(t, rotated, plain, context)
	if !strings.HasPrefix(resealed, "v1.k2.") {
		t.Errorf("rotated ring sealed %.8q..., want under k2", resealed)
	}
	if rotated.NeedsRotation(resealed) {
		t.Error("NeedsRotation is true for a value sealed under the primary")
	}
	if got, err := rotated.Open(resealed, context); err != nil || got != "old token" {
		t.Errorf("Open of re-sealed value = %q, %v", got, err)
	}
	if _, err := old.Open(resealed, context); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old ring opening a k2 value: %v, want ErrUnknownKey", err)
	}
	// After k1 is dropped, leftovers are ErrUnknownKey.
	if _, err := mustRing(t, specK2).Open(sealedK1, context); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("ring [k2] opening a k1 value: %v, want ErrUnknownKey", err)
	}
	// A value whose header cannot be read is reported for rotation, so that
	// rotate-key tries it and says why it fails.
	for _, bad := range []string{"", "garbage", "v2.k2.AAAA", "v1.k2"} {
		if !rotated.NeedsRotation(bad) {
			t.Errorf("NeedsRotation(%q) = false, want true for an unreadable header", bad)
		}
	}
}

func TestParseKeyring(t *testing.T) {
	raw1 := rawKey(1)
	tests := []struct {
		name    string
		spec    string
		wantIDs string // fmt.Sprint of IDs(), when no error
		wantErr []string
	}{
		{name: "bare std padded", spec: base64.StdEncoding.EncodeToString(raw1), wantIDs: "[k1]"},
		{name: "bare std raw", spec: base64.RawStdEncoding.EncodeToString(raw1), wantIDs: "[k1]"},
		{name: "bare url padded", spec: base64.URLEncoding.EncodeToString(raw1), wantIDs: "[k1]"},
		{name: "bare url raw", spec: base64.RawURLEncoding.EncodeToString(raw1), wantIDs: "[k1]"},
		{name: "one with id", spec: "prod_2026-a:" + stdKey(1), wantIDs: "[prod_2026-a]"},
		{name: "two, primary first", spec: specK2K1, wantIDs: "[k2 k1]"},
		{name: "spaces around entries", spec: "  k2:" + stdKey(2) + " ,  k1 : " + stdKey(1) + "\n", wantIDs: "[k2 k1]"},
		{name: "16-char id", spec: "abcdefghijklmnop:" + stdKey(1), wantIDs: "[abcdefghijklmnop]"},

		{name: "empty", spec: "", wantErr: []string{"no key given"}},
		{name: "blank", spec: "  \t ", wantErr: []string{"no key given"}},
		{name: "lone comma", spec: ",", wantErr: []string{"entry 1", "empty"}},
		{name: "trailing comma", spec: specK1 + ",", wantErr: []string{"entry 2", "empty"}},
		{name: "bad base64", spec: "k1:not*base64*at*all!", wantErr: []string{"entry 1", "k1", "base64"}},
		{name: "bad base64 bare", spec: "not*base64*at*all!", wantErr: []string{"entry 1", "k1", "base64"}},
		{name: "mixed alphabets", spec: "k1:ab+-" + stdKey(1)[4:], wantErr: []string{"entry 1", "k1", "base64"}},
		{name: "newline inside key", spec: "k1:" + stdKey(1)[:20] + "\n" + stdKey(1)[20:], wantErr: []string{"entry 1", "k1", "base64"}},
		{name: "non-canonical trailing bits", spec: "k1:" + stdKey(1)[:42] + "B", wantErr: []string{"entry 1", "k1", "base64"}},
		{name: "16-byte key", spec: specK2 + ",k1:" + base64.StdEncoding.EncodeToString(raw1[:16]), wantErr: []string{"entry 2", "k1", "16 bytes", "want 32"}},
		{name: "64-byte key", spec: "k1:" + base64.StdEncoding.EncodeToString(append(rawKey(1), rawKey(2)...)), wantErr: []string{"entry 1", "k1", "64 bytes"}},
		{name: "no key after colon", spec: "k1:", wantErr: []string{"entry 1", "k1", "no key"}},
		{name: "duplicate id", spec: specK1 + ",k1:" + stdKey(2), wantErr: []string{"entry 2", "k1", "already used by entry 1"}},
		{name: "duplicate key", spec: specK2 + ",k1:" + stdKey(2), wantErr: []string{"entry 2", "k1", "same key as entry 1", "k2"}},
		{name: "bad id char", spec: specK2 + ",k.1:" + stdKey(1), wantErr: []string{"entry 2", "key id", "not valid"}},
		{name: "bad id space", spec: "k 1:" + stdKey(1), wantErr: []string{"entry 1", "key id", "not valid"}},
		{name: "empty id", spec: ":" + stdKey(1), wantErr: []string{"entry 1", "key id", "not valid"}},
		{name: "17-char id", spec: "abcdefghijklmnopq:" + stdKey(1), wantErr: []string{"entry 1", "key id", "not valid"}},
		{name: "key in the id place", spec: stdKey(1) + ":k1", wantErr: []string{"entry 1", "key id", "not valid"}},
		{name: "bare key among several", spec: specK2 + "," + stdKey(1), wantErr: []string{"entry 2", "no key id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKeyring(tt.spec)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("ParseKeyring: %v", err)
				}
				if got := fmt.Sprint(k.IDs()); got != tt.wantIDs {
					t.Errorf("IDs = %s, want %s", got, tt.wantIDs)
				}
				if _, err := k.Open(mustSeal(t, k, "x", "c"), "c"); err != nil {
					t.Errorf("round trip: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseKeyring succeeded with ids %v, want an error", k.IDs())
			}
			msg := err.Error()
			for _, want := range tt.wantErr {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
			// No key text: neither of the spec's entries nor of the test keys.
			for _, entry := range strings.Split(tt.spec, ",") {
				_, text, ok := strings.Cut(entry, ":")
				if !ok {
					text = entry
				}
				if text = strings.TrimSpace(text); len(text) >= 6 && strings.Contains(msg, text) {
					t.Errorf("error %q contains key text %q", msg, text)
				}
			}
			for _, seed := range []byte{1, 2} {
				for _, form := range keyForms(seed) {
					if strings.Contains(msg, form) {
						t.Errorf("error %q contains key material %q", msg, form)
					}
				}
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two generated keys are equal")
	}
	raw, err := base64.StdEncoding.DecodeString(a)
	if err != nil || len(raw) != KeySize {
		t.Fatalf("generated key decodes to %d bytes, %v; want %d", len(raw), err, KeySize)
	}
	k := mustRing(t, "k3:"+a+",k2:"+b)
	if got, err := k.Open(mustSeal(t, k, "tok", "c"), "c"); err != nil || got != "tok" {
		t.Errorf("round trip with generated keys = %q, %v", got, err)
	}
	if bare := mustRing(t, a); bare.PrimaryID() != DefaultKeyID {
		t.Errorf("bare generated key got id %q, want %q", bare.PrimaryID(), DefaultKeyID)
	}
}

func TestKeyringNeverShowsKeys(t *testing.T) {
	k := mustRing(t, specK2K1)
	type holder struct {
		Ring *Keyring
		Val  Keyring
	}
	h := holder{Ring: k, Val: *k}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%20v", "%-v"} {
		outputs = append(outputs,
			fmt.Sprintf(verb, k),
			fmt.Sprintf(verb, *k),
			fmt.Sprintf(verb, h),
			fmt.Sprintf(verb, &h),
			fmt.Sprintf(verb, []*Keyring{k}),
			fmt.Sprintf(verb, map[string]any{"ring": k}),
		)
	}
	outputs = append(outputs, fmt.Sprint(k), fmt.Sprintln(*k), k.String(), k.GoString())

	for _, newHandler := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(newHandler(&buf))
		log.Info("keys", "ring", k, "value", *k, "holder", h, slog.Any("any", k))
		log.Info("group", slog.Group("g", "ring", k))
		outputs = append(outputs, buf.String())
	}

	for _, out := range outputs {
		for _, seed := range []byte{1, 2} {
			for _, form := range keyForms(seed) {
				if strings.Contains(out, form) {
					t.Errorf("output %q shows key material %q", out, form)
				}
			}
		}
	}
	for _, want := range []struct {
		name string
		out  string
		has  string
	}{
		{name: "%v", out: fmt.Sprintf("%v", k), has: "seal.Keyring{k2 (primary), k1}"},
		{name: "%v of value", out: fmt.Sprintf("%v", *k), has: "seal.Keyring{k2 (primary), k1}"},
		{name: "%#v", out: fmt.Sprintf("%#v", k), has: `seal.Keyring{IDs: []string{"k2", "k1"}, Keys: "REDACTED"}`},
		{name: "%+v in struct", out: fmt.Sprintf("%+v", h), has: "Val:seal.Keyring{k2 (primary), k1}"},
		{name: "json", out: outputs[len(outputs)-2], has: `"ring":{"primary":"k2","ids":["k2","k1"]}`},
		{name: "text", out: outputs[len(outputs)-1], has: "ring.primary=k2 ring.ids=\"[k2 k1]\""},
	} {
		if !strings.Contains(want.out, want.has) {
			t.Errorf("%s: output %q does not contain %q", want.name, want.out, want.has)
		}
	}
}

func TestErrorsNeverShowSecrets(t *testing.T) {
	k := mustRing(t, specK2K1)
	const plaintext = "gto_supersecrettokenvalue"
	sealed := mustSeal(t, k, plaintext, "ctx")
	body := sealed[len("v1.k2."):]
	for _, tt := range []struct {
		name    string
		ring    *Keyring
		sealed  string
		context string
	}{
		{name: "wrong context", ring: k, sealed: sealed, context: "other"},
		{name: "tampered", ring: k, sealed: tamper(sealed, len(sealed)-10), context: "ctx"},
		{name: "bad format", ring: k, sealed: sealed + "!", context: "ctx"},
		{name: "unknown key", ring: mustRing(t, specK1), sealed: sealed, context: "ctx"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.ring.Open(tt.sealed, tt.context)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			for _, secret := range []string{plaintext, body[:10], body[len(body)-10:]} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q contains %q", msg, secret)
				}
			}
		})
	}
}

// tamper returns s with the character at i replaced by another.
func tamper(s string, i int) string {
	c := byte('A')
	if s[i] == c {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func TestConcurrentUse(t *testing.T) {
	k := mustRing(t, specK2K1)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				p := fmt.Sprintf("token-%d-%d", g, i)
				c := fmt.Sprintf("ctx|%d", g)
				s, err := k.Seal(p, c)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := k.Open(s, c); err != nil || got != p {
					t.Errorf("Open = %q, %v; want %q", got, err, p)
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzOpen(f *testing.F) {
	k, err := ParseKeyring(specK2K1)
	if err != nil {
		f.Fatal(err)
	}
	valid, err := k.Seal("a token", "ctx")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct{ sealed, context string }{
		{valid, "ctx"},
		{valid, "other"},
		{valid[:len(valid)-1], "ctx"},
		{"", ""},
		{"v1.", ""},
		{"v1..", ""},
		{"v1.k1.", "ctx"},
		{"v1.k2.AAAA", "ctx"},
		{"v1.k2.====", "ctx"},
		{"v1.k9." + valid[len("v1.k2."):], "ctx"},
		{"v2.k2." + valid[len("v1.k2."):], "ctx"},
		{"v1.k2.\n" + valid[len("v1.k2."):], "ctx"},
		{"v1." + strings.Repeat("k", 40) + ".AAAA", ""},
		{"v1.k2." + strings.Repeat("A", 38), ""},
	} {
		f.Add(seed.sealed, seed.context)
	}
	f.Fuzz(func(t *testing.T, sealed, context string) {
		rotate := k.NeedsRotation(sealed)
		got, err := k.Open(sealed, context)
		if err != nil {
			if got != "" {
				t.Errorf("Open returned %q with error %v", got, err)
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnknownKey) {
				t.Errorf("Open error %v is neither ErrCorrupt nor ErrUnknownKey", err)
			}
		} else if rotate != strings.HasPrefix(sealed, "v1.k1.") {
			t.Errorf("a value that opens has NeedsRotation %v, want true exactly when sealed under k1", rotate)
		}
	})
}

func ExampleKeyring() {
	// BROKER_ENCRYPTION_KEY=k2:<new>,k1:<old>: k2 seals, both open.
	oldRing, _ := ParseKeyring("k1:" + stdKey(1))
	ring, _ := ParseKeyring("k2:" + stdKey(2) + ",k1:" + stdKey(1))

	stored, _ := oldRing.Seal("gto_token", "gitea-access|user:42")
	fmt.Println(ring.NeedsRotation(stored))

	token, _ := ring.Open(stored, "gitea-access|user:42")
	resealed, _ := ring.Seal(token, "gitea-access|user:42")
	fmt.Println(token, resealed[:len("v1.k2.")], ring.NeedsRotation(resealed))

	_, err := ring.Open(stored, "gitea-access|user:43")
	fmt.Println(errors.Is(err, ErrCorrupt))

	fmt.Println(ring)
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	log.Info("broker ready", "keys", ring)
	// Output:
	// true
	// gto_token v1.k2. false
	// true
	// seal.Keyring{k2 (primary), k1}
	// level=INFO msg="broker ready" keys.primary=k2 keys.ids="[k2 k1]"
}
