package api

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestLimiter drives the token bucket with a clock of its own.
func TestLimiter(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newLimiter(2, 4) // 2 a second, bursts of 4
	l.now = func() time.Time { return now }
	for i := range 4 {
		left, _, _, ok := l.take("k")
		if !ok || left != float64(3-i) {
			t.Fatalf("take %d: left %v, ok %v; want %d, true", i, left, ok, 3-i)
		}
	}
	left, full, wait, ok := l.take("k")
	if ok || left != 0 || wait != 500*time.Millisecond || full != 2*time.Second {
		t.Fatalf("empty bucket: left %v full %v wait %v ok %v; want 0, 2s, 500ms, false", left, full, wait, ok)
	}
	if _, _, _, ok := l.take("other"); !ok {
		t.Fatal("another key's bucket is empty too")
	}
	now = now.Add(500 * time.Millisecond)
	if _, _, _, ok := l.take("k"); !ok {
		t.Fatal("no token after the wait")
	}
	now = now.Add(time.Hour)
	if left, _, _, _ := l.take("k"); left != 3 {
		t.Fatalf("after an hour: %v left, want the burst less one (3)", left)
	}
	if _, empty := l.empty("k"); empty {
		t.Fatal("empty reports a bucket with tokens")
	}

	// Full buckets are forgotten when the set has grown to twice what the
	// last sweep kept.
	for i := range 2000 {
		l.take(fmt.Sprint("spray", i))
	}
	now = now.Add(time.Hour) // every bucket fills up
	for i := range 100 {
		l.take(fmt.Sprint("later", i))
	}
	l.mu.Lock()
	n := len(l.buckets)
	l.mu.Unlock()
	if n > 100 {
		t.Fatalf("%d buckets kept after they all filled up", n)
	}
}

func TestClientAddr(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"192.0.2.7:5555", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:5555", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:443", "2001:db8:1:2::/64"},
		{"not an address", "not an address"},
	}
	for _, tt := range tests {
		if got := clientAddr(&http.Request{RemoteAddr: tt.remote}); got != tt.want {
			t.Errorf("clientAddr(%q) = %q, want %q", tt.remote, got, tt.want)
		}
	}
}
