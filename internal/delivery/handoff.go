package delivery

import (
	"context"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// The handoff: a transaction that queues deliveries asks the dispatcher for
// a lease (Lease) and queues them claimed already; once it commits, it hands
// them over (Offer) and they go out at once. A fresh delivery then costs no
// claim transaction — on SQLite one more turn of the single writer, which
// also sat between the commit and the attempt — and a process that dies
// before attempting them leaves rows whose lease ends, as a claim would.

// Lease implements eventlog.Handoff: it lets n deliveries be queued claimed
// by this dispatcher while it runs and has room for them beside those in
// flight and those handed over already.
func (d *Dispatcher) Lease(n int) (claimID string, until time.Time, ok bool) {
	if !d.accepting.Load() {
		return "", time.Time{}, false
	}
	d.hmu.Lock()
	waiting := len(d.handed)
	d.hmu.Unlock()
	if d.InFlight()+waiting+n > d.maxInFlight {
		return "", time.Time{}, false
	}
	return d.newClaimID(), time.Now().Add(d.cfg.Lease), true
}

// handedDelivery is a delivery handed over with its event, which its
// dispatch then need not load.
type handedDelivery struct {
	d  store.DeliveryRow
	ev *store.EventRow
}

// Offer implements eventlog.Handoff: it takes deliveries queued under a
// Lease, and their events, once their transaction has committed. It never
// blocks: it runs in the committing goroutine, on SQLite the store's writer.
func (d *Dispatcher) Offer(ds []store.DeliveryRow, events []store.EventRow) {
	byID := make(map[string]*store.EventRow, len(events))
	for i := range events {
		byID[events[i].ID] = &events[i]
	}
	d.hmu.Lock()
	for _, dl := range ds {
		d.handed = append(d.handed, handedDelivery{d: dl, ev: byID[dl.EventID]})
	}
	d.hmu.Unlock()
	d.offer()
}

// offer tells the dispatcher's loop that handed-over deliveries wait.
func (d *Dispatcher) offer() {
	select {
	case d.offered <- struct{}{}:
	default:
	}
}

// handedWaiting reports whether handed-over deliveries wait for room.
func (d *Dispatcher) handedWaiting() bool {
	d.hmu.Lock()
	defer d.hmu.Unlock()
	return len(d.handed) > 0
}

// takeHanded dispatches up to room of the deliveries handed over, and
// returns how many it took. One whose lease would end before an attempt
// could finish is left to its lease: a claim takes it once the lease ends.
func (d *Dispatcher) takeHanded(ctx context.Context, room int) int {
	if room <= 0 {
		return 0
	}
	d.hmu.Lock()
	n := min(room, len(d.handed))
	batch := make([]handedDelivery, n)
	copy(batch, d.handed)
	d.handed = append(d.handed[:0], d.handed[n:]...)
	d.hmu.Unlock()
	if n == 0 {
		return 0
	}
	keep := make([]store.DeliveryRow, 0, n)
	known := make(map[string]store.EventRow, n)
	deadline := time.Now().Add(d.cfg.Timeout + time.Second)
	for _, h := range batch {
		if !h.d.LeaseUntil.After(deadline) {
			continue
		}
		keep = append(keep, h.d)
		if h.ev != nil {
			known[h.ev.ID] = *h.ev
		}
	}
	if len(keep) == 0 {
		return n
	}
	d.inflight.Add(int64(len(keep)))
	d.m.taken.WithLabelValues(takenHanded).Add(float64(len(keep)))
	if err := d.dispatch(ctx, keep, known); err != nil && ctx.Err() == nil {
		d.log.Error("delivery: dispatch handed deliveries", "err", err)
	}
	return n
}

// releaseHanded releases what was handed over and not taken: on shutdown, so
// that another process, or this one restarted, need not wait for the leases.
func (d *Dispatcher) releaseHanded() {
	d.hmu.Lock()
	left := d.handed
	d.handed = nil
	d.hmu.Unlock()
	d.inflight.Add(int64(len(left)))
	for _, h := range left {
		d.results <- release(&job{d: h.d}, h.d.NextAttemptAt)
	}
}
