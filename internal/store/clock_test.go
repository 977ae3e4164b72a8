package store_test

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

func TestProjectClocks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		storetest.Update(t, s, func(tx *store.Tx) error {
			for _, p := range []string{"a", "b", "c"} {
				if err := tx.CreateClock(ctx, p); err != nil {
					return err
				}
			}
			return nil
		})
		// A project's clock is made once: it also guards the project ID.
		err := s.Update(ctx, func(tx *store.Tx) error { return tx.CreateClock(ctx, "a") })
		if !errors.Is(err, store.ErrDuplicate) {
			t.Fatalf("second CreateClock = %v, want ErrDuplicate", err)
		}
		storetest.Update(t, s, func(tx *store.Tx) error {
			if err := tx.SetClockOffset(ctx, "a", 90*time.Second); err != nil {
				return err
			}
			return tx.SetClockOffset(ctx, "c", 10*365*24*time.Hour)
		})
		var offsets map[string]time.Duration
		var a, b0, none time.Duration
		storetest.View(t, s, func(tx *store.Tx) (err error) {
			if offsets, err = tx.ClockOffsets(ctx); err != nil {
				return err
			}
			if a, err = tx.ClockOffset(ctx, "a"); err != nil {
				return err
			}
			if b0, err = tx.ClockOffset(ctx, "b"); err != nil {
				return err
			}
			none, err = tx.ClockOffset(ctx, "nope")
			return err
		})
		want := map[string]time.Duration{"a": 90 * time.Second, "c": 10 * 365 * 24 * time.Hour}
		if !maps.Equal(offsets, want) {
			t.Errorf("ClockOffsets = %v, want %v (moved clocks only)", offsets, want)
		}
		if a != 90*time.Second || b0 != 0 || none != 0 {
			t.Errorf("ClockOffset a, b, nope = %v, %v, %v; want 90s, 0, 0", a, b0, none)
		}
	})
}

func TestDueIn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		now := time.Now().UTC().Truncate(time.Millisecond)
		past, future := now.Add(-time.Minute), now.Add(time.Hour)
		put(t, s,
			store.Resource{Kind: "porting", Project: "a", ID: "prt_a1", DueAt: &past, Body: doc{}},
			store.Resource{Kind: "porting", Project: "a", ID: "prt_a2", DueAt: &future, Body: doc{}},
			store.Resource{Kind: "porting", Project: "b", ID: "prt_b1", DueAt: &past, Body: doc{}},
		)
		ids := func(project string, at time.Time) []string {
			var due []store.Due
			storetest.View(t, s, func(tx *store.Tx) (err error) {
				due, err = tx.DueIn(ctx, project, at, 10)
				return err
			})
			var out []string
			for _, d := range due {
				if d.Project != project {
					t.Errorf("DueIn(%s) returned %+v", project, d)
				}
				out = append(out, d.ID)
			}
			return out
		}
		tests := []struct {
			project string
			at      time.Time
			want    []string
		}{
			{"a", now, []string{"prt_a1"}},
			{"a", future, []string{"prt_a1", "prt_a2"}},
			{"b", future, []string{"prt_b1"}},
			{"c", future, nil},
		}
		for _, tt := range tests {
			if got := ids(tt.project, tt.at); !slices.Equal(got, tt.want) {
				t.Errorf("DueIn(%s, %s) = %v, want %v", tt.project, tt.at, got, tt.want)
			}
		}
	})
}
