package scheduler_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/scheduler"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

const period = time.Hour

// timer is a resource with a timer, as stored.
type timer struct {
	ID    string    `json:"id"`
	DueAt time.Time `json:"dueAt"`
	Fired int       `json:"fired"`
}

func put(ctx context.Context, tx *store.Tx, kind string, r timer, due bool) error {
	res := store.Resource{Kind: kind, Project: "p", ID: r.ID, Body: r}
	if due {
		res.DueAt = &r.DueAt
	}
	return tx.Put(ctx, res)
}

// handlers returns the test's timer handlers by kind: "once" clears its
// timer, "renew" moves it one period on (like a subscription's renewal),
// "stuck" leaves it (not due after all), "broken" fails.
func handlers(clk clock.Clock) map[string]scheduler.Handler {
	load := func(ctx context.Context, tx *store.Tx, kind, id string) (timer, error) {
		var r timer
		err := tx.GetForUpdate(ctx, kind, "p", id, &r)
		return r, err
	}
	return map[string]scheduler.Handler{
		"once": func(ctx context.Context, tx *store.Tx, project, id string) error {
			r, err := load(ctx, tx, "once", id)
			if err != nil {
				return err
			}
			r.Fired++
			return put(ctx, tx, "once", r, false)
		},
		"renew": func(ctx context.Context, tx *store.Tx, project, id string) error {
			r, err := load(ctx, tx, "renew", id)
			if err != nil || r.DueAt.After(clk.Now()) {
				return err
			}
			r.Fired++
			r.DueAt = r.DueAt.Add(period)
			return put(ctx, tx, "renew", r, true)
		},
		"stuck": func(ctx context.Context, tx *store.Tx, project, id string) error { return nil },
		"broken": func(ctx context.Context, tx *store.Tx, project, id string) error {
			return errors.New("broken handler")
		},
	}
}

func fired(t *testing.T, st *store.Store, kind, id string) int {
	t.Helper()
	var r timer
	storetest.View(t, st, func(tx *store.Tx) error { return tx.Read(context.Background(), kind, "p", id, &r) })
	return r.Fired
}

func TestRunDue(t *testing.T) {
	ctx := context.Background()
	type seed struct {
		kind, id string
		due      time.Duration // from now; negative is past
	}
	tests := []struct {
		name      string
		seeds     []seed
		wantFired int
		wantErr   bool
		// wantCounts are the Fired counts after the run, by kind/id.
		wantCounts map[string]int
	}{
		{"nothing due", []seed{{"once", "a", time.Minute}}, 0, false, map[string]int{"once/a": 0}},
		{"due fires once, the future waits", []seed{{"once", "a", -time.Minute}, {"once", "b", time.Minute}}, 1, false,
			map[string]int{"once/a": 1, "once/b": 0}},
		{"a timer due again after firing fires until it is not", []seed{{"renew", "a", -3*period + time.Minute}}, 3, false,
			map[string]int{"renew/a": 3}},
		{"a kind without a handler is skipped", []seed{{"unknown", "a", -time.Minute}, {"once", "b", -time.Minute}}, 1, false,
			map[string]int{"once/b": 1}},
		{"a handler that moves nothing does not loop", []seed{{"stuck", "a", -time.Minute}}, 1, false, nil},
		{"a failing handler stops the run", []seed{{"broken", "a", -time.Minute}}, 0, true, nil},
	}
	for _, name := range []string{store.SQLite, store.Postgres} {
		t.Run(name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					st := storetest.New(t, name).Open(t)
					clk := &clock.Offset{}
					now := clk.Now()
					storetest.Update(t, st, func(tx *store.Tx) error {
						for _, s := range tt.seeds {
							if err := put(ctx, tx, s.kind, timer{ID: s.id, DueAt: now.Add(s.due)}, true); err != nil {
								return err
							}
						}
						return nil
					})
					s := &scheduler.Scheduler{Store: st, Clock: &clock.Projects{Base: clk}, Handlers: handlers(clk)}
					n, err := s.RunDue(ctx)
					if (err != nil) != tt.wantErr || n != tt.wantFired {
						t.Fatalf("RunDue = %d, %v; want %d, error %v", n, err, tt.wantFired, tt.wantErr)
					}
					for key, want := range tt.wantCounts {
						var kind, id string
						for i := range key {
							if key[i] == '/' {
								kind, id = key[:i], key[i+1:]
							}
						}
						if got := fired(t, st, kind, id); got != want {
							t.Errorf("%s fired %d times, want %d", key, got, want)
						}
					}
				})
			}
		})
	}
}

// TestRun checks the periodic scan: BeforeScan runs before it, a timer that
// comes due is fired, and Run returns when its context ends.
func TestRun(t *testing.T) {
	ctx := context.Background()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		st := b.Open(t)
		clk := &clock.Offset{}
		storetest.Update(t, st, func(tx *store.Tx) error {
			return put(ctx, tx, "once", timer{ID: "a", DueAt: clk.Now().Add(time.Hour)}, true)
		})
		var scans atomic.Int32
		s := &scheduler.Scheduler{Store: st, Clock: &clock.Projects{Base: clk}, Handlers: handlers(clk), Interval: 5 * time.Millisecond,
			BeforeScan: func(context.Context) error { scans.Add(1); return nil }}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Run(runCtx)
		}()
		storetest.WaitFor(t, 5*time.Second, "a scan", func() bool { return scans.Load() > 0 })
		if got := fired(t, st, "once", "a"); got != 0 {
			t.Fatalf("a timer an hour away fired %d times", got)
		}
		clk.Advance(2 * time.Hour)
		storetest.WaitFor(t, 5*time.Second, "the timer to fire", func() bool { return fired(t, st, "once", "a") == 1 })
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	})
}
