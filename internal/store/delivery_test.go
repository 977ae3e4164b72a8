package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// queue inserts n pending deliveries of one endpoint, due at now, in log
// order, and returns their IDs.
func queue(t testing.TB, s *store.Store, endpointID string, ordered bool, n int, now time.Time) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	err := s.Update(ctx, func(tx *store.Tx) error {
		ids = ids[:0]
		for i := range n {
			ev := store.Event{ID: fmt.Sprintf("evt_%s_%06d", endpointID, i), Project: "p", Type: "com.gigs.user.created",
				Resource: "usr_1", Time: now, Source: "s", Data: []byte(`{}`)}
			if err := tx.InsertEvent(ctx, &ev); err != nil {
				return err
			}
			d := store.Delivery{ID: fmt.Sprintf("dlv_%s_%06d", endpointID, i), Project: "p", EndpointID: endpointID,
				EventID: ev.ID, EventSeq: ev.Seq, Status: store.DeliveryPending, Ordered: ordered,
				NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
			if err := tx.InsertDelivery(ctx, &d); err != nil {
				return err
			}
			ids = append(ids, d.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("queue: %v", err)
	}
	return ids
}

func claim(t testing.TB, s *store.Store, id string, now time.Time, limit int) []store.Delivery {
	t.Helper()
	var ds []store.Delivery
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		var err error
		ds, err = tx.ClaimDeliveries(context.Background(), store.Claim{ID: id, Now: now, Wall: time.Now(), Lease: time.Minute, Limit: limit})
		return err
	})
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return ds
}

// TestConcurrentClaimersNeverShare runs claimers at once and checks that no
// delivery goes to two of them and that none is left out.
func TestConcurrentClaimersNeverShare(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		now := time.Now()
		ids := queue(t, s, "whe_a", false, 600, now)
		var mu sync.Mutex
		owner := map[string]string{}
		var wg sync.WaitGroup
		for c := range 6 {
			wg.Go(func() {
				for {
					ds := claim(t, s, fmt.Sprintf("claimer%d", c), now, 37)
					if len(ds) == 0 {
						return
					}
					if len(ds) > 37 {
						t.Errorf("claimed %d, limit 37", len(ds))
					}
					mu.Lock()
					for _, d := range ds {
						if prev, ok := owner[d.ID]; ok {
							t.Errorf("%s claimed by %s and claim%d", d.ID, prev, c)
						}
						owner[d.ID] = d.ClaimID
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(owner) != len(ids) {
			t.Fatalf("claimed %d of %d", len(owner), len(ids))
		}
	})
}

func TestClaimRules(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		ctx := context.Background()
		now := time.Now()
		ordered := queue(t, s, "whe_o", true, 3, now)
		ds := claim(t, s, "c1", now, 10)
		if len(ds) != 1 || ds[0].ID != ordered[0] {
			t.Fatalf("ordered endpoint: claimed %v, want only its head %s", ds, ordered[0])
		}
		if again := claim(t, s, "c2", now, 10); len(again) != 0 {
			t.Fatalf("claimed %d while the head is leased", len(again))
		}
		// A result under a stale claim is not recorded; under the holder's it is.
		res := store.Result{DeliveryID: ordered[0], ClaimID: "stale", Status: store.DeliverySucceeded, NextAttemptAt: now,
			Attempt: store.Attempt{At: now, StatusCode: 200}}
		var ok bool
		record := func() {
			t.Helper()
			if err := s.Update(ctx, func(tx *store.Tx) (err error) { ok, err = tx.RecordResult(ctx, res); return err }); err != nil {
				t.Fatal(err)
			}
		}
		if record(); ok {
			t.Fatal("a stale claim's result was recorded")
		}
		res.ClaimID = "c1"
		if record(); !ok {
			t.Fatal("the holder's result was not recorded")
		}
		if ds := claim(t, s, "c3", now, 10); len(ds) != 1 || ds[0].ID != ordered[1] {
			t.Fatalf("after the head succeeded: claimed %v, want %s", ds, ordered[1])
		}
		// Paused and not-yet-due deliveries are never claimed.
		queue(t, s, "whe_p", false, 2, now)
		if err := s.Update(ctx, func(tx *store.Tx) error { return tx.PauseDeliveries(ctx, "whe_p") }); err != nil {
			t.Fatal(err)
		}
		if ds := claim(t, s, "c4", now, 10); len(ds) != 0 {
			t.Fatalf("claimed %d paused deliveries", len(ds))
		}
		if err := s.Update(ctx, func(tx *store.Tx) error { return tx.ResumeDeliveries(ctx, "whe_p", now.Add(time.Hour)) }); err != nil {
			t.Fatal(err)
		}
		if ds := claim(t, s, "c5", now, 10); len(ds) != 0 {
			t.Fatalf("claimed %d deliveries not yet due", len(ds))
		}
		if ds := claim(t, s, "c6", now.Add(time.Hour), 10); len(ds) != 2 {
			t.Fatalf("claimed %d due deliveries, want 2", len(ds))
		}
		// An expired lease frees the row for another claimer.
		var late []store.Delivery
		if err := s.Update(ctx, func(tx *store.Tx) (err error) {
			late, err = tx.ClaimDeliveries(ctx, store.Claim{ID: "late", Now: now.Add(time.Hour), Wall: time.Now().Add(2 * time.Minute), Lease: time.Minute, Limit: 10})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(late) != 3 {
			t.Fatalf("after the leases ended: claimed %d, want the 3 leased deliveries", len(late))
		}
	})
}

// BenchmarkClaimBatch claims batches of 256 from a backlog, releasing
// them again so the backlog stays.
func BenchmarkClaimBatch(b *testing.B) {
	for _, name := range []string{store.SQLite, store.Postgres} {
		b.Run(name, func(b *testing.B) {
			s := storetest.New(b, name).Open(b)
			now := time.Now()
			queue(b, s, "whe_bench", false, 20_000, now)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				ds := claim(b, s, fmt.Sprint(i), now, 256)
				if len(ds) != 256 {
					b.Fatalf("claimed %d", len(ds))
				}
				b.StopTimer()
				s.Update(ctx, func(tx *store.Tx) error {
					for _, d := range ds {
						if _, err := tx.ReleaseDelivery(ctx, d.ID, d.ClaimID, now); err != nil {
							return err
						}
					}
					return nil
				})
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}
