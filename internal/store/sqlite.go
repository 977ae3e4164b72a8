package store

import "errors"

// sqliteDriver is go-sqlite3 with the settings its DSN parameters cannot
// express, applied to every new connection (registered in sqlite_cgo.go).
const sqliteDriver = "sqlite3-switchboard"

// ErrSQLiteNeedsCgo is the error of opening a SQLite database with a binary
// built without cgo (CGO_ENABLED=0), which can serve PostgreSQL only.
var ErrSQLiteNeedsCgo = errors.New("store: SQLite needs a cgo build (CGO_ENABLED=1 and a C compiler, " +
	"since go-sqlite3 is C); this binary was built with CGO_ENABLED=0: pass a postgres:// database or rebuild with cgo")

// mapErr maps a driver's error to the store's sentinels, in the dialect.
func (s *Store) mapErr(err error) error {
	if err == nil {
		return nil
	}
	return s.d.mapErr(err)
}
