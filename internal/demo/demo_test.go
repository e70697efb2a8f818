package demo

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
)

func TestCheckDirRefusesADirectoryTheDemoDidNotMake(t *testing.T) {
	dir := t.TempDir()
	if err := checkDir(filepath.Join(dir, "new")); err != nil {
		t.Errorf("checkDir(a new directory) = %v, want nil", err)
	}
	for _, name := range []string{stateFile, lockFile, serverLog, auditLog, auditLog + ".1", envFile, secretFile, tokenFile} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, giteaDir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := checkDir(dir); err != nil {
		t.Errorf("checkDir(a demo directory) = %v, want nil", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "thesis.tex"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkDir(dir); err == nil || !strings.Contains(err.Error(), "thesis.tex") {
		t.Errorf("checkDir(a directory holding thesis.tex) = %v, want a refusal naming it", err)
	}
}

func TestResetKeepsOnlyTheLock(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := newState().save(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, giteaDir, "repos"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := reset(dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != lockFile {
		t.Errorf("after reset the directory holds %v, want only %s", entries, lockFile)
	}
}

func TestOneDemoPerDirectory(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDir(dir); err == nil || !strings.Contains(err.Error(), "another demo is running") {
		t.Errorf("second lockDir = %v, want a refusal", err)
	}
	unlock()
	again, err := lockDir(dir)
	if err != nil {
		t.Errorf("lockDir after unlock = %v", err)
	} else {
		again()
	}
}

func TestLoadState(t *testing.T) {
	dir := t.TempDir()
	st, reused, err := loadState(dir)
	if err != nil || reused || st.Seeded || st.User.Name != User || st.User.Password == "" || st.SecretKey == "" {
		t.Fatalf("loadState(empty) = %+v, %v, %v; want a fresh state", st, reused, err)
	}
	// A run that stopped before seeding finished: start over, new secrets.
	if err := st.save(dir); err != nil {
		t.Fatal(err)
	}
	if again, reused, err := loadState(dir); err != nil || reused || again.User.Password == st.User.Password {
		t.Errorf("loadState(unseeded) = reused %v, %v, same password %v; want a fresh state", reused, err, again.User.Password == st.User.Password)
	}
	st.Seeded, st.App, st.GiteaPort = true, &localgitea.OAuthApp{ClientID: "id", ClientSecret: "s"}, 41234
	if err := st.save(dir); err != nil {
		t.Fatal(err)
	}
	got, reused, err := loadState(dir)
	if err != nil || !reused || got.User != st.User || got.Admin != st.Admin || got.App.ClientID != "id" || got.GiteaPort != 41234 {
		t.Errorf("loadState(seeded) = %+v, %v, %v; want the saved state back", got, reused, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, stateFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state.json mode = %v, %v; want 0600 (it holds passwords)", fi.Mode(), err)
	}
	if err := os.WriteFile(filepath.Join(dir, stateFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadState(dir); err == nil || !strings.Contains(err.Error(), "--reset") {
		t.Errorf("loadState(corrupt) = %v, want an error suggesting --reset", err)
	}
}

func TestListenIsLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:8080", ":0", "example.com:80"} {
		if l, _, err := listen(t.Context(), addr); err == nil {
			_ = l.Close()
			t.Errorf("listen(%q) succeeded, want a loopback-only refusal", addr)
		}
	}
	l, note, err := listen(t.Context(), "127.0.0.1:0")
	if err != nil || note != "" {
		t.Fatalf("listen(127.0.0.1:0) = %v, %q", err, note)
	}
	defer func() { _ = l.Close() }()
	// An explicit address that is taken is an error, not a fallback.
	if l2, _, err := listen(t.Context(), l.Addr().String()); err == nil {
		_ = l2.Close()
		t.Errorf("listen(a taken explicit address) succeeded")
	}
}

func TestListenFallsBackWhenTheDefaultIsTaken(t *testing.T) {
	var lc net.ListenConfig
	held, err := lc.Listen(t.Context(), "tcp", defaultListen)
	if err != nil {
		t.Skipf("%s is in use by something else here: %v", defaultListen, err)
	}
	defer func() { _ = held.Close() }()
	l, note, err := listen(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	if l.Addr().String() == defaultListen || !strings.Contains(note, "is taken") {
		t.Errorf("listen(\"\") with the default taken = %s, note %q; want another port, said", l.Addr(), note)
	}
}

func TestInstructions(t *testing.T) {
	var out bytes.Buffer
	p := &printer{out: &out, start: time.Now()}
	c := connectInfo{MCP: "http://127.0.0.1:8080/mcp", Base: "http://127.0.0.1:8080", Token: "tok.en.value", TokenFile: "/d/token",
		Expires: 24 * time.Hour, Gitea: "http://127.0.0.1:3000", User: localgitea.Account{Name: User, Password: "Pw-x"},
		ServerLog: "/d/aegis.log", AuditLog: "/d/audit.log", Env: "/d/demo.env"}
	p.instructions(c)
	text := out.String()
	for _, want := range []string{
		labelMCP + "    http://127.0.0.1:8080/mcp",
		labelToken + " tok.en.value",
		"a demo OAuth access token",
		"curl -s -X POST http://127.0.0.1:8080/mcp/tool/call",
		"npx @modelcontextprotocol/inspector --cli http://127.0.0.1:8080/mcp --transport http",
		"claude mcp add --transport http aegis-demo http://127.0.0.1:8080/mcp",
		`export AEGIS_DEMO_TOKEN="$(cat /d/token)"`,
		"http://127.0.0.1:3000   sign in as demo, password Pw-x",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("instructions lack %q:\n%s", want, text)
		}
	}
	// The two configuration snippets are valid JSON, and only Claude
	// Desktop's (which cannot prompt) holds the token itself.
	var snippets []map[string]any
	for _, block := range strings.Split(text, "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		if len(lines) < 2 || !strings.HasPrefix(strings.TrimSpace(lines[1]), "{") {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(strings.Join(lines[1:], "\n")), &v); err != nil {
			t.Errorf("snippet under %q is not JSON: %v", lines[0], err)
		}
		snippets = append(snippets, v)
	}
	if len(snippets) != 2 {
		t.Fatalf("found %d JSON snippets, want VS Code's and Claude Desktop's", len(snippets))
	}
	if vs, _ := json.Marshal(snippets[0]); strings.Contains(string(vs), c.Token) || !strings.Contains(string(vs), "${input:aegis-demo-token}") {
		t.Errorf("VS Code snippet = %s, want it to prompt for the token", vs)
	}
	if cd, _ := json.Marshal(snippets[1]); !strings.Contains(string(cd), "Bearer "+c.Token) {
		t.Errorf("Claude Desktop snippet = %s, want the token in its env", cd)
	}
	if n := strings.Count(text, c.Token); n != 2 {
		t.Errorf("the token is printed %d times, want 2 (its own line and Claude Desktop's snippet)", n)
	}
}
