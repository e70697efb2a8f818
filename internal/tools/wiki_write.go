package tools

import (
	"context"
	"errors"
	"fmt"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// wikiWriteOut is a wiki page after a change.
type wikiWriteOut struct {
	Name string `json:"name"` // the page's sub_url, for get_wiki_page
	URL  string `json:"url"`
}

// wikiErr explains a 404 on a repository the caller can see: the page, or
// the wiki, is not there.
func (e *Env) wikiErr(ctx context.Context, r RepoRef, page string, err error) error {
	if errors.Is(err, gitea.ErrNotFound) && e.relRepoVisible(ctx, r) {
		return Notice(fmt.Sprintf("not found: the wiki has no page %q (list_wiki_pages shows them), or it is disabled. Nothing was changed.", page))
	}
	return err
}

type createWikiPageIn struct {
	RepoRef
	Title   string `json:"title"`
	Content string `json:"content" jsonschema:"Markdown"`
	Message string `json:"message,omitempty"` // the commit message
}

var createWikiPage = Def[createWikiPageIn, wikiWriteOut]{
	Name:   "create_wiki_page",
	Title:  "Create a wiki page",
	Desc:   "Adds a page to a repository's wiki.",
	Scopes: relWriteScopes,
	Access: Write,
	Area:   AreaWiki,
	Run: func(ctx context.Context, e *Env, in createWikiPageIn) (wikiWriteOut, error) {
		p, err := e.CreateWikiPage(ctx, in.Owner, in.Repo, gitea.WikiPageWrite{Title: in.Title, Content: in.Content, Message: in.Message})
		if err != nil {
			return wikiWriteOut{}, err
		}
		return wikiWriteOut{Name: p.SubURL, URL: p.HTMLURL}, nil
	},
}

type updateWikiPageIn struct {
	RepoRef
	Page    string `json:"page" jsonschema:"name or title"`
	Content string `json:"content" jsonschema:"Markdown"`
	Title   string `json:"title,omitempty" jsonschema:"new title"`
	Message string `json:"message,omitempty"` // the commit message
}

// updateWikiPage overwrites a page: its old text is only in the wiki's git
// history, which no tool reads, so it counts as destructive.
var updateWikiPage = Def[updateWikiPageIn, wikiWriteOut]{
	Name:   "update_wiki_page",
	Title:  "Replace a wiki page",
	Desc:   "Overwrites a wiki page; title renames it.",
	Scopes: relWriteScopes,
	Access: Destructive,
	Area:   AreaWiki,
	Confirm: func(in updateWikiPageIn) string {
		if in.Title != "" {
			return fmt.Sprintf("Replace wiki page %q in %s/%s and rename it %q?", in.Page, in.Owner, in.Repo, in.Title)
		}
		return fmt.Sprintf("Replace wiki page %q in %s/%s?", in.Page, in.Owner, in.Repo)
	},
	Run: func(ctx context.Context, e *Env, in updateWikiPageIn) (wikiWriteOut, error) {
		p, err := e.EditWikiPage(ctx, in.Owner, in.Repo, in.Page, gitea.WikiPageWrite{Title: in.Title, Content: in.Content, Message: in.Message})
		if err != nil {
			return wikiWriteOut{}, e.wikiErr(ctx, in.RepoRef, in.Page, err)
		}
		return wikiWriteOut{Name: p.SubURL, URL: p.HTMLURL}, nil
	},
}

type wikiPageIn struct {
	RepoRef
	Page string `json:"page" jsonschema:"name or title"`
}

var deleteWikiPage = Def[wikiPageIn, deletedOut]{
	Name:   "delete_wiki_page",
	Title:  "Delete a wiki page",
	Desc:   "Deletes a wiki page.",
	Scopes: relWriteScopes,
	Access: Destructive,
	Area:   AreaWiki,
	Confirm: func(in wikiPageIn) string {
		return fmt.Sprintf("Delete wiki page %q in %s/%s?", in.Page, in.Owner, in.Repo)
	},
	Run: func(ctx context.Context, e *Env, in wikiPageIn) (deletedOut, error) {
		if err := e.DeleteWikiPage(ctx, in.Owner, in.Repo, in.Page); err != nil {
			return deletedOut{}, e.wikiErr(ctx, in.RepoRef, in.Page, err)
		}
		return deletedOut{Deleted: "wiki page " + in.Page}, nil
	},
}
