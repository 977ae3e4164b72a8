//go:build cgo

package store

import "github.com/mattn/go-sqlite3"

// sqliteErrorCases are go-sqlite3's errors, which exist only in a cgo build.
func sqliteErrorCases() []dialectErrorCase {
	return []dialectErrorCase{
		{"SQLite unique", newSQLiteDialect(), sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintUnique}, ErrDuplicate, false},
		{"SQLite primary key", newSQLiteDialect(), sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintPrimaryKey}, ErrDuplicate, false},
		{"SQLite busy", newSQLiteDialect(), sqlite3.Error{Code: sqlite3.ErrBusy}, ErrUnavailable, false},
	}
}
