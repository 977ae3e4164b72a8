package servertest

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/server"
)

// SecretKey is the server secret key the servers of tests on PostgreSQL
// use when given none (a fixed test value: it protects nothing).
const SecretKey = "c3dpdGNoYm9hcmQtdGVzdC1rZXktMzItYnl0ZXMhISE="

// Start builds and starts a server with cfg. An empty Addr becomes
// 127.0.0.1:0 (a free port) and a nil Logger one that discards.
func Start(t testing.TB, cfg server.Config) *server.Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.SecretKey == "" && cfg.KeyFile == "" && strings.HasPrefix(cfg.DB, "postgres") {
		// SQLite makes a key file beside the database; PostgreSQL needs
		// one given.
		cfg.SecretKey = SecretKey
	}
	ctx := context.Background()
	srv, err := server.New(ctx, cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := srv.Start(ctx); err != nil {
		srv.Shutdown(ctx)
		t.Fatalf("server Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("server Shutdown: %v", err)
		}
	})
	return srv
}
