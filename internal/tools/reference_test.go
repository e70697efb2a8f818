package tools

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

const referencePath = "../../docs/api-reference.md"

// TestAPIReference keeps docs/api-reference.md generated from the
// registry: it fails when the file is stale; -update rewrites it.
func TestAPIReference(t *testing.T) {
	got := reference(Default())
	if *update {
		if err := os.WriteFile(referencePath, []byte(got), 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("reading %s (generate it with go test ./internal/tools -update): %v", referencePath, err)
	}
	if string(want) != got {
		t.Errorf("%s is stale: run go test ./internal/tools -update", referencePath)
	}
}

func reference(r *Registry) string {
	var b strings.Builder
	b.WriteString("# Tool reference\n\n")
	b.WriteString("Generated from the tool registry by `go test ./internal/tools -update`; do not edit by hand.\n\n")
	b.WriteString("Every tool runs as the signed-in Gitea user. `tools/list` shows a token only the tools its scopes allow.\n\n")
	b.WriteString("Every string of every result is cleaned of invisible characters and then has its secrets masked. A result holding " +
		"user-controlled text names the fields holding it: its text starts with an `[untrusted content]` notice and its " +
		"`structuredContent` with an `untrusted_fields` list (see [What is cleaned and masked](security.md#what-is-cleaned-and-masked)).\n\n")
	b.WriteString("| tool | access | Gitea scopes |\n|---|---|---|\n")
	for _, t := range r.Tools() {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", t.Name, t.Name, t.Access, scopeList(t.Scopes))
	}
	for _, t := range r.Tools() {
		m := t.MCP()
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", t.Name, m.Description)
		fmt.Fprintf(&b, "- Access: %s (readOnlyHint %v, destructiveHint %v)\n", t.Access, m.Annotations.ReadOnlyHint, *m.Annotations.DestructiveHint)
		fmt.Fprintf(&b, "- Gitea scopes: %s\n", scopeList(t.Scopes))
		s := m.InputSchema.(*jsonschema.Schema)
		if len(s.Properties) == 0 {
			b.WriteString("\nNo arguments.\n")
			continue
		}
		b.WriteString("\n| argument | type | required | description |\n|---|---|---|---|\n")
		for _, name := range s.PropertyOrder {
			p := s.Properties[name]
			typ := p.Type
			if len(p.Enum) > 0 {
				typ += fmt.Sprintf(" (%v)", p.Enum)
			}
			fmt.Fprintf(&b, "| `%s` | %s | %v | %s |\n", name, typ, slices.Contains(s.Required, name), p.Description)
		}
	}
	return b.String()
}

func scopeList(scopes []gitea.Scope) string {
	parts := make([]string, len(scopes))
	for i, s := range scopes {
		parts[i] = "`" + string(s) + "`"
	}
	return strings.Join(parts, ", ")
}
