package store

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
)

// TestStmtCache checks that SQLite statements are prepared once the
// transaction that first ran them has ended, that later transactions reuse
// them (write batches and read transactions alike), and that a query run
// again while its own rows are still being read does not disturb them.
func TestStmtCache(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "cache.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const insert = "INSERT INTO settings (key, value) VALUES (?, ?)"
	const list = "SELECT key FROM settings WHERE key LIKE 'k%' ORDER BY key"
	for i := range 3 {
		if err := s.Update(ctx, func(tx *Tx) error {
			_, err := tx.exec(ctx, insert, fmt.Sprintf("k%d", i), "v")
			return err
		}); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	if !s.writeStmts.cached(insert) {
		t.Errorf("write cache lacks %q after three transactions ran it", insert)
	}
	if s.writeStmts.cached("SAVEPOINT w") {
		t.Error("a transaction alone in its batch ran a savepoint")
	}
	// Two transactions queued while the writer is busy share a batch,
	// each in a savepoint.
	busy, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 3)
	go func() {
		done <- s.Update(ctx, func(tx *Tx) error { close(busy); <-release; return nil })
	}()
	<-busy
	for i := range 2 {
		go func() {
			done <- s.Update(ctx, func(tx *Tx) error {
				_, err := tx.exec(ctx, insert, fmt.Sprintf("b%d", i), "v")
				return err
			})
		}()
	}
	for len(s.writes) < 2 { // both queued behind the busy writer
		runtime.Gosched()
	}
	close(release)
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if !s.writeStmts.cached("SAVEPOINT w") {
		t.Error("write cache lacks the batch's savepoint statement")
	}

	keys := func(tx *Tx) ([]string, error) {
		rows, err := tx.query(ctx, list)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return nil, err
			}
			out = append(out, k)
		}
		return out, rows.Err()
	}
	for round := range 2 { // the first round prepares, the second reuses
		if err := s.View(ctx, func(tx *Tx) error {
			rows, err := tx.query(ctx, list)
			if err != nil {
				return err
			}
			defer rows.Close()
			var outer []string
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					return err
				}
				inner, err := keys(tx) // the same text, nested
				if err != nil {
					return err
				}
				if len(inner) != 3 {
					return fmt.Errorf("nested read got %v, want 3 keys", inner)
				}
				outer = append(outer, k)
				if len(outer) > 3 { // the nested run reset the outer cursor
					return fmt.Errorf("outer read got %v, want [k0 k1 k2]", outer)
				}
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if fmt.Sprint(outer) != "[k0 k1 k2]" {
				return fmt.Errorf("outer read got %v, want [k0 k1 k2]", outer)
			}
			return nil
		}); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !s.readStmts.cached(list) {
			t.Errorf("round %d: read cache lacks %q", round, list)
		}
	}
}

// cached reports whether query has a prepared statement.
func (c *stmtCache) cached(query string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stmts[query] != nil
}
