package eventlog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/id"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// handoff is an eventlog.Handoff that grants leases while open and keeps
// what it is offered.
type handoff struct {
	open    bool
	leases  []int
	offered []store.DeliveryRow
	events  []store.EventRow
}

func (h *handoff) Lease(n int) (string, time.Time, bool) {
	h.leases = append(h.leases, n)
	return "claim-1", time.UnixMilli(4_000_000_000_000).UTC(), h.open
}

func (h *handoff) Offer(ds []store.DeliveryRow, events []store.EventRow) {
	h.offered = append(h.offered, ds...)
	h.events = append(h.events, events...)
}

// TestRecordHandsOff checks what Record queues for a handoff: the unordered
// deliveries claimed under its lease and offered once the transaction
// commits; the ordered ones, those it has no room for, and those of a
// transaction that rolls back are left to a claim (and Notify) or to nobody.
func TestRecordHandsOff(t *testing.T) {
	tests := []struct {
		name        string
		open        bool
		fail        bool // the transaction rolls back after Record
		wantOffered int
		wantClaimed int // rows stored claimed by "claim-1"
		wantNotify  int
	}{
		{"room: unordered handed off, ordered left to a claim", true, false, 2, 2, 1},
		{"no room: all left to a claim", false, false, 0, 0, 1},
		{"rolled back: nothing offered, nothing stored", true, true, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, b storetest.Backend) {
				ctx := context.Background()
				st := b.Open(t)
				now := time.Now().UTC()
				storetest.Update(t, st, func(tx *store.Tx) error {
					for i, ordered := range []bool{false, false, true} {
						e := endpoint.Endpoint{ID: id.New(id.Endpoint), Project: "p", URL: "http://127.0.0.1:1/" + string(rune('a'+i)),
							EnabledEvents: []string{"*"}, Version: switchboard.LatestVersion, Status: endpoint.Enabled, Ordered: ordered,
							Secrets: []endpoint.Secret{{Value: endpoint.NewSecret()}}, CreatedAt: now, UpdatedAt: now}
						if err := tx.Put(ctx, e.Record()); err != nil {
							return err
						}
					}
					return nil
				})
				h := &handoff{open: tt.open}
				notified := 0
				log := eventlog.New(eventlog.Config{Clock: clock.Same{Clock: &clock.Offset{}}, Endpoints: endpoint.Targets, Handoff: h, Notify: func() { notified++ }})
				boom := errors.New("boom")
				err := st.Update(ctx, func(tx *store.Tx) error {
					_, err := log.Record(ctx, tx, "p", eventlog.Change{Type: switchboard.TypeUserCreated, Resource: "usr_1",
						Data: map[string]any{"object": "user", "id": "usr_1"}})
					if err == nil && tt.fail {
						err = boom
					}
					return err
				})
				if tt.fail != errors.Is(err, boom) || (!tt.fail && err != nil) {
					t.Fatalf("Update = %v", err)
				}
				if len(h.offered) != tt.wantOffered || notified != tt.wantNotify {
					t.Errorf("offered %d, notified %d; want %d, %d", len(h.offered), notified, tt.wantOffered, tt.wantNotify)
				}
				if len(h.leases) != 1 || h.leases[0] != 2 {
					t.Errorf("leases asked %v, want one for the 2 unordered deliveries", h.leases)
				}
				var ds []store.DeliveryRow
				storetest.View(t, st, func(tx *store.Tx) error {
					var err error
					ds, _, err = tx.ListDeliveries(ctx, store.DeliveryQuery{Project: "p", Page: store.Page{Limit: 10}})
					return err
				})
				claimed := 0
				for _, d := range ds {
					if d.ClaimID == "claim-1" {
						claimed++
						if d.Ordered || !d.LeaseUntil.Equal(time.UnixMilli(4_000_000_000_000).UTC()) {
							t.Errorf("claimed delivery %+v: ordered, or not leased until the lease's end", d)
						}
					}
				}
				if claimed != tt.wantClaimed {
					t.Errorf("%d of %d stored deliveries claimed by the handoff, want %d", claimed, len(ds), tt.wantClaimed)
				}
				for _, o := range h.offered {
					if o.ClaimID != "claim-1" || o.Ordered {
						t.Errorf("offered %+v", o)
					}
					if len(h.events) != 1 || h.events[0].ID != o.EventID || h.events[0].Data == nil {
						t.Errorf("offered %s with events %+v, want its event", o.ID, h.events)
					}
				}
			})
		})
	}
}
