package tools

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

func notificationTools() []*Tool { return []*Tool{listNotifications.Tool()} }

// notificationOut is one notification thread, compact.
type notificationOut struct {
	ID         int64     `json:"id"`
	Title      UserText  `json:"title"`
	Type       string    `json:"type"`             // Issue, Pull, Commit or Repository
	Number     int64     `json:"number,omitempty"` // issue or pull request number
	State      string    `json:"state,omitempty"`
	Repository string    `json:"repository"`
	Unread     bool      `json:"unread"`
	Pinned     bool      `json:"pinned,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
	URL        string    `json:"url,omitempty"`
}

func compactNotification(n *gitea.NotificationThread) notificationOut {
	return notificationOut{
		ID: n.ID, Title: UserText(n.Subject.Title), Type: n.Subject.Type, Number: subjectNumber(n.Subject.Type, n.Subject.URL),
		State: n.Subject.State, Repository: n.Repository.FullName, Unread: n.Unread, Pinned: n.Pinned,
		UpdatedAt: n.UpdatedAt, URL: n.Subject.HTMLURL,
	}
}

// subjectNumber is the issue or pull request number at the end of a
// notification subject's API URL (.../issues/7 or .../pulls/7), else 0.
func subjectNumber(kind, apiURL string) int64 {
	if kind != "Issue" && kind != "Pull" {
		return 0
	}
	i := strings.LastIndexByte(apiURL, '/')
	if i < 0 {
		return 0
	}
	prefix := apiURL[:i]
	if !strings.HasSuffix(prefix, "/issues") && !strings.HasSuffix(prefix, "/pulls") {
		return 0
	}
	n, err := strconv.ParseInt(apiURL[i+1:], 10, 64)
	if err != nil || n < 1 {
		return 0
	}
	return n
}

type listNotificationsIn struct {
	All bool `json:"all,omitempty" jsonschema:"include read ones (default: unread only)"`
	Paging
}

type notificationListOut struct {
	Notifications []notificationOut `json:"notifications"`
	PageOut
}

var listNotifications = Def[listNotificationsIn, notificationListOut]{
	Name:   "list_notifications",
	Title:  "List my notifications",
	Desc:   "Your notifications, newest first: subject title, type (Issue, Pull, Commit), number, repository, unread flag.",
	Scopes: []gitea.Scope{gitea.ScopeReadNotification},
	Access: Read,
	Area:   AreaNotifications,
	Schema: boundPage,
	Run: func(ctx context.Context, e *Env, in listNotificationsIn) (notificationListOut, error) {
		threads, info, err := e.Notifications(ctx, gitea.NotificationFilter{All: in.All}, in.options())
		if err != nil {
			return notificationListOut{}, err
		}
		return notificationListOut{Notifications: compact(keepAllowed(e, threads, func(n *gitea.NotificationThread) string { return n.Repository.FullName }), compactNotification), PageOut: pageOut(info)}, nil
	},
}
