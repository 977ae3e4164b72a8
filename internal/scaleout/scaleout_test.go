package scaleout_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// inFlightGrace is how long after a SIGKILL a request the killed process had
// already sent may still reach the receiver (kernel buffers, the receiver's
// own scheduling on a loaded machine).
const inFlightGrace = 500 * time.Millisecond

// TestScaleOut runs two and then three `switchboard serve` processes on one
// PostgreSQL schema, drives load through all of them, SIGKILLs one at a
// random moment, and proves that
//   - every committed event reached every matching endpoint at least once,
//     and an endpoint got an event twice only if the first attempt was in
//     flight when the process died;
//   - each timer (a draft porting's clean-up) fired exactly once although
//     every process's scheduler scans for it.
func TestScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("runs several server processes")
	}
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d processes", n), func(t *testing.T) {
			// In parallel, so that the waits for the killed process's
			// leases overlap.
			t.Parallel()
			testScaleOut(t, n)
		})
	}
}

// endpointSpec is one endpoint of the test: a receiver path and its filter.
type endpointSpec struct {
	path    string
	events  []string
	ordered bool // the endpoint gets its events one at a time, in order
}

var endpoints = []endpointSpec{
	{"/all", []string{"*"}, false},
	{"/users", []string{"com.gigs.user.*"}, false},
	{"/portings", []string{"com.gigs.porting.created", "com.gigs.porting.deleted"}, false},
	{"/ordered", []string{"com.gigs.user.*"}, true},
}

func testScaleOut(t *testing.T, n int) {
	b := storetest.New(t, store.Postgres)
	db := b.DB + "&search_path=" + b.Schema
	procs := make([]*proc, n)
	for i := range procs {
		procs[i] = startServe(t, fmt.Sprintf("serve-%d", i), db)
	}
	ctx := context.Background()
	rc := newReceiver(t)
	rc.maxDelay = 20 * time.Millisecond
	for _, ep := range endpoints {
		code, err := call(ctx, http.MethodPost, procs[0].URL+"/projects/dev/webhookEndpoints", map[string]any{
			"url": rc.URL + ep.path, "enabledEvents": ep.events, "ordered": ep.ordered,
		}, nil)
		if err != nil {
			// A 404 here is a routing regression, not a missing feature.
			t.Fatalf("create endpoint %s: status %d: %v", ep.path, code, err)
		}
	}

	// Load through every live process; SIGKILL one of them at a random
	// moment.
	var (
		next     atomic.Int64
		mu       sync.Mutex
		users    []string // IDs the API confirmed
		drafts   []string
		killedAt time.Time
	)
	live := func() []*proc {
		var out []*proc
		for _, p := range procs {
			if p.Alive() {
				out = append(out, p)
			}
		}
		return out
	}
	loadCtx, stopLoad := context.WithTimeout(ctx, 4*time.Second)
	defer stopLoad()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for loadCtx.Err() == nil {
				ps := live()
				p := ps[rand.IntN(len(ps))]
				i := next.Add(1)
				var u struct{ ID string }
				if _, err := call(loadCtx, http.MethodPost, p.URL+"/projects/dev/users",
					map[string]any{"email": fmt.Sprintf("u%d@example.com", i)}, &u); err != nil {
					continue // the process died under the request, or the load ended
				}
				mu.Lock()
				users = append(users, u.ID)
				mu.Unlock()
				if i%3 != 0 {
					continue
				}
				var pr struct{ ID string }
				if code, err := call(loadCtx, http.MethodPost, p.URL+"/projects/dev/portings", map[string]any{
					"phoneNumber": fmt.Sprintf("+1415555%04d", 2000+i%8000), "user": u.ID, "provider": "p1",
				}, &pr); err != nil {
					if code != 0 && code != http.StatusServiceUnavailable && loadCtx.Err() == nil {
						t.Errorf("create porting: %v", err) // an answer, and not a clean refusal
					}
					continue
				}
				mu.Lock()
				drafts = append(drafts, pr.ID)
				mu.Unlock()
			}
		})
	}
	victim := procs[rand.IntN(n)]
	select {
	case <-time.After(time.Duration(500+rand.IntN(2500)) * time.Millisecond):
	case <-loadCtx.Done():
	}
	victim.Kill()
	mu.Lock()
	killedAt = time.Now()
	mu.Unlock()
	t.Logf("killed %s at %s", victim.Name, killedAt.Format(time.StampMilli))
	wg.Wait()
	survivor := live()[0]
	if len(users) == 0 {
		t.Fatal("no request succeeded")
	}

	// Fire the draft portings' clean-up timers: every process's scheduler
	// sees them due.
	if _, err := call(ctx, http.MethodPost, survivor.URL+"/projects/dev/simulator/clock/advance",
		map[string]any{"seconds": int64((porting.DraftTTL + time.Hour) / time.Second)}, nil); err != nil {
		t.Fatalf("advance the clock: %v", err)
	}

	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	// Every draft porting is deleted, once.
	storetest.WaitFor(t, 60*time.Second, "every draft porting's clean-up", func() bool {
		var left int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM resources WHERE kind = $1`, porting.Kind).Scan(&left); err != nil {
			t.Fatal(err)
		}
		return left == 0
	})
	rows, err := conn.Query(ctx, `SELECT resource, count(*) FROM events WHERE type = 'com.gigs.porting.deleted' GROUP BY resource`)
	if err != nil {
		t.Fatal(err)
	}
	deleted := map[string]int{}
	for rows.Next() {
		var id string
		var c int
		if err := rows.Scan(&id, &c); err != nil {
			t.Fatal(err)
		}
		deleted[id] = c
	}
	rows.Close()
	for _, id := range drafts {
		if deleted[id] != 1 {
			t.Errorf("draft porting %s clean-up fired %d times, want once", id, deleted[id])
		}
	}

	// The committed events are the database's: those the API confirmed and
	// any that committed under a request whose answer the kill lost.
	type ev struct{ id, typ, resource string }
	var events []ev
	rows, err = conn.Query(ctx, `SELECT id, type, resource FROM events WHERE project = 'dev' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var e ev
		if err := rows.Scan(&e.id, &e.typ, &e.resource); err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	rows.Close()
	created := map[string]bool{}
	for _, e := range events {
		if e.typ == "com.gigs.user.created" {
			created[e.resource] = true
		}
	}
	for _, id := range users {
		if !created[id] {
			t.Errorf("user %s was confirmed by the API but has no created event", id)
		}
	}

	type pair struct{ path, event string }
	var want []pair
	for _, e := range events {
		for _, ep := range endpoints {
			if endpoint.Matches(ep.events, e.typ) {
				want = append(want, pair{ep.path, e.id})
			}
		}
	}
	// A delivery the killed process had claimed comes due again when its
	// lease ends.
	var missing []pair
	deadline := time.Now().Add(testLease + time.Minute)
	for {
		missing = missing[:0]
		for _, p := range want {
			if rc.got(p.path, p.event) == 0 {
				missing = append(missing, p)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			var states []string
			for _, p := range missing[:min(len(missing), 10)] {
				var status, claim string
				var attempts, lease int64
				err := conn.QueryRow(ctx, `SELECT status, attempts, lease_until, claim_id FROM deliveries
					WHERE event_id = $1`, p.event).Scan(&status, &attempts, &lease, &claim)
				states = append(states, fmt.Sprintf("%s %s: %s attempts=%d lease_until=%s claim=%q %v",
					p.path, p.event, status, attempts, time.UnixMilli(lease).Format(time.StampMilli), claim, err))
			}
			t.Fatalf("%d of %d deliveries never arrived; e.g.\n%s", len(missing), len(want), strings.Join(states, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	dups := 0
	for _, p := range want {
		if c := rc.got(p.path, p.event); c > 1 {
			dups++
			// An attempt in flight at the kill may reach the receiver a
			// moment after it: its bytes were already on their way.
			if first := rc.firstAt(p.path, p.event); first.After(killedAt.Add(inFlightGrace)) {
				t.Errorf("%s got %s %d times, the first at %s after the kill: a duplicate not from an attempt in flight",
					p.path, p.event, c, first.Format(time.StampMilli))
			}
		}
	}
	// An ordered endpoint got each event first in the log's order, across
	// processes and the kill.
	for _, ep := range endpoints {
		if !ep.ordered {
			continue
		}
		seqOf := map[string]int{}
		for i, e := range events {
			seqOf[e.id] = i
		}
		last, seen := -1, map[string]bool{}
		rc.mu.Lock()
		for _, r := range rc.receipts {
			if r.Endpoint != ep.path || seen[r.EventID] {
				continue
			}
			seen[r.EventID] = true
			if i := seqOf[r.EventID]; i < last {
				t.Errorf("ordered endpoint %s got %s before an event logged after it", ep.path, r.EventID)
			} else {
				last = i
			}
		}
		rc.mu.Unlock()
	}
	t.Logf("%d processes: %d events, %d deliveries, %d duplicates (in flight at the kill), %d draft clean-ups",
		n, len(events), len(want), dups, len(drafts))
}
