package gitea

import (
	"strings"
)

// Scope is one Gitea token scope, e.g. "read:repository". Write implies read.
type Scope string

// The Gitea scopes this server's tools need.
const (
	ScopeReadIssue        Scope = "read:issue"
	ScopeWriteIssue       Scope = "write:issue"
	ScopeReadNotification Scope = "read:notification"
	ScopeReadOrganization Scope = "read:organization"
	ScopeReadRepository   Scope = "read:repository"
	ScopeWriteRepository  Scope = "write:repository"
	ScopeReadUser         Scope = "read:user"
)

const (
	readPrefix  = "read:"
	writePrefix = "write:"
	publicOnly  = "public-only"
	allScope    = "all"
)

// categories are Gitea's scope categories, in bit order.
var categories = [...]string{"activitypub", "admin", "issue", "misc", "notification", "organization", "package", "repository", "user"}

// oidcScopes are OpenID Connect scope words Gitea knows besides its own.
var oidcScopes = map[string]bool{"openid": true, "profile": true, "email": true, "groups": true}

// ScopeSet is the set of Gitea scopes a token holds. The zero value holds none.
type ScopeSet struct {
	read, write uint16 // one bit per category
	public      bool   // "public-only": public resources only
}

// ScopeGrant is what a grant's raw scope string means to Gitea.
type ScopeGrant struct {
	Scopes ScopeSet
	// AllAccess is true when Gitea gives the token unrestricted access: the
	// grant names no Gitea access scope, names "all", or holds a word Gitea
	// does not know (Gitea then ignores the whole scope string).
	AllAccess bool
	// All is true when the grant asked for "all" explicitly.
	All bool
	// Unknown lists the words Gitea does not know.
	Unknown []string
}

// ParseGrant interprets a space-separated OAuth scope string the way Gitea does.
func ParseGrant(raw string) ScopeGrant {
	var g ScopeGrant
	access := false
	for _, word := range strings.Fields(raw) {
		switch {
		case oidcScopes[word]:
		case word == publicOnly:
			g.Scopes.public = true
		case word == allScope:
			access, g.All = true, true
		default:
			if !g.Scopes.add(Scope(word)) {
				g.Unknown = append(g.Unknown, word)
				continue
			}
			access = true
		}
	}
	if !access || g.All || len(g.Unknown) > 0 {
		g.AllAccess = true
	}
	return g
}

func (s *ScopeSet) add(sc Scope) bool {
	bit, write, ok := sc.bit()
	if !ok {
		return false
	}
	s.read |= bit
	if write {
		s.write |= bit
	}
	return true
}

// bit returns the category bit of sc and whether it is a write scope.
func (sc Scope) bit() (bit uint16, write, ok bool) {
	str := string(sc)
	var cat string
	switch {
	case strings.HasPrefix(str, readPrefix):
		cat = str[len(readPrefix):]
	case strings.HasPrefix(str, writePrefix):
		cat, write = str[len(writePrefix):], true
	default:
		return 0, false, false
	}
	for i, c := range categories {
		if c == cat {
			return 1 << i, write, true
		}
	}
	return 0, false, false
}

// Valid reports whether sc is a Gitea read: or write: scope.
func (sc Scope) Valid() bool {
	_, _, ok := sc.bit()
	return ok
}

// Writes reports whether sc is a write: scope.
func (sc Scope) Writes() bool { return strings.HasPrefix(string(sc), writePrefix) }

// WriteScope returns the write scope of sc's category ("read:issue" →
// "write:issue"); a write scope is returned as it is.
func (sc Scope) WriteScope() Scope {
	if cat, ok := strings.CutPrefix(string(sc), readPrefix); ok {
		return Scope(writePrefix + cat)
	}
	return sc
}

// Has reports whether the set grants sc; a write scope grants its read scope.
func (s ScopeSet) Has(sc Scope) bool {
	bit, write, ok := sc.bit()
	if !ok {
		return false
	}
	if write {
		return s.write&bit != 0
	}
	return s.read&bit != 0
}

// FullScopeSet returns a set holding every read and write scope. It
// describes a token whose scopes this server cannot learn (a personal access
// token); Gitea still enforces the token's real scopes.
func FullScopeSet() ScopeSet {
	all := uint16(1)<<len(categories) - 1
	return ScopeSet{read: all, write: all}
}

// Intersect returns the scopes both s and o grant. Either set's
// public-only restriction holds for the result.
func (s ScopeSet) Intersect(o ScopeSet) ScopeSet {
	return ScopeSet{read: s.read & o.read, write: s.write & o.write, public: s.public || o.public}
}

// Union returns the scopes s or o grants; it is public-only when both are.
func (s ScopeSet) Union(o ScopeSet) ScopeSet {
	return ScopeSet{read: s.read | o.read, write: s.write | o.write, public: s.public && o.public}
}

// PublicOnly reports whether the token is limited to public resources.
func (s ScopeSet) PublicOnly() bool { return s.public }

// List returns the scopes in the set, strongest per category, in a stable order.
func (s ScopeSet) List() []Scope {
	var out []Scope
	for i, c := range categories {
		switch bit := uint16(1) << i; {
		case s.write&bit != 0:
			out = append(out, Scope(writePrefix+c))
		case s.read&bit != 0:
			out = append(out, Scope(readPrefix+c))
		}
	}
	if s.public {
		out = append(out, publicOnly)
	}
	return out
}

// JoinScopes renders scopes as an OAuth scope string.
func JoinScopes(scopes []Scope) string { return strings.Join(ScopeWords(scopes), " ") }

// ScopeWords returns scopes as strings, as JSON documents list them.
func ScopeWords(scopes []Scope) []string {
	words := make([]string, len(scopes))
	for i, s := range scopes {
		words[i] = string(s)
	}
	return words
}
