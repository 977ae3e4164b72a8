package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// openTestPostgres opens a store on a fresh schema of the test server
// (SWITCHBOARD_TEST_POSTGRES, or the local one), dropped when the test ends.
// It skips the test when the server is unreachable, unless
// SWITCHBOARD_REQUIRE_POSTGRES=1. (storetest does this for the external
// tests; it imports this package, so these cannot use it.)
func openTestPostgres(t *testing.T) *Store {
	t.Helper()
	dsn := os.Getenv("SWITCHBOARD_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	ctx := context.Background()
	s, err := Open(ctx, dsn, Options{Schema: schema})
	if err != nil {
		if os.Getenv("SWITCHBOARD_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL at %s is required (SWITCHBOARD_REQUIRE_POSTGRES=1): %v", dsn, err)
		}
		t.Skipf("SKIPPED: PostgreSQL at %s: %v", dsn, err)
	}
	t.Cleanup(func() {
		s.write.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		s.Close()
	})
	return s
}

// TestBookkeepingStatementsAreFixed runs the dispatcher's bookkeeping
// (queue, release, record, read attempts and bodies) with batches of
// several sizes in one PostgreSQL transaction, and checks what the
// connection prepared: two statements for the INSERT of deliveries, one
// row's and any more's (a text per size would be parsed and planned anew
// per size and connection, and crowd the driver's statement cache), and
// none for the lookups of a batch of IDs, planned for their arguments each
// time (dialect.planEach; TestBatchTextsAreFixed checks that their text
// does not depend on the batch's size either).
func TestBookkeepingStatementsAreFixed(t *testing.T) {
	s := openTestPostgres(t)
	ctx := context.Background()
	now := time.Now()
	sizes := []int{1, 2, 3, 150}
	err := s.Update(ctx, func(tx *Tx) error {
		var ids []string
		for _, n := range sizes {
			var ds []*DeliveryRow
			for range n {
				id := fmt.Sprintf("dlv_%04d", len(ids))
				ids = append(ids, id)
				ds = append(ds, &DeliveryRow{ID: id, Project: "p", EndpointID: "whe_1", EventID: "evt_" + id,
					Status: DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now})
			}
			if err := tx.InsertDeliveries(ctx, ds); err != nil {
				return err
			}
		}
		claimed, err := tx.ClaimDeliveries(ctx, Claim{ID: "c", Now: now, Wall: now, Lease: time.Minute, Limit: len(ids)})
		if err != nil || len(claimed) != len(ids) {
			return fmt.Errorf("claimed %d of %d: %w", len(claimed), len(ids), err)
		}
		next := 0 // the next delivery to release or record
		for _, n := range []int{1, 2, 3, 10} {
			var rs []Release
			for _, id := range ids[next : next+n] {
				rs = append(rs, Release{DeliveryID: id, ClaimID: "c", NextAttemptAt: now})
			}
			next += n
			if _, err := tx.ReleaseDeliveries(ctx, rs); err != nil {
				return err
			}
		}
		for _, n := range []int{1, 2, 3, 130} {
			var rs []Result
			for _, id := range ids[next : next+n] {
				rs = append(rs, Result{DeliveryID: id, ClaimID: "c", Status: DeliverySucceeded, NextAttemptAt: now,
					Attempt: Attempt{At: now, StatusCode: 204}})
			}
			next += n
			if _, err := tx.RecordResults(ctx, rs); err != nil {
				return err
			}
		}
		for _, n := range sizes {
			if _, err := tx.AttemptsOf(ctx, ids[:n]); err != nil {
				return err
			}
			if _, err := tx.Bodies(ctx, "plan", ids[:n]); err != nil {
				return err
			}
		}
		rows, err := tx.query(ctx, "SELECT statement FROM pg_prepared_statements")
		if err != nil {
			return err
		}
		defer rows.Close()
		statements := map[string][]string{}
		families := []string{"INSERT INTO deliveries", "UPDATE deliveries SET claim_id = ''", "INSERT INTO attempts",
			"FROM attempts", "FROM resources WHERE kind"}
		for rows.Next() {
			var text string
			if err := rows.Scan(&text); err != nil {
				return err
			}
			for _, f := range families {
				if strings.Contains(text, f) {
					statements[f] = append(statements[f], text)
				}
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, f := range families {
			want := 0
			if f == "INSERT INTO deliveries" {
				want = 2
			}
			if len(statements[f]) != want {
				t.Errorf("%q: %d statements prepared for batches of %v, want %d:\n%s", f, len(statements[f]), sizes, want,
					strings.Join(statements[f], "\n---\n"))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBatchTextsAreFixed checks the texts built per batch, the release
// and the lists of IDs: one text whatever the batch's size where there are
// arrays, a VALUES row or a placeholder per item otherwise. (The record and
// the INSERT of deliveries are constants where there are arrays.)
func TestBatchTextsAreFixed(t *testing.T) {
	for _, d := range []*dialect{newSQLiteDialect(), newPostgresDialect()} {
		tx := &Tx{s: &Store{d: d, backend: d.name}}
		releases, lists := map[string]bool{}, map[string]bool{}
		sizes := []int{1, 2, 100, 1000}
		for _, n := range sizes {
			rs := make([]Release, n)
			ids := make([]string, n)
			for i := range rs {
				ids[i] = fmt.Sprint("dlv_", i)
				rs[i] = Release{DeliveryID: ids[i], ClaimID: "c", NextAttemptAt: time.Now(), Seen: time.Now()}
			}
			query, args := tx.releaseStatement(rs)
			releases[query] = true
			if want := strings.Count(query, "?") + len(d.planEach); len(args) != want {
				t.Errorf("%s, %d releases: %d arguments for %d placeholders", d.name, n, len(args), want)
			}
			cond, args := tx.oneOf("id", ids)
			lists[cond] = true
			if want := strings.Count(cond, "?"); len(args) != want {
				t.Errorf("%s, list of %d: %d arguments for %d placeholders", d.name, n, len(args), want)
			}
		}
		want := len(sizes)
		if d.arrays {
			want = 1
		}
		if len(releases) != want || len(lists) != want {
			t.Errorf("%s: %d release texts and %d list texts for %d batch sizes, want %d", d.name, len(releases), len(lists),
				len(sizes), want)
		}
	}
}
