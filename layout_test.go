// Package layout_test guards the architecture: internal imports flow one way.
package layout_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/aegis-gitea/aegis-gitea-mcp/"

// allowedImports lists, for every package of the product, the internal
// packages its non-test files may import. A new package must be added here,
// which makes the dependency direction a reviewed decision.
var allowedImports = map[string][]string{
	"cmd/aegis-gitea-mcp": {"internal/config", "internal/logging", "internal/server", "internal/audit", "internal/broker", "internal/seal", "internal/store"},
	"internal/server":     {"internal/config", "internal/gitea", "internal/auth", "internal/tools", "internal/textsafe", "internal/audit", "internal/policy", "internal/limits", "internal/metrics", "internal/broker", "internal/clientdoc", "internal/seal", "internal/store", "internal/store/sqlstore"},
	"internal/auth":       {"internal/gitea"},
	"internal/tools":      {"internal/gitea", "internal/textsafe"},
	"internal/textsafe":   nil,
	"internal/audit":      nil,
	"internal/policy":     nil,
	"internal/config":     nil,
	"internal/gitea":      nil,
	"internal/logging":    nil,
	"internal/limits":     nil,
	"internal/metrics":    nil,
	"internal/seal":       nil,
	"internal/clientdoc":  nil,
	// broker is the OAuth authorization server in front of Gitea.
	"internal/broker": {"internal/auth", "internal/gitea", "internal/limits", "internal/seal", "internal/store", "internal/clientdoc"},
	// store is the broker's state; sqlstore keeps it in SQLite or
	// PostgreSQL, storetest is the conformance suite both pass (imported
	// by tests only).
	"internal/store":           nil,
	"internal/store/sqlstore":  {"internal/store"},
	"internal/store/storetest": {"internal/store"},
	// localgitea builds, starts and provisions a real Gitea: for the demo
	// and the tests, never the server binary.
	"internal/localgitea": nil,
	"internal/testgitea":  {"internal/localgitea"}, // test support; nothing in the product imports it
	"internal/testpg":     {"internal/localgitea"}, // test support: a throwaway PostgreSQL; nothing in the product imports it
	"internal/demo":       {"internal/localgitea", "internal/config", "internal/logging", "internal/server"},
	"cmd/aegis-demo":      {"internal/demo"},
	// The end-to-end benchmark starts Gitea and the server binary as
	// processes; nothing in the product imports it.
	"internal/bench":  {"internal/localgitea"},
	"cmd/aegis-bench": {"internal/bench"},
}

func TestImportsFlowOneWay(t *testing.T) {
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		if pkg == "." || strings.HasPrefix(pkg, "e2e") {
			return nil
		}
		allowed, known := allowedImports[pkg]
		if !known {
			t.Errorf("package %s is not in allowedImports: add it with the internal packages it may import", pkg)
			return nil
		}
		seen[pkg] = true
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, module) {
				continue
			}
			if dep := strings.TrimPrefix(p, module); !slices.Contains(allowed, dep) {
				t.Errorf("%s imports %s, which %s may not depend on", path, dep, pkg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg := range allowedImports {
		if !seen[pkg] {
			t.Errorf("allowedImports lists %s, which has no Go files: remove it", pkg)
		}
	}
}
