package testgitea

import (
	"context"
	"fmt"
	"net/http"
)

// The people, organisations and repository details the identity,
// organisation and notification tools are tested on.
const (
	// PeopleOrg is a private organisation alice created (so she owns it);
	// bob is not a member and cannot see it.
	PeopleOrg = "guild"
	// NotesTopic1 and NotesTopic2 are the topics of alice/notes.
	NotesTopic1 = "docs"
	NotesTopic2 = "notes"
	// AliceFork is alice's fork of bob/website: alice/website. Alice is
	// also a read-only collaborator on bob/website.
	AliceFork = BobPublicRepo
	// RoadmapRepo is alice's public repository alice/roadmap. It holds
	// RoadmapCode (Go) and the issues bob opened there mentioning alice:
	// MentionTitle and ReadMentionTitle, each a notification for alice.
	RoadmapRepo      = "roadmap"
	RoadmapCode      = "main.go"
	MentionTitle     = "Plan the next milestone"
	ReadMentionTitle = "Review the roadmap draft"
)

func (g *Gitea) seedPeople(ctx context.Context) error {
	calls := []apiCall{
		{method: http.MethodPut, path: "/api/v1/repos/alice/notes/topics", sudo: AliceName, want: http.StatusNoContent,
			body: map[string]any{"topics": []string{NotesTopic1, NotesTopic2}}},
		{method: http.MethodPost, path: "/api/v1/repos/bob/website/forks", sudo: AliceName, want: http.StatusAccepted,
			body: map[string]any{}},
		{method: http.MethodPut, path: "/api/v1/repos/bob/website/collaborators/alice", sudo: BobName, want: http.StatusNoContent,
			body: map[string]any{"permission": "read"}},
		{method: http.MethodPost, path: "/api/v1/orgs", sudo: AliceName, want: http.StatusCreated,
			body: map[string]any{"username": PeopleOrg, "full_name": "The Guild", "visibility": "private",
				"description": "Alice's private organisation."}},
	}
	for _, c := range calls {
		if err := g.api(ctx, c, nil); err != nil {
			return err
		}
	}
	if err := g.createRepo(ctx, AliceName, RoadmapRepo, false, false); err != nil {
		return err
	}
	code := "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"roadmap\")\n}\n"
	if err := g.putFile(ctx, AliceName, RoadmapRepo, RoadmapCode, code, ""); err != nil {
		return err
	}
	// Gitea notifies a user mentioned in a new issue; it does so through a
	// queue, so the notifications appear a moment after these calls.
	for _, title := range []string{ReadMentionTitle, MentionTitle} {
		err := g.api(ctx, apiCall{method: http.MethodPost, path: "/api/v1/repos/alice/" + RoadmapRepo + "/issues", sudo: BobName,
			want: http.StatusCreated, body: map[string]any{"title": title, "body": fmt.Sprintf("@%s what do you think?", AliceName)}}, nil)
		if err != nil {
			return err
		}
	}
	return nil
}
