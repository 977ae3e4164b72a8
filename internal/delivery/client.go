package delivery

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/switchboard-dev/switchboard/internal/endpoint"
)

// ErrForbiddenAddress is the error of a connection refused because the
// address is loopback, private, link-local, unspecified or multicast.
var ErrForbiddenAddress = errors.New("delivery: refusing to connect to a non-public address")

// refusePrivate is the dialer's Control function when private endpoints are
// refused: it runs for every address the dialer connects to, after name
// resolution, so a DNS answer cannot slip a private address past it.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || endpoint.Forbidden(addr) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, host)
	}
	return nil
}

// newClient returns the HTTP client every attempt shares: keep-alive
// connections, no proxy (it would hide the address actually reached), and
// redirects returned as they are (a redirect is a failure).
func newClient(cfg Config) *http.Client {
	dialer := &net.Dialer{Timeout: min(cfg.Timeout, 10*time.Second), KeepAlive: 30 * time.Second}
	if cfg.RefusePrivate {
		dialer.Control = refusePrivate
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           4 * cfg.Workers,
		MaxIdleConnsPerHost:    cfg.Workers,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    min(cfg.Timeout, 10*time.Second),
		ExpectContinueTimeout:  time.Second,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxResponseHeaderBytes: maxResponseHeader,
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// retryAfter parses a Retry-After header, seconds or an HTTP date, into a
// delay from now (wall clock); ok is false when absent or unparsable.
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	if h == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(h); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// slowsDown reports whether an answer asks the sender to slow down.
func slowsDown(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
