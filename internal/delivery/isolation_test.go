package delivery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// hangingReceiver is an endpoint that never answers until the test ends.
func hangingReceiver(t *testing.T, hits *atomic.Int64) *httptest.Server {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs first: lets the handlers return
	return srv
}

// TestNoisyNeighbours: endpoints that never answer, each with a backlog far
// larger than the dispatcher's workers, hold only their own share of the
// workers; a healthy endpoint beside them — in the same project, or in
// another — gets every one of its deliveries while they hang (the attempt
// timeout is longer than the test waits, so nothing here is freed by a
// timeout).
func TestNoisyNeighbours(t *testing.T) {
	for _, other := range []bool{false, true} {
		name := "same project"
		if other {
			name = "another project"
		}
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, b storetest.Backend) { testNoisyNeighbours(t, b, other) })
		})
	}
}

func testNoisyNeighbours(t *testing.T, b storetest.Backend, otherProject bool) {
	const (
		hanging = 4
		backlog = 100 // deliveries to each hanging endpoint
		healthy = 20  // events to the healthy endpoint, one commit each
	)
	cfg := fast()
	cfg.Workers = 16
	cfg.Timeout = time.Minute // longer than the test: hanging attempts stay hung
	h := start(t, b, cfg)
	noisy := testProject
	if otherProject {
		noisy = "noisy"
		if status := h.callAs(testAdminKey, "POST", "/projects", map[string]any{"id": noisy, "name": "Noisy", "mode": "test"}); status != http.StatusCreated {
			t.Fatalf("create project: status %d", status)
		}
	}
	var hits atomic.Int64
	for range hanging {
		body := map[string]any{"url": hangingReceiver(t, &hits).URL, "enabledEvents": []string{switchboard.TypeUserCreated}}
		if status := h.callAs(testAdminKey, "POST", "/projects/"+noisy+"/webhookEndpoints", body); status != http.StatusCreated {
			t.Fatalf("create hanging endpoint: status %d", status)
		}
	}
	ctx := context.Background()
	h.recordIn(ctx, noisy, switchboard.TypeUserCreated, backlog)
	// Every worker could be hung by now were there no limits.
	await(t, 10*time.Second, "the hanging endpoints to be attempted", func() bool { return hits.Load() >= hanging })

	rc := newReceiver(t, nil)
	h.createEndpoint(map[string]any{"url": rc.URL, "enabledEvents": []string{switchboard.TypeUserUpdated}})
	var want []string
	for range healthy {
		want = append(want, h.record(ctx, switchboard.TypeUserUpdated, 1)...)
	}
	await(t, 20*time.Second, "every delivery to the healthy endpoint", func() bool {
		seen := map[string]bool{}
		for _, r := range rc.got() {
			seen[r.ID] = true
		}
		for _, id := range want {
			if !seen[id] {
				return false
			}
		}
		return true
	})
	if n := hits.Load(); n >= int64(cfg.Workers) {
		t.Errorf("the hanging endpoints got %d attempts at once; the workers are %d", n, cfg.Workers)
	}
}

// callAs sends an API request with a key and returns the status.
func (h *harness) callAs(key, method, path string, body any) int {
	h.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		h.t.Fatal(err)
	}
	req, err := http.NewRequest(method, h.srv.URL()+path, bytes.NewReader(b))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestBreakerProbesOneAtATime: an endpoint that keeps failing is soon sent
// one request at a time (the breaker's probes), not its whole backlog, and
// its backlog is delivered once it recovers.
func TestBreakerProbesOneAtATime(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		const backlog = 60
		var mu sync.Mutex
		type span struct{ start, end time.Time }
		var spans []span
		var failing atomic.Bool
		failing.Store(true)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			if failing.Load() {
				time.Sleep(5 * time.Millisecond) // a slow failure, so that overlaps show
				mu.Lock()
				spans = append(spans, span{start, time.Now()})
				mu.Unlock()
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(srv.Close)
		cfg := fast()
		cfg.BreakerThreshold = 3
		cfg.BreakerCooldown = 10 * time.Millisecond
		cfg.EndpointConcurrency = 8
		cfg.Schedule = nil
		for range 100 { // retries enough that no delivery fails for good
			cfg.Schedule = append(cfg.Schedule, 20*time.Millisecond)
		}
		h := start(t, b, cfg)
		ep := h.createEndpoint(map[string]any{"url": srv.URL})
		ids := h.record(context.Background(), switchboard.TypeUserCreated, backlog)
		const seen = 24
		await(t, 20*time.Second, "failed attempts", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(spans) >= seen
		})
		mu.Lock()
		got := append([]span(nil), spans...)
		mu.Unlock()
		sort.Slice(got, func(i, j int) bool { return got[i].start.Before(got[j].start) })
		// The first round may overlap (up to the concurrency limit); once the
		// breaker is open, each probe ends before the next starts.
		overlaps := 0
		for i := 12; i < seen; i++ {
			if got[i].start.Before(got[i-1].end) {
				overlaps++
			}
		}
		if overlaps > 0 {
			t.Errorf("%d of the attempts %d–%d overlapped the one before; want probes one at a time", overlaps, 12, seen)
		}
		// The 60 deliveries would all have been attempted without a breaker.
		distinct := map[string]bool{}
		for _, d := range h.deliveriesOf(path("webhookEndpoints", ep.ID, "deliveries")) {
			if len(d.Attempts) > 0 {
				distinct[d.ID] = true
			}
		}
		if len(distinct) >= backlog {
			t.Errorf("all %d deliveries were attempted while the endpoint failed", len(distinct))
		}
		failing.Store(false)
		await(t, 30*time.Second, "the backlog to be delivered after recovery", func() bool {
			ds := h.deliveriesOf(path("webhookEndpoints", ep.ID, "deliveries"))
			if len(ds) != len(ids) {
				return false
			}
			for _, d := range ds {
				if d.Status != store.DeliverySucceeded {
					return false
				}
			}
			return true
		})
	})
}

// TestBreakerClosesWhenEnabledAgain: an endpoint whose breaker is open
// (for a cool-down longer than the test) and which its owner disables and
// enables again is tried at once, its backlog delivered.
func TestBreakerClosesWhenEnabledAgain(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		var failing atomic.Bool
		failing.Store(true)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if failing.Load() {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(srv.Close)
		cfg := fast()
		cfg.BreakerThreshold = 3
		cfg.BreakerCooldown = 10 * time.Minute
		h := start(t, b, cfg)
		ep := h.createEndpoint(map[string]any{"url": srv.URL})
		h.record(context.Background(), switchboard.TypeUserCreated, 20)
		// Open: the backlog is deferred for the cool-down.
		await(t, 10*time.Second, "the breaker to open", func() bool {
			for _, d := range h.deliveriesOf(path("webhookEndpoints", ep.ID, "deliveries")) {
				if d.Status == store.DeliveryPending && d.NextAttemptAt != nil && time.Until(*d.NextAttemptAt) > 5*time.Minute {
					return true
				}
			}
			return false
		})
		resp, err := h.getMetrics()
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Contains(metrics, []byte("\nswitchboard_webhook_breakers_open 1\n")) {
			t.Errorf("/metrics does not count the open breaker:\n%s", metrics)
		}
		// Nothing held: a release recorded after the endpoint is enabled
		// again would set its delivery's due time back to the cool-down's
		// end (a release carries the due time it was made with).
		await(t, 10*time.Second, "the dispatcher to hold nothing", func() bool { return h.srv.Dispatcher.InFlight() == 0 })
		failing.Store(false)
		for _, status := range []string{"disabled", "enabled"} {
			if code := h.call("PATCH", path("webhookEndpoints", ep.ID), map[string]any{"status": status}, nil); code != http.StatusOK {
				t.Fatalf("PATCH status %s: %d", status, code)
			}
		}
		await(t, 15*time.Second, "the backlog, once the endpoint is enabled again", func() bool {
			ds := h.deliveriesOf(path("webhookEndpoints", ep.ID, "deliveries"))
			for _, d := range ds {
				if d.Status != store.DeliverySucceeded {
					return false
				}
			}
			return len(ds) == 20
		})
	})
}
