package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// The tracker write methods are called with tokens of these scope sets:
// the write scope Gitea needs for issues, comments, labels and milestones,
// and a read-only one that Gitea must refuse for every write.
const (
	wtWriteScope = "openid write:issue read:repository read:user"
	wtReadScope  = "openid read:issue read:repository read:user"
)

// wtFixture is a fresh repository of alice's and clients to change it.
type wtFixture struct {
	g     *testgitea.Gitea
	e     *gitea.Endpoint
	repo  string
	path  string          // its API path
	alice *gitea.Client   // a writer with wtWriteScope
	dead  *gitea.Endpoint // nothing listens there: a request that is sent fails with ErrUnavailable
}

func wtNew(t *testing.T, private bool) *wtFixture {
	t.Helper()
	g := needGitea(t)
	repo, err := g.NewRepo(t.Context(), testgitea.AliceName, "tracker", private)
	if err != nil {
		t.Fatalf("NewRepo: %v", err)
	}
	e := endpoint(t, g)
	dead, err := gitea.NewEndpoint(gitea.Options{BaseURL: &url.URL{Scheme: "http", Host: "127.0.0.1:1"}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &wtFixture{
		g: g, e: e, repo: repo, path: "/api/v1/repos/" + testgitea.AliceName + "/" + repo,
		alice: e.AsWriter(oauthToken(t, g, testgitea.AliceName, wtWriteScope).AccessToken),
		dead:  dead,
	}
}

// writer returns a writing client for user with scope.
func (f *wtFixture) writer(t *testing.T, user, scope string) *gitea.Client {
	t.Helper()
	return f.e.AsWriter(oauthToken(t, f.g, user, scope).AccessToken)
}

// offline returns a writer and a read-only client on the dead endpoint:
// anything they refuse was refused before a request was sent.
func (f *wtFixture) offline() (writer, reader *gitea.Client) {
	return f.dead.AsWriter("some-token"), f.dead.As("some-token")
}

func (f *wtFixture) adminGet(t *testing.T, path string, out any) {
	t.Helper()
	if err := f.g.AdminGet(t.Context(), f.path+path, http.StatusOK, out); err != nil {
		t.Fatalf("reading back %s: %v", path, err)
	}
}

// adminGone checks path answers 404 to the administrator.
func (f *wtFixture) adminGone(t *testing.T, path string) {
	t.Helper()
	if err := f.g.AdminGet(t.Context(), f.path+path, http.StatusNotFound, nil); err != nil {
		t.Errorf("%s should be gone: %v", path, err)
	}
}

// adminCreate creates something as alice and returns its id (or number).
func (f *wtFixture) adminCreate(t *testing.T, path string, body map[string]any) int64 {
	t.Helper()
	var out struct {
		ID     int64 `json:"id"`
		Number int64 `json:"number"`
	}
	if err := f.g.AdminDo(t.Context(), http.MethodPost, f.path+path, testgitea.AliceName, body, http.StatusCreated, &out); err != nil {
		t.Fatalf("creating %s: %v", path, err)
	}
	if out.Number != 0 {
		return out.Number
	}
	return out.ID
}

func (f *wtFixture) issue(t *testing.T, number int64) gitea.Issue {
	t.Helper()
	var is gitea.Issue
	f.adminGet(t, fmt.Sprintf("/issues/%d", number), &is)
	return is
}

func (f *wtFixture) issueCount(t *testing.T) int {
	t.Helper()
	var issues []gitea.Issue
	f.adminGet(t, "/issues?state=all&type=issues&limit=50", &issues)
	return len(issues)
}

// wtIs checks err is kind and, when status is not 0, that Gitea answered status.
func wtIs(t *testing.T, what string, err, kind error, status int) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: error = %v, want %v", what, err, kind)
		return
	}
	var apiErr *gitea.APIError
	got := 0
	if errors.As(err, &apiErr) {
		got = apiErr.Status
	}
	if got != status {
		t.Errorf("%s: HTTP status %d, want %d (%v)", what, got, status, err)
	}
}

func wtLabelNames(labels []gitea.Label) []string {
	names := make([]string, len(labels))
	for i, l := range labels {
		names[i] = l.Name
	}
	slices.Sort(names)
	return names
}

func wtLogins(users []gitea.User) []string {
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.Login
	}
	return names
}

func wtPtr[T any](v T) *T { return &v }

func TestGiteaWriteTrackerIssues(t *testing.T) {
	f := wtNew(t, true)
	ctx := t.Context()
	const alice = testgitea.AliceName
	bug := f.adminCreate(t, "/labels", map[string]any{"name": "bug", "color": "#ee0701"})
	milestone := f.adminCreate(t, "/milestones", map[string]any{"title": "v1"})

	created, err := f.alice.CreateIssue(ctx, alice, f.repo, gitea.IssueCreate{
		Title: "Write the tracker", Body: "Line one\n\n\tLine two", Labels: []int64{bug}, Milestone: milestone, Assignees: []string{alice},
	})
	if err != nil {
		t.Fatalf("CreateIssue: %v", err)
	}
	is := f.issue(t, created.Number)
	if is.Title != "Write the tracker" || is.Body != "Line one\n\n\tLine two" || is.State != "open" || is.User.Login != alice ||
		!slices.Equal(wtLabelNames(is.Labels), []string{"bug"}) || is.Milestone == nil || is.Milestone.ID != milestone ||
		!slices.Equal(wtLogins(is.Assignees), []string{alice}) {
		t.Errorf("created issue reads back as %+v", is)
	}
	if created.Title != is.Title || created.Number != is.Number {
		t.Errorf("CreateIssue returned %+v, Gitea holds %+v", created, is)
	}

	// Title, body and state; the rest is left alone.
	if _, err := f.alice.EditIssue(ctx, alice, f.repo, created.Number, gitea.IssueEdit{
		Title: wtPtr("Write the tracker, done"), Body: wtPtr("Finished."), State: wtPtr("closed"),
	}); err != nil {
		t.Fatalf("EditIssue(title, body, state): %v", err)
	}
	is = f.issue(t, created.Number)
	if is.Title != "Write the tracker, done" || is.Body != "Finished." || is.State != "closed" || is.ClosedAt == nil ||
		is.Milestone == nil || len(is.Assignees) != 1 || len(is.Labels) != 1 {
		t.Errorf("after editing title, body and state: %+v", is)
	}

	// An empty assignee list and milestone 0 clear them.
	edited, err := f.alice.EditIssue(ctx, alice, f.repo, created.Number, gitea.IssueEdit{Assignees: &[]string{}, Milestone: wtPtr(int64(0))})
	if err != nil {
		t.Fatalf("EditIssue(clear assignees and milestone): %v", err)
	}
	is = f.issue(t, created.Number)
	if len(is.Assignees) != 0 || is.Milestone != nil || is.Title != "Write the tracker, done" || is.State != "closed" {
		t.Errorf("after clearing assignees and milestone: %+v", is)
	}
	if len(edited.Assignees) != 0 || edited.Milestone != nil {
		t.Errorf("EditIssue returned %+v, want no assignees and no milestone", edited)
	}
	// And setting them again, with reopening.
	if _, err := f.alice.EditIssue(ctx, alice, f.repo, created.Number, gitea.IssueEdit{
		State: wtPtr("open"), Assignees: &[]string{alice}, Milestone: &milestone,
	}); err != nil {
		t.Fatalf("EditIssue(reopen, assign): %v", err)
	}
	is = f.issue(t, created.Number)
	if is.State != "open" || is.Milestone == nil || is.Milestone.ID != milestone || !slices.Equal(wtLogins(is.Assignees), []string{alice}) {
		t.Errorf("after reopening and assigning: %+v", is)
	}

	// An unknown milestone is refused before anything changes (Gitea would
	// apply the title, then fail with 500).
	before := f.issueCount(t)
	_, err = f.alice.EditIssue(ctx, alice, f.repo, created.Number, gitea.IssueEdit{Title: wtPtr("must not apply"), Milestone: wtPtr(int64(999999))})
	wtIs(t, "EditIssue with an unknown milestone", err, gitea.ErrInvalidArgument, 0)
	if is := f.issue(t, created.Number); is.Title != "Write the tracker, done" || is.Milestone == nil || is.Milestone.ID != milestone {
		t.Errorf("a refused edit changed the issue: %+v", is)
	}
	_, err = f.alice.CreateIssue(ctx, alice, f.repo, gitea.IssueCreate{Title: "must not exist", Milestone: 999999})
	wtIs(t, "CreateIssue with an unknown milestone", err, gitea.ErrInvalidArgument, 0)
	// An unknown assignee is Gitea's to refuse.
	_, err = f.alice.CreateIssue(ctx, alice, f.repo, gitea.IssueCreate{Title: "must not exist", Assignees: []string{"nobody-here"}})
	wtIs(t, "CreateIssue with an unknown assignee", err, gitea.ErrInvalidRequest, http.StatusUnprocessableEntity)
	// bob cannot be assigned: he has no access to the repository.
	_, err = f.alice.CreateIssue(ctx, alice, f.repo, gitea.IssueCreate{Title: "must not exist", Assignees: []string{testgitea.BobName}})
	wtIs(t, "CreateIssue assigning bob", err, gitea.ErrInvalidRequest, http.StatusUnprocessableEntity)
	if after := f.issueCount(t); after != before {
		t.Errorf("refused creations made %d issues", after-before)
	}

	// Closing an issue with an open dependency: Gitea answers 412, the client ErrConflict.
	blocker := f.adminCreate(t, "/issues", map[string]any{"title": "Do this first"})
	if err := f.g.AdminDo(ctx, http.MethodPost, fmt.Sprintf("%s/issues/%d/dependencies", f.path, created.Number), "",
		map[string]any{"owner": alice, "repo": f.repo, "index": blocker}, http.StatusCreated, nil); err != nil {
		t.Fatalf("adding a dependency: %v", err)
	}
	_, err = f.alice.EditIssue(ctx, alice, f.repo, created.Number, gitea.IssueEdit{State: wtPtr("closed")})
	wtIs(t, "closing an issue with an open dependency", err, gitea.ErrConflict, http.StatusPreconditionFailed)
	if is := f.issue(t, created.Number); is.State != "open" {
		t.Errorf("the blocked issue is %s", is.State)
	}

	// The Gitea behaviour the milestone look-up works around: the title is
	// applied, then the unknown milestone fails with 500.
	if err := f.g.AdminDo(ctx, http.MethodPatch, fmt.Sprintf("%s/issues/%d", f.path, blocker), "",
		map[string]any{"title": "Applied anyway", "milestone": 999999}, http.StatusInternalServerError, nil); err != nil {
		t.Errorf("Gitea changed its answer to an unknown milestone: %v", err)
	}
	if is := f.issue(t, blocker); is.Title != "Applied anyway" {
		t.Errorf("Gitea no longer applies the title before failing on the milestone: %q", is.Title)
	}
	before = f.issueCount(t)

	// Refusals by Gitea.
	_, err = f.writer(t, alice, wtReadScope).CreateIssue(ctx, alice, f.repo, gitea.IssueCreate{Title: "must not exist"})
	wtIs(t, "CreateIssue with read:issue only", err, gitea.ErrForbidden, http.StatusForbidden)
	_, err = f.writer(t, alice, wtReadScope).EditIssue(ctx, alice, f.repo, created.Number, gitea.IssueEdit{Title: wtPtr("must not apply")})
	wtIs(t, "EditIssue with read:issue only", err, gitea.ErrForbidden, http.StatusForbidden)
	bob := f.writer(t, testgitea.BobName, wtWriteScope)
	_, err = bob.CreateIssue(ctx, alice, f.repo, gitea.IssueCreate{Title: "must not exist"})
	wtIs(t, "bob creating an issue in alice's private repository", err, gitea.ErrNotFound, http.StatusNotFound)
	_, err = bob.EditIssue(ctx, alice, f.repo, created.Number, gitea.IssueEdit{State: wtPtr("closed")})
	wtIs(t, "bob closing alice's issue", err, gitea.ErrNotFound, http.StatusNotFound)
	_, err = f.alice.EditIssue(ctx, alice, f.repo, 999, gitea.IssueEdit{State: wtPtr("closed")})
	wtIs(t, "EditIssue of a missing issue", err, gitea.ErrNotFound, http.StatusNotFound)
	_, err = f.e.As(oauthToken(t, f.g, alice, wtWriteScope).AccessToken).CreateIssue(ctx, alice, f.repo, gitea.IssueCreate{Title: "must not exist"})
	wtIs(t, "CreateIssue with a read-only client", err, gitea.ErrReadOnly, 0)
	if after := f.issueCount(t); after != before {
		t.Errorf("refused calls changed the number of issues from %d to %d", before, after)
	}

	// Refusals before anything is sent.
	w, r := f.offline()
	for _, tt := range []struct {
		name string
		err  error
		kind error
	}{
		{"empty title", wtErr(w.CreateIssue(ctx, alice, f.repo, gitea.IssueCreate{})), gitea.ErrInvalidArgument},
		{"blank title", wtErr(w.CreateIssue(ctx, alice, f.repo, gitea.IssueCreate{Title: "   "})), gitea.ErrInvalidArgument},
		{"title with a newline", wtErr(w.CreateIssue(ctx, alice, f.repo, gitea.IssueCreate{Title: "a\nb"})), gitea.ErrInvalidArgument},
		{"body with NUL", wtErr(w.CreateIssue(ctx, alice, f.repo, gitea.IssueCreate{Title: "a", Body: "x\x00"})), gitea.ErrInvalidArgument},
		{"huge body", wtErr(w.CreateIssue(ctx, alice, f.repo, gitea.IssueCreate{Title: "a", Body: strings.Repeat("x", 16<<20+1)})), gitea.ErrInvalidArgument},
		{"label id 0", wtErr(w.CreateIssue(ctx, alice, f.repo, gitea.IssueCreate{Title: "a", Labels: []int64{0}})), gitea.ErrInvalidArgument},
		{"bad assignee", wtErr(w.CreateIssue(ctx, alice, f.repo, gitea.IssueCreate{Title: "a", Assignees: []string{"../x"}})), gitea.ErrInvalidArgument},
		{"bad owner", wtErr(w.CreateIssue(ctx, "a/b", f.repo, gitea.IssueCreate{Title: "a"})), gitea.ErrInvalidArgument},
		{"edit nothing", wtErr(w.EditIssue(ctx, alice, f.repo, 1, gitea.IssueEdit{})), gitea.ErrInvalidArgument},
		{"edit to an empty title", wtErr(w.EditIssue(ctx, alice, f.repo, 1, gitea.IssueEdit{Title: wtPtr("")})), gitea.ErrInvalidArgument},
		{"edit to state merged", wtErr(w.EditIssue(ctx, alice, f.repo, 1, gitea.IssueEdit{State: wtPtr("merged")})), gitea.ErrInvalidArgument},
		{"edit issue 0", wtErr(w.EditIssue(ctx, alice, f.repo, 0, gitea.IssueEdit{State: wtPtr("open")})), gitea.ErrInvalidArgument},
		{"edit milestone -1", wtErr(w.EditIssue(ctx, alice, f.repo, 1, gitea.IssueEdit{Milestone: wtPtr(int64(-1))})), gitea.ErrInvalidArgument},
		{"read-only create", wtErr(r.CreateIssue(ctx, alice, f.repo, gitea.IssueCreate{Title: "a", Milestone: 1})), gitea.ErrReadOnly},
		{"read-only edit", wtErr(r.EditIssue(ctx, alice, f.repo, 1, gitea.IssueEdit{Milestone: wtPtr(int64(1))})), gitea.ErrReadOnly},
	} {
		if !errors.Is(tt.err, tt.kind) {
			t.Errorf("%s: error = %v, want %v and nothing sent", tt.name, tt.err, tt.kind)
		}
	}
}

// wtErr returns the error of a two-valued call.
func wtErr[T any](_ T, err error) error { return err }

// TestGiteaWriteTrackerIssueByOutsider pins what Gitea does with the
// fields only writers may set when someone who may only read a public
// repository opens an issue in it: the issue is created without them.
func TestGiteaWriteTrackerIssueByOutsider(t *testing.T) {
	f := wtNew(t, false)
	ctx := t.Context()
	bug := f.adminCreate(t, "/labels", map[string]any{"name": "bug", "color": "#ee0701"})
	milestone := f.adminCreate(t, "/milestones", map[string]any{"title": "v1"})
	bob := f.writer(t, testgitea.BobName, wtWriteScope)
	created, err := bob.CreateIssue(ctx, testgitea.AliceName, f.repo, gitea.IssueCreate{
		Title: "Outsider report", Body: "It breaks.", Labels: []int64{bug}, Milestone: milestone, Assignees: []string{testgitea.AliceName},
	})
	if err != nil {
		t.Fatalf("bob opening an issue in alice's public repository: %v", err)
	}
	is := f.issue(t, created.Number)
	if is.Title != "Outsider report" || is.User.Login != testgitea.BobName {
		t.Errorf("bob's issue reads back as %+v", is)
	}
	if len(is.Labels) != 0 || is.Milestone != nil || len(is.Assignees) != 0 {
		t.Errorf("Gitea kept a reader's labels %v, milestone %+v or assignees %v (it used to drop them silently)", wtLabelNames(is.Labels), is.Milestone, wtLogins(is.Assignees))
	}
	// The author may edit title and state, but Gitea ignores a reader's milestone.
	if _, err := bob.EditIssue(ctx, testgitea.AliceName, f.repo, created.Number, gitea.IssueEdit{Title: wtPtr("Outsider report, retitled"), Milestone: &milestone}); err != nil {
		t.Fatalf("bob editing his own issue: %v", err)
	}
	if is := f.issue(t, created.Number); is.Title != "Outsider report, retitled" || is.Milestone != nil {
		t.Errorf("after bob's edit: title %q, milestone %+v; want the new title and no milestone", is.Title, is.Milestone)
	}
	// bob may not edit alice's issues.
	theirs := f.adminCreate(t, "/issues", map[string]any{"title": "Alice's issue"})
	_, err = bob.EditIssue(ctx, testgitea.AliceName, f.repo, theirs, gitea.IssueEdit{State: wtPtr("closed")})
	wtIs(t, "bob closing alice's issue in her public repository", err, gitea.ErrForbidden, http.StatusForbidden)
	if is := f.issue(t, theirs); is.State != "open" {
		t.Errorf("alice's issue is %s after bob's refused edit", is.State)
	}
}

func TestGiteaWriteTrackerComments(t *testing.T) {
	f := wtNew(t, true)
	ctx := t.Context()
	const alice = testgitea.AliceName
	number := f.adminCreate(t, "/issues", map[string]any{"title": "Discuss"})

	cm, err := f.alice.CreateIssueComment(ctx, alice, f.repo, number, "First!\n\nWith a second paragraph.")
	if err != nil {
		t.Fatalf("CreateIssueComment: %v", err)
	}
	var got gitea.IssueComment
	f.adminGet(t, fmt.Sprintf("/issues/comments/%d", cm.ID), &got)
	if got.Body != "First!\n\nWith a second paragraph." || got.User.Login != alice || cm.Body != got.Body {
		t.Errorf("comment reads back as %+v (CreateIssueComment returned %+v)", got, cm)
	}
	if is := f.issue(t, number); is.Comments != 1 {
		t.Errorf("issue has %d comments, want 1", is.Comments)
	}

	edited, err := f.alice.EditIssueComment(ctx, alice, f.repo, cm.ID, "First, edited.")
	if err != nil {
		t.Fatalf("EditIssueComment: %v", err)
	}
	f.adminGet(t, fmt.Sprintf("/issues/comments/%d", cm.ID), &got)
	if got.Body != "First, edited." || edited.Body != "First, edited." || edited.ID != cm.ID {
		t.Errorf("edited comment reads back as %q (EditIssueComment returned %+v)", got.Body, edited)
	}

	// bob may read and comment, and edit his own comment, but not alice's.
	if err := f.g.AddCollaborator(ctx, alice, f.repo, testgitea.BobName, "read"); err != nil {
		t.Fatal(err)
	}
	bob := f.writer(t, testgitea.BobName, wtWriteScope)
	bobs, err := bob.CreateIssueComment(ctx, alice, f.repo, number, "A reader's view.")
	if err != nil {
		t.Fatalf("bob commenting as a reader: %v", err)
	}
	if _, err := bob.EditIssueComment(ctx, alice, f.repo, bobs.ID, "A reader's view, edited."); err != nil {
		t.Errorf("bob editing his own comment: %v", err)
	}
	f.adminGet(t, fmt.Sprintf("/issues/comments/%d", bobs.ID), &got)
	if got.Body != "A reader's view, edited." || got.User.Login != testgitea.BobName {
		t.Errorf("bob's comment reads back as %+v", got)
	}
	_, err = bob.EditIssueComment(ctx, alice, f.repo, cm.ID, "hijacked")
	wtIs(t, "bob editing alice's comment", err, gitea.ErrForbidden, http.StatusForbidden)
	wtIs(t, "bob deleting alice's comment", bob.DeleteIssueComment(ctx, alice, f.repo, cm.ID), gitea.ErrForbidden, http.StatusForbidden)
	f.adminGet(t, fmt.Sprintf("/issues/comments/%d", cm.ID), &got)
	if got.Body != "First, edited." {
		t.Errorf("alice's comment is %q after bob's refused calls", got.Body)
	}

	// A read-only token is refused by Gitea.
	_, err = f.writer(t, alice, wtReadScope).CreateIssueComment(ctx, alice, f.repo, number, "must not exist")
	wtIs(t, "CreateIssueComment with read:issue only", err, gitea.ErrForbidden, http.StatusForbidden)
	wtIs(t, "DeleteIssueComment with read:issue only", f.writer(t, alice, wtReadScope).DeleteIssueComment(ctx, alice, f.repo, cm.ID),
		gitea.ErrForbidden, http.StatusForbidden)

	// A timeline event is not a comment: Gitea answers 204 to an edit and
	// 400 to a delete, and changes nothing.
	bug := f.adminCreate(t, "/labels", map[string]any{"name": "bug", "color": "#ee0701"})
	if _, err := f.alice.AddIssueLabels(ctx, alice, f.repo, number, []int64{bug}); err != nil {
		t.Fatal(err)
	}
	var timeline []gitea.TimelineEvent
	f.adminGet(t, fmt.Sprintf("/issues/%d/timeline", number), &timeline)
	var event int64
	var eventBody string // Gitea stores "1" for a label added
	for _, ev := range timeline {
		if ev.Type == "label" {
			event, eventBody = ev.ID, ev.Body
		}
	}
	if event == 0 {
		t.Fatalf("no label event in the timeline %+v", timeline)
	}
	_, err = f.alice.EditIssueComment(ctx, alice, f.repo, event, "not a comment")
	wtIs(t, "EditIssueComment of a label event", err, gitea.ErrInvalidRequest, http.StatusNoContent)
	wtIs(t, "DeleteIssueComment of a label event", f.alice.DeleteIssueComment(ctx, alice, f.repo, event), gitea.ErrInvalidRequest, http.StatusBadRequest)
	f.adminGet(t, fmt.Sprintf("/issues/%d/timeline", number), &timeline)
	if !slices.ContainsFunc(timeline, func(ev gitea.TimelineEvent) bool { return ev.ID == event && ev.Type == "label" && ev.Body == eventBody }) {
		t.Errorf("the label event changed: %+v", timeline)
	}

	// A comment id is bound to its repository.
	other := wtNew(t, true)
	otherIssue := other.adminCreate(t, "/issues", map[string]any{"title": "Elsewhere"})
	elsewhere := other.adminCreate(t, fmt.Sprintf("/issues/%d/comments", otherIssue), map[string]any{"body": "Stay here."})
	_, err = f.alice.EditIssueComment(ctx, alice, f.repo, elsewhere, "moved")
	wtIs(t, "editing another repository's comment through this one", err, gitea.ErrNotFound, http.StatusNotFound)
	other.adminGet(t, fmt.Sprintf("/issues/comments/%d", elsewhere), &got)
	if got.Body != "Stay here." {
		t.Errorf("the other repository's comment is %q", got.Body)
	}

	if err := f.alice.DeleteIssueComment(ctx, alice, f.repo, cm.ID); err != nil {
		t.Fatalf("DeleteIssueComment: %v", err)
	}
	f.adminGone(t, fmt.Sprintf("/issues/comments/%d", cm.ID))
	wtIs(t, "deleting the comment twice", f.alice.DeleteIssueComment(ctx, alice, f.repo, cm.ID), gitea.ErrNotFound, http.StatusNotFound)
	_, err = f.alice.EditIssueComment(ctx, alice, f.repo, cm.ID, "too late")
	wtIs(t, "editing a deleted comment", err, gitea.ErrNotFound, http.StatusNotFound)
	if is := f.issue(t, number); is.Comments != 1 {
		t.Errorf("issue has %d comments after the delete, want bob's only", is.Comments)
	}

	// Gitea answers a comment on a missing issue with 500; the client looks the issue up.
	if err := f.g.AdminDo(ctx, http.MethodPost, f.path+"/issues/999/comments", "", map[string]any{"body": "nowhere"}, http.StatusInternalServerError, nil); err != nil {
		t.Errorf("Gitea changed its answer to a comment on a missing issue: %v", err)
	}
	_, err = f.alice.CreateIssueComment(ctx, alice, f.repo, 999, "nowhere")
	wtIs(t, "commenting on a missing issue", err, gitea.ErrNotFound, http.StatusNotFound)
	_, err = f.writer(t, testgitea.BobName, wtWriteScope).CreateIssueComment(ctx, testgitea.AliceName, testgitea.AliceRepo, testgitea.AliceIssue, "must not exist")
	wtIs(t, "bob commenting in alice/notes", err, gitea.ErrNotFound, http.StatusNotFound)

	w, r := f.offline()
	for _, tt := range []struct {
		name string
		err  error
		kind error
	}{
		{"empty comment", wtErr(w.CreateIssueComment(ctx, alice, f.repo, number, "")), gitea.ErrInvalidArgument},
		{"blank comment", wtErr(w.CreateIssueComment(ctx, alice, f.repo, number, " \n\t")), gitea.ErrInvalidArgument},
		{"comment on issue 0", wtErr(w.CreateIssueComment(ctx, alice, f.repo, 0, "x")), gitea.ErrInvalidArgument},
		{"edit comment 0", wtErr(w.EditIssueComment(ctx, alice, f.repo, 0, "x")), gitea.ErrInvalidArgument},
		{"edit to an empty comment", wtErr(w.EditIssueComment(ctx, alice, f.repo, 1, "")), gitea.ErrInvalidArgument},
		{"delete comment -1", w.DeleteIssueComment(ctx, alice, f.repo, -1), gitea.ErrInvalidArgument},
		{"read-only comment", wtErr(r.CreateIssueComment(ctx, alice, f.repo, number, "x")), gitea.ErrReadOnly},
		{"read-only edit", wtErr(r.EditIssueComment(ctx, alice, f.repo, 1, "x")), gitea.ErrReadOnly},
		{"read-only delete", r.DeleteIssueComment(ctx, alice, f.repo, 1), gitea.ErrReadOnly},
	} {
		if !errors.Is(tt.err, tt.kind) {
			t.Errorf("%s: error = %v, want %v and nothing sent", tt.name, tt.err, tt.kind)
		}
	}
}
