package store

import (
	"context"
	"fmt"
	"time"
)

// Setting returns the value of a setting shared by every process, or "" when
// it was never set.
func (tx *Tx) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := tx.queryRow(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if err != nil {
		if err = tx.s.rowErr(err); err == ErrNotFound {
			return "", nil
		}
		return "", fmt.Errorf("store: setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting stores a setting shared by every process.
func (tx *Tx) SetSetting(ctx context.Context, key, value string) error {
	_, err := tx.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("store: set setting %s: %w", key, err)
	}
	return nil
}

// Idempotent is the first response to a request made with an idempotency key.
type Idempotent struct {
	// Hash identifies the request (method, path and body).
	Hash       string
	StatusCode int
	Body       []byte
	CreatedAt  time.Time
}

// Idempotent returns the response recorded for the project's key.
func (tx *Tx) Idempotent(ctx context.Context, project, key string) (Idempotent, error) {
	var r Idempotent
	var body string
	var at int64
	err := tx.queryRow(ctx, "SELECT hash, status_code, body, created_at FROM idempotency WHERE project = ? AND key = ?",
		project, key).Scan(&r.Hash, &r.StatusCode, &body, &at)
	if err != nil {
		return Idempotent{}, fmt.Errorf("store: idempotency key: %w", tx.s.rowErr(err))
	}
	r.Body, r.CreatedAt = []byte(body), fromMS(at)
	return r, nil
}

// PutIdempotent records the response to the project's key; ErrDuplicate when
// the key has one already.
func (tx *Tx) PutIdempotent(ctx context.Context, project, key string, r Idempotent) error {
	_, err := tx.exec(ctx, "INSERT INTO idempotency (project, key, hash, status_code, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		project, key, r.Hash, r.StatusCode, string(r.Body), ms(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: record idempotency key: %w", err)
	}
	return nil
}

// CompleteIdempotent records the response to a key reserved with
// PutIdempotent.
func (tx *Tx) CompleteIdempotent(ctx context.Context, project, key string, r Idempotent) error {
	_, err := tx.exec(ctx, "UPDATE idempotency SET status_code = ?, body = ?, created_at = ? WHERE project = ? AND key = ?",
		r.StatusCode, string(r.Body), ms(r.CreatedAt), project, key)
	if err != nil {
		return fmt.Errorf("store: record idempotency key: %w", err)
	}
	return nil
}

// DeleteIdempotent forgets a key, so that a retry runs the request again.
func (tx *Tx) DeleteIdempotent(ctx context.Context, project, key string) error {
	if _, err := tx.exec(ctx, "DELETE FROM idempotency WHERE project = ? AND key = ?", project, key); err != nil {
		return fmt.Errorf("store: forget idempotency key: %w", err)
	}
	return nil
}
