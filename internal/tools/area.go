package tools

import "slices"

// Area is a toolset: the part of Gitea a tool works on. Operators narrow
// what a server offers by area (TOOLSETS), clients narrow a connection
// further, and policy rules may name areas.
type Area string

// The areas, one per part of Gitea.
const (
	AreaUsers         Area = "users"         // accounts and organizations
	AreaNotifications Area = "notifications" // the caller's notification inbox
	AreaRepos         Area = "repos"         // repositories, branches, tags, commits and files
	AreaIssues        Area = "issues"        // issues, comments, labels and milestones
	AreaPulls         Area = "pulls"         // pull requests and reviews
	AreaReleases      Area = "releases"
	AreaActions       Area = "actions" // Gitea Actions workflows and runs
	AreaWiki          Area = "wiki"
	AreaSearch        Area = "search" // the search and fetch pair ChatGPT uses
)

// Areas lists every area, in a stable order.
var Areas = []Area{AreaUsers, AreaNotifications, AreaRepos, AreaIssues, AreaPulls, AreaReleases, AreaActions, AreaWiki, AreaSearch}

// Valid reports whether a is one of [Areas].
func (a Area) Valid() bool { return slices.Contains(Areas, a) }
