package config

import (
	"fmt"
	"sort"
	"strings"
)

// maxSpellingDistance is how many edits (insertions, deletions,
// substitutions, swaps of neighbours) away from a name this server reads a
// variable may be to count as a misspelling of it.
const maxSpellingDistance = 2

// unknownFileVars warns about the variables of the .env file that this
// server does not read but that look meant for it: their name starts with
// the first word of a name it reads (GITEA_, OAUTH_, MCP_, AUDIT_, ...), or
// is a close misspelling of one. Only the file is checked: the process
// environment holds everything else on the machine too. Gitea's own
// GITEA__SECTION__KEY variables (a .env shared with a Gitea container) are
// left alone. The warnings name variables, never values.
func (l *loader) unknownFileVars() []Problem {
	if len(l.file) == 0 {
		return nil
	}
	known := make([]string, 0, len(l.known))
	prefixes := map[string]bool{}
	for name := range l.known {
		known = append(known, name)
		if word, _, ok := strings.Cut(name, "_"); ok {
			prefixes[word+"_"] = true
		}
	}
	sort.Strings(known)
	var names []string
	for name := range l.file {
		names = append(names, name)
	}
	sort.Strings(names)
	var warnings []Problem
	for _, name := range names {
		if l.known[name] || strings.HasPrefix(name, "GITEA__") {
			continue
		}
		suggestion := closestName(name, known)
		prefix := ""
		for p := range prefixes {
			if strings.HasPrefix(strings.ToUpper(name), p) && len(p) > len(prefix) {
				prefix = p
			}
		}
		switch {
		case suggestion != "":
			warnings = append(warnings, Problem{Var: name, Message: fmt.Sprintf("in %s is not a variable this server reads; did you mean %s?", l.fileName, suggestion)})
		case prefix != "":
			warnings = append(warnings, Problem{Var: name, Message: fmt.Sprintf("in %s is not a variable this server reads, though it starts like its %s... variables; it is ignored (see .env.example)", l.fileName, prefix)})
		}
	}
	return warnings
}

// closestName is the name in known nearest to name, when it is within
// maxSpellingDistance edits (ignoring case), or "".
func closestName(name string, known []string) string {
	best, bestDist := "", maxSpellingDistance+1
	upper := strings.ToUpper(name)
	for _, k := range known {
		if d := editDistance(upper, k); d < bestDist || (d == bestDist && best != "" && k < best) {
			best, bestDist = k, d
		}
	}
	if bestDist > maxSpellingDistance || (bestDist == maxSpellingDistance && len(name) < 8) {
		return "" // two edits make too many short names alike
	}
	return best
}

// editDistance is the optimal string alignment distance of a and b:
// insertions, deletions, substitutions and swaps of adjacent characters.
func editDistance(a, b string) int {
	if a == b {
		return 0
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range cur {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
