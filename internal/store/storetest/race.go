package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

func testDeleteExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := base
	expiredClient := fullClient("expired-dynamic")
	expiredClient.ExpiresAt = now
	liveClient := fullClient("live-dynamic")
	staticPast := fullClient("static-past")
	staticPast.Kind, staticPast.ExpiresAt = store.ClientStatic, now.Add(-time.Hour)
	metadataPast := fullClient("metadata-past")
	metadataPast.Kind, metadataPast.ExpiresAt = store.ClientMetadata, now.Add(-time.Hour)
	for _, c := range []store.Client{expiredClient, liveClient, staticPast, metadataPast} {
		ok(t, s.CreateClient(ctx, c))
	}
	// Everything issued to the expired dynamic client goes with it, live
	// or not: 3 rows and the client.
	ok(t, s.PutConsent(ctx, store.Consent{UserID: "u", ClientID: expiredClient.ID, CreatedAt: now}))
	ok(t, s.CreateAccessToken(ctx, token(store.Hash("live access of expired client"), "f0", expiredClient.ID, "u")))
	ok(t, s.CreateAuthCode(ctx, fullAuthCode(store.Hash("live code of expired client"), expiredClient.ID, "u")))

	// Of every kind of expiring row, one expiring at each of these.
	rows := []struct {
		name    string
		expires time.Time
		gone    bool
	}{
		{name: "at now", expires: now, gone: true},
		{name: "before now", expires: now.Add(-time.Hour), gone: true},
		{name: "zero", gone: true},
		{name: "after now", expires: now.Add(time.Nanosecond)},
	}
	var wantRemoved int
	hash := func(kind, name string) string { return store.Hash(kind + " " + name) }
	for _, r := range rows {
		req := fullAuthRequest(hash("request", r.name), liveClient.ID)
		req.ExpiresAt = r.expires
		ok(t, s.CreateAuthRequest(ctx, req))
		code := fullAuthCode(hash("code", r.name), liveClient.ID, "u")
		code.ExpiresAt = r.expires
		ok(t, s.CreateAuthCode(ctx, code))
		at := token(hash("access", r.name), "f-"+r.name, liveClient.ID, "u")
		at.ExpiresAt = r.expires
		ok(t, s.CreateAccessToken(ctx, at))
		for _, kind := range []string{"refresh", "used refresh"} {
			rt := token(hash(kind, r.name), "f-"+r.name, liveClient.ID, "u")
			rt.ExpiresAt = r.expires
			ok(t, s.CreateRefreshToken(ctx, rt))
		}
		if r.gone {
			wantRemoved += 5
		}
	}
	// The used refresh token that is still live: used before the sweep.
	_, err := s.UseRefreshToken(ctx, hash("used refresh", "after now"), now.Add(-time.Hour))
	ok(t, err)
	wantRemoved += 4 // the expired client, its consent, token and code

	removed, err := s.DeleteExpired(ctx, now)
	ok(t, err)
	if removed != wantRemoved {
		t.Errorf("DeleteExpired removed %d rows, want %d", removed, wantRemoved)
	}
	again, err := s.DeleteExpired(ctx, now)
	ok(t, err)
	if again != 0 {
		t.Errorf("a second DeleteExpired removed %d rows, want 0", again)
	}

	clients, err := s.Clients(ctx)
	ok(t, err)
	same(t, "clients after the sweep", clients, []store.Client{liveClient, metadataPast, staticPast})
	_, err = s.Consent(ctx, "u", expiredClient.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.FindToken(ctx, store.Hash("live access of expired client"), now)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.TakeAuthCode(ctx, store.Hash("live code of expired client"), now)
	wantErr(t, err, store.ErrNotFound)

	// The live rows stay; read them at a now that has not expired them.
	before := now.Add(-2 * time.Hour)
	for _, r := range rows {
		if r.gone {
			continue
		}
		_, err := s.AuthRequest(ctx, hash("request", r.name), before)
		ok(t, err)
		_, err = s.AccessToken(ctx, hash("access", r.name), before)
		ok(t, err)
		_, err = s.TakeAuthCode(ctx, hash("code", r.name), before)
		ok(t, err)
		_, err = s.UseRefreshToken(ctx, hash("refresh", r.name), before)
		ok(t, err)
	}
	// The used one was kept, so presenting it again is still caught.
	_, err = s.UseRefreshToken(ctx, hash("used refresh", "after now"), before)
	wantErr(t, err, store.ErrReused)
}

// race runs consume from Racers goroutines at once and returns how many
// succeeded and how many failed with each of the allowed errors; any other
// error fails the test.
func race(t *testing.T, consume func() error, allowed ...error) (wins int, fails map[error]int) {
	t.Helper()
	start := make(chan struct{})
	errs := make(chan error, Racers)
	var wg sync.WaitGroup
	for range Racers {
		wg.Go(func() {
			<-start
			errs <- consume()
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	fails = map[error]int{}
next:
	for err := range errs {
		if err == nil {
			wins++
			continue
		}
		for _, a := range allowed {
			if errors.Is(err, a) {
				fails[a]++
				continue next
			}
		}
		t.Errorf("racer failed with an unexpected error: %v", err)
	}
	return wins, fails
}

// raceTake races Racers callers of take on one row: exactly one wins, the
// rest find nothing.
func raceTake(t *testing.T, what string, take func() error) {
	t.Helper()
	wins, fails := race(t, take, store.ErrNotFound)
	if wins != 1 || fails[store.ErrNotFound] != Racers-1 {
		t.Errorf("%s by %d racers: %d won, %d not found; want 1 and %d", what, Racers, wins, fails[store.ErrNotFound], Racers-1)
	}
}

func testRaceTakeAuthCode(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := fullAuthCode(store.Hash("raced code"), "c", "u")
	ok(t, s.CreateAuthCode(ctx, c))
	raceTake(t, "TakeAuthCode", func() error { _, err := s.TakeAuthCode(ctx, c.Hash, base); return err })
}

func testRaceTakeAuthRequest(t *testing.T, s store.Store) {
	ctx := t.Context()
	r := fullAuthRequest(store.Hash("raced state"), "c")
	ok(t, s.CreateAuthRequest(ctx, r))
	raceTake(t, "TakeAuthRequest", func() error { _, err := s.TakeAuthRequest(ctx, r.ID, base); return err })
}

func testRaceUseRefreshToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	is := seed(t, s, "c", "u")
	wins, fails := race(t, func() error { _, err := s.UseRefreshToken(ctx, is.refresh, base); return err },
		store.ErrReused, store.ErrNotFound)
	// The first loser to see the token sees it used and revokes the
	// family; later ones find nothing.
	if wins != 1 || fails[store.ErrReused] < 1 || fails[store.ErrReused]+fails[store.ErrNotFound] != Racers-1 {
		t.Errorf("UseRefreshToken by %d racers: %d won, %d reused, %d not found; want 1 winner, the rest reused (at least one) or not found",
			Racers, wins, fails[store.ErrReused], fails[store.ErrNotFound])
	}
	_, err := s.AccessToken(ctx, is.access, base)
	wantErr(t, err, store.ErrNotFound)
}

func testCancelledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	wantErr(t, s.CreateClient(ctx, fullClient("never")), context.Canceled)
	_, err := s.Clients(ctx)
	wantErr(t, err, context.Canceled)
	_, err = s.TakeAuthCode(ctx, store.Hash("code"), base)
	wantErr(t, err, context.Canceled)
	_, err = s.Client(t.Context(), "never", base)
	wantErr(t, err, store.ErrNotFound)
}
