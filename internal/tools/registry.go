package tools

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

// Registry is the set of tools the server offers, in a stable order.
type Registry struct {
	tools  []*Tool
	byName map[string]*Tool
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// maxDescription bounds a tool description: every client pays for it in
// context on every tools/list.
const maxDescription = 600

// NewRegistry checks the tools' invariants and returns their registry.
func NewRegistry(tools ...*Tool) (*Registry, error) {
	r := &Registry{byName: make(map[string]*Tool, len(tools))}
	for _, t := range tools {
		if err := check(t); err != nil {
			return nil, err
		}
		if _, dup := r.byName[t.Name]; dup {
			return nil, fmt.Errorf("tool %s: registered twice", t.Name)
		}
		r.byName[t.Name] = t
		r.tools = append(r.tools, t)
	}
	return r, nil
}

func check(t *Tool) error {
	switch {
	case !namePattern.MatchString(t.Name):
		return fmt.Errorf("tool %q: name must match %s", t.Name, namePattern)
	case t.mcp.Description == "" || len(t.mcp.Description) > maxDescription:
		return fmt.Errorf("tool %s: description must be 1-%d bytes", t.Name, maxDescription)
	case t.Access < Read || t.Access > Destructive:
		return fmt.Errorf("tool %s: Access must be Read, Write or Destructive", t.Name)
	case len(t.Scopes) == 0:
		return fmt.Errorf("tool %s: needs at least one Gitea scope", t.Name)
	case !t.Area.Valid():
		return fmt.Errorf("tool %s: Area %q is not one of %v", t.Name, t.Area, Areas)
	case t.confirms != (t.Access == Destructive):
		return fmt.Errorf("tool %s: a Destructive tool, and only one, needs a Confirm question", t.Name)
	}
	for _, s := range t.Scopes {
		if !s.Valid() {
			return fmt.Errorf("tool %s: %q is not a Gitea scope", t.Name, s)
		}
		if s.Writes() != (t.Access != Read) {
			return fmt.Errorf("tool %s: a %v tool needs %s scopes only", t.Name, t.Access, map[bool]string{true: "write", false: "read"}[t.Access != Read])
		}
	}
	return nil
}

// Default returns the registry of every tool this server offers.
func Default() *Registry {
	r, err := NewRegistry(all()...)
	if err != nil {
		panic(err) // a broken tool definition; the registry test catches it first
	}
	return r
}

// all lists the tools, one area file's list each.
func all() []*Tool {
	return slices.Concat(
		userTools(), orgTools(), repoTools(), notificationTools(),
		branchTools(), commitTools(), fileTools(),
		issueTools(), pullTools(),
		issueWriteTools(), repoWriteTools(), pullWriteTools(), releaseWriteTools(),
		releaseTools(), actionsTools(), wikiTools(),
		searchTools(),
	)
}

// Tools returns every tool, in registration order.
func (r *Registry) Tools() []*Tool { return r.tools }

// Lookup returns the tool called name.
func (r *Registry) Lookup(name string) (*Tool, bool) {
	t, ok := r.byName[name]
	return t, ok
}

// Allowed reports whether scopes grant everything t needs.
func (t *Tool) Allowed(scopes gitea.ScopeSet) bool {
	for _, s := range t.Scopes {
		if !scopes.Has(s) {
			return false
		}
	}
	return true
}

// ScopesOf returns the scopes that grant every one of tools, sorted; a
// read scope whose write scope is listed is left out, as write implies read.
func ScopesOf(tools []*Tool) []gitea.Scope {
	var set []gitea.Scope
	for _, t := range tools {
		for _, s := range t.Scopes {
			if !slices.Contains(set, s) {
				set = append(set, s)
			}
		}
	}
	set = slices.DeleteFunc(set, func(s gitea.Scope) bool {
		return !s.Writes() && slices.Contains(set, s.WriteScope())
	})
	slices.Sort(set)
	return set
}
