package tools

import (
	"context"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

func userTools() []*Tool { return []*Tool{getMe.Tool(), getUser.Tool(), searchUsers.Tool()} }

type userOut struct {
	Login    string `json:"login"`
	ID       int64  `json:"id"`
	FullName string `json:"full_name,omitempty"`
	Email    string `json:"email,omitempty"`
	IsAdmin  bool   `json:"is_admin,omitempty"`
	URL      string `json:"url,omitempty"`
}

var getMe = Def[struct{}, userOut]{
	Name:   "get_me",
	Title:  "Who am I",
	Desc:   "The signed-in user all tools act as (who \"my\" means): login, id, full name, email, admin flag.",
	Scopes: []gitea.Scope{gitea.ScopeReadUser},
	Access: Read,
	Area:   AreaUsers,
	Run: func(ctx context.Context, e *Env, _ struct{}) (userOut, error) {
		u, err := e.CurrentUser(ctx)
		if err != nil {
			return userOut{}, err
		}
		return userOut{Login: u.Login, ID: u.ID, FullName: u.FullName, Email: u.Email, IsAdmin: u.IsAdmin, URL: u.HTMLURL}, nil
	},
}

// personOut is another user in a list: who they are, nothing more.
type personOut struct {
	Login    string   `json:"login"`
	FullName UserText `json:"full_name,omitempty"`
	URL      string   `json:"url,omitempty"`
}

func compactPerson(u *gitea.User) personOut {
	return personOut{Login: u.Login, FullName: UserText(u.FullName), URL: u.HTMLURL}
}

// profileOut is a user's public profile. Everything but the counts is
// written by that user.
type profileOut struct {
	Login        string    `json:"login"`
	ID           int64     `json:"id"`
	FullName     UserText  `json:"full_name,omitempty"`
	Description  UserText  `json:"description,omitempty"`
	Location     UserText  `json:"location,omitempty"`
	Website      UserText  `json:"website,omitempty"`
	Visibility   string    `json:"visibility,omitempty"`
	IsAdmin      bool      `json:"is_admin,omitempty"`
	Followers    int       `json:"followers,omitempty"`
	Following    int       `json:"following,omitempty"`
	StarredRepos int       `json:"starred_repos,omitempty"`
	Created      time.Time `json:"created"`
	URL          string    `json:"url,omitempty"`
}

type getUserIn struct {
	Username string `json:"username" jsonschema:"login"`
}

var getUser = Def[getUserIn, profileOut]{
	Name:   "get_user",
	Title:  "Get a user",
	Desc:   "Public profile: full name, bio, location, website, followers, join date. Find logins with search_users.",
	Scopes: []gitea.Scope{gitea.ScopeReadUser},
	Access: Read,
	Area:   AreaUsers,
	Run: func(ctx context.Context, e *Env, in getUserIn) (profileOut, error) {
		p, err := e.UserProfile(ctx, in.Username)
		if err != nil {
			return profileOut{}, err
		}
		return profileOut{
			Login: p.Login, ID: p.ID, FullName: UserText(p.FullName), Description: UserText(p.Description),
			Location: UserText(p.Location), Website: UserText(p.Website), Visibility: p.Visibility, IsAdmin: p.IsAdmin,
			Followers: p.Followers, Following: p.Following, StarredRepos: p.StarredRepos, Created: p.Created, URL: p.HTMLURL,
		}, nil
	},
}

type searchUsersIn struct {
	Query string `json:"query"`
	Paging
}

type userListOut struct {
	Users []personOut `json:"users"`
	PageOut
}

var searchUsers = Def[searchUsersIn, userListOut]{
	Name:   "search_users",
	Title:  "Search users",
	Desc:   "Users (not organizations) whose login or full name contains query. Profile: get_user.",
	Scopes: []gitea.Scope{gitea.ScopeReadUser},
	Access: Read,
	Area:   AreaUsers,
	Schema: func(s *jsonschema.Schema) {
		boundPage(s)
		one, maxQuery := 1, 100
		s.Properties["query"].MinLength = &one
		s.Properties["query"].MaxLength = &maxQuery
	},
	Run: func(ctx context.Context, e *Env, in searchUsersIn) (userListOut, error) {
		users, info, err := e.SearchUsers(ctx, in.Query, in.options())
		if err != nil {
			return userListOut{}, err
		}
		return userListOut{Users: compact(users, func(p *gitea.Profile) personOut { return compactPerson(&p.User) }), PageOut: pageOut(info)}, nil
	},
}
