package simulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// DefaultDelay is how long the simulator waits before each step it takes.
const DefaultDelay = 2 * time.Second

// Simulator drives portings forward as a network provider would: the
// portings of magic numbers always, every pending porting in auto mode.
//
// It scans the store rather than remembering what it was told, so that
// several processes may run it on one database: each acts when its own delay
// has passed, and the porting service refuses the second of two identical
// actions with a conflict, which the simulator ignores.
type Simulator struct {
	// Store is read for the portings to drive.
	Store *store.Store
	// Portings performs the provider's actions.
	Portings *porting.Service
	// Projects returns the projects to scan: the test projects (the
	// simulator never touches a live project).
	Projects func(ctx context.Context) ([]string, error)
	// Auto drives every pending porting, not only magic numbers': requested,
	// then completed.
	Auto bool
	// Delay is how long a porting stays in a status before the simulator
	// takes the next step; DefaultDelay when zero.
	Delay time.Duration
	// Interval is how often the store is scanned; a quarter of Delay
	// (between 10 ms and 500 ms) when zero.
	Interval time.Duration
	// Logger receives what the simulator does; slog.Default() when nil.
	Logger *slog.Logger

	mu sync.Mutex
	// seen is when each porting state was first seen, by stateKey.
	seen map[string]time.Time
}

func (s *Simulator) delay() time.Duration {
	if s.Delay > 0 {
		return s.Delay
	}
	return DefaultDelay
}

func (s *Simulator) interval() time.Duration {
	if s.Interval > 0 {
		return s.Interval
	}
	return min(max(s.delay()/4, 10*time.Millisecond), 500*time.Millisecond)
}

func (s *Simulator) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Run scans until ctx ends.
func (s *Simulator) Run(ctx context.Context) {
	s.log().Info("simulator: running", "auto", s.Auto, "delay", s.delay().String())
	t := time.NewTicker(s.interval())
	defer t.Stop()
	for {
		if err := s.Scan(ctx); err != nil && ctx.Err() == nil {
			s.log().Warn("simulator: scan", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Scan looks at every porting the simulator drives once and takes the next
// step of each that has waited its delay.
func (s *Simulator) Scan(ctx context.Context) error {
	names, err := s.Projects(ctx)
	if err != nil {
		return fmt.Errorf("simulator: projects: %w", err)
	}
	now := time.Now()
	live := make(map[string]bool)
	var errs []error
	for _, project := range names {
		candidates, err := s.candidates(ctx, project)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, p := range candidates {
			action, code := next(p)
			if action == "" {
				continue
			}
			key := stateKey(project, p)
			live[key] = true
			if !s.due(key, now) {
				continue
			}
			errs = append(errs, s.act(ctx, project, p, action, code))
		}
	}
	s.forget(live)
	return errors.Join(errs...)
}

// candidates returns the project's open portings of magic numbers and, in
// auto mode, its other pending and requested portings.
func (s *Simulator) candidates(ctx context.Context, project string) ([]*switchboard.Porting, error) {
	var out []*switchboard.Porting
	err := s.Store.View(ctx, func(tx *store.Tx) error {
		for _, m := range MagicNumbers {
			// An open porting holds its number in the unique column.
			var p switchboard.Porting
			err := tx.GetUnique(ctx, porting.Kind, project, m.PhoneNumber, &p)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("simulator: porting of %s: %w", m.PhoneNumber, err)
			}
			out = append(out, &p)
		}
		return nil
	})
	if err != nil || !s.Auto {
		return out, err
	}
	for _, status := range []string{switchboard.PortingPending, switchboard.PortingRequested} {
		page := store.Page{Limit: 200}
		for {
			items, cur, err := s.Portings.List(ctx, project, porting.Filter{Status: status, Page: page})
			if err != nil {
				return nil, fmt.Errorf("simulator: list %s portings: %w", status, err)
			}
			for i := range items {
				if !IsMagic(items[i].PhoneNumber) {
					out = append(out, &items[i])
				}
			}
			if cur.MoreAfter == "" {
				break
			}
			page.After = cur.MoreAfter
		}
	}
	return out, nil
}

// next returns the provider's next action on the porting, if any.
func next(p *switchboard.Porting) (action, declinedCode string) {
	switch p.Status {
	case switchboard.PortingPending:
		return porting.ActionRequest, ""
	case switchboard.PortingRequested:
	default:
		return "", ""
	}
	o, magic := Lookup(p.PhoneNumber)
	if !magic {
		return porting.ActionComplete, ""
	}
	switch o.Action {
	case porting.ActionDecline:
		if o.Always || p.DeclinedAttempts == 0 {
			return porting.ActionDecline, o.DeclinedCode
		}
		return porting.ActionComplete, ""
	case porting.ActionRequireInformation:
		if p.DonorProviderApproval != nil && *p.DonorProviderApproval {
			return porting.ActionComplete, ""
		}
		return porting.ActionRequireInformation, ""
	}
	return o.Action, ""
}

// stateKey names a porting's state: a new key restarts the delay.
func stateKey(project string, p *switchboard.Porting) string {
	var requested int64
	if p.LastRequestedAt != nil {
		requested = p.LastRequestedAt.UnixNano()
	}
	return fmt.Sprintf("%s/%s/%s/%d/%d", project, p.ID, p.Status, p.DeclinedAttempts, requested)
}

// due records when the state was first seen and reports whether its delay
// has passed.
func (s *Simulator) due(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = make(map[string]time.Time)
	}
	first, ok := s.seen[key]
	if !ok {
		s.seen[key] = now
		first = now
	}
	return now.Sub(first) >= s.delay()
}

// forget drops the states that were not seen in the last scan.
func (s *Simulator) forget(live map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.seen {
		if !live[k] {
			delete(s.seen, k)
		}
	}
}

// act performs the action; a conflict (another process or the customer got
// there first) or a porting gone meanwhile is no error.
func (s *Simulator) act(ctx context.Context, project string, p *switchboard.Porting, action, code string) error {
	_, err := s.Portings.Act(ctx, project, p.ID, action, code)
	switch {
	case err == nil:
		s.log().Info("simulator: acted", "project", project, "porting", p.ID, "phoneNumber", p.PhoneNumber,
			"action", action, "declinedCode", code)
		return nil
	case failure.Is(err, failure.Conflict, ""), failure.Is(err, failure.NotFound, ""):
		s.log().Debug("simulator: porting moved on", "porting", p.ID, "action", action, "err", err)
		return nil
	}
	return fmt.Errorf("simulator: %s porting %s: %w", action, p.ID, err)
}
