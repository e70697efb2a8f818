//go:build unix

package testpg

import (
	"errors"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// procAttr is how initdb and postgres are started: PostgreSQL refuses to
// run as root, so as root as the Debian package's user postgres, else
// nobody; as another user, as that user (nil).
func procAttr() (*syscall.SysProcAttr, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, uerr := strconv.ParseUint(u.Uid, 10, 32)
		gid, gerr := strconv.ParseUint(u.Gid, 10, 32)
		if uerr != nil || gerr != nil {
			continue
		}
		return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}, nil
	}
	return nil, errors.New("testpg: running as root, and there is no user postgres or nobody to run PostgreSQL as")
}

// chownTo gives path to the user attr runs as, if any.
func chownTo(path string, attr *syscall.SysProcAttr) error {
	if attr == nil || attr.Credential == nil {
		return nil
	}
	return os.Chown(path, int(attr.Credential.Uid), int(attr.Credential.Gid))
}

// interrupt asks postgres for a fast shutdown.
func interrupt(p *os.Process) error { return p.Signal(syscall.SIGINT) }
