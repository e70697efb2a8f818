package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestUnknownEnvFileVariablesAreWarned: a variable of the .env file that
// looks like one of this server's (its prefix, or a close spelling of a
// name it reads) is named in a warning, with the name it probably meant;
// other variables, and Gitea's own GITEA__ ones, are left alone. No value
// is ever shown.
func TestUnknownEnvFileVariablesAreWarned(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "my.env")
	env := strings.Join([]string{
		"GITEA_URL=https://gitea.example.com",
		"GITEA_OAUTH_CLIENT_ID=cid",
		"GITEA_OAUTH_CLIENT_SECRET=hunter2-secret",
		"GITEA_TOKNE=hunter2-token",        // a swap
		"gitea_token_file=/run/x",          // wrong case
		"OAUTH_CACHE_TTL=60",               // a prefix, too far from any name
		"LOG_LEVL=debug",                   // one letter short
		"SECRET_DETECTION_MODE=mask",       // the old name, still read
		"GITEA__database__DB_TYPE=sqlite3", // Gitea's own
		"COMPOSE_PROJECT_NAME=aegis",       // someone else's
		"USER_UID=1000",                    // someone else's
		"MCP_STATELES=true",                // a letter missing
	}, "\n") + "\n"
	if err := os.WriteFile(file, []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := load(t, []string{"--env-file", file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, w := range cfg.Warnings {
		got[w.Var] = w.Message
		if strings.Contains(w.Message, "hunter2") || strings.Contains(w.Message, "/run/x") {
			t.Errorf("warning %s: %s shows a value", w.Var, w.Message)
		}
	}
	want := map[string]string{
		"GITEA_TOKNE":      "did you mean GITEA_TOKEN?",
		"gitea_token_file": "did you mean GITEA_TOKEN_FILE?",
		"OAUTH_CACHE_TTL":  "starts like its OAUTH_... variables",
		"LOG_LEVL":         "did you mean LOG_LEVEL?",
		"MCP_STATELES":     "did you mean MCP_STATELESS?",
	}
	for name, text := range want {
		if !strings.Contains(got[name], text) || !strings.Contains(got[name], file) {
			t.Errorf("warning for %s = %q, want it to name %s and say %q", name, got[name], file, text)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected warning for %s: %s", name, got[name])
		}
	}
}

// TestWarningsExplainProblems: a misspelt required variable is named next
// to the problem it causes.
func TestWarningsExplainProblems(t *testing.T) {
	file := filepath.Join(t.TempDir(), "my.env")
	if err := os.WriteFile(file, []byte("GITE_URL=https://gitea.example.com\nGITEA_OAUTH_CLIENT_ID=cid\nGITEA_OAUTH_CLIENT_SECRET=x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := load(t, []string{"--env-file", file}, nil)
	var cfgErr *Error
	if !errors.As(err, &cfgErr) || !strings.Contains(err.Error(), "GITEA_URL: is required") ||
		!strings.Contains(err.Error(), "warning: GITE_URL: in "+file+" is not a variable this server reads; did you mean GITEA_URL?") {
		t.Errorf("error = %v, want GITEA_URL required and a warning about GITE_URL", err)
	}
}

// TestEnvExampleNamesOnlyKnownVariables: every variable .env.example
// shows, set or commented out, is one the loader reads.
func TestEnvExampleNamesOnlyKnownVariables(t *testing.T) {
	data, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	uncomment := regexp.MustCompile(`(?m)^#\s?([A-Z][A-Z0-9_]*=)`)
	file := filepath.Join(t.TempDir(), "example.env")
	if err := os.WriteFile(file, uncomment.ReplaceAll(data, []byte("$1")), 0o600); err != nil { // #nosec G703 -- a temporary file of the test
		t.Fatal(err)
	}
	l := &loader{env: map[string]string{}}
	l.readEnvFile(file)
	if l.file == nil {
		t.Fatalf("cannot read .env.example: %v", l.problems)
	}
	l.build()
	for _, w := range l.unknownFileVars() {
		t.Errorf(".env.example names %s, which the loader does not read: %s", w.Var, w.Message)
	}
	if len(l.file) < 40 {
		t.Errorf(".env.example gave %d variables, want them all uncommented", len(l.file))
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"GITEA_TOKEN", "GITEA_TOKEN", 0},
		{"GITEA_TOKNE", "GITEA_TOKEN", 1},
		{"GITEA_TOKE", "GITEA_TOKEN", 1},
		{"GITEA_TOKENS", "GITEA_TOKEN", 1},
		{"GITEA_TAKEN", "GITEA_TOKEN", 1},
		{"GITEA_URL", "GITEA_TOKEN", 5},
		{"", "ABC", 3},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
