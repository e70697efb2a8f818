package clientdoc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/sync/singleflight"
)

// Defaults for the zero values of [Options], and the failure lifetime.
const (
	DefaultTimeout    = 5 * time.Second
	DefaultMaxBytes   = 5 << 10 // 5 KiB, the draft's suggestion
	DefaultMaxEntries = 1000
	DefaultMinTTL     = time.Minute
	DefaultMaxTTL     = 24 * time.Hour
	DefaultTTL        = 5 * time.Minute
	// FailureTTL is how long a failed fetch is remembered: fetches of that
	// URL meanwhile return the same error without asking the host again.
	FailureTTL = 30 * time.Second
)

// userAgent identifies the fetches to the client's web server.
const userAgent = "aegis-gitea-mcp (client metadata fetcher)"

// Options configure a [Fetcher]. The zero value is the production setting.
type Options struct {
	// AllowPrivate is for tests only: it turns off the address checks, so
	// loopback and private hosts are fetched, and allows http:// URLs on a
	// loopback host (127.0.0.0/8, [::1], localhost).
	AllowPrivate bool
	// Timeout bounds a whole fetch: connecting, TLS, the answer and its
	// body. Zero or less means DefaultTimeout (5 s).
	Timeout time.Duration
	// MaxBytes bounds the document; a larger body is refused. Zero or less
	// means DefaultMaxBytes (5 KiB).
	MaxBytes int64
	// MaxEntries bounds the cached documents, and separately the cached
	// failures; past it the oldest entry goes. Zero or less means
	// DefaultMaxEntries (1000).
	MaxEntries int
	// MinTTL and MaxTTL bound how long a document is cached; zero or less
	// means DefaultMinTTL (1 minute) and DefaultMaxTTL (24 hours). A MaxTTL
	// below MinTTL is raised to it.
	MinTTL time.Duration
	MaxTTL time.Duration
	// DefaultTTL is how long a document answered without a Cache-Control
	// max-age is cached, bounded by MinTTL and MaxTTL. Zero or less means
	// DefaultTTL (5 minutes). A max-age is used as given (less the Age
	// header), bounded the same way; no-store and no-cache give MinTTL.
	DefaultTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RootCAs are the certificate authorities trusted for the fetches; nil
	// means the system's. Tests put an httptest.NewTLSServer certificate
	// here.
	RootCAs *x509.CertPool
}

// Fetcher fetches, validates and caches Client ID Metadata Documents. It is
// safe for concurrent use; build one with [New].
type Fetcher struct {
	client       *http.Client
	dialer       *net.Dialer
	allowPrivate bool
	timeout      time.Duration
	maxBytes     int64
	minTTL       time.Duration
	maxTTL       time.Duration
	defaultTTL   time.Duration
	now          func() time.Time
	docs         *cache
	fails        *cache
	flight       singleflight.Group
	// waiting, when set by a test, is called once a Fetch waits on the
	// shared request.
	waiting func()
}

// New returns a Fetcher with opts, zero values replaced by the defaults.
func New(opts Options) *Fetcher {
	f := &Fetcher{
		allowPrivate: opts.AllowPrivate,
		timeout:      positive(opts.Timeout, DefaultTimeout),
		maxBytes:     positive(opts.MaxBytes, DefaultMaxBytes),
		minTTL:       positive(opts.MinTTL, DefaultMinTTL),
		maxTTL:       positive(opts.MaxTTL, DefaultMaxTTL),
		defaultTTL:   positive(opts.DefaultTTL, DefaultTTL),
		now:          opts.Now,
		docs:         newCache(positive(opts.MaxEntries, DefaultMaxEntries)),
		fails:        newCache(positive(opts.MaxEntries, DefaultMaxEntries)),
	}
	f.maxTTL = max(f.maxTTL, f.minTTL)
	if f.now == nil {
		f.now = time.Now
	}
	f.dialer = &net.Dialer{Timeout: f.timeout, KeepAlive: 30 * time.Second}
	if !opts.AllowPrivate {
		f.dialer.Control = refuseForbidden
	}
	transport := &http.Transport{
		Proxy:       nil, // never a proxy from the environment: it would connect for us, unchecked
		DialContext: f.dialer.DialContext,
		TLSClientConfig: &tls.Config{
			MinVersion: tls.VersionTLS12,
			RootCAs:    opts.RootCAs,
		},
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    f.timeout,
		ResponseHeaderTimeout:  f.timeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConns:           16,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
	}
	f.client = &http.Client{
		Transport: transport,
		// A redirect is answered as it is, and refused by fetch.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return f
}

func positive[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Fetch returns the validated metadata document at clientID, from the cache
// when it holds a live copy. The returned Document is the caller's to keep.
//
// The URL must be, before anything is fetched (else ErrInvalidURL):
// at most 2048 characters of the RFC 3986 alphabet; https://, in lowercase
// (http:// only with AllowPrivate and a loopback host); no userinfo, no
// percent-escapes in the host, which is a DNS name (letters, digits,
// hyphens; not an all-numeric form such as 2130706433) or an IP literal
// without zone; a port, if any, of 1 to 65535; a path that is not empty
// and not just "/", without "." or ".." segments (also percent-encoded);
// no query and no fragment. An IP-literal host must be public (else
// ErrForbiddenAddress); a name is checked at connect time.
//
// The fetch is one GET with no proxy, no cookies and no redirects, TLS 1.2
// or later, bounded by Options.Timeout, to an address the dialer checks
// after resolution (else ErrForbiddenAddress, with nothing sent). A
// redirect, a status other than 200 or a network failure is ErrFetch.
//
// The answer must be (else ErrInvalidDocument): of Content-Type
// application/json (parameters allowed), at most Options.MaxBytes, valid
// UTF-8 holding exactly one JSON object with no member named twice, and:
//   - client_id a string equal to clientID, byte for byte;
//   - no client_secret and no client_secret_expires_at member at all;
//   - token_endpoint_auth_method absent, null or "none" (client_secret_*
//     is refused as a shared secret, private_key_jwt as not supported);
//   - redirect_uris an array of 1 to 32 strings, each accepted by
//     [CheckRedirectURI];
//   - grant_types, if present, only "authorization_code" and
//     "refresh_token", including "authorization_code";
//   - response_types, if present, exactly ["code"];
//   - client_name, if present, a string: it is cleaned by [CleanName];
//   - client_uri and logo_uri are kept only when they are https URLs;
//     other members are ignored.
//
// A document is cached until its ExpiresAt, a failure (other than
// ErrInvalidURL, which costs nothing) for FailureTTL. Concurrent fetches of
// one URL share one request; one caller giving up (ctx) does not cancel it
// for the others, and gets ErrFetch.
func (f *Fetcher) Fetch(ctx context.Context, clientID string) (*Document, error) {
	if err := checkURL(clientID, f.allowPrivate); err != nil {
		return nil, err
	}
	if e, ok := f.cached(clientID); ok {
		if e.err != nil {
			return nil, e.err
		}
		return e.doc.clone(), nil
	}
	ch := f.flight.DoChan(clientID, func() (any, error) {
		if e, ok := f.cached(clientID); ok { // a flight that just landed
			return e.doc, e.err
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.timeout)
		defer cancel()
		d, err := f.fetch(fctx, clientID)
		if err != nil {
			f.fails.put(entry{key: clientID, err: err, expires: f.now().Add(FailureTTL)})
			return nil, err
		}
		f.fails.remove(clientID)
		f.docs.put(entry{key: clientID, doc: d, expires: d.ExpiresAt})
		return d, nil
	})
	if f.waiting != nil {
		f.waiting()
	}
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Document).clone(), nil
	case <-ctx.Done():
		return nil, newError(ErrFetch, clientID, "the client metadata document was not fetched before the request ended", ctx.Err())
	}
}

// cached returns the live cached document or failure for clientID.
func (f *Fetcher) cached(clientID string) (entry, bool) {
	now := f.now()
	if e, ok := f.docs.get(clientID, now); ok {
		return e, true
	}
	return f.fails.get(clientID, now)
}

// fetch asks the host once and validates the answer.
func (f *Fetcher) fetch(ctx context.Context, clientID string) (*Document, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clientID, nil)
	if err != nil {
		return nil, newError(ErrInvalidURL, clientID, "the client_id is not a valid URL", nil)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, transportError(clientID, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.StatusCode != http.StatusNotModified:
		return nil, newError(ErrFetch, clientID, "the client_id URL answered with a redirect, which this server does not follow", nil)
	case resp.StatusCode != http.StatusOK:
		return nil, newError(ErrFetch, clientID, "the client_id URL answered with HTTP status "+strconv.Itoa(resp.StatusCode)+" instead of 200", nil)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, newError(ErrInvalidDocument, clientID, "the client metadata document is not served as application/json", nil)
	}
	tooLarge := newError(ErrInvalidDocument, clientID, "the client metadata document is larger than "+sizeText(f.maxBytes), nil)
	if resp.ContentLength > f.maxBytes {
		return nil, tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, transportError(clientID, err)
	}
	if int64(len(body)) > f.maxBytes {
		return nil, tooLarge
	}
	d, err := parseDocument(body, clientID)
	if err != nil {
		return nil, err
	}
	d.FetchedAt = f.now()
	d.ExpiresAt = d.FetchedAt.Add(f.lifetime(resp.Header))
	return d, nil
}

// sizeText writes n bytes as KiB when it is a whole number of them.
func sizeText(n int64) string {
	if n%1024 == 0 {
		return strconv.FormatInt(n/1024, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// transportError classifies a failed request. The cause kept for logs is
// the error below *url.Error, which would repeat the whole URL.
func transportError(clientID string, err error) error {
	cause := err
	if ue, ok := errors.AsType[*url.Error](err); ok {
		cause = ue.Err
	}
	fetchErr := func(desc string) error { return newError(ErrFetch, clientID, desc, cause) }
	if errors.Is(err, errForbiddenDial) {
		return newError(ErrForbiddenAddress, clientID, descForbidden, cause)
	}
	if ne, ok := errors.AsType[net.Error](err); errors.Is(err, context.DeadlineExceeded) || ok && ne.Timeout() {
		return fetchErr("fetching the client metadata document timed out")
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return fetchErr("the client_id URL's host could not be resolved")
	}
	if tlsFailure(err) {
		return fetchErr("the TLS connection to the client_id URL's host failed")
	}
	return fetchErr("the client metadata document could not be fetched")
}

// tlsFailure reports whether err is a failed TLS handshake or certificate
// check.
func tlsFailure(err error) bool {
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return true
	}
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok {
		return true
	}
	if _, ok := errors.AsType[tls.AlertError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return true
	}
	_, ok := errors.AsType[x509.HostnameError](err)
	return ok
}
