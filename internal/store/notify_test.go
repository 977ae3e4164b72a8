package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// received reports whether ch delivers a value within d.
func received(ch <-chan struct{}, d time.Duration) bool {
	select {
	case _, ok := <-ch:
		return ok
	case <-time.After(d):
		return false
	}
}

func notify(t *testing.T, s *store.Store, channel string, commit bool) {
	t.Helper()
	rollback := errors.New("rollback")
	err := s.Update(ctx, func(tx *store.Tx) error {
		if err := tx.Notify(ctx, channel); err != nil {
			return err
		}
		if !commit {
			return rollback
		}
		return nil
	})
	if commit && err != nil || !commit && !errors.Is(err, rollback) {
		t.Fatalf("notify: %v", err)
	}
}

func TestNotifyWakesListeners(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		lctx, cancel := context.WithCancel(ctx)
		defer cancel()
		a, err := s.Listen(lctx, "deliveries")
		if err != nil {
			t.Fatal(err)
		}
		a2, err := s.Listen(lctx, "deliveries")
		if err != nil {
			t.Fatal(err)
		}
		other, err := s.Listen(lctx, "other")
		if err != nil {
			t.Fatal(err)
		}

		notify(t, s, "deliveries", false) // rolled back: wakes no one
		notify(t, s, "other", true)
		if !received(other, 5*time.Second) {
			t.Fatal("listener of other not woken")
		}
		select {
		case <-a:
			t.Fatal("a rolled-back Notify woke a listener")
		default:
		}

		notify(t, s, "deliveries", true)
		for name, ch := range map[string]<-chan struct{}{"first": a, "second": a2} {
			if !received(ch, 5*time.Second) {
				t.Errorf("%s listener of deliveries not woken", name)
			}
		}

		// Wake-ups coalesce: many notifications, at least one pending value,
		// and never a blocked notifier.
		for range 5 {
			notify(t, s, "deliveries", true)
		}
		if !received(a, 5*time.Second) {
			t.Error("listener not woken after a burst")
		}

		cancel()
		storetest.WaitFor(t, 5*time.Second, "the listener's channel to close", func() bool {
			select {
			case _, ok := <-a:
				return !ok
			default:
				return false
			}
		})
	})
}

func TestListenEndsWithTheStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s, err := store.Open(ctx, b.DB, store.Options{Schema: b.Schema})
		if err != nil {
			t.Fatal(err)
		}
		ch, err := s.Listen(ctx, "deliveries")
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		storetest.WaitFor(t, 5*time.Second, "the channel to close", func() bool {
			select {
			case _, ok := <-ch:
				return !ok
			default:
				return false
			}
		})
	})
}

// TestListenReconnects kills the LISTEN connection, as a restart of
// PostgreSQL does: the listener reconnects by itself and wakes again.
func TestListenReconnects(t *testing.T) {
	b := storetest.New(t, store.Postgres)
	s := b.Open(t)
	admin := adminConn(t, b)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := s.Listen(lctx, "deliveries")
	if err != nil {
		t.Fatal(err)
	}
	var killed int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'switchboard-listen' AND query = $1`,
		`LISTEN "`+b.Schema+`.deliveries"`).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d LISTEN connections (%v), want 1", killed, err)
	}
	// The reconnection itself wakes the listener (notifications may have
	// been missed); after it, notifications arrive again.
	if !received(ch, 10*time.Second) {
		t.Fatal("no wake-up after the reconnection")
	}
	storetest.WaitFor(t, 10*time.Second, "a notification after reconnecting", func() bool {
		notify(t, s, "deliveries", true)
		return received(ch, 200*time.Millisecond)
	})
}

// TestListenIsScopedToTheSchema: two installations in two schemas of one
// database do not wake each other.
func TestListenIsScopedToTheSchema(t *testing.T) {
	b1, b2 := storetest.New(t, store.Postgres), storetest.New(t, store.Postgres)
	s1, s2 := b1.Open(t), b2.Open(t)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch1, err := s1.Listen(lctx, "deliveries")
	if err != nil {
		t.Fatal(err)
	}
	ch2, err := s2.Listen(lctx, "deliveries")
	if err != nil {
		t.Fatal(err)
	}
	notify(t, s2, "deliveries", true)
	if !received(ch2, 5*time.Second) {
		t.Fatal("s2's listener not woken")
	}
	select {
	case <-ch1:
		t.Error("s2's Notify woke s1's listener")
	default:
	}
}

// TestSignalWakesOtherStores checks that a burst of Signals, sent outside
// any transaction, wakes the listeners of another store on the same database
// (another process, on PostgreSQL; the store itself on SQLite).
func TestSignalWakesOtherStores(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		peer := s
		if b.Name == store.Postgres {
			peer = b.Open(t) // a second pool and listener, as another process has
		}
		lctx, cancel := context.WithCancel(ctx)
		defer cancel()
		wake, err := peer.Listen(lctx, "deliveries")
		if err != nil {
			t.Fatal(err)
		}
		for range 100 {
			s.Signal("deliveries")
		}
		if !received(wake, 5*time.Second) {
			t.Fatal("no wake-up after a burst of signals")
		}
	})
}
