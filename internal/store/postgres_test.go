package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// freePort returns a loopback port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestOpenUnreachablePostgresIsUnavailable(t *testing.T) {
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/test?sslmode=disable&connect_timeout=2", freePort(t))
	_, err := store.Open(ctx, dsn, store.Options{})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open(closed port) = %v, want ErrUnavailable", err)
	}
}

// adminConn is a connection of the test's own to the PostgreSQL server.
func adminConn(t *testing.T, b storetest.Backend) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(ctx, b.DB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// openNamed opens the backend's store with an application_name of its own,
// by which the test finds the store's connections on the server.
func openNamed(t *testing.T, b storetest.Backend) (*store.Store, string) {
	t.Helper()
	name := "sbtest_" + b.Schema
	s, err := store.Open(ctx, b.DB+"&application_name="+name, store.Options{Schema: b.Schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, name
}

// TestTerminatedConnectionIsUnavailable kills the store's connection in the
// middle of a transaction, as a server restart does: the transaction fails
// with ErrUnavailable and the next one runs on a fresh connection.
func TestTerminatedConnectionIsUnavailable(t *testing.T) {
	b := storetest.New(t, store.Postgres)
	s, name := openNamed(t, b)
	admin := adminConn(t, b)
	err := s.Update(ctx, func(tx *store.Tx) error {
		if err := tx.SetSetting(ctx, "k", "before"); err != nil {
			return err
		}
		// Our own backend is the one holding the setting row's lock.
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = $1 AND state = 'idle in transaction'`, name); err != nil {
			return fmt.Errorf("terminate: %w", err)
		}
		return tx.SetSetting(ctx, "k", "after")
	})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Update on a terminated connection = %v, want ErrUnavailable", err)
	}
	var v string
	storetest.View(t, s, func(tx *store.Tx) (err error) { v, err = tx.Setting(ctx, "k"); return err })
	if v != "" {
		t.Errorf("setting = %q after the failed transaction, want none", v)
	}
	storetest.Update(t, s, func(tx *store.Tx) error { return tx.SetSetting(ctx, "k", "recovered") })
}

// TestIdleConnectionsDieWithTheServer terminates every idle connection of
// the store's pool, as a restart of PostgreSQL does: requests fail with
// ErrUnavailable at worst, and the pool replaces its connections by itself.
func TestIdleConnectionsDieWithTheServer(t *testing.T) {
	b := storetest.New(t, store.Postgres)
	s, name := openNamed(t, b)
	admin := adminConn(t, b)
	// Fill the pool with idle connections.
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			if err := s.Update(ctx, func(tx *store.Tx) error { return tx.SetSetting(ctx, fmt.Sprint("k", i), "v") }); err != nil {
				t.Errorf("fill the pool: %v", err)
			}
		})
	}
	wg.Wait()
	var killed int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1`, name).Scan(&killed); err != nil || killed == 0 {
		t.Fatalf("terminated %d connections: %v", killed, err)
	}
	storetest.WaitFor(t, 10*time.Second, "the store to recover", func() bool {
		err := s.Update(ctx, func(tx *store.Tx) error { return tx.SetSetting(ctx, "k", "after") })
		if err != nil && !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("Update after termination = %v, want success or ErrUnavailable", err)
		}
		return err == nil
	})
}

// TestEventLogCommitOrder runs writers that serialize their events, insert
// them and linger before they commit, while a reader tails the log with
// EventsSince: the reader must
// see every event exactly once, in seq order, however commits interleave.
func TestEventLogCommitOrder(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		stores := []*store.Store{s, b.Open(t), b.Open(t)} // three processes
		const writers, each = 6, 20
		var wg sync.WaitGroup
		var committed atomic.Int64
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					err := stores[w%len(stores)].Update(ctx, func(tx *store.Tx) error {
						if err := tx.SerializeEvents(ctx, "p1"); err != nil {
							return err
						}
						if err := tx.InsertEvent(ctx, event("p1", fmt.Sprintf("evt_%d_%d", w, i), "t")); err != nil {
							return err
						}
						// Hold the transaction open for a moment so that
						// later seqs could otherwise commit first.
						if _, err := tx.EventsSince(ctx, "p1", 0, 1); err != nil {
							return err
						}
						time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
						return nil
					})
					if err != nil {
						t.Errorf("writer: %v", err)
						return
					}
					committed.Add(1)
				}
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()

		seen := map[string]bool{}
		var after int64
		for finished := false; ; {
			select {
			case <-done:
				finished = true
			default:
			}
			var evs []store.EventRow
			storetest.View(t, s, func(tx *store.Tx) (err error) { evs, err = tx.EventsSince(ctx, "p1", after, 7); return err })
			for _, e := range evs {
				if e.Seq <= after {
					t.Fatalf("EventsSince(%d) returned seq %d", after, e.Seq)
				}
				if seen[e.ID] {
					t.Fatalf("event %s seen twice", e.ID)
				}
				seen[e.ID] = true
				after = e.Seq
			}
			if finished && len(evs) == 0 {
				break
			}
		}
		if len(seen) != writers*each {
			t.Errorf("tailing reader saw %d events, want %d: it skipped events that committed late", len(seen), writers*each)
		}
	})
}

// TestEventLockSerialisesAProject checks that a transaction serializing its
// appends to a project's log waits for another that did so first, and that
// other projects' appends do not wait.
func TestEventLockSerialisesAProject(t *testing.T) {
	// Three processes: each batches its own writes.
	b := storetest.New(t, store.Postgres)
	s, s2, s3 := b.Open(t), b.Open(t), b.Open(t)
	holding := make(chan struct{})
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.Update(ctx, func(tx *store.Tx) error {
			if err := tx.SerializeEvents(ctx, "p1"); err != nil {
				return err
			}
			if err := tx.InsertEvent(ctx, event("p1", "evt_first", "t")); err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	// Another project is not held up.
	other := event("p2", "evt_other", "t")
	storetest.Update(t, s2, func(tx *store.Tx) error {
		if err := tx.SerializeEvents(ctx, "p2"); err != nil {
			return err
		}
		return tx.InsertEvent(ctx, other)
	})

	second := make(chan int64, 1)
	go func() {
		e := event("p1", "evt_second", "t")
		err := s3.Update(ctx, func(tx *store.Tx) error {
			if err := tx.SerializeEvents(ctx, "p1"); err != nil {
				return err
			}
			return tx.InsertEvent(ctx, e)
		})
		if err != nil {
			t.Errorf("second: %v", err)
		}
		second <- e.Seq
	}()
	select {
	case <-second:
		t.Fatal("the second append to p1 committed while the first held the log")
	case <-time.After(100 * time.Millisecond): // it stays blocked
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	seq := <-second
	var e store.EventRow
	storetest.View(t, s, func(tx *store.Tx) (err error) { e, err = tx.GetEvent(ctx, "p1", "evt_first"); return err })
	if seq <= e.Seq {
		t.Errorf("second seq %d not after first %d", seq, e.Seq)
	}
}

func TestPoolSize(t *testing.T) {
	b := storetest.New(t, store.Postgres)
	s, err := store.Open(ctx, b.DB+"&pool_max_conns=2", store.Options{Schema: b.Schema})
	if err != nil {
		t.Fatalf("Open with pool_max_conns: %v", err)
	}
	defer s.Close()
	// Three concurrent transactions on a pool of two: the third waits for a
	// connection rather than failing.
	var wg sync.WaitGroup
	var inside, most atomic.Int32
	for range 3 {
		wg.Go(func() {
			err := s.Update(ctx, func(tx *store.Tx) error {
				n := inside.Add(1)
				defer inside.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(20 * time.Millisecond)
				return tx.SetSetting(ctx, "k", "v")
			})
			if err != nil {
				t.Errorf("transaction on a pool of 2: %v", err)
			}
		})
	}
	wg.Wait()
	if most.Load() > 2 {
		t.Errorf("%d transactions ran at once on a pool of 2", most.Load())
	}
}

// TestSearchPathNamesTheSchema: a URL's search_path chooses the schema,
// which is created and migrated, as Options.Schema does.
func TestSearchPathNamesTheSchema(t *testing.T) {
	b := storetest.New(t, store.Postgres)
	s, err := store.Open(ctx, b.DB+"&search_path="+b.Schema, store.Options{})
	if err != nil {
		t.Fatalf("Open with search_path: %v", err)
	}
	defer s.Close()
	storetest.Update(t, s, func(tx *store.Tx) error { return tx.SetSetting(ctx, "k", "v") })
	var n int
	if err := adminConn(t, b).QueryRow(ctx, "SELECT count(*) FROM "+b.Schema+".settings").Scan(&n); err != nil || n != 1 {
		t.Errorf("settings rows in schema %s = %d, %v; want 1", b.Schema, n, err)
	}
}

// TestDeadlockIsRetried makes two transactions lock two rows in opposite
// orders: PostgreSQL aborts one of them (40P01), and Update runs it again,
// so both succeed.
func TestDeadlockIsRetried(t *testing.T) {
	// Two processes: each batches its own writes.
	b := storetest.New(t, store.Postgres)
	s, s2 := b.Open(t), b.Open(t)
	put(t, s, store.Resource{Kind: "counter", Project: "p1", ID: "a", Body: doc{}},
		store.Resource{Kind: "counter", Project: "p1", ID: "b", Body: doc{}})
	var barrier sync.WaitGroup
	barrier.Add(2)
	var attempts atomic.Int32
	bump := func(s *store.Store, first, second string) error {
		var once sync.Once
		return s.Update(ctx, func(tx *store.Tx) error {
			attempts.Add(1)
			for i, id := range []string{first, second} {
				var d doc
				if err := tx.GetForUpdate(ctx, "counter", "p1", id, &d); err != nil {
					return err
				}
				if i == 0 {
					once.Do(func() { barrier.Done(); barrier.Wait() }) // both hold their first row
				}
				d.Count++
				if err := tx.Put(ctx, store.Resource{Kind: "counter", Project: "p1", ID: id, Body: d}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- bump(s, "a", "b") }()
	go func() { errs <- bump(s2, "b", "a") }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Update: %v", err)
		}
	}
	if n := attempts.Load(); n < 3 {
		t.Errorf("%d attempts, want a retry after the deadlock", n)
	}
	for _, id := range []string{"a", "b"} {
		var d doc
		storetest.View(t, s, func(tx *store.Tx) error { return tx.GetForUpdate(ctx, "counter", "p1", id, &d) })
		if d.Count != 2 {
			t.Errorf("counter %s = %d, want 2", id, d.Count)
		}
	}
}

// TestEventLockIsPerSchema: the same project in another schema of the
// database does not wait for the event lock.
func TestEventLockIsPerSchema(t *testing.T) {
	s1 := storetest.New(t, store.Postgres).Open(t)
	s2 := storetest.New(t, store.Postgres).Open(t)
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s1.Update(ctx, func(tx *store.Tx) error {
			if err := tx.InsertEvent(ctx, event("p1", "evt_1", "t")); err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := s2.Update(tctx, func(tx *store.Tx) error { return tx.InsertEvent(tctx, event("p1", "evt_1", "t")) })
	close(release)
	if err != nil {
		t.Errorf("append in another schema while the first held its log: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestReadDoesNotLock checks that Read, unlike Get, neither takes nor waits
// for a row lock in a write transaction: transactions that share a plan do
// not queue behind each other.
func TestReadDoesNotLock(t *testing.T) {
	// Three processes: each batches its own writes.
	b := storetest.New(t, store.Postgres)
	s, s2, s3 := b.Open(t), b.Open(t), b.Open(t)
	storetest.Update(t, s, func(tx *store.Tx) error {
		return tx.Put(ctx, store.Resource{Kind: "plan", Project: "p1", ID: "pln_1", Body: map[string]int{"v": 1}})
	})
	holding, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.Update(ctx, func(tx *store.Tx) error {
			var v map[string]int
			if err := tx.GetForUpdate(ctx, "plan", "p1", "pln_1", &v); err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	var v map[string]int
	storetest.Update(t, s2, func(tx *store.Tx) error { return tx.Read(ctx, "plan", "p1", "pln_1", &v) })
	if v["v"] != 1 {
		t.Fatalf("Read = %v, want the stored plan", v)
	}
	blocked := make(chan error, 1)
	go func() {
		blocked <- s3.Update(ctx, func(tx *store.Tx) error { return tx.GetForUpdate(ctx, "plan", "p1", "pln_1", &v) })
	}()
	select {
	case err := <-blocked:
		t.Fatalf("Get of a locked row returned (%v) while the lock was held", err)
	case <-time.After(100 * time.Millisecond): // it waits, as it should
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
}

// TestWriterModes runs the isolation of failing transactions with each way
// PostgreSQL's write transactions can run: a pool connection each,
// committed alone, or queued for one writer or several, committed in
// batches.
func TestWriterModes(t *testing.T) {
	for _, writers := range []int{-1, 1, 4} {
		t.Run(fmt.Sprintf("writers=%d", writers), func(t *testing.T) {
			s := storetest.New(t, store.Postgres).OpenWith(t, store.Options{Writers: writers})
			if got, want := s.BatchesWrites(), writers > 0; got != want {
				t.Errorf("BatchesWrites() = %v, want %v", got, want)
			}
			isolateFailures(t, s)
		})
	}
}
