package gitea

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDecodeJSONMatchesUnmarshal: decoding from the stream gives what
// json.Unmarshal gives, value and success, for lists and everything else.
func TestDecodeJSONMatchesUnmarshal(t *testing.T) {
	type item struct {
		ID   int64   `json:"id"`
		Name string  `json:"name"`
		Tags []Label `json:"tags"`
		Sub  *item   `json:"sub"`
	}
	inputs := []string{
		`[]`, ` [ ] `, `null`, `[{"id":1,"name":"a"},{"id":2,"NAME":"b","tags":[{"name":"x"}]}]`,
		`[{"id":1,"sub":{"id":2}}, null, {"id":3}]`, "[{\"id\":1}]\n\t ", `[{"id":1}] [{"id":2}]`,
		`[{"id":1}] x`, `[{"id":1},]`, `[{"id":1}`, `[{"id":"one"}]`, `{"id":1}`, `"aGk="`, `1`, `true`,
		`[1,2,3]`, ``, `  `, `]`, `[{"id":1} {"id":2}]`, `{"id":1,"name":"a","tags":[{"name":"x"}],"sub":{"id":9}}`,
		`{"id":1}{"id":2}`, `{"id":1}  `, `[[1]]`,
	}
	targets := []func() any{
		func() any { return new([]item) },
		func() any { return new([]*item) },
		func() any { return new(item) },
		func() any { return new([]byte) },
		func() any { return new(json.RawMessage) },
		func() any { return new(any) },
		func() any { return new([]any) },
		func() any { return new([]int) },
		func() any { return new([][]int) },
		func() any { return new(Audience) },
	}
	for _, in := range inputs {
		for _, target := range targets {
			want, got := target(), target()
			wantErr := json.Unmarshal([]byte(in), want)
			gotErr := decodeJSON(json.NewDecoder(strings.NewReader(in)), got)
			if (gotErr == nil) != (wantErr == nil) {
				t.Errorf("decode %q into %T: error %v, json.Unmarshal: %v", in, got, gotErr, wantErr)
				continue
			}
			if wantErr == nil && !reflect.DeepEqual(got, want) {
				t.Errorf("decode %q into %T = %#v, json.Unmarshal gives %#v", in, got, reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem())
			}
		}
	}
}

// TestDecodeIsBounded: a body of exactly MaxResponseBytes decodes; one
// byte more is refused as too large, white space included.
func TestDecodeIsBounded(t *testing.T) {
	const max = 100
	list := `[{"login":"` + strings.Repeat("a", max-14) + `"}]`
	if len(list) != max {
		t.Fatalf("test body is %d bytes, want %d", len(list), max)
	}
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{name: "at the bound", body: list},
		{name: "one byte over", body: list + " ", wantErr: fmt.Sprintf("body larger than %d bytes", max)},
		{name: "far over", body: `[` + strings.Repeat(`{"login":"a"},`, 1000) + `{}]`, wantErr: fmt.Sprintf("body larger than %d bytes", max)},
		{name: "not json", body: `[{"login":}]`, wantErr: "body is not the expected JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &Endpoint{maxBody: max}
			resp := &http.Response{Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, Body: io.NopCloser(strings.NewReader(tt.body))}
			var users []User
			err := e.decode(resp, &users)
			switch {
			case tt.wantErr == "" && (err != nil || len(users) != 1):
				t.Errorf("decode = %v, %d users; want one user", err, len(users))
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("decode error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// bigList is a JSON list of about size bytes of issue-like objects.
func bigList(size int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	body := strings.Repeat("lorem ipsum ", 200)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"number":%d,"title":"issue %d","body":%q,"state":"open","user":{"id":1,"login":"alice"},"labels":[{"name":"bug"}]}`, i, i, body)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// peakHeap runs f and returns the peak of the live heap above where it
// started, sampled every 100µs.
func peakHeap(f func()) uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	base, top := s[0].Value.Uint64(), s[0].Value.Uint64()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			top = max(top, s[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	return top - base
}

// BenchmarkDecodeList decodes a 12 MiB list answer: "buffered" is how
// decode worked before (the body read whole, then json.Unmarshal), "stream"
// is decode now. peak-B/op is the live heap's peak above the start.
func BenchmarkDecodeList(b *testing.B) {
	body := bigList(12 << 20)
	e := &Endpoint{maxBody: DefaultMaxResponseBytes}
	resp := func() *http.Response {
		return &http.Response{Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(body))}
	}
	for _, m := range []struct {
		name   string
		decode func(*http.Response, any) error
	}{
		{name: "buffered", decode: func(r *http.Response, out any) error {
			data, err := io.ReadAll(io.LimitReader(r.Body, e.maxBody+1))
			if err != nil {
				return err
			}
			return json.Unmarshal(data, out)
		}},
		{name: "stream", decode: e.decode},
	} {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			var peak uint64
			for b.Loop() {
				var issues []Issue
				peak = max(peak, peakHeap(func() {
					r := resp()
					defer func() { _ = r.Body.Close() }()
					if err := m.decode(r, &issues); err != nil || len(issues) == 0 {
						b.Fatalf("decode = %v, %d issues", err, len(issues))
					}
				}))
			}
			b.ReportMetric(float64(peak), "peak-B/op")
		})
	}
}
