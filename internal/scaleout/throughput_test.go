package scaleout_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestThroughput measures, the same way for each setup, how many API writes
// (user creations, each an event delivered to one endpoint) per second
// Switchboard confirms, and how many deliveries per second reach the
// receiver, with one process on SQLite and one and two processes on
// PostgreSQL. It only runs with SWITCHBOARD_THROUGHPUT=1; the numbers are
// logged (go test -v).
func TestThroughput(t *testing.T) {
	if os.Getenv("SWITCHBOARD_THROUGHPUT") != "1" {
		t.Skip("set SWITCHBOARD_THROUGHPUT=1 to measure throughput")
	}
	tests := []struct {
		backend string
		procs   int
	}{
		{store.SQLite, 1},
		{store.Postgres, 1},
		{store.Postgres, 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.backend, tt.procs), func(t *testing.T) {
			var db string
			if tt.backend == store.SQLite {
				db = filepath.Join(t.TempDir(), "switchboard.db")
			} else {
				b := storetest.New(t, store.Postgres)
				db = b.DB + "&search_path=" + b.Schema
			}
			writes, deliveries := measure(t, db, tt.procs, 16, 5*time.Second)
			t.Logf("THROUGHPUT %s, %d process(es): %.0f writes/s confirmed, %.0f deliveries/s", tt.backend, tt.procs, writes, deliveries)
		})
	}
}

// measure runs clients concurrent creators of users for d against procs
// processes on db, and returns confirmed writes per second and deliveries
// per second (from the first request until the last delivery arrived).
func measure(t *testing.T, db string, procs, clients int, d time.Duration) (float64, float64) {
	t.Helper()
	ps := make([]*proc, procs)
	for i := range ps {
		ps[i] = startServe(t, fmt.Sprintf("serve-%d", i), db)
	}
	ctx := context.Background()
	rc := newReceiver(t)
	if _, err := call(ctx, http.MethodPost, ps[0].URL+"/projects/dev/webhookEndpoints", map[string]any{
		"url": rc.URL + "/all", "enabledEvents": []string{"com.gigs.user.created"},
	}, nil); err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	var n, next atomic.Int64
	loadCtx, stop := context.WithTimeout(ctx, d)
	defer stop()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			p := ps[c%procs]
			for loadCtx.Err() == nil {
				i := next.Add(1)
				if _, err := call(loadCtx, http.MethodPost, p.URL+"/projects/dev/users",
					map[string]any{"email": fmt.Sprintf("t%d@example.com", i)}, nil); err == nil {
					n.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	storetest.WaitFor(t, 5*time.Minute, "every delivery", func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return int64(len(rc.count)) >= n.Load()
	})
	rc.mu.Lock()
	last := start
	for _, r := range rc.receipts {
		if r.At.After(last) {
			last = r.At
		}
	}
	rc.mu.Unlock()
	return float64(n.Load()) / elapsed.Seconds(), float64(n.Load()) / last.Sub(start).Seconds()
}
