//go:build cgo

package store

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

// sqliteBuilt reports whether this binary can open SQLite databases:
// go-sqlite3 is C, so only a cgo build can.
const sqliteBuilt = true

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

// mapSQLiteErr maps go-sqlite3's errors to the store's sentinels.
func mapSQLiteErr(err error) error {
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
