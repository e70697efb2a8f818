package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/aegis-gitea/aegis-gitea-mcp/internal/localgitea"
)

// stateFormat is the version of state.json's layout.
const stateFormat = 1

// state is what one run leaves the next in state.json: the accounts and
// secrets Gitea's data was made with. It holds passwords and the OAuth
// client secret, so it is readable by its owner only.
type state struct {
	Format       int                  `json:"format"`
	GiteaVersion string               `json:"gitea_version"`
	GiteaPort    int                  `json:"gitea_port"`
	SecretKey    string               `json:"secret_key"`
	Admin        localgitea.Account   `json:"admin"`
	User         localgitea.Account   `json:"user"`
	App          *localgitea.OAuthApp `json:"app,omitempty"`
	// Seeded is set once the user, the repository and the app exist; a
	// run that stopped before that starts over.
	Seeded bool `json:"seeded"`
}

func newState() *state {
	return &state{
		Format:    stateFormat,
		GiteaPort: defaultGiteaPort,
		SecretKey: localgitea.RandomPassword() + localgitea.RandomPassword(),
		Admin:     localgitea.Account{Name: "demo-admin", Password: localgitea.RandomPassword(), Email: "demo-admin@example.test"},
		User:      localgitea.Account{Name: User, Password: localgitea.RandomPassword(), Email: User + "@example.test"},
	}
}

// The files and directories of a demo directory.
const (
	stateFile  = "state.json"
	lockFile   = "demo.lock"
	giteaDir   = "gitea"
	serverLog  = "aegis.log"
	auditLog   = "audit.log"
	envFile    = "demo.env"
	secretFile = "client-secret"
	tokenFile  = "token"
)

// ours says whether name is an entry the demo makes in its directory.
func ours(name string) bool {
	switch name {
	case stateFile, stateFile + ".tmp", lockFile, giteaDir, serverLog, envFile, secretFile, tokenFile:
		return true
	}
	return strings.HasPrefix(name, auditLog) // the log and its rotations
}

// checkDir refuses a directory holding anything the demo did not make, so
// neither a run nor --reset ever writes into or empties a wrong --dir.
func checkDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !ours(e.Name()) {
			return fmt.Errorf("%s holds %q, which the demo did not make: name an empty or new directory with --dir", dir, e.Name())
		}
	}
	return nil
}

// lockDir takes the directory's lock, so two demos never share one.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600) // #nosec G304 -- in the demo directory
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another demo is running on %s: stop it, or name another directory with --dir", dir)
		}
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// reset empties the directory but for its lock.
func reset(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == lockFile {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// loadState reads state.json; a missing file or one left before seeding
// finished means a fresh state (and no Gitea data to keep).
func loadState(dir string) (st *state, reused bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile)) // #nosec G304 -- in the demo directory
	if errors.Is(err, os.ErrNotExist) {
		return newState(), false, nil
	}
	if err != nil {
		return nil, false, err
	}
	st = &state{}
	if err := json.Unmarshal(b, st); err != nil || st.Format != stateFormat {
		return nil, false, fmt.Errorf("%s is not a state file of this demo (--reset starts over)", filepath.Join(dir, stateFile))
	}
	if !st.Seeded || st.App == nil {
		return newState(), false, nil
	}
	return st, true, nil
}

func (st *state) save(dir string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, stateFile))
}
