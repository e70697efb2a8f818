package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

func testConsentRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	none, err := s.Consents(ctx, "u1")
	ok(t, err)
	if none != nil {
		t.Errorf("Consents of a user without any = %#v, want nil", none)
	}
	first := store.Consent{UserID: "u1", ClientID: "b-client", Scopes: []string{"read:user"}, CreatedAt: base.In(elsewhere)}
	ok(t, s.PutConsent(ctx, first))
	got, err := s.Consent(ctx, "u1", "b-client")
	ok(t, err)
	same(t, "consent", got, first)

	replaced := store.Consent{UserID: "u1", ClientID: "b-client", Scopes: []string{"read:user", "write:issue"}, CreatedAt: base.Add(time.Hour)}
	others := []store.Consent{
		{UserID: "u1", ClientID: "B-client", Scopes: []string{}, CreatedAt: base},
		{UserID: "u1", ClientID: "a-client", Scopes: []string{"read:repository"}},
		{UserID: "u2", ClientID: "a-client", Scopes: []string{"read:user"}, CreatedAt: base},
	}
	for _, c := range append(others, replaced) {
		ok(t, s.PutConsent(ctx, c))
	}
	got, err = s.Consent(ctx, "u1", "b-client")
	ok(t, err)
	same(t, "replaced consent", got, replaced)
	all, err := s.Consents(ctx, "u1")
	ok(t, err)
	same(t, "consents of u1, by client ID", all, []store.Consent{
		{UserID: "u1", ClientID: "B-client", CreatedAt: base}, // the empty list comes back nil
		others[1],
		replaced,
	})

	_, err = s.Consent(ctx, "u2", "b-client")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.Consent(ctx, "u3", "a-client")
	wantErr(t, err, store.ErrNotFound)
}

func testRevokeConsent(t *testing.T, s store.Store) {
	ctx := t.Context()
	revoked := seed(t, s, "a", "u1")
	otherClient := seed(t, s, "b", "u1")
	otherUser := seed(t, s, "a", "u2")
	ok(t, s.RevokeConsent(ctx, "u1", "a"))
	wantErr(t, s.RevokeConsent(ctx, "u1", "a"), store.ErrNotFound)

	// The request of the revoked pair is the client's business, not the
	// consent's: it stays.
	same(t, "rows of the revoked consent", present(t, s, revoked), presence{Request: true})
	all := presence{Consent: true, Request: true, Code: true, Access: true, Refresh: true}
	same(t, "rows of another client", present(t, s, otherClient), all)
	same(t, "rows of another user", present(t, s, otherUser), all)
}

func testUpstreamRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	none, err := s.Upstreams(ctx)
	ok(t, err)
	if none != nil {
		t.Errorf("Upstreams of an empty store = %#v, want nil", none)
	}
	full := store.Upstream{UserID: "42", Login: "alice", Scopes: []string{"read:repository", "write:issue"},
		SealedAccess: "sealed-access", SealedRefresh: "sealed-refresh",
		AccessExpiry: base.Add(time.Hour).In(elsewhere), UpdatedAt: base.In(elsewhere)}
	ok(t, s.PutUpstream(ctx, full))
	got, err := s.Upstream(ctx, "42")
	ok(t, err)
	same(t, "upstream", got, full)

	resealed := store.Upstream{UserID: "42", Login: "alice2", Scopes: []string{}, SealedAccess: "resealed-access",
		UpdatedAt: base.Add(time.Minute)}
	ok(t, s.PutUpstream(ctx, resealed))
	ok(t, s.PutUpstream(ctx, store.Upstream{UserID: "100", Login: "carol", SealedAccess: "x"}))
	ok(t, s.PutUpstream(ctx, store.Upstream{UserID: "7", Login: "bob", SealedAccess: "y"}))
	all, err := s.Upstreams(ctx)
	ok(t, err)
	same(t, "upstreams, by user ID", all, []store.Upstream{
		{UserID: "100", Login: "carol", SealedAccess: "x"},
		{UserID: "42", Login: "alice2", SealedAccess: "resealed-access", UpdatedAt: base.Add(time.Minute)},
		{UserID: "7", Login: "bob", SealedAccess: "y"},
	})

	_, err = s.Upstream(ctx, "absent")
	wantErr(t, err, store.ErrNotFound)
}

func testDeleteUpstream(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"u1", "u2"} {
		ok(t, s.PutUpstream(ctx, store.Upstream{UserID: id, Login: "login-" + id, SealedAccess: "sealed"}))
	}
	first := seed(t, s, "a", "u1")
	second := seed(t, s, "b", "u1")
	kept := seed(t, s, "a", "u2")
	ok(t, s.DeleteUpstream(ctx, "u1"))

	_, err := s.Upstream(ctx, "u1")
	wantErr(t, err, store.ErrNotFound)
	consents, err := s.Consents(ctx, "u1")
	ok(t, err)
	same(t, "consents of the user", consents, nil)
	// The requests of the user stay: they start over at Gitea's sign-in.
	same(t, "rows of the user at a", present(t, s, first), presence{Request: true})
	same(t, "rows of the user at b", present(t, s, second), presence{Request: true})
	same(t, "rows of another user", present(t, s, kept),
		presence{Consent: true, Request: true, Code: true, Access: true, Refresh: true})
	_, err = s.Upstream(ctx, "u2")
	ok(t, err)

	orphan := seed(t, s, "a", "u3") // no grant, yet tokens: they go all the same
	wantErr(t, s.DeleteUpstream(ctx, "u3"), store.ErrNotFound)
	same(t, "rows of a user without a grant", present(t, s, orphan), presence{Request: true})
}

func testAccessToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	full := token(store.Hash("access"), "f", "c", "u")
	bare := store.Token{Hash: store.Hash("bare"), Scopes: []string{}, ExpiresAt: base.Add(time.Second)}
	cases := []roundTripCase[store.Token]{
		{name: "every field", give: full, want: full},
		{name: "empty fields, empty list comes back nil", give: bare, want: store.Token{Hash: bare.Hash, ExpiresAt: bare.ExpiresAt}},
	}
	roundTrip(t, "access token", cases,
		func(at store.Token) error { return s.CreateAccessToken(ctx, at) },
		func(at store.Token) (store.Token, error) { return s.AccessToken(ctx, at.Hash, base) })
	for _, tc := range cases { // not consumed
		got, err := s.AccessToken(ctx, tc.give.Hash, base)
		ok(t, err)
		same(t, "access token read again", got, tc.want)
	}
	_, err := s.AccessToken(ctx, store.Hash("absent"), base)
	wantErr(t, err, store.ErrNotFound)
}

func testTokenExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	// stored stores a token under key, of the kind create makes.
	stored := func(t *testing.T, create func(context.Context, store.Token) error, key string, expires time.Time) {
		t.Helper()
		tok := token(key, "f", "c", "u")
		tok.ExpiresAt = expires
		ok(t, create(ctx, tok))
	}
	lookups := []struct {
		name   string
		create func(context.Context, store.Token) error
		lookup func(ctx context.Context, hash string, now time.Time) (store.Token, error)
	}{
		{name: "AccessToken", create: s.CreateAccessToken, lookup: s.AccessToken},
		{name: "FindToken of an access token", create: s.CreateAccessToken, lookup: s.FindToken},
		{name: "FindToken of a refresh token", create: s.CreateRefreshToken, lookup: s.FindToken},
		{name: "UseRefreshToken", create: s.CreateRefreshToken, lookup: s.UseRefreshToken},
	}
	for _, l := range lookups {
		t.Run(l.name, func(t *testing.T) {
			testExpiry(t, false, func(t *testing.T, key string, expires, now time.Time) error {
				t.Helper()
				stored(t, l.create, key, expires)
				_, err := l.lookup(ctx, key, now)
				return err
			})
		})
	}
}

// tokenPair stores an access and a refresh token of one family.
func tokenPair(t *testing.T, s store.Store) (access, refresh store.Token) {
	t.Helper()
	access = token(store.Hash("access"), "f", "c", "u")
	refresh = token(store.Hash("refresh"), "f", "c", "u")
	ok(t, s.CreateAccessToken(t.Context(), access))
	ok(t, s.CreateRefreshToken(t.Context(), refresh))
	return access, refresh
}

// wantPairIntact fails the test unless the pair is as tokenPair stored it.
func wantPairIntact(t *testing.T, s store.Store, access, refresh store.Token) {
	t.Helper()
	got, err := s.AccessToken(t.Context(), access.Hash, base)
	ok(t, err)
	same(t, "access token", got, access)
	got, err = s.UseRefreshToken(t.Context(), refresh.Hash, base)
	ok(t, err)
	same(t, "refresh token", got, refresh)
}

func testTokenExists(t *testing.T, s store.Store) {
	ctx := t.Context()
	at, rt := tokenPair(t, s)
	wantErr(t, s.CreateAccessToken(ctx, token(at.Hash, "g", "c2", "u2")), store.ErrExists, at.Hash)
	wantErr(t, s.CreateRefreshToken(ctx, token(rt.Hash, "g", "c2", "u2")), store.ErrExists, rt.Hash)
	wantPairIntact(t, s, at, rt)
}

func testTokenKindsApart(t *testing.T, s store.Store) {
	ctx := t.Context()
	at, rt := tokenPair(t, s)
	_, err := s.AccessToken(ctx, rt.Hash, base)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.UseRefreshToken(ctx, at.Hash, base)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.UseRefreshToken(ctx, at.Hash, base) // a second try is no reuse of a refresh token
	wantErr(t, err, store.ErrNotFound)
	wantPairIntact(t, s, at, rt)
}

func testRefreshReuse(t *testing.T, s store.Store) {
	ctx := t.Context()
	family := seed(t, s, "c", "u")
	next := token(store.Hash("next refresh"), family.family, "c", "u")
	ok(t, s.CreateRefreshToken(ctx, next))
	other := seed(t, s, "c", "u2")

	got, err := s.UseRefreshToken(ctx, family.refresh, base)
	ok(t, err)
	same(t, "used refresh token", got, token(family.refresh, family.family, "c", "u"))
	found, err := s.FindToken(ctx, family.refresh, base)
	ok(t, err)
	spent := got
	spent.Spent = true
	same(t, "used refresh token found", found, spent)

	reused, err := s.UseRefreshToken(ctx, family.refresh, base.Add(time.Minute))
	wantErr(t, err, store.ErrReused, family.refresh)
	same(t, "reused refresh token", reused, got) // names the family it revoked
	_, err = s.UseRefreshToken(ctx, family.refresh, base.Add(time.Minute))
	wantErr(t, err, store.ErrNotFound) // the family, this token included, is gone
	_, err = s.UseRefreshToken(ctx, next.Hash, base)
	wantErr(t, err, store.ErrNotFound)
	same(t, "rows of the reused family", present(t, s, family), presence{Consent: true, Request: true, Code: true})
	same(t, "rows of another family", present(t, s, other),
		presence{Consent: true, Request: true, Code: true, Access: true, Refresh: true})
}

func testRefreshExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	family := seed(t, s, "c", "u")
	_, err := s.UseRefreshToken(ctx, family.refresh, base)
	ok(t, err)
	expiry := base.Add(time.Hour)
	_, err = s.UseRefreshToken(ctx, family.refresh, expiry)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.AccessToken(ctx, family.access, expiry.Add(-time.Nanosecond))
	ok(t, err) // an expired token presented again revokes nothing
	_, err = s.UseRefreshToken(ctx, store.Hash("never issued"), base)
	wantErr(t, err, store.ErrNotFound)
}

func testFindToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	is := seed(t, s, "c", "u")
	used := token(store.Hash("used"), is.family, "c", "u")
	ok(t, s.CreateRefreshToken(ctx, used))
	_, err := s.UseRefreshToken(ctx, used.Hash, base)
	ok(t, err)
	for _, hash := range []string{is.access, is.refresh, used.Hash} {
		got, err := s.FindToken(ctx, hash, base)
		ok(t, err)
		want := token(hash, is.family, "c", "u")
		want.Spent = hash == used.Hash // only the refresh token used once
		same(t, "found token", got, want)
	}
	_, err = s.FindToken(ctx, store.Hash("absent"), base)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.FindToken(ctx, is.access, base.Add(time.Hour))
	wantErr(t, err, store.ErrNotFound)
}

func testRevokeFamily(t *testing.T, s store.Store) {
	ctx := t.Context()
	revoked := seed(t, s, "c", "u")
	second := token(store.Hash("second refresh"), revoked.family, "c", "u")
	ok(t, s.CreateRefreshToken(ctx, second))
	kept := seed(t, s, "c", "u2")
	ok(t, s.RevokeFamily(ctx, revoked.family))
	ok(t, s.RevokeFamily(ctx, revoked.family))
	ok(t, s.RevokeFamily(ctx, "no such family"))

	_, err := s.FindToken(ctx, second.Hash, base)
	wantErr(t, err, store.ErrNotFound)
	same(t, "rows of the revoked family", present(t, s, revoked), presence{Consent: true, Request: true, Code: true})
	same(t, "rows of another family", present(t, s, kept),
		presence{Consent: true, Request: true, Code: true, Access: true, Refresh: true})
}
