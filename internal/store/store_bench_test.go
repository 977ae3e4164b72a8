package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/id"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// BenchmarkClaimDeliveries claims a batch of 256 due deliveries and records
// their results, as the dispatcher does, on a SQLite file that already
// holds 100,000 delivered rows. It reports deliveries per second.
func BenchmarkClaimDeliveries(b *testing.B) {
	const batch = 256
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	seed := func(n int, status string) {
		b.Helper()
		err := st.Update(ctx, func(tx *store.Tx) error {
			for i := range n {
				d := &store.DeliveryRow{ID: id.New(id.Delivery), Project: "dev", EndpointID: "whe_bench", EventID: id.New(id.Event),
					EventSeq: int64(i), Status: status, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
				if err := tx.InsertDelivery(ctx, d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for range 10 {
		seed(10_000, store.DeliverySucceeded)
	}
	claimed := 0
	var claimTime, recordTime time.Duration
	for b.Loop() {
		b.StopTimer()
		seed(batch, store.DeliveryPending)
		b.StartTimer()
		t0 := time.Now()
		var ds []store.DeliveryRow
		err := st.Update(ctx, func(tx *store.Tx) error {
			var err error
			ds, err = tx.ClaimDeliveries(ctx, store.Claim{ID: "claim" + strconv.Itoa(claimed), Now: now, Wall: time.Now(),
				Lease: time.Minute, Limit: batch})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		err = st.Update(ctx, func(tx *store.Tx) error {
			for _, d := range ds {
				if _, err := tx.RecordResult(ctx, store.Result{DeliveryID: d.ID, ClaimID: d.ClaimID, Status: store.DeliverySucceeded,
					NextAttemptAt: now, Attempt: store.Attempt{At: now, StatusCode: 204, Latency: time.Millisecond}}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		claimTime += t1.Sub(t0)
		recordTime += time.Since(t1)
		claimed += len(ds)
	}
	if claimed > 0 {
		b.ReportMetric(float64(claimed)/(claimTime+recordTime).Seconds(), "deliveries/s")
		b.ReportMetric(float64(claimTime.Microseconds())/float64(claimed), "claim-µs/delivery")
		b.ReportMetric(float64(recordTime.Microseconds())/float64(claimed), "record-µs/delivery")
	}
}

// millionEvents is the SQLite file BenchmarkListEvents lists: 1,000,000
// events of one project (and 100,000 of another), made once and kept in
// the temporary directory between runs (it takes a while to fill).
var millionEvents = sync.OnceValues(func() (string, error) {
	const total, other = 1_000_000, 100_000
	path := filepath.Join(os.TempDir(), "switchboard-bench-events-1m-v1.db")
	ctx := context.Background()
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return "", err
	}
	defer st.Close()
	var n int
	err = st.View(ctx, func(tx *store.Tx) error {
		evs, _, err := tx.ListEvents(ctx, store.EventQuery{Project: "other", Page: store.Page{Limit: 1}})
		n = len(evs)
		return err
	})
	if err != nil || n > 0 {
		return path, err
	}
	types := []string{"com.gigs.porting.updated", "com.gigs.porting.created", "com.gigs.subscription.updated",
		"com.gigs.subscription.created", "com.gigs.user.created"}
	data := []byte(`{"object":"porting","id":"prt_x","status":"pending","phoneNumber":"+12012001234","provider":"p9"}`)
	t := time.Now()
	for i := 0; i < total+other; i += 10_000 {
		err := st.Update(ctx, func(tx *store.Tx) error {
			for j := i; j < i+10_000; j++ {
				project := "dev"
				if j >= total { // the marker project goes last: its presence means the file is complete
					project = "other"
				}
				e := &store.EventRow{ID: id.New(id.Event), Project: project, Type: types[j%len(types)], Resource: "prt_x",
					Time: t, Source: "https://api.gigs.com", Data: data, Actor: []byte(`{"type":"system"}`)}
				if err := tx.InsertEvent(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return path, nil
})

// BenchmarkListEvents lists a project's events with 1,000,000 stored: the
// newest page, a page deep in the log (after a cursor), a page filtered by
// type, and a page of 200. It reports the p99 of the calls. The 1M-row
// file is built on first use (only when the benchmark runs: plain go test
// never does).
func BenchmarkListEvents(b *testing.B) {
	path, err := millionEvents()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var deep string // a cursor half-way down the log
	err = st.View(ctx, func(tx *store.Tx) error {
		page := store.Page{Limit: 200}
		for range 2500 {
			_, cur, err := tx.ListEvents(ctx, store.EventQuery{Project: "dev", Page: page})
			if err != nil {
				return err
			}
			page.After, deep = cur.MoreAfter, cur.MoreAfter
		}
		return nil
	})
	if err != nil || deep == "" {
		b.Fatal("no deep cursor", err)
	}
	cases := []struct {
		name string
		q    store.EventQuery
	}{
		{"newest/limit=10", store.EventQuery{Project: "dev", Page: store.Page{Limit: 10}}},
		{"deep/limit=10", store.EventQuery{Project: "dev", Page: store.Page{After: deep, Limit: 10}}},
		{"type/limit=10", store.EventQuery{Project: "dev", Types: []string{"com.gigs.user.created"}, Page: store.Page{Limit: 10}}},
		{"newest/limit=200", store.EventQuery{Project: "dev", Page: store.Page{Limit: 200}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var ds []time.Duration
			for b.Loop() {
				t0 := time.Now()
				err := st.View(ctx, func(tx *store.Tx) error {
					evs, _, err := tx.ListEvents(ctx, c.q)
					if err == nil && len(evs) == 0 {
						err = fmt.Errorf("empty page")
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(t0))
			}
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkWriteTransaction runs the writes of a typical API call — a
// resource read for update and written back (2 kB), two events about it
// (2 kB each) with a delivery each — on each backend, its events appended
// in one statement (AppendEvents, with the pending Put on PostgreSQL) or
// a statement per row (InsertEvent, InsertDeliveries). On PostgreSQL the
// difference is round trips.
func BenchmarkWriteTransaction(b *testing.B) {
	ctx := context.Background()
	body := map[string]string{"pad": strings.Repeat("x", 2000)}
	data := []byte(`{"pad":"` + strings.Repeat("y", 2000) + `"}`)
	for _, backend := range []string{store.SQLite, store.Postgres} {
		st := storetest.New(b, backend).Open(b)
		err := st.Update(ctx, func(tx *store.Tx) error {
			return tx.Put(ctx, store.Resource{Kind: "subscription", Project: "dev", ID: "sub_bench", Body: body})
		})
		if err != nil {
			b.Fatal(err)
		}
		for _, mode := range []string{"one-statement", "per-row"} {
			b.Run(backend+"/"+mode, func(b *testing.B) {
				for b.Loop() {
					err := st.Update(ctx, func(tx *store.Tx) error {
						var v map[string]string
						if err := tx.GetForUpdate(ctx, "subscription", "dev", "sub_bench", &v); err != nil {
							return err
						}
						if err := tx.Put(ctx, store.Resource{Kind: "subscription", Project: "dev", ID: "sub_bench", Status: "active", Body: v}); err != nil {
							return err
						}
						now := time.Now()
						var evs []*store.EventRow
						var ds []*store.DeliveryRow
						for range 2 {
							e := &store.EventRow{ID: id.New(id.Event), Project: "dev", Type: "com.gigs.subscription.updated",
								Resource: "sub_bench", Time: now, Source: "bench", Data: data}
							evs = append(evs, e)
							ds = append(ds, &store.DeliveryRow{ID: id.New(id.Delivery), Project: "dev", EndpointID: "whe_bench",
								EventID: e.ID, Status: store.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now})
						}
						if mode == "one-statement" {
							return tx.AppendEvents(ctx, evs, ds)
						}
						for i, e := range evs {
							if err := tx.InsertEvent(ctx, e); err != nil {
								return err
							}
							ds[i].EventSeq = e.Seq
						}
						return tx.InsertDeliveries(ctx, ds)
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkInsertDeliveries queues deliveries in batches of 1, 2 and 16, as
// events to one, two and sixteen endpoints do, 100 batches a transaction,
// and reports the time per delivery.
func BenchmarkInsertDeliveries(b *testing.B) {
	for _, name := range []string{store.SQLite, store.Postgres} {
		for _, batch := range []int{1, 2, 16} {
			b.Run(fmt.Sprintf("%s/batch=%d", name, batch), func(b *testing.B) {
				s := storetest.New(b, name).Open(b)
				ctx := context.Background()
				now := time.Now()
				n := 0
				for b.Loop() {
					err := s.Update(ctx, func(tx *store.Tx) error {
						for range 100 {
							ds := make([]*store.DeliveryRow, batch)
							for i := range ds {
								n++
								ds[i] = &store.DeliveryRow{ID: fmt.Sprintf("dlv_%09d", n), Project: "p", EndpointID: fmt.Sprint("whe_", i),
									EventID: fmt.Sprint("evt_", n), EventSeq: int64(n), Status: store.DeliveryPending, NextAttemptAt: now,
									CreatedAt: now, UpdatedAt: now}
							}
							if err := tx.InsertDeliveries(ctx, ds); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/delivery")
			})
		}
	}
}
