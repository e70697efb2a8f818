package tools

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// search and fetch follow the convention ChatGPT's connectors, deep
// research and company knowledge use: search(query) returns one text item
// holding {"results":[{"id","title","url"}]}, fetch(id) one holding
// {"id","title","text","url","metadata"}. Their text is that JSON alone:
// the output walker cleans and masks it as every result, and names its
// user-controlled fields in "untrusted_fields" inside that JSON instead of
// a notice line before it; metadata says the text is user-written.

func searchTools() []*Tool { return []*Tool{search.Tool(), fetch.Tool()} }

// searchScopes: search and fetch cover repositories and issues.
var searchScopes = []gitea.Scope{gitea.ScopeReadRepository, gitea.ScopeReadIssue}

type searchIn struct {
	Query string `json:"query" jsonschema:"keywords for repository names and issue and pull request titles and bodies"`
}

type searchResult struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

type searchOut struct {
	Results []searchResult `json:"results"`
}

// Bounds of one search: each keyword is searched on its own (Gitea matches
// a query as one phrase), so a natural-language query costs at most
// searchTerms x 3 calls to Gitea.
const (
	searchLimit   = 10 // results per kind and term
	searchTerms   = 3  // keywords searched
	searchResults = 20 // results returned
)

var search = Def[searchIn, searchOut]{
	Name:   "search",
	Title:  "Search Gitea",
	Desc:   "Search repositories, issues and pull requests by keywords: ids for fetch, best first. For structured lists prefer list_repositories or list_issues.",
	Scopes: searchScopes,
	Access: Read,
	Area:   AreaSearch,
	Schema: func(s *jsonschema.Schema) {
		one, max := 1, 200
		s.Properties["query"].MinLength, s.Properties["query"].MaxLength = &one, &max
	},
	Run: func(ctx context.Context, e *Env, in searchIn) (searchOut, error) {
		var hits searchHits
		for _, term := range searchKeywords(in.Query) {
			repos, _, err := e.SearchRepositories(ctx, term, gitea.ListOptions{Limit: searchLimit})
			if err != nil {
				return searchOut{}, err
			}
			for _, r := range keepAllowed(e, repos, repoFullName) {
				hits.add(searchResult{ID: "repo/" + r.FullName, Title: r.FullName + ": " + clean(r.Description, 200), URL: r.HTMLURL})
			}
			for _, kind := range []string{"issue", "pull"} {
				issues, _, err := e.SearchIssues(ctx, gitea.IssueSearch{Query: term, State: "all", PullRequests: kind == "pull"},
					gitea.ListOptions{Limit: searchLimit})
				if err != nil {
					return searchOut{}, err
				}
				for _, is := range keepAllowed(e, issues, issueRepo) {
					if is.Repository == nil {
						continue
					}
					hits.add(searchResult{
						ID:    fmt.Sprintf("%s/%s/%d", kind, is.Repository.FullName, is.Number),
						Title: fmt.Sprintf("%s#%d: %s", is.Repository.FullName, is.Number, clean(is.Title, 200)),
						URL:   is.HTMLURL,
					})
				}
			}
		}
		return searchOut{Results: hits.best(searchResults)}, nil
	},
}

// searchKeywords picks the words of a query worth searching for: the
// longest distinct ones, at most searchTerms, in their query order. A query
// of short words only is searched as it is.
func searchKeywords(query string) []string {
	words := strings.FieldsFunc(strings.ToLower(query), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.'
	})
	var picked []string
	for _, w := range words {
		if len(w) >= 3 && !slices.Contains(picked, w) {
			picked = append(picked, w)
		}
	}
	if len(picked) == 0 {
		return []string{firstWords(query, 100)}
	}
	byLength := slices.Clone(picked)
	slices.SortStableFunc(byLength, func(a, b string) int { return len(b) - len(a) })
	keep := byLength[:min(searchTerms, len(byLength))]
	return slices.DeleteFunc(picked, func(w string) bool { return !slices.Contains(keep, w) })
}

// searchHits counts how many keywords found each result.
type searchHits struct {
	order []searchResult
	count map[string]int
}

func (h *searchHits) add(r searchResult) {
	if h.count == nil {
		h.count = map[string]int{}
	}
	if h.count[r.ID] == 0 {
		h.order = append(h.order, r)
	}
	h.count[r.ID]++
}

// best returns at most n results, those found by the most keywords first.
func (h *searchHits) best(n int) []searchResult {
	out := slices.Clone(h.order)
	slices.SortStableFunc(out, func(a, b searchResult) int { return h.count[b.ID] - h.count[a.ID] })
	if out == nil {
		out = []searchResult{}
	}
	return out[:min(n, len(out))]
}

type fetchIn struct {
	ID string `json:"id" jsonschema:"id from search: repo/OWNER/REPO, issue/OWNER/REPO/N, pull/OWNER/REPO/N or file/OWNER/REPO/PATH"`
}

type fetchOut struct {
	ID       string            `json:"id"`
	Title    string            `json:"title"`
	Text     string            `json:"text"`
	URL      string            `json:"url"`
	Metadata map[string]string `json:"metadata"`
}

var fetch = Def[fetchIn, fetchOut]{
	Name:   "fetch",
	Title:  "Fetch a search result",
	Desc:   "The full text of a search result: a repository's summary, an issue or pull request with its body, or a file.",
	Scopes: searchScopes,
	Access: Read,
	Area:   AreaSearch,
	Schema: func(s *jsonschema.Schema) {
		max := 4200
		s.Properties["id"].MaxLength = &max
	},
	Run: func(ctx context.Context, e *Env, in fetchIn) (fetchOut, error) {
		kind, rest, _ := strings.Cut(in.ID, "/")
		parts := strings.SplitN(rest, "/", 3)
		if len(parts) < 2 || (kind != "repo" && len(parts) != 3) {
			return fetchOut{}, &ArgumentError{Field: "id", Problem: "is not an id returned by search"}
		}
		owner, repo := parts[0], parts[1]
		if !e.RepoAllowed(owner + "/" + repo) {
			return fetchOut{}, Notice("this server's policy does not let you read " + owner + "/" + repo)
		}
		switch kind {
		case "repo":
			if len(parts) != 2 {
				break
			}
			return fetchRepo(ctx, e, in.ID, owner, repo)
		case "issue", "pull":
			n, err := strconv.ParseInt(parts[2], 10, 64)
			if err != nil || n < 1 {
				break
			}
			return fetchIssue(ctx, e, in.ID, owner, repo, n)
		case "file":
			return fetchFile(ctx, e, in.ID, owner, repo, parts[2])
		}
		return fetchOut{}, &ArgumentError{Field: "id", Problem: "is not an id returned by search"}
	},
}

func fetchRepo(ctx context.Context, e *Env, id, owner, repo string) (fetchOut, error) {
	r, err := e.Repository(ctx, owner, repo)
	if err != nil {
		return fetchOut{}, err
	}
	text := fmt.Sprintf("%s\n\n%s\n\nDefault branch: %s. Private: %v. Open issues: %d. Open pull requests: %d. Stars: %d.",
		r.FullName, clean(r.Description, 2000), r.DefaultBranch, r.Private, r.OpenIssues, r.OpenPulls, r.Stars)
	return fetchOut{ID: id, Title: r.FullName, Text: text, URL: r.HTMLURL,
		Metadata: map[string]string{"type": "repository", "updated_at": r.UpdatedAt.Format("2006-01-02T15:04:05Z07:00")}}, nil
}

func fetchIssue(ctx context.Context, e *Env, id, owner, repo string, n int64) (fetchOut, error) {
	is, err := e.Issue(ctx, owner, repo, n)
	if err != nil {
		return fetchOut{}, err
	}
	kind := "issue"
	if is.PullRequest != nil {
		kind = "pull_request"
	}
	body, truncated := Cut(is.Body, e.TextBudget())
	meta := map[string]string{"type": kind, "state": is.State, "author": is.User.Login, "untrusted_text": "true"}
	if truncated {
		meta["truncated"] = "true"
	}
	return fetchOut{ID: id, Title: fmt.Sprintf("%s/%s#%d: %s", owner, repo, n, clean(is.Title, 500)), Text: body, URL: is.HTMLURL, Metadata: meta}, nil
}

func fetchFile(ctx context.Context, e *Env, id, owner, repo, path string) (fetchOut, error) {
	// The path is in the id, not in an argument the server checks: the
	// policy is asked here, before anything is read.
	withheld := fetchOut{ID: id, Title: path, Text: "withheld by this server's policy: content not shown",
		Metadata: map[string]string{"type": "file", "withheld": withheldMark}}
	if !e.PathAllowed(owner, repo, path) {
		return withheld, nil
	}
	f, err := e.FileContents(ctx, owner, repo, path, "")
	if err != nil {
		return fetchOut{}, err
	}
	if !e.PathAllowed(owner, repo, f.Path) {
		return withheld, nil
	}
	data, err := f.Decode()
	if err != nil {
		return fetchOut{}, err
	}
	meta := map[string]string{"type": "file", "sha": f.SHA, "untrusted_text": "true"}
	if isBinary(data) {
		return fetchOut{ID: id, Title: f.Path, Text: fmt.Sprintf("binary file, %d bytes: content not shown", f.Size), URL: f.HTMLURL, Metadata: meta}, nil
	}
	text, truncated, note, err := e.Content(string(data))
	if err != nil {
		return fetchOut{}, err
	}
	if truncated {
		meta["truncated"] = "true"
	}
	if note != "" {
		meta["note"] = note
	}
	return fetchOut{ID: id, Title: f.Path, Text: string(text), URL: f.HTMLURL, Metadata: meta}, nil
}

// clean tames a short user-written string for a title.
func clean(s string, max int) string {
	s, _ = Cut(s, max)
	return s
}

// firstWords keeps a query within max bytes on a character boundary.
func firstWords(q string, max int) string {
	q, _ = Cut(strings.TrimSpace(q), max)
	return q
}
