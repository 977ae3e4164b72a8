package delivery

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-dev/switchboard/internal/secret"
)

// DefaultSchedule is the delay before each retry after a failure: 5 s, 5 min,
// 30 min, 2 h, 5 h, 10 h, 10 h. After the last, the delivery has failed.
var DefaultSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// Defaults of Config.
const (
	DefaultWorkers       = 128
	DefaultBatchSize     = 256
	DefaultTimeout       = 15 * time.Second
	DefaultJitter        = 0.2
	DefaultDisableAfter  = 5 * 24 * time.Hour
	DefaultMaxRetryAfter = time.Hour
	DefaultLease         = time.Minute
	DefaultPollInterval  = time.Second
	DefaultShutdownGrace = 5 * time.Second
	DefaultMaxHold       = time.Second
	DefaultClaimDelay    = 2 * time.Millisecond
	DefaultRecordDelay   = 5 * time.Millisecond
	DefaultBodyTimeout   = time.Second
	// DefaultPostgresRecorders is how many recorders run on PostgreSQL.
	DefaultPostgresRecorders = 4
	// DefaultEndpointConcurrency is an endpoint's first concurrency limit.
	DefaultEndpointConcurrency = 8
	// DefaultBreakerThreshold is how many attempts in a row must fail
	// before an endpoint is probed one request at a time.
	DefaultBreakerThreshold = 5
	// MaxResponseBody bounds the response body kept with an attempt.
	MaxResponseBody = 1024
)

// Config configures a Dispatcher. The zero value uses the defaults.
type Config struct {
	// Workers is how many attempts run at once.
	Workers int
	// BatchSize bounds the deliveries claimed, and the results recorded, in
	// one transaction.
	BatchSize int
	// Timeout bounds one attempt, from connecting to the response headers
	// and the body read after them.
	Timeout time.Duration
	// BodyTimeout bounds reading a response body after its headers (never
	// past Timeout); what came by then is kept, and the status decides
	// the outcome. DefaultBodyTimeout when zero.
	BodyTimeout time.Duration
	// Schedule is the delay before each retry; DefaultSchedule when nil.
	Schedule []time.Duration
	// Jitter spreads each retry delay by up to ± this fraction;
	// DefaultJitter when zero, none when negative.
	Jitter float64
	// DisableAfter is how long, by the dispatcher's clock, an endpoint may fail
	// continuously before it is disabled.
	DisableAfter time.Duration
	// SlowDown is how long an endpoint that answered 429, 502, 503 or 504
	// without Retry-After is left alone; the schedule's first delay when
	// zero.
	SlowDown time.Duration
	// MaxRetryAfter bounds how long a Retry-After answer can defer an
	// endpoint.
	MaxRetryAfter time.Duration
	// Lease is how long a claim holds a delivery; a process that dies
	// holding one frees it when the lease ends. It must exceed the time an
	// attempt can take, waiting for a worker included.
	Lease time.Duration
	// PollInterval is how often the dispatcher looks for due deliveries
	// when nothing woke it.
	PollInterval time.Duration
	// ClaimDelay is how long the dispatcher waits, after a commit woke it,
	// before claiming: the deliveries of the commits made meanwhile are
	// then claimed (and their results recorded) in one batch instead of a
	// transaction each. It does not wait while a backlog drains, nor for an
	// ordered endpoint's next delivery. DefaultClaimDelay when zero; none
	// when negative.
	ClaimDelay time.Duration
	// RecordDelay is how long the recorder waits after a result for more
	// to record in the same transaction, while nothing waits for the room
	// recording frees. It delays no delivery, only the bookkeeping after
	// it. DefaultRecordDelay when zero; none when negative.
	RecordDelay time.Duration
	// EndpointConcurrency is the concurrency limit an endpoint starts
	// with; it then adapts (see fair.go), never above the endpoint's fair
	// share of the workers. DefaultEndpointConcurrency when zero.
	EndpointConcurrency int
	// BreakerThreshold is how many attempts to an endpoint must fail in a
	// row to open its circuit breaker: its deliveries wait out a cool-down,
	// then one probe goes out. DefaultBreakerThreshold when zero; never
	// when negative.
	BreakerThreshold int
	// BreakerCooldown is the breaker's first cool-down, doubled after each
	// failed probe up to 32 times; the schedule's first delay when zero.
	BreakerCooldown time.Duration
	// Process names the serving process: its claims' IDs begin with it, so
	// that its leases can be taken back when it is gone (see
	// store.ReclaimDead). Unnamed when empty.
	Process string
	// Recorders is how many goroutines record results, each a batch per
	// transaction: 1 on SQLite, DefaultPostgresRecorders on PostgreSQL
	// when zero.
	Recorders int
	// ShutdownGrace is how long a stopping dispatcher lets attempts in
	// flight finish before it cancels them and releases their deliveries.
	ShutdownGrace time.Duration
	// MaxHold is the longest a worker waits for an endpoint's rate limit;
	// a delivery that would wait longer is released to come due later.
	MaxHold time.Duration
	// SecretGrace is how long a rotated-out signing secret keeps signing;
	// 24 h when zero. (The endpoint service applies it.)
	SecretGrace time.Duration
	// RefusePrivate refuses connections to loopback, private, link-local,
	// unspecified and multicast addresses (checked when connecting).
	RefusePrivate bool
	// HidePrivateResponses keeps no response body from a destination at a
	// loopback, private or link-local address: the attempt log records only
	// its status.
	HidePrivateResponses bool
	// Keys opens the endpoints' sealed signing secrets.
	Keys *secret.Keyring
	// Logger receives the dispatcher's logs; slog.Default() when nil.
	Logger *slog.Logger
	// Registerer, when set, receives the delivery metrics.
	Registerer prometheus.Registerer
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = DefaultBodyTimeout
	}
	if c.Schedule == nil {
		c.Schedule = DefaultSchedule
	}
	if c.Jitter == 0 {
		c.Jitter = DefaultJitter
	}
	if c.DisableAfter <= 0 {
		c.DisableAfter = DefaultDisableAfter
	}
	if c.SlowDown <= 0 {
		c.SlowDown = DefaultSchedule[0]
		if len(c.Schedule) > 0 {
			c.SlowDown = c.Schedule[0]
		}
	}
	if c.Recorders <= 0 {
		c.Recorders = 1
	}
	if c.EndpointConcurrency <= 0 {
		c.EndpointConcurrency = DefaultEndpointConcurrency
	}
	if c.BreakerThreshold == 0 {
		c.BreakerThreshold = DefaultBreakerThreshold
	}
	if c.BreakerCooldown <= 0 {
		c.BreakerCooldown = c.SlowDown
		if len(c.Schedule) > 0 {
			c.BreakerCooldown = c.Schedule[0]
		}
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.Lease < 2*c.Timeout {
		c.Lease = 2 * c.Timeout
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.ClaimDelay == 0 {
		c.ClaimDelay = DefaultClaimDelay
	}
	if c.RecordDelay == 0 {
		c.RecordDelay = DefaultRecordDelay
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	if c.MaxHold <= 0 {
		c.MaxHold = DefaultMaxHold
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}
