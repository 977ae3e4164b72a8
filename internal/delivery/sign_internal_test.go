package delivery

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/webhook"
)

func testTarget(t testing.TB, secrets ...endpoint.Secret) *target {
	t.Helper()
	body, _ := json.Marshal(endpoint.Endpoint{ID: "whe_1", URL: "https://example.com", Version: switchboard.LatestVersion,
		Status: endpoint.Enabled, Secrets: secrets})
	tg, err := compile(body, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestSignatureMatchesWebhookPackage checks the dispatcher's pooled signer
// against the webhook package's, and that expired secrets stop signing.
func TestSignatureMatchesWebhookPackage(t *testing.T) {
	now := time.Now()
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	a, b, c := endpoint.NewSecret(), endpoint.NewSecret(), endpoint.NewSecret()
	tg := testTarget(t, endpoint.Secret{Value: a}, endpoint.Secret{Value: b, ExpiresAt: &future}, endpoint.Secret{Value: c, ExpiresAt: &past})
	body := []byte(`{"hello":"world"}`)
	got := string(tg.appendSignature(nil, now, "evt_1", now.Unix(), body))
	parts := strings.Fields(got)
	if len(parts) != 2 {
		t.Fatalf("%d signatures, want 2 (the expired secret must not sign): %q", len(parts), got)
	}
	for i, secret := range []string{a, b} {
		want, err := webhook.Sign(secret, "evt_1", time.Unix(now.Unix(), 0), body)
		if err != nil {
			t.Fatal(err)
		}
		if parts[i] != want {
			t.Errorf("signature %d = %q, webhook.Sign says %q", i, parts[i], want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"120", 2 * time.Minute, true},
		{"-1", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBucket(t *testing.T) {
	b := newBucket(2)
	now := b.last
	for i, want := range []time.Duration{0, 0, 500 * time.Millisecond, time.Second} {
		wait, ok := b.reserve(now, 2*time.Second)
		if !ok || (wait-want).Abs() > time.Millisecond {
			t.Fatalf("reservation %d: wait %s ok %v, want %s", i, wait, ok, want)
		}
	}
	if _, ok := b.reserve(now, time.Second); ok {
		t.Fatal("a reservation beyond max was taken")
	}
}

// BenchmarkRenderSign renders an event and signs it with two secrets, as
// every attempt of a fresh event does.
func BenchmarkRenderSign(b *testing.B) {
	future := time.Now().Add(time.Hour)
	tg := testTarget(b, endpoint.Secret{Value: endpoint.NewSecret()}, endpoint.Secret{Value: endpoint.NewSecret(), ExpiresAt: &future})
	ev := store.EventRow{ID: "evt_0123456789012345678901234567", Project: "gigs", Type: switchboard.TypePortingUpdated,
		Resource: "prt_1", Time: time.Now(), Source: eventlog.DefaultSource,
		Data:         []byte(`{"object":"porting","id":"prt_0123456789012345678901234567","status":"requested","phoneNumber":"+14155552671","declinedAttempts":0,"required":["accountNumber","accountPin"]}`),
		PreviousData: []byte(`{"status":"pending"}`), Actor: []byte(`{"type":"system"}`)}
	buf := make([]byte, 0, 256)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		body, err := eventlog.Render(ev, switchboard.LatestVersion)
		if err != nil {
			b.Fatal(err)
		}
		buf = tg.appendSignature(buf[:0], now, ev.ID, now.Unix(), body)
	}
}
