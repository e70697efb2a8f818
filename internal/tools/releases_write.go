package tools

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// The write tools of releases, the wiki and Gitea Actions, all under the
// write:repository scope.
func releaseWriteTools() []*Tool {
	return []*Tool{
		createRelease.Tool(), updateRelease.Tool(), deleteRelease.Tool(),
		createWikiPage.Tool(), updateWikiPage.Tool(), deleteWikiPage.Tool(),
		dispatchWorkflow.Tool(), rerunWorkflowRun.Tool(),
	}
}

var relWriteScopes = []gitea.Scope{gitea.ScopeWriteRepository}

// releaseWriteOut is a release after a change: what Gitea stored.
type releaseWriteOut struct {
	ID         int64  `json:"id"`
	Tag        string `json:"tag"`
	Target     string `json:"target,omitempty"`
	Draft      bool   `json:"draft,omitempty"`
	Prerelease bool   `json:"prerelease,omitempty"`
	URL        string `json:"url"`
}

func releaseWritten(r *gitea.Release) releaseWriteOut {
	return releaseWriteOut{ID: r.ID, Tag: r.TagName, Target: r.Target, Draft: r.Draft, Prerelease: r.Prerelease, URL: r.HTMLURL}
}

// relNotNull makes the optional fields of an edit plain types: a field is
// left out to keep it, never null.
func relNotNull(s *jsonschema.Schema) {
	for _, p := range s.Properties {
		if len(p.Types) == 2 && p.Types[0] == "null" {
			p.Type, p.Types = p.Types[1], nil
		}
	}
}

// releaseIDBound sets the bound of a release id.
func releaseIDBound(s *jsonschema.Schema) {
	one := 1.0
	s.Properties["id"].Minimum = &one
}

type createReleaseIn struct {
	RepoRef
	Tag        string `json:"tag" jsonschema:"e.g. v1.2.0"`
	Target     string `json:"target,omitempty" jsonschema:"branch or SHA for a new tag"`
	Name       string `json:"name,omitempty"`
	Body       string `json:"body,omitempty" jsonschema:"notes"`
	Draft      bool   `json:"draft,omitempty"`
	Prerelease bool   `json:"prerelease,omitempty"`
}

var createRelease = Def[createReleaseIn, releaseWriteOut]{
	Name:   "create_release",
	Title:  "Create a release",
	Desc:   "Creates a release; a new tag is made at target on publish.",
	Scopes: relWriteScopes,
	Access: Write,
	Area:   AreaReleases,
	Run: func(ctx context.Context, e *Env, in createReleaseIn) (releaseWriteOut, error) {
		r, err := e.CreateRelease(ctx, in.Owner, in.Repo, gitea.ReleaseCreate{TagName: in.Tag, Target: in.Target, Name: in.Name,
			Body: in.Body, Draft: in.Draft, Prerelease: in.Prerelease})
		if errors.Is(err, gitea.ErrNotFound) && in.Target != "" && e.relRepoVisible(ctx, in.RepoRef) {
			return releaseWriteOut{}, Notice("not found: the target branch or commit does not exist. Nothing was created.")
		}
		if err != nil {
			return releaseWriteOut{}, err
		}
		return releaseWritten(r), nil
	},
}

type updateReleaseIn struct {
	RepoRef
	ID         int64   `json:"id" jsonschema:"release id (list_releases)"`
	Tag        *string `json:"tag,omitempty" jsonschema:"new tag; old one stays"`
	Target     *string `json:"target,omitempty"`
	Name       *string `json:"name,omitempty"`
	Body       *string `json:"body,omitempty" jsonschema:"replaces the notes"`
	Draft      *bool   `json:"draft,omitempty" jsonschema:"false publishes"`
	Prerelease *bool   `json:"prerelease,omitempty"`
}

var updateRelease = Def[updateReleaseIn, releaseWriteOut]{
	Name:       "update_release",
	Title:      "Update a release",
	Desc:       "Edits a release; omitted fields stay.",
	Scopes:     relWriteScopes,
	Access:     Destructive, // it overwrites the notes, of which Gitea keeps no history
	Area:       AreaReleases,
	Idempotent: true,
	Schema:     func(s *jsonschema.Schema) { releaseIDBound(s); relNotNull(s) },
	Confirm: func(in updateReleaseIn) string {
		what := "Update"
		if in.Body != nil {
			what = "Replace the notes of"
		}
		return fmt.Sprintf("%s release %d in %s/%s?", what, in.ID, in.Owner, in.Repo)
	},
	Run: func(ctx context.Context, e *Env, in updateReleaseIn) (releaseWriteOut, error) {
		r, err := e.EditRelease(ctx, in.Owner, in.Repo, in.ID, gitea.ReleaseEdit{TagName: in.Tag, Target: in.Target, Name: in.Name,
			Body: in.Body, Draft: in.Draft, Prerelease: in.Prerelease})
		if err != nil {
			return releaseWriteOut{}, err
		}
		return releaseWritten(r), nil
	},
}

type deleteReleaseIn struct {
	RepoRef
	ID  int64  `json:"id" jsonschema:"release id (list_releases)"`
	Tag string `json:"tag" jsonschema:"its tag, checked"`
}

var deleteRelease = Def[deleteReleaseIn, deletedOut]{
	Name:   "delete_release",
	Title:  "Delete a release",
	Desc:   "Deletes a release and its assets; its git tag stays.",
	Scopes: relWriteScopes,
	Access: Destructive,
	Area:   AreaReleases,
	// Ids are never reused: a second call finds nothing to delete.
	Idempotent: true,
	Schema:     releaseIDBound,
	Confirm: func(in deleteReleaseIn) string {
		return fmt.Sprintf("Delete release %s (id %d) in %s/%s? The tag stays.", in.Tag, in.ID, in.Owner, in.Repo)
	},
	Run: func(ctx context.Context, e *Env, in deleteReleaseIn) (deletedOut, error) {
		// The human confirmed a tag and an id: delete only if they agree.
		r, err := e.Release(ctx, in.Owner, in.Repo, in.ID)
		if err != nil {
			return deletedOut{}, err
		}
		if r.TagName != in.Tag {
			return deletedOut{}, Notice(fmt.Sprintf("release %d has another tag: nothing was deleted. get_release shows its tag.", in.ID))
		}
		if err := e.DeleteRelease(ctx, in.Owner, in.Repo, in.ID); err != nil {
			return deletedOut{}, err
		}
		return deletedOut{Deleted: fmt.Sprintf("release %d; its tag %s stays", in.ID, in.Tag)}, nil
	},
}
