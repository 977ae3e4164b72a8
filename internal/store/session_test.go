package store_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

func TestDashboardSessions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		live := store.DashboardSession{ID: "h_live", Project: "dev", SealedKey: "sealed1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		old := store.DashboardSession{ID: "h_old", Project: "dev", SealedKey: "sealed2", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Minute)}
		storetest.Update(t, s, func(tx *store.Tx) error {
			if err := tx.PutDashboardSession(ctx, live); err != nil {
				return err
			}
			return tx.PutDashboardSession(ctx, old)
		})
		if err := s.Update(ctx, func(tx *store.Tx) error { return tx.PutDashboardSession(ctx, live) }); !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("PutDashboardSession with a taken ID = %v, want ErrDuplicate", err)
		}

		var got store.DashboardSession
		storetest.View(t, s, func(tx *store.Tx) (err error) { got, err = tx.DashboardSession(ctx, "h_live", now); return err })
		if got != live {
			t.Errorf("DashboardSession = %+v, want %+v", got, live)
		}
		tests := []struct {
			name string
			id   string
			at   time.Time
		}{
			{"unknown", "h_none", now},
			{"expired", "h_old", now},
			{"live one at its expiry", "h_live", now.Add(time.Hour)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.View(ctx, func(tx *store.Tx) error { _, err := tx.DashboardSession(ctx, tt.id, tt.at); return err })
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("DashboardSession(%s) = %v, want ErrNotFound", tt.id, err)
				}
			})
		}

		storetest.Update(t, s, func(tx *store.Tx) error { return tx.SetDashboardSessionProject(ctx, "h_live", "other") })
		storetest.View(t, s, func(tx *store.Tx) (err error) { got, err = tx.DashboardSession(ctx, "h_live", now); return err })
		if got.Project != "other" || got.SealedKey != live.SealedKey {
			t.Errorf("after switching: %+v, want project other and the same key", got)
		}
		if err := s.Update(ctx, func(tx *store.Tx) error { return tx.SetDashboardSessionProject(ctx, "h_none", "x") }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SetDashboardSessionProject of no session = %v, want ErrNotFound", err)
		}

		var n int
		storetest.Update(t, s, func(tx *store.Tx) (err error) { n, err = tx.DeleteExpiredDashboardSessions(ctx, now); return err })
		if n != 1 {
			t.Errorf("DeleteExpiredDashboardSessions = %d, want 1", n)
		}
		storetest.Update(t, s, func(tx *store.Tx) error { return tx.DeleteDashboardSession(ctx, "h_live") })
		storetest.Update(t, s, func(tx *store.Tx) error { return tx.DeleteDashboardSession(ctx, "h_live") }) // gone already: no error
		if err := s.View(ctx, func(tx *store.Tx) error { _, err := tx.DashboardSession(ctx, "h_live", now); return err }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DashboardSession after sign-out = %v, want ErrNotFound", err)
		}
	})
}

func TestEventsOfResource(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		storetest.Update(t, s, func(tx *store.Tx) error {
			for i := range 6 {
				e := event("p1", fmt.Sprintf("evt_%02d", i), "com.gigs.porting.updated")
				e.Resource = []string{"prt_a", "prt_b"}[i%2]
				if i == 4 {
					e.Type = "com.gigs.porting.declined"
				}
				if err := tx.InsertEvent(ctx, e); err != nil {
					return err
				}
			}
			other := event("p2", "evt_p2", "com.gigs.porting.updated")
			other.Resource = "prt_a"
			return tx.InsertEvent(ctx, other)
		})
		tests := []struct {
			name     string
			resource string
			types    []string
			want     []string
		}{
			{"one resource", "prt_a", nil, []string{"evt_04", "evt_02", "evt_00"}},
			{"the other", "prt_b", nil, []string{"evt_05", "evt_03", "evt_01"}},
			{"resource and type", "prt_a", []string{"com.gigs.porting.declined"}, []string{"evt_04"}},
			{"unknown resource", "prt_z", nil, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var evs []store.EventRow
				storetest.View(t, s, func(tx *store.Tx) (err error) {
					evs, _, err = tx.ListEvents(ctx, store.EventQuery{Project: "p1", Resource: tt.resource, Types: tt.types, Page: store.Page{Limit: 50}})
					return err
				})
				var got []string
				for _, e := range evs {
					got = append(got, e.ID)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("ListEvents(resource %s) = %v, want %v", tt.resource, got, tt.want)
				}
			})
		}
	})
}
