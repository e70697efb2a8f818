package tools

import (
	"reflect"
	"slices"
	"strings"
)

// Target is what a bound call acts on, read from its arguments by their
// names, so no tool can forget to declare it: the repository (owner,
// repo), the branch, tag or commit (ref, or for writes the branch written
// to), the paths inside the repository and the issue or pull request
// number. Zero fields are absent: a tool that spans repositories has no
// Owner and Repo.
type Target struct {
	Owner  string
	Repo   string
	Ref    string
	Paths  []string
	Number int64
	// Related are the other repositories the call reaches: the head of a
	// pull request from a fork, a fork's destination.
	Related []RepoName
}

// RepoName names a repository. An empty Repo stands for some repository of
// Owner whose name the call does not know beforehand, which only an
// "owner/*" rule covers; an empty Owner, in Related only, stands for the
// caller's own account.
type RepoName struct{ Owner, Repo string }

func (r RepoName) String() string {
	if r.Repo == "" {
		return r.Owner + "/*"
	}
	return r.Owner + "/" + r.Repo
}

// Repos returns every repository the call reaches: its own first, then
// the related ones.
func (t Target) Repos() []RepoName {
	var out []RepoName
	if t.Owner != "" {
		out = append(out, RepoName{Owner: t.Owner, Repo: t.Repo})
	}
	return append(out, t.Related...)
}

// relatedRepos is implemented by inputs that reach repositories besides
// their own owner/repo.
type relatedRepos interface{ relatedRepos() []RepoName }

// The argument names a Target is read from. Refs are listed strongest
// first: a write's new branch is where it lands.
var (
	refArgs  = []string{"new_branch", "branch", "ref"}
	pathArgs = map[string]bool{"path": true, "paths": true, "from_path": true, "dir": true}
)

// maxTargetDepth bounds the walk into nested arguments (files[].path).
const maxTargetDepth = 4

func targetOf(in any) Target {
	var t Target
	refs := map[string]string{}
	v := reflect.ValueOf(in)
	walkArgs(v, 0, func(name string, f reflect.Value, depth int) {
		switch {
		case depth == 0 && name == "owner" && f.Kind() == reflect.String:
			t.Owner = f.String()
		case depth == 0 && name == "repo" && f.Kind() == reflect.String:
			t.Repo = f.String()
		case depth == 0 && name == "number" && f.CanInt():
			t.Number = f.Int()
		case depth == 0 && f.Kind() == reflect.String && slices.Contains(refArgs, name):
			refs[name] = f.String()
		case pathArgs[name] && f.Kind() == reflect.String && f.String() != "":
			t.Paths = append(t.Paths, f.String())
		case pathArgs[name] && f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			for i := range f.Len() {
				t.Paths = append(t.Paths, f.Index(i).String())
			}
		}
	})
	for _, name := range refArgs {
		if refs[name] != "" {
			t.Ref = refs[name]
			break
		}
	}
	if r, ok := in.(relatedRepos); ok {
		t.Related = r.relatedRepos()
	}
	return t
}

// walkArgs calls visit for every field of the struct v that JSON encodes,
// by its JSON name, descending into embedded structs at the same depth and into
// nested structs and slices of structs one level deeper.
func walkArgs(v reflect.Value, depth int, visit func(name string, f reflect.Value, depth int)) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || depth > maxTargetDepth {
		return
	}
	for i := range v.NumField() {
		sf, f := v.Type().Field(i), v.Field(i)
		if sf.Anonymous { // promoted fields count, whether the embedded type is exported or not
			walkArgs(f, depth, visit)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		visit(name, f, depth)
		switch elem := f; {
		case elem.Kind() == reflect.Struct, elem.Kind() == reflect.Pointer:
			walkArgs(elem, depth+1, visit)
		case elem.Kind() == reflect.Slice && elem.Type().Elem().Kind() == reflect.Struct:
			for j := range elem.Len() {
				walkArgs(elem.Index(j), depth+1, visit)
			}
		}
	}
}
