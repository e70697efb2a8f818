package e2e

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sseStream reads events from a raw SSE response.
type sseStream struct {
	events chan [2]string // name, data
}

func openSSE(t *testing.T, url, token string) *sseStream {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req) //nolint:bodyclose // closed by the reader goroutine
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	s := &sseStream{events: make(chan [2]string, 16)}
	go func() {
		defer func() { _ = resp.Body.Close() }()
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var name, data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			case line == "" && name != "":
				s.events <- [2]string{name, data}
				name, data = "", ""
			}
		}
	}()
	return s
}

// next returns the data of the next event, which must be called name.
func (s *sseStream) next(t *testing.T, name string) string {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatalf("stream ended before a %q event", name)
		}
		if ev[0] != name {
			t.Fatalf("event %q (%s), want %q", ev[0], ev[1], name)
		}
		return ev[1]
	case <-time.After(30 * time.Second):
		t.Fatalf("no %q event within 30 s", name)
	}
	return ""
}
