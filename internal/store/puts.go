package store

import (
	"context"
	"fmt"
)

// On PostgreSQL every statement is a round trip, and an API call writes a
// resource or two and then records their events. So a transaction holds
// the Puts it may (deferPut) and writes them together, in one statement,
// at the first moment the database must see them: with the transaction's
// events (AppendEvents carries them in the same statement), before any
// query but a read by primary key (which the transaction answers from the
// rows it keeps, pending ones included), or at commit. The rows are the
// same as if written at once; only their row locks come later, and rows a
// transaction changes are ones it has read FOR UPDATE, or new.
//
// A Put that sets a unique key, or of a memoized kind, is written at once:
// its duplicate error, or its generation, belongs at the Put.

// pendingPuts are a transaction's Puts not yet written, one per row, the
// last Put of each.
type pendingPuts struct {
	at   map[rowKey]int
	rows []pendingPut
}

type pendingPut struct {
	k    rowKey
	cols columns
	body string
}

func (p *pendingPuts) add(k rowKey, cols columns, body string) {
	if i, ok := p.at[k]; ok {
		p.rows[i] = pendingPut{k: k, cols: cols, body: body}
		return
	}
	if p.at == nil {
		p.at = make(map[rowKey]int)
	}
	p.at[k] = len(p.rows)
	p.rows = append(p.rows, pendingPut{k: k, cols: cols, body: body})
}

func (p *pendingPuts) empty() bool { return len(p.rows) == 0 }

// take returns the pending rows as arrays for putsPostgres, and forgets them.
func (p *pendingPuts) take() putArrays {
	var a putArrays
	for _, r := range p.rows {
		a.id = append(a.id, r.k.id)
		a.kind = append(a.kind, r.k.kind)
		a.project = append(a.project, r.k.project)
		a.status = append(a.status, r.cols.status)
		a.owner = append(a.owner, r.cols.owner)
		a.ref = append(a.ref, r.cols.ref)
		var uniq *string
		if r.cols.uniq.Valid {
			uniq = &r.cols.uniq.String
		}
		a.uniq = append(a.uniq, uniq)
		var due *int64
		if r.cols.due.Valid {
			due = &r.cols.due.Int64
		}
		a.due = append(a.due, due)
		a.body = append(a.body, r.body)
	}
	*p = pendingPuts{}
	return a
}

// putArrays are pending rows column by column, for unnest.
type putArrays struct {
	id, kind, project, status, owner, ref, body []string
	uniq                                        []*string
	due                                         []*int64
}

func (a putArrays) args() []any {
	return []any{a.id, a.kind, a.project, a.status, a.owner, a.ref, a.uniq, a.due, a.body}
}

// putsPostgres writes putArrays: the upsert of Put, for a batch.
const putsPostgres = `INSERT INTO resources (id, kind, project, status, owner, ref, uniq, due_at, body)
	SELECT * FROM unnest(?::TEXT[], ?::TEXT[], ?::TEXT[], ?::TEXT[], ?::TEXT[], ?::TEXT[], ?::TEXT[], ?::BIGINT[], ?::TEXT[])
	ON CONFLICT (id) DO UPDATE SET status = excluded.status, owner = excluded.owner,
		ref = excluded.ref, uniq = excluded.uniq, due_at = excluded.due_at, body = excluded.body`

// defers reports whether a Put of the kind with those columns may wait
// (see above).
func (tx *Tx) defers(kind string, cols columns) bool {
	return tx.s.d.arrays && !cols.uniq.Valid && !memoized(kind)
}

// flush writes the pending Puts, if any. A failure is kept: the
// transaction cannot commit.
func (tx *Tx) flush(ctx context.Context) error {
	if tx.puts.empty() || tx.flushErr != nil {
		return tx.flushErr
	}
	n := len(tx.puts.rows)
	a := tx.puts.take()
	if _, err := tx.execNow(ctx, putsPostgres, a.args()...); err != nil {
		tx.flushErr = fmt.Errorf("store: put %d resources: %w", n, err)
	}
	return tx.flushErr
}
