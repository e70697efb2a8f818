package gitea

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"
)

// Defaults for [Options] zero values.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxResponseBytes = 16 << 20
	connectTimeout          = 10 * time.Second
	maxRedirects            = 5
	drainLimit              = 64 << 10
)

// Options configure an [Endpoint]. The zero value of every field is a safe default.
type Options struct {
	// BaseURL is Gitea's root URL, e.g. https://gitea.example.com or
	// https://example.com/gitea. Required.
	BaseURL *url.URL
	// Timeout bounds a whole call, body included. Zero means [DefaultTimeout].
	Timeout time.Duration
	// MaxResponseBytes bounds a response body. Zero means [DefaultMaxResponseBytes].
	MaxResponseBytes int64
	// Transport sends the requests. Nil means a dedicated transport with
	// connect, TLS-handshake and response-header timeouts.
	Transport http.RoundTripper
	// UserAgent is sent on every request. Empty means "aegis-gitea-mcp".
	UserAgent string
	// Observe, if set, is told of every request's answer: its status (0
	// when none came) and how long it took, headers included. It must be
	// safe for concurrent use and quick.
	Observe func(status int, d time.Duration)
}

// Endpoint is one Gitea instance. It is safe for concurrent use; share one.
type Endpoint struct {
	base      *url.URL
	http      *http.Client
	maxBody   int64
	userAgent string
	observe   func(status int, d time.Duration)
}

// NewEndpoint returns an Endpoint for opts.BaseURL.
func NewEndpoint(opts Options) (*Endpoint, error) {
	if opts.BaseURL == nil || (opts.BaseURL.Scheme != "http" && opts.BaseURL.Scheme != "https") || opts.BaseURL.Host == "" {
		return nil, errors.New("gitea: BaseURL must be an absolute http(s) URL")
	}
	base := *opts.BaseURL
	base.Path = strings.TrimRight(base.Path, "/")
	base.RawPath, base.RawQuery, base.Fragment, base.User = "", "", "", nil
	timeout := cmp.Or(opts.Timeout, DefaultTimeout)
	transport := opts.Transport
	if transport == nil {
		transport = newTransport(timeout)
	}
	return &Endpoint{
		base: &base,
		http: &http.Client{
			Transport:     transport,
			Timeout:       timeout,
			CheckRedirect: sameOriginRedirects,
		},
		maxBody:   cmp.Or(opts.MaxResponseBytes, DefaultMaxResponseBytes),
		userAgent: cmp.Or(opts.UserAgent, "aegis-gitea-mcp"),
		observe:   opts.Observe,
	}, nil
}

func newTransport(timeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   connectTimeout,
		ResponseHeaderTimeout: timeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
	}
}

var errCrossOriginRedirect = errors.New("redirect to another origin refused")

// sameOriginRedirects follows at most a few redirects, and only to the same
// scheme and host: a token must never be sent anywhere but Gitea.
func sameOriginRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return errors.New("too many redirects")
	}
	if first := via[0].URL; req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return errCrossOriginRedirect
	}
	return nil
}

// BaseURL returns a copy of Gitea's root URL.
func (e *Endpoint) BaseURL() *url.URL {
	u := *e.base
	return &u
}

// As returns a read-only Client that calls Gitea as the owner of token: it
// sends GET and HEAD requests only, and refuses any other method with
// [ErrReadOnly] before anything is sent. The token is sent in the
// Authorization header only, never in a URL.
func (e *Endpoint) As(token string) *Client {
	return &Client{endpoint: e, token: credential(token)}
}

// AsWriter returns a Client like [Endpoint.As] that may also change data
// (POST, PUT, PATCH, DELETE). Hand it only to code that is meant to write.
func (e *Endpoint) AsWriter(token string) *Client {
	return &Client{endpoint: e, token: credential(token), writes: true}
}

// Client calls Gitea as one user. It is cheap; make one per request.
type Client struct {
	endpoint *Endpoint
	token    credential
	writes   bool // false: GET and HEAD only
}

// CanWrite reports whether c may send requests that change data.
func (c *Client) CanWrite() bool { return c.writes }

// Format prints a Client without its token, whatever the verb: fmt does not
// call String on unexported fields, so the redaction lives here.
func (c Client) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "gitea.Client{%s}", c.endpoint.base.Redacted())
}

// credential is a token that prints as [REDACTED] however it is formatted.
type credential string

func (credential) String() string   { return "[REDACTED]" }
func (credential) GoString() string { return "[REDACTED]" }

// call is one request to Gitea.
type call struct {
	method string // GET when empty
	op     string // method and path template, for errors and logs
	path   string // escaped path below the base URL
	query  url.Values
	form   url.Values // sent as an application/x-www-form-urlencoded body
	json   any        // sent as an application/json body, when form is nil
	token  credential // empty: no bearer token
	basic  *basicAuth // HTTP Basic credentials, for OAuth client calls
}

// basicAuth is an OAuth client's credentials; it never prints its secret.
type basicAuth struct {
	user   string
	secret credential
}

// roundTrip sends c. A 2xx response is returned with its body open for the
// caller to read and close (see closeBody); any other status is mapped to
// an *APIError.
func (e *Endpoint) roundTrip(ctx context.Context, c call) (*http.Response, error) {
	target := e.base.String() + c.path
	if q := c.query.Encode(); q != "" {
		target += "?" + q
	}
	var body io.Reader
	switch {
	case c.form != nil:
		body = strings.NewReader(c.form.Encode())
	case c.json != nil:
		data, err := json.Marshal(c.json)
		if err != nil {
			return nil, &APIError{Op: c.op, kind: ErrInvalidArgument}
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, cmp.Or(c.method, http.MethodGet), target, body)
	if err != nil {
		return nil, &APIError{Op: c.op, kind: ErrInvalidArgument}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", e.userAgent)
	switch {
	case c.form != nil:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case c.json != nil:
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case c.token != "":
		req.Header.Set("Authorization", "token "+string(c.token))
	case c.basic != nil:
		req.SetBasicAuth(c.basic.user, string(c.basic.secret))
	}
	start := time.Now()
	resp, err := e.http.Do(req) // #nosec G704 -- the URL is built from the configured Gitea base URL
	if e.observe != nil {
		status := 0
		if err == nil {
			status = resp.StatusCode
		}
		e.observe(status, time.Since(start))
	}
	if err != nil {
		return nil, transportError(c.op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer closeBody(resp)
		return nil, statusError(c.op, resp)
	}
	return resp, nil
}

// closeBody drains a little of the body, so the connection can be reused, and closes it.
func closeBody(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	_ = resp.Body.Close()
}

// send performs c and decodes a JSON answer into out; a nil out ignores
// the answer's body.
func (e *Endpoint) send(ctx context.Context, c call, out any) (http.Header, error) {
	resp, err := e.roundTrip(ctx, c)
	if err != nil {
		return nil, err
	}
	defer closeBody(resp)
	if out == nil {
		return resp.Header, nil
	}
	if err := e.decode(resp, out); err != nil {
		return nil, &APIError{Op: c.op, Status: resp.StatusCode, kind: ErrBadResponse, cause: err}
	}
	return resp.Header, nil
}

// sendText performs c and returns the beginning of a text answer (a diff)
// of at most limit bytes; truncated says whether anything was left out.
func (e *Endpoint) sendText(ctx context.Context, c call, limit int) (text string, truncated bool, err error) {
	resp, err := e.roundTrip(ctx, c)
	if err != nil {
		return "", false, err
	}
	defer closeBody(resp)
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return "", false, &APIError{Op: c.op, Status: resp.StatusCode, kind: ErrUnavailable, cause: err}
	}
	if len(body) > limit {
		return string(body[:limit]), true, nil
	}
	return string(body), false, nil
}

// sendStream performs c and hands read the text answer (a diff) as a
// stream of at most limit bytes, so that read keeps only what it needs.
// read may stop early. truncated says whether the answer went on past
// limit; it is known, and so reported, only when read read to the end of
// the limit. A failure reading the answer is ErrUnavailable, whatever read
// made of it; read's own error is returned as it is.
func (e *Endpoint) sendStream(ctx context.Context, c call, limit int, read func(io.Reader) error) (truncated bool, err error) {
	resp, err := e.roundTrip(ctx, c)
	if err != nil {
		return false, err
	}
	defer closeBody(resp)
	body := &failureReader{r: resp.Body}
	cut := &io.LimitedReader{R: body, N: int64(limit)}
	rerr := read(cut)
	if cut.N == 0 && body.err == nil && rerr == nil {
		var one [1]byte
		n, _ := io.ReadFull(body, one[:])
		truncated = n > 0
	}
	if body.err != nil {
		return false, &APIError{Op: c.op, Status: resp.StatusCode, kind: ErrUnavailable, cause: body.err}
	}
	return truncated, rerr
}

// failureReader records the first failure of r other than io.EOF.
type failureReader struct {
	r   io.Reader
	err error
}

func (f *failureReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && f.err == nil {
		f.err = err
	}
	return n, err
}

// getStream is get for a text answer read as a stream; see Endpoint.sendStream.
func (c *Client) getStream(ctx context.Context, op, path string, q url.Values, limit int, read func(io.Reader) error) (bool, error) {
	cl, err := c.request(http.MethodGet, op, path, q, nil)
	if err != nil {
		return false, err
	}
	return c.endpoint.sendStream(ctx, cl, limit, read)
}

// maxTailRead bounds how much of a text answer sendTail reads to find its end.
const maxTailRead = 256 << 20

// sendTail performs c and returns the last limit bytes of a text answer (a
// log) and the size of the whole answer. It reads the answer through,
// holding at most twice limit bytes, up to maxTailRead; past that, total is
// negative and the text is the end of what was read.
func (e *Endpoint) sendTail(ctx context.Context, c call, limit int) (text string, total int64, err error) {
	resp, err := e.roundTrip(ctx, c)
	if err != nil {
		return "", 0, err
	}
	defer closeBody(resp)
	buf := make([]byte, 0, 2*limit)
	chunk := make([]byte, 32<<10)
	for total < maxTailRead {
		n, rerr := resp.Body.Read(chunk)
		total += int64(n)
		buf = append(buf, chunk[:n]...)
		if len(buf) > 2*limit {
			buf = append(buf[:0], buf[len(buf)-limit:]...)
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return "", 0, &APIError{Op: c.op, Status: resp.StatusCode, kind: ErrUnavailable, cause: rerr}
		}
	}
	if total >= maxTailRead {
		total = -1
	}
	if len(buf) > limit {
		buf = buf[len(buf)-limit:]
	}
	return string(buf), total, nil
}

// decode decodes a JSON answer into out as it is read, through a reader
// that refuses more than maxBody bytes. The body is never read whole
// first: an array (a list, the common large answer) is decoded one element
// at a time, so what is held is the decoded value and one element's text;
// any other value is buffered by encoding/json's decoder, once, while it is
// decoded. Data after the value is refused, as json.Unmarshal does.
func (e *Endpoint) decode(resp *http.Response, out any) error {
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return fmt.Errorf("content type %q, want application/json", mt)
	}
	body := &cappedReader{r: resp.Body, left: e.maxBody}
	err := decodeJSON(json.NewDecoder(body), out)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return fmt.Errorf("body larger than %d bytes", e.maxBody)
	case body.err != nil:
		return fmt.Errorf("reading body: %w", body.err)
	case err != nil:
		return errors.New("body is not the expected JSON")
	}
	return nil
}

var (
	errBodyTooLarge     = errors.New("body too large")
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodeJSON decodes the one JSON value dec reads into out, a pointer, and
// checks that nothing but white space follows it.
func decodeJSON(dec *json.Decoder, out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return errors.New("decoding into a non-pointer")
	}
	s := v.Elem()
	if s.Kind() != reflect.Slice || implementsUnmarshaler(s.Type()) {
		if err := dec.Decode(out); err != nil {
			return err
		}
	} else if err := decodeSlice(dec, s); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("data after the JSON value")
		}
		return err
	}
	return nil
}

// implementsUnmarshaler reports whether t or *t decodes itself.
func implementsUnmarshaler(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshalerType) || p.Implements(jsonUnmarshalerType) ||
		t.Implements(textUnmarshalerType) || p.Implements(textUnmarshalerType)
}

// decodeSlice decodes the next value dec reads into the slice s. An array
// is decoded element by element, the way json.Unmarshal fills a slice
// (elements decoded in place, the length set to the count, [] an empty
// slice); any other value (null, a string for a []byte, a mistyped value)
// is decoded whole, with json.Unmarshal's result.
func decodeSlice(dec *json.Decoder, s reflect.Value) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok && d == '{' {
		return errors.New("a JSON object where an array is expected")
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		scalar, err := json.Marshal(tok)
		if err != nil {
			return err
		}
		return json.Unmarshal(scalar, s.Addr().Interface())
	}
	i := 0
	for ; dec.More(); i++ {
		if i >= s.Cap() {
			s.Grow(1)
		}
		if i >= s.Len() {
			s.SetLen(i + 1)
		}
		if err := dec.Decode(s.Index(i).Addr().Interface()); err != nil {
			return err
		}
	}
	if i < s.Len() {
		s.SetLen(i)
	}
	if i == 0 {
		s.Set(reflect.MakeSlice(s.Type(), 0, 0))
	}
	_, err = dec.Token() // the closing ]
	return err
}

// cappedReader reads at most left bytes of r and fails with
// errBodyTooLarge if r holds more. It records r's own failure.
type cappedReader struct {
	r    io.Reader
	left int64
	err  error
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		n, err := io.ReadFull(c.r, one[:])
		switch {
		case n > 0:
			return 0, errBodyTooLarge
		case errors.Is(err, io.EOF):
			return 0, io.EOF
		}
		c.err = err
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		c.err = err
	}
	return n, err
}

// transportError wraps a failed round trip without the request URL, which
// url.Error would otherwise repeat.
func transportError(op string, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if errors.Is(err, errCrossOriginRedirect) {
		return &APIError{Op: op, kind: ErrBadResponse, cause: err}
	}
	return &APIError{Op: op, kind: ErrUnavailable, cause: err}
}
