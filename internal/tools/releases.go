package tools

import (
	"context"
	"errors"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

func releaseTools() []*Tool {
	return []*Tool{listReleases.Tool(), getRelease.Tool(), getLatestRelease.Tool(), getReleaseByTag.Tool()}
}

// releaseSummary is a release in a list: no notes, no assets.
type releaseSummary struct {
	ID          int64      `json:"id"`
	Tag         string     `json:"tag"`
	Name        UserText   `json:"name,omitempty"`
	Draft       bool       `json:"draft,omitempty"`
	Prerelease  bool       `json:"prerelease,omitempty"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	Author      string     `json:"author"`
}

func relSummarize(r *gitea.Release) releaseSummary {
	return releaseSummary{ID: r.ID, Tag: r.TagName, Name: UserText(r.Name), Draft: r.Draft, Prerelease: r.Prerelease,
		PublishedAt: actTime(r.PublishedAt), Author: r.Author.Login}
}

type releaseListIn struct {
	RepoRef
	Paging
}

type releaseListOut struct {
	Releases []releaseSummary `json:"releases"`
	PageOut
}

var listReleases = Def[releaseListIn, releaseListOut]{
	Name:   "list_releases",
	Title:  "List releases",
	Desc:   "Releases, newest first: id, tag, name, draft and prerelease flags, date, author. Drafts only for tokens that may write. Notes and assets: get_release.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaReleases,
	Schema: boundPage,
	Run: func(ctx context.Context, e *Env, in releaseListIn) (releaseListOut, error) {
		rels, info, err := e.ListReleases(ctx, in.Owner, in.Repo, in.options())
		if err != nil {
			return releaseListOut{}, err
		}
		return releaseListOut{Releases: compact(rels, relSummarize), PageOut: pageOut(info)}, nil
	},
}

// releaseOut is one release with its notes and assets.
type releaseOut struct {
	releaseSummary
	Target         string     `json:"target,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	Notes          UserText   `json:"notes,omitempty"`
	NotesTruncated bool       `json:"notes_truncated,omitempty"`
	Assets         []assetOut `json:"assets,omitempty"`
	URL            string     `json:"url"`
}

type assetOut struct {
	Name          UserText `json:"name"`
	Size          int64    `json:"size"`
	DownloadCount int64    `json:"download_count"`
}

func (e *Env) relDetail(r *gitea.Release) releaseOut {
	notes, cut := Cut(r.Body, e.TextBudget())
	out := releaseOut{releaseSummary: relSummarize(r), Target: r.Target, CreatedAt: r.CreatedAt, Notes: UserText(notes),
		NotesTruncated: cut, URL: r.HTMLURL}
	for _, a := range r.Assets {
		out.Assets = append(out.Assets, assetOut{Name: UserText(a.Name), Size: a.Size, DownloadCount: a.DownloadCount})
	}
	return out
}

type getReleaseIn struct {
	RepoRef
	ID int64 `json:"id" jsonschema:"from list_releases"`
}

var getRelease = Def[getReleaseIn, releaseOut]{
	Name:   "get_release",
	Title:  "Get a release",
	Desc:   "Tag, target, author, dates, notes (cut if very long), assets with size and downloads.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaReleases,
	Schema: func(s *jsonschema.Schema) {
		one := 1.0
		s.Properties["id"].Minimum = &one
	},
	Run: func(ctx context.Context, e *Env, in getReleaseIn) (releaseOut, error) {
		r, err := e.Release(ctx, in.Owner, in.Repo, in.ID)
		if err != nil {
			return releaseOut{}, err
		}
		return e.relDetail(r), nil
	},
}

var getLatestRelease = Def[RepoRef, releaseOut]{
	Name:   "get_latest_release",
	Title:  "Get the latest release",
	Desc:   "The newest published release (no drafts or prereleases), with notes and assets.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaReleases,
	Run: func(ctx context.Context, e *Env, in RepoRef) (releaseOut, error) {
		r, err := e.LatestRelease(ctx, in.Owner, in.Repo)
		if errors.Is(err, gitea.ErrNotFound) && e.relRepoVisible(ctx, in) {
			return releaseOut{}, Notice("this repository has no published release yet (drafts and prereleases do not count); list_releases shows every release.")
		}
		if err != nil {
			return releaseOut{}, err
		}
		return e.relDetail(r), nil
	},
}

type getReleaseByTagIn struct {
	RepoRef
	Tag string `json:"tag" jsonschema:"e.g. v1.2.0"`
}

var getReleaseByTag = Def[getReleaseByTagIn, releaseOut]{
	Name:   "get_release_by_tag",
	Title:  "Get a release by tag",
	Desc:   "The release of a git tag, with notes and assets; a tag without one is not found.",
	Scopes: []gitea.Scope{gitea.ScopeReadRepository},
	Access: Read,
	Area:   AreaReleases,
	Schema: func(s *jsonschema.Schema) {
		one, most := 1, 255
		s.Properties["tag"].MinLength, s.Properties["tag"].MaxLength = &one, &most
	},
	Run: func(ctx context.Context, e *Env, in getReleaseByTagIn) (releaseOut, error) {
		r, err := e.ReleaseByTag(ctx, in.Owner, in.Repo, in.Tag)
		if err != nil {
			return releaseOut{}, err
		}
		return e.relDetail(r), nil
	},
}

// relRepoVisible reports whether the caller can see the repository: it tells
// "no such repository" from "the repository has none of these".
func (e *Env) relRepoVisible(ctx context.Context, r RepoRef) bool {
	_, err := e.Repository(ctx, r.Owner, r.Repo)
	return err == nil
}
