package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Handler runs the timer of one resource in tx; it must move or clear the
// resource's DueAt, or leave it when the timer is not due after all.
type Handler func(ctx context.Context, tx *store.Tx, project, id string) error

// Scheduler fires due timers.
type Scheduler struct {
	Store *store.Store
	Clock clock.Clock
	// Handlers by store kind.
	Handlers map[string]Handler
	// Interval between scans; one second when zero.
	Interval time.Duration
	// BeforeScan, when set, runs before each periodic scan (to reload the
	// shared clock offset, say).
	BeforeScan func(ctx context.Context) error
	Logger     *slog.Logger
}

// batch is how many due timers one scan reads at a time.
const batch = 100

// RunDue fires every timer that is due now, including those that become
// due by the firing (a subscription renewed across several periods), and
// returns how many fired.
func (s *Scheduler) RunDue(ctx context.Context) (int, error) {
	fired := 0
	var last []store.Due
	for {
		var due []store.Due
		err := s.Store.View(ctx, func(tx *store.Tx) (err error) {
			due, err = tx.Due(ctx, s.Clock.Now(), batch)
			return err
		})
		if err != nil {
			return fired, fmt.Errorf("scheduler: %w", err)
		}
		if len(due) == 0 || slices.EqualFunc(due, last, sameTimer) { // nothing left, or nothing moved
			return fired, nil
		}
		last = due
		for _, d := range due {
			h, ok := s.Handlers[d.Kind]
			if !ok {
				continue
			}
			err := s.Store.Update(ctx, func(tx *store.Tx) error { return h(ctx, tx, d.Project, d.ID) })
			if err != nil {
				return fired, fmt.Errorf("scheduler: %s %s: %w", d.Kind, d.ID, err)
			}
			fired++
		}
	}
}

// sameTimer reports whether a and b are the same timer of the same
// resource: a resource whose timer a handler moved (a renewal still in the
// past) is due again, not stuck.
func sameTimer(a, b store.Due) bool {
	return a.Kind == b.Kind && a.Project == b.Project && a.ID == b.ID && a.At.Equal(b.At)
}

// Run scans for due timers every Interval until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	interval := s.Interval
	if interval == 0 {
		interval = time.Second
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.BeforeScan != nil {
			if err := s.BeforeScan(ctx); err != nil {
				log.Warn("scheduler: before scan", "err", err)
				continue
			}
		}
		if _, err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
			log.Warn("scheduler: run timers", "err", err)
		}
	}
}
