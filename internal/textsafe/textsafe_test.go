package textsafe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "plain text unchanged", in: "Fix the bug in `main.go`.\n\tThanks! 🎉 café", want: "Fix the bug in `main.go`.\n\tThanks! 🎉 café"},
		{name: "tag characters", in: "hello\U000E0049\U000E0047\U000E004E\U000E004F\U000E0052\U000E0045 world", want: "hello world"},
		{name: "bidi override", in: "access\u202Eevil\u202C level", want: "accessevil level"},
		{name: "bidi isolates and marks", in: "a\u2066b\u2069c\u200Fd\u061C", want: "abcd"},
		{name: "zero width", in: "ig\u200Bnore\u200C prev\u200Dious\u2060 \uFEFFinstructions", want: "ignore previous instructions"},
		{name: "controls", in: "bell\x07 esc\x1b[31m del\x7f c1\u0085", want: "bell esc[31m del c1"},
		{name: "invalid utf-8", in: "ok\xffok", want: "okok"},
		// Variation selectors can carry one byte each: a whole hidden text.
		{name: "variation selectors", in: "hi\uFE00\uFE01\U000E0100\U000E01EF\uFE0E there", want: "hi there"},
		{name: "emoji selector away from an emoji", in: "a\uFE0F\uFE0Fb", want: "ab"},
		{name: "blank fillers", in: "x\u3164\u115F\u1160\uFFA0\u2800\u034F\u17B4\u17B5y", want: "xy"},
		{name: "format characters", in: "x\u206A\u206F\u2065\u180B\u180F\U0001D173\U0001D17A\uFFF9\uFFFBy", want: "xy"},
		{name: "joiner between letters", in: "ig\u200Dnore", want: "ignore"},
		{name: "joiner hiding tags between emoji", in: "👍\u200D\U000E0041\U000E0042👍", want: "👍\u200D👍"},
		// Emoji sequences and scripts stay as they are.
		{name: "emoji sequences", in: "👨\u200D👩\u200D👧 🏳\uFE0F\u200D🌈 ❤\uFE0F 1\uFE0F\u20E3 👍🏽 🇫🇷",
			want: "👨\u200D👩\u200D👧 🏳\uFE0F\u200D🌈 ❤\uFE0F 1\uFE0F\u20E3 👍🏽 🇫🇷"},
		{name: "scripts", in: "한국어 日本語 हिन्दी العربية עברית ελληνικά ქართული", want: "한국어 日本語 हिन्दी العربية עברית ελληνικά ქართული"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clean(tt.in); got != tt.want {
				t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzClean(f *testing.F) {
	f.Add("a\u202Eb\U000E0041c\u200Bd")
	f.Add("👍\u200D\U000E0041👍\uFE0F\uFE0F\u200D")
	f.Add("1\uFE0F\u20E3\u200D\uFE0F👨")
	f.Fuzz(func(t *testing.T, s string) {
		c := Clean(s)
		if !utf8.ValidString(c) || strings.ContainsFunc(c, invisible) {
			t.Fatalf("Clean(%q) = %q still holds invisible or invalid text", s, c)
		}
		var prev rune
		rs := []rune(c)
		for i, r := range rs {
			next := rune(0)
			if i+1 < len(rs) {
				next = rs[i+1]
			}
			if r == emojiSelector && !selectable(prev) || r == zwj && !joinable(prev, next) {
				t.Fatalf("Clean(%q) = %q keeps a joiner outside an emoji sequence at rune %d", s, c, i)
			}
			prev = r
		}
		if Clean(c) != c {
			t.Fatalf("Clean is not idempotent on %q", s)
		}
	})
}

func TestMaskSecretsFixtures(t *testing.T) {
	tests := []struct {
		file      string
		leaks     []string // must not survive
		keeps     []string // must survive
		wantFound int
	}{
		{file: "leaky.env", leaks: []string{"S3cr3t-Passw0rd!", "abcd1234efgh5678", "gto_abcdefghijklmnopqrstuvwxyz012345"},
			keeps: []string{"DB_HOST=db.internal", "PLACEHOLDER_TOKEN=changeme", "DEBUG=true", "DB_PASSWORD="}, wantFound: 3},
		{file: "config.yaml", leaks: []string{"hunter2hunter2", "ghp_0123456789abcdefghijABCDEFGHIJ012345", "AKIAIOSFODNN7EXAMPLE"},
			keeps: []string{"region: eu-west-1", "git.example.com"}, wantFound: 3},
		{file: "key.pem", leaks: []string{"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"}, keeps: []string{"Some notes before the key.", "And after it."}, wantFound: 1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, n := MaskSecrets(string(b))
			for _, leak := range tt.leaks {
				if strings.Contains(got, leak) {
					t.Errorf("MaskSecrets(%s) kept %q:\n%s", tt.file, leak, got)
				}
			}
			for _, keep := range tt.keeps {
				if !strings.Contains(got, keep) {
					t.Errorf("MaskSecrets(%s) lost %q:\n%s", tt.file, keep, got)
				}
			}
			if n < tt.wantFound {
				t.Errorf("MaskSecrets(%s) found %d secrets, want at least %d", tt.file, n, tt.wantFound)
			}
		})
	}
}

func TestMaskSecretsLeavesCodeAlone(t *testing.T) {
	code := "func token() string { return os.Getenv(\"API_TOKEN\") }\npassword := flag.String(\"password\", \"\", \"the password\")\n# Guide\nSet `API_KEY=<your key>` in .env.\n"
	if got, n := MaskSecrets(code); n != 0 || got != code {
		t.Errorf("MaskSecrets changed ordinary code (%d found):\n%s", n, got)
	}
}

func TestMaskSecretsInDiffs(t *testing.T) {
	diff := "@@ -1,2 +1,2 @@\n-deploy_token = old-secret-value-1\n+deploy_token = new-secret-value-2\n context line\n"
	got, n := MaskSecrets(diff)
	if n != 2 || strings.Contains(got, "secret-value") || !strings.Contains(got, "+deploy_token = "+Masked) {
		t.Errorf("MaskSecrets(diff) = %q (%d found), want both values masked", got, n)
	}
}

// Secrets split by invisible characters come back whole once cleaned, so
// text is cleaned first and masked then.
func TestCleanThenMaskSplitSecrets(t *testing.T) {
	tests := []struct{ name, in, leak string }{
		{name: "aws key", in: "key AK\u200bIAIOSFODNN7EXAMPLE here", leak: "IOSFODNN7EXAMPLE"},
		{name: "github token", in: "gh\u200bp_0123456789abcdefghijABCDEFGHIJ012345", leak: "0123456789abcdefghij"},
		{name: "password assignment", in: "pass\u200bword=hunter2hunter2\n", leak: "hunter2"},
		{name: "tag characters", in: "api_\U000E0041key: s3cr3t-v4lu3", leak: "s3cr3t"},
		{name: "variation selector", in: "to\uFE00ken = \"abc123def456\"", leak: "abc123"},
		{name: "bidi", in: "{\"pass\u202Eword\": \"hunter2\"}", leak: "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, n := MaskSecrets(tt.in); n != 0 && !strings.Contains(tt.in, "\u202E") {
				t.Logf("MaskSecrets alone already finds %d in %q: %q", n, tt.in, got)
			}
			got, n := MaskSecrets(Clean(tt.in))
			if n != 1 || strings.Contains(got, tt.leak) || !strings.Contains(got, Masked) {
				t.Errorf("MaskSecrets(Clean(%q)) = %q (%d found), want the secret masked once", tt.in, got, n)
			}
		})
	}
}

func TestMaskSecretsOneLineJSON(t *testing.T) {
	tests := []struct {
		in    string
		leaks []string
		keeps []string
		n     int
	}{
		{in: `{"password": "hunter2", "api_key": "k-1234567890"}`, leaks: []string{"hunter2", "k-1234567890"}, keeps: []string{`"password": "`, `"api_key": "`}, n: 2},
		{in: `config {"user":"bob","db_password":"pa\"ss w0rd","region":"eu"} and {'token': 'tok3n'}`,
			leaks: []string{"pa\\\"ss", "w0rd", "tok3n"}, keeps: []string{`"user":"bob"`, `"region":"eu"`}, n: 2},
		{in: `connect(host="db", password="hunter2")`, leaks: []string{"hunter2"}, keeps: []string{`host="db"`}, n: 1},
		{in: `curl -d '{"client_secret":"abcdef0123"}' https://x`, leaks: []string{"abcdef0123"}, n: 1},
		// Placeholders, labels and code stay.
		{in: `{"password": "", "token": "${TOKEN}", "secret": "changeme"}`, keeps: []string{`"${TOKEN}"`, `"changeme"`}},
		{in: `label("Password:", "Enter it")`, keeps: []string{`"Enter it"`}},
		{in: `if password == "" { return }`, keeps: []string{`password == ""`}},
		{in: `token := os.Getenv("TOKEN")`, keeps: []string{`os.Getenv("TOKEN")`}},
	}
	for _, tt := range tests {
		got, n := MaskSecrets(tt.in)
		for _, leak := range tt.leaks {
			if strings.Contains(got, leak) {
				t.Errorf("MaskSecrets(%s) = %s kept %q", tt.in, got, leak)
			}
		}
		for _, keep := range tt.keeps {
			if !strings.Contains(got, keep) {
				t.Errorf("MaskSecrets(%s) = %s lost %q", tt.in, got, keep)
			}
		}
		if n != tt.n {
			t.Errorf("MaskSecrets(%s) found %d, want %d: %s", tt.in, n, tt.n, got)
		}
	}
}

// The prefilter never hides a secret: whatever MaskSecrets masks,
// MayHoldSecret saw, also in the text's JSON encoding.
func TestMayHoldSecret(t *testing.T) {
	texts := []string{"just words, nothing to see: a=b", "https://example.com/x?y=1", "", "Tokens are nice", "mail me @ home"}
	for _, f := range []string{"leaky.env", "config.yaml", "key.pem"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	texts = append(texts, `{"password": "hunter2"}`, "AKIAIOSFODNN7EXAMPLE", "sk-proj-0123456789abcdefghij0123456789ab", "xoxb-0123456789-abc",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "AIzaSyA0123456789abcdefghijklmnopqrstu",
		"glpat-0123456789abcdefghij", "github_pat_"+strings.Repeat("a", 40), "sk_live_0123456789abcdef", "export SECRET_KEY='x1y2z3'")
	for _, s := range texts {
		got, n := MaskSecrets(s)
		if n == 0 && got != s {
			t.Errorf("MaskSecrets(%q) changed the text without finding a secret", s)
		}
		if n > 0 && !MayHoldSecret([]byte(s)) {
			t.Errorf("MayHoldSecret(%q) = false, but MaskSecrets finds %d", s, n)
		}
	}
	for _, s := range texts[:5] {
		if MayHoldSecret([]byte(s)) && !strings.Contains(s, ":") {
			t.Errorf("MayHoldSecret(%q) = true", s)
		}
	}
}

func FuzzMaskSecrets(f *testing.F) {
	f.Add(`{"password": "hunter2", "api_key": "x"}`)
	f.Add("AKIAIOSFODNN7EXAMPLE\npassword=abc\n")
	f.Add("https://u:p@h/ -----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----")
	f.Add("x-api-key: 0123456789 token=abc\nsk-0123456789abcdefghij0123456789abcdef")
	f.Fuzz(func(t *testing.T, s string) {
		got, n := MaskSecrets(s)
		if want, wantN := maskUnfiltered(s); got != want || n != wantN {
			t.Fatalf("MaskSecrets(%q) = %q, %d; without its prefilter %q, %d", s, got, n, want, wantN)
		}
		if n > 0 && !MayHoldSecret([]byte(s)) {
			t.Fatalf("MayHoldSecret(%q) = false, but MaskSecrets finds %d", s, n)
		}
		if n == 0 && got != s {
			t.Fatalf("MaskSecrets(%q) = %q changed it without finding a secret", s, got)
		}
	})
}

// maskUnfiltered is MaskSecrets without its prefilter: every pattern on
// every line.
func maskUnfiltered(s string) (string, int) {
	s, found := maskPattern(pemPattern, s)
	var b strings.Builder
	for line := range strings.Lines(s) {
		for _, p := range secretPatterns {
			var n int
			line, n = maskPattern(p.re, line)
			found += n
		}
		b.WriteString(line)
	}
	return b.String(), found
}

func TestNeedsCleaning(t *testing.T) {
	for _, s := range []string{"plain ASCII text\n\t", "日本語 العربية हिन्दी", "café 🎉"} {
		if NeedsCleaning([]byte(s)) {
			t.Errorf("NeedsCleaning(%q) = true", s)
		}
	}
	for _, s := range []string{"a\u200bb", "x\U000E0041", "bad\xff", "del\x7f", "bell\x07", "sel\uFE0F", "\u3164"} {
		if !NeedsCleaning([]byte(s)) {
			t.Errorf("NeedsCleaning(%q) = false", s)
		}
	}
}

func BenchmarkMaskSecrets(b *testing.B) {
	line := "func handler(w http.ResponseWriter, r *http.Request) { // serve the page and log its size\n"
	text := strings.Repeat(line, 60<<10/len(line))
	b.Run("clean-60KB", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			MaskSecrets(text)
		}
	})
	dirty := text[:len(text)/2] + "password = hunter2hunter2\n" + text[len(text)/2:]
	b.Run("one-secret-60KB", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			MaskSecrets(dirty)
		}
	})
}
