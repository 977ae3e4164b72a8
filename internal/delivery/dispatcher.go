package delivery

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Dispatcher delivers due deliveries. Build it with New and run it with
// Run; Wake tells it that deliveries may have come due.
//
// One loop claims batches of due deliveries (as many as there is room for
// in flight), a pool of workers attempts them, and one recorder writes the
// results in batches, each batch in one transaction, only where the claim
// still holds. Every decision about time (what is due, when to retry, when
// an endpoint has failed for too long) reads the dispatcher's clock, which
// the server gives the wall clock: no project's test clock moves delivery,
// so one project cannot hurry another's retries or disable its endpoints.
// Leases read the wall clock.
type Dispatcher struct {
	cfg    Config
	store  *store.Store
	clock  clock.Clock
	log    *slog.Logger
	client *http.Client
	m      *metrics

	maxInFlight int
	inflight    atomic.Int64 // claimed and not yet recorded
	wake        chan struct{}
	fair        *fairness // the jobs, per endpoint, on their way to the workers
	results     chan *outcome
	// urgent, set before a wake, says to claim at once: room was made
	// while due deliveries waited, or an ordered endpoint may have a new
	// head.
	urgent  atomic.Bool
	starved atomic.Bool // the last claim stopped for want of room

	// The handoff (handoff.go): deliveries queued claimed by this
	// dispatcher, waiting to be dispatched.
	accepting atomic.Bool   // Lease may grant leases: Run is running
	ready     chan struct{} // closed once Run accepts handoffs
	hmu       sync.Mutex    // guards handed
	handed    []handedDelivery
	offered   chan struct{} // an Offer came

	mu      sync.Mutex
	targets map[string]*target // by endpoint ID

	stopping   chan struct{}      // closed when Run's context ends
	sendCtx    context.Context    // ends when the shutdown grace period does
	cancelSend context.CancelFunc //
	ran        atomic.Bool
}

// job is one claimed delivery, rendered, on its way to a worker.
type job struct {
	d    store.DeliveryRow
	t    *target
	body []byte
}

// outcome is what became of a job: an attempt to record, or a release.
type outcome struct {
	j       *job
	release bool
	next    time.Time // release: when the delivery is due again
	res     store.Result
	success bool
	gone    bool      // the endpoint answered 410 Gone
	defer_  time.Time // the endpoint asked to be left alone until then
}

// New returns a dispatcher over the store. Its clock is the server's wall
// clock (tests move it), never a project's test clock.
func New(st *store.Store, clk clock.Clock, cfg Config) *Dispatcher {
	if cfg.Recorders <= 0 && !st.SingleWriter() {
		cfg.Recorders = DefaultPostgresRecorders
	}
	cfg.defaults()
	d := &Dispatcher{
		cfg: cfg, store: st, clock: clk, log: cfg.Logger, client: newClient(cfg),
		maxInFlight: max(2*cfg.Workers, cfg.BatchSize),
		wake:        make(chan struct{}, 1),
		offered:     make(chan struct{}, 1),
		ready:       make(chan struct{}),
		targets:     map[string]*target{},
		stopping:    make(chan struct{}),
	}
	d.fair = newFairness(cfg, clk.Now)
	d.results = make(chan *outcome, d.maxInFlight)
	d.sendCtx, d.cancelSend = context.WithCancel(context.Background())
	d.m = newMetrics(cfg.Registerer, d)
	return d
}

// Wake tells the dispatcher that deliveries may be due: it claims at once
// instead of at its next poll. It never blocks. A process that learns of
// new deliveries from elsewhere (PostgreSQL LISTEN/NOTIFY) calls it too.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// InFlight returns how many deliveries are claimed and not yet recorded.
func (d *Dispatcher) InFlight() int { return int(d.inflight.Load()) }

// Ready is closed once Run has started and takes deliveries handed over
// by committing transactions (before, Lease refuses and they are claimed).
func (d *Dispatcher) Ready() <-chan struct{} { return d.ready }

// Run delivers until ctx ends, then shuts down gracefully: it stops
// claiming, releases the deliveries no worker has started, lets attempts in
// flight finish within the shutdown grace period (cancelling and releasing
// the rest), records every result and returns. It runs once.
func (d *Dispatcher) Run(ctx context.Context) error {
	if d.ran.Swap(true) {
		return errors.New("delivery: Run called twice")
	}
	var workers sync.WaitGroup
	for range d.cfg.Workers {
		workers.Go(d.work)
	}
	// One recorder on SQLite, whose single writer batches anyway; several
	// on PostgreSQL, so that results are recorded while other batches
	// commit.
	var recorders sync.WaitGroup
	for range d.cfg.Recorders {
		recorders.Go(d.record)
	}
	poll := time.NewTicker(d.cfg.PollInterval)
	defer poll.Stop()
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	d.accepting.Store(true)
	close(d.ready)
	claim := true
loop:
	for {
		if claim {
			d.claim(ctx)
		}
		claim = true
		select {
		case <-ctx.Done():
			break loop
		case <-d.offered:
			// Handed-over deliveries need no claim transaction.
			d.takeHanded(ctx, d.maxInFlight-d.InFlight())
			claim = false
		case <-d.wake:
			if d.urgent.Swap(false) || d.cfg.ClaimDelay < 0 {
				continue
			}
			// Let the commits that follow this one join its claim.
			settle.Reset(d.cfg.ClaimDelay)
		wait:
			for {
				select {
				case <-ctx.Done():
					break loop
				case <-settle.C:
					break wait
				case <-d.wake:
					if d.urgent.Swap(false) {
						settle.Stop()
						break wait
					}
				}
			}
		case <-poll.C:
		}
	}
	d.log.Info("delivery: stopping", "inFlight", d.InFlight(), "grace", d.cfg.ShutdownGrace.String())
	d.accepting.Store(false)
	close(d.stopping)
	grace := time.AfterFunc(d.cfg.ShutdownGrace, d.cancelSend)
	defer grace.Stop()
	d.fair.close()
	workers.Wait()
	d.releaseHanded()
	close(d.results)
	recorders.Wait()
	d.cancelSend()
	d.log.Info("delivery: stopped")
	return nil
}

// claim dispatches what was handed over, then claims batches while
// deliveries are due and there is room.
func (d *Dispatcher) claim(ctx context.Context) {
	for ctx.Err() == nil {
		free := d.maxInFlight - d.InFlight()
		free -= d.takeHanded(ctx, free)
		d.starved.Store(free <= 0)
		if free <= 0 {
			return
		}
		skip, room := d.fair.claimable()
		want := min(free, d.cfg.BatchSize, room)
		got, err := d.claimBatch(ctx, want, skip)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("delivery: claim", "err", err)
			}
			return
		}
		if got < want {
			return
		}
		if want == room && room < min(free, d.cfg.BatchSize) {
			// The endpoints' lanes are full, not the dispatcher: claim
			// again as soon as results make room in them.
			d.starved.Store(true)
			return
		}
	}
}

// newClaimID returns a fresh claim ID, which begins with the process's
// prefix (store.ProcessClaimPrefix) when the configuration names the
// process.
func (d *Dispatcher) newClaimID() string {
	b := make([]byte, 12)
	rand.Read(b)
	if d.cfg.Process == "" {
		return hex.EncodeToString(b)
	}
	return store.ProcessClaimPrefix(d.cfg.Process) + hex.EncodeToString(b)
}

// claimBatch claims up to n due deliveries, passing over the endpoints in
// skip, loads their events and
// endpoints in one read, renders each event once per version, and hands
// the jobs to the workers.
func (d *Dispatcher) claimBatch(ctx context.Context, n int, skip []string) (int, error) {
	claim := store.Claim{ID: d.newClaimID(), Now: d.clock.Now(), Wall: time.Now(), Lease: d.cfg.Lease, Limit: n, Skip: skip}
	var ds []store.DeliveryRow
	err := d.store.UpdateLazy(ctx, func(tx *store.Tx) error {
		var err error
		ds, err = tx.ClaimDeliveries(ctx, claim)
		return err
	})
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	d.inflight.Add(int64(len(ds)))
	d.m.taken.WithLabelValues(takenClaimed).Add(float64(len(ds)))
	return len(ds), d.dispatch(ctx, ds, nil)
}

// dispatch loads the events (those not known already) and endpoints of
// deliveries this dispatcher holds (counted in flight already) in one read,
// renders each event once per version, and hands the jobs to the workers;
// what it cannot attempt it releases.
func (d *Dispatcher) dispatch(ctx context.Context, ds []store.DeliveryRow, known map[string]store.EventRow) error {
	eventIDs := make([]string, 0, len(ds))
	endpointIDs := make([]string, 0, 4)
	seenEP := make(map[string]bool, 4)
	for i := range ds {
		if _, ok := known[ds[i].EventID]; !ok {
			eventIDs = append(eventIDs, ds[i].EventID)
		}
		if !seenEP[ds[i].EndpointID] {
			seenEP[ds[i].EndpointID] = true
			endpointIDs = append(endpointIDs, ds[i].EndpointID)
		}
	}
	var events map[string]store.EventRow
	var bodies map[string][]byte
	// The rows are claimed: load what they need even if ctx ends now, so
	// that they are attempted or released, not left to their lease.
	rctx := context.WithoutCancel(ctx)
	err := d.store.View(rctx, func(tx *store.Tx) error {
		var err error
		if len(eventIDs) > 0 {
			if events, err = tx.EventsByID(rctx, eventIDs); err != nil {
				return err
			}
		}
		bodies, err = tx.Bodies(rctx, endpoint.Kind, endpointIDs)
		return err
	})
	if err != nil {
		for i := range ds {
			d.results <- &outcome{j: &job{d: ds[i]}, release: true, next: ds[i].NextAttemptAt}
		}
		return fmt.Errorf("delivery: load claimed batch: %w", err)
	}
	renders := make(map[string][]byte, len(events))
	for i := range ds {
		dl := ds[i]
		t := d.target(dl.EndpointID, bodies[dl.EndpointID])
		ev, ok := known[dl.EventID]
		if !ok {
			ev, ok = events[dl.EventID]
		}
		if t == nil || !ok { // deleted under us: release, the row is gone or will be
			d.results <- &outcome{j: &job{d: dl}, release: true, next: dl.NextAttemptAt}
			continue
		}
		key := dl.EventID + "@" + t.version
		body, ok := renders[key]
		if !ok {
			if body, err = eventlog.Render(ev, t.version); err != nil {
				d.log.Error("delivery: render", "event", dl.EventID, "version", t.version, "err", err)
				d.results <- &outcome{j: &job{d: dl}, release: true, next: d.clock.Now().Add(d.cfg.Lease)}
				continue
			}
			renders[key] = body
		}
		j := &job{d: dl, t: t, body: body}
		if ok, next := d.fair.push(j); !ok {
			t.mu.Lock()
			next = later(next, t.notBefore) // nor before the endpoint asked
			t.mu.Unlock()
			d.results <- release(j, next)
		}
	}
	return nil
}

// target returns the endpoint compiled from its stored body, reusing the
// compilation while the body is unchanged; nil when there is none.
func (d *Dispatcher) target(endpointID string, body []byte) *target {
	if body == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	old := d.targets[endpointID]
	if old != nil && old.body == string(body) {
		return old
	}
	t, err := compile(body, d.cfg.Keys)
	if err != nil {
		d.log.Error("delivery: endpoint", "endpoint", endpointID, "err", err)
		return nil
	}
	if old != nil {
		t.inherit(old)
		if old.url != t.url || !sameTime(old.resumedAt, t.resumedAt) {
			d.fair.reset(endpointID) // pointed elsewhere or enabled again: try it at once
		}
	}
	d.targets[endpointID] = t
	return t
}

// work attempts jobs, as the scheduler hands them out, until the dispatcher
// stops.
func (d *Dispatcher) work() {
	for {
		j, ok := d.fair.next()
		if !ok {
			return
		}
		started := time.Now()
		o := d.handle(j)
		dropped, next := d.fair.done(j, o, started)
		d.results <- o
		for _, dj := range dropped {
			d.results <- release(dj, later(dj.d.NextAttemptAt, next))
		}
	}
}

func release(j *job, next time.Time) *outcome {
	return &outcome{j: j, release: true, next: next}
}

// handle attempts one job, unless the dispatcher is stopping, the endpoint
// was disabled or asked to be left alone, or its rate limit says to wait
// too long: then it releases the delivery.
func (d *Dispatcher) handle(j *job) *outcome {
	select {
	case <-d.stopping:
		return release(j, j.d.NextAttemptAt)
	default:
	}
	// A job that waited so long in its lane that its lease would end
	// before the attempt could finish goes back: another claim could take
	// it meanwhile.
	if !j.d.LeaseUntil.IsZero() && j.d.LeaseUntil.Before(time.Now().Add(d.cfg.Timeout)) {
		return release(j, j.d.NextAttemptAt)
	}
	t := j.t
	now := d.clock.Now()
	t.mu.Lock()
	disabled, notBefore := t.disabled, t.notBefore
	t.mu.Unlock()
	switch {
	case disabled:
		return release(j, j.d.NextAttemptAt)
	case now.Before(notBefore):
		return release(j, notBefore)
	}
	if t.limiter != nil {
		wait, ok := t.limiter.reserve(time.Now(), d.cfg.MaxHold)
		if !ok {
			return release(j, now.Add(wait))
		}
		if wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-d.stopping:
				timer.Stop()
				return release(j, j.d.NextAttemptAt)
			}
		}
	}
	return d.attempt(j)
}

// bufPool holds the signature header buffers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// attempt POSTs the job's event to its endpoint and judges the answer.
func (d *Dispatcher) attempt(j *job) *outcome {
	t := j.t
	ctx, cancel := context.WithTimeout(d.sendCtx, d.cfg.Timeout)
	defer cancel()
	start := time.Now()
	bp := bufPool.Get().(*[]byte)
	sig := t.appendSignature((*bp)[:0], d.clock.Now(), j.d.EventID, start.Unix(), j.body)
	var peer *peerWatch
	if d.cfg.HidePrivateResponses {
		peer = &peerWatch{}
		ctx = peer.watch(ctx)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(j.body))
	if err != nil {
		*bp = sig
		bufPool.Put(bp)
		return d.failed(j, 0, "", ReasonInvalidURL, 0, nil)
	}
	req.Header = http.Header{
		"Content-Type":      {"application/json"},
		"User-Agent":        {"Switchboard-Webhooks/1"},
		"webhook-id":        {j.d.EventID},
		"webhook-timestamp": {strconv.FormatInt(start.Unix(), 10)},
		"webhook-signature": {string(sig)},
	}
	*bp = sig
	bufPool.Put(bp)
	resp, err := d.client.Do(req)
	if err != nil {
		latency := time.Since(start)
		if d.sendCtx.Err() != nil { // cut short by shutdown: not the endpoint's fault
			return release(j, j.d.NextAttemptAt)
		}
		return d.failed(j, 0, "", reason(err), latency, nil)
	}
	// The body is read within BodyTimeout (and the attempt's timeout), and
	// the latency includes it: a slow body holds a worker as a slow answer
	// does.
	cut := time.AfterFunc(d.cfg.BodyTimeout, cancel)
	body := keptBody(peer, readBody(resp.Body))
	cut.Stop()
	resp.Body.Close()
	latency := time.Since(start)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return &outcome{j: j, success: true, res: store.Result{
			DeliveryID: j.d.ID, ClaimID: j.d.ClaimID, Status: store.DeliverySucceeded, NextAttemptAt: d.clock.Now(),
			Attempt: store.Attempt{At: d.clock.Now(), StatusCode: resp.StatusCode, ResponseBody: body, Latency: latency},
		}}
	}
	msg := ""
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		msg = ReasonRedirect
	}
	return d.failed(j, resp.StatusCode, body, msg, latency, resp.Header)
}

// readBody returns the first MaxResponseBody bytes of a response body as
// valid UTF-8 text, and drains up to 64 KiB more so the connection can be
// reused (a longer body, or one cut off by the body timeout, closes it). A
// body cut short changes nothing of the verdict: the status decides, so a
// 2xx whose body is too long or too slow is a success.
func readBody(r io.Reader) string {
	var buf [MaxResponseBody]byte
	n, _ := io.ReadFull(r, buf[:])
	io.CopyN(io.Discard, r, 64<<10)
	return sanitize(string(buf[:n]))
}

// sanitize makes text storable in any backend: valid UTF-8 without NULs.
func sanitize(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return sanitize(s[:n])
	}
	return sanitize(s)
}

// failed judges a failed attempt: retry on the schedule (no earlier than
// the endpoint asked), or give up when the schedule is exhausted.
func (d *Dispatcher) failed(j *job, status int, body, msg string, latency time.Duration, h http.Header) *outcome {
	now := d.clock.Now()
	o := &outcome{j: j, gone: status == http.StatusGone, res: store.Result{
		DeliveryID: j.d.ID, ClaimID: j.d.ClaimID, Status: store.DeliveryPending,
		Attempt: store.Attempt{At: now, StatusCode: status, ResponseBody: body, Latency: latency, Error: truncate(msg, 500)},
	}}
	if k := j.d.Attempts - j.d.RetryBase; k < len(d.cfg.Schedule) {
		o.res.NextAttemptAt = now.Add(d.jitter(d.cfg.Schedule[k]))
	} else {
		o.res.Status, o.res.NextAttemptAt = store.DeliveryFailed, now
	}
	if slowsDown(status) {
		wait, ok := retryAfter(h.Get("Retry-After"), time.Now())
		if !ok {
			wait = d.cfg.SlowDown
		}
		until := now.Add(min(wait, d.cfg.MaxRetryAfter))
		o.defer_ = until
		if o.res.Status == store.DeliveryPending && o.res.NextAttemptAt.Before(until) {
			o.res.NextAttemptAt = until
		}
		t := j.t
		t.mu.Lock()
		if until.After(t.notBefore) {
			t.notBefore = until
		}
		t.mu.Unlock()
	}
	return o
}

// jitter spreads a delay by up to ± the configured fraction.
func (d *Dispatcher) jitter(delay time.Duration) time.Duration {
	if d.cfg.Jitter <= 0 {
		return delay
	}
	return time.Duration(float64(delay) * (1 + d.cfg.Jitter*(2*mrand.Float64()-1)))
}
