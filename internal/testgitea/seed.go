package testgitea

import (
	"context"
	"fmt"
	"net/http"
)

// The seeded world. Tests refer to these names rather than repeating strings.
const (
	// AliceName owns AliceRepo (private): README.md, GuideFile, issue
	// #AliceIssue and open pull request #AlicePull from PullBranch.
	AliceName  = "alice"
	AliceRepo  = "notes"
	AliceIssue = 1
	AlicePull  = 2
	PullBranch = "feature/greeting"
	GuideFile  = "docs/guide.md"
	// GuideContent is GuideFile's content on the default branch.
	GuideContent = "# Guide\n\nAlice's private guide.\n"

	// BobName owns BobPrivateRepo (private) and BobPublicRepo (public).
	BobName        = "bob"
	BobPrivateRepo = "secrets"
	BobPublicRepo  = "website"

	// Org owns OrgRepo (private); its team OrgTeam gives bob read-only access to it.
	Org     = "acme"
	OrgRepo = "handbook"
	OrgTeam = "readers"

	// PATReadRepository names a personal access token with read:repository
	// and read:user, seeded for alice and bob.
	PATReadRepository = "read-repository"
)

// Users returns the seeded non-admin accounts by name.
func (g *Gitea) Users() map[string]Account { return g.users }

// User returns the seeded account name; it panics on an unknown name, a
// programmer error in a test.
func (g *Gitea) User(name string) Account {
	a, ok := g.users[name]
	if !ok {
		panic("testgitea: no seeded user " + name)
	}
	return a
}

func (g *Gitea) seed(ctx context.Context) error {
	g.users = map[string]Account{}
	g.PATs = map[string]map[string]string{}
	for _, name := range []string{AliceName, BobName} {
		if err := g.createUser(ctx, name); err != nil {
			return err
		}
	}
	steps := []func(context.Context) error{g.seedAlice, g.seedBob, g.seedOrg,
		g.seedPeople, g.seedGit, g.seedTracker, g.seedReleases}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	for _, name := range []string{AliceName, BobName} {
		if err := g.createPAT(ctx, name, PATReadRepository, "read:repository", "read:user"); err != nil {
			return err
		}
	}
	return nil
}

func (g *Gitea) createUser(ctx context.Context, name string) error {
	a := Account{Name: name, Password: randomPassword(), Email: name + "@example.test"}
	if err := g.CreateUser(ctx, a); err != nil {
		return err
	}
	g.users[name] = a
	return nil
}

// createRepo and putFile are the seed's short names for localgitea's
// CreateRepo and PutFile (promoted; testgitea must not define its own, or
// these would call themselves).
func (g *Gitea) createRepo(ctx context.Context, owner, name string, private, org bool) error {
	return g.CreateRepo(ctx, owner, name, private, org)
}

// putFile commits a new file as the repository owner, on newBranch if set.
func (g *Gitea) putFile(ctx context.Context, owner, repo, path, content, newBranch string) error {
	return g.PutFile(ctx, owner, repo, path, content, newBranch)
}

func (g *Gitea) seedAlice(ctx context.Context) error {
	if err := g.createRepo(ctx, AliceName, AliceRepo, true, false); err != nil {
		return err
	}
	if err := g.putFile(ctx, AliceName, AliceRepo, GuideFile, GuideContent, ""); err != nil {
		return err
	}
	issue, err := g.CreateIssue(ctx, AliceName, AliceRepo, "Write the guide", "The guide needs a section on setup.")
	if err != nil {
		return err
	}
	if issue != AliceIssue {
		return fmt.Errorf("alice's issue is #%d, want #%d", issue, AliceIssue)
	}
	if err := g.putFile(ctx, AliceName, AliceRepo, "greeting.txt", "Hello from the feature branch.\n", PullBranch); err != nil {
		return err
	}
	pull, err := g.CreatePull(ctx, AliceName, AliceRepo, PullBranch, "main", "Add a greeting", "Adds greeting.txt.")
	if err != nil {
		return err
	}
	if pull != AlicePull {
		return fmt.Errorf("alice's pull request is #%d, want #%d", pull, AlicePull)
	}
	return nil
}

func (g *Gitea) seedBob(ctx context.Context) error {
	if err := g.createRepo(ctx, BobName, BobPrivateRepo, true, false); err != nil {
		return err
	}
	return g.createRepo(ctx, BobName, BobPublicRepo, false, false)
}

func (g *Gitea) seedOrg(ctx context.Context) error {
	err := g.api(ctx, apiCall{method: http.MethodPost, path: "/api/v1/orgs", want: http.StatusCreated,
		body: map[string]any{"username": Org, "visibility": "public"}}, nil)
	if err != nil {
		return err
	}
	if err := g.createRepo(ctx, Org, OrgRepo, true, true); err != nil {
		return err
	}
	var team struct{ ID int64 }
	units := []string{"repo.code", "repo.issues", "repo.pulls", "repo.releases", "repo.wiki"}
	unitsMap := map[string]string{}
	for _, u := range units {
		unitsMap[u] = "read"
	}
	err = g.api(ctx, apiCall{method: http.MethodPost, path: "/api/v1/orgs/" + Org + "/teams", want: http.StatusCreated,
		body: map[string]any{"name": OrgTeam, "permission": "read", "includes_all_repositories": false,
			"units": units, "units_map": unitsMap}}, &team)
	if err != nil {
		return err
	}
	teamPath := fmt.Sprintf("/api/v1/teams/%d", team.ID)
	if err := g.api(ctx, apiCall{method: http.MethodPut, path: teamPath + "/members/" + BobName, want: http.StatusNoContent}, nil); err != nil {
		return err
	}
	return g.api(ctx, apiCall{method: http.MethodPut, path: teamPath + "/repos/" + Org + "/" + OrgRepo, want: http.StatusNoContent}, nil)
}

// createPAT creates a personal access token; Gitea only lets the user
// itself do that, with its password.
func (g *Gitea) createPAT(ctx context.Context, user, name string, scopes ...string) error {
	a := g.User(user)
	var tok struct {
		SHA1 string `json:"sha1"`
	}
	err := g.api(ctx, apiCall{method: http.MethodPost, path: "/api/v1/users/" + user + "/tokens", as: &a,
		want: http.StatusCreated, body: map[string]any{"name": name, "scopes": scopes}}, &tok)
	if err != nil {
		return err
	}
	if g.PATs[user] == nil {
		g.PATs[user] = map[string]string{}
	}
	g.PATs[user][name] = tok.SHA1
	return nil
}
