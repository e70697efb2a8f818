package gitea

import (
	"context"
	"time"
)

// NotificationThread is one entry of the caller's notification inbox.
type NotificationThread struct {
	ID         int64 `json:"id"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	Subject struct {
		Title   string `json:"title"`
		URL     string `json:"url"`      // API URL of the issue, pull request or commit
		HTMLURL string `json:"html_url"` // web URL
		Type    string `json:"type"`     // Issue, Pull, Commit or Repository
		State   string `json:"state"`    // open, closed or merged, when it applies
	} `json:"subject"`
	Unread    bool      `json:"unread"`
	Pinned    bool      `json:"pinned"`
	UpdatedAt time.Time `json:"updated_at"`
}

// NotificationFilter selects notifications. The zero value selects the
// unread ones.
type NotificationFilter struct {
	// All includes read notifications too.
	All bool
}

// Notifications lists the caller's notifications, most recently updated first.
func (c *Client) Notifications(ctx context.Context, f NotificationFilter, opts ListOptions) ([]NotificationThread, PageInfo, error) {
	opts = opts.normalized()
	q := opts.query()
	if f.All {
		q.Set("all", "true")
	} else {
		q.Set("status-types", "unread")
	}
	var threads []NotificationThread
	h, err := c.get(ctx, "GET /api/v1/notifications", "/api/v1/notifications", q, &threads)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return threads, pageInfo(h, opts, len(threads)), nil
}
