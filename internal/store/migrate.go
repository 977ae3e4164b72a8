package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrations embed.FS

// migrationLock is the PostgreSQL advisory lock class that serialises
// migrations of processes starting at once; the lock's second key is the
// schema's hash, so that the schemas of one database migrate independently.
const migrationLock = 7_340_001

type migration struct {
	version int
	name    string
	sql     string
}

func (s *Store) migrations() ([]migration, error) {
	dir := "migrations/" + s.d.name
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %s: name must start with a version", e.Name())
		}
		body, err := fs.ReadFile(migrations, dir+"/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("store: migrations %s and %s share version %d: renumber one",
				out[i-1].name, out[i].name, out[i].version)
		}
	}
	return out, nil
}

// Migrate applies every migration the database has not had, each with its
// version row in one transaction. It is forward-only and safe when several
// processes start at once (PostgreSQL serialises them with an advisory lock;
// SQLite with its single writer).
func (s *Store) Migrate(ctx context.Context) error {
	all, err := s.migrations()
	if err != nil {
		return err
	}
	return s.Update(ctx, func(tx *Tx) error {
		if s.d.migrationLock != "" {
			if _, err := tx.exec(ctx, s.d.migrationLock, migrationLock); err != nil {
				return fmt.Errorf("store: lock migrations: %w", err)
			}
		}
		if _, err := tx.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version BIGINT PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
			return fmt.Errorf("store: create schema_migrations: %w", err)
		}
		applied := map[int]bool{}
		rows, err := tx.query(ctx, "SELECT version FROM schema_migrations")
		if err != nil {
			return fmt.Errorf("store: read schema_migrations: %w", err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return fmt.Errorf("store: read schema_migrations: %w", err)
			}
			applied[v] = true
		}
		rows.Close()
		for _, m := range all {
			if applied[m.version] {
				continue
			}
			if _, err := tx.tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("store: migration %s: %w", m.name, err)
			}
			if _, err := tx.exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", m.version, m.name); err != nil {
				return fmt.Errorf("store: record migration %s: %w", m.name, err)
			}
			s.log.Info("store: migrated", "migration", m.name, "backend", s.d.name)
		}
		return nil
	})
}

// Version returns the newest migration applied to the database, 0 when none.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.View(ctx, func(tx *Tx) error {
		return tx.queryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	})
	if err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", s.rowErr(err))
	}
	return v, nil
}

// LatestVersion returns the newest migration this build knows.
func (s *Store) LatestVersion() int {
	all, err := s.migrations()
	if err != nil || len(all) == 0 {
		return 0
	}
	return all[len(all)-1].version
}
