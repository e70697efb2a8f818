package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Load reads and parses the policy file at path, as [Parse] does with path
// as the name. A missing, unreadable or oversized file is an [*Error] with
// Line 0.
func Load(path string, known Known) (*Policy, error) {
	f, err := os.Open(path) // #nosec G304 -- the operator's own policy file
	if err != nil {
		return nil, &Error{File: path, Problem: "cannot read the file: " + cause(err)}
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &Error{File: path, Problem: "cannot read the file: " + cause(err)}
	}
	return Parse(path, data, known)
}

// cause drops the path that an *fs.PathError repeats.
func cause(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// Parse reads a policy file's contents; name is the file's name for
// errors. Every tool and toolset the file names must be in known. It
// returns an [*Error] for the first problem in the file (see the package
// documentation for what is refused), and never a partial policy.
func Parse(name string, data []byte, known Known) (*Policy, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{File: name, Problem: "the file is larger than 1 MiB"}
	}
	root, err := decodeYAML(name, data)
	if err != nil {
		return nil, err
	}
	ps := &parser{file: name, p: &Policy{exact: map[string]*repoRule{}, users: map[string]*rule{}}}
	for _, t := range known.Tools {
		ps.tools = append(ps.tools, fold(t))
	}
	for _, t := range known.Toolsets {
		ps.sets = append(ps.sets, fold(t))
	}
	if err := ps.top(root); err != nil {
		return nil, err
	}
	slices.SortStableFunc(ps.p.globs, func(a, b *repoRule) int {
		if a.literals != b.literals {
			return b.literals - a.literals
		}
		return strings.Compare(a.owner+"/"+a.name, b.owner+"/"+b.name)
	})
	return ps.p, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// decodeYAML returns the root node of the single document in data.
func decodeYAML(name string, data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil { // the YAML library failing is a refusal too
			root, err = nil, &Error{File: name, Problem: "invalid YAML"}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Problem: "the file is empty (write {} for a policy that says nothing)"}
		}
		return nil, yamlError(name, err)
	}
	var more yaml.Node
	switch err := dec.Decode(&more); {
	case err == nil:
		return nil, &Error{File: name, Line: more.Line, Problem: "more than one YAML document (--- starts a second one)"}
	case !errors.Is(err, io.EOF):
		return nil, yamlError(name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &Error{File: name, Line: doc.Line, Problem: "invalid YAML: not one document"}
	}
	if root := doc.Content[0]; root.Kind != yaml.ScalarNode || root.Tag != "!!null" || root.Value != "" {
		return root, nil
	}
	return nil, &Error{File: name, Problem: "the file is empty (write {} for a policy that says nothing)"}
}

func yamlError(name string, err error) *Error {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if len(msg) > 200 { // the library may quote much of the file
		cut := 200
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "..."
	}
	return &Error{File: name, Line: line, Problem: "invalid YAML: " + msg}
}

// parser walks the YAML tree into a Policy, stopping at the first problem.
type parser struct {
	file            string
	tools, sets     []string // known names, folded
	p               *Policy
	rules, patterns int
}

func (ps *parser) errorf(n *yaml.Node, where, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if where != "" {
		msg = where + ": " + msg
	}
	return &Error{File: ps.file, Line: n.Line, Problem: msg}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!str":
			return quote(n.Value)
		}
		return n.Value
	}
	return "an alias"
}

// quote quotes s for an error message, cut after 64 bytes.
func quote(s string) string {
	if len(s) <= 64 {
		return strconv.Quote(s)
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}

// plain refuses anchors, aliases and custom tags.
func (ps *parser) plain(n *yaml.Node, where string) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return ps.errorf(n, where, "anchors and aliases are not supported")
	}
	if n.Tag != "" && !strings.HasPrefix(n.Tag, "!!") {
		return ps.errorf(n, where, "custom tag %s is not supported", n.Tag)
	}
	return nil
}

// mapping calls fn for each pair of the mapping n, refusing other kinds,
// non-string keys and keys given twice (compared case-insensitively).
func (ps *parser) mapping(n *yaml.Node, where string, fn func(key string, k, v *yaml.Node) error) error {
	if err := ps.plain(n, where); err != nil {
		return err
	}
	if n.Kind != yaml.MappingNode || n.Tag != "!!map" {
		if where == "" {
			return ps.errorf(n, "", "the file must be a mapping, not %s", describe(n))
		}
		return ps.errorf(n, where, "must be a mapping, not %s", describe(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := ps.plain(k, where); err != nil {
			return err
		}
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" && k.Tag != "!!int" {
			return ps.errorf(k, where, "a key must be a string, not %s", describe(k))
		}
		f := fold(k.Value)
		if line, dup := seen[f]; dup {
			return ps.errorf(k, where, "key %s given twice (first on line %d)", quote(k.Value), line)
		}
		seen[f] = k.Line
		if err := ps.plain(v, where); err != nil {
			return err
		}
		if err := fn(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

func (ps *parser) unknown(k *yaml.Node, where string, keys ...string) error {
	return ps.errorf(k, where, "unknown key %s (expected %s)", quote(k.Value), strings.Join(keys, ", "))
}

func join(where, key string) string {
	if where == "" {
		return key
	}
	return where + "." + key
}

func (ps *parser) top(n *yaml.Node) error {
	return ps.mapping(n, "", func(key string, k, v *yaml.Node) error {
		switch key {
		case "defaults":
			return ps.mapping(v, key, func(key string, k, v *yaml.Node) error {
				l, ok := levelOf(key)
				if !ok {
					return ps.unknown(k, "defaults", levelNames[:]...)
				}
				var err error
				ps.p.defaults[l], err = ps.verdict(v, "defaults."+key)
				return err
			})
		case "tools", "toolsets", "paths":
			return ps.ruleKey(&ps.p.global, "", key, k, v)
		case "repositories":
			return ps.mapping(v, key, ps.repository)
		case "users":
			return ps.mapping(v, key, ps.user)
		}
		return ps.unknown(k, "", "defaults", "tools", "toolsets", "paths", "repositories", "users")
	})
}

func (ps *parser) countRule(k *yaml.Node, where string) error {
	if ps.rules++; ps.rules > MaxRules {
		return ps.errorf(k, where, "more than %d repository and user rules", MaxRules)
	}
	return nil
}

func (ps *parser) repository(raw string, k, v *yaml.Node) error {
	where := "repositories[" + strconv.Quote(raw) + "]"
	if err := ps.countRule(k, "repositories"); err != nil {
		return err
	}
	owner, name, ok := strings.Cut(raw, "/")
	switch {
	case strings.Contains(raw, "**"):
		return ps.errorf(k, "repositories", `"**" in %s (a repository is OWNER/NAME; */* matches every repository)`, quote(raw))
	case len(raw) > maxPatternLen || !ok || !validName(owner, true) || !validName(name, true):
		return ps.errorf(k, "repositories", "%s is not an OWNER/NAME pattern (two parts of letters, digits, - _ . and *)", quote(raw))
	}
	r := &repoRule{owner: fold(owner), name: fold(name), literals: len(raw) - 1 - strings.Count(raw, "*")}
	if err := ps.rule(&r.rule, where, v); err != nil {
		return err
	}
	if strings.Contains(raw, "*") {
		ps.p.globs = append(ps.p.globs, r)
	} else {
		ps.p.exact[r.owner+"/"+r.name] = r
	}
	return nil
}

func (ps *parser) user(raw string, k, v *yaml.Node) error {
	where := "users[" + strconv.Quote(raw) + "]"
	if err := ps.countRule(k, "users"); err != nil {
		return err
	}
	switch {
	case strings.Contains(raw, "*"):
		return ps.errorf(k, "users", "%s: a user is a Gitea login; globs are not supported", quote(raw))
	case len(raw) > maxPatternLen || !validName(raw, false):
		return ps.errorf(k, "users", "%s is not a Gitea login (letters, digits, - _ .)", quote(raw))
	}
	r := &rule{}
	if err := ps.rule(r, where, v); err != nil {
		return err
	}
	ps.p.users[fold(raw)] = r
	return nil
}

// rule reads a repository or user rule.
func (ps *parser) rule(r *rule, where string, n *yaml.Node) error {
	r.prefix = where + "."
	return ps.mapping(n, where, func(key string, k, v *yaml.Node) error {
		if l, ok := levelOf(key); ok {
			var err error
			r.access[l], err = ps.verdict(v, where+"."+key)
			return err
		}
		return ps.ruleKey(r, where, key, k, v)
	})
}

// ruleKey reads the tools, toolsets or paths key of a rule.
func (ps *parser) ruleKey(r *rule, where, key string, k, v *yaml.Node) error {
	where = join(where, key)
	var err error
	switch key {
	case "tools":
		err = ps.lists(v, where, func(allow bool, item *yaml.Node) error {
			return ps.name(&r.tools, allow, item, where, "tool", ps.tools)
		})
	case "toolsets":
		err = ps.lists(v, where, func(allow bool, item *yaml.Node) error {
			return ps.name(&r.sets, allow, item, where, "toolset", ps.sets)
		})
	case "paths":
		err = ps.lists(v, where, func(allow bool, item *yaml.Node) error { return ps.path(&r.paths, allow, item, where) })
	default:
		if r.prefix == "" {
			return ps.unknown(k, "", "defaults", "tools", "toolsets", "paths", "repositories", "users")
		}
		return ps.unknown(k, strings.TrimSuffix(r.prefix, "."), "read", "write", "destructive", "tools", "toolsets", "paths")
	}
	return err
}

// lists reads {allow: [...], deny: [...]}, calling item for each entry.
func (ps *parser) lists(n *yaml.Node, where string, item func(allow bool, n *yaml.Node) error) error {
	return ps.mapping(n, where, func(key string, k, v *yaml.Node) error {
		if key != "allow" && key != "deny" {
			return ps.unknown(k, where, "allow", "deny")
		}
		at := where + "." + key
		if v.Kind != yaml.SequenceNode || v.Tag != "!!seq" {
			return ps.errorf(v, at, "must be a list, not %s (write [] for an empty one)", describe(v))
		}
		if key == "allow" {
			if err := item(true, nil); err != nil { // marks the allow list present
				return err
			}
		}
		for _, e := range v.Content {
			if err := ps.plain(e, at); err != nil {
				return err
			}
			if e.Kind != yaml.ScalarNode || e.Tag != "!!str" {
				return ps.errorf(e, at, "an entry must be a string, not %s", describe(e))
			}
			if ps.patterns++; ps.patterns > MaxPatterns {
				return ps.errorf(e, at, "more than %d list entries in the file", MaxPatterns)
			}
			if err := item(key == "allow", e); err != nil {
				return err
			}
		}
		return nil
	})
}

// name adds a tools or toolsets entry; a nil item only marks allow as
// present.
func (ps *parser) name(l *nameLists, allow bool, item *yaml.Node, where, what string, known []string) error {
	if item == nil {
		l.hasAllow = true
		return nil
	}
	at := where + ".deny"
	if allow {
		at = where + ".allow"
	}
	raw := item.Value
	if len(raw) > maxPatternLen || !validName(raw, true) {
		return ps.errorf(item, at, "%s is not a %s name or glob (letters, digits, - _ . and *)", quote(raw), what)
	}
	pat := namePattern{raw: raw, folded: fold(raw)}
	if !slices.ContainsFunc(known, pat.match) {
		if strings.Contains(raw, "*") {
			return ps.errorf(item, at, "%s matches no known %s", quote(raw), what)
		}
		return ps.errorf(item, at, "%s is not a known %s", quote(raw), what)
	}
	if allow {
		l.allow = append(l.allow, pat)
	} else {
		l.deny = append(l.deny, pat)
	}
	return nil
}

// path adds a paths entry; a nil item only marks allow as present.
func (ps *parser) path(l *pathLists, allow bool, item *yaml.Node, where string) error {
	if item == nil {
		l.hasAllow = true
		return nil
	}
	at := where + ".deny"
	if allow {
		at = where + ".allow"
	}
	pat, problem := newPathPattern(item.Value)
	if problem != "" {
		return ps.errorf(item, at, "%s: %s", quote(item.Value), problem)
	}
	if allow {
		l.allow = append(l.allow, pat)
	} else {
		l.deny = append(l.deny, pat)
	}
	return nil
}

func (ps *parser) verdict(v *yaml.Node, where string) (verdict, error) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
		switch v.Value {
		case "allow":
			return allowed, nil
		case "deny":
			return denied, nil
		}
	}
	return unset, ps.errorf(v, where, "must be allow or deny, not %s", describe(v))
}
