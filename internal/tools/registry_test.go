package tools

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/gitea"
)

var update = flag.Bool("update", false, "rewrite the tool schema snapshots from the registry")

// TestRegistryInvariants checks every tool against the rules all tools share.
func TestRegistryInvariants(t *testing.T) {
	r := Default()
	if len(r.Tools()) == 0 {
		t.Fatal("no tools registered")
	}
	for _, tool := range r.Tools() {
		t.Run(tool.Name, func(t *testing.T) {
			m := tool.MCP()
			if m.Annotations == nil || m.Annotations.DestructiveHint == nil || m.Annotations.OpenWorldHint == nil {
				t.Fatal("annotations must set destructiveHint and openWorldHint explicitly")
			}
			if m.Annotations.ReadOnlyHint != (tool.Access == Read) || *m.Annotations.DestructiveHint != (tool.Access == Destructive) {
				t.Errorf("hints readOnly=%v destructive=%v do not match access %v", m.Annotations.ReadOnlyHint, *m.Annotations.DestructiveHint, tool.Access)
			}
			schema, err := json.Marshal(m.InputSchema)
			if err != nil {
				t.Fatal(err)
			}
			var root struct {
				Type                 string `json:"type"`
				AdditionalProperties *bool  `json:"additionalProperties"`
			}
			if err := json.Unmarshal(schema, &root); err != nil || root.Type != "object" || root.AdditionalProperties == nil || *root.AdditionalProperties {
				t.Errorf("input schema %s: want a plain object refusing unknown properties", schema)
			}
			if !strings.HasSuffix(m.Description, ".") {
				t.Errorf("description %q should be a sentence ending with a period", m.Description)
			}
		})
	}
}

func TestNewRegistryRefusesBadTools(t *testing.T) {
	good := getMe
	tests := []struct {
		name   string
		mutate func(d *Def[struct{}, userOut])
		want   string
	}{
		{name: "bad name", mutate: func(d *Def[struct{}, userOut]) { d.Name = "Get-Me" }, want: "name must match"},
		{name: "no access", mutate: func(d *Def[struct{}, userOut]) { d.Access = 0 }, want: "Access must be"},
		{name: "no scope", mutate: func(d *Def[struct{}, userOut]) { d.Scopes = nil }, want: "at least one Gitea scope"},
		{name: "unknown scope", mutate: func(d *Def[struct{}, userOut]) { d.Scopes = []gitea.Scope{"read:repo"} }, want: "not a Gitea scope"},
		{name: "no description", mutate: func(d *Def[struct{}, userOut]) { d.Desc = "" }, want: "description"},
		{name: "no area", mutate: func(d *Def[struct{}, userOut]) { d.Area = "" }, want: "Area"},
		{name: "read tool with a write scope", mutate: func(d *Def[struct{}, userOut]) { d.Scopes = []gitea.Scope{gitea.ScopeWriteRepository} },
			want: "read scopes only"},
		{name: "write tool with a read scope", mutate: func(d *Def[struct{}, userOut]) { d.Access = Write }, want: "write scopes only"},
		{name: "destructive without a question", mutate: func(d *Def[struct{}, userOut]) {
			d.Access, d.Scopes = Destructive, []gitea.Scope{gitea.ScopeWriteRepository}
		}, want: "Confirm question"},
		{name: "question on a read tool", mutate: func(d *Def[struct{}, userOut]) { d.Confirm = func(struct{}) string { return "?" } },
			want: "Confirm question"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := good
			tt.mutate(&d)
			if _, err := NewRegistry(d.Tool()); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewRegistry error = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := NewRegistry(good.Tool(), good.Tool()); err == nil {
		t.Error("NewRegistry accepted two tools with one name")
	}
}

// TestToolSchemas compares every tool's tools/list entry with its snapshot
// in testdata/toolschemas. After changing a tool on purpose, run
// `go test ./internal/tools -update` and review the diff.
func TestToolSchemas(t *testing.T) {
	dir := filepath.Join("testdata", "toolschemas")
	var names []string
	for _, tool := range Default().Tools() {
		names = append(names, tool.Name+".json")
		t.Run(tool.Name, func(t *testing.T) {
			got, err := json.MarshalIndent(tool.MCP(), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join(dir, tool.Name+".json")
			if *update {
				if err := os.MkdirAll(dir, 0o750); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o600); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("no snapshot for %s (run go test ./internal/tools -update): %v", tool.Name, err)
			}
			if string(got) != string(want) {
				t.Errorf("tool %s changed its interface; if intended, run go test ./internal/tools -update.\ngot:\n%s\nwant:\n%s", tool.Name, got, want)
			}
		})
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !*update {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !slices.Contains(names, e.Name()) {
			if *update {
				_ = os.Remove(filepath.Join(dir, e.Name()))
				continue
			}
			t.Errorf("snapshot %s belongs to no tool: remove it (or run -update)", e.Name())
		}
	}
}

func TestVisibleAndScopes(t *testing.T) {
	r := Default()
	repoOnly := gitea.ParseGrant("read:repository").Scopes
	var visible []string
	for _, tool := range r.Tools() {
		if !tool.Allowed(repoOnly) {
			continue
		}
		visible = append(visible, tool.Name)
		for _, s := range tool.Scopes {
			if s != gitea.ScopeReadRepository {
				t.Errorf("Allowed(read:repository) holds for %s, which needs %s", tool.Name, s)
			}
		}
	}
	if !slices.Contains(visible, "get_file_contents") || slices.Contains(visible, "list_issues") {
		t.Errorf("tools allowed by read:repository = %v", visible)
	}
	var reads []*Tool
	for _, tool := range r.Tools() {
		if tool.Access == Read {
			reads = append(reads, tool)
		}
	}
	for _, s := range ScopesOf(reads) {
		if !strings.HasPrefix(string(s), "read:") {
			t.Errorf("ScopesOf(read tools) holds %s: the read toolset needs read scopes only", s)
		}
	}
	both := ScopesOf([]*Tool{getIssue.Tool(), {Scopes: []gitea.Scope{gitea.ScopeWriteIssue}}})
	if !slices.Equal(both, []gitea.Scope{gitea.ScopeWriteIssue}) {
		t.Errorf("ScopesOf(read:issue, write:issue) = %v, want write:issue alone (write implies read)", both)
	}
}

// TestEveryToolInvariant holds over the whole registry: an access level
// that matches the annotations, a question for every Destructive tool and
// none for the rest, and scopes of the matching kind.
func TestEveryToolInvariant(t *testing.T) {
	for _, tool := range Default().Tools() {
		m := tool.MCP()
		if m.Annotations.ReadOnlyHint != (tool.Access == Read) || *m.Annotations.DestructiveHint != (tool.Access == Destructive) {
			t.Errorf("%s: hints do not match access %v", tool.Name, tool.Access)
		}
		if tool.confirms != (tool.Access == Destructive) {
			t.Errorf("%s: access %v, has a confirmation question: %v", tool.Name, tool.Access, tool.confirms)
		}
		for _, s := range tool.Scopes {
			if s.Writes() != (tool.Access != Read) {
				t.Errorf("%s: access %v with scope %s", tool.Name, tool.Access, s)
			}
		}
	}
}

// TestEveryWriteNamesItsRepository: every tool that changes data binds to
// a target naming its repository, so the whitelist can be checked; the
// arguments are the tool's required ones, filled with sample values.
func TestEveryWriteNamesItsRepository(t *testing.T) {
	for _, tool := range Default().Tools() {
		if tool.Access == Read {
			continue
		}
		c, err := tool.Bind(sampleArgs(t, tool))
		if err != nil {
			t.Errorf("%s: binding sample arguments: %v", tool.Name, err)
			continue
		}
		if c.Target.Owner != "alice" || c.Target.Repo != "notes" {
			t.Errorf("%s binds to target %+v, want alice/notes", tool.Name, c.Target)
		}
	}
}

// sampleArgs fills a tool's required arguments with plausible values.
func sampleArgs(t *testing.T, tool *Tool) json.RawMessage {
	t.Helper()
	s := tool.MCP().InputSchema.(*jsonschema.Schema)
	args := map[string]any{}
	for _, name := range s.Required {
		p := s.Properties[name]
		typ := p.Type
		for _, tt := range p.Types { // ["null", "array"] for a slice
			if tt != "null" {
				typ = tt
			}
		}
		switch {
		case name == "owner":
			args[name] = "alice"
		case name == "repo":
			args[name] = "notes"
		case len(p.Enum) > 0:
			args[name] = p.Enum[0]
		case p.Pattern != "":
			args[name] = strings.Repeat("a", 40)
		case typ == "integer":
			args[name] = 1
		case typ == "boolean":
			args[name] = true
		case typ == "array" && p.Items != nil && p.Items.Type == "object":
			args[name] = []any{map[string]any{"operation": "create", "path": "a.md", "content": "x"}}
		case typ == "array":
			args[name] = []any{"x"}
		case typ == "object":
			args[name] = map[string]any{}
		default:
			args[name] = "x"
		}
	}
	b, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
