package clientdoc

import (
	"errors"
	"net/netip"
	"syscall"
)

// errForbiddenDial is returned by the dialer's Control function; the fetch
// turns it into ErrForbiddenAddress.
var errForbiddenDial = errors.New("clientdoc: refusing to connect to a non-public address")

// forbiddenV4 are the IPv4 ranges never connected to: everything that is not
// globally reachable unicast (the IANA special-purpose registry, RFC 6890
// and successors, less nothing that a client's web server could use).
var forbiddenV4 = prefixes(
	"0.0.0.0/8",       // "this network", incl. the unspecified 0.0.0.0
	"10.0.0.0/8",      // private, RFC 1918
	"100.64.0.0/10",   // shared address space (CGNAT), RFC 6598
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, incl. the cloud metadata 169.254.169.254
	"172.16.0.0/12",   // private, RFC 1918
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation, TEST-NET-1
	"192.88.99.0/24",  // 6to4 relay anycast, deprecated
	"192.168.0.0/16",  // private, RFC 1918
	"198.18.0.0/15",   // benchmarking, RFC 2544
	"198.51.100.0/24", // documentation, TEST-NET-2
	"203.0.113.0/24",  // documentation, TEST-NET-3
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, incl. the broadcast 255.255.255.255
)

// IPv6 is judged by allow-list: only global unicast, 2000::/3, less the
// special ranges in it. NAT64 and 6to4 addresses are judged by the IPv4
// address they carry; IPv4-mapped ones are judged as IPv4.
var (
	globalV6    = netip.MustParsePrefix("2000::/3")
	nat64       = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052 well-known prefix
	sixToFour   = netip.MustParsePrefix("2002::/16")    // 6to4, RFC 3056
	forbiddenV6 = prefixes(
		"2001::/23",     // IETF protocol assignments, incl. Teredo 2001::/32 and benchmarking 2001:2::/48
		"2001:db8::/32", // documentation
		"3fff::/20",     // documentation, RFC 9637
	)
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// forbidden reports whether a is an address a metadata fetch must never
// connect to: not a valid address, scoped (a zone), or outside globally
// reachable unicast as described by forbiddenV4 and the IPv6 rules.
func forbidden(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return true
	}
	if a.Is4In6() {
		a = a.Unmap()
	}
	if a.Is4() {
		for _, p := range forbiddenV4 {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return forbidden(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	case sixToFour.Contains(a):
		return forbidden(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	case !globalV6.Contains(a):
		return true // loopback, unspecified, IPv4-compatible, unique local, link-local, multicast, discard-only, ...
	}
	for _, p := range forbiddenV6 {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// refuseForbidden is the dialer's Control function: it runs after the name
// was resolved and the socket made, before connect, so it sees the very
// address connected to, whatever DNS answered this time (DNS rebinding
// gains nothing), and refuses it before any byte leaves.
func refuseForbidden(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp4", "tcp6":
	default:
		return errForbiddenDial
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil || forbidden(ap.Addr()) {
		return errForbiddenDial
	}
	return nil
}
