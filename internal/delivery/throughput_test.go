package delivery_test

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/delivery"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestThroughput measures how fast a backlog drains to fast receivers:
// SWITCHBOARD_THROUGHPUT=<events> (and optionally
// SWITCHBOARD_THROUGHPUT_ENDPOINTS=<n> for fan-out) runs it.
func TestThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SWITCHBOARD_THROUGHPUT"))
	if n <= 0 {
		t.Skip("set SWITCHBOARD_THROUGHPUT=<events> to measure delivery throughput")
	}
	endpoints := 1
	if v, _ := strconv.Atoi(os.Getenv("SWITCHBOARD_THROUGHPUT_ENDPOINTS")); v > 0 {
		endpoints = v
	}
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		var got atomic.Int64
		h := start(t, b, delivery.Config{PollInterval: 50 * time.Millisecond})
		for range endpoints {
			rc := newQuietReceiver(t, &got)
			h.createEndpoint(map[string]any{"url": rc})
		}
		// Stop the dispatcher from draining while the backlog is recorded:
		// record first with no endpoint wakes racing, then time the drain.
		began := time.Now()
		for done := 0; done < n; done += 500 {
			h.record(context.Background(), switchboard.TypeUserCreated, min(500, n-done))
		}
		recorded := time.Since(began)
		want := int64(n * endpoints)
		await(t, 10*time.Minute, "the backlog to drain", func() bool { return got.Load() >= want })
		// Wait for the last results to be recorded too.
		await(t, time.Minute, "the results to be recorded", func() bool { return h.srv.Dispatcher.InFlight() == 0 })
		took := time.Since(began)
		t.Logf("%s: %d events × %d endpoints: recorded in %s, all delivered and recorded after %s: %.0f deliveries/s",
			b.Name, n, endpoints, recorded.Round(time.Millisecond), took.Round(time.Millisecond), float64(want)/took.Seconds())
	})
}

// newQuietReceiver is a receiver that only counts, and returns its URL.
func newQuietReceiver(t *testing.T, count *atomic.Int64) string {
	t.Helper()
	srv := newReceiver(t, nil).Server
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		count.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})
	return srv.URL
}
