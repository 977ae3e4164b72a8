//go:build !unix

package store

import "io"

// lockFile does nothing where flock(2) is not available.
func lockFile(string) (io.Closer, error) { return nil, nil }
