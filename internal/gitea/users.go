package gitea

import (
	"context"
	"time"
)

// Profile is a user's public profile, as another signed-in user sees it.
type Profile struct {
	User
	Description  string    `json:"description"`
	Location     string    `json:"location"`
	Website      string    `json:"website"`
	Visibility   string    `json:"visibility"` // public, limited or private
	Created      time.Time `json:"created"`
	Followers    int       `json:"followers_count"`
	Following    int       `json:"following_count"`
	StarredRepos int       `json:"starred_repos_count"`
}

// UserProfile returns the profile of the user (or organization) called name.
func (c *Client) UserProfile(ctx context.Context, name string) (*Profile, error) {
	if err := checkName("username", name); err != nil {
		return nil, err
	}
	var p Profile
	if _, err := c.get(ctx, "GET /api/v1/users/{username}", "/api/v1/users/"+name, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// SearchUsers finds the individual users visible to the caller whose login
// or full name contains query (and whose public email matches, if any).
func (c *Client) SearchUsers(ctx context.Context, query string, opts ListOptions) ([]Profile, PageInfo, error) {
	if err := checkQuery(query); err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	q := opts.query()
	q.Set("q", query)
	var body struct {
		OK   bool      `json:"ok"`
		Data []Profile `json:"data"`
	}
	h, err := c.get(ctx, "GET /api/v1/users/search", "/api/v1/users/search", q, &body)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return body.Data, pageInfo(h, opts, len(body.Data)), nil
}

// checkQuery accepts a non-empty search text of at most maxNameLen bytes
// without control characters.
func checkQuery(query string) error {
	if query == "" || len(query) > maxNameLen || hasControl(query) {
		return invalid("query must be 1-%d bytes without control characters", maxNameLen)
	}
	return nil
}
