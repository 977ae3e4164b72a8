package api

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/limits"
)

// limiter is a set of token buckets, one per key (an API key's ID, a client
// address): each holds up to burst tokens and gains rate tokens a second.
// Buckets that have filled up again are forgotten now and then, so the set
// stays as small as the keys recently active.
type limiter struct {
	rate, burst float64
	now         func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt int
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate, burst float64) *limiter {
	return &limiter{rate: rate, burst: max(burst, 1), now: time.Now, buckets: map[string]*bucket{}, sweepAt: 1024}
}

// fill returns key's bucket brought up to now; l.mu is held.
func (l *limiter) fill(key string, now time.Time) *bucket {
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.sweepAt {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
		return b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	return b
}

// sweep forgets the buckets that are full again; l.mu is held.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
	l.sweepAt = max(1024, 2*len(l.buckets))
}

// take takes a token from key's bucket. It returns the tokens left, how
// long until the bucket is full again and, when there was no token to take,
// false and how long until there is one.
func (l *limiter) take(key string) (left float64, full, wait time.Duration, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.fill(key, now)
	if b.tokens < 1 {
		return b.tokens, l.until(b, l.burst), l.until(b, 1), false
	}
	b.tokens--
	return b.tokens, l.until(b, l.burst), 0, true
}

// empty reports whether key's bucket has no token, without taking one, and
// how long until it has.
func (l *limiter) empty(key string) (time.Duration, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return 0, false
	}
	b = l.fill(key, now)
	if b.tokens >= 1 {
		return 0, false
	}
	return l.until(b, 1), true
}

// until is how long until b holds n tokens.
func (l *limiter) until(b *bucket, n float64) time.Duration {
	if b.tokens >= n {
		return 0
	}
	return time.Duration((n - b.tokens) / l.rate * float64(time.Second))
}

// seconds rounds a wait up to whole seconds, at least 1.
func seconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10)
}

// limitKey applies the per-key rate limit to an authenticated request (the
// operator key, keyID "", has a bucket of its own too): it
// sets the RateLimit-* headers and, when the key has no request left,
// Retry-After and returns the tooManyRequests failure.
func (s *Server) limitKey(w http.ResponseWriter, keyID string) error {
	if s.rate == nil {
		return nil
	}
	left, full, wait, ok := s.rate.take(keyID)
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.FormatInt(int64(s.rate.burst), 10))
	h.Set("RateLimit-Remaining", strconv.FormatInt(int64(max(left, 0)), 10))
	h.Set("RateLimit-Reset", seconds(full))
	if ok {
		return nil
	}
	h.Set("Retry-After", seconds(wait))
	return failure.New(failure.TooManyRequests, "tooManyRequests",
		"Too many requests with this API key: at most %g a second. Retry after %s s.", s.rate.rate, seconds(wait))
}

// clientAddr is the address a request came from (the connection's peer; a
// proxy's headers are not trusted); an IPv6 client counts by its /64, which
// one host can fill with addresses.
func clientAddr(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	a := ap.Addr().Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// authBlocked reports, with the failure to answer, whether the request's
// client address has used up its failed authentications: then the request
// is refused before any authentication work.
func (s *Server) authBlocked(w http.ResponseWriter, r *http.Request) error {
	wait, blocked := s.authFails.empty(clientAddr(r))
	if !blocked {
		return nil
	}
	w.Header().Set("Retry-After", seconds(wait))
	return failure.New(failure.TooManyRequests, "tooManyRequests",
		"Too many failed authentications from this address. Retry after %s s.", seconds(wait))
}

// authFailed counts a failed authentication against the request's client
// address.
func (s *Server) authFailed(r *http.Request) {
	s.authFails.take(clientAddr(r))
}

// newAuthFailures returns the limiter of failed authentications per client
// address.
func newAuthFailures() *limiter {
	return newLimiter(1/limits.AuthFailureRefill.Seconds(), limits.AuthFailures)
}
