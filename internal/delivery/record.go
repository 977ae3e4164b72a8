package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// record writes outcomes as they come, as many as have queued up in one
// transaction, until the workers are done. Unless something waits for the
// room recording frees (due or handed-over deliveries, an ordered
// endpoint's next head), it lets RecordDelay pass for more to join the
// batch: at a moderate rate results come one at a time, and a transaction
// each doubled the writer's commits.
func (d *Dispatcher) record() {
	batch := make([]*outcome, 0, d.cfg.BatchSize)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	defer linger.Stop()
	for o := range d.results {
		batch = append(batch[:0], o)
	drain:
		for len(batch) < cap(batch) {
			select {
			case o, ok := <-d.results:
				if !ok {
					break drain
				}
				batch = append(batch, o)
			default:
				break drain
			}
		}
		if d.cfg.RecordDelay > 0 && len(batch) < cap(batch) && !d.pressed(batch) {
			linger.Reset(d.cfg.RecordDelay)
		wait:
			for len(batch) < cap(batch) {
				select {
				case o, ok := <-d.results:
					if !ok {
						break wait
					}
					batch = append(batch, o)
					if o.j.d.Ordered {
						break wait
					}
				case <-linger.C:
					break wait
				}
			}
			linger.Stop()
		}
		d.flush(batch)
	}
}

// pressed reports whether something waits for the batch to be recorded.
func (d *Dispatcher) pressed(batch []*outcome) bool {
	return d.starved.Load() || hasOrdered(batch) || d.handedWaiting()
}

// flush records a batch, retrying while the database is unavailable; a
// stopping dispatcher gives up after a few tries and lets the leases end.
func (d *Dispatcher) flush(batch []*outcome) {
	ctx := context.Background()
	for try := 1; ; try++ {
		// Lazily committed: a result lost in a crash of PostgreSQL means
		// the delivery is sent again (store.UpdateLazy).
		err := d.store.UpdateLazy(ctx, func(tx *store.Tx) error { return d.write(ctx, tx, batch) })
		if err == nil {
			break
		}
		d.log.Error("delivery: record results", "results", len(batch), "try", try, "err", err)
		select {
		case <-d.stopping:
			if try >= 3 {
				d.log.Warn("delivery: results not recorded; their leases will end", "results", len(batch))
				d.inflight.Add(-int64(len(batch)))
				return
			}
		default:
		}
		time.Sleep(min(time.Duration(try)*100*time.Millisecond, 2*time.Second))
	}
	d.inflight.Add(-int64(len(batch)))
	// Room for more: claim at once if due deliveries waited for it, or if
	// an ordered endpoint may have a new head (it waits for nothing else);
	// and soon if a delivery went back to the queue. A batch of successes of
	// unordered deliveries leaves nothing to claim: fresh deliveries wake
	// the dispatcher themselves, or are handed to it.
	switch {
	case d.starved.Load() || hasOrdered(batch):
		d.urgent.Store(true)
		d.Wake()
	case requeued(batch):
		d.Wake()
	}
	if d.handedWaiting() {
		d.offer() // room for them, without a claim
	}
}

// requeued reports whether a delivery of the batch went back to the queue:
// released, or failed and due again.
func requeued(batch []*outcome) bool {
	for _, o := range batch {
		if o.release || !o.success {
			return true
		}
	}
	return false
}

func hasOrdered(batch []*outcome) bool {
	for _, o := range batch {
		if o.j.d.Ordered {
			return true
		}
	}
	return false
}

// health is what one batch says about one endpoint.
type health struct {
	t         *target
	succeeded bool      // the latest recorded attempt succeeded
	failing   time.Time // the first failure after the latest success
	gone      bool
	deferTo   time.Time
}

// write records a batch in tx: each release and attempt where the claim
// still holds (the attempts in a few multi-row statements), then what the
// batch means for each endpoint's health.
func (d *Dispatcher) write(ctx context.Context, tx *store.Tx, batch []*outcome) error {
	applied := make([]bool, len(batch))
	results := make([]store.Result, 0, len(batch))
	var releases []store.Release
	var released []int // their indexes in batch
	for i, o := range batch {
		if !o.release {
			results = append(results, o.res)
			continue
		}
		releases = append(releases, store.Release{DeliveryID: o.j.d.ID, ClaimID: o.j.d.ClaimID, NextAttemptAt: o.next,
			Seen: o.j.d.UpdatedAt})
		released = append(released, i)
	}
	if len(releases) > 0 {
		ok, err := tx.ReleaseDeliveries(ctx, releases)
		if err != nil {
			return err
		}
		for k, i := range released {
			applied[i] = ok[k]
		}
	}
	recorded, err := tx.RecordResults(ctx, results)
	if err != nil {
		return err
	}
	var hs map[*target]*health
	k := 0
	for i, o := range batch {
		if o.release {
			continue
		}
		ok := recorded[k]
		k++
		applied[i] = ok
		if !ok {
			continue
		}
		if hs == nil {
			hs = map[*target]*health{}
		}
		h := hs[o.j.t]
		if h == nil {
			h = &health{t: o.j.t}
			hs[o.j.t] = h
		}
		if o.success {
			h.succeeded, h.failing = true, time.Time{}
		} else {
			h.succeeded = false
			if h.failing.IsZero() {
				h.failing = o.res.Attempt.At
			}
		}
		h.gone = h.gone || o.gone
		if o.defer_.After(h.deferTo) {
			h.deferTo = o.defer_
		}
	}
	var after []func()
	for _, h := range hs {
		fn, err := d.judge(ctx, tx, h)
		if err != nil {
			return err
		}
		if fn != nil {
			after = append(after, fn)
		}
	}
	tx.AfterCommit(func() {
		for _, fn := range after {
			fn()
		}
		d.m.recorded(batch, applied)
	})
	return nil
}

// judge applies a batch's news to an endpoint in tx: a 410 disables it; a
// success ends a failing spell; a failure starts one, or disables the
// endpoint when the spell has lasted the disable window. It writes the
// endpoint only when its state changes, and returns what to update in
// memory once tx commits.
func (d *Dispatcher) judge(ctx context.Context, tx *store.Tx, h *health) (func(), error) {
	t := h.t
	if !h.deferTo.IsZero() {
		if err := tx.DeferDeliveries(ctx, t.id, h.deferTo); err != nil {
			return nil, err
		}
	}
	now := d.clock.Now()
	t.mu.Lock()
	known, disabled := t.failingSince, t.disabled
	t.mu.Unlock()
	if disabled {
		return nil, nil
	}
	switch {
	case h.gone:
	case h.succeeded && known == nil:
		return nil, nil
	case !h.succeeded && known != nil && now.Sub(*known) < d.cfg.DisableAfter:
		return nil, nil
	}
	var e endpoint.Endpoint
	if err := tx.GetForUpdate(ctx, endpoint.Kind, t.project, t.id, &e); errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if e.Status != endpoint.Enabled {
		return func() { t.setDisabled() }, nil
	}
	if h.gone {
		d.log.Warn("delivery: endpoint answered 410 Gone; disabled", "endpoint", t.id)
		if err := endpoint.Disable(ctx, tx, &e, "The endpoint answered 410 Gone.", now); err != nil {
			return nil, err
		}
		return func() { t.setDisabled() }, nil
	}
	if h.succeeded {
		e.FailingSince = nil
		if err := tx.Put(ctx, e.Record()); err != nil {
			return nil, fmt.Errorf("delivery: endpoint %s healthy: %w", t.id, err)
		}
		return func() { t.setFailingSince(nil) }, nil
	}
	since := e.FailingSince
	if since == nil {
		since = &h.failing
	}
	if now.Sub(*since) >= d.cfg.DisableAfter {
		d.log.Warn("delivery: endpoint failing for the disable window; disabled", "endpoint", t.id, "failingSince", *since)
		e.FailingSince = since
		reason := fmt.Sprintf("Every delivery failed since %s.", since.UTC().Format(time.RFC3339))
		if err := endpoint.Disable(ctx, tx, &e, reason, now); err != nil {
			return nil, err
		}
		return func() { t.setDisabled() }, nil
	}
	if e.FailingSince == nil {
		e.FailingSince = since
		if err := tx.Put(ctx, e.Record()); err != nil {
			return nil, fmt.Errorf("delivery: endpoint %s failing: %w", t.id, err)
		}
	}
	return func() { t.setFailingSince(since) }, nil
}

func (t *target) setDisabled() {
	t.mu.Lock()
	t.disabled = true
	t.mu.Unlock()
}

func (t *target) setFailingSince(since *time.Time) {
	t.mu.Lock()
	t.failingSince = since
	t.mu.Unlock()
}
