package eventlog_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/id"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// BenchmarkRecord records one change the way a service does: in one write
// transaction, the resource is stored and its *.updated event recorded
// (diff, insert, a delivery per endpoint), on a SQLite file.
func BenchmarkRecord(b *testing.B) {
	for _, endpoints := range []int{1, 50} {
		b.Run(fmt.Sprintf("sqlite/endpoints=%d", endpoints), func(b *testing.B) {
			ctx := context.Background()
			st, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			clk := &clock.Offset{}
			err = st.Update(ctx, func(tx *store.Tx) error {
				for i := range endpoints {
					now := clk.Now()
					e := endpoint.Endpoint{ID: id.New(id.Endpoint), Project: "dev", URL: fmt.Sprintf("http://127.0.0.1:1/%d", i),
						EnabledEvents: []string{"*"}, Version: switchboard.LatestVersion, Status: endpoint.Enabled,
						Secrets: []endpoint.Secret{{Value: endpoint.NewSecret()}}, CreatedAt: now, UpdatedAt: now}
					if err := tx.Put(ctx, e.Record()); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			log := eventlog.New(eventlog.Config{Clock: clock.Same{Clock: clk}, Endpoints: endpoint.Targets})
			before := []byte(replaceOnce(string(benchPorting), `"status":"requested"`, `"status":"pending"`))
			var beforeDoc, afterDoc map[string]any
			if err := jsonUnmarshal(before, &beforeDoc); err != nil {
				b.Fatal(err)
			}
			if err := jsonUnmarshal(benchPorting, &afterDoc); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				prt := id.New(id.Porting)
				afterDoc["id"] = prt
				err := st.Update(ctx, func(tx *store.Tx) error {
					if err := tx.Put(ctx, store.Resource{Kind: "porting", Project: "dev", ID: prt, Body: afterDoc}); err != nil {
						return err
					}
					_, err := log.Record(ctx, tx, "dev", eventlog.Change{Type: switchboard.TypePortingUpdated, Resource: prt,
						Data: afterDoc, Before: beforeDoc})
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}
