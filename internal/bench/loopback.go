package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// checkLoopbackAddr refuses a host:port whose host is not a loopback IP
// address (127.0.0.0/8 or ::1). Names are refused too: what they resolve
// to is not this benchmark's to trust.
func checkLoopbackAddr(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", hostport, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().IsLoopback() {
		return fmt.Errorf("%q is not a loopback address: the benchmark runs on loopback only", hostport)
	}
	return nil
}

// checkLoopbackURL refuses a URL that is not http:// to a loopback address
// with an explicit port.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	if u.Scheme != "http" || u.Port() == "" {
		return fmt.Errorf("%q is not http://<loopback>:<port>: the benchmark runs on loopback only", u.Redacted())
	}
	return checkLoopbackAddr(u.Host)
}

// loopbackDialer dials loopback addresses only: every connection the
// benchmark opens goes through it, whatever URL a component was given.
func loopbackDialer() *net.Dialer {
	return &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			return checkLoopbackAddr(address)
		},
	}
}

// newTransport is a keep-alive HTTP/1.1 transport that dials loopback only
// and ignores proxy settings.
func newTransport() *http.Transport {
	return &http.Transport{
		DialContext:         loopbackDialer().DialContext,
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		// Bounds every wait for an answer; event streams answer at once.
		ResponseHeaderTimeout: callTimeout,
		Proxy:                 nil,
	}
}

// bearer adds the access token to every request. The token is never
// logged: it lives in this header only.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// withTimeout bounds one call.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, callTimeout)
}

// callTimeout bounds every single call the benchmark makes.
const callTimeout = 30 * time.Second
