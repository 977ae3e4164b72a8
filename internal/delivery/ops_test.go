package delivery_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

func TestGracefulShutdown(t *testing.T) {
	tests := []struct {
		name string
		// answerAfter is how long the receiver holds the request.
		answerAfter time.Duration
		wantStatus  string
		wantTries   int
	}{
		{"in-flight attempt finishes within the grace period", 200 * time.Millisecond, store.DeliverySucceeded, 1},
		{"attempt past the grace period is released", 10 * time.Second, store.DeliveryPending, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, b storetest.Backend) {
				arrived, done := make(chan struct{}, 1), make(chan struct{})
				rc := newReceiver(t, func(request, int) (int, http.Header) {
					arrived <- struct{}{}
					select { // the slow endpoint under test
					case <-time.After(tt.answerAfter):
					case <-done:
					}
					return http.StatusOK, nil
				})
				t.Cleanup(func() { close(done) })
				cfg := fast()
				cfg.ShutdownGrace = time.Second
				h := start(t, b, cfg)
				h.createEndpoint(map[string]any{"url": rc.URL})
				ids := h.record(context.Background(), switchboard.TypeUserCreated, 1)
				<-arrived
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				began := time.Now()
				if err := h.srv.Shutdown(ctx); err != nil {
					t.Fatalf("Shutdown: %v", err)
				}
				if took := time.Since(began); took > 3*time.Second {
					t.Fatalf("Shutdown took %s with a 1s grace period", took)
				}
				st := b.Open(t)
				var d store.DeliveryRow
				err := st.View(context.Background(), func(tx *store.Tx) error {
					ds, _, err := tx.ListDeliveries(context.Background(), store.DeliveryQuery{Project: testProject, EventID: ids[0]})
					if err == nil && len(ds) == 1 {
						d = ds[0]
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				if d.Status != tt.wantStatus || d.Attempts != tt.wantTries || d.ClaimID != "" {
					t.Fatalf("after shutdown: status %s, %d attempts, claim %q; want %s, %d, none",
						d.Status, d.Attempts, d.ClaimID, tt.wantStatus, tt.wantTries)
				}
			})
		})
	}
}

func TestMetrics(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		rc := newReceiver(t, func(r request, n int) (int, http.Header) { return http.StatusInternalServerError, nil })
		cfg := fast()
		cfg.Schedule = []time.Duration{time.Hour}
		h := start(t, b, cfg)
		ep := h.createEndpoint(map[string]any{"url": rc.URL})
		h.record(context.Background(), switchboard.TypeUserCreated, 2)
		await(t, 10*time.Second, "two attempts", func() bool { return len(rc.got()) == 2 })
		wants := []string{
			`switchboard_webhook_deliveries_total{outcome="retrying"} 2`,
			`switchboard_webhook_queue_depth{endpoint="` + ep.ID + `"} 2`,
			`switchboard_webhook_pending 2`,
			`switchboard_webhook_endpoint_attempts_total{endpoint="` + ep.ID + `",result="failure"} 2`,
			`switchboard_webhook_attempt_duration_seconds_count 2`,
			`switchboard_webhook_oldest_pending_age_seconds{endpoint="` + ep.ID + `"}`,
		}
		// Each series is updated on its own: wait for all of them.
		missing := wants
		deadline := time.Now().Add(10 * time.Second)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for len(missing) > 0 && time.Now().Before(deadline) {
			<-tick.C
			resp, err := h.getMetrics()
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			missing = nil
			for _, want := range wants {
				if !strings.Contains(string(raw), want) {
					missing = append(missing, want)
				}
			}
		}
		for _, m := range missing {
			t.Errorf("metrics lack %q", m)
		}
	})
}

func TestEndpointAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		h := start(t, b, fast())
		ep := h.createEndpoint(map[string]any{"url": "https://example.com/hook", "description": "mine"})
		if ep.Object != "webhookEndpoint" || !strings.HasPrefix(ep.ID, "whe_") || ep.Status != "enabled" ||
			ep.Version != switchboard.LatestVersion || len(ep.EnabledEvents) != 1 || ep.EnabledEvents[0] != "*" ||
			!strings.HasPrefix(ep.Secret, "whsec_") {
			t.Fatalf("created %+v", ep)
		}
		invalid := []map[string]any{
			{},
			{"url": "ftp://example.com"},
			{"url": "not a url"},
			{"url": "https://"},
			{"url": "https://example.com", "enabledEvents": []string{"com.gigs.nothing.created"}},
			{"url": "https://example.com", "enabledEvents": []string{"com.gigs.*.created"}},
			{"url": "https://example.com", "enabledEvents": []string{}},
			{"url": "https://example.com", "version": "2020-01-01"},
			{"url": "https://example.com", "rateLimit": 0},
			{"url": "https://example.com", "rateLimit": 1_000_000},
			{"url": "https://example.com", "secret": "whsec_x"},
		}
		for _, body := range invalid {
			if status := h.call("POST", path("webhookEndpoints"), body, nil); status != http.StatusUnprocessableEntity {
				t.Errorf("create %v: status %d, want 422", body, status)
			}
		}
		var e endpointObject
		rate := 7
		if status := h.call("PATCH", path("webhookEndpoints", ep.ID), map[string]any{
			"enabledEvents": []string{"com.gigs.porting.*"}, "version": switchboard.Version20240829,
			"ordered": true, "rateLimit": rate,
		}, &e); status != 200 || !e.Ordered || e.RateLimit == nil || *e.RateLimit != rate || e.Version != switchboard.Version20240829 || e.Secret != "" {
			t.Fatalf("patch: status %d, %+v", status, e)
		}
		if status := h.call("PATCH", path("webhookEndpoints", ep.ID), map[string]any{"rateLimit": nil}, &e); status != 200 || e.RateLimit != nil {
			t.Fatalf("clearing rateLimit: status %d, %+v", status, e)
		}
		if status := h.call("PATCH", path("webhookEndpoints", ep.ID), map[string]any{"status": "paused"}, nil); status != 422 {
			t.Fatalf("patch to an unknown status: %d, want 422", status)
		}
		if status := h.call("PATCH", path("webhookEndpoints", "whe_nope"), map[string]any{"status": "paused"}, nil); status != 404 {
			t.Fatalf("patch of an unknown endpoint: %d, want 404 before the body's 422", status)
		}
		h.createEndpoint(map[string]any{"url": "https://example.com/second"})
		var l struct {
			Items []endpointObject `json:"items"`
		}
		if status := h.call("GET", path("webhookEndpoints"), nil, &l); status != 200 || len(l.Items) != 2 || l.Items[1].ID != ep.ID || l.Items[1].Secret != "" {
			t.Fatalf("list: status %d, %+v", status, l.Items)
		}
		if status := h.call("DELETE", path("webhookEndpoints", ep.ID), nil, nil); status != 200 {
			t.Fatalf("delete: %d", status)
		}
		if status := h.call("GET", path("webhookEndpoints", ep.ID), nil, nil); status != 404 {
			t.Fatalf("get after delete: %d, want 404", status)
		}
		if status := h.call("GET", path("webhookEndpoints", ep.ID, "deliveries"), nil, nil); status != 404 {
			t.Fatalf("deliveries of a deleted endpoint: %d, want 404", status)
		}
	})
}

// TestMetricsForgetDeletedEndpoints checks that the per-endpoint series of
// a deleted endpoint go away, and another endpoint's stay.
func TestMetricsForgetDeletedEndpoints(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		rc := newReceiver(t, func(r request, n int) (int, http.Header) { return http.StatusInternalServerError, nil })
		cfg := fast()
		cfg.Schedule = []time.Duration{time.Hour}
		h := start(t, b, cfg)
		gone := h.createEndpoint(map[string]any{"url": rc.URL})
		kept := h.createEndpoint(map[string]any{"url": rc.URL})
		h.record(context.Background(), switchboard.TypeUserCreated, 1)
		series := func() map[string]bool {
			t.Helper()
			mfs, err := h.srv.Metrics.Gather()
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, mf := range mfs {
				if mf.GetName() != "switchboard_webhook_endpoint_attempts_total" {
					continue
				}
				for _, m := range mf.GetMetric() {
					for _, l := range m.GetLabel() {
						if l.GetName() == "endpoint" {
							out[l.GetValue()] = true
						}
					}
				}
			}
			return out
		}
		await(t, 10*time.Second, "both endpoints' series", func() bool { s := series(); return s[gone.ID] && s[kept.ID] })
		if status := h.call("DELETE", path("webhookEndpoints", gone.ID), nil, nil); status != http.StatusOK {
			t.Fatalf("delete: status %d", status)
		}
		if s := series(); s[gone.ID] || !s[kept.ID] {
			t.Fatalf("after deleting %s: series of %v, want only %s", gone.ID, s, kept.ID)
		}
	})
}
