package policy

import (
	"fmt"
	"strings"
)

// Limits on a policy file.
const (
	MaxFileSize = 1 << 20 // bytes
	MaxRules    = 1000    // repository and user rules together
	MaxPatterns = 10000   // entries of all allow and deny lists together
)

// The access levels a [Request] names.
const (
	Read        = "read"
	Write       = "write"
	Destructive = "destructive"
)

// Request is one call to decide.
type Request struct {
	// User is the caller's Gitea login; "" has no user rule.
	User string
	// Tool is the tool's name; "" is denied.
	Tool string
	// Toolset is the tool's area (repos, issues, ...); "" matches no
	// toolsets entry.
	Toolset string
	// Access is the tool's level: [Read], [Write] or [Destructive]; any
	// other value is denied.
	Access string
	// Repo is the repository the call works on, "owner/repo", or "" when
	// the call spans repositories. A value that is not two non-empty parts
	// around one '/' is denied.
	Repo string
	// Paths are the repository paths the call reads or writes; none means
	// the call is not path-checked.
	Paths []string
}

// Decision is the policy's answer to a [Request].
type Decision struct {
	// Allow is true when the call may go ahead. The zero Decision denies.
	Allow bool
	// Rule names the rule that decided, as written in the file:
	// "tools.deny: delete_*", `repositories["acme/*"].tools.deny:
	// merge_pull_request`, "defaults.destructive", `users["bob"].write`,
	// "paths.allow" (a path no allow pattern covers). A request refused
	// for its own shape is named "request.FIELD: problem", such as
	// "request.paths: a path leads out of the repository". It never holds
	// text from the request.
	Rule string
}

// Refusal returns a fixed sentence for a denied decision, "the policy
// denies this call: rule RULE", and "" for an allowed one.
func (d Decision) Refusal() string {
	if d.Allow {
		return ""
	}
	if d.Rule == "" {
		return "the policy denies this call"
	}
	return "the policy denies this call: rule " + d.Rule
}

// Known holds the names the server knows, to validate a policy file
// against. The zero Known knows nothing, so a file naming any tool or
// toolset is refused.
type Known struct {
	Tools, Toolsets []string
}

// Error is a problem with a policy file: the file's name as given to
// [Parse] or [Load], the 1-based line of the problem (0 when it has none:
// an unreadable, oversized or empty file), and what is wrong.
type Error struct {
	File    string
	Line    int
	Problem string
}

// Error returns "FILE:LINE: problem", or "FILE: problem" when Line is 0.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Problem)
	}
	return e.File + ": " + e.Problem
}

// Policy is a parsed policy file. Make one with [Parse], [Load] or
// [Default]; a nil *Policy decides as Default does.
type Policy struct {
	defaults [levels]verdict
	global   rule
	exact    map[string]*repoRule // folded "owner/name" → rule without '*'
	globs    []*repoRule          // rules with '*', most specific first
	users    map[string]*rule     // folded login → rule
}

// Default returns the policy used when the operator has none: read, write
// and destructive are allowed and nothing else is said. Malformed requests
// are still denied (see [Request]).
func Default() *Policy { return &Policy{} }

// nilPolicy is what a nil *Policy decides as.
var nilPolicy Policy

// verdict is what a rule says about something: nothing, allow or deny.
type verdict int8

const (
	unset verdict = iota
	allowed
	denied
)

// levels counts the access levels; levelNames indexes them.
const levels = 3

var levelNames = [levels]string{Read, Write, Destructive}

func levelOf(access string) (int, bool) {
	for i, n := range levelNames {
		if access == n {
			return i, true
		}
	}
	return 0, false
}

// rule is one layer: the global rule, a repository rule or a user rule.
type rule struct {
	prefix string // "" for the global rule, `repositories["acme/*"].` ...
	access [levels]verdict
	tools  nameLists
	sets   nameLists
	paths  pathLists
}

type nameLists struct {
	allow, deny []namePattern
	hasAllow    bool
}

type pathLists struct {
	allow, deny []pathPattern
	hasAllow    bool
}

type repoRule struct {
	rule
	owner, name string // folded globs
	literals    int    // non-'*' characters, for specificity
}

func deny(rule string) Decision { return Decision{Rule: rule} }

// Decide answers r; see the package documentation for the semantics.
func (p *Policy) Decide(r Request) Decision {
	if p == nil {
		p = &nilPolicy
	}
	level, ok := levelOf(r.Access)
	if !ok {
		return deny("request.access: not read, write or destructive")
	}
	if r.Tool == "" {
		return deny("request.tool: no tool named")
	}
	var repoRules []*rule
	if r.Repo != "" {
		var ok bool
		if repoRules, ok = p.repoRules(r.Repo); !ok {
			return deny("request.repo: not owner/repo")
		}
	}
	if len(r.Paths) > 0 && r.Repo == "" {
		return deny("request.paths: paths without a repository")
	}
	paths := make([]cleaned, len(r.Paths))
	for i, raw := range r.Paths {
		var problem string
		if paths[i], problem = clean(raw); problem != "" {
			return deny("request.paths: " + problem)
		}
	}
	user := p.userRule(r.User)
	d := p.decideTool(level, fold(r.Tool), fold(r.Toolset), repoRules, user)
	if !d.Allow {
		return d
	}
	for _, c := range paths {
		if why := p.checkSegs(c, repoRules, user); why != "" {
			return deny(why)
		}
	}
	return d
}

// PathAllowed reports whether the path rules let user see path in repo,
// and when not, the rule that denied it (as [Decision.Rule]). It checks
// only paths, for the entries of a read that returns many; the call itself
// is decided by [Policy.Decide]. An empty repo denies.
func (p *Policy) PathAllowed(user, repo, path string) (bool, string) {
	if p == nil {
		p = &nilPolicy
	}
	if repo == "" {
		return false, "request.paths: paths without a repository"
	}
	repoRules, ok := p.repoRules(repo)
	if !ok {
		return false, "request.repo: not owner/repo"
	}
	return p.checkPath(path, repoRules, p.userRule(user))
}

// RestrictsPaths reports whether any path rule applies to user in repo
// (globally, in repo's rule or in user's), so that a read whose paths are
// unknown, such as a blob by its SHA, must be refused there. An invalid
// repo restricts.
func (p *Policy) RestrictsPaths(user, repo string) bool {
	if p == nil {
		p = &nilPolicy
	}
	repoRules, ok := p.repoRules(repo)
	if !ok {
		return true
	}
	has := func(r *rule) bool { return r != nil && (len(r.paths.deny) > 0 || r.paths.hasAllow) }
	if has(&p.global) || has(p.userRule(user)) {
		return true
	}
	for _, r := range repoRules {
		if has(r) {
			return true
		}
	}
	return false
}

// ToolAllowed reports whether tools/list shows the tool to user: true
// unless the policy denies the tool at this access level in every
// repository and in calls spanning repositories. Paths play no part. An
// access level other than [Read], [Write] and [Destructive], or an empty
// tool, is false.
func (p *Policy) ToolAllowed(user, tool, toolset, access string) bool {
	if p == nil {
		p = &nilPolicy
	}
	level, ok := levelOf(access)
	if !ok || tool == "" {
		return false
	}
	u := p.userRule(user)
	tool, toolset = fold(tool), fold(toolset)
	if p.decideTool(level, tool, toolset, nil, u).Allow {
		return true
	}
	// Each rule alone is at least as permissive as it is tied with others.
	for _, r := range p.exact {
		if p.decideTool(level, tool, toolset, []*rule{&r.rule}, u).Allow {
			return true
		}
	}
	for _, r := range p.globs {
		if p.decideTool(level, tool, toolset, []*rule{&r.rule}, u).Allow {
			return true
		}
	}
	return false
}

// repoRules returns the most specific rules matching repo, several when
// they tie, and false when repo is not owner/name.
func (p *Policy) repoRules(repo string) ([]*rule, bool) {
	owner, name, ok := strings.Cut(fold(repo), "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return nil, false
	}
	if r := p.exact[owner+"/"+name]; r != nil {
		return []*rule{&r.rule}, true
	}
	var out []*rule
	best := -1
	for _, r := range p.globs {
		if r.literals < best {
			break
		}
		if matchStar(r.owner, owner) && matchStar(r.name, name) {
			out = append(out, &r.rule)
			best = r.literals
		}
	}
	return out, true
}

func (p *Policy) userRule(user string) *rule {
	if user == "" {
		return nil
	}
	return p.users[fold(user)]
}

// decideTool decides a call without its paths, given folded names.
func (p *Policy) decideTool(level int, tool, toolset string, repoRules []*rule, user *rule) Decision {
	if why := p.global.checkTool(tool, toolset); why != "" {
		return deny(why)
	}
	for _, r := range repoRules {
		if why := r.checkTool(tool, toolset); why != "" {
			return deny(why)
		}
	}
	if user != nil {
		if why := user.checkTool(tool, toolset); why != "" {
			return deny(why)
		}
	}
	var decided string
	for l := 0; l <= level; l++ {
		allowBy, denyBy := "", ""
		note := func(r *rule) {
			switch r.access[l] {
			case denied:
				if denyBy == "" {
					denyBy = r.prefix + levelNames[l]
				}
			case allowed:
				if allowBy == "" {
					allowBy = r.prefix + levelNames[l]
				}
			}
		}
		for _, r := range repoRules {
			note(r)
		}
		if user != nil {
			note(user)
		}
		switch {
		case denyBy != "":
			return deny(denyBy)
		case allowBy != "":
			decided = allowBy
		case p.defaults[l] == denied:
			return deny("defaults." + levelNames[l])
		default:
			decided = "defaults." + levelNames[l]
		}
	}
	return Decision{Allow: true, Rule: decided}
}

// checkTool returns the rule of r that denies the tool, or "".
func (r *rule) checkTool(tool, toolset string) string {
	for _, pat := range r.tools.deny {
		if pat.match(tool) {
			return r.prefix + "tools.deny: " + pat.raw
		}
	}
	if toolset != "" {
		for _, pat := range r.sets.deny {
			if pat.match(toolset) {
				return r.prefix + "toolsets.deny: " + pat.raw
			}
		}
	}
	if !r.tools.hasAllow && !r.sets.hasAllow {
		return ""
	}
	for _, pat := range r.tools.allow {
		if pat.match(tool) {
			return ""
		}
	}
	if toolset != "" {
		for _, pat := range r.sets.allow {
			if pat.match(toolset) {
				return ""
			}
		}
	}
	switch {
	case !r.sets.hasAllow:
		return r.prefix + "tools.allow"
	case !r.tools.hasAllow:
		return r.prefix + "toolsets.allow"
	}
	return r.prefix + "tools.allow, " + r.prefix + "toolsets.allow"
}

// checkPath cleans raw and checks it against every layer.
func (p *Policy) checkPath(raw string, repoRules []*rule, user *rule) (bool, string) {
	c, problem := clean(raw)
	if problem != "" {
		return false, "request.paths: " + problem
	}
	if why := p.checkSegs(c, repoRules, user); why != "" {
		return false, why
	}
	return true, ""
}

// cleaned is a request path, cleaned and split, as written and folded.
type cleaned struct{ segs, folded []string }

func clean(raw string) (cleaned, string) {
	segs, problem := cleanPath(raw)
	if problem != "" {
		return cleaned{}, problem
	}
	c := cleaned{segs: segs, folded: make([]string, len(segs))}
	for i, s := range segs {
		c.folded[i] = fold(s)
	}
	return c, ""
}

// checkSegs checks a cleaned path against every layer and returns the rule
// that denies it, or "".
func (p *Policy) checkSegs(c cleaned, repoRules []*rule, user *rule) string {
	if why := p.global.checkPath(c); why != "" {
		return why
	}
	for _, r := range repoRules {
		if why := r.checkPath(c); why != "" {
			return why
		}
	}
	if user != nil {
		return user.checkPath(c)
	}
	return ""
}

// checkPath returns the rule of r that denies a cleaned path, or "".
func (r *rule) checkPath(c cleaned) string {
	for _, pat := range r.paths.deny {
		if pat.covers(pat.folded, c.folded) {
			return r.prefix + "paths.deny: " + pat.raw
		}
	}
	if !r.paths.hasAllow {
		return ""
	}
	for _, pat := range r.paths.allow {
		if pat.covers(pat.segs, c.segs) {
			return ""
		}
	}
	return r.prefix + "paths.allow"
}
