package testgitea

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/mod/modfile"
)

// Version is the Gitea release the tests run against. OAuth mode needs
// Gitea >= 1.27.0, whose introspection is bound to the calling app.
const Version = "1.27.3"

// CacheEnv names an environment variable that overrides the directory the
// built Gitea is cached in (default: the user cache directory).
const CacheEnv = "AEGIS_TESTGITEA_CACHE"

// Gitea's module declares the path gitea.dev, which the proxy does not
// serve; the same code is served as code.gitea.io/... and Go accepts it as
// a replacement.
const (
	giteaModule = "code.gitea.io/gitea"
	giteaPath   = "gitea.dev"
)

// aliases maps gitea.dev modules to the paths the Go module proxy serves them under.
var aliases = map[string]string{
	"gitea.dev":                  "code.gitea.io/gitea",
	"gitea.dev/sdk":              "code.gitea.io/sdk",
	"gitea.dev/actions-proto-go": "code.gitea.io/actions-proto-go",
}

// extraReplaces fixes requirements the proxy cannot satisfy. client-go
// v2.42.0 is not served; only Gitea's GitLab migrator uses it.
var extraReplaces = map[string]string{
	"gitlab.com/gitlab-org/api/client-go/v2": "v2.43.0",
}

// Binary returns a directory holding a Gitea binary ("gitea") and the
// templates, options and public assets it serves, building it from the Go
// module proxy on first use and reusing the cached build afterwards.
// Concurrent callers (other test processes) wait for one build.
func Binary(ctx context.Context, logf func(string, ...any)) (string, error) {
	root, err := cacheRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, fmt.Sprintf("gitea-%s-%s-%s-%s", Version, runtime.GOOS, runtime.GOARCH, recipeKey()))
	if complete(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o750); err != nil {
		return "", fmt.Errorf("creating cache directory: %w", err)
	}
	unlock, err := lockFile(filepath.Join(root, "build.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if complete(dir) { // another process built it while we waited
		return dir, nil
	}
	logf("testgitea: building Gitea %s from the Go module proxy into %s (first run only; takes several minutes)", Version, dir)
	start := time.Now()
	if err := build(ctx, dir, logf); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("building Gitea %s: %w", Version, err)
	}
	logf("testgitea: built Gitea %s in %s", Version, time.Since(start).Round(time.Second))
	return dir, nil
}

func cacheRoot() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory (set %s): %w", CacheEnv, err)
	}
	return filepath.Join(d, "aegis-gitea-mcp"), nil
}

// buildFlags are part of the cache key: changing them rebuilds.
var buildFlags = []string{"build", "-trimpath", "-ldflags", "-s -w -X main.Version=" + Version}

// recipeKey is a short hash of everything that shapes the build besides the
// version, so a changed recipe never reuses a stale binary.
func recipeKey() string {
	h := sha256.New()
	_, _ = fmt.Fprint(h, buildFlags, aliases, extraReplaces, runtime.Version())
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func complete(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".complete"))
	return err == nil
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600) // #nosec G304 -- path is in our cache directory
	if err != nil {
		return nil, fmt.Errorf("opening build lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// build compiles Gitea in a throw-away wrapper module (Gitea's go.mod has
// replace directives, so `go install` refuses it) and copies its assets.
func build(ctx context.Context, dir string, logf func(string, ...any)) error {
	work, err := os.MkdirTemp("", "aegis-gitea-build-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(work) }()

	env := buildEnv()
	var mod struct{ Dir, GoMod string }
	out, err := goCmd(ctx, work, env, "mod", "download", "-json", giteaModule+"@v"+Version)
	if err != nil {
		return fmt.Errorf("downloading %s: %w", giteaModule, err)
	}
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return fmt.Errorf("go mod download gave no module directory")
	}
	upstream, err := os.ReadFile(mod.GoMod)
	if err != nil {
		return err
	}
	wrapper, err := wrapperGoMod(upstream)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "go.mod"), wrapper, 0o600); err != nil { // #nosec G703 -- our own temporary directory
		return err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	logf("testgitea: compiling (module downloads and compile run once; cached in %s)", dir)
	args := append(append([]string{}, buildFlags...), "-o", filepath.Join(dir, "gitea"), giteaPath)
	if _, err := goCmd(ctx, work, env, args...); err != nil {
		return err
	}
	for _, sub := range []string{"templates", "options", "public"} {
		if err := copyTree(filepath.Join(mod.Dir, sub), filepath.Join(dir, sub)); err != nil {
			return fmt.Errorf("copying %s: %w", sub, err)
		}
	}
	return os.WriteFile(filepath.Join(dir, ".complete"), []byte(Version+"\n"), 0o600)
}

// buildEnv is the go command's environment for the wrapper build: pure Go
// (Gitea 1.27's default SQLite driver needs no cgo), module mode that may
// add requirements, and no checksum-database lookups for the alias modules,
// which the database does not know under these paths.
func buildEnv() []string {
	var noSum []string
	for _, served := range aliases {
		noSum = append(noSum, served)
	}
	return append(os.Environ(),
		"CGO_ENABLED=0",
		"GOFLAGS=-mod=mod -buildvcs=false",
		"GONOSUMDB="+strings.Join(noSum, ","),
		"GOWORK=off",
	)
}

// wrapperGoMod writes a go.mod that requires Gitea under its declared path
// and carries over its replace and godebug directives.
func wrapperGoMod(upstream []byte) ([]byte, error) {
	up, err := modfile.Parse("gitea/go.mod", upstream, nil)
	if err != nil {
		return nil, fmt.Errorf("parsing Gitea's go.mod: %w", err)
	}
	w := &modfile.File{}
	if err := w.AddModuleStmt("aegis-gitea-build"); err != nil {
		return nil, err
	}
	if up.Go != nil {
		if err := w.AddGoStmt(up.Go.Version); err != nil {
			return nil, err
		}
	}
	required := map[string]string{giteaPath: "v" + Version}
	for _, r := range up.Require {
		if _, ok := aliases[r.Mod.Path]; ok {
			required[r.Mod.Path] = r.Mod.Version
		}
	}
	for path, served := range aliases {
		v, ok := required[path]
		if !ok {
			return nil, fmt.Errorf("gitea's go.mod does not require %s", path)
		}
		w.AddNewRequire(path, v, false)
		if err := w.AddReplace(path, "", served, v); err != nil {
			return nil, err
		}
	}
	for path, v := range extraReplaces {
		if err := w.AddReplace(path, "", path, v); err != nil {
			return nil, err
		}
	}
	for _, r := range up.Replace {
		if err := w.AddReplace(r.Old.Path, r.Old.Version, r.New.Path, r.New.Version); err != nil {
			return nil, err
		}
	}
	for _, g := range up.Godebug {
		if err := w.AddGodebug(g.Key, g.Value); err != nil {
			return nil, err
		}
	}
	w.Cleanup()
	return w.Format()
}

func goCmd(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...) // #nosec G204 -- fixed go subcommands built here
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", args[0], err, tail(stderr.String(), 40))
	}
	return out, nil
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// copyTree copies a directory of regular files, making them writable (the
// module cache is read-only).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o750)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(path, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src) // #nosec G304 -- files of the Gitea module in the module cache
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600) // #nosec G304 -- our cache directory
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// stderrLogf logs to the test binary's stderr, where `go test` shows it.
func stderrLogf(format string, args ...any) { log.Printf(format, args...) }
