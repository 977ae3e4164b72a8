package store

import (
	"context"
	"fmt"
	"strings"
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

// take writes the pending rows' upsert — the Put statement with a VALUES
// row each — into b and their values into args, and forgets them.
func (p *pendingPuts) take(b *strings.Builder, args []any) []any {
	b.WriteString(putsInsert)
	for i, r := range p.rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(putRow)
		args = append(args, r.k.id, r.k.kind, r.k.project, r.cols.status, r.cols.owner, r.cols.ref, r.cols.uniq, r.cols.due, r.body)
	}
	b.WriteString(putsConflict)
	*p = pendingPuts{}
	return args
}

// The upsert of Put, for any number of rows of putRow. VALUES rows rather than
// arrays: PostgreSQL decodes and unnests arrays at about twice the cost
// of a row for the few rows a transaction writes, and each number of rows
// is one text, prepared once per connection.
const (
	putsInsert   = "INSERT INTO resources (id, kind, project, status, owner, ref, uniq, due_at, body) VALUES "
	putRow       = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
	putsConflict = ` ON CONFLICT (id) DO UPDATE SET status = excluded.status, owner = excluded.owner,
		ref = excluded.ref, uniq = excluded.uniq, due_at = excluded.due_at, body = excluded.body`
)

// defers reports whether a Put of the kind with those columns may wait
// (see above).
func (tx *Tx) defers(kind string, cols columns) bool {
	return tx.s.d.roundTrips && !cols.uniq.Valid && !memoized(kind)
}

// flush writes the pending Puts, if any. A failure is kept: the
// transaction cannot commit.
func (tx *Tx) flush(ctx context.Context) error {
	if tx.puts.empty() || tx.flushErr != nil {
		return tx.flushErr
	}
	n := len(tx.puts.rows)
	var b strings.Builder
	args := tx.puts.take(&b, make([]any, 0, 9*n))
	if _, err := tx.execNow(ctx, b.String(), args...); err != nil {
		tx.flushErr = fmt.Errorf("store: put %d resources: %w", n, err)
	}
	return tx.flushErr
}
