// Package storetest is the conformance suite of [store.Store]: every
// backend runs [Run] in its tests, so they all keep one contract.
//
// Beyond the doc comments of package store, the suite holds a backend to
// these readings of the contract:
//
//   - Expiry: a row is live while now is before its ExpiresAt; at
//     now == ExpiresAt it has expired. A zero ExpiresAt is never for a
//     Client and already expired for an AuthRequest, AuthCode or Token.
//   - Lists: an empty list, nil or not when stored, comes back as nil;
//     so do the list methods (Clients, Consents, Upstreams) when they find
//     nothing.
//   - Times come back equal (time.Time.Equal) to what was stored, to the
//     nanosecond, whatever the location they were given in.
//   - Tokens: an access token's hash is no refresh token and the reverse.
//     A refresh token presented again revokes its family, itself included:
//     a third presentation is ErrNotFound. An expired refresh token is
//     ErrNotFound, used or not, and revokes nothing.
//   - TouchClient on a client that is not dynamic leaves it as it is;
//     ErrNotFound if there is no client.
//   - RevokeConsent and DeleteUpstream also remove the pending codes of
//     the consent or the user, so none becomes a token afterwards; pending
//     authorization requests stay. DeleteClient removes the client's
//     requests too.
//   - DeleteClient, RevokeConsent and DeleteUpstream remove what was issued
//     even when the row they name is missing, and then return ErrNotFound.
//   - DeleteExpired removes an expired dynamic client with everything
//     issued to it (expired or not) and counts every row it removes, each
//     once; static and metadata clients stay, whatever their ExpiresAt.
//   - Errors carry no secret: the text of an ErrExists error quotes no key.
//   - A cancelled context fails the call with an error matching
//     context.Canceled, and a write does not happen.
//
// The concurrency tests race [Racers] goroutines on one row.
package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

// Racers is how many goroutines race to consume one row.
const Racers = 16

// Run runs the suite: every subtest calls open for a new, empty store,
// and closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"Client/RoundTrip", testClientRoundTrip},
		{"Client/Exists", testClientExists},
		{"Client/NotFound", testClientNotFound},
		{"Client/Expiry", testClientExpiry},
		{"Client/Put", testPutClient},
		{"Client/Touch", testTouchClient},
		{"Client/ListOrder", testClientsOrder},
		{"Client/Delete", testDeleteClient},
		{"Client/DeleteMissing", testDeleteMissingClient},
		{"AuthRequest/RoundTrip", testAuthRequestRoundTrip},
		{"AuthRequest/Exists", testAuthRequestExists},
		{"AuthRequest/Expiry", testAuthRequestExpiry},
		{"AuthRequest/Update", testUpdateAuthRequest},
		{"AuthRequest/Take", testTakeAuthRequest},
		{"AuthCode/Take", testTakeAuthCode},
		{"AuthCode/Exists", testAuthCodeExists},
		{"AuthCode/Expiry", testAuthCodeExpiry},
		{"Consent/RoundTrip", testConsentRoundTrip},
		{"Consent/Revoke", testRevokeConsent},
		{"Upstream/RoundTrip", testUpstreamRoundTrip},
		{"Upstream/Delete", testDeleteUpstream},
		{"Token/Access", testAccessToken},
		{"Token/Expiry", testTokenExpiry},
		{"Token/Exists", testTokenExists},
		{"Token/KindsApart", testTokenKindsApart},
		{"Token/RefreshReuse", testRefreshReuse},
		{"Token/RefreshExpired", testRefreshExpired},
		{"Token/Find", testFindToken},
		{"Token/RevokeFamily", testRevokeFamily},
		{"DeleteExpired", testDeleteExpired},
		{"Race/TakeAuthCode", testRaceTakeAuthCode},
		{"Race/TakeAuthRequest", testRaceTakeAuthRequest},
		{"Race/UseRefreshToken", testRaceUseRefreshToken},
		{"CancelledContext", testCancelledContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			tc.run(t, s)
		})
	}
}

// base is the suite's now: nanoseconds set, so a store that rounds shows.
var base = time.Date(2031, time.March, 4, 5, 6, 7, 891011121, time.UTC)

// elsewhere is a location times are given in; they must come back equal.
var elsewhere = time.FixedZone("UTC+05:30", 5*3600+1800)

// ok fails the test at once when err is not nil.
func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantErr fails the test unless errors.Is(err, target), or if the error's
// text quotes one of hidden (a key or a secret).
func wantErr(t *testing.T, err, target error, hidden ...string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
	for _, h := range hidden {
		if h != "" && strings.Contains(err.Error(), h) {
			t.Errorf("error %q quotes %q", err, h)
		}
	}
}

// same fails the test when got differs from want (times by Equal, nil and
// empty slices apart).
func same[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
}

// roundTripCase is a row stored as give, to be read back as want.
type roundTripCase[T any] struct {
	name       string
	give, want T
}

// roundTrip stores every case with put and reads it back with get.
func roundTrip[T any](t *testing.T, what string, cases []roundTripCase[T], put func(T) error, get func(T) (T, error)) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok(t, put(tc.give))
			got, err := get(tc.give)
			ok(t, err)
			same(t, what, got, tc.want)
		})
	}
}

// testExpiry looks rows up around their expiry: lookup stores a row under
// key expiring at expires and looks it up at now. zeroIsNever says whether
// a zero expiry is never (a Client's) or has passed already.
func testExpiry(t *testing.T, zeroIsNever bool, lookup func(t *testing.T, key string, expires, now time.Time) error) {
	t.Helper()
	tests := []struct {
		name         string
		expires, now time.Time
		wantFound    bool
	}{
		{name: "a nanosecond before expiry", expires: base, now: base.Add(-time.Nanosecond), wantFound: true},
		{name: "at expiry", expires: base, now: base},
		{name: "after expiry", expires: base, now: base.Add(time.Hour)},
		{name: "zero expiry, a century on", now: base.AddDate(100, 0, 0), wantFound: zeroIsNever},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := lookup(t, store.Hash(t.Name()), tc.expires.In(elsewhere), tc.now)
			if tc.wantFound {
				ok(t, err)
			} else {
				wantErr(t, err, store.ErrNotFound)
			}
		})
	}
}

// fullClient is a dynamic client with every field set.
func fullClient(id string) store.Client {
	return store.Client{
		ID:              id,
		Kind:            store.ClientDynamic,
		Name:            `Ünïcode "quoted" client's name`,
		RedirectURIs:    []string{"https://app.example/cb?x=1&y=2", "http://127.0.0.1:8765/callback"},
		ApplicationType: "native",
		CreatedAt:       base.Add(-time.Hour).In(elsewhere),
		ExpiresAt:       base.Add(time.Hour).In(elsewhere),
	}
}

// fullAuthRequest is an authorization request with every field set, live
// until an hour after base.
func fullAuthRequest(id, clientID string) store.AuthRequest {
	return store.AuthRequest{
		ID:            id,
		ClientID:      clientID,
		RedirectURI:   "https://app.example/cb",
		State:         "client state ' \" ;--",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Scopes:        []string{"read:repository", "read:user"},
		Resource:      "https://mcp.example/mcp",
		BrowserHash:   store.Hash("browser"),
		GiteaVerifier: "sealed-verifier-" + id,
		UserID:        "42",
		Login:         "alice",
		ConsentHash:   store.Hash("csrf"),
		ExpiresAt:     base.Add(time.Hour).In(elsewhere),
	}
}

// fullAuthCode is a code with every field set, live until a minute after
// base.
func fullAuthCode(hash, clientID, userID string) store.AuthCode {
	return store.AuthCode{
		Hash:          hash,
		ClientID:      clientID,
		RedirectURI:   "https://app.example/cb",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		UserID:        userID,
		Login:         "login-" + userID,
		Scopes:        []string{"write:issue", "read:repository"},
		Resource:      "https://mcp.example/mcp",
		ExpiresAt:     base.Add(time.Minute).In(elsewhere),
	}
}

// token is a token of a family with every field set, live until an hour
// after base.
func token(hash, family, clientID, userID string) store.Token {
	return store.Token{
		Hash:      hash,
		Family:    family,
		ClientID:  clientID,
		UserID:    userID,
		Login:     "login-" + userID,
		Scopes:    []string{"read:repository"},
		Resource:  "https://mcp.example/mcp",
		ExpiresAt: base.Add(time.Hour).In(elsewhere),
	}
}

// issued is what seed gave a client for a user: one row of each kind.
type issued struct {
	clientID, userID string
	request, code    string
	access, refresh  string
	family           string
}

// seed stores, for userID at clientID, a consent, an authorization request,
// a code and a family of an access and a refresh token.
func seed(t *testing.T, s store.Store, clientID, userID string) issued {
	t.Helper()
	ctx := t.Context()
	key := clientID + "/" + userID
	is := issued{
		clientID: clientID, userID: userID,
		request: store.Hash("request " + key), code: store.Hash("code " + key),
		access: store.Hash("access " + key), refresh: store.Hash("refresh " + key),
		family: "family " + key,
	}
	ok(t, s.PutConsent(ctx, store.Consent{UserID: userID, ClientID: clientID, Scopes: []string{"read:user"}, CreatedAt: base}))
	r := fullAuthRequest(is.request, clientID)
	r.UserID = userID
	ok(t, s.CreateAuthRequest(ctx, r))
	ok(t, s.CreateAuthCode(ctx, fullAuthCode(is.code, clientID, userID)))
	ok(t, s.CreateAccessToken(ctx, token(is.access, is.family, clientID, userID)))
	ok(t, s.CreateRefreshToken(ctx, token(is.refresh, is.family, clientID, userID)))
	return is
}

// presence is which of seed's rows a store still holds.
type presence struct {
	Consent, Request, Code, Access, Refresh bool
}

// present reports which of is's rows s holds at base. It takes the code,
// so it is called once, at the end of a test.
func present(t *testing.T, s store.Store, is issued) presence {
	t.Helper()
	ctx := t.Context()
	found := func(err error) bool {
		t.Helper()
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unexpected error: %v", err)
		}
		return err == nil
	}
	var p presence
	_, err := s.Consent(ctx, is.userID, is.clientID)
	p.Consent = found(err)
	_, err = s.AuthRequest(ctx, is.request, base)
	p.Request = found(err)
	_, err = s.TakeAuthCode(ctx, is.code, base)
	p.Code = found(err)
	_, err = s.AccessToken(ctx, is.access, base)
	p.Access = found(err)
	_, err = s.FindToken(ctx, is.refresh, base)
	p.Refresh = found(err)
	return p
}
