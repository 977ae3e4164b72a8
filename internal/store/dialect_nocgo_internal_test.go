//go:build !cgo

package store

// sqliteErrorCases are none without cgo: go-sqlite3's errors need it.
func sqliteErrorCases() []dialectErrorCase { return nil }
