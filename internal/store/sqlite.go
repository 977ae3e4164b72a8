package store

import "errors"

// sqliteDriver is go-sqlite3 with the settings its DSN parameters cannot
// express, applied to every new connection (registered in sqlite_cgo.go).
const sqliteDriver = "sqlite3-switchboard"

// ErrSQLiteNeedsCgo is the error of opening a SQLite database with a binary
// built without cgo (CGO_ENABLED=0), which can serve PostgreSQL only.
var ErrSQLiteNeedsCgo = errors.New("store: SQLite needs a cgo build (CGO_ENABLED=1 and a C compiler, " +
	"since go-sqlite3 is C); this binary was built with CGO_ENABLED=0: pass a postgres:// database or rebuild with cgo")

func (s *Store) mapErr(err error) error {
	if err == nil {
		return nil
	}
	if s.backend == Postgres {
		return mapPostgresErr(err)
	}
	return mapSQLiteErr(err)
}

func (s *Store) retryable(err error) bool {
	if s.backend == Postgres {
		return postgresRetryable(err)
	}
	return false
}
