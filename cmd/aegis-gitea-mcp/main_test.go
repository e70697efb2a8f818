package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
)

func runCLI(t *testing.T, environ []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Chdir(t.TempDir()) // no stray ./.env
	var out, errb bytes.Buffer
	code = run(t.Context(), args, environ, &out, &errb)
	return code, out.String(), errb.String()
}

func TestConfigCheck(t *testing.T) {
	valid := []string{"GITEA_URL=https://gitea.example.com", "GITEA_OAUTH_CLIENT_ID=cid", "GITEA_OAUTH_CLIENT_SECRET=hunter2-secret"}
	tests := []struct {
		name       string
		environ    []string
		wantCode   int
		wantStderr string
		wantStdout string
	}{
		{name: "GITEA_URL unset", environ: valid[1:], wantCode: 2, wantStderr: "GITEA_URL: is required"},
		{name: "GITEA_URL malformed", environ: append([]string{"GITEA_URL=gitea.example.com"}, valid[1:]...), wantCode: 2,
			wantStderr: "GITEA_URL: must start with http:// or https://"},
		{name: "valid", environ: valid, wantCode: 0, wantStdout: "GITEA_OAUTH_CLIENT_SECRET=(set, redacted)"},
		{name: "write mode without a repository", environ: append([]string{"WRITE_MODE=true"}, valid...), wantCode: 2,
			wantStderr: "WRITE_REPOSITORY_WHITELIST (owner/repo,owner/*) or WRITE_ALLOW_ALL_TOKEN_REPOS=true"},
		{name: "bad whitelist entry", environ: append([]string{"WRITE_MODE=true", "WRITE_REPOSITORY_WHITELIST=alice"}, valid...), wantCode: 2,
			wantStderr: `WRITE_REPOSITORY_WHITELIST: "alice" is not owner/repo or owner/*`},
		{name: "write mode for one repository", environ: append([]string{"WRITE_MODE=true", "WRITE_REPOSITORY_WHITELIST=alice/notes"}, valid...),
			wantCode: 0, wantStdout: "WRITE_REPOSITORY_WHITELIST=alice/notes"},
		{name: "unknown toolset", environ: append([]string{"TOOLSETS=repos,gists"}, valid...), wantCode: 2,
			wantStderr: `TOOLSETS: "gists" is not a toolset`},
		{name: "toolsets", environ: append([]string{"TOOLSETS=repos,issues"}, valid...), wantCode: 0, wantStdout: "TOOLSETS=repos,issues"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.environ, "config", "check")
			if code != tt.wantCode {
				t.Errorf("exit = %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantStderr) || !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout %q, stderr %q; want %q and %q", stdout, stderr, tt.wantStdout, tt.wantStderr)
			}
			if strings.Contains(stdout+stderr, "hunter2") {
				t.Error("output contains the client secret")
			}
		})
	}
}

func TestServeWithBadConfigExits2(t *testing.T) {
	code, _, stderr := runCLI(t, nil)
	if code != 2 || !strings.Contains(stderr, "GITEA_URL") {
		t.Errorf("serve without config: exit %d, stderr %q; want 2 naming GITEA_URL", code, stderr)
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		args       []string
		wantCode   int
		wantOutput string
	}{
		{args: []string{"version"}, wantCode: 0, wantOutput: "aegis-gitea-mcp "},
		{args: []string{"--version"}, wantCode: 0, wantOutput: "aegis-gitea-mcp "},
		{args: []string{"help"}, wantCode: 0, wantOutput: "Usage:"},
		{args: []string{"bogus"}, wantCode: 2, wantOutput: `unknown command "bogus"`},
		{args: []string{"config"}, wantCode: 2, wantOutput: `want "config check"`},
		{args: []string{"serve", "--no-such-flag"}, wantCode: 2, wantOutput: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, tt.args...)
			if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.wantOutput) {
				t.Errorf("run(%q) = %d, %q; want %d, %q", tt.args, code, stdout+stderr, tt.wantCode, tt.wantOutput)
			}
		})
	}
}

// TestAuditVerify: the command passes an intact log and names the first
// bad line of a tampered one.
func TestAuditVerify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := audit.Open(audit.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := l.Record(audit.Event{Kind: audit.KindToolInvocation, Tool: "get_me", Outcome: audit.OutcomeOK}, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runCLI(t, nil, "audit", "verify", path); code != 0 || !strings.Contains(stdout, "intact: 3 records") {
		t.Fatalf("verify intact log: exit %d, %q %q", code, stdout, stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	lines[1] = strings.Replace(lines[1], `"tool":"get_me"`, `"tool":"get_mf"`, 1)      // edit the second record
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil { // #nosec G703 -- a temporary file of the test
		t.Fatal(err)
	}
	if code, stdout, _ := runCLI(t, nil, "audit", "verify", path); code != 1 || !strings.Contains(stdout, "audit.log:2") {
		t.Errorf("verify tampered log: exit %d, %q; want 1 naming line 2", code, stdout)
	}
	if code, _, _ := runCLI(t, nil, "audit", "verify"); code != 2 {
		t.Errorf("verify without a path: exit %d, want 2", code)
	}
}

// TestPolicyCommands: policy check names the file and line of a mistake,
// and policy explain prints the decision and its rule.
func TestPolicyCommands(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte("defaults: {write: deny}\nrepositories:\n  \"alice/notes\": {write: allow}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("defaults: {write: deny}\ntools:\n  deny: [no_such_tool]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runCLI(t, nil, "policy", "check", good); code != 0 || !strings.Contains(stdout, "valid") {
		t.Errorf("policy check good = %d %q %q", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, nil, "policy", "check", bad); code != 2 || !strings.Contains(stderr, "bad.yaml:3") || !strings.Contains(stderr, "no_such_tool") {
		t.Errorf("policy check bad = %d %q, want 2 naming bad.yaml:3", code, stderr)
	}
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"--tool", "create_issue", "--user", "bob", "--repo", "alice/notes"}, want: "allow: bob create_issue"},
		{args: []string{"--tool", "create_issue", "--user", "bob", "--repo", "bob/website"}, want: "deny: bob create_issue (write, toolset issues) in bob/website — rule defaults.write"},
		{args: []string{"--tool", "get_issue", "--repo", "bob/website"}, want: "allow:"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCLI(t, nil, append([]string{"policy", "explain", "--policy", good}, tt.args...)...)
		if code != 0 || !strings.Contains(stdout, tt.want) {
			t.Errorf("policy explain %v = %d %q %q, want %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
	if code, _, _ := runCLI(t, nil, "policy", "explain", "--policy", good); code != 2 {
		t.Errorf("policy explain without --tool: exit %d, want 2", code)
	}
}
