package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/audit"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
	"github.com/aegis-gitea/aegis-gitea-mcp/internal/testgitea"
)

// The container test builds docker/Dockerfile's runtime stage with podman
// and runs the image against the shared Gitea. It runs when
// AEGIS_CONTAINER_TEST=1 (`make container-test` sets it), as root, with
// podman, runc and slirp4netns installed (Debian's packages; .ci/run
// installs them). No image registry is reachable here, so nothing is
// pulled: the runtime stage is built, as written, on a base made locally
// (scratch with CA certificates and a passwd entry for uid 65532, as
// distroless's nonroot image has), and the build stage is replaced by one
// that holds a binary built on the host with the Dockerfile's own flags.
// The settings podman needs on these machines are in podmanCmd.

// containerTestEnv turns the container test on.
const containerTestEnv = "AEGIS_CONTAINER_TEST"

// nonrootUID is the user the image runs as (distroless's "nonroot").
const nonrootUID = 65532

// podman runs podman with its own storage and runtime directories under dir.
type podman struct {
	dir  string
	conf string
}

func needPodman(t *testing.T) *podman {
	t.Helper()
	if os.Getenv(containerTestEnv) != "1" {
		t.Skip("container test: run it with `make container-test` (sets " + containerTestEnv + "=1; needs root and podman, runc, slirp4netns)")
	}
	for _, tool := range []string{"podman", "runc", "slirp4netns"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s=1 but %s is not installed (apt-get install podman runc slirp4netns)", containerTestEnv, tool)
		}
	}
	if os.Geteuid() != 0 {
		t.Fatalf("%s=1 needs root: rootless podman cannot use the settings these machines need", containerTestEnv)
	}
	// A short path: podman's runtime directory holds unix sockets.
	dir, err := os.MkdirTemp("", "aegis-ctr-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	p := &podman{dir: dir, conf: filepath.Join(dir, "containers.conf")}
	// The default ulimits cannot be set in this sandbox (setrlimit: EPERM).
	if err := os.WriteFile(p.conf, []byte("[containers]\ndefault_ulimits = []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// cmd is a podman command: vfs storage (no overlay mounts), runc with
// cgroupfs (crun fails on this kernel's hybrid cgroups), events in a file
// (no journald).
func (p *podman) cmd(ctx context.Context, args ...string) *exec.Cmd {
	global := []string{"--root", filepath.Join(p.dir, "root"), "--runroot", filepath.Join(p.dir, "run"),
		"--storage-driver", "vfs", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file"}
	cmd := exec.CommandContext(ctx, "podman", append(global, args...)...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+p.conf)
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// run runs podman with a bound and returns its exit code, stdout and stderr.
func (p *podman) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return p.runCtx(t, t.Context(), args...)
}

// runCtx is run under ctx (a cleanup's, once t.Context is done).
func (p *podman) runCtx(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := p.cmd(ctx, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatalf("podman %s: %v", strings.Join(args, " "), err)
	}
	return 0, stdout.String(), stderr.String()
}

// must runs podman and fails the test unless it exits 0.
func (p *podman) must(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := p.run(t, args...)
	if code != 0 {
		t.Fatalf("podman %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return strings.TrimSpace(stdout)
}

// start runs a container detached and removes it when the test ends.
func (p *podman) start(t *testing.T, args ...string) string {
	t.Helper()
	id := p.must(t, append([]string{"run", "-d"}, args...)...)
	if i := strings.LastIndexByte(id, '\n'); i >= 0 {
		id = id[i+1:]
	}
	t.Cleanup(func() {
		if code, _, stderr := p.runCtx(t, context.Background(), "rm", "-f", "-t", "5", id); code != 0 {
			t.Errorf("podman rm %s: exit %d %s", id, code, stderr)
		}
	})
	return id
}

// inspect decodes `podman inspect` of one container or image into out.
func (p *podman) inspect(t *testing.T, kind, ref string, out any) {
	t.Helper()
	var list []json.RawMessage
	if err := json.Unmarshal([]byte(p.must(t, kind, "inspect", ref)), &list); err != nil || len(list) != 1 {
		t.Fatalf("podman %s inspect %s: %v (%d results)", kind, ref, err, len(list))
	}
	if err := json.Unmarshal(list[0], out); err != nil {
		t.Fatal(err)
	}
}

// buildImage builds docker/Dockerfile's runtime stage on a local base and
// returns the image's name.
func (p *podman) buildImage(t *testing.T) string {
	t.Helper()
	dockerfile, err := os.ReadFile("../docker/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(dockerfile)
	// The binary is built as the Dockerfile's build stage builds it.
	const flags = `go build -trimpath -ldflags "-s -w -X main.version=${VERSION}"`
	if !strings.Contains(df, flags) || !strings.Contains(df, "CGO_ENABLED=0") {
		t.Fatalf("docker/Dockerfile no longer builds with %s and CGO_ENABLED=0: update this test", flags)
	}
	ctxDir := t.TempDir()
	// out/ is what the build stage leaves in /out: the binary and the
	// audit log's directory.
	if err := os.MkdirAll(filepath.Join(ctxDir, "out", "var", "lib", "aegis"), 0o755); err != nil { // #nosec G301 -- an image's directory
		t.Fatal(err)
	}
	build := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=container-test",
		"-o", filepath.Join(ctxDir, "out", "aegis-gitea-mcp"), "../cmd/aegis-gitea-mcp")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// The base: what distroless's static nonroot image provides.
	baseDir := t.TempDir()
	certs, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Fatalf("the local base needs the host's CA certificates (apt-get install ca-certificates): %v", err)
	}
	uid := strconv.Itoa(nonrootUID)
	for name, content := range map[string]string{
		"rootfs/etc/passwd":                        "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:" + uid + ":" + uid + ":nonroot:/home/nonroot:/sbin/nologin\n",
		"rootfs/etc/group":                         "root:x:0:\nnonroot:x:" + uid + ":\n",
		"rootfs/etc/ssl/certs/ca-certificates.crt": string(certs),
		"rootfs/home/nonroot/.keep":                "",
		"Containerfile":                            "FROM scratch\nCOPY rootfs/ /\n",
	} {
		path := filepath.Join(baseDir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { // #nosec G301 -- an image's directory
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil { // #nosec G306 -- a world-readable image file
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(baseDir, "rootfs", "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(baseDir, "rootfs", "tmp"), 0o1777); err != nil { // #nosec G302 -- the image's /tmp, as distroless has it
		t.Fatal(err)
	}
	const base = "localhost/aegis-test-base:latest"
	p.must(t, "build", "--pull=never", "--format", "docker", "-t", base, baseDir)

	// The Dockerfile's runtime stage, byte for byte, after a build stage
	// that holds the binary built above.
	before, runtime, ok := strings.Cut(df, "\nFROM ${RUNTIME_IMAGE} AS runtime\n")
	if !ok || strings.Count(df, "\nFROM ") != 2 {
		t.Fatal("docker/Dockerfile is not one build stage and one `FROM ${RUNTIME_IMAGE} AS runtime` stage: update this test")
	}
	var args []string
	for line := range strings.SplitSeq(before, "\n") {
		if strings.HasPrefix(line, "ARG ") {
			args = append(args, line)
		}
		if strings.HasPrefix(line, "FROM ") {
			break
		}
	}
	containerfile := strings.Join(args, "\n") + "\nFROM scratch AS build\nCOPY out/ /out/\n" +
		"FROM ${RUNTIME_IMAGE} AS runtime\n" + runtime
	if err := os.WriteFile(filepath.Join(ctxDir, "Containerfile"), []byte(containerfile), 0o600); err != nil { // #nosec G703 -- a path in the test's own directory
		t.Fatal(err)
	}
	const image = "localhost/aegis-gitea-mcp:container-test"
	start := time.Now()
	// --format docker keeps HEALTHCHECK, which the OCI image format has no field for.
	p.must(t, "build", "--pull=never", "--format", "docker", "--build-arg", "RUNTIME_IMAGE="+base,
		"--build-arg", "VERSION=container-test", "--build-arg", "REVISION=0123abc", "-t", image, ctxDir)
	t.Logf("built %s from docker/Dockerfile's runtime stage on %s in %s", image, base, time.Since(start).Round(time.Millisecond))
	return image
}

// imageConfig is what the test reads of `podman image inspect`.
type imageConfig struct {
	Size   int64
	Config struct {
		User       string
		Entrypoint []string
		Cmd        []string
		Labels     map[string]string
	}
	Healthcheck struct {
		Test     []string
		Interval time.Duration
		Timeout  time.Duration
	}
}

// containerState is what the test reads of `podman inspect`.
type containerState struct {
	State struct {
		Pid      int
		Running  bool
		ExitCode int
	}
	HostConfig struct {
		ReadonlyRootfs bool
	}
}

func TestContainerImage(t *testing.T) {
	p := needPodman(t)
	g := needGitea(t)
	image := p.buildImage(t)

	var img imageConfig
	p.inspect(t, "image", image, &img)
	t.Logf("image size %.1f MB, user %s, healthcheck %v every %s", float64(img.Size)/1e6, img.Config.User, img.Healthcheck.Test, img.Healthcheck.Interval)
	if img.Config.User != "65532:65532" {
		t.Errorf("image user = %q, want 65532:65532", img.Config.User)
	}
	if want := []string{"CMD", "/aegis-gitea-mcp", "healthcheck"}; strings.Join(img.Healthcheck.Test, " ") != strings.Join(want, " ") {
		t.Errorf("HEALTHCHECK = %v, want %v", img.Healthcheck.Test, want)
	}
	for k, want := range map[string]string{"org.opencontainers.image.version": "container-test",
		"org.opencontainers.image.revision": "0123abc", "org.opencontainers.image.title": "aegis-gitea-mcp"} {
		if img.Config.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, img.Config.Labels[k], want)
		}
	}
	if strings.Join(img.Config.Entrypoint, " ") != "/aegis-gitea-mcp" || strings.Join(img.Config.Cmd, " ") != "serve" {
		t.Errorf("entrypoint %v, cmd %v; want /aegis-gitea-mcp serve", img.Config.Entrypoint, img.Config.Cmd)
	}
	if img.Size > 40e6 {
		t.Errorf("image is %d bytes, want a small static image", img.Size)
	}
	if out := p.must(t, "run", "--rm", "--read-only", image, "version"); !strings.Contains(out, "aegis-gitea-mcp container-test") {
		t.Errorf("version = %q, want the build argument's version", out)
	}

	t.Run("serves Gitea's users through the published port", func(t *testing.T) {
		testContainerServes(t, p, g, image)
	})
	t.Run("healthcheck fails when nothing serves", func(t *testing.T) {
		// The image's own HEALTHCHECK command, in a container where no server runs.
		code, stdout, stderr := p.run(t, "run", "--rm", "--read-only", "--network", "none", image, "healthcheck")
		if code != 1 || !strings.Contains(stderr, "connection refused") {
			t.Errorf("healthcheck without a server: exit %d, %s%s; want 1, connection refused", code, stdout, stderr)
		}
		t.Logf("healthcheck with the server down: exit %d: %s", code, lastLine(stderr))
	})
	t.Run("healthcheck --ready fails while Gitea is unreachable", func(t *testing.T) {
		id := p.start(t, "--read-only", "--network", "none", "-e", "GITEA_URL=http://127.0.0.1:9",
			"-e", "GITEA_OAUTH_CLIENT_ID=unused", "-e", "GITEA_OAUTH_CLIENT_SECRET=unused", "-e", "PUBLIC_BASE_URL=http://127.0.0.1:8080", image)
		waitExec(t, p, id, 0, "healthcheck") // alive
		if code, _, stderr := p.run(t, "exec", id, "/aegis-gitea-mcp", "healthcheck", "--ready"); code != 1 || !strings.Contains(stderr, "503") {
			t.Errorf("healthcheck --ready with Gitea unreachable: exit %d, %s; want 1 and 503", code, stderr)
		} else {
			t.Logf("healthcheck --ready with Gitea unreachable: exit 1: %s", strings.TrimSpace(stderr))
		}
		if code, _, stderr := p.run(t, "healthcheck", "run", id); code != 0 {
			t.Errorf("podman healthcheck run (liveness) = exit %d %s, want 0 while the process serves", code, stderr)
		}
	})
	t.Run("the root filesystem is read-only", func(t *testing.T) {
		// Even root cannot write to it: the audit log must go to a volume.
		code, _, stderr := p.run(t, "run", "--rm", "--read-only", "--user", "0", "--network", "none",
			"-e", "GITEA_URL=http://127.0.0.1:9", "-e", "GITEA_OAUTH_CLIENT_ID=unused", "-e", "GITEA_OAUTH_CLIENT_SECRET=unused",
			"-e", "PUBLIC_BASE_URL=http://127.0.0.1:8080", "-e", "AUDIT_LOG_PATH=/audit.log", image)
		if code != 2 || !strings.Contains(stderr, "read-only file system") {
			t.Errorf("serve with AUDIT_LOG_PATH on the read-only root: exit %d, %s; want 2 and read-only file system", code, stderr)
		} else {
			t.Logf("AUDIT_LOG_PATH=/audit.log with --read-only, even as root: exit 2: %s", lastLine(stderr))
		}
	})
}

// testContainerServes runs the image as it is deployed: read-only, no
// capabilities, the client secret in a mounted file, the audit log on a
// volume, the port published on loopback; the container reaches the
// host's Gitea through slirp4netns (10.0.2.2 is the host's loopback there).
func testContainerServes(t *testing.T, p *podman, g *testgitea.Gitea, image string) {
	app, err := g.App(t.Context(), toolScopes)
	if err != nil {
		t.Fatal(err)
	}
	gu, err := url.Parse(g.URL)
	if err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte(app.ClientSecret+"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(secretFile, nonrootUID, nonrootUID); err != nil {
		t.Fatal(err)
	}
	// A new named volume, as docker-compose.yml uses: it starts as the
	// image's /var/lib/aegis, owned by the server's user.
	const volume = "aegis-test-audit"
	port := loopbackFreePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	id := p.start(t, "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"--network", "slirp4netns:allow_host_loopback=true,port_handler=slirp4netns",
		"-p", "127.0.0.1:"+strconv.Itoa(port)+":8080",
		"-v", secretFile+":/run/secrets/client-secret:ro", "-v", volume+":/var/lib/aegis",
		"-e", "GITEA_URL=http://10.0.2.2:"+gu.Port(),
		"-e", "GITEA_OAUTH_CLIENT_ID="+app.ClientID,
		"-e", "GITEA_OAUTH_CLIENT_SECRET_FILE=/run/secrets/client-secret",
		"-e", "PUBLIC_BASE_URL="+base,
		"-e", "AUDIT_LOG_PATH=/var/lib/aegis/audit.log",
		image)

	start := time.Now()
	waitHTTP(t, base+"/healthz", 30*time.Second)
	t.Logf("/healthz answered 200 through the published port %s %s after start", base, time.Since(start).Round(time.Millisecond))
	ready := waitHTTP(t, base+"/readyz", 30*time.Second)
	if !strings.Contains(ready, `"gitea_version":"`+testgitea.Version+`"`) {
		t.Errorf("/readyz = %s, want Gitea %s reached from the container", ready, testgitea.Version)
	}

	a := &aegis{URL: base, App: app}
	alice := a.token(t, g, testgitea.AliceName, toolScopes).AccessToken
	if res := a.toolCall(t, alice, "get_me", nil); res.Status != http.StatusOK || res.IsError || !strings.Contains(res.Text, testgitea.AliceName) {
		t.Errorf("get_me through the container = %d %s, want alice", res.Status, res.Body)
	}

	if code, stdout, stderr := p.run(t, "healthcheck", "run", id); code != 0 {
		t.Errorf("podman healthcheck run = exit %d %s%s, want 0", code, stdout, stderr)
	} else {
		t.Logf("podman healthcheck run (the image's HEALTHCHECK): exit 0")
	}
	if code, stdout, stderr := p.run(t, "exec", id, "/aegis-gitea-mcp", "healthcheck", "--ready"); code != 0 {
		t.Errorf("healthcheck --ready = exit %d %s%s, want 0", code, stdout, stderr)
	} else {
		t.Logf("healthcheck --ready: exit 0: %s", strings.TrimSpace(stdout))
	}

	var st containerState
	p.inspect(t, "container", id, &st)
	if !st.HostConfig.ReadonlyRootfs {
		t.Error("the container's root filesystem is not read-only")
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", st.State.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if strings.HasPrefix(line, "Uid:") || strings.HasPrefix(line, "Gid:") {
			if f := strings.Fields(line); len(f) != 5 || strings.Count(line, strconv.Itoa(nonrootUID)) != 4 {
				t.Errorf("the server process runs with %q, want %d throughout", line, nonrootUID)
			}
			t.Logf("server process (host pid %d) %s", st.State.Pid, strings.Join(strings.Fields(line), " "))
		}
		if strings.HasPrefix(line, "CapEff:") && strings.TrimSpace(strings.TrimPrefix(line, "CapEff:")) != "0000000000000000" {
			t.Errorf("the server process has capabilities: %s", line)
		}
	}

	// SIGTERM (podman stop) ends it cleanly.
	p.must(t, "stop", "-t", "20", id)
	p.inspect(t, "container", id, &st)
	_, logs, logErr := p.run(t, "logs", id)
	logs += logErr
	if st.State.ExitCode != 0 || !strings.Contains(logs, `"msg":"stopped"`) {
		t.Errorf("after podman stop: exit %d, want 0 and a stopped line:\n%s", st.State.ExitCode, logs)
	}
	for _, secret := range []string{app.ClientSecret, alice} {
		if strings.Contains(logs, secret) {
			t.Errorf("the container's log holds a secret (%.8s...)", secret)
		}
	}
	auditLog := filepath.Join(p.must(t, "volume", "inspect", "--format", "{{.Mountpoint}}", volume), "audit.log")
	if rep, err := audit.Verify(auditLog); err != nil || rep.Records == 0 {
		t.Errorf("the container's audit log on its volume: %d records, %v", rep.Records, err)
	} else {
		t.Logf("the container's audit log on its volume verifies: %d records", rep.Records)
	}
}

// waitExec waits until `podman exec id /aegis-gitea-mcp args...` exits want.
func waitExec(t *testing.T, p *podman, id string, want int, args ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, stdout, stderr := p.run(t, append([]string{"exec", id, "/aegis-gitea-mcp"}, args...)...)
		if code == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v: exit %d %s%s, want %d within 30 s", args, code, stdout, stderr, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitHTTP polls url until it answers 200, and returns the body.
func waitHTTP(t *testing.T, url string, limit time.Duration) string {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err == nil {
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return body.String()
			}
			last = resp.Status + " " + body.String()
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("GET %s: no 200 within %s (last: %s)", url, limit, last)
	return ""
}

// loopbackFreePort is a loopback port nothing listens on right now.
func loopbackFreePort(t *testing.T) int {
	t.Helper()
	port, err := localgitea.FreePort(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
