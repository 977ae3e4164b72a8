package store

import (
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

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
