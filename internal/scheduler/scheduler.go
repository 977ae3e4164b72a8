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

// Clocks tells each project's time and which projects' clocks were moved.
type Clocks interface {
	clock.Source
	// Offsets returns the offset from the wall clock of every project
	// whose clock was moved.
	Offsets() map[string]time.Duration
}

// Scheduler fires due timers.
type Scheduler struct {
	Store *store.Store
	// Clock tells each project's time; For("") is the wall clock.
	Clock Clocks
	// Handlers by store kind.
	Handlers map[string]Handler
	// Interval between scans; one second when zero.
	Interval time.Duration
	// BeforeScan, when set, runs before each periodic scan (to reload the
	// projects' clock offsets other processes moved, say).
	BeforeScan func(ctx context.Context) error
	Logger     *slog.Logger
}

// batch is how many due timers one scan reads at a time.
const batch = 100

// RunDue fires every timer of every project that is due by its project's
// clock, and returns how many fired. Timers due by the wall clock are due
// in every project (a project's clock is never behind it); the projects
// whose clocks were moved are scanned each by its own time.
func (s *Scheduler) RunDue(ctx context.Context) (int, error) {
	fired, err := s.run(ctx, func(tx *store.Tx) ([]store.Due, error) {
		return tx.Due(ctx, s.Clock.For("").Now(), batch)
	})
	if err != nil {
		return fired, err
	}
	for project := range s.Clock.Offsets() {
		n, err := s.RunDueIn(ctx, project)
		fired += n
		if err != nil {
			return fired, err
		}
	}
	return fired, nil
}

// RunDueIn fires the project's timers that are due by its clock, and
// returns how many fired. It touches no other project.
func (s *Scheduler) RunDueIn(ctx context.Context, project string) (int, error) {
	return s.run(ctx, func(tx *store.Tx) ([]store.Due, error) {
		return tx.DueIn(ctx, project, s.Clock.For(project).Now(), batch)
	})
}

// run fires the timers scan finds, again and again, including those that
// become due by the firing (a subscription renewed across several periods).
func (s *Scheduler) run(ctx context.Context, scan func(tx *store.Tx) ([]store.Due, error)) (int, error) {
	fired := 0
	var last []store.Due
	for {
		var due []store.Due
		err := s.Store.View(ctx, func(tx *store.Tx) (err error) {
			due, err = scan(tx)
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
