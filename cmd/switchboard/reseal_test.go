package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/secret"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestResealCommand re-seals a SQLite database whose key is in the key file
// beside it: the file gets the new key (mode 0600), and a server started
// afterwards opens the database with it.
func TestResealCommand(t *testing.T) {
	t.Setenv("SWITCHBOARD_SECRET_KEY", "")
	b := storetest.New(t, "sqlite")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	srv, err := server.New(ctx, server.Config{DB: b.DB, APIKey: testKey, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := secret.LoadFile(server.KeyFilePath(b.DB))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(ctx, "reseal", "--db", b.DB)
	if code != 0 {
		t.Fatalf("reseal: exit %d: %s%s", code, out, errOut)
	}
	after, err := secret.LoadFile(server.KeyFilePath(b.DB))
	if err != nil {
		t.Fatal(err)
	}
	if after.Current() == before.Current() || !strings.Contains(out, after.Current()) {
		t.Fatalf("the key file's current key is %s (was %s); output %s", after.Current(), before.Current(), out)
	}
	if fi, err := os.Stat(server.KeyFilePath(b.DB)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi, err)
	}
	srv, err = server.New(ctx, server.Config{DB: b.DB, APIKey: testKey, Logger: quiet})
	if err != nil {
		t.Fatalf("a server with the new key file: %v", err)
	}
	srv.Shutdown(ctx)
	// The old key alone no longer opens the database.
	if srv, err := server.New(ctx, server.Config{DB: b.DB, SecretKey: strings.TrimSpace(before.String()), Logger: quiet}); err == nil {
		srv.Shutdown(ctx)
		t.Fatal("the old key still opens the re-sealed database")
	}
}
