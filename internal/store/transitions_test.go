package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestDeliveryTransitions drives every transition of the delivery table
// through the store on each backend, checking the status before and after,
// and checks that the table names every status there is.
func TestDeliveryTransitions(t *testing.T) {
	statuses := map[string]bool{}
	for _, tr := range store.DeliveryTransitions() {
		statuses[tr.From], statuses[tr.To] = true, true
	}
	for _, s := range []string{"", store.DeliveryPending, store.DeliverySucceeded, store.DeliveryFailed} {
		if !statuses[s] {
			t.Errorf("the table never reaches or leaves status %q", s)
		}
		delete(statuses, s)
	}
	for s := range statuses {
		t.Errorf("the table names status %q, which is not a delivery status", s)
	}

	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		// status returns the delivery's status; "" when there is none.
		status := func(t *testing.T, id string) string {
			t.Helper()
			var d store.DeliveryRow
			var err error
			storetest.View(t, s, func(tx *store.Tx) error {
				var rows []store.DeliveryRow
				rows, _, err = tx.ListDeliveries(ctx, store.DeliveryQuery{Project: "p", Page: store.Page{Limit: 200}})
				for _, r := range rows {
					if r.ID == id {
						d = r
					}
				}
				return err
			})
			return d.Status
		}
		// record claims the delivery (due at now) and records an attempt
		// that leaves it in the given status.
		record := func(t *testing.T, id, to string) {
			t.Helper()
			claimID := fmt.Sprintf("c_%s_%s", id, to)
			var held bool
			storetest.Update(t, s, func(tx *store.Tx) error {
				ds, err := tx.ClaimDeliveries(ctx, store.Claim{ID: claimID, Now: now, Wall: time.Now(), Lease: time.Minute, Limit: 100})
				for _, d := range ds {
					held = held || d.ID == id
				}
				return err
			})
			if !held {
				t.Fatalf("claim did not take %s", id)
			}
			storetest.Update(t, s, func(tx *store.Tx) error {
				ok, err := tx.RecordResults(ctx, []store.Result{{DeliveryID: id, ClaimID: claimID, Status: to, NextAttemptAt: now,
					Attempt: store.Attempt{At: now, StatusCode: 500}}})
				if err == nil && !ok[0] {
					err = errors.New("result not recorded")
				}
				return err
			})
		}
		n := 0
		// queue inserts a pending delivery of a new endpoint and returns it.
		queue := func(t *testing.T) store.DeliveryRow {
			t.Helper()
			n++
			ev := store.EventRow{ID: fmt.Sprintf("evt_%d", n), Project: "p", Type: "com.gigs.user.created",
				Resource: "usr_1", Time: now, Source: "s", Data: []byte(`{}`)}
			d := store.DeliveryRow{ID: fmt.Sprintf("dlv_%d", n), Project: "p", EndpointID: fmt.Sprintf("we_%d", n),
				Status: store.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
			storetest.Update(t, s, func(tx *store.Tx) error {
				if err := tx.InsertEvent(ctx, &ev); err != nil {
					return err
				}
				d.EventID, d.EventSeq = ev.ID, ev.Seq
				return tx.InsertDelivery(ctx, &d)
			})
			return d
		}
		// in returns a delivery in the status (queued and recorded so).
		in := func(t *testing.T, status string) store.DeliveryRow {
			t.Helper()
			d := queue(t)
			if status != store.DeliveryPending {
				record(t, d.ID, status)
			}
			return d
		}
		ops := map[string]func(t *testing.T, d store.DeliveryRow){
			store.DeliveryOnSucceed: func(t *testing.T, d store.DeliveryRow) { record(t, d.ID, store.DeliverySucceeded) },
			store.DeliveryOnRetry:   func(t *testing.T, d store.DeliveryRow) { record(t, d.ID, store.DeliveryPending) },
			store.DeliveryOnGiveUp:  func(t *testing.T, d store.DeliveryRow) { record(t, d.ID, store.DeliveryFailed) },
			store.DeliveryOnResend: func(t *testing.T, d store.DeliveryRow) {
				storetest.Update(t, s, func(tx *store.Tx) error { return tx.RequeueDelivery(ctx, d.ID, now, false) })
			},
			store.DeliveryOnRecover: func(t *testing.T, d store.DeliveryRow) {
				storetest.Update(t, s, func(tx *store.Tx) error {
					_, err := tx.RecoverDeliveries(ctx, d.EndpointID, now.Add(-time.Hour), now, false)
					return err
				})
			},
			store.DeliveryOnDelete: func(t *testing.T, d store.DeliveryRow) {
				storetest.Update(t, s, func(tx *store.Tx) error { return tx.DeleteDeliveries(ctx, d.EndpointID) })
			},
		}
		for _, tr := range store.DeliveryTransitions() {
			t.Run(fmt.Sprintf("%s→%s on %s", tr.From, tr.To, tr.On), func(t *testing.T) {
				var d store.DeliveryRow
				if tr.From == "" {
					if tr.On != store.DeliveryOnQueue {
						t.Fatalf("only %s makes a delivery", store.DeliveryOnQueue)
					}
					d = queue(t)
				} else {
					op := ops[tr.On]
					if op == nil {
						t.Fatalf("the test knows no operation %s", tr.On)
					}
					d = in(t, tr.From)
					if got := status(t, d.ID); got != tr.From {
						t.Fatalf("set-up: status %q, want %q", got, tr.From)
					}
					op(t, d)
				}
				if got := status(t, d.ID); got != tr.To {
					t.Errorf("after %s: status %q, want %q", tr.On, got, tr.To)
				}
			})
		}
	})
}
