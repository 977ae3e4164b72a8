package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// DefaultPostgres is the PostgreSQL server tests use when
// SWITCHBOARD_TEST_POSTGRES is not set.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Backend is a fresh database for one test.
type Backend struct {
	// Name is store.SQLite or store.Postgres.
	Name string
	// DB is what store.Open and server.Config.DB take.
	DB string
	// Schema is the PostgreSQL schema (empty for SQLite).
	Schema string
}

// Open opens and migrates the backend's store, closed when the test ends.
func (b Backend) Open(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), b.DB, store.Options{Schema: b.Schema})
	if err != nil {
		t.Fatalf("open %s store: %v", b.Name, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// OpenWith opens the backend's store with opts (its Schema set to the
// backend's), closed when the test ends.
func (b Backend) OpenWith(t testing.TB, opts store.Options) *store.Store {
	t.Helper()
	opts.Schema = b.Schema
	s, err := store.Open(context.Background(), b.DB, opts)
	if err != nil {
		t.Fatalf("open %s store: %v", b.Name, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Run runs fn as a subtest once per backend, each with a fresh database.
func Run(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, name := range []string{store.SQLite, store.Postgres} {
		t.Run(name, func(t *testing.T) {
			fn(t, New(t, name))
		})
	}
}

// New returns a fresh database of the named backend for the test.
func New(t testing.TB, name string) Backend {
	t.Helper()
	if name == store.SQLite {
		return Backend{Name: store.SQLite, DB: filepath.Join(t.TempDir(), "switchboard.db")}
	}
	dsn := PostgresURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	t.Cleanup(func() { dropSchema(dsn, schema) })
	return Backend{Name: store.Postgres, DB: dsn, Schema: schema}
}

var (
	probeOnce sync.Once
	probeErr  error
)

// PostgresURL returns the test server's URL, skipping the test (or failing
// it, when SWITCHBOARD_REQUIRE_POSTGRES=1) if the server cannot be reached.
func PostgresURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("SWITCHBOARD_TEST_POSTGRES")
	if dsn == "" {
		dsn = DefaultPostgres
	}
	probeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			probeErr = err
			return
		}
		probeErr = conn.Ping(ctx)
		conn.Close(ctx)
	})
	if probeErr != nil {
		if os.Getenv("SWITCHBOARD_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL at %s is required (SWITCHBOARD_REQUIRE_POSTGRES=1) but unreachable: %v", dsn, probeErr)
		}
		t.Skipf("SKIPPED: PostgreSQL at %s unreachable (%v); set SWITCHBOARD_TEST_POSTGRES to run the PostgreSQL tests", dsn, probeErr)
	}
	return dsn
}

func dropSchema(dsn, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
}

// WaitFor polls cond until it returns true, failing the test with what when
// timeout passes first. Tests await conditions with it rather than sleep.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(wait)
	}
}

// Update runs fn in a write transaction of s, failing the test on error.
func Update(t testing.TB, s *store.Store, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

// View runs fn in a read transaction of s, failing the test on error.
func View(t testing.TB, s *store.Store, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("view: %v", err)
	}
}
