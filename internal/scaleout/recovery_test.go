package scaleout_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/server/servertest"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

const apiKey = "sk_test_scaleout"

// get fetches path from the server with the test's API key and returns the
// status code, or 0 when the request itself failed.
func get(t *testing.T, base, path string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestPostgresRestart runs a server on a PostgreSQL cluster of its own,
// writes to it under load, restarts PostgreSQL under the server, and checks
// that while the database is down requests fail cleanly with 503 (the store
// with ErrUnavailable), that the server recovers by itself once the
// database is back, and that every write that reported success is there.
func TestPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a PostgreSQL cluster")
	}
	cluster := storetest.StartCluster(t)
	ctx := context.Background()
	srv, err := server.New(ctx, server.Config{
		Addr: "127.0.0.1:0", DB: cluster.URL, APIKey: apiKey, Project: "dev", Simulator: "off",
		SecretKey: servertest.SecretKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	base := srv.URL()
	if code := get(t, base, "/projects/dev/events"); code != http.StatusOK {
		t.Fatalf("GET events = %d before the restart, want 200", code)
	}
	lctx, stopListen := context.WithCancel(ctx)
	defer stopListen()
	wake, err := srv.Store.Listen(lctx, "recovery")
	if err != nil {
		t.Fatal(err)
	}

	// Load: writers append events and remember those whose Update
	// succeeded; any failure must be ErrUnavailable.
	var (
		mu        sync.Mutex
		committed []string
		failures  int
	)
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; loadCtx.Err() == nil; i++ {
				id := fmt.Sprintf("evt_load_%d_%06d", w, i)
				err := srv.Store.Update(loadCtx, func(tx *store.Tx) error {
					return tx.InsertEvent(loadCtx, &store.EventRow{ID: id, Project: "dev", Type: "com.gigs.test", Resource: "x",
						Time: time.Now(), Source: "test", Data: []byte(`{}`)})
				})
				mu.Lock()
				switch {
				case err == nil:
					committed = append(committed, id)
				case loadCtx.Err() != nil:
				case errors.Is(err, store.ErrUnavailable):
					failures++
				default:
					t.Errorf("write failed with %v, want success or ErrUnavailable", err)
				}
				mu.Unlock()
				if err != nil {
					select { // a client backing off
					case <-loadCtx.Done():
					case <-time.After(10 * time.Millisecond):
					}
				}
			}
		})
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(committed) }
	storetest.WaitFor(t, 10*time.Second, "writes before the restart", func() bool { return count() >= 50 })

	cluster.Stop()

	// Down: the store reports ErrUnavailable, the API 503.
	err = srv.Store.Update(ctx, func(tx *store.Tx) error { return tx.SetSetting(ctx, "k", "v") })
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Update with the database down = %v, want ErrUnavailable", err)
	}
	for _, path := range []string{"/readyz", "/projects/dev/events"} {
		if code := get(t, base, path); code != http.StatusServiceUnavailable {
			t.Errorf("GET %s with the database down = %d, want 503", path, code)
		}
	}
	if code := get(t, base, "/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz with the database down = %d, want 200 (the process is alive)", code)
	}
	mu.Lock()
	before := len(committed)
	mu.Unlock()

	cluster.Start()

	// Back: the same server recovers without a restart.
	storetest.WaitFor(t, 30*time.Second, "the server to be ready again", func() bool {
		return get(t, base, "/readyz") == http.StatusOK && get(t, base, "/projects/dev/events") == http.StatusOK
	})
	storetest.WaitFor(t, 30*time.Second, "writes after the restart", func() bool { return count() >= before+50 })
	// The listener reconnected (and woke, as it may have missed notices).
	storetest.WaitFor(t, 30*time.Second, "a notification after the restart", func() bool {
		if err := srv.Store.Update(ctx, func(tx *store.Tx) error { return tx.Notify(ctx, "recovery") }); err != nil {
			return false
		}
		select {
		case <-wake:
			return true
		case <-time.After(100 * time.Millisecond):
			return false
		}
	})
	stopLoad()
	wg.Wait()

	// Nothing lost: every write that reported success is in the log.
	var found map[string]store.EventRow
	err = srv.Store.View(ctx, func(tx *store.Tx) (err error) { found, err = tx.EventsByID(ctx, committed); return err })
	if err != nil {
		t.Fatal(err)
	}
	var lost []string
	for _, id := range committed {
		if _, ok := found[id]; !ok {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d committed events lost: %v", len(lost), len(committed), lost[:min(len(lost), 10)])
	}
	t.Logf("%d events committed, %d writes refused with ErrUnavailable while PostgreSQL was down", len(committed), failures)
}
