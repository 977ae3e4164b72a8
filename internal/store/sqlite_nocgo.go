//go:build !cgo

package store

// sqliteBuilt reports whether this binary can open SQLite databases:
// go-sqlite3 is C, and this binary was built without cgo.
const sqliteBuilt = false

// mapSQLiteErr is never reached without cgo: no SQLite store opens.
func mapSQLiteErr(err error) error { return err }
