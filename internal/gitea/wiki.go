package gitea

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxWikiNameLen bounds a wiki page name.
const maxWikiNameLen = 255

// WikiPageMeta is a wiki page in a list.
type WikiPageMeta struct {
	Title      string     `json:"title"`
	SubURL     string     `json:"sub_url"` // the page's name in URLs, e.g. Getting-Started
	HTMLURL    string     `json:"html_url"`
	LastCommit WikiCommit `json:"last_commit"`
}

// WikiCommit is the last commit that changed a wiki page.
type WikiCommit struct {
	SHA     string `json:"sha"`
	Message string `json:"message"`
	Author  struct {
		Name string    `json:"name"`
		Date time.Time `json:"date"`
	} `json:"author"`
}

// WikiPage is a wiki page with its content.
type WikiPage struct {
	WikiPageMeta
	// ContentBase64 is the page's Markdown, base64-encoded; Gitea leaves it
	// empty for pages over its blob size limit.
	ContentBase64 string `json:"content_base64"`
	CommitCount   int64  `json:"commit_count"`
}

// Content returns the page's decoded Markdown.
func (p *WikiPage) Content() (string, error) {
	b, err := base64.StdEncoding.DecodeString(p.ContentBase64)
	if err != nil {
		return "", fmt.Errorf("%w: wiki content is not valid base64", ErrBadResponse)
	}
	return string(b), nil
}

// ListWikiPages lists the pages of owner/repo's wiki. A repository whose wiki
// has no page, or is disabled, answers ErrNotFound, like one that is not visible.
func (c *Client) ListWikiPages(ctx context.Context, owner, repo string, opts ListOptions) ([]WikiPageMeta, PageInfo, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, PageInfo{}, err
	}
	opts = opts.normalized()
	// Gitea reads limit=1 as "the default page size"; a page of one is
	// taken from a page of two.
	ask, pick := opts, -1
	if opts.Limit == 1 {
		ask = ListOptions{Page: (opts.Page-1)/2 + 1, Limit: 2}
		pick = (opts.Page - 1) % 2
	}
	var pages []WikiPageMeta
	h, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/wiki/pages", p+"/wiki/pages",
		url.Values{"page": {strconv.Itoa(ask.Page)}, "limit": {strconv.Itoa(ask.Limit)}}, &pages)
	if err != nil {
		return nil, PageInfo{}, err
	}
	if pick >= 0 {
		if pick < len(pages) {
			pages = pages[pick : pick+1]
		} else {
			pages = nil
		}
	}
	return pages, pageInfo(h, opts, len(pages)), nil
}

// WikiPage returns the wiki page of owner/repo called name: its title or
// its sub_url.
func (c *Client) WikiPage(ctx context.Context, owner, repo, name string) (*WikiPage, error) {
	p, err := repoPath(owner, repo)
	if err != nil {
		return nil, err
	}
	segment, err := wikiPageSegment(name)
	if err != nil {
		return nil, err
	}
	var page WikiPage
	if _, err := c.get(ctx, "GET /api/v1/repos/{owner}/{repo}/wiki/page/{pageName}", p+"/wiki/page/"+segment, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// wikiPageSegment turns a page title or sub_url into the path segment Gitea
// expects. Gitea reads the segment raw and query-unescapes it once, so the
// name is unescaped here first (a sub_url such as C%2B%2B is escaped
// already), checked, and query-escaped: the result holds no '/', '?' or '#'.
func wikiPageSegment(name string) (string, error) {
	if strings.Contains(name, "%") {
		if u, err := url.PathUnescape(name); err == nil {
			name = u
		}
	}
	if name == "" || len(name) > maxWikiNameLen || hasControl(name) || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", invalid("page must be a wiki page title or sub_url of 1-%d bytes without slashes", maxWikiNameLen)
	}
	return url.QueryEscape(name), nil
}
