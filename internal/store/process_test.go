package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestReclaimDead: the leases of a process whose heartbeat stopped are
// taken back, those of a live one are not, and the dead process is
// forgotten.
func TestReclaimDead(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		ctx := context.Background()
		now := time.Now()
		queue(t, s, "whe_a", false, 6, now)
		claimAs := func(process string, limit int) {
			t.Helper()
			ds := claim(t, s, store.ProcessClaimPrefix(process)+"c1", now, limit)
			if len(ds) != limit {
				t.Fatalf("claimed %d, want %d", len(ds), limit)
			}
		}
		claimAs("prc_dead", 2)
		claimAs("prc_live", 3)
		err := s.Update(ctx, func(tx *store.Tx) error {
			if err := tx.BeatProcess(ctx, "prc_dead", now.Add(-time.Minute)); err != nil {
				return err
			}
			return tx.BeatProcess(ctx, "prc_live", now)
		})
		if err != nil {
			t.Fatal(err)
		}
		var dead []string
		var freed int64
		err = s.Update(ctx, func(tx *store.Tx) (err error) {
			dead, freed, err = tx.ReclaimDead(ctx, now.Add(-10*time.Second))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != 1 || dead[0] != "prc_dead" || freed != 2 {
			t.Fatalf("reclaimed %v, %d deliveries; want prc_dead's 2", dead, freed)
		}
		// The freed two and the never-claimed one are claimable; the live
		// process's three are not.
		if ds := claim(t, s, "other", now, 10); len(ds) != 3 {
			t.Fatalf("claimable after the reclaim: %d, want 3", len(ds))
		}
		err = s.Update(ctx, func(tx *store.Tx) (err error) {
			dead, freed, err = tx.ReclaimDead(ctx, now.Add(-10*time.Second))
			return err
		})
		if err != nil || len(dead) != 0 {
			t.Fatalf("second reclaim: %v, %v; want nothing (the dead process is forgotten)", dead, err)
		}
		var all int64
		err = s.Update(ctx, func(tx *store.Tx) (err error) { all, err = tx.ReleaseLeases(ctx); return err })
		if err != nil || all != 6 {
			t.Fatalf("ReleaseLeases freed %d (%v), want every lease, 6", all, err)
		}
	})
}

// TestExclusiveSQLite: a second exclusive store on a SQLite file fails
// with ErrInUse while the first is open, and opens once it is closed.
func TestExclusiveSQLite(t *testing.T) {
	b := storetest.New(t, store.SQLite)
	ctx := context.Background()
	first, err := store.Open(ctx, b.DB, store.Options{Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(ctx, b.DB, store.Options{Exclusive: true}); !errors.Is(err, store.ErrInUse) {
		t.Fatalf("second exclusive open: %v, want ErrInUse", err)
	}
	first.Close()
	again, err := store.Open(ctx, b.DB, store.Options{Exclusive: true})
	if err != nil {
		t.Fatalf("open after the first closed: %v", err)
	}
	again.Close()
}
