//go:build unix

package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
)

// lockFile takes an exclusive flock(2) on the SQLite file at path (creating
// it empty if missing, which SQLite takes for an empty database) and holds
// it until the returned Closer is closed. flock locks are apart from the
// POSIX record locks SQLite takes, and the descriptor stays open until
// SQLite has closed the file, so SQLite's own locks are never dropped.
// The kernel releases the lock when the process dies, however it dies.
func lockFile(path string) (io.Closer, error) {
	if path == ":memory:" || strings.Contains(path, "mode=memory") {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store: open %s to lock it: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is held by another process (one serve per SQLite file; use PostgreSQL to run several)", ErrInUse, path)
		}
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	return f, nil
}
