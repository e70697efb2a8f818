package localgitea

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/mod/modfile"
)

// Version is the Gitea release built and run. OAuth mode needs Gitea >=
// 1.27.0, whose introspection is bound to the calling app.
const Version = "1.27.3"

// CacheEnv names an environment variable that overrides the directory the
// built Gitea is cached in (default: the user cache directory's
// aegis-gitea-mcp). The name predates the demo, which shares the cache.
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

// progressEvery is how often a build step that is still running says so.
const progressEvery = 10 * time.Second

// Binary returns a directory holding a Gitea binary ("gitea") and the
// templates, options and public assets it serves, building it from the Go
// module proxy on first use and reusing the cached build afterwards.
// Concurrent callers (other processes too) wait for one build. logf
// receives the build's steps, and while a step runs, a line every 10 s
// with its elapsed time and progress.
func Binary(ctx context.Context, logf func(string, ...any)) (string, error) {
	dir, err := BinaryDir()
	if err != nil {
		return "", err
	}
	if complete(dir) {
		return dir, nil
	}
	root := filepath.Dir(dir)
	if err := os.MkdirAll(root, 0o750); err != nil {
		return "", fmt.Errorf("creating cache directory: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(root, "build.lock"), logf)
	if err != nil {
		return "", err
	}
	defer unlock()
	if complete(dir) { // another process built it while we waited
		return dir, nil
	}
	logf("building Gitea %s from the Go module proxy into %s (first run only: downloads ~1 GB of modules, then compiles for minutes)", Version, dir)
	start := time.Now()
	if err := build(ctx, dir, logf); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("building Gitea %s: %w", Version, err)
	}
	logf("built Gitea %s in %s", Version, time.Since(start).Round(time.Second))
	return dir, nil
}

// BinaryDir is the directory [Binary] builds into and reuses; [Cached]
// says whether the build there is complete.
func BinaryDir() (string, error) {
	root, err := CacheRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, fmt.Sprintf("gitea-%s-%s-%s-%s", Version, runtime.GOOS, runtime.GOARCH, recipeKey())), nil
}

// Cached reports whether [Binary] would return at once.
func Cached() bool {
	dir, err := BinaryDir()
	return err == nil && complete(dir)
}

// CacheRoot is the directory the build is cached in: $AEGIS_TESTGITEA_CACHE,
// else the user cache directory's aegis-gitea-mcp.
func CacheRoot() (string, error) {
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

// lockFile takes an exclusive lock on path, saying so when another process
// holds it (a build in progress elsewhere) and giving up when ctx ends.
func lockFile(ctx context.Context, path string, logf func(string, ...any)) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600) // #nosec G304 -- path is in our cache directory
	if err != nil {
		return nil, fmt.Errorf("opening build lock: %w", err)
	}
	start := time.Now()
	for said := false; ; {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if !said {
			logf("another process is building Gitea %s; waiting for it (lock %s)", Version, path)
			said = true
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("waiting %s for the build lock: %w", time.Since(start).Round(time.Second), ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// build compiles Gitea in a throw-away wrapper module (Gitea's go.mod has
// replace directives, so `go install` refuses it) and copies its assets.
// It runs in four steps, each announced through logf: Gitea's source, its
// dependencies (go list -deps, which downloads them and counts the
// packages), the compile (go build -v, whose lines count the packages
// compiled), and the assets.
func build(ctx context.Context, dir string, logf func(string, ...any)) error {
	work, err := os.MkdirTemp("", "aegis-gitea-build-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(work) }()

	env := buildEnv()
	logf("step 1/4: fetching Gitea %s's source (%s)", Version, giteaModule)
	var mod struct{ Dir, GoMod string }
	out, err := goCmd(ctx, work, env, nil, "mod", "download", "-json", giteaModule+"@v"+Version)
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

	logf("step 2/4: downloading Gitea's dependencies (modules already in the Go module cache are reused)")
	downloads := &lineLog{match: func(l string) bool { return strings.HasPrefix(l, "go: downloading ") }}
	stop := heartbeat(logf, progressEvery, func() string {
		return fmt.Sprintf("%d modules downloaded so far", downloads.matched())
	})
	out, err = goCmd(ctx, work, env, downloads, "list", "-deps", "-f", "{{.ImportPath}}", giteaPath)
	stop()
	if err != nil {
		return fmt.Errorf("resolving Gitea's dependencies: %w", err)
	}
	packages := strings.Count(string(out), "\n")

	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	logf("step 3/4: compiling Gitea: %d packages, less what the Go build cache already holds", packages)
	compiled := &lineLog{match: func(l string) bool { return !strings.HasPrefix(l, "go: ") && !strings.HasPrefix(l, "#") }}
	stop = heartbeat(logf, progressEvery, func() string {
		n, last := compiled.matched(), compiled.lastMatch()
		return fmt.Sprintf("%d of at most %d packages compiled (now: %s)", n, packages, last)
	})
	args := append(append([]string{}, buildFlags...), "-v", "-o", filepath.Join(dir, "gitea"), giteaPath)
	_, err = goCmd(ctx, work, env, compiled, args...)
	stop()
	if err != nil {
		return err
	}

	logf("step 4/4: copying Gitea's templates, options and public assets")
	for _, sub := range []string{"templates", "options", "public"} {
		if err := copyTree(filepath.Join(mod.Dir, sub), filepath.Join(dir, sub)); err != nil {
			return fmt.Errorf("copying %s: %w", sub, err)
		}
	}
	return os.WriteFile(filepath.Join(dir, ".complete"), []byte(Version+"\n"), 0o600)
}

// heartbeat calls logf every interval, with the time since it started and
// what status says, until the returned stop is called.
func heartbeat(logf func(string, ...any), interval time.Duration, status func() string) (stop func()) {
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				logf("  ... %s elapsed: %s", time.Since(start).Round(time.Second), status())
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
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

// goCmd runs the go command in dir and returns its standard output; its
// standard error goes to stderr (a fresh lineLog when nil), whose last
// lines a failure quotes.
func goCmd(ctx context.Context, dir string, env []string, stderr *lineLog, args ...string) ([]byte, error) {
	if stderr == nil {
		stderr = &lineLog{}
	}
	cmd := exec.CommandContext(ctx, "go", args...) // #nosec G204 -- fixed go subcommands built here
	cmd.Dir, cmd.Env = dir, env
	cmd.Stderr = stderr
	// Cancelled, the go command is interrupted as by Ctrl-C, so it stops
	// its compilers too; killed only if it does not end within 10 s.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("go %s: %w", args[0], ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", args[0], err, stderr.tail())
	}
	return out, nil
}

// tailLines is how many lines of a failed command's output an error quotes.
const tailLines = 40

// lineLog is a go command's standard error: it counts the lines match
// accepts (downloads, or packages under -v) and keeps the last lines for
// an error message. It is safe for concurrent use.
type lineLog struct {
	match func(string) bool

	mu      sync.Mutex
	partial []byte
	n       int
	last    string
	lines   []string
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		if l.match != nil && l.match(line) {
			l.n++
			l.last = line
		}
		l.lines = append(l.lines, line)
		if len(l.lines) > tailLines {
			l.lines = l.lines[len(l.lines)-tailLines:]
		}
	}
	if len(l.partial) > 64<<10 { // a line this long is not a progress line
		l.partial = l.partial[:0]
	}
	return len(p), nil
}

func (l *lineLog) matched() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func (l *lineLog) lastMatch() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == "" {
		return "-"
	}
	return l.last
}

func (l *lineLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := append([]string(nil), l.lines...)
	if len(l.partial) > 0 {
		lines = append(lines, string(l.partial))
	}
	return strings.Join(lines, "\n")
}

// Tail returns the last lines of s, for quoting a long output in an error.
func Tail(s string, lines int) string {
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
