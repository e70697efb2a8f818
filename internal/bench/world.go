package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
)

// The benchmark's Gitea world: one user owning a few repositories, one of
// them holding a small file.
const (
	benchUser  = "bencher"
	benchRepo  = "notes"
	benchFile  = "docs/guide.md"
	benchText  = "# Guide\n\nA small file the benchmark reads, again and again.\n"
	benchScope = "openid read:repository read:user"
	extraRepos = 4 // besides benchRepo, so list_repositories lists five
)

// world is a running Gitea seeded for the benchmark, with an OAuth app
// and an access token obtained through the authorization-code flow.
type world struct {
	gitea *localgitea.Gitea
	dir   string // removed by stop
	app   *localgitea.OAuthApp
	token string
}

// startWorld builds (first use only, cached) and starts Gitea on loopback
// in a temporary directory and seeds it.
func startWorld(ctx context.Context, logf func(string, ...any)) (w *world, err error) {
	bin, err := localgitea.Binary(ctx, logf)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "aegis-bench-")
	if err != nil {
		return nil, err
	}
	w = &world{dir: dir}
	defer func() {
		if err != nil {
			w.stop()
		}
	}()
	w.gitea, err = localgitea.Start(ctx, localgitea.Options{
		Dir: filepath.Join(dir, "gitea"), Bin: bin, AppName: "aegis bench gitea", Logf: logf,
		Admin: localgitea.Account{Name: "siteadmin", Password: localgitea.RandomPassword(), Email: "siteadmin@example.test"},
	})
	if err != nil {
		return nil, err
	}
	if err := checkLoopbackURL(w.gitea.URL); err != nil {
		return nil, fmt.Errorf("gitea: %w", err)
	}
	user := localgitea.Account{Name: benchUser, Password: localgitea.RandomPassword(), Email: benchUser + "@example.test"}
	if err := w.gitea.CreateUser(ctx, user); err != nil {
		return nil, err
	}
	if err := w.gitea.CreateRepo(ctx, benchUser, benchRepo, true, false); err != nil {
		return nil, err
	}
	if err := w.gitea.PutFile(ctx, benchUser, benchRepo, benchFile, benchText, ""); err != nil {
		return nil, err
	}
	for i := range extraRepos {
		if err := w.gitea.CreateRepo(ctx, benchUser, fmt.Sprintf("repo-%d", i+1), i%2 == 0, false); err != nil {
			return nil, err
		}
	}
	if w.app, err = w.gitea.CreateOAuthApp(ctx, "aegis-bench"); err != nil {
		return nil, err
	}
	tok, err := w.gitea.AuthorizationCode(ctx, user, w.app, benchScope)
	if err != nil {
		return nil, fmt.Errorf("code flow: %w", err)
	}
	w.token = tok.AccessToken
	return w, nil
}

// stop ends Gitea by its PID and removes its data.
func (w *world) stop() {
	if w.gitea != nil {
		w.gitea.Stop()
	}
	_ = os.RemoveAll(w.dir)
}
