package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/field"
)

func TestPercentile(t *testing.T) {
	ds := func(ms ...int) []time.Duration {
		out := make([]time.Duration, len(ms))
		for i, m := range ms {
			out[i] = time.Duration(m) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ds(7), 99, 7 * time.Millisecond},
		{"median of odd", ds(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"p99 of 100", ds(hundred...), 99, 99 * time.Millisecond},
		{"p100 is max", ds(hundred...), 100, 100 * time.Millisecond},
		{"p0 is min", ds(3, 4), 0, 3 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.in, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.in, tt.p, got, tt.want)
			}
		})
	}
	s := Summarize(ds(5, 1, 4, 2, 3))
	if s.Count != 5 || s.P50 != 3*time.Millisecond || s.Max != 5*time.Millisecond || s.Mean != 3*time.Millisecond {
		t.Errorf("Summarize = %+v", s)
	}
}

func TestParseEvent(t *testing.T) {
	sample, err := sampleEvent()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		body          string
		typ, resource string
		ok            bool
	}{
		{"rendered porting", string(sample), switchboard.TypePortingUpdated, "prt_0123456789abcdef", true},
		{"port-out credentials", `{"object":"event","id":"evt_1","data":{"object":"portOutCredentials","accountNumber":"1","accountPin":null,"subscription":"sub_9","expiresAt":"2026-01-01T00:00:00Z"},"type":"com.gigs.portOutCredentials.issued","version":"2025-05-22"}`,
			switchboard.TypePortOutCredentialsIssued, "sub_9", true},
		{"other field order falls back to JSON", `{"type":"com.gigs.user.created","data":{"id":"usr_1","object":"user"}}`,
			switchboard.TypeUserCreated, "usr_1", true},
		{"not JSON", `nope`, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, res, ok := parseEvent([]byte(tt.body))
			if typ != tt.typ || res != tt.resource || ok != tt.ok {
				t.Errorf("parseEvent = %q, %q, %v; want %q, %q, %v", typ, res, ok, tt.typ, tt.resource, tt.ok)
			}
		})
	}
}

func TestTrackerMatchesEarlyAndLateDeliveries(t *testing.T) {
	tr := newTracker(2)
	t0 := time.Now()
	// Endpoint 0 receives the first porting.updated before its call answers.
	tr.receipt(0, "evt_1", "prt_1", "u", t0.Add(time.Millisecond))
	tr.committed("prt_1", "u", t0, t0.Add(2*time.Millisecond))
	tr.receipt(1, "evt_1", "prt_1", "u", t0.Add(7*time.Millisecond))
	tr.committed("prt_1", "u", t0.Add(8*time.Millisecond), t0.Add(10*time.Millisecond))
	tr.receipt(0, "evt_2", "prt_1", "u", t0.Add(13*time.Millisecond))
	tr.receipt(0, "evt_2", "prt_1", "u", t0.Add(14*time.Millisecond)) // a duplicate
	tr.receipt(0, "evt_3", "prt_2", "x", t0)                          // never caused
	st := tr.stats()
	if st.Expected != 2 || st.Matched != 3 || st.Early != 1 || st.Dupes != 1 || st.Unmatched["x"] != 1 {
		t.Fatalf("stats = %+v", st)
	}
	got := Summarize(st.Latency)
	if got.Max != 5*time.Millisecond || got.P50 != 3*time.Millisecond {
		t.Errorf("latencies %v, want 0, 5ms and 3ms", st.Latency)
	}
	// From each call's sending: 1 ms (the early one, at its true time),
	// 7 ms and 5 ms.
	sent := Summarize(st.FromSend)
	if len(st.FromSend) != 3 || sent.Max != 7*time.Millisecond || sent.P50 != 5*time.Millisecond {
		t.Errorf("request→receipt latencies %v, want 1ms, 7ms and 5ms", st.FromSend)
	}
}

func TestNumbersAreValidAndDistinct(t *testing.T) {
	var s numberSource
	s.k.Store(123_456_000)
	seen := map[string]bool{}
	for range 2000 {
		n := s.next()
		if seen[n] {
			t.Fatalf("number %s handed out twice", n)
		}
		seen[n] = true
		if err := field.PhoneNumber("phoneNumber", n); err != nil {
			t.Fatalf("number %s: %v", n, err)
		}
	}
}

func TestRawScenario(t *testing.T) {
	res, err := Run(context.Background(), Options{Scenario: Raw, Duration: 300 * time.Millisecond, RawConcurrency: 4, VerifyEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deliveries == 0 || res.RawRequestsPerSec <= 0 || res.Verified < res.Deliveries { // verified counts the warm-up too
		t.Fatalf("raw result %+v", res)
	}
}

// TestMaxScenario runs a few lifecycles of every variant against an
// in-process SQLite server and checks that every event caused is delivered
// once, verified, and matched to its call.
func TestMaxScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	var progress bytes.Buffer
	res, err := Run(context.Background(), Options{
		Scenario: Max, Lifecycles: 6, Workers: 3, InProcess: true, RawDuration: -1, VerifyEvery: 1,
		DrainTimeout: 20 * time.Second, TempDir: t.TempDir(), Progress: &progress,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Lifecycles != 6 || res.APIErrors != 0 {
		t.Fatalf("%d lifecycles, %d API errors (%s)", res.Lifecycles, res.APIErrors, res.APIFirstError)
	}
	if want := int64(2 * (31 + 16 + 19)); res.Events != want {
		t.Errorf("events = %d, want %d", res.Events, want)
	}
	if res.Deliveries != res.Events || res.Missing != 0 || res.Duplicates != 0 || len(res.Unmatched) > 0 {
		t.Errorf("deliveries %d of %d events, missing %d, duplicates %d, unmatched %v",
			res.Deliveries, res.Events, res.Missing, res.Duplicates, res.Unmatched)
	}
	if res.Verified != res.Deliveries || res.BadSignatures != 0 {
		t.Errorf("verified %d of %d deliveries, %d bad", res.Verified, res.Deliveries, res.BadSignatures)
	}
	if res.EventsPerSec <= 0 || res.LatencyP99 < res.LatencyP50 || res.PeakRSS <= 0 || res.CPUSeconds <= 0 {
		t.Errorf("figures %+v", res)
	}
	var out bytes.Buffer
	if err := res.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(out.Bytes(), &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"events_per_sec", "deliveries_per_sec", "latency_p50_ms", "latency_p99_ms", "peak_rss_bytes",
		"raw_requests_per_sec", "api_requests_per_sec", "api_p50_ms", "api_p99_ms", "latency_p95_ms", "latency_max_ms",
		"cpu_seconds", "backlog"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	out.Reset()
	if err := res.WriteTable(&out); err != nil || !strings.Contains(out.String(), "events committed+delivered/s") {
		t.Errorf("table: %v\n%s", err, out.String())
	}
}

// TestServerThatExitsIsAnError checks that a server binary that exits
// before it listens (another build, which refuses the harness's flags)
// fails the run at once, with the end of its log, and no report.
func TestServerThatExitsIsAnError(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "old-switchboard")
	script := "#!/bin/sh\necho 'switchboard serve: flag provided but not defined: -api-rate-limit' >&2\nexit 2\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{
		Scenario: Max, Lifecycles: 1, Workers: 1, Exe: exe, RawDuration: -1, TempDir: t.TempDir(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err == nil || !strings.Contains(err.Error(), "flag provided but not defined: -api-rate-limit") {
		t.Errorf("Run with a server that exits = %v, want an error with its log's end", err)
	}
	if res != nil {
		t.Errorf("Run with a server that exits reported %+v, want no report", res)
	}
}
