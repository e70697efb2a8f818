package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

func TestGiteaWriteTrackerIssueLabels(t *testing.T) {
	f := wtNew(t, true)
	ctx := t.Context()
	const alice = testgitea.AliceName
	// More labels than one page, so LabelIDs must page.
	ids := map[string]int64{}
	for i := range 53 {
		name := fmt.Sprintf("label-%02d", i)
		ids[name] = f.adminCreate(t, "/labels", map[string]any{"name": name, "color": "#00aabb"})
	}
	ids["bug"] = f.adminCreate(t, "/labels", map[string]any{"name": "bug", "color": "#ee0701"})
	f.adminCreate(t, "/labels", map[string]any{"name": "twice", "color": "#ee0701"})
	f.adminCreate(t, "/labels", map[string]any{"name": "twice", "color": "#0075ca"})
	number := f.adminCreate(t, "/issues", map[string]any{"title": "Label me"})

	got, err := f.alice.LabelIDs(ctx, alice, f.repo, []string{"label-52", "bug", "label-00", "bug"})
	if err != nil {
		t.Fatalf("LabelIDs: %v", err)
	}
	if want := []int64{ids["label-52"], ids["bug"], ids["label-00"], ids["bug"]}; !slices.Equal(got, want) {
		t.Errorf("LabelIDs = %v, want %v", got, want)
	}
	if got, err := f.alice.LabelIDs(ctx, alice, f.repo, nil); err != nil || len(got) != 0 {
		t.Errorf("LabelIDs(none) = %v, %v; want no ids", got, err)
	}
	// A read-only client may resolve names too: it only reads.
	if got, err := f.e.As(oauthToken(t, f.g, alice, wtReadScope).AccessToken).LabelIDs(ctx, alice, f.repo, []string{"label-51"}); err != nil ||
		!slices.Equal(got, []int64{ids["label-51"]}) {
		t.Errorf("LabelIDs with a read-only client = %v, %v", got, err)
	}
	for _, tt := range []struct{ names []string }{{[]string{"bug", "Bug"}}, {[]string{"nope"}}, {[]string{"twice"}}, {[]string{"bug "}}} {
		_, err := f.alice.LabelIDs(ctx, alice, f.repo, tt.names)
		wtIs(t, fmt.Sprintf("LabelIDs(%q)", tt.names), err, gitea.ErrInvalidArgument, 0)
		if bad := tt.names[len(tt.names)-1]; err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q", bad)) {
			t.Errorf("LabelIDs(%q) error %q does not name %q", tt.names, err, bad)
		}
	}
	if is := f.issue(t, number); len(is.Labels) != 0 {
		t.Errorf("the issue has labels %v before any was added", wtLabelNames(is.Labels))
	}

	labels, err := f.alice.AddIssueLabels(ctx, alice, f.repo, number, []int64{ids["bug"], ids["label-52"]})
	if err != nil {
		t.Fatalf("AddIssueLabels: %v", err)
	}
	want := []string{"bug", "label-52"}
	if is := f.issue(t, number); !slices.Equal(wtLabelNames(is.Labels), want) || !slices.Equal(wtLabelNames(labels), want) {
		t.Errorf("labels = %v, AddIssueLabels returned %v; want %v", wtLabelNames(is.Labels), wtLabelNames(labels), want)
	}
	// Adding again adds nothing; another repository's label is ignored by Gitea.
	other := wtNew(t, true)
	foreign := other.adminCreate(t, "/labels", map[string]any{"name": "foreign", "color": "#ee0701"})
	labels, err = f.alice.AddIssueLabels(ctx, alice, f.repo, number, []int64{ids["bug"], foreign})
	if err != nil {
		t.Fatalf("AddIssueLabels(again, foreign): %v", err)
	}
	if is := f.issue(t, number); !slices.Equal(wtLabelNames(is.Labels), want) || !slices.Equal(wtLabelNames(labels), want) {
		t.Errorf("after adding bug again and a foreign label: %v (returned %v), want %v", wtLabelNames(is.Labels), wtLabelNames(labels), want)
	}

	// Exclusive labels of one scope replace each other.
	kindBug, err := f.alice.CreateLabel(ctx, alice, f.repo, gitea.LabelCreate{Name: "kind/bug", Color: "#ee0701", Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	kindFeature, err := f.alice.CreateLabel(ctx, alice, f.repo, gitea.LabelCreate{Name: "kind/feature", Color: "#0075ca", Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.alice.AddIssueLabels(ctx, alice, f.repo, number, []int64{kindBug.ID}); err != nil {
		t.Fatal(err)
	}
	labels, err = f.alice.AddIssueLabels(ctx, alice, f.repo, number, []int64{kindFeature.ID})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"bug", "kind/feature", "label-52"}
	if is := f.issue(t, number); !slices.Equal(wtLabelNames(is.Labels), want) || !slices.Equal(wtLabelNames(labels), want) {
		t.Errorf("after adding kind/bug, then kind/feature: %v (returned %v), want %v", wtLabelNames(is.Labels), wtLabelNames(labels), want)
	}

	if err := f.alice.RemoveIssueLabel(ctx, alice, f.repo, number, ids["bug"]); err != nil {
		t.Fatalf("RemoveIssueLabel: %v", err)
	}
	want = []string{"kind/feature", "label-52"}
	if is := f.issue(t, number); !slices.Equal(wtLabelNames(is.Labels), want) {
		t.Errorf("after removing bug: %v, want %v", wtLabelNames(is.Labels), want)
	}
	// Removing a label the issue lacks succeeds and changes nothing; an unknown label is 404.
	if err := f.alice.RemoveIssueLabel(ctx, alice, f.repo, number, ids["bug"]); err != nil {
		t.Errorf("RemoveIssueLabel(bug, twice): %v", err)
	}
	wtIs(t, "RemoveIssueLabel(unknown label)", f.alice.RemoveIssueLabel(ctx, alice, f.repo, number, 999999), gitea.ErrNotFound, http.StatusNotFound)
	wtIs(t, "RemoveIssueLabel(missing issue)", f.alice.RemoveIssueLabel(ctx, alice, f.repo, 999, ids["label-52"]), gitea.ErrNotFound, http.StatusNotFound)
	_, err = f.alice.AddIssueLabels(ctx, alice, f.repo, 999, []int64{ids["bug"]})
	wtIs(t, "AddIssueLabels(missing issue)", err, gitea.ErrNotFound, http.StatusNotFound)
	if is := f.issue(t, number); !slices.Equal(wtLabelNames(is.Labels), want) {
		t.Errorf("after the no-op and refused removals: %v, want %v", wtLabelNames(is.Labels), want)
	}

	// Refusals by Gitea: a reader may not label, nor may a read-only token.
	if err := f.g.AddCollaborator(ctx, alice, f.repo, testgitea.BobName, "read"); err != nil {
		t.Fatal(err)
	}
	bob := f.writer(t, testgitea.BobName, wtWriteScope)
	_, err = bob.AddIssueLabels(ctx, alice, f.repo, number, []int64{ids["bug"]})
	wtIs(t, "bob (reader) adding a label", err, gitea.ErrForbidden, http.StatusForbidden)
	wtIs(t, "bob (reader) removing a label", bob.RemoveIssueLabel(ctx, alice, f.repo, number, ids["label-52"]), gitea.ErrForbidden, http.StatusForbidden)
	_, err = f.writer(t, alice, wtReadScope).AddIssueLabels(ctx, alice, f.repo, number, []int64{ids["bug"]})
	wtIs(t, "AddIssueLabels with read:issue only", err, gitea.ErrForbidden, http.StatusForbidden)
	if is := f.issue(t, number); !slices.Equal(wtLabelNames(is.Labels), want) {
		t.Errorf("after refused calls: %v, want %v", wtLabelNames(is.Labels), want)
	}

	w, r := f.offline()
	for _, tt := range []struct {
		name string
		err  error
		kind error
	}{
		{"no label ids", wtErr(w.AddIssueLabels(ctx, alice, f.repo, number, nil)), gitea.ErrInvalidArgument},
		{"label id 0", wtErr(w.AddIssueLabels(ctx, alice, f.repo, number, []int64{1, 0})), gitea.ErrInvalidArgument},
		{"too many label ids", wtErr(w.AddIssueLabels(ctx, alice, f.repo, number, make([]int64, 51))), gitea.ErrInvalidArgument},
		{"remove label 0", w.RemoveIssueLabel(ctx, alice, f.repo, number, 0), gitea.ErrInvalidArgument},
		{"label name with a comma", wtErr(w.LabelIDs(ctx, alice, f.repo, []string{"a,b"})), gitea.ErrInvalidArgument},
		{"empty label name", wtErr(w.LabelIDs(ctx, alice, f.repo, []string{""})), gitea.ErrInvalidArgument},
		{"read-only add", wtErr(r.AddIssueLabels(ctx, alice, f.repo, number, []int64{1})), gitea.ErrReadOnly},
		{"read-only remove", r.RemoveIssueLabel(ctx, alice, f.repo, number, 1), gitea.ErrReadOnly},
	} {
		if !errors.Is(tt.err, tt.kind) {
			t.Errorf("%s: error = %v, want %v and nothing sent", tt.name, tt.err, tt.kind)
		}
	}
}

func TestGiteaWriteTrackerRepoLabels(t *testing.T) {
	f := wtNew(t, true)
	ctx := t.Context()
	const alice = testgitea.AliceName

	created, err := f.alice.CreateLabel(ctx, alice, f.repo, gitea.LabelCreate{Name: "needs-review", Color: "#00AABB", Description: "Waiting for a reviewer"})
	if err != nil {
		t.Fatalf("CreateLabel: %v", err)
	}
	var l gitea.Label
	f.adminGet(t, fmt.Sprintf("/labels/%d", created.ID), &l)
	if l.Name != "needs-review" || l.Color != "00aabb" || l.Description != "Waiting for a reviewer" || l.Exclusive || l.IsArchived || created.Color != "00aabb" {
		t.Errorf("label reads back as %+v (CreateLabel returned %+v)", l, created)
	}
	scoped, err := f.alice.CreateLabel(ctx, alice, f.repo, gitea.LabelCreate{Name: "area/api", Color: "#123456", Exclusive: true})
	if err != nil {
		t.Fatalf("CreateLabel(exclusive): %v", err)
	}
	f.adminGet(t, fmt.Sprintf("/labels/%d", scoped.ID), &l)
	if l.Name != "area/api" || !l.Exclusive || l.Description != "" {
		t.Errorf("exclusive label reads back as %+v", l)
	}

	if _, err := f.alice.EditLabel(ctx, alice, f.repo, created.ID, gitea.LabelEdit{Name: wtPtr("in-review"), Color: wtPtr("#FF0000"), Exclusive: wtPtr(false)}); err != nil {
		t.Fatalf("EditLabel: %v", err)
	}
	f.adminGet(t, fmt.Sprintf("/labels/%d", created.ID), &l)
	if l.Name != "in-review" || l.Color != "ff0000" || l.Description != "Waiting for a reviewer" || l.Exclusive {
		t.Errorf("edited label reads back as %+v", l)
	}
	if _, err := f.alice.EditLabel(ctx, alice, f.repo, created.ID, gitea.LabelEdit{Description: wtPtr("")}); err != nil {
		t.Fatalf("EditLabel(clear description): %v", err)
	}
	f.adminGet(t, fmt.Sprintf("/labels/%d", created.ID), &l)
	if l.Name != "in-review" || l.Description != "" || l.Color != "ff0000" {
		t.Errorf("after clearing the description: %+v", l)
	}

	// Gitea un-archives a label on any edit that leaves out is_archived; EditLabel keeps it.
	if _, err := f.alice.EditLabel(ctx, alice, f.repo, created.ID, gitea.LabelEdit{Archived: wtPtr(true)}); err != nil {
		t.Fatalf("EditLabel(archive): %v", err)
	}
	f.adminGet(t, fmt.Sprintf("/labels/%d", created.ID), &l)
	if !l.IsArchived {
		t.Errorf("label not archived: %+v", l)
	}
	if _, err := f.alice.EditLabel(ctx, alice, f.repo, created.ID, gitea.LabelEdit{Description: wtPtr("Archived, still described")}); err != nil {
		t.Fatalf("EditLabel(archived label's description): %v", err)
	}
	f.adminGet(t, fmt.Sprintf("/labels/%d", created.ID), &l)
	if !l.IsArchived || l.Description != "Archived, still described" {
		t.Errorf("editing an archived label's description gave %+v, want it still archived", l)
	}
	// The Gitea behaviour EditLabel works around.
	if err := f.g.AdminDo(ctx, http.MethodPatch, fmt.Sprintf("%s/labels/%d", f.path, created.ID), "", map[string]any{"description": "raw"}, http.StatusOK, nil); err != nil {
		t.Fatal(err)
	}
	f.adminGet(t, fmt.Sprintf("/labels/%d", created.ID), &l)
	if l.IsArchived {
		t.Errorf("Gitea kept the label archived on an edit without is_archived; EditLabel's extra read may be dropped")
	}

	// Refusals by Gitea.
	_, err = f.writer(t, alice, wtReadScope).CreateLabel(ctx, alice, f.repo, gitea.LabelCreate{Name: "must-not-exist", Color: "#000000"})
	wtIs(t, "CreateLabel with read:issue only", err, gitea.ErrForbidden, http.StatusForbidden)
	if err := f.g.AddCollaborator(ctx, alice, f.repo, testgitea.BobName, "read"); err != nil {
		t.Fatal(err)
	}
	bob := f.writer(t, testgitea.BobName, wtWriteScope)
	_, err = bob.CreateLabel(ctx, alice, f.repo, gitea.LabelCreate{Name: "must-not-exist", Color: "#000000"})
	wtIs(t, "bob (reader) creating a label", err, gitea.ErrForbidden, http.StatusForbidden)
	_, err = bob.EditLabel(ctx, alice, f.repo, created.ID, gitea.LabelEdit{Name: wtPtr("bobs"), Archived: wtPtr(false)})
	wtIs(t, "bob (reader) renaming a label", err, gitea.ErrForbidden, http.StatusForbidden)
	wtIs(t, "bob (reader) deleting a label", bob.DeleteLabel(ctx, alice, f.repo, created.ID), gitea.ErrForbidden, http.StatusForbidden)
	var all []gitea.Label
	f.adminGet(t, "/labels?limit=50", &all)
	if names := wtLabelNames(all); !slices.Equal(names, []string{"area/api", "in-review"}) {
		t.Errorf("labels after refused calls: %v", names)
	}

	// Delete; a label of another repository is not found through this one.
	other := wtNew(t, true)
	foreign := other.adminCreate(t, "/labels", map[string]any{"name": "foreign", "color": "#ee0701"})
	wtIs(t, "DeleteLabel of another repository's label", f.alice.DeleteLabel(ctx, alice, f.repo, foreign), gitea.ErrNotFound, http.StatusNotFound)
	_, err = f.alice.EditLabel(ctx, alice, f.repo, foreign, gitea.LabelEdit{Name: wtPtr("moved"), Archived: wtPtr(false)})
	wtIs(t, "EditLabel of another repository's label", err, gitea.ErrNotFound, http.StatusNotFound)
	other.adminGet(t, fmt.Sprintf("/labels/%d", foreign), &l)
	if l.Name != "foreign" {
		t.Errorf("the other repository's label is %+v", l)
	}
	// The Gitea behaviour DeleteLabel works around: success, nothing deleted.
	if err := f.g.AdminDo(ctx, http.MethodDelete, fmt.Sprintf("%s/labels/%d", f.path, foreign), "", nil, http.StatusNoContent, nil); err != nil {
		t.Errorf("Gitea no longer answers 204 to deleting another repository's label: %v", err)
	}
	if err := f.alice.DeleteLabel(ctx, alice, f.repo, created.ID); err != nil {
		t.Fatalf("DeleteLabel: %v", err)
	}
	f.adminGone(t, fmt.Sprintf("/labels/%d", created.ID))
	wtIs(t, "deleting the label twice", f.alice.DeleteLabel(ctx, alice, f.repo, created.ID), gitea.ErrNotFound, http.StatusNotFound)

	w, r := f.offline()
	for _, tt := range []struct {
		name string
		err  error
		kind error
	}{
		{"no name", wtErr(w.CreateLabel(ctx, alice, f.repo, gitea.LabelCreate{Color: "#000000"})), gitea.ErrInvalidArgument},
		{"name with a comma", wtErr(w.CreateLabel(ctx, alice, f.repo, gitea.LabelCreate{Name: "a,b", Color: "#000000"})), gitea.ErrInvalidArgument},
		{"long name", wtErr(w.CreateLabel(ctx, alice, f.repo, gitea.LabelCreate{Name: strings.Repeat("a", 51), Color: "#000000"})), gitea.ErrInvalidArgument},
		{"color name", wtErr(w.CreateLabel(ctx, alice, f.repo, gitea.LabelCreate{Name: "a", Color: "red"})), gitea.ErrInvalidArgument},
		{"short color", wtErr(w.CreateLabel(ctx, alice, f.repo, gitea.LabelCreate{Name: "a", Color: "#abc"})), gitea.ErrInvalidArgument},
		{"color without #", wtErr(w.CreateLabel(ctx, alice, f.repo, gitea.LabelCreate{Name: "a", Color: "00aabb"})), gitea.ErrInvalidArgument},
		{"long description", wtErr(w.CreateLabel(ctx, alice, f.repo, gitea.LabelCreate{Name: "a", Color: "#000000", Description: strings.Repeat("d", 201)})), gitea.ErrInvalidArgument},
		{"edit nothing", wtErr(w.EditLabel(ctx, alice, f.repo, 1, gitea.LabelEdit{})), gitea.ErrInvalidArgument},
		{"edit to an empty name", wtErr(w.EditLabel(ctx, alice, f.repo, 1, gitea.LabelEdit{Name: wtPtr("")})), gitea.ErrInvalidArgument},
		{"edit to a bad color", wtErr(w.EditLabel(ctx, alice, f.repo, 1, gitea.LabelEdit{Color: wtPtr("#12345g")})), gitea.ErrInvalidArgument},
		{"edit label 0", wtErr(w.EditLabel(ctx, alice, f.repo, 0, gitea.LabelEdit{Name: wtPtr("a")})), gitea.ErrInvalidArgument},
		{"delete label 0", w.DeleteLabel(ctx, alice, f.repo, 0), gitea.ErrInvalidArgument},
		{"read-only create", wtErr(r.CreateLabel(ctx, alice, f.repo, gitea.LabelCreate{Name: "a", Color: "#000000"})), gitea.ErrReadOnly},
		{"read-only edit", wtErr(r.EditLabel(ctx, alice, f.repo, 1, gitea.LabelEdit{Name: wtPtr("a")})), gitea.ErrReadOnly},
		{"read-only delete", r.DeleteLabel(ctx, alice, f.repo, 1), gitea.ErrReadOnly},
	} {
		if !errors.Is(tt.err, tt.kind) {
			t.Errorf("%s: error = %v, want %v and nothing sent", tt.name, tt.err, tt.kind)
		}
	}
}

func TestGiteaWriteTrackerMilestones(t *testing.T) {
	f := wtNew(t, true)
	ctx := t.Context()
	const alice = testgitea.AliceName
	due := time.Date(2031, 6, 15, 12, 30, 0, 0, time.UTC)

	created, err := f.alice.CreateMilestone(ctx, alice, f.repo, gitea.MilestoneCreate{Title: "v2.0", Description: "The second release.", DueOn: &due})
	if err != nil {
		t.Fatalf("CreateMilestone: %v", err)
	}
	msPath := fmt.Sprintf("/milestones/%d", created.ID)
	var m gitea.Milestone
	f.adminGet(t, msPath, &m)
	if m.Title != "v2.0" || m.Description != "The second release." || m.State != "open" || m.DueOn == nil || !m.DueOn.Equal(due) || created.ID != m.ID {
		t.Errorf("milestone reads back as %+v (due %v), want v2.0 due %v", m, m.DueOn, due)
	}
	plain, err := f.alice.CreateMilestone(ctx, alice, f.repo, gitea.MilestoneCreate{Title: "someday"})
	if err != nil {
		t.Fatalf("CreateMilestone(no due date): %v", err)
	}
	f.adminGet(t, fmt.Sprintf("/milestones/%d", plain.ID), &m)
	if m.Title != "someday" || m.DueOn != nil || m.Description != "" {
		t.Errorf("milestone without a due date reads back as %+v", m)
	}

	// An edit that leaves the due date alone keeps its day (Gitea moves it
	// to the end of the day; without the client's extra read it would clear it).
	if _, err := f.alice.EditMilestone(ctx, alice, f.repo, created.ID, gitea.MilestoneEdit{Description: wtPtr("Renamed soon.")}); err != nil {
		t.Fatalf("EditMilestone(description): %v", err)
	}
	f.adminGet(t, msPath, &m)
	if m.Title != "v2.0" || m.Description != "Renamed soon." || m.DueOn == nil || m.DueOn.Format(time.DateOnly) != "2031-06-15" || m.State != "open" {
		t.Errorf("after editing the description: %+v (due %v), want the due day kept", m, m.DueOn)
	} else {
		t.Logf("Gitea moved the kept due date %v to %v", due, m.DueOn)
	}

	if _, err := f.alice.EditMilestone(ctx, alice, f.repo, created.ID, gitea.MilestoneEdit{State: wtPtr("closed")}); err != nil {
		t.Fatalf("EditMilestone(close): %v", err)
	}
	f.adminGet(t, msPath, &m)
	if m.State != "closed" || m.ClosedAt == nil || m.DueOn == nil {
		t.Errorf("after closing: %+v", m)
	}
	// A closed milestone can still be edited; it stays closed.
	newDue := time.Date(2032, 1, 31, 0, 0, 0, 0, time.UTC)
	edited, err := f.alice.EditMilestone(ctx, alice, f.repo, created.ID, gitea.MilestoneEdit{Title: wtPtr("v2.0 final"), DueOn: &newDue})
	if err != nil {
		t.Fatalf("EditMilestone(closed milestone's title and due date): %v", err)
	}
	f.adminGet(t, msPath, &m)
	if m.Title != "v2.0 final" || m.State != "closed" || m.DueOn == nil || m.DueOn.Format(time.DateOnly) != "2032-01-31" || edited.Title != "v2.0 final" {
		t.Errorf("after editing the closed milestone: %+v (due %v)", m, m.DueOn)
	}
	if _, err := f.alice.EditMilestone(ctx, alice, f.repo, created.ID, gitea.MilestoneEdit{DueOn: &time.Time{}, State: wtPtr("open")}); err != nil {
		t.Fatalf("EditMilestone(clear due date, reopen): %v", err)
	}
	f.adminGet(t, msPath, &m)
	if m.DueOn != nil || m.State != "open" || m.Title != "v2.0 final" {
		t.Errorf("after clearing the due date and reopening: %+v (due %v)", m, m.DueOn)
	}

	// Gitea reads a number that is no milestone's id as a title: the
	// client refuses to follow it.
	const number = 987654
	titled := f.adminCreate(t, "/milestones", map[string]any{"title": fmt.Sprint(number)})
	if err := f.g.AdminGet(ctx, fmt.Sprintf("%s/milestones/%d", f.path, number), http.StatusOK, &m); err != nil || m.ID != titled {
		t.Errorf("Gitea no longer falls back to the milestone titled %d: %+v, %v", number, m, err)
	}
	wtIs(t, "DeleteMilestone of an id only a title matches", f.alice.DeleteMilestone(ctx, alice, f.repo, number), gitea.ErrNotFound, 0)
	_, err = f.alice.EditMilestone(ctx, alice, f.repo, number, gitea.MilestoneEdit{State: wtPtr("closed")})
	wtIs(t, "EditMilestone of an id only a title matches", err, gitea.ErrNotFound, 0)
	f.adminGet(t, fmt.Sprintf("/milestones/%d", titled), &m)
	if m.Title != fmt.Sprint(number) || m.State != "open" {
		t.Errorf("the milestone titled %d changed: %+v", number, m)
	}

	// Refusals by Gitea.
	_, err = f.writer(t, alice, wtReadScope).CreateMilestone(ctx, alice, f.repo, gitea.MilestoneCreate{Title: "must not exist"})
	wtIs(t, "CreateMilestone with read:issue only", err, gitea.ErrForbidden, http.StatusForbidden)
	_, err = f.writer(t, alice, wtReadScope).EditMilestone(ctx, alice, f.repo, created.ID, gitea.MilestoneEdit{State: wtPtr("closed")})
	wtIs(t, "EditMilestone with read:issue only", err, gitea.ErrForbidden, http.StatusForbidden)
	bob := f.writer(t, testgitea.BobName, wtWriteScope)
	_, err = bob.CreateMilestone(ctx, alice, f.repo, gitea.MilestoneCreate{Title: "must not exist"})
	wtIs(t, "bob creating a milestone in alice's private repository", err, gitea.ErrNotFound, http.StatusNotFound)
	wtIs(t, "bob deleting a milestone in alice's private repository", bob.DeleteMilestone(ctx, alice, f.repo, created.ID), gitea.ErrNotFound, http.StatusNotFound)
	var all []gitea.Milestone
	f.adminGet(t, "/milestones?state=all", &all)
	if len(all) != 3 {
		t.Errorf("%d milestones after refused calls, want 3", len(all))
	}

	if err := f.alice.DeleteMilestone(ctx, alice, f.repo, created.ID); err != nil {
		t.Fatalf("DeleteMilestone: %v", err)
	}
	f.adminGone(t, msPath)
	wtIs(t, "deleting the milestone twice", f.alice.DeleteMilestone(ctx, alice, f.repo, created.ID), gitea.ErrNotFound, http.StatusNotFound)
	_, err = f.alice.EditMilestone(ctx, alice, f.repo, created.ID, gitea.MilestoneEdit{Title: wtPtr("too late")})
	wtIs(t, "editing a deleted milestone", err, gitea.ErrNotFound, http.StatusNotFound)

	w, r := f.offline()
	for _, tt := range []struct {
		name string
		err  error
		kind error
	}{
		{"no title", wtErr(w.CreateMilestone(ctx, alice, f.repo, gitea.MilestoneCreate{})), gitea.ErrInvalidArgument},
		{"long title", wtErr(w.CreateMilestone(ctx, alice, f.repo, gitea.MilestoneCreate{Title: strings.Repeat("t", 51)})), gitea.ErrInvalidArgument},
		{"zero due date", wtErr(w.CreateMilestone(ctx, alice, f.repo, gitea.MilestoneCreate{Title: "t", DueOn: &time.Time{}})), gitea.ErrInvalidArgument},
		{"edit nothing", wtErr(w.EditMilestone(ctx, alice, f.repo, 1, gitea.MilestoneEdit{})), gitea.ErrInvalidArgument},
		{"edit to state done", wtErr(w.EditMilestone(ctx, alice, f.repo, 1, gitea.MilestoneEdit{State: wtPtr("done")})), gitea.ErrInvalidArgument},
		{"edit to a blank title", wtErr(w.EditMilestone(ctx, alice, f.repo, 1, gitea.MilestoneEdit{Title: wtPtr(" ")})), gitea.ErrInvalidArgument},
		{"edit milestone 0", wtErr(w.EditMilestone(ctx, alice, f.repo, 0, gitea.MilestoneEdit{State: wtPtr("open")})), gitea.ErrInvalidArgument},
		{"delete milestone 0", w.DeleteMilestone(ctx, alice, f.repo, 0), gitea.ErrInvalidArgument},
		{"read-only create", wtErr(r.CreateMilestone(ctx, alice, f.repo, gitea.MilestoneCreate{Title: "t"})), gitea.ErrReadOnly},
		{"read-only edit", wtErr(r.EditMilestone(ctx, alice, f.repo, 1, gitea.MilestoneEdit{State: wtPtr("open")})), gitea.ErrReadOnly},
		{"read-only delete", r.DeleteMilestone(ctx, alice, f.repo, 1), gitea.ErrReadOnly},
	} {
		if !errors.Is(tt.err, tt.kind) {
			t.Errorf("%s: error = %v, want %v and nothing sent", tt.name, tt.err, tt.kind)
		}
	}
}
