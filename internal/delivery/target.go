package delivery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/secret"
)

// target is an endpoint compiled for sending: its HMAC keys ready, its rate
// limiter, and what the dispatcher knows of its health.
type target struct {
	id, project, url, version string
	body                      string // the stored form it was compiled from
	keys                      []signingKey
	limiter                   *bucket // nil: unlimited

	mu           sync.Mutex
	disabled     bool
	failingSince *time.Time // the dispatcher's clock; nil while healthy
	notBefore    time.Time  // the dispatcher's clock; nothing is sent before
	resumedAt    *time.Time // when the endpoint was last enabled again
}

// signingKey is one secret's HMAC key; a pool of keyed hashes saves setting
// the key up for every request.
type signingKey struct {
	expires *time.Time
	pool    *sync.Pool
}

func compile(body []byte, keys *secret.Keyring) (*target, error) {
	var e endpoint.Endpoint
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("delivery: decode endpoint: %w", err)
	}
	t := &target{
		id: e.ID, project: e.Project, url: e.URL, version: e.Version, body: string(body),
		disabled: e.Status != endpoint.Enabled, failingSince: e.FailingSince, resumedAt: e.ResumedAt,
	}
	for _, s := range e.Secrets {
		key, err := endpoint.SigningKey(keys, s.Value)
		if err != nil {
			return nil, fmt.Errorf("delivery: endpoint %s: %w", e.ID, err)
		}
		t.keys = append(t.keys, signingKey{expires: s.ExpiresAt, pool: &sync.Pool{
			New: func() any { return hmac.New(sha256.New, key) },
		}})
	}
	if e.RateLimit != nil {
		t.limiter = newBucket(float64(*e.RateLimit))
	}
	return t, nil
}

// inherit carries the live state of the target it replaces (a newer
// compilation of the same endpoint) over to t. An endpoint enabled again
// after it was disabled starts afresh, as its resumed deliveries do: the
// Retry-After it once asked for no longer holds them back.
func (t *target) inherit(old *target) {
	old.mu.Lock()
	defer old.mu.Unlock()
	if sameTime(old.resumedAt, t.resumedAt) {
		t.notBefore = old.notBefore
	}
	if old.limiter != nil && t.limiter != nil && old.limiter.rate == t.limiter.rate {
		t.limiter = old.limiter
	}
}

func sameTime(a, b *time.Time) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Equal(*b))
}

// appendSignature appends the webhook-signature header value to dst: one
// "v1,<base64 HMAC-SHA256>" entry per secret active at now, over
// "<msgID>.<timestamp>.<body>".
func (t *target) appendSignature(dst []byte, now time.Time, msgID string, ts int64, body []byte) []byte {
	var scratch [64]byte
	var sum [sha256.Size]byte
	prefix := strconv.AppendInt(append(append(scratch[:0], msgID...), '.'), ts, 10)
	prefix = append(prefix, '.')
	first := true
	for _, k := range t.keys {
		if k.expires != nil && !now.Before(*k.expires) {
			continue
		}
		h := k.pool.Get().(hash.Hash)
		h.Reset()
		h.Write(prefix)
		h.Write(body)
		mac := h.Sum(sum[:0])
		k.pool.Put(h)
		if !first {
			dst = append(dst, ' ')
		}
		first = false
		dst = append(dst, "v1,"...)
		dst = base64.StdEncoding.AppendEncode(dst, mac)
	}
	return dst
}

// bucket is a token bucket: rate tokens a second, bursting to rate.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64) *bucket {
	return &bucket{rate: rate, tokens: rate, last: time.Now()}
}

// reserve takes a token and returns how long to wait before using it, or,
// when that is longer than max, takes nothing and returns the wait.
func (b *bucket) reserve(now time.Time, max time.Duration) (wait time.Duration, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = math.Min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	wait = time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
	if wait > max {
		return wait, false
	}
	b.tokens--
	return wait, true
}
