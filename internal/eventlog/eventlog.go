package eventlog

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/id"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/wirejson"
)

// DefaultSource is the event source when none is configured.
const DefaultSource = "https://api.gigs.com"

// Log records events. Build it with New.
type Log struct {
	source    string
	clock     clock.Source
	delivery  clock.Clock
	endpoints EndpointsIn
	notify    func()
	handoff   Handoff
}

// Config is what a Log is built with.
type Config struct {
	// Source is the events' source URI; DefaultSource when empty.
	Source string
	// Clock tells each project's time, the time of its events.
	Clock clock.Source
	// Delivery is the clock webhook delivery runs on (the wall clock when
	// nil): the deliveries queued are due at once by it.
	Delivery clock.Clock
	// Endpoints finds the webhook endpoints an event may go to
	// (endpoint.Targets).
	Endpoints EndpointsIn
	// Notify, when set, is called after a transaction that queued
	// deliveries for a claim commits, to wake the dispatcher.
	Notify func()
	// Handoff, when set, takes the deliveries that need no claim.
	Handoff Handoff
}

// New returns a log with the configuration; Clock and Endpoints are
// required.
func New(cfg Config) *Log {
	if cfg.Clock == nil || cfg.Endpoints == nil {
		panic("eventlog: New needs a Clock and Endpoints")
	}
	if cfg.Source == "" {
		cfg.Source = DefaultSource
	}
	if cfg.Delivery == nil {
		cfg.Delivery = clock.Wall{}
	}
	return &Log{source: cfg.Source, clock: cfg.Clock, delivery: cfg.Delivery, endpoints: cfg.Endpoints,
		notify: cfg.Notify, handoff: cfg.Handoff}
}

// Endpoints are a project's enabled webhook endpoints, as the log needs
// them to queue an event's deliveries.
type Endpoints interface {
	// Len returns how many endpoints there are.
	Len() int
	// ID returns the i-th endpoint's ID.
	ID(i int) string
	// Ordered reports whether the i-th endpoint takes events first in,
	// first out.
	Ordered(i int) bool
	// Matches reports whether the i-th endpoint wants events of the type.
	Matches(i int, eventType string) bool
}

// EndpointsIn returns the project's enabled webhook endpoints as tx sees
// them.
type EndpointsIn func(ctx context.Context, tx *store.Tx, project string) (Endpoints, error)

// Handoff takes deliveries straight from the transaction that queues them:
// they are queued claimed already, and handed over once it commits, so they
// go out at once, without a claim transaction of their own. If the process
// dies first, their lease ends and any dispatcher claims them, as it would
// rows whose dispatcher died mid-attempt. Deliveries to ordered endpoints
// are never handed off: only an endpoint's head may be claimed. The
// dispatcher implements it.
type Handoff interface {
	// Lease returns the claim under which n deliveries may be queued now,
	// its ID and the end of its lease; ok is false when the dispatcher has
	// no room for them, and they are queued for a claim.
	Lease(n int) (claimID string, until time.Time, ok bool)
	// Offer hands over deliveries queued under a Lease, and the events
	// they deliver, once their transaction has committed.
	Offer(ds []store.DeliveryRow, events []store.EventRow)
}

// Change is one event to record.
type Change struct {
	// Type is the event type, e.g. switchboard.TypePortingCanceled.
	Type string
	// Resource is the ID of the resource the event is about.
	Resource string
	// Data is the resource after the change, a wire type.
	Data any
	// Before, for *.updated events, is the resource before the change; the
	// event's previousData is the shallow diff of Before and Data.
	Before any
}

type actorKey struct{}

// WithActor returns a context that attributes the changes made under it to
// the actor.
func WithActor(ctx context.Context, a switchboard.Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the context's actor; the system when none was set.
func ActorFrom(ctx context.Context) switchboard.Actor {
	if a, ok := ctx.Value(actorKey{}).(switchboard.Actor); ok {
		return a
	}
	return switchboard.Actor{Type: switchboard.ActorSystem}
}

// lease claims the unordered deliveries of the queue for the handoff, if
// there is one and it has room, marking them with the claim; it reports
// whether it did.
func (l *Log) lease(queue []*store.DeliveryRow) bool {
	if l.handoff == nil {
		return false
	}
	n := 0
	for _, d := range queue {
		if !d.Ordered {
			n++
		}
	}
	if n == 0 {
		return false
	}
	claimID, until, ok := l.handoff.Lease(n)
	if !ok {
		return false
	}
	for _, d := range queue {
		if !d.Ordered {
			d.ClaimID, d.LeaseUntil = claimID, until
		}
	}
	return true
}

// handed copies the deliveries of the queue that lease claimed.
func handed(queue []*store.DeliveryRow) []store.DeliveryRow {
	var out []store.DeliveryRow
	for _, d := range queue {
		if d.ClaimID != "" {
			out = append(out, *d)
		}
	}
	return out
}

// Record appends the changes to the log of the project in tx and queues
// their deliveries. An *.updated change whose diff is empty is skipped: it
// changed nothing. It returns the recorded events.
func (l *Log) Record(ctx context.Context, tx *store.Tx, project string, changes ...Change) ([]store.EventRow, error) {
	now := clock.Second(l.clock.For(project).Now())
	queued := l.delivery.Now() // deliveries are due at once
	actor, err := wirejson.Marshal(ActorFrom(ctx))
	if err != nil {
		return nil, fmt.Errorf("eventlog: encode actor: %w", err)
	}
	source := l.source
	endpoints, err := l.endpoints(ctx, tx, project)
	if err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	// An ordered endpoint must receive the project's events in commit
	// order, even when several processes write: the events of this
	// transaction take their seqs only once earlier writers committed.
	if anyOrdered(endpoints) {
		if err := tx.SerializeEvents(ctx, project); err != nil {
			return nil, fmt.Errorf("eventlog: %w", err)
		}
	}
	var evs []*store.EventRow
	var queue []*store.DeliveryRow
	for _, c := range changes {
		data, err := wirejson.Marshal(c.Data)
		if err != nil {
			return nil, fmt.Errorf("eventlog: encode %s: %w", c.Type, err)
		}
		ev := &store.EventRow{
			ID: id.New(id.Event), Project: project, Type: c.Type, Resource: c.Resource,
			Time: now, Source: source, Data: data, Actor: actor,
		}
		if c.Before != nil {
			before, err := wirejson.Marshal(c.Before)
			if err != nil {
				return nil, fmt.Errorf("eventlog: encode %s: %w", c.Type, err)
			}
			diff, err := Diff(before, data)
			if err != nil {
				return nil, fmt.Errorf("eventlog: diff %s: %w", c.Type, err)
			}
			if diff == nil {
				continue
			}
			ev.PreviousData = diff
		}
		evs = append(evs, ev)
		for i := range endpoints.Len() {
			if !endpoints.Matches(i, ev.Type) {
				continue
			}
			queue = append(queue, &store.DeliveryRow{
				ID: id.New(id.Delivery), Project: project, EndpointID: endpoints.ID(i), EventID: ev.ID,
				Status: store.DeliveryPending, Ordered: endpoints.Ordered(i), NextAttemptAt: queued,
				CreatedAt: queued, UpdatedAt: queued,
			})
		}
	}
	leased := l.lease(queue)
	// The events and their deliveries in one go: their seqs are set by it.
	if err := tx.AppendEvents(ctx, evs, queue); err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	out := make([]store.EventRow, len(evs))
	for i, ev := range evs {
		out[i] = *ev
	}
	if leased {
		hand := handed(queue)
		tx.AfterCommit(func() { l.handoff.Offer(hand, out) })
	}
	if !allLeased(queue) && l.notify != nil {
		tx.AfterCommit(l.notify)
	}
	return out, nil
}

// allLeased reports whether every delivery of the queue is claimed for
// the handoff (none is left for the dispatchers' claims).
func allLeased(queue []*store.DeliveryRow) bool {
	for _, d := range queue {
		if d.ClaimID == "" {
			return false
		}
	}
	return true
}

// anyOrdered reports whether one of the endpoints is ordered.
func anyOrdered(es Endpoints) bool {
	for i := range es.Len() {
		if es.Ordered(i) {
			return true
		}
	}
	return false
}
