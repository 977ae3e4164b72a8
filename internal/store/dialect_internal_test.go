package store

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestDialectRebind(t *testing.T) {
	tests := []struct {
		query            string
		sqlite, postgres string
	}{
		{"SELECT a FROM t WHERE id = ? AND b = ?", "SELECT a FROM t WHERE id = ? AND b = ?", "SELECT a FROM t WHERE id = $1 AND b = $2"},
		{"SELECT a FROM t WHERE id = ? FOR UPDATE", "SELECT a FROM t WHERE id = ?", "SELECT a FROM t WHERE id = $1 FOR UPDATE"},
		{"SELECT a FROM t LIMIT ? FOR UPDATE SKIP LOCKED", "SELECT a FROM t LIMIT ?", "SELECT a FROM t LIMIT $1 FOR UPDATE SKIP LOCKED"},
		{"SELECT 1", "SELECT 1", "SELECT 1"},
	}
	sqlite, postgres := newSQLiteDialect(), newPostgresDialect()
	for _, tt := range tests {
		for range 2 { // the second time from the cache
			if got := sqlite.rebind(tt.query); got != tt.sqlite {
				t.Errorf("SQLite rebind(%q) = %q, want %q", tt.query, got, tt.sqlite)
			}
			if got := postgres.rebind(tt.query); got != tt.postgres {
				t.Errorf("PostgreSQL rebind(%q) = %q, want %q", tt.query, got, tt.postgres)
			}
		}
	}
}

func TestDialectErrors(t *testing.T) {
	other := errors.New("other")
	tests := append([]dialectErrorCase{
		{"SQLite other", newSQLiteDialect(), other, nil, false},
		{"PostgreSQL unique", newPostgresDialect(), &pgconn.PgError{Code: "23505"}, ErrDuplicate, false},
		{"PostgreSQL shutting down", newPostgresDialect(), &pgconn.PgError{Code: "57P01"}, ErrUnavailable, false},
		{"PostgreSQL serialization failure", newPostgresDialect(), &pgconn.PgError{Code: "40001"}, nil, true},
		{"PostgreSQL deadlock", newPostgresDialect(), &pgconn.PgError{Code: "40P01"}, nil, true},
		{"PostgreSQL other", newPostgresDialect(), other, nil, false},
	}, sqliteErrorCases()...)
	for _, tt := range tests {
		got := tt.d.mapErr(tt.err)
		if tt.want != nil && !errors.Is(got, tt.want) || tt.want == nil && !errors.Is(got, tt.err) {
			t.Errorf("%s: mapErr = %v, want %v", tt.name, got, tt.want)
		}
		if r := tt.d.retryable(tt.err); r != tt.retryable {
			t.Errorf("%s: retryable = %v, want %v", tt.name, r, tt.retryable)
		}
	}
}

// dialectErrorCase is a driver error and what the dialect makes of it.
type dialectErrorCase struct {
	name      string
	d         *dialect
	err       error
	want      error // nil: the error stays itself
	retryable bool
}

// TestDialectValuesUpdate checks the UPDATE that joins a VALUES list, as
// recording results and releasing deliveries build it where there are no
// arrays.
func TestDialectValuesUpdate(t *testing.T) {
	const (
		set   = ` SET claim_id = '', next_attempt_at = v.next`
		cols  = `(id, claim_id, next)`
		where = ` WHERE deliveries.id = v.id RETURNING deliveries.id`
	)
	tests := []struct {
		d    *dialect
		n    int
		want string
	}{
		{newSQLiteDialect(), 1, `WITH v (id, claim_id, next) AS (VALUES (?, ?, ?)) UPDATE deliveries SET claim_id = '', next_attempt_at = v.next FROM v WHERE deliveries.id = v.id RETURNING deliveries.id`},
		{newSQLiteDialect(), 2, `WITH v (id, claim_id, next) AS (VALUES (?, ?, ?), (?, ?, ?)) UPDATE deliveries SET claim_id = '', next_attempt_at = v.next FROM v WHERE deliveries.id = v.id RETURNING deliveries.id`},
	}
	for _, tt := range tests {
		if got := tt.d.valuesUpdate("deliveries", set, cols, `(?, ?, ?)`, tt.n, where); got != tt.want {
			t.Errorf("%s, %d rows:\n got %s\nwant %s", tt.d.name, tt.n, got, tt.want)
		}
	}
}
