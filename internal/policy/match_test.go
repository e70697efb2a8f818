package policy

import (
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatchStar(t *testing.T) {
	tests := []struct {
		glob, name string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"delete_*", "delete_file", true},
		{"delete_*", "delete_", true},
		{"delete_*", "undelete_file", false},
		{"*_file", "delete_file", true},
		{"*_file", "delete_files", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"a**b", "ab", true},
		{"*.pem", "é.pem", true},
		{"é*", "éa", true},
		{"é*", "e\u0301", false},
		{"get_me", "get_me", true},
		{"get_me", "get_mex", false},
		{strings.Repeat("*a", 50), strings.Repeat("a", 1000), true},
		{strings.Repeat("*a", 50) + "b", strings.Repeat("a", 1000), false},
	}
	for _, tt := range tests {
		if got := matchStar(tt.glob, tt.name); got != tt.want {
			t.Errorf("matchStar(%q, %q) = %v, want %v", tt.glob, tt.name, got, tt.want)
		}
	}
}

func TestFold(t *testing.T) {
	for _, pair := range [][2]string{
		{"acme/Web", "ACME/web"}, {"k", "\u212a"}, {"s", "ſ"}, {"straße", "STRAßE"}, {"Σ", "ς"}, {"", ""},
	} {
		if fold(pair[0]) != fold(pair[1]) {
			t.Errorf("fold(%q) = %q != fold(%q) = %q", pair[0], fold(pair[0]), pair[1], fold(pair[1]))
		}
	}
	for _, pair := range [][2]string{{"a", "b"}, {"i", "İ"}, {"ss", "ß"}} {
		if fold(pair[0]) == fold(pair[1]) {
			t.Errorf("fold(%q) == fold(%q)", pair[0], pair[1])
		}
	}
}

func TestCovers(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"src", "src", true},
		{"src", "src/a/b", true},
		{"src", "srcx", false},
		{"src", "", false},
		{"src/**", "src", true},
		{"src/**", "src/a/b", true},
		{"src/**", "lib/src/a", false},
		{"**", "", true},
		{"**", "a/b", true},
		{"**/secrets", "secrets/x", true},
		{"**/secrets", "a/b/secrets", true},
		{"**/secrets", "a/b/secretsx", false},
		{"**/*.pem", "a/b/c.pem", true},
		{"*.pem", "c.pem", true},
		{"*.pem", "a/c.pem", false},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/y/b/z", true},
		{"a/**/b", "a/x/y/c", false},
		{"a/*/c", "a/b/c", true},
		{"a/*/c", "a/b/d/c", false},
		{"**/**/**/x", strings.Repeat("d/", 500) + "x", true},
		{"**/**/**/x", strings.Repeat("d/", 500) + "y", false},
	}
	for _, tt := range tests {
		pat, problem := newPathPattern(tt.pattern)
		if problem != "" {
			t.Fatalf("newPathPattern(%q): %s", tt.pattern, problem)
		}
		segs, problem := cleanPath(tt.path)
		if problem != "" {
			t.Fatalf("cleanPath(%q): %s", tt.path, problem)
		}
		if got := pat.covers(pat.segs, segs); got != tt.want {
			t.Errorf("%q covers %q = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in, want, problem string
	}{
		{"src/a.go", "src/a.go", ""},
		{"./src//a.go/", "src/a.go", ""},
		{"src/../lib/x", "lib/x", ""},
		{"", "", ""},
		{".", "", ""},
		{"a/..", "", ""},
		{"..", "", "a path leads out of the repository"},
		{"a/../../b", "", "a path leads out of the repository"},
		{"/a", "", "a path is absolute"},
		{"//a", "", "a path is absolute"},
		{`a\b`, "", "a path holds a backslash"},
		{"a\x00b", "", "a path holds a control character"},
		{"a\x1bb", "", "a path holds a control character"},
		{"a\u009bb", "", "a path holds a control character"},
		{"a\xc0", "", "a path is not valid UTF-8"},
		{strings.Repeat("a", maxPathLen+1), "", "a path is longer than 4096 bytes"},
		{"..a/b..", "..a/b..", ""},
	}
	for _, tt := range tests {
		segs, problem := cleanPath(tt.in)
		if got := strings.Join(segs, "/"); got != tt.want || problem != tt.problem {
			t.Errorf("cleanPath(%q) = %q, %q; want %q, %q", tt.in, got, problem, tt.want, tt.problem)
		}
	}
}

// underFold reports, independently of the package's matcher, whether the
// cleaned form of p lies at or under the directory prefix (compared
// case-insensitively, segment by segment).
func underFold(prefix []string, p string) bool {
	c := path.Clean(p)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") || strings.HasPrefix(c, "/") {
		return false
	}
	segs := strings.Split(c, "/")
	if len(segs) < len(prefix) {
		return false
	}
	for i := range prefix {
		if !strings.EqualFold(prefix[i], segs[i]) {
			return false
		}
	}
	return true
}

// FuzzPathMatch: a path that cleans to something at or under a denied
// directory is never allowed, however it is spelled, and whatever the allow
// lists say.
func FuzzPathMatch(f *testing.F) {
	for _, s := range [][3]string{
		{"src/secrets", "x", "src/../src/secrets/x"},
		{"src/secrets", "key.pem", "./src/secrets/key.pem"},
		{"src/secrets", "k", "src//secrets/k"},
		{"src/secrets", "x", "SRC/Secrets/x"},
		{"src/secrets", "x", "src/secrets/./x/"},
		{".gitea/workflows", "ci.yml", ".gitea/workflows/../workflows/ci.yml"},
		{".gitea/workflows", "ci.yml", "a/b/../../.gitea/workflows/ci.yml"},
		{"a", "b", `a\b`},
		{"kelvin", "x", "\u212aelvin/x"},
		{"secret", "x", "ſecret/x"},
		{"Σίσυφος", "x", "σίσυφοσ/x"},
		{"a", "b", "/a/b"},
		{"a", "b", "../a/b"},
		{"a", "b", "a/\x00/b"},
		{"a", "b", "a/b\n"},
		{"données", "x", "DONNÉES/x"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, prefix, suffix, raw string) {
		prefix = strings.Trim(prefix, "/")
		pat, problem := newPathPattern(prefix)
		if problem != "" || strings.Contains(prefix, "*") || strings.ContainsAny(prefix, "\"'#:") {
			return // only literal directories: the oracle does not glob
		}
		dir := pat.segs
		for _, allow := range []string{`["**"]`, strconv.Quote(prefix + "/**"), strconv.Quote(prefix)} {
			src := "paths: {allow: [" + allow + "], deny: [" + strconv.Quote(prefix) + "]}"
			p, err := Parse("fuzz.yaml", []byte(src), known)
			if err != nil {
				return // a prefix YAML reads differently; nothing to check
			}
			up := strings.ToUpper(prefix)
			if !utf8.ValidString(up) {
				up = prefix
			}
			candidates := []string{
				raw,
				prefix + "/" + suffix,
				"./" + prefix + "/" + suffix,
				strings.ReplaceAll(prefix, "/", "//") + "//" + suffix,
				"x/../" + prefix + "/" + suffix,
				prefix + "/./" + suffix + "/",
				up + "/" + suffix,
				strings.ToLower(prefix) + "/" + suffix,
				prefix + "/" + suffix + "/..",
				prefix,
			}
			for _, c := range candidates {
				if !underFold(dir, c) {
					continue
				}
				if d := p.Decide(req("", "get_file_contents", "repos", Read, "a/b", c)); d.Allow {
					t.Fatalf("policy %s allowed %q (under %q)", src, c, prefix)
				}
				if ok, _ := p.PathAllowed("", "a/b", c); ok {
					t.Fatalf("policy %s: PathAllowed(%q) under %q", src, c, prefix)
				}
				if d := p.Decide(req("", "update_file", "repos", Write, "a/b", "ok", c)); d.Allow {
					t.Fatalf("policy %s allowed %q among other paths", src, c)
				}
			}
		}
	})
}

func BenchmarkCoversWorst(b *testing.B) {
	pat, problem := newPathPattern(strings.Repeat("*/**/", 100) + "x")
	if problem != "" {
		b.Fatal(problem)
	}
	segs, _ := cleanPath(strings.Repeat("a/", 2000) + "y")
	for b.Loop() {
		pat.covers(pat.folded, segs)
	}
}

// coversRef is covers by dynamic programming, for TestCoversMatchesReference.
func coversRef(pat, path []string) bool {
	// cur[j]: the pattern so far matches path[:j].
	cur := make([]bool, len(path)+1)
	cur[0] = true
	for _, ps := range pat {
		next := make([]bool, len(path)+1)
		reach := false
		for j := range cur {
			if ps == "**" {
				reach = reach || cur[j]
				next[j] = reach
			} else if j > 0 {
				next[j] = cur[j-1] && matchStar(ps, path[j-1])
			}
		}
		cur = next
	}
	return slices.Contains(cur, true)
}

// TestCoversMatchesReference compares covers with coversRef on every
// pattern of up to 4 segments and every path of up to 4 segments over small
// alphabets.
func TestCoversMatchesReference(t *testing.T) {
	all := func(max int, from []string) [][]string {
		out := [][]string{{}}
		for last := out; max > 0; max-- {
			var next [][]string
			for _, s := range last {
				for _, f := range from {
					next = append(next, append(slices.Clip(s), f))
				}
			}
			out, last = append(out, next...), next
		}
		return out
	}
	var pp pathPattern
	paths := all(4, []string{"a", "b", "ab", "ba"})
	for _, pat := range all(4, []string{"a", "b", "*", "**", "a*", "*b"}) {
		for _, path := range paths {
			if got, want := pp.covers(pat, path), coversRef(pat, path); got != want {
				t.Fatalf("covers(%q, %q) = %v, reference %v", pat, path, got, want)
			}
		}
	}
}
