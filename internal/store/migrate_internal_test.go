package store

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
)

// TestMigrationsInStep checks that both dialects have the same migrations,
// version for version and name for name, and no version twice.
func TestMigrationsInStep(t *testing.T) {
	names := map[string][]string{}
	for _, d := range []*dialect{newSQLiteDialect(), newPostgresDialect()} {
		backend := d.name
		all, err := (&Store{d: d}).migrations()
		if err != nil {
			t.Fatalf("%s migrations: %v", backend, err)
		}
		for _, m := range all {
			if strings.TrimSpace(m.sql) == "" {
				t.Errorf("%s migration %s is empty", backend, m.name)
			}
			names[backend] = append(names[backend], m.name)
		}
	}
	if !slices.Equal(names[SQLite], names[Postgres]) {
		t.Errorf("migrations differ: sqlite %v, postgres %v", names[SQLite], names[Postgres])
	}
	entries, _ := fs.ReadDir(migrations, "migrations")
	if len(entries) != 2 {
		t.Errorf("migrations/ has %d entries, want sqlite and postgres", len(entries))
	}
}

func TestSplitPoolSize(t *testing.T) {
	tests := []struct {
		dsn, wantDSN string
		want         int
		wantErr      bool
	}{
		{"postgres://u@h/db", "postgres://u@h/db", 0, false},
		{"postgres://u@h/db?sslmode=disable&pool_max_conns=4", "postgres://u@h/db?sslmode=disable", 4, false},
		{"postgres://u@h/db?pool_max_conns=4", "postgres://u@h/db", 4, false},
		{"postgres://u@h/db?pool_max_conns=0", "", 0, true},
		{"postgres://u@h/db?pool_max_conns=x", "", 0, true},
	}
	for _, tt := range tests {
		dsn, n, err := splitPoolSize(tt.dsn)
		if (err != nil) != tt.wantErr || n != tt.want || (!tt.wantErr && dsn != tt.wantDSN) {
			t.Errorf("splitPoolSize(%q) = %q, %d, %v; want %q, %d, error %v", tt.dsn, dsn, n, err, tt.wantDSN, tt.want, tt.wantErr)
		}
	}
}
