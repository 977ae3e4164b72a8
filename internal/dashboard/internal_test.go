package dashboard

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestSealKeepsTheKeyFromTheDatabase(t *testing.T) {
	raw, other := randomToken(), randomToken()
	hash := hashID(raw)
	const key = "sk_secret_key_123"
	sealed, err := seal(raw, hash, key)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, key) || strings.Contains(sealed, raw) {
		t.Fatalf("sealed %q shows the key or the session ID", sealed)
	}
	if got, err := unseal(raw, hash, sealed); err != nil || got != key {
		t.Fatalf("unseal = %q, %v; want the key", got, err)
	}
	tests := []struct{ name, raw, hash, sealed string }{
		{"another session ID", other, hash, sealed},
		{"another row", raw, hashID(other), sealed},
		{"tampered", raw, hash, sealed[:len(sealed)-2] + "AA"},
		{"garbage", raw, hash, "!!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := unseal(tt.raw, tt.hash, tt.sealed); err == nil {
				t.Errorf("unseal = %q, want an error", got)
			}
		})
	}
	if csrfToken(raw) == csrfToken(other) || csrfToken(raw) == raw || hash == raw {
		t.Error("CSRF token or hash is not derived apart from the session ID")
	}
}

func TestDiff(t *testing.T) {
	data := json.RawMessage(`{"status":"declined","declinedCode":"x","user":"usr_1"}`)
	got := diff(data, json.RawMessage(`{"status":"requested","declinedCode":null,"gone":1}`))
	want := []change{
		{Field: "declinedCode", Before: "null", After: `"x"`},
		{Field: "gone", Before: "1", After: "(absent)"},
		{Field: "status", Before: `"requested"`, After: `"declined"`},
	}
	if len(got) != len(want) {
		t.Fatalf("diff = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("diff[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if d := diff(data, nil); d != nil {
		t.Errorf("diff without previousData = %+v, want none", d)
	}
}

func TestMeasure(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	status := func(n int) *int { return &n }
	text := func(s string) *string { return &s }
	var ds []delivery
	for i := range 100 { // latencies 1..100 ms; every tenth attempt fails
		a := attempt{AttemptedAt: at.Add(time.Duration(i) * time.Minute), ResponseStatus: status(200), LatencyMs: int64(i + 1)}
		if i%10 == 9 {
			a.ResponseStatus, a.ResponseBody = status(503), text("busy")
		}
		ds = append(ds, delivery{Status: "succeeded", Attempts: []attempt{a}})
	}
	ds = append(ds, delivery{Status: "pending", Attempts: []attempt{{AttemptedAt: at.Add(200 * time.Minute), LatencyMs: 5, Error: text("timeout")}}},
		delivery{Status: "pending"})
	h := measure(ds, true)
	if h.Attempts != 101 || h.Succeeded != 90 || h.SuccessRate != "89.1%" {
		t.Errorf("attempts %d, succeeded %d, rate %s; want 101, 90, 89.1%%", h.Attempts, h.Succeeded, h.SuccessRate)
	}
	if h.P50 != "50 ms" || h.P99 != "99 ms" {
		t.Errorf("p50 %s, p99 %s; want 50 ms, 99 ms", h.P50, h.P99)
	}
	if h.QueueDepth != 2 || !h.Partial {
		t.Errorf("queue depth %d (partial %v), want 2 (partial)", h.QueueDepth, h.Partial)
	}
	if h.LastError != "timeout" || !h.LastErrorAt.Equal(at.Add(200*time.Minute)) {
		t.Errorf("last error %q at %v, want the timeout", h.LastError, h.LastErrorAt)
	}
	var oks, fails int
	for _, b := range h.Chart.Bars {
		oks += b.OK
		fails += b.Failed
		if b.OKH < 0 || b.FailH < 0 || b.FailY+b.FailH > h.Chart.Height {
			t.Errorf("bar out of the chart: %+v", b)
		}
	}
	if len(h.Chart.Bars) != chartBuckets || oks != 90 || fails != 11 {
		t.Errorf("chart: %d bars, %d ok, %d failed; want %d, 90, 11", len(h.Chart.Bars), oks, fails, chartBuckets)
	}
	if empty := measure(nil, false); empty.SuccessRate != "–" || !empty.Chart.Empty {
		t.Errorf("no deliveries: %+v", empty)
	}
}

func TestFormValues(t *testing.T) {
	for in, want := range map[string]string{"3600": "3600", " 12 ": "12", "-5": "-5", "1.5": "1.5", "fast": `"fast"`, "": `""`, "1e3": "1e3", "0x10": `"0x10"`} {
		if got := string(formNumber(in)); got != want {
			t.Errorf("formNumber(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"2026-05-01T12:00":     "2026-05-01T12:00:00Z",
		"2026-05-01T12:00:30":  "2026-05-01T12:00:30Z",
		"2026-05-01T12:00:30Z": "2026-05-01T12:00:30Z",
		"yesterday":            "yesterday",
	} {
		if got := formTime(in); got != want {
			t.Errorf("formTime(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"/dashboard/events?type=x": "/dashboard/events?type=x",
		"https://evil.example/":    "/dashboard/events",
		"//evil.example/":          "/dashboard/events",
		"/dashboard/\\evil":        "/dashboard/events",
		"/metrics":                 "/dashboard/events",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %s, want %s", in, got, want)
		}
	}
}
