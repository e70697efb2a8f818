package limits

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddr is the address r comes from: its socket's peer, unless that
// peer is one of trusted, in which case the forwarding headers name it.
// X-Forwarded-For (or else Forwarded) is read from the right, skipping the
// trusted proxies the request passed through; the first other address is
// the client. A header no trusted proxy could have written is never read,
// so a client cannot choose its own address. The zero Addr means the peer
// could not be parsed.
func ClientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !contains(trusted, peer) {
		return peer
	}
	hops := forwardedFor(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseAddr(hops[i])
		if !a.IsValid() {
			return peer // a hop we cannot read: believe nothing further left
		}
		if !contains(trusted, a) {
			return a
		}
		peer = a
	}
	return peer
}

// Key is the bucket a client address counts in: the address itself for
// IPv4, its /64 network for IPv6 (one subscriber commonly holds a whole
// /64, so single addresses would be free for the taking).
func Key(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.Unmap().String()
}

func contains(prefixes []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr reads "ip", "ip:port", "[ip]:port" or "[ip]".
func parseAddr(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// forwardedFor lists the hops of X-Forwarded-For, or else of Forwarded's
// for= parameters, leftmost (the client, as claimed) first.
func forwardedFor(h http.Header) []string {
	var hops []string
	if xff := h.Values("X-Forwarded-For"); len(xff) > 0 {
		for _, v := range xff {
			for hop := range strings.SplitSeq(v, ",") {
				hops = append(hops, strings.TrimSpace(hop))
			}
		}
		return hops
	}
	for _, v := range h.Values("Forwarded") {
		for elem := range strings.SplitSeq(v, ",") {
			for pair := range strings.SplitSeq(elem, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(k, "for") {
					hops = append(hops, strings.Trim(val, `"`))
				}
			}
		}
	}
	return hops
}
