package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-dev/switchboard/internal/delivery"
)

// Scenarios.
const (
	Max    = "max"
	Steady = "steady"
	Fanout = "fanout"
	Drain  = "drain"
	Raw    = "raw"
	Noisy  = "noisy"
)

// Scenarios lists the scenarios.
var Scenarios = []string{Max, Steady, Fanout, Drain, Raw, Noisy}

// Options configure a run. Zero fields take the defaults of Defaults.
type Options struct {
	// Scenario is one of Scenarios.
	Scenario string
	// Lifecycles is how many lifecycles max and fanout run.
	Lifecycles int
	// Workers is how many lifecycles run at once.
	Workers int
	// Rate is steady's target, in events per second.
	Rate float64
	// Duration is how long steady issues calls, and raw sends.
	Duration time.Duration
	// Endpoints is how many webhook endpoints receive every event (fanout:
	// 50, otherwise 1).
	Endpoints int
	// Ordered makes the endpoints ordered: each receives its deliveries
	// strictly in log order.
	Ordered bool
	// Deliveries is the backlog drain builds before the receiver comes up.
	Deliveries int
	// DrainTimeout bounds the wait for the deliveries after the calls end.
	DrainTimeout time.Duration
	// NoisyEndpoints is how many endpoints of the noisy scenario hang or
	// answer slowly (10); NoisyBacklog how many deliveries each has queued
	// before the measurement (1,000); NoisyMode "hang" (the default) or
	// "slow", answering after NoisyDelay (2 s).
	NoisyEndpoints int
	NoisyBacklog   int
	NoisyMode      string
	NoisyDelay     time.Duration
	// NoisySameProject puts the noisy endpoints in the measured project
	// instead of a project of their own.
	NoisySameProject bool

	// DB is the servers' database: "" for a fresh SQLite file in TempDir,
	// or a postgres:// URL, in which a fresh schema is made (and dropped
	// afterwards unless KeepSchema).
	DB         string
	KeepSchema bool
	// Servers is how many server processes to start (several need
	// PostgreSQL); the API load is split between them.
	Servers int
	// InProcess runs the server inside the harness instead of as a child
	// process (the tests do; its RSS and CPU then include the harness).
	InProcess bool
	// Exe is the switchboard binary run as "serve"; os.Executable() when
	// empty.
	Exe string
	// ServeArgs are extra flags for the child servers' serve command.
	ServeArgs []string
	// Delivery configures an in-process server's dispatcher.
	Delivery delivery.Config
	// CPUProfile, when set, makes each child server write a CPU profile
	// there (SWITCHBOARD_CPUPROFILE; ".N" appended with several servers).
	CPUProfile string
	// APIURL, when set, drives running servers (comma-separated) with
	// APIKey instead of starting any.
	APIURL string
	APIKey string
	// AdminKey is the operator key of --api-url's servers, for reading the
	// backlog from /metrics.
	AdminKey string
	// Project is the project the API key belongs to.
	Project string

	// VerifyEvery makes the receiver fully verify one signature in this
	// many (1: every one); the headers of every delivery are checked.
	VerifyEvery int64
	// RawDuration is how long the raw ceiling is measured before the
	// servers start; negative skips it.
	RawDuration time.Duration
	// RawConcurrency is how many senders the raw scenario runs; the
	// dispatcher's default worker count when zero.
	RawConcurrency int

	// TempDir holds the SQLite file and the servers' logs; a fresh one,
	// removed afterwards, when empty.
	TempDir string
	// Progress receives a progress line every second; none when nil.
	Progress io.Writer
	// Log receives the harness's own logs; slog.Default() when nil.
	Log *slog.Logger
}

// Defaults fills in the zero fields of o.
func (o *Options) Defaults() {
	if o.Workers <= 0 {
		o.Workers = 32
	}
	if o.Lifecycles <= 0 {
		switch o.Scenario {
		case Fanout:
			o.Lifecycles = 150
		default:
			o.Lifecycles = 2000
		}
	}
	if o.Rate <= 0 {
		o.Rate = 1000
		if o.Scenario == Noisy {
			o.Rate = 200
		}
	}
	if o.NoisyEndpoints <= 0 {
		o.NoisyEndpoints = 10
	}
	if o.NoisyBacklog <= 0 {
		o.NoisyBacklog = 1000
	}
	if o.NoisyMode == "" {
		o.NoisyMode = NoisyHang
	}
	if o.NoisyDelay <= 0 {
		o.NoisyDelay = 2 * time.Second
	}
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
		if o.Scenario == Noisy {
			o.Duration = 20 * time.Second
		}
		if o.Scenario == Raw {
			o.Duration = 5 * time.Second
		}
	}
	if o.Endpoints <= 0 {
		o.Endpoints = 1
		if o.Scenario == Fanout {
			o.Endpoints = 50
		}
	}
	if o.Deliveries <= 0 {
		o.Deliveries = 100_000
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 5 * time.Minute
	}
	if o.Servers <= 0 {
		o.Servers = 1
	}
	if o.Project == "" {
		o.Project = "dev"
	}
	if o.VerifyEvery == 0 {
		o.VerifyEvery = 10
	}
	if o.RawDuration == 0 {
		o.RawDuration = 3 * time.Second
	}
	if o.RawConcurrency <= 0 {
		o.RawConcurrency = delivery.DefaultWorkers
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
}

// Result is what a run measured. Its JSON keys are the harness's
// interface: scripts read them.
type Result struct {
	Scenario  string  `json:"scenario"`
	Backend   string  `json:"backend"`
	Servers   int     `json:"servers"`
	Workers   int     `json:"workers"`
	Endpoints int     `json:"endpoints"`
	Ordered   bool    `json:"ordered,omitempty"`
	Rate      float64 `json:"target_rate,omitempty"`
	// Lifecycles is how many lifecycles completed; LifecyclesFailed how
	// many were abandoned after a call failed.
	Lifecycles       int   `json:"lifecycles"`
	LifecyclesFailed int64 `json:"lifecycles_failed"`
	// DurationSec runs from the first call to the last delivery received.
	DurationSec float64 `json:"duration_sec"`
	// APISec runs from the first call to the last answer.
	APISec float64 `json:"api_sec"`

	APIRequests       int64   `json:"api_requests"`
	APIErrors         int64   `json:"api_errors"`
	APIFirstError     string  `json:"api_first_error,omitempty"`
	APIRequestsPerSec float64 `json:"api_requests_per_sec"`
	APIP50            float64 `json:"api_p50_ms"`
	APIP99            float64 `json:"api_p99_ms"`

	// Events is how many events the calls caused (committed).
	Events int64 `json:"events"`
	// EventsPerSec is events committed and delivered (to every endpoint)
	// per second, end to end: Events over DurationSec. Drain: over the
	// drain.
	EventsPerSec float64 `json:"events_per_sec"`
	// CommittedPerSec is events committed per second of API calls.
	CommittedPerSec float64 `json:"events_committed_per_sec"`
	// Deliveries is how many deliveries the receiver accepted.
	Deliveries       int64   `json:"deliveries"`
	DeliveriesPerSec float64 `json:"deliveries_per_sec"`

	// Commit-to-receipt latency: from the answer of the API call that
	// caused the event to the receipt of the delivery.
	LatencyP50 float64 `json:"latency_p50_ms"`
	LatencyP95 float64 `json:"latency_p95_ms"`
	LatencyP99 float64 `json:"latency_p99_ms"`
	LatencyMax float64 `json:"latency_max_ms"`
	// Request-to-receipt latency, what a user sees: from sending the API
	// call that caused the event to the receipt of the delivery (a
	// delivery before the answer counts for its true time, not 0).
	SendLatencyP50 float64 `json:"send_latency_p50_ms"`
	SendLatencyP99 float64 `json:"send_latency_p99_ms"`
	SendLatencyMax float64 `json:"send_latency_max_ms"`
	// BeforeAnswer counts deliveries received before the call that caused
	// them had answered (counted as latency 0).
	BeforeAnswer int64 `json:"deliveries_before_answer"`
	// Missing counts events caused and not delivered by the end.
	Missing int64 `json:"missing"`
	// Unmatched counts deliveries no call was known to cause, by type.
	Unmatched  map[string]int `json:"unmatched,omitempty"`
	Duplicates int64          `json:"duplicates"`
	// Verified counts the signatures fully verified; BadSignatures those
	// that failed.
	Verified      int64 `json:"signatures_verified"`
	BadSignatures int64 `json:"bad_signatures"`

	// DrainBacklog is the backlog drain built; DrainSec how long it took
	// to deliver once the receiver came up.
	DrainBacklog int64   `json:"drain_backlog,omitempty"`
	DrainSec     float64 `json:"drain_sec,omitempty"`

	// The noisy scenario: the endpoints beside the measured one, the
	// backlog each had at the start, and the requests they received.
	NoisyEndpoints int    `json:"noisy_endpoints,omitempty"`
	NoisyBacklog   int    `json:"noisy_backlog,omitempty"`
	NoisyMode      string `json:"noisy_mode,omitempty"`
	NoisyProject   string `json:"noisy_project,omitempty"`
	NoisyRequests  int64  `json:"noisy_requests,omitempty"`

	PeakRSS     int64   `json:"peak_rss_bytes"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	UsageSource string  `json:"usage_source"`
	// APIRateLimit says whether the servers limited the API's requests
	// per key: the harness turns the limit off for the servers it starts.
	APIRateLimit string `json:"api_rate_limit"`
	// HarnessCPUSeconds is the harness's own CPU time (API clients,
	// receiver, raw measurement), when the servers are child processes.
	HarnessCPUSeconds float64 `json:"harness_cpu_seconds,omitempty"`
	// PGCPUSeconds is the CPU time the PostgreSQL backends serving the
	// servers used during the measured phase (PGBackends of them; backends
	// that exited meanwhile are not counted). CPUPerEventMs is the
	// servers' CPU, PostgreSQL's included, per event committed.
	PGCPUSeconds  float64     `json:"pg_cpu_seconds,omitempty"`
	PGBackends    int         `json:"pg_backends,omitempty"`
	CPUPerEventMs float64     `json:"cpu_per_event_ms,omitempty"`
	Processes     []procUsage `json:"processes,omitempty"`
	Backlog       int64       `json:"backlog"`

	RawRequestsPerSec float64 `json:"raw_requests_per_sec"`
	RawP50            float64 `json:"raw_p50_ms"`
	RawP99            float64 `json:"raw_p99_ms"`
	RawConcurrency    int     `json:"raw_concurrency"`
	// Ratios to the raw ceiling.
	EventsVsRaw     float64 `json:"events_vs_raw"`
	DeliveriesVsRaw float64 `json:"deliveries_vs_raw"`
	APIVsRaw        float64 `json:"api_vs_raw"`
}

// Run runs a scenario and returns what it measured.
func Run(ctx context.Context, opts Options) (*Result, error) {
	opts.Defaults()
	switch opts.Scenario {
	case Max, Steady, Fanout, Drain, Raw, Noisy:
	default:
		return nil, fmt.Errorf("bench: unknown scenario %q; want one of %v", opts.Scenario, Scenarios)
	}
	if opts.TempDir == "" {
		dir, err := os.MkdirTemp("", "switchboard-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: temp dir: %w", err)
		}
		defer os.RemoveAll(dir)
		opts.TempDir = dir
	}
	res := &Result{Scenario: opts.Scenario, Workers: opts.Workers, Endpoints: opts.Endpoints, Servers: opts.Servers,
		Ordered: opts.Ordered}
	if opts.RawDuration > 0 || opts.Scenario == Raw {
		d := opts.RawDuration
		if opts.Scenario == Raw {
			d = opts.Duration
		}
		raw, err := runRaw(ctx, d, opts.RawConcurrency, opts.VerifyEvery)
		if err != nil {
			return nil, err
		}
		res.RawRequestsPerSec, res.RawConcurrency = raw.PerSec, raw.Concurrency
		res.RawP50, res.RawP99 = ms(raw.Latency.P50), ms(raw.Latency.P99)
		if opts.Scenario == Raw {
			res.Backend, res.Servers, res.Endpoints, res.Workers = "none", 0, 1, 0
			res.Deliveries, res.DeliveriesPerSec, res.DurationSec = raw.Requests, raw.PerSec, raw.Duration.Seconds()
			res.LatencyP50, res.LatencyP95, res.LatencyP99, res.LatencyMax = ms(raw.Latency.P50), ms(raw.Latency.P95), ms(raw.Latency.P99), ms(raw.Latency.Max)
			res.DeliveriesVsRaw, res.Verified = 1, raw.Verified
			return res, nil
		}
	}
	if opts.Scenario == Steady || opts.Scenario == Noisy {
		res.Rate = opts.Rate
	}
	if opts.Scenario == Noisy && opts.NoisyMode != NoisyHang && opts.NoisyMode != NoisySlow {
		return nil, fmt.Errorf("bench: unknown noisy mode %q; want hang or slow", opts.NoisyMode)
	}
	r := &runner{opts: opts, res: res}
	err := r.run(ctx)
	if errors.As(err, new(setupError)) {
		return nil, err // nothing was measured: no report
	}
	res.ratios()
	return res, err
}

// setupError is a failure before the load began (a server that did not
// start, a catalog not seeded): the run measured nothing.
type setupError struct{ err error }

func (e setupError) Error() string { return e.err.Error() }
func (e setupError) Unwrap() error { return e.err }

func (r *Result) ratios() {
	if r.RawRequestsPerSec <= 0 {
		return
	}
	r.EventsVsRaw = r.EventsPerSec / r.RawRequestsPerSec
	r.DeliveriesVsRaw = r.DeliveriesPerSec / r.RawRequestsPerSec
	r.APIVsRaw = r.APIRequestsPerSec / r.RawRequestsPerSec
}

// runner runs one scenario against servers.
type runner struct {
	opts Options
	res  *Result
	srv  *servers
	rcv  *Receiver
	trk  *tracker
	api  *apiClient
	cat  catalogIDs

	pgStart map[int]float64 // the PostgreSQL backends' CPU before the measured phase

	lifecycles atomic.Int64 // completed
	failed     atomic.Int64 // abandoned after a failed call
	apiStart   time.Time
	apiDone    time.Time
	// endpointIDs are the endpoints the run created; deleted afterwards
	// from servers the harness did not start.
	endpointIDs []string
}

func (r *runner) run(ctx context.Context) (err error) {
	o := &r.opts
	r.trk = newTracker(o.Endpoints)
	r.rcv = &Receiver{VerifyEvery: o.VerifyEvery, RetryAfter: 3600, tracker: r.trk}
	if err := r.rcv.Start(); err != nil {
		return setupError{err}
	}
	defer r.rcv.Close()
	if o.Scenario == Drain {
		r.rcv.SetFailing(true)
	}
	if r.srv, err = startServers(ctx, o); err != nil {
		return setupError{err}
	}
	defer func() {
		if serr := r.srv.stop(context.Background()); serr != nil {
			o.Log.Warn("bench: stopping the servers", "err", serr)
		}
	}()
	r.res.Backend, r.res.UsageSource, r.res.APIRateLimit = r.srv.backend, r.srv.source, r.srv.rateLimit
	r.api = newAPIClient(r.srv.urls, r.srv.key, o.Project, o.Workers+8)
	if r.cat, err = seedCatalog(ctx, r.api); err != nil {
		return setupError{err}
	}
	if o.APIURL != "" {
		defer r.deleteEndpoints()
	}
	if o.Scenario == Noisy {
		nr, err := r.noisySetup(ctx)
		if err != nil {
			return err
		}
		defer func() { r.res.NoisyRequests = nr.hits.Load() }()
		defer nr.Close()
	}
	for i := range o.Endpoints {
		if err := r.createEndpoint(ctx, i); err != nil {
			return err
		}
	}
	// The setup calls are not part of the figures.
	r.api.lat.take()
	r.api.calls.Store(0)
	r.pgStart = r.srv.pgCPU(ctx)

	stopProgress := r.progress(ctx)
	defer stopProgress()
	switch o.Scenario {
	case Max, Fanout:
		err = r.drive(ctx, o.Lifecycles, time.Time{}, nil)
	case Steady, Noisy:
		err = r.drive(ctx, 1<<30, time.Now().Add(o.Duration), &pacer{rate: o.Rate})
	case Drain:
		n := int(float64(o.Deliveries)/float64(o.Endpoints)/EventsPerLifecycle) + 1
		err = r.drain(ctx, n)
	}
	r.finish(ctx)
	return err
}

// createEndpoint creates endpoint i, subscribed to every event, at the
// receiver's path i.
func (r *runner) createEndpoint(ctx context.Context, i int) error {
	body := fmt.Appendf(nil, `{"url":%q,"enabledEvents":["com.gigs.user.*","com.gigs.porting.*","com.gigs.subscription.*","com.gigs.portOutCredentials.*"],"description":"bench endpoint %d","ordered":%t}`,
		r.rcv.URL(i), i, r.opts.Ordered)
	b, _, err := r.api.call(ctx, 0, "POST", "/projects/"+r.opts.Project+"/webhookEndpoints", body, 201)
	if err != nil {
		return err
	}
	var ep struct{ ID, Secret string }
	if err := jsonUnmarshal(b, &ep); err != nil || ep.Secret == "" {
		return fmt.Errorf("bench: endpoint answer without a secret: %.200s", b)
	}
	r.endpointIDs = append(r.endpointIDs, ep.ID)
	j, err := r.rcv.AddEndpoint(ep.Secret)
	if err != nil {
		return err
	}
	if j != i {
		return fmt.Errorf("bench: endpoint %d registered as %d", i, j)
	}
	return nil
}

// drive runs up to n lifecycles on the workers, until deadline when set;
// a lifecycle under way at the deadline stops at its next call.
func (r *runner) drive(ctx context.Context, n int, deadline time.Time, p *pacer) error {
	o := &r.opts
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	tag := randomTag()
	nums := &numberSource{}
	nums.k.Store(int64(randInt(1_000_000)) * 1000)
	// A lifecycle whose call fails is abandoned (its earlier events still
	// count) and the worker goes on; too many failures end the run.
	maxFailed := int64(max(10, min(n, 1_000_000)/10))
	ctx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	r.startClock()
	for w := range o.Workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				l := &lifecycle{c: r.api, t: r.trk, p: p, cat: r.cat, srv: w, n: i, run: tag, numbers: nums,
					path: "/projects/" + o.Project}
				if err := l.runOnce(ctx); err != nil {
					if ctx.Err() != nil {
						return
					}
					if r.failed.Add(1) > maxFailed {
						abort(fmt.Errorf("bench: more than %d lifecycles failed; the last, %d: %w", maxFailed, i, err))
					}
					continue
				}
				r.lifecycles.Add(1)
			}
		})
	}
	wg.Wait()
	r.apiDone = time.Now()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// deleteEndpoints deletes the endpoints the run created, so that a running
// server does not go on delivering to a receiver that is gone.
func (r *runner) deleteEndpoints() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, id := range r.endpointIDs {
		if _, _, err := r.api.call(ctx, 0, "DELETE", "/projects/"+r.opts.Project+"/webhookEndpoints/"+id, nil, 200); err != nil {
			r.opts.Log.Warn("bench: delete endpoint", "endpoint", id, "err", err)
		}
	}
}
