package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/id"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Queue is the delivery queue as operators see it: what became of each
// delivery, and sending deliveries again. Set Store and Clock.
type Queue struct {
	Store *store.Store
	Clock clock.Clock
	// Notify, when set, is called after deliveries were queued, to wake
	// the dispatcher.
	Notify func()
}

// Delivery is a delivery with its attempts, oldest first.
type Delivery struct {
	store.DeliveryRow
	Attempts []store.Attempt
}

// ForEndpoint returns a page of the endpoint's deliveries, newest first.
func (q *Queue) ForEndpoint(ctx context.Context, project, endpointID string, p store.Page) ([]Delivery, store.Cursors, error) {
	return q.list(ctx, store.DeliveryQuery{Project: project, EndpointID: endpointID, Page: p}, func(tx *store.Tx) error {
		var e endpoint.Endpoint
		return notFound(tx.GetForUpdate(ctx, endpoint.Kind, project, endpointID, &e), "webhookEndpoint", endpointID)
	})
}

// ForEvent returns a page of the event's deliveries, newest first.
func (q *Queue) ForEvent(ctx context.Context, project, eventID string, p store.Page) ([]Delivery, store.Cursors, error) {
	return q.list(ctx, store.DeliveryQuery{Project: project, EventID: eventID, Page: p}, func(tx *store.Tx) error {
		_, err := tx.GetEvent(ctx, project, eventID)
		return notFound(err, "event", eventID)
	})
}

func notFound(err error, resource, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return failure.New(failure.NotFound, resource+"NotFound", "The %s %s was not found.", resource, id)
	}
	return err
}

func (q *Queue) list(ctx context.Context, dq store.DeliveryQuery, exists func(*store.Tx) error) ([]Delivery, store.Cursors, error) {
	var out []Delivery
	var cur store.Cursors
	err := q.Store.View(ctx, func(tx *store.Tx) error {
		if err := exists(tx); err != nil {
			return err
		}
		ds, c, err := tx.ListDeliveries(ctx, dq)
		if err != nil {
			return err
		}
		cur = c
		ids := make([]string, len(ds))
		for i := range ds {
			ids[i] = ds[i].ID
		}
		attempts, err := tx.AttemptsOf(ctx, ids)
		if err != nil {
			return err
		}
		out = make([]Delivery, len(ds))
		for i := range ds {
			out[i] = Delivery{DeliveryRow: ds[i], Attempts: attempts[ds[i].ID]}
		}
		return nil
	})
	if err != nil {
		return nil, store.Cursors{}, fmt.Errorf("delivery: list: %w", err)
	}
	return out, cur, nil
}

// Resend queues the event again, due now, for one endpoint (endpointID) or
// for every enabled endpoint that wants its type. An existing delivery is
// queued again (it keeps its webhook-id, the event's ID); an endpoint that
// never had the event gets a new delivery. Deliveries to a disabled
// endpoint wait, paused, until it is enabled. It returns the deliveries.
func (q *Queue) Resend(ctx context.Context, project, eventID, endpointID string) ([]store.DeliveryRow, error) {
	var out []store.DeliveryRow
	err := q.Store.Update(ctx, func(tx *store.Tx) error {
		out = out[:0]
		ev, err := tx.GetEvent(ctx, project, eventID)
		if err != nil {
			return notFound(err, "event", eventID)
		}
		var targets []endpoint.Endpoint
		if endpointID != "" {
			var e endpoint.Endpoint
			if err := tx.GetForUpdate(ctx, endpoint.Kind, project, endpointID, &e); err != nil {
				return notFound(err, "webhookEndpoint", endpointID)
			}
			if !e.Matches(ev.Type) {
				return failure.New(failure.Invalid, "eventNotEnabled",
					"The webhook endpoint %s does not receive events of type %s.", endpointID, ev.Type)
			}
			targets = []endpoint.Endpoint{e}
		} else {
			all, err := endpoint.EnabledIn(ctx, tx, project)
			if err != nil {
				return err
			}
			for _, e := range all {
				if e.Matches(ev.Type) {
					targets = append(targets, e)
				}
			}
		}
		now := q.Clock.Now()
		for _, e := range targets {
			d, err := q.requeue(ctx, tx, ev, e, now)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		if len(out) > 0 && q.Notify != nil {
			tx.AfterCommit(q.Notify)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delivery: resend %s: %w", eventID, err)
	}
	return out, nil
}

func (q *Queue) requeue(ctx context.Context, tx *store.Tx, ev store.EventRow, e endpoint.Endpoint, now time.Time) (store.DeliveryRow, error) {
	paused := e.Status != endpoint.Enabled
	d, err := tx.DeliveryOf(ctx, ev.ID, e.ID)
	switch {
	case err == nil:
		if err := tx.RequeueDelivery(ctx, d.ID, now, paused); err != nil {
			return store.DeliveryRow{}, err
		}
		d.Status, d.NextAttemptAt, d.Paused, d.RetryBase, d.UpdatedAt = store.DeliveryPending, now, paused, d.Attempts, now
		return d, nil
	case errors.Is(err, store.ErrNotFound):
		d = store.DeliveryRow{
			ID: id.New(id.Delivery), Project: ev.Project, EndpointID: e.ID, EventID: ev.ID, EventSeq: ev.Seq,
			Status: store.DeliveryPending, Ordered: e.Ordered, Paused: paused,
			NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
		}
		return d, tx.InsertDelivery(ctx, &d)
	default:
		return store.DeliveryRow{}, err
	}
}

// Recover queues again, due now, every failed delivery to the endpoint
// queued at or after since, and returns how many.
func (q *Queue) Recover(ctx context.Context, project, endpointID string, since time.Time) (int, error) {
	var n int64
	err := q.Store.Update(ctx, func(tx *store.Tx) error {
		var e endpoint.Endpoint
		if err := tx.GetForUpdate(ctx, endpoint.Kind, project, endpointID, &e); err != nil {
			return notFound(err, "webhookEndpoint", endpointID)
		}
		var err error
		n, err = tx.RecoverDeliveries(ctx, endpointID, since, q.Clock.Now(), e.Status != endpoint.Enabled)
		if err != nil {
			return err
		}
		if n > 0 && q.Notify != nil {
			tx.AfterCommit(q.Notify)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delivery: recover %s: %w", endpointID, err)
	}
	return int(n), nil
}
