//go:build unix

package main

import (
	"errors"
	"syscall"
)

// processAlive reports whether a process with that ID runs on this host;
// known is false when it cannot tell.
func processAlive(pid int) (alive, known bool) {
	if pid <= 0 {
		return false, false
	}
	err := syscall.Kill(pid, 0)
	switch {
	case err == nil, errors.Is(err, syscall.EPERM):
		return true, true // EPERM: it runs, as another user
	case errors.Is(err, syscall.ESRCH):
		return false, true
	}
	return false, false
}
