package e2e

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// peopleScopes is every scope the identity, organization, repository-detail
// and notification tools need.
const peopleScopes = "openid read:repository read:user read:organization read:notification"

type peoplePerson struct {
	Login    string `json:"login"`
	FullName string `json:"full_name"`
}

type peopleRepo struct {
	FullName   string `json:"full_name"`
	Fork       bool   `json:"fork"`
	Private    bool   `json:"private"`
	Permission string `json:"permission"`
}

type peoplePage struct {
	NextPage int   `json:"next_page"`
	Total    int64 `json:"total"`
}

func TestPeopleUsers(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, peopleScopes)
	alice := a.token(t, g, testgitea.AliceName, peopleScopes).AccessToken

	var bob struct {
		Login   string    `json:"login"`
		ID      int64     `json:"id"`
		Created time.Time `json:"created"`
		URL     string    `json:"url"`
		Email   string    `json:"email"`
	}
	res := mustDecode(t, a, alice, "get_user", map[string]any{"username": testgitea.BobName}, &bob)
	if bob.Login != testgitea.BobName || bob.ID == 0 || bob.Created.IsZero() || bob.URL != g.URL+"/bob" || bob.Email != "" {
		t.Errorf("get_user bob = %s", res.Body)
	}
	if !strings.HasPrefix(res.Text, "[untrusted content]") {
		t.Errorf("get_user text %q is not marked untrusted though profiles are user-written", res.Text)
	}
	mustRefuse(t, a, alice, "get_user", map[string]any{"username": "nobody-by-this-name"}, "not found")
	mustRefuse(t, a, alice, "get_user", map[string]any{"username": "../admin"}, "username")

	var found struct {
		Users []peoplePerson `json:"users"`
		peoplePage
	}
	mustDecode(t, a, alice, "search_users", map[string]any{"query": "bo"}, &found)
	if !slices.ContainsFunc(found.Users, func(p peoplePerson) bool { return p.Login == testgitea.BobName }) ||
		slices.ContainsFunc(found.Users, func(p peoplePerson) bool { return p.Login == testgitea.AliceName }) {
		t.Errorf("search_users bo = %+v, want bob and not alice", found.Users)
	}
	// Organizations are not users: acme is never found.
	mustDecode(t, a, alice, "search_users", map[string]any{"query": testgitea.Org}, &found)
	if len(found.Users) != 0 {
		t.Errorf("search_users acme = %+v, want no users", found.Users)
	}
	// Paginated: one user per page, with the total Gitea reports.
	mustDecode(t, a, alice, "search_users", map[string]any{"query": "i", "limit": 1}, &found)
	if len(found.Users) != 1 || found.NextPage != 2 || found.Total < 2 {
		t.Errorf("search_users i, limit 1 = %+v, want one user, next page 2, total >= 2 (alice, siteadmin)", found)
	}
	if res := a.toolCall(t, alice, "search_users", map[string]any{"query": ""}); res.Status != http.StatusBadRequest || !strings.Contains(res.Body, "query") {
		t.Errorf("search_users with an empty query = %d %s, want 400 naming query", res.Status, res.Body)
	}
}

func TestPeopleOrganizations(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, peopleScopes)
	alice := a.token(t, g, testgitea.AliceName, peopleScopes).AccessToken
	bob := a.token(t, g, testgitea.BobName, peopleScopes).AccessToken

	type org struct {
		Name        string `json:"name"`
		FullName    string `json:"full_name"`
		Description string `json:"description"`
		Visibility  string `json:"visibility"`
	}
	var orgs struct {
		Organizations []org `json:"organizations"`
		peoplePage
	}
	names := func() []string {
		var out []string
		for _, o := range orgs.Organizations {
			out = append(out, o.Name)
		}
		return out
	}
	mustDecode(t, a, alice, "list_my_organizations", nil, &orgs)
	if got := names(); !slices.Contains(got, testgitea.PeopleOrg) || slices.Contains(got, testgitea.Org) {
		t.Errorf("alice's organizations = %v, want %s and not %s", got, testgitea.PeopleOrg, testgitea.Org)
	}
	mustDecode(t, a, bob, "list_my_organizations", map[string]any{"limit": 10}, &orgs)
	if got := names(); !slices.Contains(got, testgitea.Org) || slices.Contains(got, testgitea.PeopleOrg) {
		t.Errorf("bob's organizations = %v, want %s and never alice's private %s", got, testgitea.Org, testgitea.PeopleOrg)
	}

	var guild org
	mustDecode(t, a, alice, "get_organization", map[string]any{"org": testgitea.PeopleOrg}, &guild)
	if guild.Name != testgitea.PeopleOrg || guild.FullName != "The Guild" || guild.Visibility != "private" || !strings.Contains(guild.Description, "private organisation") {
		t.Errorf("get_organization guild as alice = %+v", guild)
	}
	var acme org
	mustDecode(t, a, alice, "get_organization", map[string]any{"org": testgitea.Org}, &acme)
	if acme.Name != testgitea.Org || acme.Visibility != "public" {
		t.Errorf("get_organization acme as alice (a public organization) = %+v", acme)
	}
	mustRefuse(t, a, bob, "get_organization", map[string]any{"org": testgitea.PeopleOrg}, "not found")
	mustRefuse(t, a, bob, "get_organization", map[string]any{"org": "no-such-org"}, "not found")

	type team struct {
		Name       string            `json:"name"`
		Permission string            `json:"permission"`
		Units      map[string]string `json:"units"`
	}
	var teams struct {
		Teams []team `json:"teams"`
		peoplePage
	}
	mustDecode(t, a, bob, "list_organization_teams", map[string]any{"org": testgitea.Org}, &teams)
	i := slices.IndexFunc(teams.Teams, func(tm team) bool { return tm.Name == testgitea.OrgTeam })
	if i < 0 || teams.Teams[i].Permission != "" || teams.Teams[i].Units["code"] != "read" || teams.Teams[i].Units["issues"] != "read" || teams.Teams[i].Units["pulls"] != "read" {
		t.Errorf("acme's teams as bob = %+v, want %s with read access to code and issues", teams.Teams, testgitea.OrgTeam)
	}
	if len(teams.Teams) > 1 {
		// More teams than one page of one: the list continues.
		mustDecode(t, a, bob, "list_organization_teams", map[string]any{"org": testgitea.Org, "limit": 1}, &teams)
		if len(teams.Teams) != 1 || teams.NextPage != 2 {
			t.Errorf("acme's teams, limit 1 = %+v, want one team and next page 2", teams)
		}
	}
	mustDecode(t, a, alice, "list_organization_teams", map[string]any{"org": testgitea.PeopleOrg}, &teams)
	if len(teams.Teams) != 1 || teams.Teams[0].Name != "Owners" || teams.Teams[0].Permission != "owner" {
		t.Errorf("guild's teams as its owner = %+v, want Owners", teams.Teams)
	}
	// Gitea lists teams to members only, whether it shows the organization
	// (acme, public) or not (guild, private), and hides a missing one.
	mustRefuse(t, a, alice, "list_organization_teams", map[string]any{"org": testgitea.Org}, "forbidden")
	mustRefuse(t, a, bob, "list_organization_teams", map[string]any{"org": testgitea.PeopleOrg}, "forbidden")
	mustRefuse(t, a, bob, "list_organization_teams", map[string]any{"org": "no-such-org"}, "not found")

	var repos struct {
		Repositories []peopleRepo `json:"repositories"`
		peoplePage
	}
	mustDecode(t, a, bob, "list_organization_repositories", map[string]any{"org": testgitea.Org}, &repos)
	want := testgitea.Org + "/" + testgitea.OrgRepo
	i = slices.IndexFunc(repos.Repositories, func(r peopleRepo) bool { return r.FullName == want })
	if i < 0 || !repos.Repositories[i].Private || repos.Repositories[i].Permission != "read" {
		t.Errorf("acme's repositories as bob = %+v, want %s, private, read", repos.Repositories, want)
	}
	mustDecode(t, a, alice, "list_organization_repositories", map[string]any{"org": testgitea.Org}, &repos)
	if slices.ContainsFunc(repos.Repositories, func(r peopleRepo) bool { return r.FullName == want }) {
		t.Errorf("acme's repositories as alice = %+v, include the private %s she has no access to", repos.Repositories, want)
	}
	// Of a private organization a non-member sees no repository (Gitea
	// answers an empty list rather than not found).
	mustDecode(t, a, bob, "list_organization_repositories", map[string]any{"org": testgitea.PeopleOrg}, &repos)
	if len(repos.Repositories) != 0 {
		t.Errorf("guild's repositories as bob = %+v, want none", repos.Repositories)
	}
	mustRefuse(t, a, bob, "list_organization_repositories", map[string]any{"org": "no-such-org"}, "not found")
	if res := a.toolCall(t, bob, "list_organization_repositories", map[string]any{"org": testgitea.Org, "limit": 51}); res.Status != http.StatusBadRequest || !strings.Contains(res.Body, "limit") {
		t.Errorf("list_organization_repositories with limit 51 = %d %s, want 400 naming limit", res.Status, res.Body)
	}
}

func TestPeopleRepositoryDetails(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, peopleScopes)
	alice := a.token(t, g, testgitea.AliceName, peopleScopes).AccessToken
	bob := a.token(t, g, testgitea.BobName, peopleScopes).AccessToken
	notes := map[string]any{"owner": testgitea.AliceName, "repo": testgitea.AliceRepo}
	website := map[string]any{"owner": testgitea.BobName, "repo": testgitea.BobPublicRepo}
	roadmap := map[string]any{"owner": testgitea.AliceName, "repo": testgitea.RoadmapRepo}

	// Gitea computes language statistics in the background after a push.
	type language struct {
		Name    string  `json:"name"`
		Bytes   int64   `json:"bytes"`
		Percent float64 `json:"percent"`
	}
	var langs struct {
		Languages []language `json:"languages"`
		Note      string     `json:"note"`
	}
	for range 300 { // up to 30 s: Gitea works through its queues in the background
		mustDecode(t, a, bob, "get_repository_languages", roadmap, &langs)
		if len(langs.Languages) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(langs.Languages) != 1 || langs.Languages[0].Name != "Go" || langs.Languages[0].Bytes < 50 || langs.Languages[0].Percent != 100 || langs.Note != "" {
		t.Errorf("languages of alice/roadmap = %+v, want Go only", langs)
	}
	// alice/website, forked before any code was pushed to bob/website, holds a README only.
	mustDecode(t, a, alice, "get_repository_languages", map[string]any{"owner": testgitea.AliceName, "repo": testgitea.AliceFork}, &langs)
	if len(langs.Languages) != 0 || langs.Note == "" {
		t.Errorf("languages of alice/website (a README only) = %+v, want none and a note", langs)
	}
	mustRefuse(t, a, bob, "get_repository_languages", notes, "not found")

	var topics struct {
		Topics []string `json:"topics"`
	}
	mustDecode(t, a, alice, "list_repository_topics", notes, &topics)
	slices.Sort(topics.Topics)
	if !slices.Equal(topics.Topics, []string{testgitea.NotesTopic1, testgitea.NotesTopic2}) {
		t.Errorf("topics of alice/notes = %v", topics.Topics)
	}
	mustDecode(t, a, alice, "list_repository_topics", roadmap, &topics)
	if topics.Topics == nil || len(topics.Topics) != 0 {
		t.Errorf("topics of alice/roadmap = %#v, want an empty list", topics.Topics)
	}
	mustRefuse(t, a, bob, "list_repository_topics", notes, "not found")

	var collaborators struct {
		Collaborators []peoplePerson `json:"collaborators"`
		peoplePage
	}
	logins := func() []string {
		var out []string
		for _, c := range collaborators.Collaborators {
			out = append(out, c.Login)
		}
		return out
	}
	mustDecode(t, a, bob, "list_repository_collaborators", website, &collaborators)
	if got := logins(); !slices.Contains(got, testgitea.AliceName) || slices.Contains(got, testgitea.BobName) {
		t.Errorf("collaborators of bob/website as its owner = %v, want alice (and not the owner)", got)
	}
	// A read-only collaborator may list them too.
	mustDecode(t, a, alice, "list_repository_collaborators", website, &collaborators)
	if got := logins(); !slices.Contains(got, testgitea.AliceName) {
		t.Errorf("collaborators of bob/website as alice, a read-only collaborator = %v, want alice", got)
	}
	// So may a read-only team member of an organization repository, and
	// anyone signed in, of a public repository.
	mustDecode(t, a, bob, "list_repository_collaborators", map[string]any{"owner": testgitea.Org, "repo": testgitea.OrgRepo}, &collaborators)
	mustDecode(t, a, bob, "list_repository_collaborators", map[string]any{"owner": testgitea.AliceName, "repo": testgitea.RoadmapRepo}, &collaborators)
	mustRefuse(t, a, alice, "list_repository_collaborators", map[string]any{"owner": testgitea.BobName, "repo": testgitea.BobPrivateRepo}, "not found")

	var forks struct {
		Forks []peopleRepo `json:"forks"`
		peoplePage
	}
	mustDecode(t, a, bob, "list_forks", website, &forks)
	fork := testgitea.AliceName + "/" + testgitea.AliceFork
	i := slices.IndexFunc(forks.Forks, func(r peopleRepo) bool { return r.FullName == fork })
	if i < 0 || !forks.Forks[i].Fork || forks.Forks[i].Private || forks.Forks[i].Permission != "read" {
		t.Errorf("forks of bob/website as bob = %+v, want %s, public, which bob may read", forks.Forks, fork)
	}
	mustDecode(t, a, alice, "list_forks", map[string]any{"owner": testgitea.BobName, "repo": testgitea.BobPublicRepo, "page": 2}, &forks)
	if len(forks.Forks) != 0 || forks.NextPage != 0 {
		t.Errorf("forks of bob/website, page 2 = %+v, want an empty last page", forks)
	}
	mustRefuse(t, a, bob, "list_forks", notes, "not found")
	mustRefuse(t, a, bob, "list_forks", map[string]any{"owner": "bob", "repo": "a/b"}, "repo")
}

// peopleMarkRead marks one of user's notification threads read through
// Gitea's API, as the user would in the web interface.
func peopleMarkRead(t *testing.T, g *testgitea.Gitea, user string, id int64) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPatch, fmt.Sprintf("%s/api/v1/notifications/threads/%d?to-status=read", g.URL, id), nil)
	if err != nil {
		t.Fatal(err)
	}
	acct := g.User(user)
	req.SetBasicAuth(acct.Name, acct.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusResetContent {
		t.Fatalf("marking notification %d read: status %d", id, resp.StatusCode)
	}
}

func TestPeopleNotifications(t *testing.T) {
	g := needGitea(t)
	a := startAegisFor(t, g, peopleScopes)
	alice := a.token(t, g, testgitea.AliceName, peopleScopes).AccessToken
	bob := a.token(t, g, testgitea.BobName, peopleScopes).AccessToken

	type notification struct {
		ID         int64  `json:"id"`
		Title      string `json:"title"`
		Type       string `json:"type"`
		Number     int64  `json:"number"`
		State      string `json:"state"`
		Repository string `json:"repository"`
		Unread     bool   `json:"unread"`
		URL        string `json:"url"`
	}
	var list struct {
		Notifications []notification `json:"notifications"`
		peoplePage
	}
	find := func(title string) *notification {
		for i := range list.Notifications {
			if list.Notifications[i].Title == title {
				return &list.Notifications[i]
			}
		}
		return nil
	}
	// Gitea creates notifications through a queue: wait for bob's two
	// mentions of alice to arrive, briefly.
	var res toolResult
	for range 300 { // up to 30 s: Gitea works through its queues in the background
		res = mustDecode(t, a, alice, "list_notifications", map[string]any{"all": true}, &list)
		if find(testgitea.MentionTitle) != nil && find(testgitea.ReadMentionTitle) != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	mention, read := find(testgitea.MentionTitle), find(testgitea.ReadMentionTitle)
	if mention == nil || read == nil {
		t.Fatalf("alice's notifications = %s, want bob's two mentions", res.Body)
	}
	roadmap := testgitea.AliceName + "/" + testgitea.RoadmapRepo
	if mention.Type != "Issue" || mention.Repository != roadmap || mention.Number < 1 || mention.State != "open" ||
		!strings.HasPrefix(mention.URL, g.URL+"/"+roadmap+"/issues/") {
		t.Errorf("mention notification = %+v", *mention)
	}
	if !strings.HasPrefix(res.Text, "[untrusted content]") {
		t.Errorf("list_notifications text %q is not marked untrusted though titles are user-written", res.Text)
	}

	peopleMarkRead(t, g, testgitea.AliceName, read.ID)
	mustDecode(t, a, alice, "list_notifications", nil, &list)
	if m := find(testgitea.MentionTitle); m == nil || !m.Unread || find(testgitea.ReadMentionTitle) != nil {
		t.Errorf("alice's unread notifications = %+v, want the unread mention only", list.Notifications)
	}
	mustDecode(t, a, alice, "list_notifications", map[string]any{"all": true}, &list)
	if r := find(testgitea.ReadMentionTitle); r == nil || r.Unread || find(testgitea.MentionTitle) == nil {
		t.Errorf("all alice's notifications = %+v, want both mentions, one read", list.Notifications)
	}
	mustDecode(t, a, alice, "list_notifications", map[string]any{"all": true, "limit": 1}, &list)
	if len(list.Notifications) != 1 || list.NextPage != 2 || list.Total < 2 {
		t.Errorf("alice's notifications, limit 1 = %+v, want one and a next page", list)
	}

	// Notifications are the caller's own: bob, who wrote the issues, has none of them.
	mustDecode(t, a, bob, "list_notifications", map[string]any{"all": true}, &list)
	if find(testgitea.MentionTitle) != nil || find(testgitea.ReadMentionTitle) != nil {
		t.Errorf("bob's notifications = %+v, include alice's", list.Notifications)
	}
	if res := a.toolCall(t, alice, "list_notifications", map[string]any{"all": "yes"}); res.Status != http.StatusBadRequest || !strings.Contains(res.Body, "all") {
		t.Errorf("list_notifications with all=\"yes\" = %d %s, want 400 naming all", res.Status, res.Body)
	}
}

// TestPeopleScopes checks each tool's declared scopes against Gitea: a
// token without one of them is refused by this server before Gitea is
// called, and Gitea itself refuses the endpoint to such a token; with the
// scope, Gitea answers.
func TestPeopleScopes(t *testing.T) {
	g := needGitea(t)
	e := endpoint(t, g)
	ctx := t.Context()
	notes := map[string]any{"owner": testgitea.AliceName, "repo": testgitea.AliceRepo}
	org := map[string]any{"org": testgitea.PeopleOrg}

	tests := []struct {
		scope   string
		refused map[string]map[string]any // tool: arguments
		allowed map[string]map[string]any
		gitea   func(c *gitea.Client) map[string]error // endpoint: error, all want ErrForbidden
		works   func(c *gitea.Client) error
	}{
		{
			scope: "openid read:repository",
			refused: map[string]map[string]any{
				"get_user": {"username": testgitea.BobName}, "search_users": {"query": "bob"},
				"list_my_organizations": nil, "get_organization": org, "list_organization_teams": org,
				"list_organization_repositories": org, "list_notifications": nil,
			},
			allowed: map[string]map[string]any{
				"get_repository_languages": notes, "list_repository_topics": notes,
				"list_repository_collaborators": notes, "list_forks": notes,
			},
			gitea: func(c *gitea.Client) map[string]error {
				_, err1 := c.UserProfile(ctx, testgitea.BobName)
				_, _, err2 := c.SearchUsers(ctx, "bob", gitea.ListOptions{})
				_, _, err3 := c.MyOrganizations(ctx, gitea.ListOptions{})
				_, err4 := c.Organization(ctx, testgitea.PeopleOrg)
				_, _, err5 := c.OrganizationTeams(ctx, testgitea.PeopleOrg, gitea.ListOptions{})
				_, _, err6 := c.OrganizationRepositories(ctx, testgitea.PeopleOrg, gitea.ListOptions{})
				_, _, err7 := c.Notifications(ctx, gitea.NotificationFilter{}, gitea.ListOptions{})
				return map[string]error{"users/{username}": err1, "users/search": err2, "user/orgs": err3, "orgs/{org}": err4,
					"orgs/{org}/teams": err5, "orgs/{org}/repos": err6, "notifications": err7}
			},
			works: func(c *gitea.Client) error {
				_, err := c.RepositoryTopics(ctx, testgitea.AliceName, testgitea.AliceRepo)
				return err
			},
		},
		{
			scope: "openid read:organization",
			refused: map[string]map[string]any{
				"list_my_organizations": nil, "get_repository_languages": notes, "list_repository_topics": notes,
				"list_repository_collaborators": notes, "list_forks": notes, "get_user": {"username": testgitea.BobName},
			},
			allowed: map[string]map[string]any{"get_organization": org, "list_organization_teams": org, "list_organization_repositories": org},
			gitea: func(c *gitea.Client) map[string]error {
				_, _, err1 := c.MyOrganizations(ctx, gitea.ListOptions{})
				_, err2 := c.RepositoryLanguages(ctx, testgitea.AliceName, testgitea.AliceRepo)
				_, err3 := c.RepositoryTopics(ctx, testgitea.AliceName, testgitea.AliceRepo)
				_, _, err4 := c.Collaborators(ctx, testgitea.AliceName, testgitea.AliceRepo, gitea.ListOptions{})
				_, _, err5 := c.Forks(ctx, testgitea.AliceName, testgitea.AliceRepo, gitea.ListOptions{})
				return map[string]error{"user/orgs": err1, "repos/{o}/{r}/languages": err2, "repos/{o}/{r}/topics": err3,
					"repos/{o}/{r}/collaborators": err4, "repos/{o}/{r}/forks": err5}
			},
			// An organization's repositories need read:organization only.
			works: func(c *gitea.Client) error {
				_, _, err := c.OrganizationRepositories(ctx, testgitea.Org, gitea.ListOptions{})
				return err
			},
		},
		{
			scope: "openid read:user read:notification",
			refused: map[string]map[string]any{
				"list_my_organizations": nil, "get_organization": org, "list_forks": notes,
			},
			allowed: map[string]map[string]any{"get_user": {"username": testgitea.BobName}, "search_users": {"query": "bob"}, "list_notifications": nil},
			gitea: func(c *gitea.Client) map[string]error {
				_, _, err := c.MyOrganizations(ctx, gitea.ListOptions{})
				return map[string]error{"user/orgs": err}
			},
			works: func(c *gitea.Client) error {
				_, _, err := c.Notifications(ctx, gitea.NotificationFilter{All: true}, gitea.ListOptions{})
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			a := startAegisFor(t, g, tt.scope)
			tok := a.token(t, g, testgitea.AliceName, tt.scope).AccessToken
			for _, name := range slices.Sorted(maps.Keys(tt.refused)) {
				res := a.toolCall(t, tok, name, tt.refused[name])
				if res.Status != http.StatusForbidden || !strings.Contains(res.WWWAuthenticate, `error="insufficient_scope"`) {
					t.Errorf("%s with %q = %d %s (WWW-Authenticate %q), want 403 insufficient_scope", name, tt.scope, res.Status, res.Body, res.WWWAuthenticate)
				}
			}
			for _, name := range slices.Sorted(maps.Keys(tt.allowed)) {
				if res := a.toolCall(t, tok, name, tt.allowed[name]); res.Status != http.StatusOK || res.IsError {
					t.Errorf("%s with %q = %d %s, want a result", name, tt.scope, res.Status, res.Body)
				}
			}
			c := e.As(tok)
			for path, err := range tt.gitea(c) {
				if !errors.Is(err, gitea.ErrForbidden) {
					t.Errorf("Gitea's GET /api/v1/%s with %q: error = %v, want ErrForbidden (a scope it requires is missing)", path, tt.scope, err)
				}
			}
			if err := tt.works(c); err != nil {
				t.Errorf("Gitea with %q: %v, want an answer", tt.scope, err)
			}
		})
	}
}
