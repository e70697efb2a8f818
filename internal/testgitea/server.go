package testgitea

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
)

// Version is the Gitea release the tests run against.
const Version = localgitea.Version

// CacheEnv names an environment variable that overrides the directory the
// built Gitea is cached in (default: the user cache directory).
const CacheEnv = localgitea.CacheEnv

// Options configure [Start]. The zero value is ready to use.
type Options struct {
	// Logf receives progress messages; nil means the standard logger.
	Logf func(format string, args ...any)
	// AppINI is appended to the generated app.ini, e.g. to shorten the
	// access-token lifetime for a test.
	AppINI string
}

// Gitea is one running Gitea, seeded with [Alice], [Bob] and their data.
// The embedded [localgitea.Gitea] gives its URL, version, administrator,
// provisioning calls and the OAuth code flow.
type Gitea struct {
	*localgitea.Gitea

	// PATs holds each seeded user's personal access tokens, by user name and
	// then by token name (see [Seed]).
	PATs map[string]map[string]string

	dir  string
	http *http.Client // for the seed's calls that are not JSON

	users map[string]Account

	mu   sync.Mutex
	apps map[string]*OAuthApp // by scope set
}

// Start builds (or reuses) the Gitea binary, starts it on 127.0.0.1 with
// SQLite in a temporary directory, waits until it is healthy and seeds it.
// Call [Gitea.Stop] when done; Gitea also dies if the test process does.
func Start(ctx context.Context, opts Options) (*Gitea, error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(format string, args ...any) { log.Printf("testgitea: "+format, args...) }
	}
	bin, err := localgitea.Binary(ctx, logf)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "aegis-testgitea-")
	if err != nil {
		return nil, err
	}
	g := &Gitea{dir: dir, http: &http.Client{Timeout: 30 * time.Second}, apps: map[string]*OAuthApp{}}
	g.Gitea, err = localgitea.Start(ctx, localgitea.Options{
		Dir: dir, Bin: bin, AppName: "aegis test gitea", AppINI: opts.AppINI, Logf: logf,
		Admin: Account{Name: "siteadmin", Password: randomPassword(), Email: "siteadmin@example.test"},
	})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	start := time.Now()
	if err := g.seed(ctx); err != nil {
		g.Stop()
		return nil, fmt.Errorf("seeding Gitea: %w", err)
	}
	logf("Gitea %s at %s, seeded in %s", g.Version, g.URL, time.Since(start).Round(time.Millisecond))
	return g, nil
}

// Stop ends Gitea and removes its data. It is safe to call more than once.
func (g *Gitea) Stop() {
	g.Gitea.Stop()
	if g.dir != "" {
		_ = os.RemoveAll(g.dir)
		g.dir = ""
	}
}
