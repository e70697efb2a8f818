package gitea

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestProbeClientClassifies: the probe sends an empty token with the
// client's Basic credentials and tells a refused client from an accepted
// one and from an answer that decides nothing. The real Gitea's answers
// are checked in e2e (TestProbeClientAgainstGitea).
func TestProbeClientClassifies(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		challenge string
		body      string
		wantErr   error // nil: accepted
	}{
		{name: "accepted", status: 200, body: `{"active":false}`},
		{name: "client refused", status: 401, challenge: `Basic realm="Gitea OAuth2"`, body: `{}`, wantErr: ErrClientCredentials},
		{name: "401 without a challenge", status: 401, body: `{}`, wantErr: ErrUnauthorized},
		{name: "empty token active", status: 200, body: `{"active":true}`, wantErr: ErrBadResponse},
		{name: "gitea failing", status: 500, body: `{"message":"upstream detail"}`, wantErr: ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
				user, secret, ok := r.BasicAuth()
				if r.Method != http.MethodPost || r.URL.Path != "/sub/login/oauth/introspect" || !ok || user != "client" || secret != "secret" {
					t.Errorf("probe = %s %s (basic %v %q), want POST of the client's Basic credentials", r.Method, r.URL.Path, ok, user)
				}
				if err := r.ParseForm(); err != nil || !r.PostForm.Has("token") || r.PostForm.Get("token") != "" {
					t.Errorf("probe form = %v, want an empty token", r.PostForm)
				}
				if tt.challenge != "" {
					w.Header().Set("WWW-Authenticate", tt.challenge)
				}
				writeJSON(w, tt.status, tt.body)
			})
			err := e.ProbeClient(t.Context(), "client", "secret")
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("ProbeClient = %v, want nil", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("ProbeClient = %v, want %v", err, tt.wantErr)
			case !errors.Is(tt.wantErr, ErrClientCredentials) && errors.Is(err, ErrClientCredentials):
				t.Errorf("ProbeClient = %v, which is not a refused client", err)
			}
			if err != nil && (strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "upstream detail")) {
				t.Errorf("ProbeClient error %q holds the secret or the upstream body", err)
			}
		})
	}
}
