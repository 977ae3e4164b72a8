//go:build unix

package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/server/servertest"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestBuildWithoutCgo builds everything with CGO_ENABLED=0, as on a machine
// without a C compiler, and checks that the binary serves PostgreSQL and
// says at start that SQLite needs a cgo build.
func TestBuildWithoutCgo(t *testing.T) {
	requireTools(t, "go")
	build := exec.Command("go", "build", "./...")
	build.Dir = "../.."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build ./...: %v\n%s", err, out)
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir, "CGO_ENABLED=0")

	t.Run("SQLite", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "switchboard.db"))
		cmd.Env = cleanEnv()
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("a cgo-free serve of SQLite succeeded:\n%s", out)
		}
		if !strings.Contains(string(out), "SQLite needs a cgo build") || !strings.Contains(string(out), "postgres://") {
			t.Errorf("a cgo-free serve of SQLite said %q; want it to say SQLite needs a cgo build and PostgreSQL works", out)
		}
	})

	t.Run("PostgreSQL", func(t *testing.T) {
		b := storetest.New(t, "postgres")
		sep := "?"
		if strings.Contains(b.DB, "?") {
			sep = "&"
		}
		addr := freeAddr(t)
		var out bytes.Buffer
		cmd := exec.Command(bin, "serve", "--addr", addr, "--db", b.DB+sep+"search_path="+b.Schema)
		cmd.Env = cleanEnv("SWITCHBOARD_API_KEY=sk_test_nocgo", "SWITCHBOARD_SECRET_KEY="+servertest.SecretKey)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stopped := false
		defer func() {
			if !stopped {
				cmd.Process.Kill()
				<-exited
			}
		}()
		storetest.WaitFor(t, 30*time.Second, "the cgo-free server to be ready", func() bool {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		req, _ := http.NewRequest("POST", "http://"+addr+"/projects/dev/users", strings.NewReader(`{"email":"nocgo@example.com"}`))
		req.Header.Set("Authorization", "Bearer sk_test_nocgo")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("POST /users on the cgo-free server: %d, want 201", resp.StatusCode)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			stopped = true
			if err != nil {
				t.Errorf("the cgo-free server exited with %v:\n%s", err, out.String())
			}
		case <-time.After(30 * time.Second):
			t.Errorf("the cgo-free server did not stop within 30s of SIGTERM")
		}
		if !strings.Contains(out.String(), "postgres") {
			t.Errorf("the server did not say it serves PostgreSQL:\n%s", out.String())
		}
	})
}
