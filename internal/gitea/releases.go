package gitea

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Release is a Gitea release (fields we use only).
type Release struct {
	ID          int64        `json:"id"`
	TagName     string       `json:"tag_name"`
	Target      string       `json:"target_commitish"`
	Name        string       `json:"name"`
	Body        string       `json:"body"`
	Draft       bool         `json:"draft"`
	Prerelease  bool         `json:"prerelease"`
	Author      User         `json:"author"`
	HTMLURL     string       `json:"html_url"`
	CreatedAt   time.Time    `json:"created_at"`
	PublishedAt time.Time    `json:"published_at"`
	Assets      []Attachment `json:"assets"`
}

// Attachment is a file attached to a release.
type Attachment struct {
	ID            int64     `json:"id"`
	Name          string    `json:"name"`
	Size          int64     `json:"size"`
	DownloadCount int64     `json:"download_count"`
	DownloadURL   string    `json:"browser_download_url"`
	CreatedAt     time.Time `json:"created_at"`
}

// ListReleases lists the releases of owner/repo, newest first. Drafts are
// included only for tokens that may write the repository.
func (c *Client) ListReleases(ctx context.Context, owner, repo string, opts ListOptions) ([]Release, PageInfo, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	var rels []Release
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/releases", p+"/releases", opts.query(), &rels)
	if err != nil {
		return nil, PageInfo{}, err
	}
	return rels, pageInfo(h, opts, len(rels)), nil
}

// Release returns release id of owner/repo.
func (c *Client) Release(ctx context.Context, owner, repo string, id int64) (*Release, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if id < 1 {
		return nil, invalid("id must be a positive release id")
	}
	var r Release
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/releases/{id}", p+"/releases/"+strconv.FormatInt(id, 10), nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// LatestRelease returns the newest release of owner/repo that is neither a
// draft nor a prerelease.
func (c *Client) LatestRelease(ctx context.Context, owner, repo string) (*Release, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	var r Release
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/releases/latest", p+"/releases/latest", nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ReleaseByTag returns the release of owner/repo for tag.
func (c *Client) ReleaseByTag(ctx context.Context, owner, repo, tag string) (*Release, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if err := checkReleaseTag(tag); err != nil {
		return nil, err
	}
	var r Release
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/releases/tags/{tag}", p+"/releases/tags/"+url.PathEscape(tag), nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// checkReleaseTag accepts a plausible git tag name (see git check-ref-format). It
// is sent as one escaped path segment, so a '/' inside it stays in the name.
func checkReleaseTag(tag string) error {
	if tag == "" || len(tag) > maxRefLen || hasControl(tag) || strings.ContainsAny(tag, " ~^:?*[\\") ||
		strings.Contains(tag, "..") || strings.Contains(tag, "@{") || strings.HasPrefix(tag, "/") || strings.HasSuffix(tag, "/") {
		return invalid("tag must be a git tag name of 1-%d bytes, e.g. v1.2.0", maxRefLen)
	}
	return nil
}
