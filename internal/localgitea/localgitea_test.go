package localgitea

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/modfile"
)

func TestWrapperGoMod(t *testing.T) {
	upstream := `module gitea.dev

go 1.26.4

godebug x509negativeserial=1

require (
	gitea.dev/actions-proto-go v0.6.0
	gitea.dev/sdk v1.1.0
	github.com/example/dep v1.0.0
)

replace go.yaml.in/yaml/v4 => go.yaml.in/yaml/v4 v4.0.0-rc.3
`
	out, err := wrapperGoMod([]byte(upstream))
	if err != nil {
		t.Fatalf("wrapperGoMod: %v", err)
	}
	f, err := modfile.Parse("go.mod", out, nil)
	if err != nil {
		t.Fatalf("wrapper go.mod does not parse: %v\n%s", err, out)
	}
	if f.Go == nil || f.Go.Version != "1.26.4" {
		t.Errorf("go directive = %v, want Gitea's 1.26.4", f.Go)
	}
	replaced := map[string]string{}
	for _, r := range f.Replace {
		replaced[r.Old.Path] = r.New.Path + "@" + r.New.Version
	}
	want := map[string]string{
		"gitea.dev":                              "code.gitea.io/gitea@v" + Version,
		"gitea.dev/sdk":                          "code.gitea.io/sdk@v1.1.0",
		"gitea.dev/actions-proto-go":             "code.gitea.io/actions-proto-go@v0.6.0",
		"gitlab.com/gitlab-org/api/client-go/v2": "gitlab.com/gitlab-org/api/client-go/v2@v2.43.0",
		"go.yaml.in/yaml/v4":                     "go.yaml.in/yaml/v4@v4.0.0-rc.3",
	}
	for old, w := range want {
		if replaced[old] != w {
			t.Errorf("replace %s => %q, want %q", old, replaced[old], w)
		}
	}
	if len(f.Godebug) != 1 || f.Godebug[0].Key != "x509negativeserial" {
		t.Errorf("godebug = %v, want Gitea's carried over", f.Godebug)
	}
}

func TestWrapperGoModNeedsTheAliasedModules(t *testing.T) {
	if _, err := wrapperGoMod([]byte("module gitea.dev\n\ngo 1.26\n")); err == nil || !strings.Contains(err.Error(), "does not require") {
		t.Errorf("wrapperGoMod without gitea.dev/sdk error = %v, want a clear refusal", err)
	}
}

func TestHiddenFields(t *testing.T) {
	page := `<form method="post" action="/user/login"><input type="hidden" name="_csrf" value="c1"></form>
<form method="post" action="/login/oauth/grant">
	<input type="hidden" name="client_id" value="abc">
	<input type="hidden" name="redirect_uri" value="http://127.0.0.1:1/callback?a=1&amp;b=2">
	<input type="text" name="visible" value="no">
	<button name="granted" value="true">Authorize</button>
</form>`
	grant := hiddenFields(page, "/login/oauth/grant")
	if grant.Get("client_id") != "abc" || grant.Get("redirect_uri") != "http://127.0.0.1:1/callback?a=1&b=2" {
		t.Errorf("grant form fields = %v, want client_id and the unescaped redirect_uri", grant)
	}
	if grant.Has("_csrf") || grant.Has("visible") {
		t.Errorf("grant form fields = %v, want only that form's hidden inputs", grant)
	}
	if all := hiddenFields(page, ""); all.Get("_csrf") != "c1" {
		t.Errorf("all hidden fields = %v, want _csrf from any form", all)
	}
}

func TestCodeFrom(t *testing.T) {
	tests := []struct {
		name     string
		location string
		wantCode string
		wantErr  string
	}{
		{name: "code", location: RedirectURI + "?code=c0de&state=s1", wantCode: "c0de"},
		{name: "wrong state", location: RedirectURI + "?code=c0de&state=other", wantErr: "no code for our state"},
		{name: "denied", location: RedirectURI + "?error=access_denied&state=s1", wantErr: "access_denied"},
		{name: "elsewhere", location: "http://evil.example/?code=c0de&state=s1", wantErr: "no code for our state"},
		{name: "no redirect", wantErr: "without a redirect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := codeFrom(&page{status: 303, location: tt.location}, "s1")
			if code != tt.wantCode || (tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr))) {
				t.Errorf("codeFrom(%q) = %q, %v; want %q, error containing %q", tt.location, code, err, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestHeartbeatReportsUntilStopped(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	n := 0
	stop := heartbeat(logf, 5*time.Millisecond, func() string { n++; return fmt.Sprintf("status %d", n) })
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got := len(lines)
		mu.Unlock()
		if got >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	mu.Lock()
	after := len(lines)
	mu.Unlock()
	if after < 2 {
		t.Fatalf("heartbeat logged %d lines in 5 s at a 5 ms interval, want at least 2", after)
	}
	if !strings.Contains(lines[0], "elapsed: status 1") || !strings.Contains(lines[1], "status 2") {
		t.Errorf("heartbeat lines = %q, want the elapsed time and each status", lines[:2])
	}
	time.Sleep(20 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != after {
		t.Errorf("heartbeat logged %d more lines after stop", len(lines)-after)
	}
}

func TestLineLogCountsMatchesAndKeepsTheTail(t *testing.T) {
	l := &lineLog{match: func(s string) bool { return strings.HasPrefix(s, "go: downloading ") }}
	for i := range 50 {
		// Writes split lines anywhere, as a pipe does.
		line := fmt.Sprintf("go: downloading example.com/m%d v1.0.0\n", i)
		_, _ = l.Write([]byte(line[:7]))
		_, _ = l.Write([]byte(line[7:]))
	}
	_, _ = l.Write([]byte("go: example.com/x: an error\nno newline yet"))
	if got := l.matched(); got != 50 {
		t.Errorf("matched = %d, want 50", got)
	}
	if got := l.lastMatch(); got != "go: downloading example.com/m49 v1.0.0" {
		t.Errorf("lastMatch = %q", got)
	}
	tail := strings.Split(l.tail(), "\n")
	if len(tail) != tailLines+1 || tail[len(tail)-2] != "go: example.com/x: an error" || tail[len(tail)-1] != "no newline yet" {
		t.Errorf("tail = %d lines ending %q, want the last %d lines and the partial one", len(tail), tail[len(tail)-2:], tailLines)
	}
}

func TestAppINIOverrides(t *testing.T) {
	ini := appINI("/d", "/b", "demo", "s3cret", 3000)
	for _, want := range []string{"APP_NAME = demo\n", "HTTP_ADDR = 127.0.0.1\n", "ROOT_URL = http://127.0.0.1:3000/\n",
		"SECRET_KEY = s3cret\n", "PATH = /d/gitea.db\n", "STATIC_ROOT_PATH = /b\n"} {
		if !strings.Contains(ini, want) {
			t.Errorf("app.ini lacks %q", want)
		}
	}
}
