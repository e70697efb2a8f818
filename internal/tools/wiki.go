package tools

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

func wikiTools() []*Tool { return []*Tool{listWikiPages.Tool(), getWikiPage.Tool()} }

// wikiPageSummary is a wiki page in a list.
type wikiPageSummary struct {
	Title UserText `json:"title"`
	// Name is the page's name in URLs, for get_wiki_page.
	Name      string     `json:"name"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

func wikiSummarize(p *gitea.WikiPageMeta) wikiPageSummary {
	return wikiPageSummary{Title: UserText(p.Title), Name: p.SubURL, UpdatedAt: actTime(p.LastCommit.Author.Date)}
}

type wikiListIn struct {
	RepoRef
	Paging
}

type wikiListOut struct {
	Pages []wikiPageSummary `json:"pages"`
	PageOut
	Note string `json:"note,omitempty"`
}

var listWikiPages = Def[wikiListIn, wikiListOut]{
	Name:   "list_wiki_pages",
	Title:  "List wiki pages",
	Desc:   "Wiki pages: title, name (for get_wiki_page), last change date.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaWiki,
	Schema: boundPage,
	Run: func(ctx context.Context, e *Env, in wikiListIn) (wikiListOut, error) {
		pages, info, err := e.ListWikiPages(ctx, in.Owner, in.Repo, in.options())
		if errors.Is(err, gitea.ErrNotFound) && e.relRepoVisible(ctx, in.RepoRef) {
			// Gitea answers 404 for a wiki without pages and for a disabled one.
			return wikiListOut{Pages: []wikiPageSummary{}, Note: "this repository's wiki has no pages, or its wiki is disabled."}, nil
		}
		if err != nil {
			return wikiListOut{}, err
		}
		return wikiListOut{Pages: compact(pages, wikiSummarize), PageOut: pageOut(info)}, nil
	},
}

type getWikiPageIn struct {
	RepoRef
	Page string `json:"page" jsonschema:"name from list_wiki_pages, or title, e.g. Home"`
}

type wikiPageOut struct {
	wikiPageSummary
	Content    UserText `json:"content"`
	Truncated  bool     `json:"truncated,omitempty"`
	Note       string   `json:"note,omitempty"`
	LastChange UserText `json:"last_change,omitempty"`
	Revisions  int64    `json:"revisions,omitempty"`
	URL        string   `json:"url"`
}

var getWikiPage = Def[getWikiPageIn, wikiPageOut]{
	Name:   "get_wiki_page",
	Title:  "Get a wiki page",
	Desc:   "Markdown content (cut if very long; secrets masked), last change, revision count.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaWiki,
	Schema: func(s *jsonschema.Schema) {
		// A name from list_wiki_pages is the title percent-escaped: up to
		// twelve characters for each of its own.
		one, most := 1, 4096
		s.Properties["page"].MinLength, s.Properties["page"].MaxLength = &one, &most
	},
	Run: func(ctx context.Context, e *Env, in getWikiPageIn) (wikiPageOut, error) {
		p, err := e.WikiPage(ctx, in.Owner, in.Repo, in.Page)
		if err != nil {
			return wikiPageOut{}, err
		}
		content, err := p.Content()
		if err != nil {
			return wikiPageOut{}, err
		}
		subject, _, _ := strings.Cut(strings.TrimSpace(p.LastCommit.Message), "\n")
		out := wikiPageOut{wikiPageSummary: wikiSummarize(&p.WikiPageMeta), LastChange: UserText(subject),
			Revisions: p.CommitCount, URL: p.HTMLURL}
		if out.Content, out.Truncated, out.Note, err = e.Content(content); err != nil {
			return wikiPageOut{}, err
		}
		switch {
		case out.Truncated:
			out.Note = strings.TrimPrefix(out.Note+"; content cut to fit the output budget", "; ")
		case content == "":
			out.Note = "the page is empty, or too large for Gitea to return its content."
		}
		return out, nil
	},
}
