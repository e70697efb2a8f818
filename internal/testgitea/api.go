package testgitea

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Account is a Gitea user the harness created, with its password.
type Account struct {
	Name     string
	Password string
	Email    string
}

// apiCall is one REST call made while provisioning.
type apiCall struct {
	method string
	path   string
	body   any
	as     *Account // Basic auth as this account; nil means the admin
	sudo   string   // act as this user (admin only)
	want   int      // expected status
}

// api performs c and decodes the answer into out (if not nil). Provisioning
// uses Basic auth, never the OAuth tokens under test.
func (g *Gitea) api(ctx context.Context, c apiCall, out any) error {
	var body io.Reader
	if c.body != nil {
		b, err := json.Marshal(c.body)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, g.URL+c.path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	as := c.as
	if as == nil {
		as = &g.Admin
	}
	req.SetBasicAuth(as.Name, as.Password)
	if c.sudo != "" {
		req.Header.Set("Sudo", c.sudo)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", c.method, c.path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != c.want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", c.method, c.path, resp.StatusCode, c.want, tail(string(b), 5))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decoding: %w", c.method, c.path, err)
		}
	}
	return nil
}
