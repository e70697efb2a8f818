package policy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		line    int
		problem string // a part of Error.Problem
	}{
		// YAML itself.
		{"invalid YAML", "tools:\n  deny: [get_me\n", 1, "invalid YAML: did not find expected ',' or ']'"},
		{"tab indentation", "tools:\n\tdeny: []\n", 2, "invalid YAML: found character that cannot start any token"},
		{"bad nesting", "defaults: allow\n  write: deny\n", 2, "invalid YAML: mapping values are not allowed in this context"},
		{"empty file", "", 0, "the file is empty"},
		{"only comments", "# nothing yet\n", 0, "the file is empty"},
		{"empty document", "---\n", 0, "the file is empty"},
		{"two documents", "tools: {}\n---\ntools: {}\n", 2, "more than one YAML document"},
		{"not a mapping", "- tools\n", 1, "the file must be a mapping, not a list"},
		{"explicit null", "~\n", 1, "the file must be a mapping, not null"},
		{"anchor", "tools: &t {deny: [get_me]}\n", 1, "anchors and aliases are not supported"},
		{"alias", "users:\n  bob: &r {write: deny}\n  carol: *r\n", 2, "anchors and aliases are not supported"},
		{"merge key", "users:\n  bob:\n    <<: {write: deny}\n", 3, "a key must be a string, not <<"},
		{"custom tag", "tools: !include other.yaml\n", 1, "custom tag !include is not supported"},
		{"long YAML error", "a: *" + strings.Repeat("D", 5000) + "\n", 0, "invalid YAML: unknown anchor 'DDDD"},
		{"long value", "defaults: {write: " + strings.Repeat("x", 5000) + "}\n", 1, `defaults.write: must be allow or deny, not "` + strings.Repeat("x", 64) + `"...`},
		{"section a list", "tools: [get_me]\n", 1, "tools: must be a mapping, not a list"},
		{"key not a string", "users:\n  [bob]: {}\n", 2, "users: a key must be a string, not a list"},

		// Unknown and repeated keys.
		{"unknown top key", "defaults: {}\ntool: {deny: [get_me]}\n", 2, `unknown key "tool" (expected defaults, tools, toolsets, paths, repositories, users)`},
		{"top key case", "Tools: {deny: [get_me]}\n", 1, `unknown key "Tools"`},
		{"unknown defaults key", "defaults:\n  read: allow\n  admin: deny\n", 3, `defaults: unknown key "admin" (expected read, write, destructive)`},
		{"unknown list key", "tools:\n  block: [get_me]\n", 2, `tools: unknown key "block" (expected allow, deny)`},
		{"unknown repository key", "repositories:\n  acme/*:\n    write: allow\n    path: {deny: [x]}\n", 4, `repositories["acme/*"]: unknown key "path" (expected read, write, destructive, tools, toolsets, paths)`},
		{"unknown user key", "users:\n  bob:\n    repositories: {}\n", 3, `users["bob"]: unknown key "repositories"`},
		{"top-only key in a rule", "users:\n  bob:\n    defaults: {write: deny}\n", 3, `users["bob"]: unknown key "defaults"`},
		{"duplicate key", "tools: {deny: [get_me]}\ntools: {deny: [search]}\n", 2, `key "tools" given twice (first on line 1)`},
		{"duplicate repository by case", "repositories:\n  acme/*: {}\n  ACME/*: {}\n", 3, `repositories: key "ACME/*" given twice (first on line 2)`},
		{"duplicate user by case", "users:\n  bob: {}\n  Bob: {}\n", 3, `users: key "Bob" given twice (first on line 2)`},
		{"duplicate level", "defaults:\n  write: allow\n  write: deny\n", 3, `defaults: key "write" given twice`},

		// Values.
		{"level not allow or deny", "defaults:\n  write: yes\n", 2, `defaults.write: must be allow or deny, not "yes"`},
		{"level capitalized", "defaults: {read: Allow}\n", 1, `defaults.read: must be allow or deny, not "Allow"`},
		{"level a bool", "defaults:\n  write: true\n", 2, "defaults.write: must be allow or deny, not true"},
		{"level null", "users:\n  bob:\n    write:\n", 3, `users["bob"].write: must be allow or deny, not null`},
		{"level a list", "repositories:\n  a/b:\n    read: [allow]\n", 3, `repositories["a/b"].read: must be allow or deny, not a list`},
		{"section null", "repositories:\n", 1, "repositories: must be a mapping, not null"},
		{"rule null", "users:\n  bob:\n", 2, `users["bob"]: must be a mapping, not null`},
		{"rule a string", "repositories:\n  a/b: deny\n", 2, `repositories["a/b"]: must be a mapping, not "deny"`},
		{"list null", "tools:\n  deny:\n", 2, "tools.deny: must be a list, not null (write [] for an empty one)"},
		{"list a string", "toolsets:\n  deny: actions\n", 2, `toolsets.deny: must be a list, not "actions"`},
		{"entry not a string", "tools:\n  deny:\n    - get_me\n    - {x: 1}\n", 4, "tools.deny: an entry must be a string, not a mapping"},
		{"entry a number", "tools:\n  deny: [1]\n", 2, "tools.deny: an entry must be a string, not 1"},

		// Names.
		{"unknown tool", "tools:\n  deny:\n    - get_me\n    - delet_file\n", 4, `tools.deny: "delet_file" is not a known tool`},
		{"glob matching nothing", "tools:\n  allow: [\"remove_*\"]\n", 2, `tools.allow: "remove_*" matches no known tool`},
		{"bad tool name", "tools:\n  deny: [\"delete file\"]\n", 2, `tools.deny: "delete file" is not a tool name or glob`},
		{"regexp tool name", "tools:\n  deny: [\"delete_.+\"]\n", 2, `is not a tool name or glob`},
		{"unknown toolset", "toolsets:\n  deny: [action]\n", 2, `toolsets.deny: "action" is not a known toolset`},
		{"unknown tool in a repository", "repositories:\n  a/b:\n    tools: {deny: [nope]}\n", 3, `repositories["a/b"].tools.deny: "nope" is not a known tool`},
		{"unknown toolset for a user", "users:\n  bob:\n    toolsets:\n      allow: [admin]\n", 4, `users["bob"].toolsets.allow: "admin" is not a known toolset`},

		// Repository patterns and users.
		{"repository without owner", "repositories:\n  web: {}\n", 2, `repositories: "web" is not an OWNER/NAME pattern`},
		{"repository with three parts", "repositories:\n  acme/web/x: {}\n", 2, `"acme/web/x" is not an OWNER/NAME pattern`},
		{"repository empty part", "repositories:\n  acme/: {}\n", 2, `"acme/" is not an OWNER/NAME pattern`},
		{"repository **", "repositories:\n  \"**\": {}\n", 2, `"**" in "**"`},
		{"repository acme/**", "repositories:\n  acme/**: {}\n", 2, `*/* matches every repository`},
		{"repository bad character", "repositories:\n  \"acme/[ab]\": {}\n", 2, `"acme/[ab]" is not an OWNER/NAME pattern`},
		{"user glob", "users:\n  \"bo*\": {}\n", 2, `users: "bo*": a user is a Gitea login; globs are not supported`},
		{"user bad name", "users:\n  \"bob smith\": {}\n", 2, `users: "bob smith" is not a Gitea login`},

		// Path patterns.
		{"absolute path", "paths:\n  deny: [/etc]\n", 2, `paths.deny: "/etc": an absolute path pattern`},
		{"dot-dot path", "paths:\n  deny: [src/../x]\n", 2, `a "." or ".." segment`},
		{"dot path", "paths:\n  allow: [./src]\n", 2, `paths.allow: "./src": a "." or ".." segment`},
		{"double slash", "paths:\n  deny: [src//x]\n", 2, "an empty segment (//)"},
		{"** in a segment", "paths:\n  deny: [\"src/**.go\"]\n", 2, `"**" inside a segment`},
		{"braces", "paths:\n  deny: [\"*.{pem,key}\"]\n", 2, "unsupported glob syntax"},
		{"question mark", "paths:\n  deny: [\"a?c\"]\n", 2, "unsupported glob syntax"},
		{"backslash", "paths:\n  deny: ['src\\secrets']\n", 2, "unsupported glob syntax"},
		{"negation", "paths:\n  deny: [\"!src/public\"]\n", 2, "negation is not supported"},
		{"empty path", "paths:\n  deny: [\"\"]\n", 2, "an empty path pattern"},
		{"control character", "paths:\n  deny: [\"a\\tb\"]\n", 2, "a control character"},
		{"repository path", "repositories:\n  a/b:\n    paths:\n      allow: [src]\n      deny: [\"../x\"]\n", 5, `repositories["a/b"].paths.deny: "../x"`},
		{"long path", "paths:\n  deny: [" + strings.Repeat("a", 1100) + "]\n", 2, `paths.deny: "` + strings.Repeat("a", 64) + `"...: a path pattern longer than 1024 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("policy.yaml", []byte(tt.src), known)
			if err == nil {
				t.Fatalf("Parse accepted\n%s", tt.src)
			}
			if p != nil {
				t.Errorf("Parse returned a policy with an error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if e.File != "policy.yaml" || e.Line != tt.line || !strings.Contains(e.Problem, tt.problem) || len(e.Problem) > 400 {
				t.Errorf("got %q (line %d), want line %d and %q", err, e.Line, tt.line, tt.problem)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	for name, src := range map[string]string{
		"empty mapping":       "{}",
		"empty lists":         "tools: {allow: [], deny: []}\ntoolsets: {deny: []}\npaths: {deny: []}",
		"empty sections":      "repositories: {}\nusers: {}\ndefaults: {}",
		"numeric login":       "users:\n  123: {write: deny}",
		"names ignore case":   "tools: {deny: [GET_ME, \"Delete_*\"]}\ntoolsets: {deny: [Actions]}",
		"toolset glob":        "toolsets: {deny: [\"pull*\"]}",
		"trailing slash":      "paths: {deny: [src/secrets/]}",
		"unicode path":        "paths: {deny: [\"données/**\"]}",
		"every repository":    "repositories: {\"*/*\": {read: allow}}",
		"explicit str tag":    "tools: {deny: [!!str get_me]}",
		"comments everywhere": "# head\ntools: # x\n  deny: [get_me] # y\n",
	} {
		if _, err := Parse("p.yaml", []byte(src), known); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseZeroKnown(t *testing.T) {
	if _, err := Parse("p.yaml", []byte("tools: {deny: [get_me]}"), Known{}); err == nil || !strings.Contains(err.Error(), "not a known tool") {
		t.Errorf("zero Known: err = %v, want unknown tool", err)
	}
	if _, err := Parse("p.yaml", []byte("defaults: {destructive: deny}\nrepositories: {a/b: {paths: {deny: [x]}}}"), Known{}); err != nil {
		t.Errorf("zero Known, no names: %v", err)
	}
}

func TestParseKnownCase(t *testing.T) {
	k := Known{Tools: []string{"Get_Me"}, Toolsets: []string{"Users"}}
	p, err := Parse("p.yaml", []byte("tools: {deny: [get_me]}\ntoolsets: {deny: [users]}"), k)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Decide(req("", "GET_ME", "", Read, "")); d.Allow {
		t.Errorf("Decide = %+v, want denied", d)
	}
}

func TestLimits(t *testing.T) {
	big := "# " + strings.Repeat("x", MaxFileSize) + "\n{}"
	if _, err := Parse("p.yaml", []byte(big), known); err == nil || err.Error() != "p.yaml: the file is larger than 1 MiB" {
		t.Errorf("oversized: %v", err)
	}
	var b strings.Builder
	b.WriteString("users:\n")
	for i := range MaxRules + 1 {
		fmt.Fprintf(&b, "  u%d: {}\n", i)
	}
	_, err := Parse("p.yaml", []byte(b.String()), known)
	if want := fmt.Sprintf("p.yaml:%d: users: more than %d repository and user rules", MaxRules+2, MaxRules); err == nil || err.Error() != want {
		t.Errorf("rules: %v, want %s", err, want)
	}
	b.Reset()
	b.WriteString("paths:\n  deny:\n")
	for i := range MaxPatterns + 1 {
		fmt.Fprintf(&b, "    - p%d\n", i)
	}
	_, err = Parse("p.yaml", []byte(b.String()), known)
	if want := fmt.Sprintf("p.yaml:%d: paths.deny: more than %d list entries in the file", MaxPatterns+3, MaxPatterns); err == nil || err.Error() != want {
		t.Errorf("patterns: %v, want %s", err, want)
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load("testdata/example.yaml", known); err != nil {
		t.Fatalf("example: %v", err)
	}
	dir := t.TempDir()
	missing := filepath.Join(dir, "none.yaml")
	_, err := Load(missing, known)
	var e *Error
	if !errors.As(err, &e) || e.Line != 0 || err.Error() != missing+": cannot read the file: no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load(dir, known); err == nil || !strings.HasPrefix(err.Error(), dir+": cannot read the file: ") {
		t.Errorf("directory: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("defaults:\n  write: maybe\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad, known); err == nil || err.Error() != bad+`:2: defaults.write: must be allow or deny, not "maybe"` {
		t.Errorf("bad file: %v", err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, make([]byte, MaxFileSize+10), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(huge, known); err == nil || err.Error() != huge+": the file is larger than 1 MiB" {
		t.Errorf("huge file: %v", err)
	}
}

func TestErrorString(t *testing.T) {
	if got := (&Error{File: "p.yaml", Line: 3, Problem: "bad"}).Error(); got != "p.yaml:3: bad" {
		t.Errorf("with line: %q", got)
	}
	if got := (&Error{File: "p.yaml", Problem: "bad"}).Error(); got != "p.yaml: bad" {
		t.Errorf("without line: %q", got)
	}
}

// fuzzSeeds are policy files for FuzzParse, valid and broken.
var fuzzSeeds = []string{
	"{}",
	"defaults: {read: allow, write: allow, destructive: deny}\ntools: {deny: [\"delete_*\"]}\n",
	"repositories:\n  \"acme/*\": {write: allow, paths: {allow: [\"src/**\"], deny: [\"src/secrets/**\"]}}\n",
	"users:\n  bob: {write: deny, tools: {allow: [get_me]}}\n",
	"paths: {deny: [\"**/**/**/**/*.pem\"]}\n",
	"repositories: {\"*/*\": {read: deny}, \"a*/b*\": {read: allow}, \"*a/*b\": {write: deny}}\n",
	"tools:\n  deny: [get_me\n",
	"a: &x [1]\nb: *x\n",
	"{}\n---\n{}\n",
	"tools: {allow: []}\n",
	"\xef\xbb\xbftools: {}\n",
	"\xff\xfe",
}

// FuzzParse: Parse never panics, returns either a policy or an *Error,
// and an accepted policy decides anything without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), "acme/web", "src/secrets/../x")
	}
	if data, err := os.ReadFile("testdata/example.yaml"); err == nil {
		f.Add(data, "Acme/Prod", "SRC//Secrets/x")
	}
	f.Fuzz(func(t *testing.T, data []byte, repo, path string) {
		p, err := Parse("fuzz.yaml", data, known)
		if err != nil {
			var e *Error
			if p != nil || !errors.As(err, &e) || e.Line < 0 || e.Problem == "" || len(err.Error()) > 4096 {
				t.Fatalf("Parse = %v, %T %v", p, err, err)
			}
			return
		}
		for _, tool := range []string{"get_me", "Delete_File", "merge_pull_request", "unknown"} {
			for _, access := range []string{Read, Write, Destructive, "x"} {
				for _, user := range []string{"", "bob"} {
					d := p.Decide(req(user, tool, "repos", access, repo, path))
					if d.Allow != (d.Refusal() == "") || !d.Allow && d.Rule == "" {
						t.Fatalf("Decide gave %+v", d)
					}
					p.ToolAllowed(user, tool, "issues", access)
				}
			}
		}
		ok, rule := p.PathAllowed("bob", repo, path)
		if ok == (rule != "") {
			t.Fatalf("PathAllowed = %v, %q", ok, rule)
		}
	})
}
