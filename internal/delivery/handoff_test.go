package delivery_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// metric returns the value of one metric line of the server, "" if absent.
func (h *harness) metric(name string) string {
	h.t.Helper()
	resp, err := h.getMetrics()
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// TestHandoff checks that deliveries to unordered endpoints go from the
// transaction that queued them straight to the dispatcher, with no claim,
// and that those to ordered endpoints, which only a claim may take in
// order, are claimed.
func TestHandoff(t *testing.T) {
	tests := []struct {
		name                    string
		ordered                 bool
		wantHanded, wantClaimed string
	}{
		{"unordered deliveries are handed over", false, "3", "0"},
		{"ordered deliveries are claimed", true, "0", "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, b storetest.Backend) {
				rc := newReceiver(t, func(request, int) (int, http.Header) { return http.StatusOK, nil })
				cfg := fast()
				cfg.PollInterval = time.Hour // no claim but those a commit asks for
				h := start(t, b, cfg)
				h.createEndpoint(map[string]any{"url": rc.URL, "ordered": tt.ordered})
				for range 3 {
					h.record(context.Background(), switchboard.TypeUserCreated, 1)
				}
				await(t, 10*time.Second, "three deliveries", func() bool { return len(rc.got()) == 3 })
				await(t, 10*time.Second, "three recorded", func() bool {
					return h.metric(`switchboard_webhook_deliveries_total{outcome="succeeded"}`) == "3"
				})
				handed := h.metric(`switchboard_webhook_deliveries_taken_total{how="handed_over"}`)
				claimed := h.metric(`switchboard_webhook_deliveries_taken_total{how="claimed"}`)
				if handed != tt.wantHanded || claimed != tt.wantClaimed {
					t.Errorf("taken: handed over %s, claimed %s; want %s, %s", handed, claimed, tt.wantHanded, tt.wantClaimed)
				}
				if got := len(rc.got()); got != 3 {
					t.Errorf("receiver got %d requests, want 3 (no duplicates)", got)
				}
			})
		})
	}
}
