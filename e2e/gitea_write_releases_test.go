package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

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
