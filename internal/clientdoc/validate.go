package clientdoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// maxURLLength bounds a client_id and every URI of a document.
	maxURLLength = 2048
	// maxRedirectURIs bounds the redirect_uris of a document.
	maxRedirectURIs = 32
	// maxNameRunes bounds a cleaned client_name.
	maxNameRunes = 100
)

// Fixed descriptions used in more than one place.
const (
	descForbidden = "the client_id URL's host is or resolves to a loopback, private or otherwise non-public address, which this server does not fetch"
	descNotObject = "the client metadata document is not a JSON object"
)

// IsMetadataURL reports whether clientID looks like a Client ID Metadata
// Document URL rather than the id of a registered client: it begins with
// https:// (or http://, which [Fetcher.Fetch] then refuses with a clear
// error unless testing on loopback), in any letter case. It does not
// validate the URL; Fetch does.
func IsMetadataURL(clientID string) bool {
	return hasPrefixFold(clientID, "https://") || hasPrefixFold(clientID, "http://")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// uriChars reports whether s holds only the characters RFC 3986 allows in a
// URI: no space, control, non-ASCII, quote, backslash, <, >, {, }, |, ^ or `.
func uriChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.ContainsRune("-._~:/?#[]@!$&'()*+,;=%", rune(c)):
		default:
			return false
		}
	}
	return true
}

// checkURL validates a client_id as a metadata URL, before anything is
// fetched: see [Fetcher.Fetch] for the rules.
func checkURL(raw string, allowPrivate bool) error {
	bad := func(desc string) error { return newError(ErrInvalidURL, raw, desc, nil) }
	switch {
	case raw == "":
		return bad("the client_id is empty")
	case len(raw) > maxURLLength:
		return bad("the client_id URL is longer than 2048 characters")
	case !uriChars(raw):
		return bad("the client_id URL holds characters a URL may not contain (spaces, controls, non-ASCII or quotes)")
	case strings.Contains(raw, "#"):
		return bad("the client_id URL must not contain a fragment")
	case strings.Contains(raw, "?"):
		return bad("the client_id URL must not contain a query")
	}
	rest, https := strings.CutPrefix(raw, "https://")
	if !https {
		var http bool
		rest, http = strings.CutPrefix(raw, "http://")
		if !http || !allowPrivate {
			return bad("the client_id URL must use https")
		}
	}
	authority, _, _ := strings.Cut(rest, "/")
	switch {
	case strings.Contains(authority, "@"):
		return bad("the client_id URL must not contain a username or password")
	case strings.Contains(authority, "%"):
		return bad("the client_id URL's host must be a DNS name or an IP address")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil {
		return bad("the client_id is not a valid URL")
	}
	host := u.Hostname()
	if host == "" {
		return bad("the client_id URL has no host")
	}
	if !https && !loopbackHost(host) {
		return bad("the client_id URL must use https")
	}
	if strings.HasSuffix(u.Host, ":") {
		return bad("the client_id URL has an invalid port")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("the client_id URL has an invalid port")
		}
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return bad("the client_id URL's host must be a DNS name or an IP address")
		}
		if !allowPrivate && forbidden(a) {
			return newError(ErrForbiddenAddress, raw, descForbidden, nil)
		}
	} else if !dnsName(host) {
		return bad("the client_id URL's host must be a DNS name or an IP address")
	}
	if p := u.EscapedPath(); p == "" || p == "/" {
		return bad("the client_id URL must have a path, not just /")
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return bad("the client_id URL must not contain . or .. path segments")
		}
	}
	return nil
}

// loopbackHost reports whether host (without brackets) names the loopback
// interface.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Zone() == "" && a.Unmap().IsLoopback()
}

// dnsName reports whether host is a DNS name of letters, digits and
// hyphens, and not one of the numeric forms (2130706433, 0x7f.1) that some
// resolvers read as an IPv4 address.
func dnsName(host string) bool {
	if len(host) > 253 {
		return false
	}
	labels := strings.Split(host, ".")
	numeric := 0
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		if strings.Trim(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			return false
		}
		if numberLabel(l) {
			numeric++
		}
	}
	return numeric < len(labels) && !allDigits(labels[len(labels)-1])
}

// numberLabel reports whether l is a decimal, octal or hexadecimal number
// as inet_aton reads them.
func numberLabel(l string) bool {
	if h, ok := strings.CutPrefix(strings.ToLower(l), "0x"); ok {
		return strings.Trim(h, "0123456789abcdef") == ""
	}
	return allDigits(l)
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// CheckRedirectURI reports whether raw is an acceptable redirect URI for a
// public client: at most 2048 characters of the RFC 3986 alphabet, absolute,
// without fragment or userinfo, with a lowercase scheme that is
//
//   - https, with a host;
//   - http, only with the loopback host 127.0.0.1, [::1] or localhost (RFC
//     8252 §7.3; any port and path);
//   - or an app's private-use scheme, such as com.example.app:/callback
//     (RFC 8252 §7.1) or cursor://callback; never one a browser runs or
//     loads (javascript, data, file, blob, ...).
//
// The error is an [*Error] of kind ErrInvalidDocument whose Error() is its
// fixed Description, safe to show the client; it does not quote raw.
func CheckRedirectURI(raw string) error {
	bad := func(desc string) error { return &Error{Kind: ErrInvalidDocument, Description: desc} }
	switch {
	case raw == "":
		return bad("a redirect URI is empty")
	case len(raw) > maxURLLength:
		return bad("a redirect URI is longer than 2048 characters")
	case !uriChars(raw):
		return bad("a redirect URI holds characters a URI may not contain (spaces, controls, non-ASCII or quotes)")
	case strings.Contains(raw, "#"):
		return bad("a redirect URI must not contain a fragment")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return bad("a redirect URI is not a valid URI")
	case u.Scheme == "":
		return bad("a redirect URI must be absolute, with a scheme")
	case !strings.HasPrefix(raw, u.Scheme+":"):
		return bad("a redirect URI's scheme must be lowercase")
	case u.User != nil:
		return bad("a redirect URI must not contain a username or password")
	}
	switch u.Scheme {
	case "https":
		if u.Opaque != "" || u.Hostname() == "" {
			return bad("an https redirect URI must have a host")
		}
	case "http":
		if h := u.Hostname(); u.Opaque != "" || (h != "127.0.0.1" && h != "::1" && h != "localhost") {
			return bad("an http redirect URI is allowed only on the loopback hosts 127.0.0.1, [::1] and localhost (RFC 8252); use https")
		}
	case "javascript", "data", "file", "vbscript", "blob", "about", "ftp", "ws", "wss":
		return bad("a redirect URI must use https, http on a loopback host, or an app's own private-use scheme such as com.example.app:/callback")
	default:
		// RFC 8252 §7.1 asks for reverse-domain schemes; editors in use
		// register plain ones (cursor://), which are as private.
		if u.Opaque == "" && u.Path == "" && u.Host == "" {
			return bad("a redirect URI with a private-use scheme must have a path")
		}
	}
	return nil
}

// httpsURL reports whether s is an absolute https URL with a host and no
// userinfo, fit to keep as client_uri or logo_uri.
func httpsURL(s string) bool {
	if len(s) > maxURLLength || !uriChars(s) || !strings.HasPrefix(s, "https://") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.User == nil && u.Hostname() != ""
}

// CleanName makes a client_name safe to show on a consent page: it drops
// controls, format characters (BiDi embeddings, overrides and isolates,
// zero-width characters, tag characters, the soft hyphen), private-use,
// unassigned and invalid code points, characters that render as blank
// (Hangul fillers, the braille blank, variation selectors other than the
// emoji one, the combining grapheme joiner, ...), combining marks without a
// base and any beyond three in a row; it turns every run of white space
// into one space, trims, and keeps at most 100 characters. The result may
// be empty.
func CleanName(s string) string {
	var b strings.Builder
	n, marks := 0, 0
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError || hidden(r):
			continue
		case unicode.IsSpace(r) || unicode.Is(unicode.Zs, r):
			space = n > 0
			marks = 0
			continue
		case !unicode.IsPrint(r):
			continue
		case unicode.Is(unicode.M, r):
			if n == 0 || space || marks >= 3 {
				continue
			}
			marks++
		default:
			marks = 0
		}
		if space {
			if n+2 > maxNameRunes {
				break
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		if n++; n == maxNameRunes {
			break
		}
	}
	return b.String()
}

// hidden reports whether r is printable by unicode.IsPrint yet renders as
// nothing, or as a blank, or as a box.
func hidden(r rune) bool {
	switch {
	case r == 0x3164, r == 0x115F, r == 0x1160, r == 0xFFA0, r == 0x2800: // Hangul fillers, braille blank
		return true
	case r == 0x034F, r == 0x17B4, r == 0x17B5, r >= 0x180B && r <= 0x180F: // CGJ, Khmer inherent vowels, Mongolian selectors
		return true
	case r >= 0xFE00 && r <= 0xFE0E, r >= 0xE0100 && r <= 0xE01EF: // variation selectors but the emoji one
		return true
	case r == 0xFFFC, r == 0xFFFD: // object replacement, replacement character
		return true
	}
	return false
}

// members are the top-level members of a document, by name.
type members map[string]json.RawMessage

var errDuplicate = errors.New("duplicate member")

// objectMembers splits body, which must be exactly one JSON object, into its
// members, refusing a member name given twice (parsers disagree on which
// one wins).
func objectMembers(body []byte) (members, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	m := members{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("not an object")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := m[name]; dup {
			return nil, errDuplicate
		}
		m[name] = v
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errors.New("not an object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the object")
	}
	return m, nil
}

// has reports whether the member is present and not null.
func (m members) has(name string) bool {
	v, ok := m[name]
	return ok && string(v) != "null"
}

// decode reads a present, non-null member into v.
func (m members) decode(name string, v any) error {
	return json.Unmarshal(m[name], v)
}

// parseDocument validates body as the metadata document at clientID; see
// [Fetcher.Fetch] for the rules. FetchedAt and ExpiresAt are left zero.
func parseDocument(body []byte, clientID string) (*Document, error) {
	bad := func(desc string) error { return newError(ErrInvalidDocument, clientID, desc, nil) }
	if !utf8.Valid(body) {
		return nil, bad("the client metadata document is not valid UTF-8")
	}
	m, err := objectMembers(body)
	if errors.Is(err, errDuplicate) {
		return nil, bad("the client metadata document names a member twice")
	} else if err != nil {
		return nil, bad(descNotObject)
	}
	if _, ok := m["client_secret"]; ok {
		return nil, bad("the client metadata document contains a client_secret, which it must not: such clients are public")
	}
	if _, ok := m["client_secret_expires_at"]; ok {
		return nil, bad("the client metadata document contains client_secret_expires_at, which it must not: such clients are public")
	}
	d := &Document{}
	if !m.has("client_id") {
		return nil, bad("the client metadata document has no client_id")
	}
	if m.decode("client_id", &d.ClientID) != nil {
		return nil, bad("the document's client_id is not a string")
	}
	if d.ClientID != clientID {
		return nil, bad("the document's client_id does not match its URL")
	}
	if m.has("token_endpoint_auth_method") {
		var method string
		if m.decode("token_endpoint_auth_method", &method) != nil {
			return nil, bad("the document's token_endpoint_auth_method is not a string")
		}
		switch {
		case method == "none":
		case strings.HasPrefix(method, "client_secret_"):
			return nil, bad("the document's token_endpoint_auth_method uses a shared secret, which a client metadata document must not; use none")
		case method == "private_key_jwt":
			return nil, bad("the token_endpoint_auth_method private_key_jwt is not supported; use none")
		default:
			return nil, bad("the document's token_endpoint_auth_method is not supported; use none")
		}
	}
	if !m.has("redirect_uris") {
		return nil, bad("the client metadata document has no redirect_uris")
	}
	if m.decode("redirect_uris", &d.RedirectURIs) != nil {
		return nil, bad("the document's redirect_uris is not an array of strings")
	}
	switch {
	case len(d.RedirectURIs) == 0:
		return nil, bad("the client metadata document has no redirect_uris")
	case len(d.RedirectURIs) > maxRedirectURIs:
		return nil, bad("the client metadata document has more than 32 redirect_uris")
	}
	for _, u := range d.RedirectURIs {
		if err := CheckRedirectURI(u); err != nil {
			var e *Error
			errors.As(err, &e)
			return nil, bad("the document's redirect_uris are not acceptable: " + e.Description)
		}
	}
	d.GrantTypes = []string{"authorization_code"}
	if m.has("grant_types") {
		if m.decode("grant_types", &d.GrantTypes) != nil {
			return nil, bad("the document's grant_types is not an array of strings")
		}
		for _, g := range d.GrantTypes {
			if g != "authorization_code" && g != "refresh_token" {
				return nil, bad(`the document's grant_types may hold only "authorization_code" and "refresh_token"`)
			}
		}
		if !slices.Contains(d.GrantTypes, "authorization_code") {
			return nil, bad(`the document's grant_types must include "authorization_code"`)
		}
		d.GrantTypes = slices.Compact(slices.Sorted(slices.Values(d.GrantTypes)))
	}
	if m.has("response_types") {
		var rt []string
		if m.decode("response_types", &rt) != nil || len(rt) != 1 || rt[0] != "code" {
			return nil, bad(`the document's response_types must be ["code"]`)
		}
	}
	if m.has("client_name") {
		var name string
		if m.decode("client_name", &name) != nil {
			return nil, bad("the document's client_name is not a string")
		}
		d.ClientName = CleanName(name)
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"client_uri", &d.ClientURI}, {"logo_uri", &d.LogoURI}} {
		var s string
		if m.has(f.name) && m.decode(f.name, &s) == nil && httpsURL(s) {
			*f.dst = s
		}
	}
	return d, nil
}
