package store_test

import (
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestScanKindAndRewrite checks the pass over all of a kind's resources:
// every project, in ID order, paged; and a rewrite that changes the body
// and unique key only, and only while the body is the one read.
func TestScanKindAndRewrite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		put(t, s,
			store.Resource{Kind: "key", Project: "p2", ID: "k_3", Status: "on", Owner: "o", Unique: "u3", Body: doc{Name: "three"}},
			store.Resource{Kind: "key", Project: "p1", ID: "k_1", Unique: "u1", Body: doc{Name: "one"}},
			store.Resource{Kind: "key", Project: "", ID: "k_2", Body: doc{Name: "two"}},
			store.Resource{Kind: "other", Project: "p1", ID: "k_0", Body: doc{Name: "other"}},
		)
		var first, rest []store.Stored
		storetest.View(t, s, func(tx *store.Tx) (err error) {
			if first, err = tx.ScanKind(ctx, "key", "", 2); err != nil {
				return err
			}
			rest, err = tx.ScanKind(ctx, "key", first[len(first)-1].ID, 2)
			return err
		})
		var ids []string
		for _, r := range append(first, rest...) {
			ids = append(ids, r.Project+"/"+r.ID+"/"+r.Unique)
		}
		if got, want := ids, []string{"p1/k_1/u1", "/k_2/", "p2/k_3/u3"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("scan = %v, want %v", got, want)
		}
		three := rest[0]
		changed := three
		changed.Body, changed.Unique = []byte(`{"name":"THREE","count":3}`), "u3b"
		var ok, stale bool
		storetest.Update(t, s, func(tx *store.Tx) (err error) {
			if ok, err = tx.Rewrite(ctx, "key", three.Body, changed); err != nil {
				return err
			}
			// A second rewrite from the body first read finds it changed.
			stale, err = tx.Rewrite(ctx, "key", three.Body, changed)
			return err
		})
		if !ok || stale {
			t.Fatalf("rewrite = %v, then %v; want true, then false", ok, stale)
		}
		if err := s.Scrub(ctx); err != nil {
			t.Fatalf("scrub: %v", err)
		}
		var got doc
		storetest.View(t, s, func(tx *store.Tx) error { return tx.GetUnique(ctx, "key", "p2", "u3b", &got) })
		if got != (doc{Name: "THREE", Count: 3}) {
			t.Fatalf("rewritten = %+v", got)
		}
		var items [][]byte
		storetest.View(t, s, func(tx *store.Tx) (err error) {
			items, _, err = tx.List(ctx, store.Query{Kind: "key", Project: "p2", Status: "on", Owner: "o"})
			return err
		})
		if len(items) != 1 {
			t.Fatalf("the rewrite changed the other columns: %d listed by status and owner", len(items))
		}
	})
}
