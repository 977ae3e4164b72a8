package delivery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestResponseBodyTimed: an attempt's latency includes reading the response
// body, and reading it is bounded by the body timeout; a 2xx whose body is
// cut off is a success, with what arrived kept.
func TestResponseBodyTimed(t *testing.T) {
	const bodyTimeout = 300 * time.Millisecond
	cases := []struct {
		name string
		// after the headers: the first part, a pause, then the rest (or
		// nothing more until the request ends, when hang is set)
		pause      time.Duration
		hang       bool
		minLatency time.Duration
		body       string
	}{
		{name: "slow body", pause: 150 * time.Millisecond, minLatency: 150 * time.Millisecond, body: "first;rest"},
		{name: "endless body", hang: true, minLatency: bodyTimeout, body: "first;"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, b storetest.Backend) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(http.StatusOK)
					w.Write([]byte("first;"))
					w.(http.Flusher).Flush()
					if c.hang {
						<-r.Context().Done()
						return
					}
					time.Sleep(c.pause) // the slow part of the body
					w.Write([]byte("rest"))
				}))
				defer srv.Close()
				cfg := fast()
				cfg.BodyTimeout = bodyTimeout
				h := start(t, b, cfg)
				h.createEndpoint(map[string]any{"url": srv.URL})
				ids := h.record(context.Background(), switchboard.TypeUserCreated, 1)
				var d deliveryObject
				await(t, 10*time.Second, "the attempt to be recorded", func() bool {
					ds := h.deliveriesOf(path("events", ids[0], "deliveries"))
					if len(ds) == 1 && len(ds[0].Attempts) > 0 {
						d = ds[0]
						return true
					}
					return false
				})
				if d.Status != store.DeliverySucceeded {
					t.Fatalf("status %s, want succeeded (a 2xx)", d.Status)
				}
				a := d.Attempts[0]
				if got := time.Duration(a.LatencyMs) * time.Millisecond; got < c.minLatency {
					t.Errorf("latency %s, want at least %s: the body's time counts", got, c.minLatency)
				}
				if a.ResponseBody == nil || !strings.HasPrefix(*a.ResponseBody, c.body) {
					t.Errorf("response body %v, want %q", a.ResponseBody, c.body)
				}
			})
		})
	}
}
