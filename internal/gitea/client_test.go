package gitea

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

const testToken = "gto_secret_token_value"

// fakeGitea serves handler and returns an Endpoint pointed at it. Fakes are
// for faults a real Gitea will not produce; behaviour is tested in e2e.
func fakeGitea(t *testing.T, opts Options, handler http.HandlerFunc) *Endpoint {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL + "/sub/")
	opts.BaseURL = u
	e, err := NewEndpoint(opts)
	if err != nil {
		t.Fatalf("NewEndpoint: %v", err)
	}
	return e
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprint(w, body)
}

func TestTokenOnlyInAuthorizationHeader(t *testing.T) {
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "token "+testToken {
			t.Errorf("Authorization = %q, want the caller's token", got)
		}
		if strings.Contains(r.URL.String(), testToken) {
			t.Errorf("token in URL %q", r.URL)
		}
		if r.URL.Path != "/sub/api/v1/user" {
			t.Errorf("path = %q, want the base path kept", r.URL.Path)
		}
		writeJSON(w, 200, `{"id":7,"login":"alice"}`)
	})
	u, err := e.As(testToken).CurrentUser(t.Context())
	if err != nil || u.Login != "alice" {
		t.Fatalf("CurrentUser = %+v, %v; want alice", u, err)
	}
}

func TestEmptyTokenNeverCallsAnonymously(t *testing.T) {
	called := false
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) { called = true })
	if _, err := e.As("").CurrentUser(t.Context()); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("CurrentUser without a token error = %v, want ErrUnauthorized", err)
	}
	if called {
		t.Error("a request was sent without a token")
	}
}

func TestStatusMapping(t *testing.T) {
	tests := []struct {
		status     int
		retryAfter string
		want       error
		wantRetry  time.Duration
	}{
		{status: 401, want: ErrUnauthorized},
		{status: 403, want: ErrForbidden},
		{status: 404, want: ErrNotFound},
		{status: 422, want: ErrInvalidRequest},
		{status: 429, retryAfter: "7", want: ErrRateLimited, wantRetry: 7 * time.Second},
		{status: 500, want: ErrUnavailable},
		{status: 503, retryAfter: "soon", want: ErrUnavailable},
		{status: 302, want: ErrBadResponse}, // a redirect without Location
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", tt.retryAfter)
				writeJSON(w, tt.status, `{"message":"upstream detail `+testToken+`"}`)
			})
			_, err := e.As(testToken).Repository(t.Context(), "alice", "notes")
			if !errors.Is(err, tt.want) {
				t.Fatalf("Repository error = %v, want %v", err, tt.want)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tt.status || apiErr.RetryAfter != tt.wantRetry {
				t.Errorf("APIError = %+v, want status %d, retry %v", apiErr, tt.status, tt.wantRetry)
			}
			if msg := err.Error(); strings.Contains(msg, "upstream detail") || strings.Contains(msg, testToken) {
				t.Errorf("error %q leaks the upstream body", msg)
			}
		})
	}
}

func TestBoundedAndTypedBodies(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
	}{
		{name: "too large", contentType: "application/json", body: `{"login":"` + strings.Repeat("a", 200) + `"}`},
		{name: "html error page", contentType: "text/html", body: "<html>proxy error</html>"},
		{name: "not json", contentType: "application/json", body: "{login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fakeGitea(t, Options{MaxResponseBytes: 100}, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				_, _ = fmt.Fprint(w, tt.body)
			})
			if _, err := e.As(testToken).CurrentUser(t.Context()); !errors.Is(err, ErrBadResponse) {
				t.Errorf("CurrentUser error = %v, want ErrBadResponse", err)
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	var leaked bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("Authorization") != ""
		writeJSON(w, 200, `{"login":"mallory"}`)
	}))
	t.Cleanup(other.Close)

	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/sub/api/v1/user":
			http.Redirect(w, r, other.URL+"/api/v1/user", http.StatusFound)
		case "/sub/api/v1/repos/alice/moved":
			http.Redirect(w, r, "/sub/api/v1/repos/alice/notes", http.StatusMovedPermanently)
		case "/sub/api/v1/repos/alice/notes":
			if r.Header.Get("Authorization") == "" {
				t.Error("same-origin redirect dropped the token")
			}
			writeJSON(w, 200, `{"full_name":"alice/notes"}`)
		}
	})
	if _, err := e.As(testToken).CurrentUser(t.Context()); !errors.Is(err, ErrBadResponse) {
		t.Errorf("cross-origin redirect error = %v, want ErrBadResponse", err)
	}
	if leaked {
		t.Error("the token was sent to another origin")
	}
	r, err := e.As(testToken).Repository(t.Context(), "alice", "moved")
	if err != nil || r.FullName != "alice/notes" {
		t.Errorf("same-origin redirect = %+v, %v; want alice/notes", r, err)
	}
}

func TestUnreachableIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(srv.URL)
	srv.Close()
	e, err := NewEndpoint(Options{BaseURL: u, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Version(t.Context())
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Version error = %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), u.Host+"/api") {
		t.Errorf("error %q repeats the request URL", err)
	}
}

func TestArgumentsRefusedBeforeSending(t *testing.T) {
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request sent for invalid arguments: %s", r.URL)
	})
	c := e.As(testToken)
	tests := []struct{ name, owner, repo, path, ref string }{
		{name: "dotdot owner", owner: "..", repo: "r", path: "a"},
		{name: "slash in repo", owner: "o", repo: "a/b", path: "a"},
		{name: "traversal", owner: "o", repo: "r", path: "docs/../../x"},
		{name: "absolute", owner: "o", repo: "r", path: "/etc/passwd"},
		{name: "backslash", owner: "o", repo: "r", path: `a\..\b`},
		{name: "control char", owner: "o", repo: "r", path: "a\nb"},
		{name: "bad ref", owner: "o", repo: "r", path: "a", ref: "main\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.FileContents(t.Context(), tt.owner, tt.repo, tt.path, tt.ref); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("FileContents(%q, %q, %q, %q) error = %v, want ErrInvalidArgument", tt.owner, tt.repo, tt.path, tt.ref, err)
			}
		})
	}
}

func TestFileContentsEscapesAndDecodes(t *testing.T) {
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != "/sub/api/v1/repos/o/r/contents/dir%20x/a%3Fb.md" || r.URL.Query().Get("ref") != "feature/x" {
			t.Errorf("request = %s, want escaped path and ref", r.URL)
		}
		writeJSON(w, 200, `{"type":"file","path":"dir x/a?b.md","encoding":"base64","content":"aGVsbG8="}`)
	})
	f, err := e.As(testToken).FileContents(t.Context(), "o", "r", "dir x/a?b.md", "feature/x")
	if err != nil {
		t.Fatalf("FileContents: %v", err)
	}
	if b, err := f.Decode(); err != nil || string(b) != "hello" {
		t.Errorf("Decode = %q, %v; want hello", b, err)
	}
}

func TestFileContentsOfDirectory(t *testing.T) {
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `[{"type":"file","path":"docs/a.md"}]`)
	})
	if _, err := e.As(testToken).FileContents(t.Context(), "o", "r", "docs", ""); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("FileContents(dir) error = %v, want ErrInvalidArgument", err)
	}
}

func TestPageInfo(t *testing.T) {
	tests := []struct {
		name  string
		total string
		opts  ListOptions
		got   int
		want  PageInfo
	}{
		{name: "more by total", total: "120", opts: ListOptions{Page: 2, Limit: 50}, got: 50, want: PageInfo{Total: 120, NextPage: 3}},
		{name: "last by total", total: "100", opts: ListOptions{Page: 2, Limit: 50}, got: 50, want: PageInfo{Total: 100}},
		{name: "no header, full page", opts: ListOptions{Page: 1, Limit: 10}, got: 10, want: PageInfo{Total: -1, NextPage: 2}},
		{name: "no header, short page", opts: ListOptions{Page: 1, Limit: 10}, got: 3, want: PageInfo{Total: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.total != "" {
				h.Set("X-Total-Count", tt.total)
			}
			if got := pageInfo(h, tt.opts, tt.got); got != tt.want {
				t.Errorf("pageInfo = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	tests := []struct {
		in      string
		atLeast bool // >= 1.27.0
		wantErr bool
	}{
		{in: "1.27.3", atLeast: true},
		{in: "v1.28.0+dev-12-gabc", atLeast: true},
		{in: "1.26.9", atLeast: false},
		{in: "2.0", atLeast: true},
		{in: "1.x.0", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		v, err := ParseVersion(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseVersion(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && v.AtLeast(1, 27, 0) != tt.atLeast {
			t.Errorf("ParseVersion(%q).AtLeast(1,27,0) = %v, want %v", tt.in, !tt.atLeast, tt.atLeast)
		}
	}
}

func TestClientNeverPrintsToken(t *testing.T) {
	e := fakeGitea(t, Options{}, func(http.ResponseWriter, *http.Request) {})
	c := e.As(testToken)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(format, c) + fmt.Sprintf(format, *c); strings.Contains(s, testToken) {
			t.Errorf("Sprintf(%q, client) = %s, leaks the token", format, s)
		}
	}
}

func FuzzEscapeRepoPath(f *testing.F) {
	for _, s := range []string{"a/b", "a/\u202e/../../x", "../x", "a//b", "%2e%2e/x", "a/./b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		esc, err := escapeRepoPath(p)
		if err != nil {
			return
		}
		unescaped, uerr := url.PathUnescape(esc)
		if uerr != nil || unescaped != p {
			t.Fatalf("escapeRepoPath(%q) = %q, which does not unescape to the input", p, esc)
		}
		for _, seg := range strings.Split(esc, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("escapeRepoPath(%q) = %q escapes the repository", p, esc)
			}
		}
	})
}

// TestReadOnlyClientNeverWrites: the client handed to a read tool refuses
// every method but GET and HEAD before anything leaves the process, while a
// writer sends them with a JSON body.
func TestReadOnlyClientNeverWrites(t *testing.T) {
	var got []string
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.Header.Get("Content-Type"))
		writeJSON(w, 201, `{}`)
	})
	methods := []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, "OPTIONS", "TRACE", "post"}
	for _, m := range methods {
		_, err := e.As(testToken).send(t.Context(), m, m+" /x", "/api/v1/x", nil, map[string]int{"a": 1}, nil)
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("read-only %s error = %v, want ErrReadOnly", m, err)
		}
	}
	if len(got) != 0 {
		t.Fatalf("a read-only client sent %v", got)
	}
	if e.As(testToken).CanWrite() || !e.AsWriter(testToken).CanWrite() {
		t.Error("CanWrite does not tell the reader from the writer")
	}
	if _, err := e.AsWriter(testToken).send(t.Context(), http.MethodPost, "POST /x", "/api/v1/x", nil, map[string]int{"a": 1}, nil); err != nil {
		t.Fatalf("writer POST: %v", err)
	}
	if _, err := e.As(testToken).get(t.Context(), "GET /x", "/api/v1/x", nil, &struct{}{}); err != nil {
		t.Fatalf("reader GET: %v", err)
	}
	if want := []string{"POST application/json", "GET "}; !slices.Equal(got, want) {
		t.Errorf("requests = %q, want %q", got, want)
	}
}

// TestReadDiffStreams: a diff is handed to the reader as a stream cut at
// the limit; truncated is known when the reader read to the limit; a
// failure reading the answer is ErrUnavailable; arguments are checked
// before anything is sent.
func TestReadDiffStreams(t *testing.T) {
	diff := "diff --git a/x b/x\n" + strings.Repeat("+line\n", 100)
	sha := strings.Repeat("a", 40)
	e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/sub/api/v1/repos/o/r/pulls/3.diff", "/sub/api/v1/repos/o/r/git/commits/" + sha + ".diff", "/sub/api/v1/repos/o/r/compare/main...dev":
		case "/sub/api/v1/repos/o/r/pulls/4.diff": // the answer breaks off
			w.Header().Set("Content-Length", fmt.Sprint(len(diff)))
			_, _ = fmt.Fprint(w, diff[:40])
			return
		default:
			t.Errorf("unexpected path %q", r.URL.Path)
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = fmt.Fprint(w, diff)
	})
	c := e.As(testToken)
	readAll := func(got *string) func(io.Reader) error {
		return func(r io.Reader) error {
			b, err := io.ReadAll(r)
			*got = string(b)
			return err
		}
	}
	readers := map[string]func(limit int, read func(io.Reader) error) (bool, error){
		"pull": func(limit int, read func(io.Reader) error) (bool, error) {
			return c.ReadPullRequestDiff(t.Context(), "o", "r", 3, limit, read)
		},
		"commit": func(limit int, read func(io.Reader) error) (bool, error) {
			return c.ReadCommitDiff(t.Context(), "o", "r", strings.ToUpper(sha), limit, read)
		},
		"compare": func(limit int, read func(io.Reader) error) (bool, error) {
			return c.ReadCompareDiff(t.Context(), "o", "r", "main", "dev", limit, read)
		},
	}
	for name, readDiff := range readers {
		for _, tt := range []struct {
			limit   int
			want    string
			wantCut bool
		}{
			{limit: 50, want: diff[:50], wantCut: true},
			{limit: len(diff), want: diff},
			{limit: len(diff) + 1, want: diff},
		} {
			var got string
			cut, err := readDiff(tt.limit, readAll(&got))
			if err != nil || got != tt.want || cut != tt.wantCut {
				t.Errorf("%s diff, limit %d = %d bytes, truncated %v, %v; want %d bytes, truncated %v", name, tt.limit, len(got), cut, err, len(tt.want), tt.wantCut)
			}
		}
		// A reader that stops early: no error, truncation unknown.
		cut, err := readDiff(50, func(r io.Reader) error { _, err := r.Read(make([]byte, 10)); return err })
		if err != nil || cut {
			t.Errorf("%s diff read in part = truncated %v, %v; want false, nil", name, cut, err)
		}
		// The reader's own error comes back as it is.
		mine := errors.New("mine")
		if _, err := readDiff(50, func(io.Reader) error { return mine }); !errors.Is(err, mine) {
			t.Errorf("%s diff with a failing reader = %v, want its error", name, err)
		}
	}
	var got string
	if _, err := c.ReadPullRequestDiff(t.Context(), "o", "r", 4, 1<<20, readAll(&got)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("a diff that breaks off = %v, want ErrUnavailable", err)
	}
	none := func(io.Reader) error { t.Error("read called for refused arguments"); return nil }
	for name, err := range map[string]error{
		"pull limit":   func() error { _, err := c.ReadPullRequestDiff(t.Context(), "o", "r", 3, 0, none); return err }(),
		"pull repo":    func() error { _, err := c.ReadPullRequestDiff(t.Context(), "o", "r/x", 3, 10, none); return err }(),
		"commit sha":   func() error { _, err := c.ReadCommitDiff(t.Context(), "o", "r", "abc123", 10, none); return err }(),
		"commit limit": func() error { _, err := c.ReadCommitDiff(t.Context(), "o", "r", sha, 0, none); return err }(),
		"compare head": func() error { _, err := c.ReadCompareDiff(t.Context(), "o", "r", "main", "a//b", 10, none); return err }(),
	} {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
}
