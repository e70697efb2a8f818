package clientdoc

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// docServer is a loopback server that counts its connections and requests.
type docServer struct {
	*httptest.Server
	conns atomic.Int64
	hits  atomic.Int64
}

// newServer starts a loopback server whose handler is told the URL it was
// asked for, which a good document names as its client_id.
func newServer(t *testing.T, useTLS bool, h func(w http.ResponseWriter, r *http.Request, self string)) *docServer {
	t.Helper()
	s := &docServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		// Escaped for HTML, which changes no test URL, as a test server
		// that echoes what it was asked is what gosec's G705 looks for.
		h(w, r, html.EscapeString(scheme+"://"+r.Host+r.URL.Path))
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func (s *docServer) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.Certificate())
	return p
}

// port is the server's port, as text.
func (s *docServer) port() string {
	_, p, _ := net.SplitHostPort(s.Listener.Addr().String())
	return p
}

// writeDoc answers a good document for self.
func writeDoc(w http.ResponseWriter, self string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"client_id":%q,"client_name":"Test App","redirect_uris":["http://127.0.0.1:9/cb"]}`, self)

}

func goodServer(t *testing.T, useTLS bool) *docServer {
	return newServer(t, useTLS, func(w http.ResponseWriter, _ *http.Request, self string) { writeDoc(w, self) })
}

// wantKind fails t unless err is an *Error of kind; it returns the
// description.
func wantKind(t *testing.T, err, kind error) string {
	t.Helper()
	var e *Error
	if !errors.Is(err, kind) || !errors.As(err, &e) {
		t.Fatalf("error %v, want a *Error of kind %v", err, kind)
	}
	return e.Description
}

func TestFetchTLS(t *testing.T) {
	s := goodServer(t, true)
	f := New(Options{AllowPrivate: true, RootCAs: s.pool()})
	id := s.URL + "/client.json"
	d, err := f.Fetch(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if d.ClientID != id || d.ClientName != "Test App" || len(d.RedirectURIs) != 1 || d.RedirectURIs[0] != "http://127.0.0.1:9/cb" {
		t.Errorf("document = %+v", d)
	}
	if d.FetchedAt.IsZero() || d.ExpiresAt.Sub(d.FetchedAt) != DefaultTTL {
		t.Errorf("FetchedAt %v, ExpiresAt %v", d.FetchedAt, d.ExpiresAt)
	}
	// The caller's copy is its own.
	d.RedirectURIs[0] = "https://evil.example/cb"
	d2, err := f.Fetch(context.Background(), id)
	if err != nil || d2.RedirectURIs[0] != "http://127.0.0.1:9/cb" {
		t.Errorf("the cached document changed: %v %v", d2, err)
	}
}

func TestFetchUntrustedCertificate(t *testing.T) {
	s := goodServer(t, true)
	f := New(Options{AllowPrivate: true}) // the system roots do not hold the test certificate
	_, err := f.Fetch(context.Background(), s.URL+"/c")
	desc := wantKind(t, err, ErrFetch)
	if !strings.Contains(desc, "TLS") {
		t.Errorf("description %q", desc)
	}
}

func TestFetchHTTPOnlyForLoopbackTests(t *testing.T) {
	s := goodServer(t, false)
	id := s.URL + "/c"
	if _, err := New(Options{AllowPrivate: true}).Fetch(context.Background(), id); err != nil {
		t.Fatalf("http on loopback with AllowPrivate: %v", err)
	}
	_, err := New(Options{}).Fetch(context.Background(), id)
	wantKind(t, err, ErrInvalidURL)
	if n := s.hits.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

// TestSSRFRefusedBeforeConnect shows that without AllowPrivate no loopback
// or private target is connected to: IP literals are refused by the URL
// check, names by the dialer after resolution; the server sees no
// connection at all.
func TestSSRFRefusedBeforeConnect(t *testing.T) {
	s := goodServer(t, true)
	f := New(Options{RootCAs: s.pool(), Timeout: 2 * time.Second})
	p := s.port()
	for _, c := range []struct {
		id   string
		kind error
	}{
		{"https://127.0.0.1:" + p + "/c", ErrForbiddenAddress},
		{"https://[::1]:" + p + "/c", ErrForbiddenAddress},
		{"https://[::ffff:127.0.0.1]:" + p + "/c", ErrForbiddenAddress},
		{"https://[::ffff:7f00:1]:" + p + "/c", ErrForbiddenAddress},
		{"https://10.0.0.1:" + p + "/c", ErrForbiddenAddress},
		{"https://169.254.169.254/latest/meta-data/iam", ErrForbiddenAddress},
		{"https://0.0.0.0:" + p + "/c", ErrForbiddenAddress},
		{"https://localhost:" + p + "/c", ErrForbiddenAddress}, // a name resolving to loopback
		{"https://2130706433:" + p + "/c", ErrInvalidURL},
		{"https://0x7f.1:" + p + "/c", ErrInvalidURL},
		{"https://127.1:" + p + "/c", ErrInvalidURL},
		{"http://127.0.0.1:" + p + "/c", ErrInvalidURL},
	} {
		_, err := f.Fetch(context.Background(), c.id)
		desc := wantKind(t, err, c.kind)
		if errors.Is(c.kind, ErrForbiddenAddress) && desc != descForbidden {
			t.Errorf("%s: description %q", c.id, desc)
		}
	}
	if c, h := s.conns.Load(), s.hits.Load(); c != 0 || h != 0 {
		t.Fatalf("the server saw %d connections and %d requests, want none", c, h)
	}
}

// TestDialerRefusesLoopback dials loopback literals with the Fetcher's
// dialer directly: the Control check refuses them before connect.
func TestDialerRefusesLoopback(t *testing.T) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	f := New(Options{Timeout: time.Second})
	for _, addr := range []string{"127.0.0.1:" + p, "[::ffff:127.0.0.1]:" + p, "localhost:" + p} {
		c, err := f.dialer.DialContext(context.Background(), "tcp", addr)
		if err == nil {
			_ = c.Close()
			t.Fatalf("dialed %s", addr)
		}
		if !errors.Is(err, errForbiddenDial) {
			t.Errorf("dial %s: %v, want the forbidden-address refusal", addr, err)
		}
	}
	if c, err := f.dialer.DialContext(context.Background(), "tcp6", "[::1]:"+p); err == nil {
		_ = c.Close()
		t.Fatal("dialed [::1]")
	}
	// A Fetcher with AllowPrivate does connect, so the listener works.
	c, err := New(Options{AllowPrivate: true}).dialer.DialContext(context.Background(), "tcp", "127.0.0.1:"+p)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	deadline := time.Now().Add(2 * time.Second)
	for accepted.Load() < 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := accepted.Load(); n != 1 {
		t.Fatalf("the listener accepted %d connections, want only the AllowPrivate one", n)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		var target atomic.Int64
		s := newServer(t, false, func(w http.ResponseWriter, r *http.Request, self string) {
			if r.URL.Path == "/target" {
				target.Add(1)
				writeDoc(w, self)
				return
			}
			http.Redirect(w, r, "/target", code)
		})
		_, err := New(Options{AllowPrivate: true}).Fetch(context.Background(), s.URL+"/c")
		desc := wantKind(t, err, ErrFetch)
		if !strings.Contains(desc, "redirect") {
			t.Errorf("%d: description %q", code, desc)
		}
		if target.Load() != 0 || s.hits.Load() != 1 {
			t.Errorf("%d: the redirect was followed", code)
		}
	}
}

func TestStatusNot200(t *testing.T) {
	for _, code := range []int{http.StatusNoContent, http.StatusNotModified, http.StatusNotFound, http.StatusInternalServerError} {
		s := newServer(t, false, func(w http.ResponseWriter, _ *http.Request, self string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"client_id":%q,"redirect_uris":["https://app.example/cb"]}`, self)
		})
		_, err := New(Options{AllowPrivate: true}).Fetch(context.Background(), s.URL+"/c")
		wantKind(t, err, ErrFetch)
	}
}

func TestOversizeRefused(t *testing.T) {
	pad := strings.Repeat("x", DefaultMaxBytes)
	for _, chunked := range []bool{false, true} {
		s := newServer(t, false, func(w http.ResponseWriter, _ *http.Request, self string) {
			w.Header().Set("Content-Type", "application/json")
			body := fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://app.example/cb"],"pad":%q}`, self, pad)
			if chunked {
				for i := 0; i < len(body); i += 512 {
					_, _ = w.Write([]byte(body[i:min(i+512, len(body))]))
					w.(http.Flusher).Flush()
				}
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write([]byte(body))
		})
		_, err := New(Options{AllowPrivate: true}).Fetch(context.Background(), s.URL+"/c")
		desc := wantKind(t, err, ErrInvalidDocument)
		if desc != "the client metadata document is larger than 5 KiB" {
			t.Errorf("chunked %v: description %q", chunked, desc)
		}
		if strings.Contains(err.Error(), "xxxx") {
			t.Errorf("the error quotes the body: %q", err)
		}
	}
	// A larger bound admits it.
	s := newServer(t, false, func(w http.ResponseWriter, _ *http.Request, self string) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"client_id":%q,"redirect_uris":["https://app.example/cb"],"pad":%q}`, self, pad)
	})
	if _, err := New(Options{AllowPrivate: true, MaxBytes: 8 << 10}).Fetch(context.Background(), s.URL+"/c"); err != nil {
		t.Fatal(err)
	}
}

func TestSlowServerTimesOut(t *testing.T) {
	release := make(chan struct{})
	s := newServer(t, false, func(w http.ResponseWriter, r *http.Request, self string) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // runs before s.Close
	f := New(Options{AllowPrivate: true, Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := f.Fetch(context.Background(), s.URL+"/c")
	desc := wantKind(t, err, ErrFetch)
	if !strings.Contains(desc, "timed out") {
		t.Errorf("description %q", desc)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the fetch took %v", d)
	}
}

func TestSlowBodyTimesOut(t *testing.T) {
	release := make(chan struct{})
	s := newServer(t, false, func(w http.ResponseWriter, r *http.Request, self string) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"client_id":%q,`, self)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	_, err := New(Options{AllowPrivate: true, Timeout: 200 * time.Millisecond}).Fetch(context.Background(), s.URL+"/c")
	wantKind(t, err, ErrFetch)
}

func TestContentType(t *testing.T) {
	for ct, ok := range map[string]bool{
		"application/json":                  true,
		"application/json; charset=utf-8":   true,
		"Application/JSON":                  true,
		"text/html":                         false,
		"text/plain; charset=utf-8":         false,
		"application/jsonp":                 false,
		"application/x-www-form-urlencoded": false,
		"application/json; =":               false,
		"":                                  false,
	} {
		s := newServer(t, false, func(w http.ResponseWriter, _ *http.Request, self string) {
			w.Header()["Content-Type"] = []string{ct}
			fmt.Fprintf(w, `{"client_id":%q,"redirect_uris":["https://app.example/cb"]}`, self)
		})
		_, err := New(Options{AllowPrivate: true}).Fetch(context.Background(), s.URL+"/c")
		if ok && err != nil {
			t.Errorf("%q: %v", ct, err)
		}
		if !ok {
			desc := wantKind(t, err, ErrInvalidDocument)
			if !strings.Contains(desc, "application/json") {
				t.Errorf("%q: description %q", ct, desc)
			}
		}
	}
}

func TestDocumentRulesOverHTTP(t *testing.T) {
	for name, c := range map[string]struct {
		body string // %[1]q is the URL
		desc string
	}{
		"client_id mismatch":   {`{"client_id":"https://other.example/c","redirect_uris":["https://app.example/cb"]}`, "does not match its URL"},
		"client_id with slash": {`{"client_id":"%[1]s/","redirect_uris":["https://app.example/cb"]}`, "does not match its URL"},
		"client_secret":        {`{"client_id":%[1]q,"client_secret":"hunter2","redirect_uris":["https://app.example/cb"]}`, "client_secret"},
		"secret method":        {`{"client_id":%[1]q,"token_endpoint_auth_method":"client_secret_basic","redirect_uris":["https://app.example/cb"]}`, "shared secret"},
		"bad redirect":         {`{"client_id":%[1]q,"redirect_uris":["http://app.example/cb"]}`, "loopback"},
		"not json":             {`<html>hunter2</html>`, descNotObject},
	} {
		s := newServer(t, false, func(w http.ResponseWriter, _ *http.Request, self string) {
			w.Header().Set("Content-Type", "application/json")
			body := c.body
			if strings.Contains(body, "%[1]") {
				body = fmt.Sprintf(body, self)
			}
			_, _ = w.Write([]byte(body))
		})
		_, err := New(Options{AllowPrivate: true}).Fetch(context.Background(), s.URL+"/c")
		desc := wantKind(t, err, ErrInvalidDocument)
		if !strings.Contains(desc, c.desc) {
			t.Errorf("%s: description %q, want %q", name, desc, c.desc)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error quotes the body: %q", name, err)
		}
	}
}

func TestErrorURLIsCut(t *testing.T) {
	id := "https://app.example/" + strings.Repeat("a", 500) + "?q"
	_, err := New(Options{}).Fetch(context.Background(), id)
	wantKind(t, err, ErrInvalidURL)
	var e *Error
	if !errors.As(err, &e) || len(e.URL) > maxErrorURL+3 || len(err.Error()) > 400 || strings.Contains(e.Description, "app.example") {
		t.Errorf("URL %q, error %q", e.URL, err)
	}
	_, err = New(Options{}).Fetch(context.Background(), "https://app.example/\x1b[31m")
	if strings.Contains(err.Error(), "\x1b") {
		t.Errorf("the error holds a raw control character: %q", err)
	}
}
