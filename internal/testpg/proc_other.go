//go:build !unix

package testpg

import (
	"os"
	"syscall"
)

// procAttr: the process runs as this user.
func procAttr() (*syscall.SysProcAttr, error) { return nil, nil }

func chownTo(string, *syscall.SysProcAttr) error { return nil }

// interrupt cannot signal here: the process is killed.
func interrupt(p *os.Process) error { return p.Kill() }
