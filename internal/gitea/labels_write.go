package gitea

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"
)

// Limits on repository labels and milestones, as Gitea's own forms set them.
const (
	maxNewLabelNameLen    = 50
	maxLabelDescLen       = 200
	maxMilestoneTitleLen  = 50
	maxLabelLookupPages   = 20 // LabelIDs reads at most this many pages of MaxPageSize labels
	labelColorDescription = `color must be "#rrggbb" (six hex digits)`
)

var labelColorPattern = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

// LabelCreate is a new repository label.
type LabelCreate struct {
	// Name is required: 1-50 bytes, without commas or control characters.
	Name string
	// Color is "#rrggbb". Gitea stores it in lower case and answers it
	// without the "#".
	Color string
	// Description is at most 200 bytes; it may be empty.
	Description string
	// Exclusive makes a scoped label ("kind/bug"): an issue carries at most
	// one label of each scope.
	Exclusive bool
}

type createLabelBody struct {
	Name        string `json:"name"`
	Color       string `json:"color"`
	Description string `json:"description"`
	Exclusive   bool   `json:"exclusive"`
}

// CreateLabel adds a label to owner/repo and returns it. Only users who
// may write the repository's issues or pull requests may ([ErrForbidden]).
// Gitea does not refuse a second label with the same name.
func (c *Client) CreateLabel(ctx context.Context, owner, repo string, in LabelCreate) (*Label, error) {
	const op = "POST /api/v1/repos/{owner}/{repo}/labels"
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if err := checkNewLabelName(in.Name); err != nil {
		return nil, err
	}
	if !labelColorPattern.MatchString(in.Color) {
		return nil, invalid(labelColorDescription)
	}
	if err := checkLabelDescription(in.Description); err != nil {
		return nil, err
	}
	body := createLabelBody(in)
	var l Label
	if _, err := c.send(ctx, http.MethodPost, op, p+"/labels", nil, body, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// LabelEdit changes a repository label. Nil fields are left as they are;
// at least one must be set.
type LabelEdit struct {
	Name        *string // 1-50 bytes, without commas or control characters
	Color       *string // "#rrggbb"
	Description *string // at most 200 bytes; empty clears it
	Exclusive   *bool
	// Archived hides the label from the label pickers (it stays on issues).
	Archived *bool
}

type editLabelBody struct {
	Name        *string `json:"name,omitempty"`
	Color       *string `json:"color,omitempty"`
	Description *string `json:"description,omitempty"`
	Exclusive   *bool   `json:"exclusive,omitempty"`
	Archived    bool    `json:"is_archived"`
}

// EditLabel changes label id of owner/repo and returns it. Only users who
// may write the repository's issues or pull requests may ([ErrForbidden]).
// Gitea un-archives a label whenever an edit leaves out is_archived, so
// when Archived is nil the label is read first and its archived state sent
// back unchanged; a label that is not one of owner/repo's is an
// [ErrNotFound] error.
func (c *Client) EditLabel(ctx context.Context, owner, repo string, id int64, in LabelEdit) (*Label, error) {
	const op = "PATCH /api/v1/repos/{owner}/{repo}/labels/{id}"
	p, err := labelPath(owner, repo, id)
	if err != nil {
		return nil, err
	}
	if in.Name == nil && in.Color == nil && in.Description == nil && in.Exclusive == nil && in.Archived == nil {
		return nil, invalid("nothing to change: set name, color, description, exclusive or archived")
	}
	body := editLabelBody{Name: in.Name, Color: in.Color, Description: in.Description, Exclusive: in.Exclusive}
	if in.Name != nil {
		if err := checkNewLabelName(*in.Name); err != nil {
			return nil, err
		}
	}
	if in.Color != nil && !labelColorPattern.MatchString(*in.Color) {
		return nil, invalid(labelColorDescription)
	}
	if in.Description != nil {
		if err := checkLabelDescription(*in.Description); err != nil {
			return nil, err
		}
	}
	if err := c.checkTrackerWrite(op); err != nil {
		return nil, err
	}
	if in.Archived != nil {
		body.Archived = *in.Archived
	} else {
		cur, err := c.repoLabel(ctx, p)
		if err != nil {
			return nil, err
		}
		body.Archived = cur.IsArchived
	}
	var l Label
	if _, err := c.send(ctx, http.MethodPatch, op, p, nil, body, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// DeleteLabel deletes label id of owner/repo, removing it from every issue.
// Only users who may write the repository's issues or pull requests may
// ([ErrForbidden]). Gitea answers success for any id, even another
// repository's label (which it leaves alone), so the label is read first:
// one that is not owner/repo's is an [ErrNotFound] error.
func (c *Client) DeleteLabel(ctx context.Context, owner, repo string, id int64) error {
	const op = "DELETE /api/v1/repos/{owner}/{repo}/labels/{id}"
	p, err := labelPath(owner, repo, id)
	if err != nil {
		return err
	}
	if err := c.checkTrackerWrite(op); err != nil {
		return err
	}
	if _, err := c.repoLabel(ctx, p); err != nil {
		return err
	}
	_, err = c.send(ctx, http.MethodDelete, op, p, nil, nil, nil)
	return err
}

// LabelIDs resolves label names to the ids of owner/repo's own labels
// (not its organization's), by exact, case-sensitive match: ids[i] is the
// id of names[i]. It reads at most 20 pages of labels and sends nothing
// else. A name that matches no label, or more than one, is an
// [ErrInvalidArgument] error naming the first such label.
func (c *Client) LabelIDs(ctx context.Context, owner, repo string, names []string) ([]int64, error) {
	if _, err := repoPath(owner, repo); err != nil {
		return nil, err
	}
	if len(names) > maxIssueLabelIDs {
		return nil, invalid("labels: at most %d names", maxIssueLabelIDs)
	}
	for _, n := range names {
		if err := checkLabelName(n); err != nil {
			return nil, err
		}
	}
	if len(names) == 0 {
		return []int64{}, nil
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	found := map[string][]int64{}
	complete := false
	for page := 1; page <= maxLabelLookupPages; {
		labels, info, err := c.RepoLabels(ctx, owner, repo, ListOptions{Page: page, Limit: MaxPageSize})
		if err != nil {
			return nil, err
		}
		for _, l := range labels {
			if want[l.Name] {
				found[l.Name] = append(found[l.Name], l.ID)
			}
		}
		if info.NextPage == 0 || len(labels) == 0 {
			complete = true
			break
		}
		page = info.NextPage
	}
	ids := make([]int64, len(names))
	for i, n := range names {
		switch got := found[n]; {
		case len(got) == 1:
			ids[i] = got[0]
		case len(got) > 1:
			return nil, invalid("label %q names %d labels of %s/%s; use a label id", n, len(got), owner, repo)
		case complete:
			return nil, invalid("label %q is not a label of %s/%s", n, owner, repo)
		default:
			return nil, invalid("label %q is not among the first %d labels of %s/%s", n, maxLabelLookupPages*MaxPageSize, owner, repo)
		}
	}
	return ids, nil
}

// MilestoneCreate is a new milestone.
type MilestoneCreate struct {
	// Title is required: 1-50 bytes, not only spaces, without control characters.
	Title string
	// Description is Markdown; it may be empty.
	Description string
	// DueOn is the due date; nil means none. Gitea keeps the exact time.
	DueOn *time.Time
}

type createMilestoneBody struct {
	Title       string     `json:"title"`
	Description string     `json:"description"`
	DueOn       *time.Time `json:"due_on,omitempty"`
}

// CreateMilestone adds an open milestone to owner/repo and returns it.
// Only users who may write the repository's issues or pull requests may
// ([ErrForbidden]). Gitea does not refuse a second milestone with the same
// title.
func (c *Client) CreateMilestone(ctx context.Context, owner, repo string, in MilestoneCreate) (*Milestone, error) {
	const op = "POST /api/v1/repos/{owner}/{repo}/milestones"
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if err := checkTrackerTitle("title", in.Title, maxMilestoneTitleLen); err != nil {
		return nil, err
	}
	if err := checkTrackerBody("description", in.Description, false); err != nil {
		return nil, err
	}
	if err := checkDueOn(in.DueOn, false); err != nil {
		return nil, err
	}
	body := createMilestoneBody(in)
	var m Milestone
	if _, err := c.send(ctx, http.MethodPost, op, p+"/milestones", nil, body, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// MilestoneEdit changes a milestone. Nil fields are left as they are; at
// least one must be set.
type MilestoneEdit struct {
	Title       *string // 1-50 bytes, not only spaces
	Description *string // empty clears it
	// DueOn, when set, is the new due date; the zero time clears it. Gitea
	// moves an edited due date to 23:59:59 of its day, in Gitea's time zone.
	DueOn *time.Time
	State *string // "open" or "closed"
}

type editMilestoneBody struct {
	Title       string     `json:"title,omitempty"`
	Description *string    `json:"description,omitempty"`
	DueOn       *time.Time `json:"due_on,omitempty"`
	State       *string    `json:"state,omitempty"`
}

// EditMilestone changes milestone id of owner/repo and returns it. Only
// users who may write the repository's issues or pull requests may
// ([ErrForbidden]). Gitea clears the due date whenever an edit leaves out
// due_on, so when DueOn is nil the milestone is read first and its due
// date sent back (Gitea then moves it to 23:59:59 of that day). A
// milestone that is not owner/repo's is an [ErrNotFound] error.
func (c *Client) EditMilestone(ctx context.Context, owner, repo string, id int64, in MilestoneEdit) (*Milestone, error) {
	const op = "PATCH /api/v1/repos/{owner}/{repo}/milestones/{id}"
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if id < 1 {
		return nil, invalid("milestone id must be positive")
	}
	if in.Title == nil && in.Description == nil && in.DueOn == nil && in.State == nil {
		return nil, invalid("nothing to change: set title, description, due date or state")
	}
	body := editMilestoneBody{Description: in.Description, State: in.State}
	if in.Title != nil {
		if err := checkTrackerTitle("title", *in.Title, maxMilestoneTitleLen); err != nil {
			return nil, err
		}
		body.Title = *in.Title
	}
	if in.Description != nil {
		if err := checkTrackerBody("description", *in.Description, false); err != nil {
			return nil, err
		}
	}
	if err := checkDueOn(in.DueOn, true); err != nil {
		return nil, err
	}
	if in.State != nil && *in.State != "open" && *in.State != "closed" {
		return nil, invalid("state must be open or closed")
	}
	if err := c.checkTrackerWrite(op); err != nil {
		return nil, err
	}
	// Read it first in any case: Gitea would otherwise fall back to the
	// milestone titled like the id.
	cur, err := c.milestoneByID(ctx, p, id)
	if err != nil {
		return nil, err
	}
	body.DueOn = in.DueOn
	if in.DueOn == nil {
		body.DueOn = cur.DueOn
	}
	var m Milestone
	if _, err := c.send(ctx, http.MethodPatch, op, p+"/milestones/"+strconv.FormatInt(id, 10), nil, body, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// DeleteMilestone deletes milestone id of owner/repo; its issues lose
// their milestone. Only users who may write the repository's issues or
// pull requests may ([ErrForbidden]). The milestone is read first, as
// Gitea falls back to deleting the milestone titled like the id when no
// milestone has that id: one that is not owner/repo's is an [ErrNotFound]
// error.
func (c *Client) DeleteMilestone(ctx context.Context, owner, repo string, id int64) error {
	const op = "DELETE /api/v1/repos/{owner}/{repo}/milestones/{id}"
	p, err := repoPath(owner, repo)
	if err != nil {
		return err
	}
	if id < 1 {
		return invalid("milestone id must be positive")
	}
	if err := c.checkTrackerWrite(op); err != nil {
		return err
	}
	if _, err := c.milestoneByID(ctx, p, id); err != nil {
		return err
	}
	_, err = c.send(ctx, http.MethodDelete, op, p+"/milestones/"+strconv.FormatInt(id, 10), nil, nil, nil)
	return err
}

// milestoneByID reads milestone id of the repository at API path p. Gitea
// answers a number that is no milestone's id with the milestone titled
// like it, if any; that counts as not found.
func (c *Client) milestoneByID(ctx context.Context, p string, id int64) (*Milestone, error) {
	const op = "GET /api/v1/repos/{owner}/{repo}/milestones/{id}"
	var m Milestone
	if _, err := c.get(ctx, op, p+"/milestones/"+strconv.FormatInt(id, 10), nil, &m); err != nil {
		return nil, err
	}
	if m.ID != id {
		return nil, &APIError{Op: op, kind: ErrNotFound}
	}
	return &m, nil
}

// repoLabel reads the label at API path p (see labelPath).
func (c *Client) repoLabel(ctx context.Context, p string) (*Label, error) {
	var l Label
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/labels/{id}", p, nil, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// labelPath is the API path of label id of owner/repo.
func labelPath(owner, repo string, id int64) (string, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return "", err
	}
	if id < 1 {
		return "", invalid("label id must be positive")
	}
	return p + "/labels/" + strconv.FormatInt(id, 10), nil
}

// checkNewLabelName accepts a name for a new or renamed label: what
// checkLabelName accepts, within the length Gitea's form allows, not only
// spaces.
func checkNewLabelName(name string) error {
	if err := checkLabelName(name); err != nil {
		return err
	}
	return checkTrackerTitle("label", name, maxNewLabelNameLen)
}

func checkLabelDescription(s string) error {
	if len(s) > maxLabelDescLen || hasControl(s) || !utf8.ValidString(s) {
		return invalid("description must be valid UTF-8 of at most %d bytes without control characters", maxLabelDescLen)
	}
	return nil
}

// checkDueOn accepts no due date or one in years 1970-9999; clearing
// accepts the zero time too (it clears the due date of an edited milestone).
func checkDueOn(t *time.Time, clearing bool) error {
	switch {
	case t == nil, clearing && t.IsZero():
		return nil
	case t.Year() < 1970 || t.Year() > 9999:
		return invalid("due date must be between 1970 and 9999")
	}
	return nil
}
