package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

func testClientRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	static := store.Client{ID: "static", Kind: store.ClientStatic, Name: "Operator's", RedirectURIs: nil,
		ApplicationType: "web", CreatedAt: base}
	metadata := store.Client{ID: "https://app.example/client.json", Kind: store.ClientMetadata,
		RedirectURIs: []string{}, ExpiresAt: base.Add(time.Minute)}
	cases := []roundTripCase[store.Client]{
		{name: "every field", give: fullClient("dynamic"), want: fullClient("dynamic")},
		{name: "nil list, no expiry", give: static, want: static},
		{name: "empty list comes back nil, zero CreatedAt", give: metadata,
			want: store.Client{ID: metadata.ID, Kind: store.ClientMetadata, ExpiresAt: metadata.ExpiresAt}},
	}
	roundTrip(t, "client", cases,
		func(c store.Client) error { return s.CreateClient(ctx, c) },
		func(c store.Client) (store.Client, error) { return s.Client(ctx, c.ID, base) })
	var all []store.Client
	for _, tc := range cases {
		all = append(all, tc.want)
	}
	slices.SortFunc(all, func(a, b store.Client) int { return strings.Compare(a.ID, b.ID) })
	got, err := s.Clients(ctx)
	ok(t, err)
	same(t, "clients", got, all)
}

func testClientExists(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := fullClient("taken-client-id")
	ok(t, s.CreateClient(ctx, first))
	second := fullClient(first.ID)
	second.Name = "impostor"
	wantErr(t, s.CreateClient(ctx, second), store.ErrExists, first.ID)
	got, err := s.Client(ctx, first.ID, base)
	ok(t, err)
	same(t, "client after a refused create", got, first)
}

func testClientNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	ok(t, s.CreateClient(ctx, fullClient("present")))
	_, err := s.Client(ctx, "absent", base)
	wantErr(t, err, store.ErrNotFound)
}

func testClientExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	var ids []string
	testExpiry(t, true, func(t *testing.T, key string, expires, now time.Time) error {
		t.Helper()
		c := fullClient(key)
		c.ExpiresAt = expires
		ok(t, s.CreateClient(ctx, c))
		ids = append(ids, key)
		_, err := s.Client(ctx, key, now)
		return err
	})
	clients, err := s.Clients(ctx)
	ok(t, err)
	got := make([]string, len(clients))
	for i, c := range clients {
		got[i] = c.ID
	}
	slices.Sort(ids)
	same(t, "clients, the expired ones included", got, ids)
}

func testPutClient(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := store.Client{ID: "https://app.example/doc", Kind: store.ClientMetadata, Name: "v1",
		RedirectURIs: []string{"https://app.example/one"}, ApplicationType: "web", CreatedAt: base, ExpiresAt: base.Add(time.Minute)}
	ok(t, s.PutClient(ctx, first))
	got, err := s.Client(ctx, first.ID, base)
	ok(t, err)
	same(t, "put new client", got, first)

	second := store.Client{ID: first.ID, Kind: store.ClientDynamic, Name: "v2",
		RedirectURIs: []string{"http://127.0.0.1/two", "http://127.0.0.1/three"}, ApplicationType: "native",
		CreatedAt: base.Add(time.Second), ExpiresAt: base.Add(time.Hour)}
	ok(t, s.PutClient(ctx, second))
	all, err := s.Clients(ctx)
	ok(t, err)
	same(t, "clients after a replacing put", all, []store.Client{second})
}

func testTouchClient(t *testing.T, s store.Store) {
	ctx := t.Context()
	dynamic := fullClient("dynamic")
	dynamic.ExpiresAt = base
	static := fullClient("static")
	static.Kind, static.ExpiresAt = store.ClientStatic, time.Time{}
	metadata := fullClient("https://app.example/doc")
	metadata.Kind = store.ClientMetadata
	for _, c := range []store.Client{dynamic, static, metadata} {
		ok(t, s.CreateClient(ctx, c))
	}
	later := base.Add(2 * time.Hour)
	for _, c := range []store.Client{dynamic, static, metadata} {
		ok(t, s.TouchClient(ctx, c.ID, later))
	}
	got, err := s.Client(ctx, dynamic.ID, base.Add(time.Hour))
	ok(t, err)
	dynamic.ExpiresAt = later
	same(t, "touched dynamic client", got, dynamic)
	all, err := s.Clients(ctx)
	ok(t, err)
	same(t, "clients: only the dynamic one moved", all, []store.Client{dynamic, metadata, static})

	wantErr(t, s.TouchClient(ctx, "absent", later), store.ErrNotFound)
}

func testClientsOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	empty, err := s.Clients(ctx)
	ok(t, err)
	if empty != nil {
		t.Errorf("Clients of an empty store = %#v, want nil", empty)
	}
	// Byte order, which a locale's collation would not keep: upper case
	// before "_" before lower case, "10" before "9".
	ids := []string{"alpha", "Zeta", "_under", "https://b.example/doc", "9", "10", "zeta", "Alpha"}
	for _, id := range ids {
		ok(t, s.CreateClient(ctx, store.Client{ID: id, Kind: store.ClientStatic}))
	}
	all, err := s.Clients(ctx)
	ok(t, err)
	got := make([]string, len(all))
	for i, c := range all {
		got[i] = c.ID
	}
	same(t, "client IDs", got, []string{"10", "9", "Alpha", "Zeta", "_under", "alpha", "https://b.example/doc", "zeta"})
}

func testDeleteClient(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"doomed", "kept"} {
		ok(t, s.CreateClient(ctx, fullClient(id)))
	}
	doomed := seed(t, s, "doomed", "u1")
	kept := seed(t, s, "kept", "u1")
	ok(t, s.DeleteClient(ctx, "doomed"))

	_, err := s.Client(ctx, "doomed", base)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.Client(ctx, "kept", base)
	ok(t, err)
	same(t, "rows of the deleted client", present(t, s, doomed), presence{})
	same(t, "rows of the other client", present(t, s, kept),
		presence{Consent: true, Request: true, Code: true, Access: true, Refresh: true})
	wantErr(t, s.DeleteClient(ctx, "doomed"), store.ErrNotFound)
}

func testDeleteMissingClient(t *testing.T, s store.Store) {
	// Rows issued to a client the store does not hold go all the same.
	orphan := seed(t, s, "never-registered", "u1")
	wantErr(t, s.DeleteClient(t.Context(), "never-registered"), store.ErrNotFound)
	same(t, "rows of the missing client", present(t, s, orphan), presence{})
}

func testAuthRequestRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	bare := store.AuthRequest{ID: store.Hash("bare"), Scopes: []string{}, ExpiresAt: base.Add(time.Second)}
	roundTrip(t, "auth request", []roundTripCase[store.AuthRequest]{
		{name: "every field", give: fullAuthRequest(store.Hash("full"), "c"), want: fullAuthRequest(store.Hash("full"), "c")},
		{name: "empty fields, empty list comes back nil", give: bare, want: store.AuthRequest{ID: bare.ID, ExpiresAt: bare.ExpiresAt}},
	},
		func(r store.AuthRequest) error { return s.CreateAuthRequest(ctx, r) },
		func(r store.AuthRequest) (store.AuthRequest, error) { return s.AuthRequest(ctx, r.ID, base) })
	_, err := s.AuthRequest(ctx, store.Hash("absent"), base)
	wantErr(t, err, store.ErrNotFound)
}

func testAuthRequestExists(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := fullAuthRequest(store.Hash("state"), "c")
	ok(t, s.CreateAuthRequest(ctx, first))
	second := fullAuthRequest(first.ID, "other")
	second.GiteaVerifier = "sealed-secret-verifier"
	wantErr(t, s.CreateAuthRequest(ctx, second), store.ErrExists, first.ID, second.GiteaVerifier)
	got, err := s.AuthRequest(ctx, first.ID, base)
	ok(t, err)
	same(t, "auth request after a refused create", got, first)
}

func testAuthRequestExpiry(t *testing.T, s store.Store) {
	testExpiry(t, false, func(t *testing.T, key string, expires, now time.Time) error {
		t.Helper()
		r := fullAuthRequest(key, "c")
		r.ExpiresAt = expires
		ok(t, s.CreateAuthRequest(t.Context(), r))
		_, err := s.AuthRequest(t.Context(), key, now)
		return err
	})
}

func testUpdateAuthRequest(t *testing.T, s store.Store) {
	ctx := t.Context()
	r := fullAuthRequest(store.Hash("state"), "c")
	r.UserID, r.Login, r.ConsentHash = "", "", ""
	ok(t, s.CreateAuthRequest(ctx, r))
	updated := store.AuthRequest{
		ID: r.ID, ClientID: "c2", RedirectURI: "http://127.0.0.1/cb", State: "s2", CodeChallenge: "cc2",
		Scopes: []string{"read:user"}, Resource: "https://other.example/mcp", BrowserHash: store.Hash("browser2"),
		GiteaVerifier: "sealed2", UserID: "7", Login: "bob", ConsentHash: store.Hash("csrf2"),
		ExpiresAt: base.Add(2 * time.Hour),
	}
	ok(t, s.UpdateAuthRequest(ctx, updated))
	got, err := s.AuthRequest(ctx, r.ID, base)
	ok(t, err)
	same(t, "updated auth request", got, updated)

	wantErr(t, s.UpdateAuthRequest(ctx, fullAuthRequest(store.Hash("absent"), "c")), store.ErrNotFound)
	_, err = s.AuthRequest(ctx, store.Hash("absent"), base)
	wantErr(t, err, store.ErrNotFound)
}

func testTakeAuthRequest(t *testing.T, s store.Store) {
	ctx := t.Context()
	r := fullAuthRequest(store.Hash("state"), "c")
	expired := fullAuthRequest(store.Hash("expired"), "c")
	expired.ExpiresAt = base
	ok(t, s.CreateAuthRequest(ctx, r))
	ok(t, s.CreateAuthRequest(ctx, expired))

	got, err := s.TakeAuthRequest(ctx, r.ID, base)
	ok(t, err)
	same(t, "taken auth request", got, r)
	_, err = s.TakeAuthRequest(ctx, r.ID, base)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.AuthRequest(ctx, r.ID, base)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.TakeAuthRequest(ctx, expired.ID, base)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.TakeAuthRequest(ctx, store.Hash("absent"), base)
	wantErr(t, err, store.ErrNotFound)
}

func testTakeAuthCode(t *testing.T, s store.Store) {
	ctx := t.Context()
	full := fullAuthCode(store.Hash("code"), "c", "u")
	bare := store.AuthCode{Hash: store.Hash("bare"), Scopes: []string{}, ExpiresAt: base.Add(time.Second)}
	roundTrip(t, "taken code", []roundTripCase[store.AuthCode]{
		{name: "every field", give: full, want: full},
		{name: "empty fields, empty list comes back nil", give: bare, want: store.AuthCode{Hash: bare.Hash, ExpiresAt: bare.ExpiresAt}},
	},
		func(c store.AuthCode) error { return s.CreateAuthCode(ctx, c) },
		func(c store.AuthCode) (store.AuthCode, error) { return s.TakeAuthCode(ctx, c.Hash, base) })
	for _, hash := range []string{full.Hash, bare.Hash, store.Hash("never issued")} {
		_, err := s.TakeAuthCode(ctx, hash, base)
		wantErr(t, err, store.ErrNotFound)
	}
}

func testAuthCodeExists(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := fullAuthCode(store.Hash("code"), "c", "u1")
	ok(t, s.CreateAuthCode(ctx, first))
	wantErr(t, s.CreateAuthCode(ctx, fullAuthCode(first.Hash, "c", "u2")), store.ErrExists, first.Hash)
	got, err := s.TakeAuthCode(ctx, first.Hash, base)
	ok(t, err)
	same(t, "code after a refused create", got, first)
}

func testAuthCodeExpiry(t *testing.T, s store.Store) {
	testExpiry(t, false, func(t *testing.T, key string, expires, now time.Time) error {
		t.Helper()
		c := fullAuthCode(key, "c", "u")
		c.ExpiresAt = expires
		ok(t, s.CreateAuthCode(t.Context(), c))
		_, err := s.TakeAuthCode(t.Context(), key, now)
		return err
	})
}
