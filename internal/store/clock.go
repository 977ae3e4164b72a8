package store

import (
	"context"
	"fmt"
	"time"
)

// CreateClock makes the project's clock, at offset zero; ErrDuplicate when
// the project has one already. Every project has one, made with the
// project, so it also tells whether a project ID is taken.
func (tx *Tx) CreateClock(ctx context.Context, project string) error {
	if _, err := tx.exec(ctx, "INSERT INTO project_clocks (project, offset_nanos) VALUES (?, 0)", project); err != nil {
		return fmt.Errorf("store: create clock of %s: %w", project, err)
	}
	return nil
}

// ClockOffsets returns the offset from the wall clock of every project whose
// clock was moved.
func (tx *Tx) ClockOffsets(ctx context.Context) (map[string]time.Duration, error) {
	rows, err := tx.query(ctx, "SELECT project, offset_nanos FROM project_clocks WHERE offset_nanos <> 0")
	if err != nil {
		return nil, fmt.Errorf("store: clock offsets: %w", err)
	}
	defer rows.Close()
	out := make(map[string]time.Duration)
	for rows.Next() {
		var p string
		var n int64
		if err := rows.Scan(&p, &n); err != nil {
			return nil, fmt.Errorf("store: clock offsets: %w", err)
		}
		out[p] = time.Duration(n)
	}
	return out, tx.s.mapErr(rows.Err())
}

// ClockOffset returns the project's clock offset (zero when never moved).
// In a write transaction the row stays locked until the transaction ends.
func (tx *Tx) ClockOffset(ctx context.Context, project string) (time.Duration, error) {
	var n int64
	err := tx.queryRow(ctx, "SELECT offset_nanos FROM project_clocks WHERE project = ?"+tx.forUpdate(), project).Scan(&n)
	if err != nil {
		if err = tx.s.rowErr(err); err == ErrNotFound {
			return 0, nil
		}
		return 0, fmt.Errorf("store: clock offset of %s: %w", project, err)
	}
	return time.Duration(n), nil
}

// SetClockOffset stores the project's clock offset.
func (tx *Tx) SetClockOffset(ctx context.Context, project string, offset time.Duration) error {
	_, err := tx.exec(ctx, `INSERT INTO project_clocks (project, offset_nanos) VALUES (?, ?)
		ON CONFLICT (project) DO UPDATE SET offset_nanos = excluded.offset_nanos`, project, int64(offset))
	if err != nil {
		return fmt.Errorf("store: set clock offset of %s: %w", project, err)
	}
	return nil
}

// DueIn is Due for one project's resources.
func (tx *Tx) DueIn(ctx context.Context, project string, now time.Time, limit int) ([]Due, error) {
	return tx.due(ctx, "SELECT kind, project, id, due_at FROM resources WHERE project = ? AND due_at <= ? ORDER BY due_at LIMIT ?",
		project, ms(now), limit)
}
