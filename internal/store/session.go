package store

import (
	"context"
	"fmt"
	"time"
)

// DashboardSession is a signed-in dashboard session as stored: the API key
// it acts with is sealed, never kept in clear.
type DashboardSession struct {
	// ID is the SHA-256 of the session ID the browser's cookie holds.
	ID string
	// Project is the project the session looks at.
	Project string
	// SealedKey is the session's API key, sealed by the dashboard.
	SealedKey string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PutDashboardSession stores a new session; ErrDuplicate when its ID exists.
func (tx *Tx) PutDashboardSession(ctx context.Context, s DashboardSession) error {
	_, err := tx.exec(ctx, "INSERT INTO dashboard_sessions (id, project, sealed_key, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
		s.ID, s.Project, s.SealedKey, ms(s.CreatedAt), ms(s.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: put dashboard session: %w", err)
	}
	return nil
}

// DashboardSession returns the session with the ID unless it expired before
// now; ErrNotFound otherwise.
func (tx *Tx) DashboardSession(ctx context.Context, id string, now time.Time) (DashboardSession, error) {
	s := DashboardSession{ID: id}
	var created, expires int64
	err := tx.queryRow(ctx, "SELECT project, sealed_key, created_at, expires_at FROM dashboard_sessions WHERE id = ? AND expires_at > ?",
		id, ms(now)).Scan(&s.Project, &s.SealedKey, &created, &expires)
	if err != nil {
		return DashboardSession{}, fmt.Errorf("store: dashboard session: %w", tx.s.rowErr(err))
	}
	s.CreatedAt, s.ExpiresAt = fromMS(created), fromMS(expires)
	return s, nil
}

// SetDashboardSessionProject switches the session to another project;
// ErrNotFound when there is no such session.
func (tx *Tx) SetDashboardSessionProject(ctx context.Context, id, project string) error {
	res, err := tx.exec(ctx, "UPDATE dashboard_sessions SET project = ? WHERE id = ?", project, id)
	if err != nil {
		return fmt.Errorf("store: switch dashboard session: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("store: switch dashboard session: %w", ErrNotFound)
	}
	return nil
}

// DeleteDashboardSession ends a session; ending one that is gone is no error.
func (tx *Tx) DeleteDashboardSession(ctx context.Context, id string) error {
	if _, err := tx.exec(ctx, "DELETE FROM dashboard_sessions WHERE id = ?", id); err != nil {
		return fmt.Errorf("store: delete dashboard session: %w", err)
	}
	return nil
}

// DeleteExpiredDashboardSessions removes the sessions that expired at or
// before now and returns how many.
func (tx *Tx) DeleteExpiredDashboardSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := tx.exec(ctx, "DELETE FROM dashboard_sessions WHERE expires_at <= ?", ms(now))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired dashboard sessions: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
