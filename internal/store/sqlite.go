package store

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

// sqliteDriver is go-sqlite3 with the settings its DSN parameters cannot
// express, applied to every new connection.
const sqliteDriver = "sqlite3-switchboard"

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// Every write runs in a savepoint of the writer's batch (batch.go),
		// so SQLite keeps a statement journal of the pages it changes. By
		// default that journal spills to a temporary file past 64 KiB: a
		// file created, written and deleted per batch. In memory instead.
		if _, err := c.Exec("PRAGMA temp_store = MEMORY", nil); err != nil {
			return fmt.Errorf("store: SQLite temp_store: %w", err)
		}
		return nil
	}})
}

func (s *Store) mapErr(err error) error {
	if err == nil {
		return nil
	}
	if s.backend == Postgres {
		return mapPostgresErr(err)
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch {
		case se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey:
			return fmt.Errorf("%w: %v", ErrDuplicate, err)
		case se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked:
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	return err
}

func (s *Store) retryable(err error) bool {
	if s.backend == Postgres {
		return postgresRetryable(err)
	}
	return false
}
