// Package e2e holds the end-to-end tests. They run against one real Gitea,
// started once per `go test` run by TestMain, with tokens obtained through
// Gitea's own OAuth authorization-code flow. Under -short they are skipped;
// otherwise a Gitea that cannot be built or started fails the run.
package e2e

import (
	"context"
	"flag"
	"log"
	"os"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// shared is the Gitea every test in this package uses.
var shared *testgitea.Gitea

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	// A cold build downloads ~1 GB of modules and compiles for minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()
	var err error
	if shared, err = testgitea.Start(ctx, testgitea.Options{}); err != nil {
		log.Printf("e2e: cannot start a real Gitea, so the end-to-end tests fail: %v", err)
		return 1
	}
	defer shared.Stop()
	log.Printf("e2e: running against Gitea %s at %s", shared.Version, shared.URL)
	return m.Run()
}

// needGitea skips t under -short and returns the shared Gitea otherwise.
func needGitea(t *testing.T) *testgitea.Gitea {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: needs a real Gitea (run without -short)")
	}
	return shared
}
