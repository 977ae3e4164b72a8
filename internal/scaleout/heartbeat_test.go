package scaleout_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestDeadProcessLeasesReclaimed runs two processes on one PostgreSQL
// schema, SIGKILLs the one that holds leased deliveries (leased for two
// minutes), and proves that the other delivers them within 15 s of the kill:
// the dead process's heartbeat stops and its leases are taken back, long
// before they would end.
func TestDeadProcessLeasesReclaimed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs several server processes")
	}
	const users = 100
	b := storetest.New(t, store.Postgres)
	db := b.DB + "&search_path=" + b.Schema
	// Only the victim's leases are long: any lease still running 30 s
	// after the kill is the victim's.
	victim := startServe(t, "victim", db, "--webhook-lease", "2m")
	survivor := startServe(t, "survivor", db)
	ctx := context.Background()
	rc := newReceiver(t)
	rc.maxDelay = 300 * time.Millisecond // attempts in flight, a backlog leased
	if _, err := call(ctx, http.MethodPost, victim.URL+"/projects/dev/webhookEndpoints",
		map[string]any{"url": rc.URL + "/all", "enabledEvents": []string{"com.gigs.user.created"}}, nil); err != nil {
		t.Fatal(err)
	}
	// The victim queues every delivery, handed to its own dispatcher.
	var ids []string
	for i := range users {
		var u struct{ ID string }
		if _, err := call(ctx, http.MethodPost, victim.URL+"/projects/dev/users",
			map[string]any{"email": fmt.Sprintf("h%d@example.com", i)}, &u); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	victim.Kill()
	killed := time.Now()

	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var held int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE status = 'pending' AND lease_until > $1`,
		killed.Add(30*time.Second).UnixMilli()).Scan(&held); err != nil {
		t.Fatal(err)
	}
	if held == 0 {
		t.Fatal("the victim held no lease when it was killed: the test proves nothing")
	}
	var eventIDs []string
	rows, err := conn.Query(ctx, `SELECT id FROM events WHERE type = 'com.gigs.user.created'`)
	if err != nil {
		t.Fatal(err)
	}
	eventIDs, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(eventIDs) != users {
		t.Fatalf("%d user.created events (%v), want %d", len(eventIDs), err, users)
	}
	storetest.WaitFor(t, time.Until(killed.Add(15*time.Second)), "every delivery within 15 s of the kill", func() bool {
		for _, id := range eventIDs {
			if rc.got("/all", id) == 0 {
				return false
			}
		}
		return true
	})
	t.Logf("the victim held %d leases at the kill; all %d events delivered %.1f s after it (survivor %s)",
		held, users, time.Since(killed).Seconds(), survivor.Name)
}
