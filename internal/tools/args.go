package tools

import (
	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// RepoRef names a repository; tools that work on one embed it.
type RepoRef struct {
	Owner string `json:"owner"`
	Repo  string `json:"repo"`
}

// AtRef selects the branch, tag or commit a tool reads at.
type AtRef struct {
	Ref string `json:"ref,omitempty" jsonschema:"branch, tag or SHA (default: default branch)"`
}

// Paging selects a page of a list.
type Paging struct {
	Page  int `json:"page,omitempty"`
	Limit int `json:"limit,omitempty" jsonschema:"default 20"`
}

// defaultLimit keeps list outputs small unless the model asks for more.
const defaultLimit = 20

func (p Paging) options() gitea.ListOptions {
	if p.Limit == 0 {
		p.Limit = defaultLimit
	}
	return gitea.ListOptions{Page: p.Page, Limit: p.Limit}
}

// boundPage sets the bounds of the page arguments in a schema.
func boundPage(s *jsonschema.Schema) {
	one, fifty := 1.0, float64(gitea.MaxPageSize)
	s.Properties["page"].Minimum = &one
	s.Properties["limit"].Minimum = &one
	s.Properties["limit"].Maximum = &fifty
}

// PageOut tells the model where a list continues.
type PageOut struct {
	// NextPage is the page to request next; absent on the last page.
	NextPage int `json:"next_page,omitempty"`
	// Total is the number of items in the whole list, when Gitea says.
	Total int64 `json:"total,omitempty"`
}

// compact maps Gitea's objects to a tool's compact outputs.
func compact[T, U any](items []T, f func(*T) U) []U {
	out := make([]U, len(items))
	for i := range items {
		out[i] = f(&items[i])
	}
	return out
}

func pageOut(info gitea.PageInfo) PageOut {
	out := PageOut{NextPage: info.NextPage}
	if info.Total > 0 {
		out.Total = info.Total
	}
	return out
}
