package project

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// ClockChannel is the store channel on which a process that moved a
// project's clock tells the others, which then reload the clocks
// (WatchClocks).
const ClockChannel = "projectClock"

// WatchClocks reloads the clocks whenever another process moves one, until
// ctx ends; the scheduler's reload every second stays the backstop (and
// covers a reload that failed here).
func (s *Service) WatchClocks(ctx context.Context) error {
	wake, err := s.Store.Listen(ctx, ClockChannel)
	if err != nil {
		return fmt.Errorf("project: watch clocks: %w", err)
	}
	for range wake {
		_ = s.LoadClocks(ctx) // on failure, the scheduler reloads within a second
	}
	return nil
}

// RequireTest returns nil for a test project, and the API's error for a
// live one (or none): the simulator exists only in test mode.
func (s *Service) RequireTest(ctx context.Context, id string) error {
	mode, err := s.Mode(ctx, id)
	if err != nil {
		return err
	}
	if mode != Test {
		return failure.New(failure.PermissionDenied, "testModeOnly",
			"The simulator is available in test projects only; the project %s is live.", id)
	}
	return nil
}

// AdvanceClock moves the test project's clock forward by d, for every
// process (the offset is stored), and returns its new offset. d must be
// from one second to MaxAdvance, and the clock may never be more than
// MaxOffset ahead of the wall clock. Firing the timers that fall due is the
// caller's (the scheduler's RunDueIn).
func (s *Service) AdvanceClock(ctx context.Context, id string, d time.Duration) (time.Duration, error) {
	if err := s.RequireTest(ctx, id); err != nil {
		return 0, err
	}
	if d < time.Second || d > MaxAdvance {
		return 0, failure.New(failure.Invalid, "invalidValue",
			"The field seconds must be from 1 to %d (a year).", int64(MaxAdvance/time.Second))
	}
	var offset time.Duration
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		cur, err := tx.ClockOffset(ctx, id)
		if err != nil {
			return err
		}
		// Both are bounded far below the int64 range, so the sum cannot
		// overflow; MaxOffset bounds it again.
		if cur > MaxOffset-d {
			return failure.New(failure.Invalid, "clockLimitReached",
				"The project's clock may be at most %d seconds (ten years) ahead of the wall clock; it is %d seconds ahead.",
				int64(MaxOffset/time.Second), int64(cur/time.Second))
		}
		offset = cur + d
		if err := tx.SetClockOffset(ctx, id, offset); err != nil {
			return err
		}
		tx.AfterCommit(func() { s.Clocks.Set(id, offset) })
		return tx.Notify(ctx, ClockChannel)
	})
	if err != nil {
		return 0, err
	}
	return offset, nil
}

// ClockOffset reads the project's clock offset from the store (another
// process may have moved it), keeps it in Clocks and returns it.
func (s *Service) ClockOffset(ctx context.Context, id string) (time.Duration, error) {
	var offset time.Duration
	err := s.Store.View(ctx, func(tx *store.Tx) (err error) {
		offset, err = tx.ClockOffset(ctx, id)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("project: clock: %w", err)
	}
	s.Clocks.Set(id, offset)
	return s.Clocks.Offset(id), nil
}

// LoadClocks reads every project's clock offset into Clocks, so that this
// process sees what other processes moved.
func (s *Service) LoadClocks(ctx context.Context) error {
	var offsets map[string]time.Duration
	err := s.Store.View(ctx, func(tx *store.Tx) (err error) {
		offsets, err = tx.ClockOffsets(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("project: load clocks: %w", err)
	}
	for id, d := range offsets {
		s.Clocks.Set(id, d)
	}
	return nil
}
