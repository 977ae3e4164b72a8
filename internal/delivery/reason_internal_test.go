package delivery

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestReason sends real requests with the dispatcher's client and checks
// that each failure is recorded as its coarse reason, never the raw error.
func TestReason(t *testing.T) {
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr + "/"
	}()
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(hang) }) // before slow.Close: cleanups run last first
	untrusted := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(untrusted.Close)
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Filler", strings.Repeat("a", 2*maxResponseHeader))
	}))
	t.Cleanup(huge.Close)
	reset := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close() // hang up without a word
			}
		}()
		return "http://" + ln.Addr().String() + "/"
	}()

	tests := []struct {
		name, url     string
		refusePrivate bool
		want          string
	}{
		{"closed port", closed, false, ReasonConnectionRefused},
		{"closed port, private refused", closed, true, ReasonPrivateAddressRefused},
		{"metadata address, private refused", "http://169.254.169.254/latest/meta-data", true, ReasonPrivateAddressRefused},
		{"no answer", slow.URL, false, ReasonTimeout},
		{"untrusted certificate", untrusted.URL, false, ReasonTLSError},
		{"headers too large", huge.URL, false, ReasonResponseTooLarge},
		{"hung up", reset, false, ReasonConnectionReset},
		{"unknown name", "http://switchboard-test.invalid/", false, ReasonDNSError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Timeout: 500 * time.Millisecond, RefusePrivate: tt.refusePrivate}
			cfg.defaults()
			ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, tt.url, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := newClient(cfg).Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("status %d, want an error", resp.StatusCode)
			}
			if got := reason(err); got != tt.want {
				t.Fatalf("reason(%v) = %s, want %s", err, got, tt.want)
			}
		})
	}
}
