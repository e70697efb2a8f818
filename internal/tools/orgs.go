package tools

import (
	"context"
	"strings"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

func orgTools() []*Tool {
	return []*Tool{listMyOrganizations.Tool(), getOrganization.Tool(), listOrganizationTeams.Tool(), listOrganizationRepositories.Tool()}
}

// orgOut is an organization, compact. Its texts are written by its owners.
type orgOut struct {
	Name        string   `json:"name"`
	FullName    UserText `json:"full_name,omitempty"`
	Description UserText `json:"description,omitempty"`
	Website     UserText `json:"website,omitempty"`
	Location    UserText `json:"location,omitempty"`
	Visibility  string   `json:"visibility"` // public, limited or private
}

func compactOrg(o *gitea.Organization) orgOut {
	return orgOut{Name: o.Name, FullName: UserText(o.FullName), Description: UserText(o.Description),
		Website: UserText(o.Website), Location: UserText(o.Location), Visibility: o.Visibility}
}

type orgIn struct {
	Org string `json:"org"`
}

type orgPageIn struct {
	Org string `json:"org"`
	Paging
}

type orgListOut struct {
	Organizations []orgOut `json:"organizations"`
	PageOut
}

var listMyOrganizations = Def[Paging, orgListOut]{
	Name:   "list_my_organizations",
	Title:  "List my organizations",
	Desc:   "Organizations you belong to: name, full name, description, visibility.",
	Scopes: []gitea.Scope{gitea.ScopeReadUser, gitea.ScopeReadOrganization},
	Access: Read,
	Area:   AreaUsers,
	Schema: boundPage,
	Run: func(ctx context.Context, e *Env, in Paging) (orgListOut, error) {
		orgs, info, err := e.MyOrganizations(ctx, in.options())
		if err != nil {
			return orgListOut{}, err
		}
		return orgListOut{Organizations: compact(orgs, compactOrg), PageOut: pageOut(info)}, nil
	},
}

var getOrganization = Def[orgIn, orgOut]{
	Name:   "get_organization",
	Title:  "Get an organization",
	Desc:   "Profile: full name, description, website, location, visibility. Private ones: members only.",
	Scopes: []gitea.Scope{gitea.ScopeReadOrganization},
	Access: Read,
	Area:   AreaUsers,
	Run: func(ctx context.Context, e *Env, in orgIn) (orgOut, error) {
		o, err := e.Organization(ctx, in.Org)
		if err != nil {
			return orgOut{}, err
		}
		return compactOrg(o), nil
	},
}

// teamOut is a team. Permission is its access to every repository unit
// (read, write, admin or owner), absent when access is set per unit; units
// maps each unit (code, issues, pulls, ...) to the team's access, leaving
// out the units it cannot reach.
type teamOut struct {
	Name                    string            `json:"name"`
	Description             UserText          `json:"description,omitempty"`
	Permission              string            `json:"permission,omitempty"`
	IncludesAllRepositories bool              `json:"includes_all_repositories,omitempty"`
	CanCreateOrgRepo        bool              `json:"can_create_org_repo,omitempty"`
	Units                   map[string]string `json:"units,omitempty"`
}

func compactTeam(t *gitea.Team) teamOut {
	out := teamOut{Name: t.Name, Description: UserText(t.Description),
		IncludesAllRepositories: t.IncludesAllRepositories, CanCreateOrgRepo: t.CanCreateOrgRepo}
	if t.Permission != "none" {
		out.Permission = t.Permission
	}
	for unit, access := range t.UnitsMap {
		if access != "" && access != "none" {
			if out.Units == nil {
				out.Units = map[string]string{}
			}
			out.Units[strings.TrimPrefix(unit, "repo.")] = access
		}
	}
	return out
}

type teamListOut struct {
	Teams []teamOut `json:"teams"`
	PageOut
}

var listOrganizationTeams = Def[orgPageIn, teamListOut]{
	Name:   "list_organization_teams",
	Title:  "List an organization's teams",
	Desc:   "Teams: name, permission, repository units. Shown to members only: others get forbidden.",
	Scopes: []gitea.Scope{gitea.ScopeReadOrganization},
	Access: Read,
	Area:   AreaUsers,
	Schema: boundPage,
	Run: func(ctx context.Context, e *Env, in orgPageIn) (teamListOut, error) {
		teams, info, err := e.OrganizationTeams(ctx, in.Org, in.options())
		if err != nil {
			return teamListOut{}, err
		}
		return teamListOut{Teams: compact(teams, compactTeam), PageOut: pageOut(info)}, nil
	},
}

var listOrganizationRepositories = Def[orgPageIn, repoListOut]{
	Name:   "list_organization_repositories",
	Title:  "List an organization's repositories",
	Desc:   "The organization's repositories you can see, with your permission on each.",
	Scopes: []gitea.Scope{gitea.ScopeReadOrganization},
	Access: Read,
	Area:   AreaUsers,
	Schema: boundPage,
	Run: func(ctx context.Context, e *Env, in orgPageIn) (repoListOut, error) {
		repos, info, err := e.OrganizationRepositories(ctx, in.Org, in.options())
		if err != nil {
			return repoListOut{}, err
		}
		return repoListOut{Repositories: compact(keepAllowed(e, repos, repoFullName), compactRepo), PageOut: pageOut(info)}, nil
	},
}
