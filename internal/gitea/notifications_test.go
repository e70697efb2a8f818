package gitea

import (
	"net/http"
	"testing"
)

func TestNotificationsFilter(t *testing.T) {
	tests := []struct {
		name       string
		filter     NotificationFilter
		wantAll    string
		wantStatus []string
	}{
		{name: "unread by default", wantStatus: []string{"unread"}},
		{name: "all", filter: NotificationFilter{All: true}, wantAll: "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeGitea(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				if r.URL.Path != "/sub/api/v1/notifications" || q.Get("all") != tt.wantAll || len(q["status-types"]) != len(tt.wantStatus) ||
					(len(tt.wantStatus) > 0 && q.Get("status-types") != tt.wantStatus[0]) {
					t.Errorf("request = %s, want all=%q status-types=%v", r.URL, tt.wantAll, tt.wantStatus)
				}
				writeJSON(w, 200, `[{"id":3,"repository":{"full_name":"o/r"},"subject":{"title":"T","type":"Issue","url":"x/issues/4"},"unread":true}]`)
			}).As(testToken)
			threads, _, err := c.Notifications(t.Context(), tt.filter, ListOptions{})
			if err != nil || len(threads) != 1 || threads[0].ID != 3 || threads[0].Repository.FullName != "o/r" || threads[0].Subject.Type != "Issue" || !threads[0].Unread {
				t.Errorf("Notifications = %+v, %v", threads, err)
			}
		})
	}
}
