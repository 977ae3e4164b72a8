package store

import (
	"context"
	"fmt"
	"time"
)

// Processes and leases: a dispatcher's claim IDs begin with its process's
// ID and a dot (ProcessClaimPrefix), so that the leases of a process can be
// found and taken back when it is gone: on SQLite, where one process serves
// a file, all of them at start (ReleaseLeases); on PostgreSQL, those of a
// process whose heartbeat stopped (BeatProcess, ReclaimDead).

// ProcessClaimPrefix is how the claim IDs of a process's dispatcher begin.
func ProcessClaimPrefix(process string) string { return process + "." }

// BeatProcess records that the process is alive at wall; the first beat
// registers it.
func (tx *Tx) BeatProcess(ctx context.Context, process string, wall time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO processes (id, started_at, beat_at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET beat_at = excluded.beat_at`, process, ms(wall), ms(wall))
	if err != nil {
		return fmt.Errorf("store: heartbeat of %s: %w", process, err)
	}
	return nil
}

// EndProcess forgets a process that stopped cleanly.
func (tx *Tx) EndProcess(ctx context.Context, process string) error {
	if _, err := tx.exec(ctx, `DELETE FROM processes WHERE id = ?`, process); err != nil {
		return fmt.Errorf("store: end process %s: %w", process, err)
	}
	return nil
}

// ReclaimDead takes back the leases of every process whose last beat came
// before deadBefore, and forgets those processes. It returns them and how
// many deliveries it freed. On PostgreSQL concurrent reclaimers skip the
// processes another is reclaiming.
func (tx *Tx) ReclaimDead(ctx context.Context, deadBefore time.Time) (dead []string, freed int64, err error) {
	rows, err := tx.query(ctx, `SELECT id FROM processes WHERE beat_at < ? ORDER BY id FOR UPDATE SKIP LOCKED`, ms(deadBefore))
	if err != nil {
		return nil, 0, fmt.Errorf("store: dead processes: %w", err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("store: dead processes: %w", err)
		}
		dead = append(dead, id)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, 0, fmt.Errorf("store: dead processes: %w", tx.s.mapErr(err))
	}
	rows.Close()
	for _, id := range dead {
		n, err := tx.releaseLeases(ctx, ProcessClaimPrefix(id))
		if err != nil {
			return nil, 0, err
		}
		freed += n
		if err := tx.EndProcess(ctx, id); err != nil {
			return nil, 0, err
		}
	}
	return dead, freed, nil
}

// ReleaseLeases frees every leased delivery, whoever holds it, and returns
// how many. Only a process that knows no other serves the database may
// call it: on SQLite, the one holding the file's lock, at start.
func (tx *Tx) ReleaseLeases(ctx context.Context) (int64, error) {
	return tx.releaseLeases(ctx, "")
}

// releaseLeases frees the pending deliveries leased to claims whose IDs
// begin with prefix (all when it is empty); their due times stay.
func (tx *Tx) releaseLeases(ctx context.Context, prefix string) (int64, error) {
	res, err := tx.exec(ctx, `UPDATE deliveries SET claim_id = '', lease_until = 0
		WHERE status = 'pending' AND lease_until > 0 AND substr(claim_id, 1, ?) = ?`, len(prefix), prefix)
	if err != nil {
		return 0, fmt.Errorf("store: release leases %q: %w", prefix, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
