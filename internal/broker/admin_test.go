package broker

import (
	"errors"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/seal"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/store"
)

func TestAdminRotateKeys(t *testing.T) {
	w := newWorld(t)
	w.upstream(t, "read:repository") // sealed under the world's only key
	newKey, _ := seal.GenerateKey()
	ring, err := seal.ParseKeyring("k2:" + newKey + ",k1:" + w.key)
	if err != nil {
		t.Fatal(err)
	}
	admin := &Admin{Store: w.store, Keys: ring}
	n, err := admin.RotateKeys(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("RotateKeys = %d, %v; want 1 user re-sealed", n, err)
	}
	up, _ := w.store.Upstream(t.Context(), "42")
	if ring.NeedsRotation(up.SealedAccess) || ring.NeedsRotation(up.SealedRefresh) {
		t.Error("after RotateKeys a token is still sealed under the old key")
	}
	if got, err := ring.Open(up.SealedAccess, accessContext("42")); err != nil || got != "gitea-access-token" {
		t.Errorf("the re-sealed access token opens to %q, %v", got, err)
	}
	if n, err := admin.RotateKeys(t.Context()); err != nil || n != 0 {
		t.Errorf("RotateKeys again = %d, %v; want nothing to do", n, err)
	}
}

func TestAdminGrantsAndRevoke(t *testing.T) {
	w := newWorld(t)
	clientID := w.client(t)
	w.upstream(t, "read:repository")
	if err := w.store.PutConsent(t.Context(), store.Consent{UserID: "42", ClientID: clientID, Scopes: []string{"read:repository"}, CreatedAt: w.now}); err != nil {
		t.Fatal(err)
	}
	resp, _ := w.issue(t, store.Token{Family: "f", ClientID: clientID, UserID: "42", Login: "alice", Scopes: []string{"read:repository"}, Resource: testIssuer + "/mcp"})
	other := store.Client{ID: "dyn_other", Kind: store.ClientDynamic, Name: "Other", RedirectURIs: []string{testRedirect}, CreatedAt: w.now, ExpiresAt: w.now.Add(time.Hour)}
	if err := w.store.CreateClient(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	kept, _ := w.issue(t, store.Token{Family: "g", ClientID: other.ID, UserID: "42", Login: "alice", Scopes: []string{"read:repository"}, Resource: testIssuer + "/mcp"})
	admin := &Admin{Store: w.store, Keys: w.b.keys}
	grants, err := admin.Grants(t.Context(), "alice")
	if err != nil || len(grants) != 1 || grants[0].ClientName != "Test client" || grants[0].Login != "alice" {
		t.Fatalf("Grants(alice) = %+v, %v", grants, err)
	}
	if _, err := admin.Grants(t.Context(), "mallory"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("Grants(mallory) = %v, want ErrNoSuchUser", err)
	}
	if err := admin.RevokeGrant(t.Context(), "alice", clientID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.AccessToken(t.Context(), store.Hash(resp.AccessToken), w.now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the client's access token after RevokeGrant: %v, want gone", err)
	}
	if _, err := w.store.AccessToken(t.Context(), store.Hash(kept.AccessToken), w.now); err != nil {
		t.Errorf("another client's access token after RevokeGrant: %v, want kept", err)
	}
	if grants, _ := admin.Grants(t.Context(), ""); len(grants) != 0 {
		t.Errorf("grants after revocation: %+v", grants)
	}
	if err := admin.RevokeUser(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.Upstream(t.Context(), "42"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("alice's Gitea grant after RevokeUser: %v, want gone", err)
	}
}
