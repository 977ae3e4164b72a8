package store

import (
	"context"
	"fmt"
	"time"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// Delivery is one event on its way to one endpoint. It stays pending until a
// success is recorded or its retries are exhausted.
type Delivery struct {
	ID            string
	Project       string
	EndpointID    string
	EventID       string
	EventSeq      int64
	Status        string
	Ordered       bool
	Paused        bool
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastStatus    int
	LastError     string
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// InsertDelivery queues a delivery; it commits with the event it delivers.
func (tx *Tx) InsertDelivery(ctx context.Context, d *Delivery) error {
	_, err := tx.exec(ctx, `INSERT INTO deliveries (id, project, endpoint_id, event_id, event_seq, status, ordered, paused,
			attempts, next_attempt_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.Project, d.EndpointID, d.EventID, d.EventSeq, d.Status, boolInt(d.Ordered), boolInt(d.Paused),
		d.Attempts, ms(d.NextAttemptAt), ms(d.CreatedAt), ms(d.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: insert delivery: %w", err)
	}
	return nil
}
