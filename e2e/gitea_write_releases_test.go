package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// gwrWriteScope lets a token change repositories; readScopes does not.
const gwrWriteScope = "openid write:repository read:user"

// gwrClients are the clients a write test needs against one fresh repository.
type gwrClients struct {
	writer   *gitea.Client // alice, owner, write scope
	readOnly *gitea.Client // the same token, but a read-only client
	readTok  *gitea.Client // alice, read scope, a client that may write
	bob      *gitea.Client // bob, write scope, no access to the repository
}

func gwrSetup(t *testing.T, g *testgitea.Gitea) gwrClients {
	t.Helper()
	e := endpoint(t, g)
	aliceTok := oauthToken(t, g, testgitea.AliceName, gwrWriteScope).AccessToken
	return gwrClients{
		writer:   e.AsWriter(aliceTok),
		readOnly: e.As(aliceTok),
		readTok:  e.AsWriter(oauthToken(t, g, testgitea.AliceName, readScopes).AccessToken),
		bob:      e.AsWriter(oauthToken(t, g, testgitea.BobName, gwrWriteScope).AccessToken),
	}
}

func gwrNewRepo(t *testing.T, g *testgitea.Gitea, prefix string) (name, apiPath string) {
	t.Helper()
	name, err := g.NewRepo(t.Context(), testgitea.AliceName, prefix, true)
	if err != nil {
		t.Fatalf("NewRepo: %v", err)
	}
	return name, "/api/v1/repos/" + testgitea.AliceName + "/" + name
}

func gwrWant(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error = %v, want %v", what, err, want)
	}
}

// gwrAbsent asserts that Gitea answers 404 for path.
func gwrAbsent(t *testing.T, g *testgitea.Gitea, what, path string) {
	t.Helper()
	if err := g.AdminGet(t.Context(), path, http.StatusNotFound, nil); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

type gwrRelease struct {
	ID         int64  `json:"id"`
	TagName    string `json:"tag_name"`
	Target     string `json:"target_commitish"`
	Name       string `json:"name"`
	Body       string `json:"body"`
	Draft      bool   `json:"draft"`
	Prerelease bool   `json:"prerelease"`
	Author     struct {
		Login string `json:"login"`
	} `json:"author"`
}

type gwrTag struct {
	Name   string `json:"name"`
	Commit struct {
		SHA string `json:"sha"`
	} `json:"commit"`
}

func gwrPtr[T any](v T) *T { return &v }

func TestGiteaWriteReleasesReleases(t *testing.T) {
	g := needGitea(t)
	ctx := t.Context()
	cl := gwrSetup(t, g)
	name, p := gwrNewRepo(t, g, "rel")
	owner := testgitea.AliceName

	var branch struct {
		Commit struct {
			ID string `json:"id"`
		} `json:"commit"`
	}
	if err := g.AdminGet(ctx, p+"/branches/main", http.StatusOK, &branch); err != nil || branch.Commit.ID == "" {
		t.Fatalf("main: %+v, %v", branch, err)
	}

	// A published prerelease: its tag is created at the target.
	notes := "## Changes\n\n- first\n\tindented\n"
	rel, err := cl.writer.CreateRelease(ctx, owner, name, gitea.ReleaseCreate{
		TagName: "v1.0.0", Target: "main", Name: "First", Body: notes, Prerelease: true,
	})
	if err != nil {
		t.Fatalf("CreateRelease: %v", err)
	}
	if rel.ID < 1 || rel.TagName != "v1.0.0" || rel.Name != "First" || rel.Body != notes || !rel.Prerelease || rel.Draft || rel.Author.Login != owner {
		t.Errorf("CreateRelease answered %+v", rel)
	}
	var got gwrRelease
	if err := g.AdminGet(ctx, fmt.Sprintf("%s/releases/%d", p, rel.ID), http.StatusOK, &got); err != nil {
		t.Fatal(err)
	}
	if got.TagName != "v1.0.0" || got.Target != "main" || got.Name != "First" || got.Body != notes || !got.Prerelease || got.Draft || got.Author.Login != owner {
		t.Errorf("release read back = %+v", got)
	}
	var tag gwrTag
	if err := g.AdminGet(ctx, p+"/tags/v1.0.0", http.StatusOK, &tag); err != nil || tag.Commit.SHA != branch.Commit.ID {
		t.Errorf("tag v1.0.0 = %+v, %v; want it at main %s", tag, err, branch.Commit.ID)
	}

	// A draft has no tag until it is published by an edit.
	draft, err := cl.writer.CreateRelease(ctx, owner, name, gitea.ReleaseCreate{TagName: "v2.0.0", Name: "Second", Draft: true})
	if err != nil || !draft.Draft {
		t.Fatalf("CreateRelease(draft) = %+v, %v", draft, err)
	}
	gwrAbsent(t, g, "the draft's tag before publishing", p+"/tags/v2.0.0")
	pub, err := cl.writer.EditRelease(ctx, owner, name, draft.ID, gitea.ReleaseEdit{Draft: gwrPtr(false), Name: gwrPtr("Second, published")})
	if err != nil || pub.Draft || pub.Name != "Second, published" {
		t.Fatalf("EditRelease(publish) = %+v, %v", pub, err)
	}
	if err := g.AdminGet(ctx, fmt.Sprintf("%s/releases/%d", p, draft.ID), http.StatusOK, &got); err != nil || got.Draft || got.Name != "Second, published" || got.Target != "main" {
		t.Errorf("published draft read back = %+v, %v", got, err)
	}
	if err := g.AdminGet(ctx, p+"/tags/v2.0.0", http.StatusOK, &tag); err != nil || tag.Commit.SHA != branch.Commit.ID {
		t.Errorf("tag v2.0.0 after publishing = %+v, %v; want it at main (the default target)", tag, err)
	}

	// Edits change only what is set.
	edited, err := cl.writer.EditRelease(ctx, owner, name, rel.ID, gitea.ReleaseEdit{Body: gwrPtr("New notes."), Prerelease: gwrPtr(false)})
	if err != nil || edited.Body != "New notes." || edited.Prerelease || edited.Name != "First" {
		t.Errorf("EditRelease = %+v, %v", edited, err)
	}
	if err := g.AdminGet(ctx, fmt.Sprintf("%s/releases/%d", p, rel.ID), http.StatusOK, &got); err != nil ||
		got.Body != "New notes." || got.Prerelease || got.Name != "First" || got.TagName != "v1.0.0" || got.Draft {
		t.Errorf("edited release read back = %+v, %v", got, err)
	}

	// Renaming the tag of a published release makes a new tag and keeps the old one.
	renamed, err := cl.writer.EditRelease(ctx, owner, name, rel.ID, gitea.ReleaseEdit{TagName: gwrPtr("v1.0.1")})
	if err != nil || renamed.TagName != "v1.0.1" {
		t.Fatalf("EditRelease(tag) = %+v, %v", renamed, err)
	}
	if err := g.AdminGet(ctx, p+"/releases/tags/v1.0.1", http.StatusOK, &got); err != nil || got.ID != rel.ID {
		t.Errorf("release by new tag = %+v, %v; want release %d", got, err, rel.ID)
	}
	for _, tg := range []string{"v1.0.1", "v1.0.0"} {
		if err := g.AdminGet(ctx, p+"/tags/"+tg, http.StatusOK, &tag); err != nil || tag.Name != tg {
			t.Errorf("tag %s after the rename = %+v, %v", tg, tag, err)
		}
	}

	// Gitea's answers for clashes and missing things.
	_, err = cl.writer.CreateRelease(ctx, owner, name, gitea.ReleaseCreate{TagName: "v2.0.0"})
	gwrWant(t, "CreateRelease of a tag with a release", err, gitea.ErrConflict)
	_, err = cl.writer.CreateRelease(ctx, owner, name, gitea.ReleaseCreate{TagName: "V2.0.0"})
	gwrWant(t, "CreateRelease of a tag differing only in case", err, gitea.ErrConflict)
	_, err = cl.writer.CreateRelease(ctx, owner, name, gitea.ReleaseCreate{TagName: "v9", Target: "no-such-branch"})
	gwrWant(t, "CreateRelease at a missing target", err, gitea.ErrNotFound)
	gwrAbsent(t, g, "the tag of a refused release", p+"/tags/v9")
	_, err = cl.writer.EditRelease(ctx, owner, name, 999999, gitea.ReleaseEdit{Name: gwrPtr("x")})
	gwrWant(t, "EditRelease of a missing release", err, gitea.ErrNotFound)

	// Refusals: nothing is created.
	_, err = cl.bob.CreateRelease(ctx, owner, name, gitea.ReleaseCreate{TagName: "bob"})
	gwrWant(t, "bob's CreateRelease", err, gitea.ErrNotFound)
	_, err = cl.bob.EditRelease(ctx, owner, name, rel.ID, gitea.ReleaseEdit{Name: gwrPtr("bob")})
	gwrWant(t, "bob's EditRelease", err, gitea.ErrNotFound)
	gwrWant(t, "bob's DeleteRelease", cl.bob.DeleteRelease(ctx, owner, name, rel.ID), gitea.ErrNotFound)
	_, err = cl.readTok.CreateRelease(ctx, owner, name, gitea.ReleaseCreate{TagName: "readscope"})
	gwrWant(t, "CreateRelease with a read-scope token", err, gitea.ErrForbidden)
	_, err = cl.readTok.EditRelease(ctx, owner, name, rel.ID, gitea.ReleaseEdit{Name: gwrPtr("readscope")})
	gwrWant(t, "EditRelease with a read-scope token", err, gitea.ErrForbidden)
	gwrWant(t, "DeleteRelease with a read-scope token", cl.readTok.DeleteRelease(ctx, owner, name, rel.ID), gitea.ErrForbidden)
	_, err = cl.readOnly.CreateRelease(ctx, owner, name, gitea.ReleaseCreate{TagName: "readonly"})
	gwrWant(t, "CreateRelease on a read-only client", err, gitea.ErrReadOnly)
	_, err = cl.readOnly.EditRelease(ctx, owner, name, rel.ID, gitea.ReleaseEdit{Name: gwrPtr("readonly")})
	gwrWant(t, "EditRelease on a read-only client", err, gitea.ErrReadOnly)
	gwrWant(t, "DeleteRelease on a read-only client", cl.readOnly.DeleteRelease(ctx, owner, name, rel.ID), gitea.ErrReadOnly)
	for _, tg := range []string{"bob", "readscope", "readonly"} {
		gwrAbsent(t, g, "release "+tg, p+"/releases/tags/"+tg)
	}
	if err := g.AdminGet(ctx, fmt.Sprintf("%s/releases/%d", p, rel.ID), http.StatusOK, &got); err != nil || got.Name != "First" {
		t.Errorf("release after refused edits and deletes = %+v, %v; want it unchanged", got, err)
	}

	// Bad arguments are refused before anything is sent.
	for _, tt := range []struct {
		name string
		call func() error
	}{
		{"empty tag", func() error { _, err := cl.writer.CreateRelease(ctx, owner, name, gitea.ReleaseCreate{}); return err }},
		{"tag with ..", func() error {
			_, err := cl.writer.CreateRelease(ctx, owner, name, gitea.ReleaseCreate{TagName: "a..b"})
			return err
		}},
		// Gitea would strip the dashes and create tag v3.
		{"tag with leading --", func() error {
			_, err := cl.writer.CreateRelease(ctx, owner, name, gitea.ReleaseCreate{TagName: "--v3"})
			return err
		}},
		// Gitea fails with a server error.
		{"tag ending in .lock", func() error {
			_, err := cl.writer.CreateRelease(ctx, owner, name, gitea.ReleaseCreate{TagName: "v3.lock"})
			return err
		}},
		{"target with space", func() error {
			_, err := cl.writer.CreateRelease(ctx, owner, name, gitea.ReleaseCreate{TagName: "v3", Target: "a b"})
			return err
		}},
		{"name too long", func() error {
			_, err := cl.writer.CreateRelease(ctx, owner, name, gitea.ReleaseCreate{TagName: "v3", Name: strings.Repeat("n", 256)})
			return err
		}},
		{"body with NUL", func() error {
			_, err := cl.writer.CreateRelease(ctx, owner, name, gitea.ReleaseCreate{TagName: "v3", Body: "a\x00b"})
			return err
		}},
		{"bad owner", func() error {
			_, err := cl.writer.CreateRelease(ctx, "../x", name, gitea.ReleaseCreate{TagName: "v3"})
			return err
		}},
		{"edit nothing", func() error {
			_, err := cl.writer.EditRelease(ctx, owner, name, rel.ID, gitea.ReleaseEdit{})
			return err
		}},
		// Gitea ignores an empty body: the edit would do nothing.
		{"edit empty body", func() error {
			_, err := cl.writer.EditRelease(ctx, owner, name, rel.ID, gitea.ReleaseEdit{Body: gwrPtr("")})
			return err
		}},
		{"edit id 0", func() error {
			_, err := cl.writer.EditRelease(ctx, owner, name, 0, gitea.ReleaseEdit{Name: gwrPtr("x")})
			return err
		}},
		{"delete id -1", func() error { return cl.writer.DeleteRelease(ctx, owner, name, -1) }},
	} {
		gwrWant(t, tt.name, tt.call(), gitea.ErrInvalidArgument)
	}
	gwrAbsent(t, g, "tag v3 after refused arguments", p+"/tags/v3")

	// Deleting a release keeps its tag; the id is then gone for good.
	if err := cl.writer.DeleteRelease(ctx, owner, name, rel.ID); err != nil {
		t.Fatalf("DeleteRelease: %v", err)
	}
	gwrAbsent(t, g, "deleted release", fmt.Sprintf("%s/releases/%d", p, rel.ID))
	gwrAbsent(t, g, "deleted release by tag", p+"/releases/tags/v1.0.1")
	if err := g.AdminGet(ctx, p+"/tags/v1.0.1", http.StatusOK, &tag); err != nil || tag.Commit.SHA != branch.Commit.ID {
		t.Errorf("tag of the deleted release = %+v, %v; want it kept", tag, err)
	}
	gwrWant(t, "DeleteRelease again", cl.writer.DeleteRelease(ctx, owner, name, rel.ID), gitea.ErrNotFound)
	_, err = cl.writer.EditRelease(ctx, owner, name, rel.ID, gitea.ReleaseEdit{Name: gwrPtr("back")})
	gwrWant(t, "EditRelease of a deleted release", err, gitea.ErrNotFound)
	var rels []gwrRelease
	if err := g.AdminGet(ctx, p+"/releases", http.StatusOK, &rels); err != nil || len(rels) != 1 || rels[0].ID != draft.ID {
		t.Errorf("releases after the delete = %+v, %v; want only release %d", rels, err, draft.ID)
	}
}

type gwrWikiPage struct {
	Title         string `json:"title"`
	SubURL        string `json:"sub_url"`
	ContentBase64 string `json:"content_base64"`
	LastCommit    struct {
		Message string `json:"message"`
	} `json:"last_commit"`
}

// gwrWikiContent reads a page back as the administrator and returns its content.
func gwrWikiContent(t *testing.T, g *testgitea.Gitea, p, subURL string) (gwrWikiPage, string) {
	t.Helper()
	var page gwrWikiPage
	if err := g.AdminGet(t.Context(), p+"/wiki/page/"+subURL, http.StatusOK, &page); err != nil {
		t.Errorf("reading wiki page %s: %v", subURL, err)
		return page, ""
	}
	b, err := base64.StdEncoding.DecodeString(page.ContentBase64)
	if err != nil {
		t.Errorf("wiki page %s: content is not base64: %v", subURL, err)
	}
	return page, string(b)
}

func gwrWikiSubURLs(t *testing.T, g *testgitea.Gitea, p string) []string {
	t.Helper()
	var pages []gwrWikiPage
	if err := g.AdminGet(t.Context(), p+"/wiki/pages", http.StatusOK, &pages); err != nil {
		t.Fatalf("listing wiki pages: %v", err)
	}
	var subs []string
	for _, pg := range pages {
		subs = append(subs, pg.SubURL)
	}
	return subs
}

func TestGiteaWriteReleasesWiki(t *testing.T) {
	g := needGitea(t)
	ctx := t.Context()
	cl := gwrSetup(t, g)
	name, p := gwrNewRepo(t, g, "wiki")
	owner := testgitea.AliceName

	// An empty wiki: Gitea answers a delete with a server error and would
	// create a page named "unnamed" for an edit; the client says not found.
	gwrWant(t, "DeleteWikiPage in an empty wiki", cl.writer.DeleteWikiPage(ctx, owner, name, "Nope"), gitea.ErrNotFound)
	_, err := cl.writer.EditWikiPage(ctx, owner, name, "Nope", gitea.WikiPageWrite{Content: "x"})
	gwrWant(t, "EditWikiPage in an empty wiki", err, gitea.ErrNotFound)
	gwrAbsent(t, g, "the wiki after refused writes", p+"/wiki/pages")

	// Titles and the sub_urls Gitea makes of them.
	for _, tt := range []struct{ title, subURL, content, message string }{
		{"Release Notes", "Release-Notes", "# Notes\n\nShip it.\n", "Start the notes"},
		{"2024-01 plan", "2024-01+plan.-", "plan", ""},
		{"C++ Notes", "C%2B%2B-Notes", "templates", ""},
		{"What? Why#", "What%3F-Why%23", "questions", ""},
	} {
		if got := gitea.WikiSubURL(tt.title); got != tt.subURL {
			t.Errorf("WikiSubURL(%q) = %q, want %q", tt.title, got, tt.subURL)
		}
		page, err := cl.writer.CreateWikiPage(ctx, owner, name, gitea.WikiPageWrite{Title: tt.title, Content: tt.content, Message: tt.message})
		if err != nil {
			t.Fatalf("CreateWikiPage(%q): %v", tt.title, err)
		}
		if c, _ := page.Content(); page.Title != tt.title || page.SubURL != tt.subURL || c != tt.content {
			t.Errorf("CreateWikiPage(%q) answered title %q, sub_url %q, content %q", tt.title, page.Title, page.SubURL, c)
		}
		back, content := gwrWikiContent(t, g, p, tt.subURL)
		wantMsg := tt.message
		if wantMsg == "" {
			wantMsg = fmt.Sprintf("Add %q", tt.title)
		}
		if back.Title != tt.title || content != tt.content || strings.TrimSpace(back.LastCommit.Message) != wantMsg {
			t.Errorf("page %s read back: title %q, content %q, message %q", tt.subURL, back.Title, content, back.LastCommit.Message)
		}
	}

	_, err = cl.writer.CreateWikiPage(ctx, owner, name, gitea.WikiPageWrite{Title: "Release Notes", Content: "again"})
	gwrWant(t, "CreateWikiPage of an existing page", err, gitea.ErrConflict)
	if _, content := gwrWikiContent(t, g, p, "Release-Notes"); content != "# Notes\n\nShip it.\n" {
		t.Errorf("Release-Notes after a refused create = %q, want it unchanged", content)
	}

	// Edits, by title and by sub_url, keep the page's name when no title is given.
	if _, err := cl.writer.EditWikiPage(ctx, owner, name, "Release Notes", gitea.WikiPageWrite{Content: "v2", Message: "Second draft"}); err != nil {
		t.Fatalf("EditWikiPage by title: %v", err)
	}
	if back, content := gwrWikiContent(t, g, p, "Release-Notes"); back.Title != "Release Notes" || content != "v2" || strings.TrimSpace(back.LastCommit.Message) != "Second draft" {
		t.Errorf("Release-Notes after the edit: title %q, content %q, message %q", back.Title, content, back.LastCommit.Message)
	}
	page, err := cl.writer.EditWikiPage(ctx, owner, name, "2024-01+plan.-", gitea.WikiPageWrite{Content: "plan v2"})
	if err != nil || page.SubURL != "2024-01+plan.-" {
		t.Fatalf("EditWikiPage by sub_url = %+v, %v", page, err)
	}
	if back, content := gwrWikiContent(t, g, p, "2024-01+plan.-"); back.Title != "2024-01 plan" || content != "plan v2" {
		t.Errorf("2024-01 plan after the edit: title %q, content %q", back.Title, content)
	}

	// A rename moves the page; a rename onto another page is refused.
	page, err = cl.writer.EditWikiPage(ctx, owner, name, "C%2B%2B-Notes", gitea.WikiPageWrite{Title: "Cpp Notes", Content: "templates v2"})
	if err != nil || page.SubURL != "Cpp-Notes" {
		t.Fatalf("EditWikiPage(rename) = %+v, %v", page, err)
	}
	if _, content := gwrWikiContent(t, g, p, "Cpp-Notes"); content != "templates v2" {
		t.Errorf("renamed page content = %q", content)
	}
	gwrAbsent(t, g, "the page's old name", p+"/wiki/page/C%2B%2B-Notes")
	_, err = cl.writer.EditWikiPage(ctx, owner, name, "Cpp Notes", gitea.WikiPageWrite{Title: "Release Notes", Content: "overwrite"})
	gwrWant(t, "EditWikiPage renaming onto an existing page", err, gitea.ErrConflict)
	if _, content := gwrWikiContent(t, g, p, "Release-Notes"); content != "v2" {
		t.Errorf("Release-Notes after a refused rename onto it = %q, want v2", content)
	}
	_, err = cl.writer.EditWikiPage(ctx, owner, name, "No Such Page", gitea.WikiPageWrite{Content: "x"})
	gwrWant(t, "EditWikiPage of a missing page", err, gitea.ErrNotFound)

	// Refusals change nothing.
	_, err = cl.bob.CreateWikiPage(ctx, owner, name, gitea.WikiPageWrite{Title: "Bob", Content: "x"})
	gwrWant(t, "bob's CreateWikiPage", err, gitea.ErrNotFound)
	_, err = cl.bob.EditWikiPage(ctx, owner, name, "Release-Notes", gitea.WikiPageWrite{Content: "bob"})
	gwrWant(t, "bob's EditWikiPage", err, gitea.ErrNotFound)
	gwrWant(t, "bob's DeleteWikiPage", cl.bob.DeleteWikiPage(ctx, owner, name, "Release-Notes"), gitea.ErrNotFound)
	_, err = cl.readTok.CreateWikiPage(ctx, owner, name, gitea.WikiPageWrite{Title: "Read Scope", Content: "x"})
	gwrWant(t, "CreateWikiPage with a read-scope token", err, gitea.ErrForbidden)
	_, err = cl.readTok.EditWikiPage(ctx, owner, name, "Release-Notes", gitea.WikiPageWrite{Content: "read scope"})
	gwrWant(t, "EditWikiPage with a read-scope token", err, gitea.ErrForbidden)
	gwrWant(t, "DeleteWikiPage with a read-scope token", cl.readTok.DeleteWikiPage(ctx, owner, name, "Release-Notes"), gitea.ErrForbidden)
	_, err = cl.readOnly.CreateWikiPage(ctx, owner, name, gitea.WikiPageWrite{Title: "Read Only", Content: "x"})
	gwrWant(t, "CreateWikiPage on a read-only client", err, gitea.ErrReadOnly)
	_, err = cl.readOnly.EditWikiPage(ctx, owner, name, "Release-Notes", gitea.WikiPageWrite{Content: "read only"})
	gwrWant(t, "EditWikiPage on a read-only client", err, gitea.ErrReadOnly)
	gwrWant(t, "DeleteWikiPage on a read-only client", cl.readOnly.DeleteWikiPage(ctx, owner, name, "Release-Notes"), gitea.ErrReadOnly)
	if _, content := gwrWikiContent(t, g, p, "Release-Notes"); content != "v2" {
		t.Errorf("Release-Notes after refused writes = %q, want v2", content)
	}

	for _, tt := range []struct {
		name string
		call func() error
	}{
		{"empty title", func() error {
			_, err := cl.writer.CreateWikiPage(ctx, owner, name, gitea.WikiPageWrite{Title: "  ", Content: "x"})
			return err
		}},
		{"title with slash", func() error {
			_, err := cl.writer.CreateWikiPage(ctx, owner, name, gitea.WikiPageWrite{Title: "a/b", Content: "x"})
			return err
		}},
		{"reserved title", func() error {
			_, err := cl.writer.CreateWikiPage(ctx, owner, name, gitea.WikiPageWrite{Title: "_new", Content: "x"})
			return err
		}},
		{"content with control character", func() error {
			_, err := cl.writer.CreateWikiPage(ctx, owner, name, gitea.WikiPageWrite{Title: "Ctl", Content: "a\x1bb"})
			return err
		}},
		{"edit: empty name", func() error {
			_, err := cl.writer.EditWikiPage(ctx, owner, name, "", gitea.WikiPageWrite{Content: "x"})
			return err
		}},
		{"edit: rename to a reserved title", func() error {
			_, err := cl.writer.EditWikiPage(ctx, owner, name, "Release-Notes", gitea.WikiPageWrite{Title: "raw", Content: "x"})
			return err
		}},
		{"delete: path in name", func() error { return cl.writer.DeleteWikiPage(ctx, owner, name, "../../issues") }},
		{"delete: escaped slash", func() error { return cl.writer.DeleteWikiPage(ctx, owner, name, "a%2Fb") }},
	} {
		gwrWant(t, tt.name, tt.call(), gitea.ErrInvalidArgument)
	}

	// Deleting, by title (escaped into the path) and by sub_url.
	if err := cl.writer.DeleteWikiPage(ctx, owner, name, "What? Why#"); err != nil {
		t.Fatalf("DeleteWikiPage by title: %v", err)
	}
	gwrAbsent(t, g, "deleted page", p+"/wiki/page/What%3F-Why%23")
	if err := cl.writer.DeleteWikiPage(ctx, owner, name, "Cpp-Notes"); err != nil {
		t.Fatalf("DeleteWikiPage by sub_url: %v", err)
	}
	gwrWant(t, "DeleteWikiPage again", cl.writer.DeleteWikiPage(ctx, owner, name, "Cpp-Notes"), gitea.ErrNotFound)
	if subs := gwrWikiSubURLs(t, g, p); strings.Join(subs, " ") != "2024-01+plan.- Release-Notes" {
		t.Errorf("wiki pages at the end = %v, want the plan and the notes only", subs)
	}

	// Why EditWikiPage reads first: Gitea renames a page edited without a
	// title to "unnamed". If this fails, Gitea changed and the workaround
	// may go.
	var raw gwrWikiPage
	if err := g.AdminDo(ctx, http.MethodPatch, p+"/wiki/page/Release-Notes", owner,
		map[string]any{"content_base64": base64.StdEncoding.EncodeToString([]byte("raw"))}, http.StatusOK, &raw); err != nil || raw.SubURL != "unnamed" {
		t.Errorf("raw PATCH without a title = %+v, %v; want Gitea to rename the page to unnamed", raw, err)
	}
}

// gwrRunner plays an Actions runner for one repository through Gitea's
// runner protocol (Connect, JSON), as the seed does.
type gwrRunner struct {
	g     *testgitea.Gitea
	uuid  string
	token string
}

func gwrRegisterRunner(t *testing.T, g *testgitea.Gitea, apiPath, label string) *gwrRunner {
	t.Helper()
	var reg struct {
		Token string `json:"token"`
	}
	if err := g.AdminDo(t.Context(), http.MethodPost, apiPath+"/actions/runners/registration-token", "", nil, http.StatusOK, &reg); err != nil {
		t.Fatalf("runner registration token: %v", err)
	}
	r := &gwrRunner{g: g}
	var out struct {
		Runner struct {
			UUID  string `json:"uuid"`
			Token string `json:"token"`
		} `json:"runner"`
	}
	r.call(t, "Register", map[string]any{"name": "gwr-runner", "token": reg.Token, "labels": []string{label}, "version": "test"}, &out)
	r.uuid, r.token = out.Runner.UUID, out.Runner.Token
	return r
}

func (r *gwrRunner) call(t *testing.T, method string, body, out any) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.g.URL+"/api/actions/runner.v1.RunnerService/"+method, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connect-Protocol-Version", "1")
	if r.uuid != "" {
		req.Header.Set("x-runner-uuid", r.uuid)
		req.Header.Set("x-runner-token", r.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("runner %s: %v", method, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("runner %s: status %d: %s", method, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("runner %s: %v", method, err)
		}
	}
}

// gwrTask is the part of a fetched task the test reads.
type gwrTask struct {
	ID      json.Number `json:"id"`
	Context struct {
		EventName string `json:"event_name"`
		Ref       string `json:"ref"`
		Event     struct {
			Inputs map[string]any `json:"inputs"`
		} `json:"event"`
	} `json:"context"`
}

// take fetches the next task, waiting for Gitea to queue it.
func (r *gwrRunner) take(t *testing.T) gwrTask {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		var fetched struct {
			Task *gwrTask `json:"task"`
		}
		r.call(t, "FetchTask", map[string]any{"tasksVersion": 0}, &fetched)
		if fetched.Task != nil {
			return *fetched.Task
		}
		if time.Now().After(deadline) {
			t.Fatal("the runner was given no task within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *gwrRunner) finish(t *testing.T, task gwrTask) {
	t.Helper()
	at := time.Now().UTC().Format(time.RFC3339)
	r.call(t, "UpdateTask", map[string]any{"state": map[string]any{"id": task.ID, "result": "RESULT_SUCCESS", "startedAt": at, "stoppedAt": at}}, nil)
}

type gwrRun struct {
	ID         int64  `json:"id"`
	RunAttempt int64  `json:"run_attempt"`
	Path       string `json:"path"`
	Event      string `json:"event"`
	Status     string `json:"status"`
	Conclusion string `json:"conclusion"`
	HeadBranch string `json:"head_branch"`
	HeadSHA    string `json:"head_sha"`
	Trigger    struct {
		Login string `json:"login"`
	} `json:"trigger_actor"`
}

func gwrRuns(t *testing.T, g *testgitea.Gitea, p string) []gwrRun {
	t.Helper()
	var body struct {
		Runs []gwrRun `json:"workflow_runs"`
	}
	if err := g.AdminGet(t.Context(), p+"/actions/runs", http.StatusOK, &body); err != nil {
		t.Fatalf("listing runs: %v", err)
	}
	return body.Runs
}

// gwrRunStatus waits until run id of p has status want.
func gwrRunStatus(t *testing.T, g *testgitea.Gitea, p string, id int64, want string) gwrRun {
	t.Helper()
	var run gwrRun
	for deadline := time.Now().Add(30 * time.Second); ; {
		if err := g.AdminGet(t.Context(), fmt.Sprintf("%s/actions/runs/%d", p, id), http.StatusOK, &run); err != nil {
			t.Fatal(err)
		}
		if run.Status == want {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d: status %q after 30 s, want %q", id, run.Status, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const gwrManualWorkflow = `name: Manual
on:
  workflow_dispatch:
    inputs:
      greeting:
        description: what to say
        default: hi
      mode:
        default: fast
jobs:
  hello:
    runs-on: gwr-test-label
    steps:
      - run: echo hello
`

// gwrPushWorkflow runs on pushes to a branch that does not exist: it never
// runs and cannot be dispatched.
const gwrPushWorkflow = `name: Push only
on:
  push:
    branches: [no-such-branch]
jobs:
  build:
    runs-on: gwr-test-label
    steps:
      - run: make
`

func TestGiteaWriteReleasesActions(t *testing.T) {
	g := needGitea(t)
	ctx := t.Context()
	cl := gwrSetup(t, g)
	name, p := gwrNewRepo(t, g, "wf")
	owner := testgitea.AliceName
	for file, content := range map[string]string{".gitea/workflows/manual.yml": gwrManualWorkflow, ".gitea/workflows/push.yml": gwrPushWorkflow} {
		if err := g.PutFile(ctx, owner, name, file, content, ""); err != nil {
			t.Fatalf("PutFile %s: %v", file, err)
		}
	}
	var branch struct {
		Commit struct {
			ID string `json:"id"`
		} `json:"commit"`
	}
	if err := g.AdminGet(ctx, p+"/branches/main", http.StatusOK, &branch); err != nil {
		t.Fatal(err)
	}

	// Refusals and Gitea's answers for what does not exist: no run is made.
	inputs := map[string]string{"greeting": "hello", "undeclared": "ignored"}
	gwrWant(t, "bob's dispatch", cl.bob.DispatchWorkflow(ctx, owner, name, "manual.yml", "main", nil), gitea.ErrNotFound)
	gwrWant(t, "dispatch with a read-scope token", cl.readTok.DispatchWorkflow(ctx, owner, name, "manual.yml", "main", nil), gitea.ErrForbidden)
	gwrWant(t, "dispatch on a read-only client", cl.readOnly.DispatchWorkflow(ctx, owner, name, "manual.yml", "main", nil), gitea.ErrReadOnly)
	gwrWant(t, "dispatch of a missing workflow", cl.writer.DispatchWorkflow(ctx, owner, name, "nope.yml", "main", nil), gitea.ErrNotFound)
	gwrWant(t, "dispatch at a missing branch", cl.writer.DispatchWorkflow(ctx, owner, name, "manual.yml", "no-such-branch", nil), gitea.ErrNotFound)
	gwrWant(t, "dispatch of a workflow without workflow_dispatch", cl.writer.DispatchWorkflow(ctx, owner, name, "push.yml", "main", nil), gitea.ErrInvalidRequest)
	if err := g.AdminDo(ctx, http.MethodPut, p+"/actions/workflows/manual.yml/disable", owner, nil, http.StatusNoContent, nil); err != nil {
		t.Fatal(err)
	}
	gwrWant(t, "dispatch of a disabled workflow", cl.writer.DispatchWorkflow(ctx, owner, name, "manual.yml", "main", nil), gitea.ErrForbidden)
	if err := g.AdminDo(ctx, http.MethodPut, p+"/actions/workflows/manual.yml/enable", owner, nil, http.StatusNoContent, nil); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, workflow, ref string
		inputs              map[string]string
	}{
		{"workflow path", "../manual.yml", "main", nil},
		{"workflow not yaml", "manual.txt", "main", nil},
		{"empty ref", "manual.yml", "", nil},
		{"ref with ..", "manual.yml", "main..x", nil},
		{"ref with leading dash", "manual.yml", "-main", nil},
		{"input name with space", "manual.yml", "main", map[string]string{"bad name": "x"}},
		{"input value with control character", "manual.yml", "main", map[string]string{"greeting": "\x07"}},
	} {
		gwrWant(t, tt.name, cl.writer.DispatchWorkflow(ctx, owner, name, tt.workflow, tt.ref, tt.inputs), gitea.ErrInvalidArgument)
	}
	if runs := gwrRuns(t, g, p); len(runs) != 0 {
		t.Fatalf("runs after refused dispatches = %+v, want none", runs)
	}

	// A dispatch makes a run; the runner sees the declared inputs, with
	// defaults for those left out, and not the others.
	if err := cl.writer.DispatchWorkflow(ctx, owner, name, "manual.yml", "main", inputs); err != nil {
		t.Fatalf("DispatchWorkflow: %v", err)
	}
	runs := gwrRuns(t, g, p)
	if len(runs) != 1 {
		t.Fatalf("runs after the dispatch = %+v, want one", runs)
	}
	run := runs[0]
	if run.Event != "workflow_dispatch" || run.Path != "manual.yml@refs/heads/main" || run.HeadBranch != "main" ||
		run.HeadSHA != branch.Commit.ID || run.Trigger.Login != owner || run.Status == "completed" {
		t.Errorf("dispatched run = %+v", run)
	}

	// A run that is not done cannot be run again.
	gwrWant(t, "rerun of an unfinished run", cl.writer.RerunWorkflowRun(ctx, owner, name, run.ID), gitea.ErrInvalidRequest)

	runner := gwrRegisterRunner(t, g, p, "gwr-test-label")
	task := runner.take(t)
	if task.Context.EventName != "workflow_dispatch" || task.Context.Ref != "refs/heads/main" ||
		fmt.Sprint(task.Context.Event.Inputs) != "map[greeting:hello mode:fast]" {
		t.Errorf("the dispatched task: event %q, ref %q, inputs %v; want greeting hello, mode fast (default), nothing else",
			task.Context.EventName, task.Context.Ref, task.Context.Event.Inputs)
	}
	runner.finish(t, task)
	done := gwrRunStatus(t, g, p, run.ID, "completed")
	if done.Conclusion != "success" || done.RunAttempt != 1 {
		t.Errorf("finished run = %+v, want attempt 1, success", done)
	}

	// Rerun: refusals leave the run as it is.
	gwrWant(t, "bob's rerun", cl.bob.RerunWorkflowRun(ctx, owner, name, run.ID), gitea.ErrNotFound)
	gwrWant(t, "rerun with a read-scope token", cl.readTok.RerunWorkflowRun(ctx, owner, name, run.ID), gitea.ErrForbidden)
	gwrWant(t, "rerun on a read-only client", cl.readOnly.RerunWorkflowRun(ctx, owner, name, run.ID), gitea.ErrReadOnly)
	gwrWant(t, "rerun of run 0", cl.writer.RerunWorkflowRun(ctx, owner, name, 0), gitea.ErrInvalidArgument)
	gwrWant(t, "rerun of a missing run", cl.writer.RerunWorkflowRun(ctx, owner, name, 999999), gitea.ErrNotFound)
	if still := gwrRunStatus(t, g, p, run.ID, "completed"); still.RunAttempt != 1 {
		t.Errorf("run after refused reruns = %+v, want attempt 1", still)
	}

	if err := cl.writer.RerunWorkflowRun(ctx, owner, name, run.ID); err != nil {
		t.Fatalf("RerunWorkflowRun: %v", err)
	}
	var again gwrRun
	if err := g.AdminGet(ctx, fmt.Sprintf("%s/actions/runs/%d", p, run.ID), http.StatusOK, &again); err != nil {
		t.Fatal(err)
	}
	if again.RunAttempt != 2 || again.Status == "completed" {
		t.Errorf("run after the rerun = %+v, want attempt 2, not completed", again)
	}
	task2 := runner.take(t)
	if task2.ID == task.ID || fmt.Sprint(task2.Context.Event.Inputs) != "map[greeting:hello mode:fast]" {
		t.Errorf("the rerun's task = %+v, want a new task with the same inputs", task2)
	}
	runner.finish(t, task2)
	if final := gwrRunStatus(t, g, p, run.ID, "completed"); final.RunAttempt != 2 || final.Conclusion != "success" {
		t.Errorf("rerun finished = %+v, want attempt 2, success", final)
	}
	if runs := gwrRuns(t, g, p); len(runs) != 1 {
		t.Errorf("runs after the rerun = %d, want the same one run", len(runs))
	}
}

// TestGiteaWriteReleasesNoCancelAPI pins that Gitea 1.27 has no REST route
// to cancel a run (the web UI's is not part of the API), which is why the
// client has no CancelWorkflowRun: a route Gitea lacks answers a plain-text
// 404, unlike a missing run on a route it has. If this fails, Gitea added
// the route.
func TestGiteaWriteReleasesNoCancelAPI(t *testing.T) {
	g := needGitea(t)
	tok := oauthToken(t, g, testgitea.AliceName, gwrWriteScope).AccessToken
	post := func(path string) (int, string, string) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, g.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "token "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	p := "/api/v1/repos/" + testgitea.AliceName + "/" + testgitea.AliceRepo + "/actions/runs/999999"
	if status, ctype, body := post(p + "/cancel"); status != http.StatusNotFound || strings.HasPrefix(ctype, "application/json") || !strings.Contains(body, "page not found") {
		t.Errorf("POST .../runs/{run}/cancel = %d %s %q, want the router's plain 404", status, ctype, body)
	}
	if status, ctype, body := post(p + "/rerun"); status != http.StatusNotFound || !strings.HasPrefix(ctype, "application/json") || !strings.Contains(body, "does not exist") {
		t.Errorf("POST .../runs/{run}/rerun = %d %s %q, want a JSON not-found for the run", status, ctype, body)
	}
}
