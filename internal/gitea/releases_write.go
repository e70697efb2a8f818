package gitea

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxReleaseNameLen is where Gitea starts cutting a release title short.
const maxReleaseNameLen = 255

// ReleaseCreate is a new release.
type ReleaseCreate struct {
	// TagName is the release's tag. A tag that does not exist yet is created
	// at Target when the release is published (not while it is a draft); an
	// existing tag without a release becomes this release.
	TagName string
	// Target is the branch or commit SHA a new tag points at; empty means
	// the default branch. Gitea ignores it for an existing tag.
	Target     string
	Name       string
	Body       string // the release notes, Markdown
	Draft      bool
	Prerelease bool
}

// ReleaseEdit changes a release; nil fields are left as they are. Gitea
// ignores an empty string, so a name, notes, tag or target cannot be
// cleared: an empty string is refused here rather than silently dropped.
type ReleaseEdit struct {
	// TagName renames the release's tag: a published release gets a new tag
	// at Target; the old tag stays in the repository.
	TagName    *string
	Target     *string
	Name       *string
	Body       *string
	Draft      *bool // false publishes a draft, creating its tag
	Prerelease *bool
}

// releaseOption is Gitea's CreateReleaseOption and EditReleaseOption.
type releaseOption struct {
	TagName    string `json:"tag_name,omitempty"`
	Target     string `json:"target_commitish,omitempty"`
	Name       string `json:"name,omitempty"`
	Body       string `json:"body,omitempty"`
	Draft      *bool  `json:"draft,omitempty"`
	Prerelease *bool  `json:"prerelease,omitempty"`
}

// CreateRelease creates a release of owner/repo. A tag that already has a
// release answers ErrConflict (Gitea compares tags ignoring case), a Target
// that does not exist ErrNotFound.
func (c *Client) CreateRelease(ctx context.Context, owner, repo string, r ReleaseCreate) (*Release, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if err := checkNewTag("tag_name", r.TagName); err != nil {
		return nil, err
	}
	if r.Target != "" {
		if err := checkNewTag("target", r.Target); err != nil {
			return nil, err
		}
	}
	if err := checkReleaseName(r.Name); err != nil {
		return nil, err
	}
	if err := checkProse("body", r.Body, maxProseLen); err != nil {
		return nil, err
	}
	body := releaseOption{TagName: r.TagName, Target: r.Target, Name: r.Name, Body: r.Body, Draft: &r.Draft, Prerelease: &r.Prerelease}
	var rel Release
	if _, err := c.send(ctx, http.MethodPost, "POST /api/v1/repos/{owner}/{repo}/releases", p+"/releases", nil, body, &rel); err != nil {
		return nil, err
	}
	return &rel, nil
}

// EditRelease changes release id of owner/repo. A release id that is only a
// tag (its release was deleted) answers ErrNotFound.
func (c *Client) EditRelease(ctx context.Context, owner, repo string, id int64, e ReleaseEdit) (*Release, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if id < 1 {
		return nil, invalid("id must be a positive release id")
	}
	if e == (ReleaseEdit{}) {
		return nil, invalid("nothing to change: set at least one field")
	}
	var body releaseOption
	for _, f := range []struct {
		name  string
		value *string
		check func(string, string) error
		dst   *string
	}{
		{"tag_name", e.TagName, checkNewTag, &body.TagName},
		{"target", e.Target, checkNewTag, &body.Target},
		{"name", e.Name, func(_, s string) error { return checkReleaseName(s) }, &body.Name},
		{"body", e.Body, func(what, s string) error { return checkProse(what, s, maxProseLen) }, &body.Body},
	} {
		if f.value == nil {
			continue
		}
		if *f.value == "" {
			return nil, invalid("%s cannot be emptied: Gitea ignores an empty %s; leave it unset to keep it", f.name, f.name)
		}
		if err := f.check(f.name, *f.value); err != nil {
			return nil, err
		}
		*f.dst = *f.value
	}
	body.Draft, body.Prerelease = e.Draft, e.Prerelease
	var rel Release
	if _, err := c.send(ctx, http.MethodPatch, "PATCH /api/v1/repos/{owner}/{repo}/releases/{id}",
		p+"/releases/"+strconv.FormatInt(id, 10), nil, body, &rel); err != nil {
		return nil, err
	}
	return &rel, nil
}

// DeleteRelease deletes release id of owner/repo and its assets. Gitea
// keeps the release's git tag.
func (c *Client) DeleteRelease(ctx context.Context, owner, repo string, id int64) error {
	p, err := repoPath(owner, repo)
	if err != nil {
		return err
	}
	if id < 1 {
		return invalid("id must be a positive release id")
	}
	_, err = c.send(ctx, http.MethodDelete, "DELETE /api/v1/repos/{owner}/{repo}/releases/{id}",
		p+"/releases/"+strconv.FormatInt(id, 10), nil, nil, nil)
	return err
}

// checkNewTag accepts a tag, branch or commit name Gitea can create or
// resolve: a git ref name (see checkReleaseTag) that does not start with
// '-' (Gitea strips a leading "--" from a new tag, so the tag would get
// another name) nor have a segment starting with '.' or ending in ".lock"
// (git refuses those, and Gitea then fails with a server error).
func checkNewTag(what, s string) error {
	if err := checkReleaseTag(s); err != nil {
		return invalid("%s must be a git ref name of 1-%d bytes, e.g. v1.2.0 or main", what, maxRefLen)
	}
	bad := strings.HasPrefix(s, "-") || strings.HasSuffix(s, ".")
	for seg := range strings.SplitSeq(s, "/") {
		bad = bad || seg == "" || strings.HasPrefix(seg, ".") || strings.HasSuffix(seg, ".lock")
	}
	if bad {
		return invalid("%s must be a git ref name: no leading '-', no empty segment, no segment starting with '.' or ending in '.lock'", what)
	}
	return nil
}

func checkReleaseName(s string) error {
	if len(s) > maxReleaseNameLen || !utf8.ValidString(s) || hasControl(s) {
		return invalid("name must be at most %d bytes of text without control characters", maxReleaseNameLen)
	}
	return nil
}
