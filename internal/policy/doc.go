// Package policy reads an operator's policy file, which says what an
// assistant may touch, and decides calls against it. A policy only narrows
// what the server's other gates (Gitea scopes, the repository whitelist,
// write mode) allow: it never widens them. A [Policy] is immutable once
// parsed; its methods are pure and safe for concurrent use.
//
// # The file
//
// The file is YAML, one document, at most [MaxFileSize] bytes:
//
//	defaults: {read: allow, write: allow, destructive: deny}
//	tools:    {allow: [...], deny: [delete_*]}      # tool names or globs
//	toolsets: {deny: [actions]}                     # whole areas; allow too
//	paths:    {deny: [".gitea/workflows/**"]}       # every repository
//	repositories:                                   # owner/repo globs
//	  "acme/*":
//	    write: allow
//	    tools: {deny: [merge_pull_request]}
//	    paths: {allow: ["src/**", "docs/**"], deny: ["src/secrets/**"]}
//	users:                                          # Gitea logins
//	  "bob": {write: deny}
//
// Every key is optional. A repository or user rule takes the keys read,
// write, destructive, tools, toolsets and paths; defaults takes read, write
// and destructive; tools, toolsets and paths take allow and deny, each a
// list. An access level is allow or deny. All rules together, repository
// and user, number at most [MaxRules]; all list entries together at most
// [MaxPatterns].
//
// Parsing fails closed. It returns an [*Error] (file, line, problem) for
// the first problem found, in file order: invalid YAML, an empty file,
// more than one document, anchors, aliases or custom tags, an unknown key,
// a key given twice (also when the two differ only in case), a value of
// the wrong kind (null included: write [] for an empty list), an access
// level other than allow or deny, a tool or toolset name the server does
// not know, a glob that matches no known name, a malformed repository
// pattern, user name or path pattern, or a file or rule count over the
// limits.
//
// # Layers
//
// A call ([Request]) is decided by up to four layers, from the least to
// the most specific:
//
//  1. defaults, the access levels used where no rule states one;
//  2. the global rule: the top-level tools, toolsets and paths;
//  3. the repository rule: the most specific repositories entry whose
//     pattern matches Request.Repo (see below); none when Repo is empty or
//     no pattern matches;
//  4. the user rule: the users entry for Request.User, if any.
//
// Tools, toolsets and paths: every layer must allow, so a deny in any
// layer denies and no layer can allow what another denies. A layer that
// says nothing about a call does not decide it. Within one layer deny wins
// over allow. A layer with an allow list allows only what the list names,
// and an empty list allows nothing. For tools, tools.allow and
// toolsets.allow of one layer are one allow list: a layer with either or
// both allows a tool only when tools.allow matches its name or
// toolsets.allow names its toolset, and denies any other tool.
//
// Access levels are read, write and destructive, and they are cumulative: a
// write call must be allowed at read and at write, a destructive call at
// all three, so "bob: {write: deny}" also keeps bob from destructive calls
// and "read: deny" on a repository denies every call on it. Each level is
// settled on its own: if the repository rule or the user rule states it,
// the rules that state it decide it, and deny wins between them; only when
// neither does, defaults decide it. A level that defaults does not name is
// allowed. So defaults {write: deny} with "acme/*": {write: allow} allows
// writes in acme's repositories only, and a user rule {write: allow} does
// not overturn a repository rule's write: deny.
//
// [Policy.Decide] checks, in this order, the request itself, tools and
// toolsets (global, repository, user), access levels, then every path
// (global, repository, user), and [Decision.Rule] names the first rule that
// denied. An allowed Decision names the rule that settled the requested
// access level.
//
// # Repositories
//
// A repository pattern is "OWNER/NAME": two non-empty parts of letters,
// digits, '-', '_', '.' and '*', where '*' matches any run of characters
// (none included) within its part. Patterns and repository names are
// compared case-insensitively, as Gitea does.
//
// Only the most specific matching repository rule applies; the others are
// ignored, so a pattern's rule does not inherit from a broader one (write
// what holds everywhere in the global rule). Specificity: a pattern with
// no '*' beats any pattern with one; then more literal (non-'*')
// characters beat fewer: acme/prod > acme/p* > acme/* > */*. When several
// matching patterns tie (acme/* and */prod for acme/prod), all of them
// apply and a call must pass each: deny wins.
//
// Repository rules apply only to calls on one repository (Request.Repo
// set). A call that spans repositories is decided by defaults, the global
// rule and the user rule; a server that returns items from several
// repositories withholds those of a repository where the policy, asked
// with that Repo, denies.
//
// # Users
//
// A users key is a Gitea login (letters, digits, '-', '_', '.'; no globs),
// compared case-insensitively. A call with an empty Request.User has no
// user layer.
//
// # Tools and toolsets
//
// tools lists tool names and toolsets lists toolset names (areas such as
// repos, issues, actions), each possibly a glob in which '*' matches any run
// of characters: delete_* matches delete_file and delete_branch. Names are
// compared case-insensitively. Every entry must name, or as a glob match,
// at least one name in the [Known] given to [Parse], so a typo is an error
// rather than a rule that never applies. A request with no Toolset is
// matched by no toolsets entry.
//
// # Paths
//
// A path pattern is a '/'-separated path relative to the repository root.
// In a segment, '*' matches any run of characters other than '/'; a
// segment of "**" matches any number of segments, none included. A pattern
// covers a path when it matches the path or any directory above it, so
// "src/secrets" and "src/secrets/**" both cover src/secrets/key.pem. One
// trailing '/' is allowed. A pattern may not be absolute, hold empty, "."
// or ".." segments, use "**" inside a segment, start with '!', or contain
// '\', '?', '[', ']', '{', '}' or control characters (globs of other
// dialects are refused rather than read literally).
//
// Every request path is checked before matching. A path that is not valid
// UTF-8, holds a NUL, control character or '\', is absolute (starts with
// '/'), is longer than 4096 bytes, or leads out of the repository after
// cleaning (".." escaping the root) is denied outright. Otherwise it is
// cleaned with [path.Clean], so "src/../src/secrets/x", "./src/secrets/x"
// and "src//secrets/x" all become "src/secrets/x"; "" and "." are the
// repository root, which only a "**" pattern covers.
//
// Deny patterns compare case-insensitively (Unicode simple folding), so a
// deny cannot be dodged by case: "src/secrets/**" also denies
// SRC/Secrets/x. Allow patterns compare exactly, so "src/**" does not allow
// SRC/x. A path is denied at a layer when a deny pattern covers it, or when
// the layer has paths.allow and no allow pattern covers it. Path rules
// apply at every access level. A request with no Paths is not path-checked;
// a request with Paths but no Repo is denied, paths being relative to a
// repository. A tool that lists a directory passes no Paths for it and
// filters the entries with [Policy.PathAllowed].
//
// # The server's other questions
//
// [Policy.PathAllowed] answers the path checks alone, for one path of a
// read that returns many. [Policy.ToolAllowed] is for tools/list: a tool
// is listed unless the policy denies it for every call it could have, that
// is in every repository and in calls that span repositories. A tool
// denied in some repositories, or in a "*/*" rule only, stays listed (a
// call spanning repositories is still allowed); deny it globally or for
// the user to hide it. Listing is a courtesy: Decide enforces.
package policy
