package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sprintf(format string, v any) string { return fmt.Sprintf(format, v) }

func TestParseDotenv(t *testing.T) {
	in := `
# a comment
A=plain
export B = spaced # trailing comment
C='single # kept'
D="line\nbreak \"quoted\""
E=
F=with#hash
`
	got, err := parseDotenv(strings.NewReader(in))
	if err != nil {
		t.Fatalf("parseDotenv: %v", err)
	}
	want := map[string]string{"A": "plain", "B": "spaced", "C": "single # kept", "D": "line\nbreak \"quoted\"", "E": "", "F": "with#hash"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseDotenv mismatch (-want +got):\n%s", diff)
	}
}

func TestParseDotenvErrorsNeverEchoValues(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "no equals", in: "SECRETVALUE\n", want: "line 1: want KEY=VALUE"},
		{name: "bad key", in: "OK=1\n1BAD=topsecret\n", want: "line 2: want KEY=VALUE"},
		{name: "unterminated", in: "K=\"topsecret\n", want: "line 1 (K): unterminated \" quote"},
		{name: "junk after quote", in: "K='topsecret' junk\n", want: "line 1 (K): unexpected text after the closing quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseDotenv(strings.NewReader(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("parseDotenv(%q) error = %v, want %q", tt.in, err, tt.want)
			}
		})
	}
}

func FuzzParseDotenv(f *testing.F) {
	f.Add("A=1\nB='x'\nC=\"y\\n\"\n")
	f.Add("K=\"\\\"")
	f.Fuzz(func(t *testing.T, in string) {
		vars, err := parseDotenv(strings.NewReader(in))
		if err != nil {
			return
		}
		for k := range vars {
			if !envKey.MatchString(k) {
				t.Fatalf("parseDotenv(%q) accepted key %q", in, k)
			}
		}
	})
}
