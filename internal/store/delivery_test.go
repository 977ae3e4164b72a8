package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
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
	return queueFrom(t, s, endpointID, ordered, 0, n, now)
}

// queueFrom is queue numbering the deliveries from the endpoint's from-th.
func queueFrom(t testing.TB, s *store.Store, endpointID string, ordered bool, from, n int, now time.Time) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	err := s.Update(ctx, func(tx *store.Tx) error {
		ids = ids[:0]
		for i := from; i < from+n; i++ {
			ev := store.EventRow{ID: fmt.Sprintf("evt_%s_%06d", endpointID, i), Project: "p", Type: "com.gigs.user.created",
				Resource: "usr_1", Time: now, Source: "s", Data: []byte(`{}`)}
			if err := tx.InsertEvent(ctx, &ev); err != nil {
				return err
			}
			d := store.DeliveryRow{ID: fmt.Sprintf("dlv_%s_%06d", endpointID, i), Project: "p", EndpointID: endpointID,
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

// claim claims up to limit deliveries due at now under the claim id,
// failing the test on an error; call it from the test's goroutine only.
func claim(t testing.TB, s *store.Store, id string, now time.Time, limit int) []store.DeliveryRow {
	t.Helper()
	ds, err := tryClaim(s, id, now, limit)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return ds
}

// tryClaim is claim for any goroutine: it returns the error.
func tryClaim(s *store.Store, id string, now time.Time, limit int) ([]store.DeliveryRow, error) {
	var ds []store.DeliveryRow
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		var err error
		ds, err = tx.ClaimDeliveries(context.Background(), store.Claim{ID: id, Now: now, Wall: time.Now(), Lease: time.Minute, Limit: limit})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", id, err)
	}
	return ds, nil
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
					ds, err := tryClaim(s, fmt.Sprintf("claimer%d", c), now, 37)
					if err != nil {
						t.Error(err)
						return
					}
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
		var late []store.DeliveryRow
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

// TestClaimOrderedHeads checks that a claim takes each ordered endpoint's
// head and nothing behind it, beside every due unordered delivery, and that
// a head that cannot go (paused, not due, leased) holds its endpoint back.
func TestClaimOrderedHeads(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		ctx := context.Background()
		now := time.Now()
		o1 := queue(t, s, "whe_o1", true, 5, now)
		o2 := queue(t, s, "whe_o2", true, 5, now)
		o3 := queue(t, s, "whe_o3", true, 5, now)
		u := queue(t, s, "whe_u", false, 4, now)
		ids := func(ds []store.DeliveryRow) map[string]bool {
			m := map[string]bool{}
			for _, d := range ds {
				m[d.ID] = true
			}
			return m
		}
		got := ids(claim(t, s, "c1", now, 100))
		want := map[string]bool{o1[0]: true, o2[0]: true, o3[0]: true, u[0]: true, u[1]: true, u[2]: true, u[3]: true}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("claimed %v, want the three heads and the unordered four %v", got, want)
		}
		// o1's head comes due in an hour, o2's succeeds, o3's stays leased.
		if err := s.Update(ctx, func(tx *store.Tx) error {
			if _, err := tx.ReleaseDelivery(ctx, o1[0], "c1", now.Add(time.Hour)); err != nil {
				return err
			}
			ok, err := tx.RecordResults(ctx, []store.Result{{DeliveryID: o2[0], ClaimID: "c1", Status: store.DeliverySucceeded,
				NextAttemptAt: now, Attempt: store.Attempt{At: now, StatusCode: 200}}})
			if err == nil && !ok[0] {
				err = fmt.Errorf("o2's head not recorded")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got := ids(claim(t, s, "c2", now, 100)); fmt.Sprint(got) != fmt.Sprint(map[string]bool{o2[1]: true}) {
			t.Fatalf("claimed %v, want only o2's new head %s", got, o2[1])
		}
		if got := ids(claim(t, s, "c3", now.Add(time.Hour), 1)); fmt.Sprint(got) != fmt.Sprint(map[string]bool{o1[0]: true}) {
			t.Fatalf("an hour later: claimed %v, want o1's head %s (limit 1)", got, o1[0])
		}
		// A paused head holds its endpoint back.
		queue(t, s, "whe_o4", true, 1, now)
		if err := s.Update(ctx, func(tx *store.Tx) error { return tx.PauseDeliveries(ctx, "whe_o4") }); err != nil {
			t.Fatal(err)
		}
		queueFrom(t, s, "whe_o4", true, 1, 2, now)
		if got := claim(t, s, "c4", now.Add(time.Hour), 100); len(got) != 0 {
			t.Fatalf("claimed %v behind a paused head", ids(got))
		}
		// An unordered pending delivery of an ordered endpoint (queued
		// again after the endpoint became ordered) goes, and holds back the
		// ordered ones behind it.
		o5 := queue(t, s, "whe_o5", false, 1, now)
		queueFrom(t, s, "whe_o5", true, 1, 2, now)
		if got := ids(claim(t, s, "c5", now, 100)); fmt.Sprint(got) != fmt.Sprint(map[string]bool{o5[0]: true}) {
			t.Fatalf("claimed %v, want only o5's unordered head %s", got, o5[0])
		}
	})
}

// TestOrderedFIFOAcrossStores runs claimers on two store handles (two
// processes, on PostgreSQL) over ordered endpoints, failing some attempts,
// and checks each claim is its endpoint's oldest unfinished delivery, with
// never two of one endpoint in flight.
func TestOrderedFIFOAcrossStores(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		stores := []*store.Store{b.Open(t), b.Open(t)}
		ctx := context.Background()
		now := time.Now()
		const endpoints, per = 3, 30
		var mu sync.Mutex
		order := map[string][]string{} // endpoint → its unfinished deliveries, oldest first
		inFlight := map[string]string{}
		for e := range endpoints {
			id := fmt.Sprintf("whe_f%d", e)
			order[id] = queue(t, stores[0], id, true, per, now)
		}
		var attempts sync.Map
		var wg sync.WaitGroup
		for c := range 4 {
			s := stores[c%2]
			wg.Go(func() {
				for n := 0; ; n++ {
					ds, err := tryClaim(s, fmt.Sprintf("c%d_%d", c, n), now, 5)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					left := 0
					for _, q := range order {
						left += len(q)
					}
					for _, d := range ds {
						if q := order[d.EndpointID]; len(q) == 0 || q[0] != d.ID {
							t.Errorf("claimed %s of %s, want its head (unfinished: %v)", d.ID, d.EndpointID, q)
						}
						if other, ok := inFlight[d.EndpointID]; ok {
							t.Errorf("claimed %s while %s of %s is in flight", d.ID, other, d.EndpointID)
						}
						inFlight[d.EndpointID] = d.ID
					}
					mu.Unlock()
					if left == 0 || t.Failed() {
						return
					}
					var rs []store.Result
					for _, d := range ds {
						k, _ := attempts.LoadOrStore(d.ID, new(int))
						*k.(*int)++
						status := store.DeliverySucceeded
						if *k.(*int) < 3 && len(d.ID)%2 == 0 { // fail some twice first
							status = store.DeliveryPending
						}
						rs = append(rs, store.Result{DeliveryID: d.ID, ClaimID: d.ClaimID, Status: status, NextAttemptAt: now,
							Attempt: store.Attempt{At: now, StatusCode: 200}})
					}
					err = s.Update(ctx, func(tx *store.Tx) error {
						ok, err := tx.RecordResults(ctx, rs)
						if err != nil {
							return err
						}
						// Before the commit, as the next head may be claimed
						// as soon as it is done.
						mu.Lock()
						defer mu.Unlock()
						for i, r := range rs {
							if !ok[i] {
								t.Errorf("result of %s not recorded", r.DeliveryID)
							}
							d := ds[i]
							delete(inFlight, d.EndpointID)
							if r.Status == store.DeliverySucceeded {
								order[d.EndpointID] = order[d.EndpointID][1:]
							}
						}
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
					if len(ds) == 0 {
						time.Sleep(time.Millisecond)
					}
				}
			})
		}
		wg.Wait()
	})
}

// TestRecordResults records a batch larger than a chunk, with results of
// stale claims among them, and checks deliveries and attempts.
func TestRecordResults(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		queue(t, s, "whe_r", false, 250, now)
		ds := claim(t, s, "c1", now, 250)
		if len(ds) != 250 {
			t.Fatalf("claimed %d", len(ds))
		}
		var rs []store.Result
		want := map[string]bool{}
		for i, d := range ds {
			r := store.Result{DeliveryID: d.ID, ClaimID: d.ClaimID, Status: store.DeliverySucceeded, NextAttemptAt: now,
				Attempt: store.Attempt{At: now.Add(time.Duration(i) * time.Millisecond), StatusCode: 200 + i%3,
					ResponseBody: fmt.Sprint("body ", i), Latency: time.Duration(i) * time.Millisecond, Error: fmt.Sprint("err ", i)}}
			switch {
			case i%7 == 0: // a stale claim's result
				r.ClaimID = "stale"
			case i%7 == 1: // a stale claim's result, then the holder's, in one batch
				stale := r
				stale.ClaimID = "old"
				rs = append(rs, stale)
			case i%5 == 0:
				r.Status, r.NextAttemptAt = store.DeliveryPending, now.Add(time.Minute)
			}
			want[d.ID+"/"+r.ClaimID] = r.ClaimID == "c1"
			rs = append(rs, r)
		}
		var ok []bool
		if err := s.Update(ctx, func(tx *store.Tx) (err error) { ok, err = tx.RecordResults(ctx, rs); return err }); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for i, r := range rs {
			if w := r.ClaimID == "c1"; ok[i] != w {
				t.Errorf("result %d (%s, claim %s): recorded %t, want %t", i, r.DeliveryID, r.ClaimID, ok[i], w)
			}
			ids = append(ids, r.DeliveryID)
		}
		err := s.View(ctx, func(tx *store.Tx) error {
			attempts, err := tx.AttemptsOf(ctx, ids)
			if err != nil {
				return err
			}
			for _, r := range rs {
				d, err := tx.DeliveryOf(ctx, "evt_"+r.DeliveryID[len("dlv_"):], "whe_r")
				if err != nil {
					return err
				}
				as := attempts[r.DeliveryID]
				if r.ClaimID != "c1" {
					if r.ClaimID == "stale" && (d.Attempts != 0 || len(as) != 0 || d.ClaimID != "c1") {
						t.Errorf("%s: a stale result changed it: %+v, %v", d.ID, d, as)
					}
					continue
				}
				a := r.Attempt
				if d.Status != r.Status || d.Attempts != 1 || !d.NextAttemptAt.Equal(r.NextAttemptAt) || d.ClaimID != "" ||
					!d.LeaseUntil.Equal(time.UnixMilli(0).UTC()) || !d.UpdatedAt.Equal(a.At) || d.LastStatus != a.StatusCode || d.LastError != a.Error {
					t.Errorf("%s: %+v after %+v", d.ID, d, r)
				}
				if len(as) != 1 || as[0].N != 1 || !as[0].At.Equal(a.At) || as[0].StatusCode != a.StatusCode ||
					as[0].ResponseBody != a.ResponseBody || as[0].Latency != a.Latency || as[0].Error != a.Error {
					t.Errorf("%s: attempts %+v, want one of %+v", d.ID, as, a)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// A second attempt is numbered 2.
		again := claim(t, s, "c2", now.Add(time.Minute), 250)
		if len(again) == 0 {
			t.Fatal("nothing to retry")
		}
		if err := s.Update(ctx, func(tx *store.Tx) error {
			_, err := tx.RecordResults(ctx, []store.Result{{DeliveryID: again[0].ID, ClaimID: "c2", Status: store.DeliveryFailed,
				NextAttemptAt: now, Attempt: store.Attempt{At: now, StatusCode: 500}}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.View(ctx, func(tx *store.Tx) error {
			as, err := tx.AttemptsOf(ctx, []string{again[0].ID})
			if err == nil && (len(as[again[0].ID]) != 2 || as[again[0].ID][1].N != 2) {
				t.Errorf("attempts %+v, want 2", as)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkClaimOrdered drains an ordered endpoint's backlog of 10,000
// deliveries one head at a time (claim, then record), as the dispatcher
// does: the cost of a claim must not grow with the backlog.
func BenchmarkClaimOrdered(b *testing.B) {
	for _, name := range []string{store.SQLite, store.Postgres} {
		b.Run(name, func(b *testing.B) {
			s := storetest.New(b, name).Open(b)
			ctx := context.Background()
			now := time.Now()
			const backlog = 10_000
			for i := 0; i < backlog; i += 1000 {
				queueFrom(b, s, "whe_ordered", true, i, 1000, now)
			}
			queue(b, s, "whe_other", false, 1, now.Add(time.Hour)) // not due: the unordered pick finds nothing
			done := 0
			for i := 0; b.Loop(); i++ {
				if done == backlog {
					b.Fatal("backlog drained: lower -benchtime")
				}
				ds := claim(b, s, fmt.Sprint("c", i), now, 256)
				if len(ds) != 1 {
					b.Fatalf("claimed %d, want the head", len(ds))
				}
				err := s.Update(ctx, func(tx *store.Tx) error {
					_, err := tx.RecordResult(ctx, store.Result{DeliveryID: ds[0].ID, ClaimID: ds[0].ClaimID, Status: store.DeliverySucceeded,
						NextAttemptAt: now, Attempt: store.Attempt{At: now, StatusCode: 204}})
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				done++
			}
			b.ReportMetric(float64(done)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkRecord records the results of claimed batches of 256 deliveries
// (on a table already holding 20,000 delivered rows), row by row with
// RecordResult or in one call to RecordResults, and reports the recording
// time per delivery.
func BenchmarkRecord(b *testing.B) {
	for _, name := range []string{store.SQLite, store.Postgres} {
		for _, mode := range []string{"rows", "batch"} {
			b.Run(name+"/"+mode, func(b *testing.B) {
				s := storetest.New(b, name).Open(b)
				ctx := context.Background()
				now := time.Now()
				for i := 0; i < 20_000; i += 1000 {
					queueFrom(b, s, "whe_done", false, i, 1000, now.Add(-time.Hour))
				}
				drain := claim(b, s, "seed", now, 100_000)
				var seed []store.Result
				for _, d := range drain {
					seed = append(seed, store.Result{DeliveryID: d.ID, ClaimID: d.ClaimID, Status: store.DeliverySucceeded, NextAttemptAt: now,
						Attempt: store.Attempt{At: now, StatusCode: 204}})
				}
				if err := s.Update(ctx, func(tx *store.Tx) error {
					for _, r := range seed {
						if _, err := tx.RecordResult(ctx, r); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				recorded := 0
				for i := 0; b.Loop(); i++ {
					b.StopTimer()
					ds := claim(b, s, fmt.Sprint("c", i), now, 256)
					if len(ds) == 0 {
						queueFrom(b, s, "whe_bench", false, recorded, 2560, now)
						ds = claim(b, s, fmt.Sprint("c", i), now, 256)
					}
					rs := make([]store.Result, len(ds))
					for j, d := range ds {
						rs[j] = store.Result{DeliveryID: d.ID, ClaimID: d.ClaimID, Status: store.DeliverySucceeded, NextAttemptAt: now,
							Attempt: store.Attempt{At: now, StatusCode: 204, Latency: time.Millisecond}}
					}
					b.StartTimer()
					err := s.Update(ctx, func(tx *store.Tx) error {
						if mode == "batch" {
							_, err := recordResults(ctx, tx, rs)
							return err
						}
						for _, r := range rs {
							if _, err := tx.RecordResult(ctx, r); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
					recorded += len(rs)
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(recorded), "record-µs/delivery")
			})
		}
	}
}

func recordResults(ctx context.Context, tx *store.Tx, rs []store.Result) ([]bool, error) {
	return tx.RecordResults(ctx, rs)
}

// TestInsertDeliveries checks that deliveries queued together, more than one
// statement's worth, are all stored as given.
func TestInsertDeliveries(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		now := time.UnixMilli(1_700_000_000_000).UTC()
		for _, n := range []int{1, 64, 65, 130} {
			var want []*store.DeliveryRow
			for i := range n {
				want = append(want, &store.DeliveryRow{ID: fmt.Sprintf("dlv_%03d_%03d", n, i), Project: "p",
					EndpointID: fmt.Sprintf("whe_%d", n), EventID: fmt.Sprintf("evt_%d", i), EventSeq: int64(i + 1),
					Status: store.DeliveryPending, Ordered: i%2 == 0, NextAttemptAt: now.Add(time.Duration(i) * time.Millisecond),
					CreatedAt: now, UpdatedAt: now})
			}
			storetest.Update(t, s, func(tx *store.Tx) error { return tx.InsertDeliveries(ctx, want) })
			var got []store.DeliveryRow
			storetest.View(t, s, func(tx *store.Tx) error {
				var err error
				got, _, err = tx.ListDeliveries(ctx, store.DeliveryQuery{Project: "p", EndpointID: fmt.Sprintf("whe_%d", n),
					Page: store.Page{Limit: 200}})
				return err
			})
			if len(got) != n {
				t.Fatalf("%d queued: %d stored", n, len(got))
			}
			slices.Reverse(got) // newest first
			for i, d := range got {
				w := want[i]
				if d.ID != w.ID || d.EventID != w.EventID || d.EventSeq != w.EventSeq || d.Ordered != w.Ordered ||
					!d.NextAttemptAt.Equal(w.NextAttemptAt) || d.Status != store.DeliveryPending {
					t.Errorf("%d queued, row %d: %+v, want %+v", n, i, d, *w)
				}
			}
		}
	})
}

// TestClaimSkips: a claim passes over the unordered deliveries of the
// endpoints it is told to skip, and still takes an ordered endpoint's head.
func TestClaimSkips(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		now := time.Now()
		queue(t, s, "whe_full1", false, 5, now.Add(-time.Minute))
		queue(t, s, "whe_full2", false, 5, now.Add(-time.Minute))
		free := queue(t, s, "whe_free", false, 3, now)
		head := queue(t, s, "whe_ordered", true, 2, now)[0]
		var ds []store.DeliveryRow
		err := s.Update(context.Background(), func(tx *store.Tx) error {
			var err error
			ds, err = tx.ClaimDeliveries(context.Background(), store.Claim{ID: "c", Now: now, Wall: time.Now(),
				Lease: time.Minute, Limit: 10, Skip: []string{"whe_full1", "whe_full2", "whe_ordered"}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range ds {
			got = append(got, d.ID)
		}
		slices.Sort(got)
		want := append(append([]string(nil), free...), head)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("claimed %v, want %v (skipped endpoints passed over, the ordered head kept)", got, want)
		}
	})
}

// TestReleaseDeliveries: a batch of releases frees the deliveries whose
// claim still holds them, due at the time each release names, and reports
// which did.
func TestReleaseDeliveries(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		ctx := context.Background()
		now := time.Now()
		queue(t, s, "whe_r", false, 3, now)
		ds := claim(t, s, "c1", now, 3)
		if len(ds) != 3 {
			t.Fatalf("claimed %d, want 3", len(ds))
		}
		later := now.Add(time.Hour)
		rs := []store.Release{
			{DeliveryID: ds[0].ID, ClaimID: "c1", NextAttemptAt: now},
			{DeliveryID: ds[1].ID, ClaimID: "c1", NextAttemptAt: later},
			{DeliveryID: ds[2].ID, ClaimID: "stale", NextAttemptAt: now},
		}
		var ok []bool
		err := s.Update(ctx, func(tx *store.Tx) (err error) { ok, err = tx.ReleaseDeliveries(ctx, rs); return err })
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ok, []bool{true, true, false}) {
			t.Fatalf("released %v, want [true true false]", ok)
		}
		if got := claim(t, s, "c2", now, 10); len(got) != 1 || got[0].ID != ds[0].ID {
			t.Fatalf("claimable now: %v, want only %s (the other is due in an hour, the third still held)", got, ds[0].ID)
		}
	})
}

// TestReleaseKeepsARequeue: a release made for a claim keeps the due time
// a later update gave the delivery instead of setting its own. Resumed
// with its endpoint, the delivery stays with its claim, whose release
// keeps the resume's due time; queued again by hand, it is taken from its
// claim, whose release then finds nothing to release.
func TestReleaseKeepsARequeue(t *testing.T) {
	tests := []struct {
		name         string
		update       func(ctx context.Context, tx *store.Tx, id string, at time.Time) error
		wantReleased bool
	}{
		{"resumed with its endpoint", func(ctx context.Context, tx *store.Tx, _ string, at time.Time) error {
			if err := tx.PauseDeliveries(ctx, "whe_q"); err != nil {
				return err
			}
			return tx.ResumeDeliveries(ctx, "whe_q", at)
		}, true},
		{"queued again by hand", func(ctx context.Context, tx *store.Tx, id string, at time.Time) error {
			return tx.RequeueDelivery(ctx, id, at, false)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, b storetest.Backend) {
				s := b.Open(t)
				ctx := context.Background()
				now := time.Now()
				queue(t, s, "whe_q", false, 1, now)
				ds := claim(t, s, "c1", now, 1)
				if len(ds) != 1 {
					t.Fatalf("claimed %d, want 1", len(ds))
				}
				requeued := now.Add(time.Second)
				if err := s.Update(ctx, func(tx *store.Tx) error { return tt.update(ctx, tx, ds[0].ID, requeued) }); err != nil {
					t.Fatal(err)
				}
				var ok []bool
				err := s.Update(ctx, func(tx *store.Tx) (err error) {
					ok, err = tx.ReleaseDeliveries(ctx, []store.Release{{DeliveryID: ds[0].ID, ClaimID: "c1",
						NextAttemptAt: now.Add(time.Hour), Seen: ds[0].UpdatedAt}})
					return err
				})
				if err != nil || ok[0] != tt.wantReleased {
					t.Fatalf("release: %v, %v; want released %t", ok, err, tt.wantReleased)
				}
				if got := claim(t, s, "c2", requeued, 1); len(got) != 1 {
					t.Fatal("the delivery is not due at the time it was queued again for: the release overrode it")
				}
			})
		})
	}
}

// TestBookkeepingBatchSizes releases and records batches of several sizes,
// from one delivery to more than a statement's chunk on either backend, with
// stale claims among them, and checks each delivery and attempt, and the
// attempts and bodies read back for as many IDs.
func TestBookkeepingBatchSizes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		now := time.Now().Truncate(time.Millisecond)
		later := now.Add(time.Hour)
		var plans []string
		for i := range 150 {
			plans = append(plans, fmt.Sprintf("plan_%03d", i))
			put(t, s, store.Resource{Kind: "plan", Project: "p", ID: plans[i], Body: doc{Name: plans[i]}})
		}
		for _, n := range []int{1, 2, 3, 150, 1001} {
			endpoint := fmt.Sprintf("whe_%d", n)
			ids := make([]string, n)
			index := map[string]int{}
			var ds []*store.DeliveryRow
			for i := range n {
				ids[i] = fmt.Sprintf("dlv_%04d_%04d", n, i)
				index[ids[i]] = i
				ds = append(ds, &store.DeliveryRow{ID: ids[i], Project: "p", EndpointID: endpoint, EventID: fmt.Sprintf("evt_%d_%d", n, i),
					EventSeq: int64(i + 1), Status: store.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now})
			}
			storetest.Update(t, s, func(tx *store.Tx) error { return tx.InsertDeliveries(ctx, ds) })
			if got := claim(t, s, "c1", now, n); len(got) != n {
				t.Fatalf("%d queued: %d claimed", n, len(got))
			}
			// Every fourth release is of a stale claim; the others make
			// their delivery due again, each at its own time.
			stale := func(i int) bool { return i%4 == 3 }
			due := func(i int) time.Time { return now.Add(time.Duration(i) * time.Millisecond) }
			rs := make([]store.Release, n)
			for i := range n {
				rs[i] = store.Release{DeliveryID: ids[i], ClaimID: "c1", NextAttemptAt: due(i)}
				if stale(i) {
					rs[i].ClaimID = "stale"
				}
			}
			var released []bool
			storetest.Update(t, s, func(tx *store.Tx) (err error) { released, err = tx.ReleaseDeliveries(ctx, rs); return err })
			again := claim(t, s, "c2", due(n), n)
			for i := range n {
				if released[i] == stale(i) {
					t.Errorf("%d released: release %d (claim %s) reported %t", n, i, rs[i].ClaimID, released[i])
				}
			}
			if want := n - n/4; len(again) != want {
				t.Fatalf("%d released: %d claimable again, want %d", n, len(again), want)
			}
			for _, d := range again {
				if i := index[d.ID]; stale(i) || !d.NextAttemptAt.Equal(due(i)) {
					t.Errorf("%d released: %s claimable again, due %v, want due %v (stale %t)", n, d.ID, d.NextAttemptAt, due(i), stale(i))
				}
			}
			// Results for all, under c2: those still held by c1 are stale.
			results := make([]store.Result, n)
			for i := range n {
				results[i] = store.Result{DeliveryID: ids[i], ClaimID: "c2", Status: store.DeliverySucceeded, NextAttemptAt: now,
					Attempt: store.Attempt{At: now.Add(time.Duration(i) * time.Millisecond), StatusCode: 200 + i%5,
						ResponseBody: fmt.Sprint("body ", i), Latency: time.Duration(i) * time.Millisecond, Error: fmt.Sprint("err ", i)}}
				if i%2 == 1 {
					results[i].Status, results[i].NextAttemptAt, results[i].Attempt.StatusCode = store.DeliveryPending, later, 500
				}
			}
			var recorded []bool
			storetest.Update(t, s, func(tx *store.Tx) (err error) { recorded, err = tx.RecordResults(ctx, results); return err })
			storetest.View(t, s, func(tx *store.Tx) error {
				attempts, err := tx.AttemptsOf(ctx, ids)
				if err != nil {
					return err
				}
				for i, r := range results {
					if recorded[i] == stale(i) {
						t.Errorf("%d recorded: result %d reported %t", n, i, recorded[i])
					}
					d, err := tx.DeliveryOf(ctx, fmt.Sprintf("evt_%d_%d", n, i), endpoint)
					if err != nil {
						return err
					}
					as := attempts[r.DeliveryID]
					if stale(i) {
						if d.Attempts != 0 || len(as) != 0 || d.ClaimID != "c1" || d.Status != store.DeliveryPending {
							t.Errorf("%d recorded: %s held by c1 changed: %+v, %v", n, d.ID, d, as)
						}
						continue
					}
					a := r.Attempt
					if d.Status != r.Status || d.Attempts != 1 || !d.NextAttemptAt.Equal(r.NextAttemptAt) || d.ClaimID != "" ||
						!d.UpdatedAt.Equal(a.At) || d.LastStatus != a.StatusCode || d.LastError != a.Error {
						t.Errorf("%d recorded: %+v after %+v", n, d, r)
					}
					if len(as) != 1 || as[0].N != 1 || !as[0].At.Equal(a.At) || as[0].StatusCode != a.StatusCode ||
						as[0].ResponseBody != a.ResponseBody || as[0].Latency != a.Latency || as[0].Error != a.Error {
						t.Errorf("%d recorded: %s attempts %+v, want one of %+v", n, d.ID, as, a)
					}
				}
				if want := n - n/4; len(attempts) != want {
					t.Errorf("%d recorded: attempts of %d deliveries, want %d", n, len(attempts), want)
				}
				ask := append(slices.Clone(plans[:min(n, len(plans))]), "plan_missing")
				bodies, err := tx.Bodies(ctx, "plan", ask)
				if err != nil {
					return err
				}
				if len(bodies) != len(ask)-1 {
					t.Errorf("bodies of %d plans and a missing one: %d", len(ask)-1, len(bodies))
				}
				for _, id := range ask[:len(ask)-1] {
					var got doc
					if err := json.Unmarshal(bodies[id], &got); err != nil || got.Name != id {
						t.Errorf("body of %s: %s (%v)", id, bodies[id], err)
					}
				}
				return nil
			})
		}
	})
}
