package gitea

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// maxWikiMessageLen bounds a wiki commit message.
const maxWikiMessageLen = 64 << 10

// wikiReservedNames are the page names Gitea keeps for its own wiki routes.
var wikiReservedNames = []string{"_pages", "_new", "_edit", "raw"}

// subURLPattern is the alphabet of a sub_url: what url.QueryEscape produces.
var subURLPattern = regexp.MustCompile(`^[A-Za-z0-9._~+%-]+$`)

// WikiPageWrite is the new state of a wiki page.
type WikiPageWrite struct {
	// Title is the page's title; Gitea derives its sub_url from it (see
	// WikiSubURL). For an edit, a different title renames the page, and an
	// empty one keeps it.
	Title string
	// Content is the page's whole Markdown; it replaces the old content.
	Content string
	// Message is the commit message; empty means Gitea's default.
	Message string
}

// wikiPageOption is Gitea's CreateWikiPageOptions.
type wikiPageOption struct {
	Title         string `json:"title"`
	ContentBase64 string `json:"content_base64"`
	Message       string `json:"message,omitempty"`
}

func (w WikiPageWrite) check(needTitle bool) error {
	if needTitle || w.Title != "" {
		if err := checkWikiTitle(w.Title); err != nil {
			return err
		}
	}
	if err := checkProse("content", w.Content, maxProseLen); err != nil {
		return err
	}
	return checkProse("message", w.Message, maxWikiMessageLen)
}

func (w WikiPageWrite) option(title string) wikiPageOption {
	return wikiPageOption{Title: title, ContentBase64: base64.StdEncoding.EncodeToString([]byte(w.Content)), Message: w.Message}
}

// CreateWikiPage adds a page to owner/repo's wiki. A page whose title maps
// to the sub_url of an existing page answers ErrConflict.
func (c *Client) CreateWikiPage(ctx context.Context, owner, repo string, w WikiPageWrite) (*WikiPage, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	if err := w.check(true); err != nil {
		return nil, err
	}
	const op = "POST /api/v1/repos/{owner}/{repo}/wiki/new"
	var page WikiPage
	_, err = c.send(ctx, http.MethodPost, op, p+"/wiki/new", nil, w.option(w.Title), &page)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest {
		// Gitea answers 400 for a page that already exists; the other
		// causes of a 400 (no title, a reserved name, bad base64) are
		// refused above. Tell the two apart by looking.
		if _, gerr := c.wikiPage(ctx, p, WikiSubURL(w.Title)); gerr == nil {
			return nil, &APIError{Op: op, Status: apiErr.Status, kind: ErrConflict}
		}
	}
	if err != nil {
		return nil, err
	}
	return &page, nil
}

// EditWikiPage replaces the content of the page of owner/repo's wiki called
// name (its sub_url, or its title; see WikiSubURL) and, when w.Title maps
// to another sub_url, renames it. Gitea itself would create a missing page,
// rename a page edited without a title to "unnamed" and overwrite the page
// a rename lands on; this method answers ErrNotFound and ErrConflict
// instead, checking with a read first.
func (c *Client) EditWikiPage(ctx context.Context, owner, repo, name string, w WikiPageWrite) (*WikiPage, error) {
	const op = "PATCH /api/v1/repos/{owner}/{repo}/wiki/page/{pageName}"
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	segment, err := wikiSegment(name)
	if err != nil {
		return nil, err
	}
	if err := w.check(false); err != nil {
		return nil, err
	}
	if !c.writes { // refuse before the reads below, not after
		return nil, &APIError{Op: op, kind: ErrReadOnly}
	}
	old, err := c.wikiPage(ctx, p, segment)
	if err != nil {
		return nil, err
	}
	title := w.Title
	if title == "" {
		title = old.Title
		if WikiSubURL(title) != old.SubURL {
			return nil, invalid("title is required for this page: Gitea cannot keep its name without one")
		}
	}
	if to := WikiSubURL(title); to != old.SubURL {
		_, err := c.wikiPage(ctx, p, to)
		if err == nil {
			return nil, &APIError{Op: op, kind: ErrConflict}
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	var page WikiPage
	if _, err := c.send(ctx, http.MethodPatch, op, p+"/wiki/page/"+segment, nil, w.option(title), &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// DeleteWikiPage deletes the page of owner/repo's wiki called name (its
// sub_url, or its title; see WikiSubURL).
func (c *Client) DeleteWikiPage(ctx context.Context, owner, repo, name string) error {
	p, err := repoPath(owner, repo)
	if err != nil {
		return err
	}
	segment, err := wikiSegment(name)
	if err != nil {
		return err
	}
	_, err = c.send(ctx, http.MethodDelete, "DELETE /api/v1/repos/{owner}/{repo}/wiki/page/{pageName}", p+"/wiki/page/"+segment, nil, nil, nil)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusInternalServerError {
		// Gitea fails with a server error when the wiki has no page at
		// all: say not found when that is why.
		if _, gerr := c.wikiPage(ctx, p, segment); errors.Is(gerr, ErrNotFound) {
			return gerr
		}
	}
	return err
}

func (c *Client) wikiPage(ctx context.Context, repoPath, segment string) (*WikiPage, error) {
	var page WikiPage
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/wiki/page/{pageName}", repoPath+"/wiki/page/"+segment, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// WikiSubURL returns the sub_url Gitea gives a page titled title: spaces
// become '-', unless the title holds a '-' or ends in ".md", when it gets
// the suffix ".-" instead; the result is query-escaped. "Deployment Guide"
// becomes Deployment-Guide, "2024-01 plan" becomes 2024-01+plan.-.
func WikiSubURL(title string) string {
	t := strings.TrimSpace(title)
	if strings.Contains(t, "-") || strings.HasSuffix(t, ".md") {
		t += ".-"
	} else {
		t = strings.ReplaceAll(t, " ", "-")
	}
	return url.QueryEscape(t)
}

// wikiTitle is the inverse of WikiSubURL: the title Gitea shows for a
// sub_url, or false when s is not a sub_url in Gitea's form.
func wikiTitle(s string) (string, bool) {
	if !subURLPattern.MatchString(s) {
		return "", false
	}
	t, marked := strings.CutSuffix(s, ".-")
	if !marked {
		t = strings.ReplaceAll(t, "-", " ")
	}
	t, err := url.QueryUnescape(t)
	if err != nil || WikiSubURL(t) != s {
		return "", false
	}
	return t, true
}

// wikiSegment turns a page's sub_url or title into the path segment Gitea
// expects: a name already in sub_url form is taken as one, so a title such
// as "My-Page", whose sub_url is My-Page.-, must be given as its sub_url.
// The segment holds only characters url.QueryEscape produces: no '/', '?'
// or '#'.
func wikiSegment(name string) (string, error) {
	title, isSubURL := wikiTitle(name)
	if !isSubURL {
		title = name
	}
	if err := checkWikiTitle(title); err != nil {
		return "", invalid("page must be a wiki page sub_url or title of 1-%d bytes without slashes or control characters", maxWikiNameLen)
	}
	if isSubURL {
		return name, nil
	}
	return WikiSubURL(name), nil
}

// checkWikiTitle accepts a title Gitea can turn into a page of its own: not
// empty, no slash (Gitea would make it %2F, a page this client cannot
// name), not one of the names Gitea reserves.
func checkWikiTitle(title string) error {
	t := strings.TrimSpace(title)
	if t == "" || len(title) > maxWikiNameLen || hasControl(title) || strings.ContainsAny(t, `/\`) || t == "." || t == ".." {
		return invalid("title must be 1-%d bytes without slashes or control characters", maxWikiNameLen)
	}
	if slices.Contains(wikiReservedNames, t) {
		return invalid("title must not be one of Gitea's reserved wiki names %s", strings.Join(wikiReservedNames, ", "))
	}
	return nil
}
