package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Stored is a resource as stored: where it is, its unique key and its
// JSON body.
type Stored struct {
	Project, ID, Unique string
	Body                []byte
}

// ScanKind returns up to limit resources of a kind in every project, in ID
// order, after the ID given ("" to start). It is for passes over all the
// data (such as re-sealing secrets), not for serving requests.
func (tx *Tx) ScanKind(ctx context.Context, kind, after string, limit int) ([]Stored, error) {
	rows, err := tx.query(ctx, fmt.Sprintf(
		"SELECT project, id, uniq, body FROM resources WHERE kind = ? AND id > ? ORDER BY id LIMIT %d", limit), kind, after)
	if err != nil {
		return nil, fmt.Errorf("store: scan %s: %w", kind, err)
	}
	defer rows.Close()
	var out []Stored
	for rows.Next() {
		var r Stored
		var uniq sql.NullString
		if err := rows.Scan(&r.Project, &r.ID, &uniq, &r.Body); err != nil {
			return nil, fmt.Errorf("store: scan %s: %w", kind, err)
		}
		r.Unique = uniq.String
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: scan %s: %w", kind, tx.s.mapErr(err))
	}
	return out, nil
}

// Rewrite replaces a stored resource's body and unique key, as long as its
// body is still old, and leaves its other columns as they are: it
// re-encodes what a resource holds (seals its secrets) without changing
// what it is. ok is false when the resource changed or went meanwhile.
func (tx *Tx) Rewrite(ctx context.Context, kind string, old []byte, r Stored) (ok bool, err error) {
	res, err := tx.exec(ctx, "UPDATE resources SET body = ?, uniq = ? WHERE kind = ? AND project = ? AND id = ? AND body = ?",
		string(r.Body), nullString(r.Unique), kind, r.Project, r.ID, string(old))
	if err != nil {
		return false, fmt.Errorf("store: rewrite %s %s: %w", kind, r.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	delete(tx.rows, rowKey{kind, r.Project, r.ID})
	return true, tx.bumpGeneration(ctx, kind, r.Project)
}

// Scrub makes a SQLite database forget the old versions of rows it
// rewrote: they linger in the WAL and in free pages until then. It
// checkpoints the WAL, rebuilds the file (VACUUM) and truncates the WAL.
// PostgreSQL keeps dead row versions until VACUUM FULL; Scrub does nothing
// there.
func (s *Store) Scrub(ctx context.Context) error {
	for _, q := range s.d.scrub {
		if _, err := s.write.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: scrub: %s: %w", q, err)
		}
	}
	return nil
}
