// Package clientdoc fetches and validates OAuth Client ID Metadata Documents
// (draft-ietf-oauth-client-id-metadata-document, recommended by the MCP
// authorization specification of 2025-11-25): a client whose client_id is an
// https URL publishes its RFC 7591 metadata at that URL, and the
// authorization server fetches it instead of looking up a registration.
//
// Fetching a URL that anybody may choose is a server-side request forgery
// risk, so a [Fetcher] is deliberately narrow:
//
//   - the URL is checked first ([Fetcher.Fetch] documents the rules): https
//     only, a real path, no query, fragment, userinfo or dot segments, at
//     most 2048 characters, and an IP-literal host must be public;
//   - the connection is made by a dialer that checks the resolved address
//     at connect time, after DNS and before any byte is sent, and refuses
//     loopback, private, link-local (cloud metadata), CGNAT, multicast,
//     documentation and other non-public ranges, including their
//     IPv4-mapped, NAT64 and 6to4 forms: a name that resolves, or
//     re-resolves, to such an address is never connected to;
//   - no proxy from the environment, no redirects, no cookies, TLS 1.2 or
//     later, only a 200 answer of type application/json, a bounded body and
//     a bounded total time.
//
// The document must be a JSON object whose client_id equals the URL exactly,
// a public client (token_endpoint_auth_method absent or "none", no
// client_secret), with acceptable redirect URIs ([CheckRedirectURI]); its
// client_name is made safe to show on a consent page ([CleanName]).
//
// Documents are cached by URL for a lifetime taken from Cache-Control and
// bounded by [Options]; failures are cached for 30 seconds; concurrent
// fetches of one URL share one request. Failures are [*Error] values whose
// Description is fixed text safe to show a user or client: it never holds the
// response body, and the URL appears only in Error, cut short.
package clientdoc

import (
	"errors"
	"slices"
	"strconv"
	"time"
)

// Document is a validated Client ID Metadata Document, reduced to what the
// authorization server uses.
type Document struct {
	// ClientID is the URL the document was fetched from, equal to the
	// document's client_id.
	ClientID string
	// ClientName is the document's client_name cleaned by [CleanName]; empty
	// when the document has none (show the URL's host instead).
	ClientName string
	// ClientURI and LogoURI are kept only when they are absolute https URLs
	// without userinfo; otherwise they are empty.
	ClientURI string
	LogoURI   string
	// RedirectURIs holds at least one URI, each accepted by
	// [CheckRedirectURI]; redirect_uri values of an authorization request
	// must match one exactly.
	RedirectURIs []string
	// GrantTypes is a subset of authorization_code and refresh_token that
	// holds authorization_code; ["authorization_code"] when the document
	// names none (the RFC 7591 default).
	GrantTypes []string
	// FetchedAt is when the document was fetched, ExpiresAt when the cached
	// copy stops being used.
	FetchedAt time.Time
	ExpiresAt time.Time
}

// clone returns a copy that shares no slice with d, so callers cannot
// change the cached document.
func (d *Document) clone() *Document {
	c := *d
	c.RedirectURIs = slices.Clone(d.RedirectURIs)
	c.GrantTypes = slices.Clone(d.GrantTypes)
	return &c
}

// Kinds of failure, for errors.Is: every [*Error] matches exactly one.
var (
	// ErrInvalidURL is a client_id that is not an acceptable metadata URL.
	// Nothing was fetched.
	ErrInvalidURL = errors.New("clientdoc: invalid client_id URL")
	// ErrForbiddenAddress is a client_id URL whose host is, or resolves to,
	// a loopback, private or otherwise non-public address. Nothing was sent.
	ErrForbiddenAddress = errors.New("clientdoc: client_id URL at a forbidden address")
	// ErrFetch is a document that could not be fetched: no connection, a
	// TLS failure, a timeout, a redirect or a status other than 200.
	ErrFetch = errors.New("clientdoc: client metadata document not fetched")
	// ErrInvalidDocument is a fetched answer that is not an acceptable
	// metadata document (wrong content type, too large, not JSON, mismatched
	// client_id, a secret, a bad redirect URI, ...). It is also the kind of
	// the errors of [CheckRedirectURI].
	ErrInvalidDocument = errors.New("clientdoc: invalid client metadata document")
)

// maxErrorURL bounds the URL quoted by Error.
const maxErrorURL = 120

// Error is a refused client_id. Description is fixed text, safe to show the
// user or the client; it never contains the URL, the response body or an
// address. Kind is one of ErrInvalidURL, ErrForbiddenAddress, ErrFetch and
// ErrInvalidDocument; errors.Is matches it, and the cause, through Unwrap.
type Error struct {
	Kind        error
	Description string
	// URL is the client_id, cut to 120 bytes; empty for the errors of
	// CheckRedirectURI.
	URL   string
	cause error
}

// Error returns the description, then the quoted URL and the cause when
// there are any: for logs. For the errors of [CheckRedirectURI], which have
// neither, it is exactly the description.
func (e *Error) Error() string {
	msg := e.Description
	if e.URL != "" {
		msg += " (client_id " + strconv.Quote(e.URL) + ")"
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// Unwrap returns the kind and, when there is one, the cause.
func (e *Error) Unwrap() []error {
	if e.cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.cause}
}

// newError builds an Error for the client_id raw; cause is for logs only and
// must not carry the response body.
func newError(kind error, raw, desc string, cause error) *Error {
	if len(raw) > maxErrorURL {
		raw = raw[:maxErrorURL] + "..."
	}
	return &Error{Kind: kind, Description: desc, URL: raw, cause: cause}
}
