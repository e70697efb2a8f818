package tools

import (
	"context"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

func userTools() []*Tool { return []*Tool{getMe.Tool()} }

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
	Desc:   "The signed-in Gitea user every other tool acts as: login, id, full name, email, admin flag. Use it to learn whose repositories \"my\" refers to.",
	Scopes: []gitea.Scope{gitea.ScopeReadUser},
	Access: Read,
	Run: func(ctx context.Context, e *Env, _ struct{}) (userOut, error) {
		u, err := e.CurrentUser(ctx)
		if err != nil {
			return userOut{}, err
		}
		return userOut{Login: u.Login, ID: u.ID, FullName: u.FullName, Email: u.Email, IsAdmin: u.IsAdmin, URL: u.HTMLURL}, nil
	},
}
