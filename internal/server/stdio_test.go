package server

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/config"
)

// stdioGitea is a Gitea that knows the shared token's owner.
type stdioGitea struct{ fakeGitea }

func (f *stdioGitea) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/v1/user" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":7,"login":"alice"}`)
		return
	}
	f.fakeGitea.ServeHTTP(w, r)
}

// stdioSession is ServeStdio on pipes: send writes to its stdin, next
// reads the next line of its stdout.
type stdioSession struct {
	in    *io.PipeWriter
	lines chan string // written to in, in order, by one goroutine
	out   chan string
	done  chan error
}

// startStdioSession serves stdio in shared-token mode with lines bounded
// to maxLine bytes.
func startStdioSession(t *testing.T, maxLine int64) *stdioSession {
	t.Helper()
	up := httptest.NewServer(&stdioGitea{})
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	cfg := &config.Config{GiteaURL: u, GiteaToken: config.NewSecret("pat"), ListenAddr: "127.0.0.1:0",
		PublicBaseURL: u, RequestTimeout: 5 * time.Second, MaxRequestBodyBytes: maxLine}
	s, err := New(Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	sess := &stdioSession{in: inW, lines: make(chan string, 16), out: make(chan string, 16), done: make(chan error, 1)}
	go func() { sess.done <- s.ServeStdio(t.Context(), inR, outW) }()
	go func() { // a pipe write waits for the reader, so writes go on their own
		for line := range sess.lines {
			if _, err := io.WriteString(inW, line); err != nil {
				return
			}
		}
		_ = inW.Close()
	}()
	go func() {
		r := bufio.NewReader(outR)
		for {
			line, err := r.ReadString('\n')
			if line != "" {
				sess.out <- line
			}
			if err != nil {
				close(sess.out)
				return
			}
		}
	}()
	t.Cleanup(func() { _ = inW.Close(); _ = outR.Close() })
	return sess
}

func (s *stdioSession) send(t *testing.T, line string) {
	t.Helper()
	s.lines <- line
}

// end closes stdin once everything sent is written.
func (s *stdioSession) end() { close(s.lines) }

// stdioAnswer is one JSON-RPC answer line.
type stdioAnswer struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (s *stdioSession) next(t *testing.T) (stdioAnswer, string) {
	t.Helper()
	select {
	case line, ok := <-s.out:
		if !ok {
			t.Fatalf("stdio closed its output instead of answering (ServeStdio = %v)", <-s.done)
		}
		var a stdioAnswer
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("answer %q is not JSON: %v", line, err)
		}
		return a, line
	case err := <-s.done:
		t.Fatalf("ServeStdio returned %v instead of answering", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no answer within 10 s")
	}
	return stdioAnswer{}, ""
}

// wantError reads the next answer and checks it is the error code for id.
func (s *stdioSession) wantError(t *testing.T, what string, code int, id string) stdioAnswer {
	t.Helper()
	a, line := s.next(t)
	if a.JSONRPC != "2.0" || a.Error == nil || a.Error.Code != code || string(a.ID) != id {
		t.Errorf("answer to %s = %s, want error %d with id %s", what, line, code, id)
	}
	return a
}

// wantResult reads the next answer and checks it is a result for id.
func (s *stdioSession) wantResult(t *testing.T, what, id string) stdioAnswer {
	t.Helper()
	a, line := s.next(t)
	if a.Error != nil || a.Result == nil || string(a.ID) != id {
		t.Errorf("answer to %s = %s, want a result for id %s", what, line, id)
	}
	return a
}

const stdioInitialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"%s","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}` + "\n" +
	`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n"

func (s *stdioSession) initialize(t *testing.T, protocol string) {
	t.Helper()
	s.send(t, strings.Replace(stdioInitialize, "%s", protocol, 1))
	if a := s.wantResult(t, "initialize", "1"); !strings.Contains(string(a.Result), `"protocolVersion":"`+protocol+`"`) {
		t.Fatalf("initialize negotiated %s, want %s", a.Result, protocol)
	}
}

// TestStdioAnswersMalformedLines: a line that is not a JSON-RPC message
// gets a JSON-RPC error and the session goes on; only the end of stdin
// ends it, cleanly.
func TestStdioAnswersMalformedLines(t *testing.T) {
	s := startStdioSession(t, 1<<10)
	s.send(t, "this is {not json\n")
	s.wantError(t, "garbage before initialize", -32700, "null")
	s.initialize(t, "2025-11-25")

	s.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":`+"\n")
	s.wantError(t, "a truncated message", -32700, "null")
	s.send(t, `{"jsonrpc":"2.0","id":3} {"jsonrpc":"2.0","id":4}`+"\n")
	s.wantError(t, "two values on one line", -32700, "null")
	s.send(t, "\xff\xfe\n")
	s.wantError(t, "bytes that are not UTF-8", -32700, "null")
	s.send(t, `{"jsonrpc":"1.0","id":5,"method":"ping"}`+"\n")
	s.wantError(t, "a wrong version tag", -32600, "5")
	s.send(t, `{"jsonrpc":"1.0","ID":5,"method":"ping"}`+"\n")
	s.wantError(t, "an id under another key case", -32600, "null")
	s.send(t, "42\n")
	s.wantError(t, "a number", -32600, "null")
	s.send(t, "[]\n")
	s.wantError(t, "an empty batch", -32600, "null")
	s.send(t, "\n  \r\n") // blank lines: no answer
	long := `{"jsonrpc":"2.0","id":6,"method":"ping","params":{"x":"` + strings.Repeat("a", 100<<10) + `"}}` + "\n"
	s.send(t, long)
	if a := s.wantError(t, "a line over the limit", -32600, "null"); a.Error != nil && !strings.Contains(a.Error.Message, "1024 bytes") {
		t.Errorf("over-long answer %q does not name the limit", a.Error.Message)
	}
	s.send(t, `{"jsonrpc":"2.0","id":7,"method":"ping"}`+"\r\n") // CRLF is one line end
	s.wantResult(t, "ping after malformed lines", "7")
	s.send(t, `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"get_me","arguments":{}}}`+"\n")
	if a := s.wantResult(t, "get_me", "8"); !strings.Contains(string(a.Result), "alice") {
		t.Errorf("get_me = %s, want alice", a.Result)
	}
	// A line exactly at the limit is taken.
	at := `{"jsonrpc":"2.0","id":9,"method":"ping","params":{"x":"`
	at += strings.Repeat("a", 1<<10-len(at)-3) + `"}}`
	s.send(t, at+"\n")
	s.wantResult(t, "a line exactly at the limit", "9")

	s.end()
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("ServeStdio at the end of stdin = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeStdio still running after stdin closed")
	}
}

// TestStdioBatches: JSON-RPC batches work as the SDK's own transport takes
// them: answered as one array before protocol 2025-06-18, refused (and the
// session kept) from it on.
func TestStdioBatches(t *testing.T) {
	old := startStdioSession(t, 1<<20)
	old.initialize(t, "2025-03-26")
	old.send(t, `[{"jsonrpc":"2.0","id":"a","method":"ping"},{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}},{"jsonrpc":"2.0","id":"b","method":"ping"}]`+"\n")
	select {
	case line := <-old.out:
		var answers []stdioAnswer
		if err := json.Unmarshal([]byte(line), &answers); err != nil || len(answers) != 2 ||
			string(answers[0].ID) != `"a"` || string(answers[1].ID) != `"b"` {
			t.Errorf("batch answer = %s, want one array answering a then b", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer to the batch")
	}
	old.send(t, `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":1,"method":"ping"}]`+"\n")
	old.wantError(t, "a batch repeating an id", -32600, "null")
	old.send(t, `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"nope":true}]`+"\n")
	old.wantError(t, "a batch with a bad element", -32600, "null")
	old.send(t, `{"jsonrpc":"2.0","id":2,"method":"ping"}`+"\n")
	old.wantResult(t, "ping after bad batches", "2")

	current := startStdioSession(t, 1<<20)
	current.initialize(t, "2025-06-18")
	current.send(t, `[{"jsonrpc":"2.0","id":2,"method":"ping"}]`+"\n")
	if a := current.wantError(t, "a batch in 2025-06-18", -32600, "null"); a.Error != nil && !strings.Contains(a.Error.Message, "2025-06-18") {
		t.Errorf("batch refusal %q does not name the revision", a.Error.Message)
	}
	current.send(t, `{"jsonrpc":"2.0","id":3,"method":"ping"}`+"\n")
	current.wantResult(t, "ping after a refused batch", "3")
}
