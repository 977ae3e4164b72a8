package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/wirejson"
)

// Resource is one stored document with the columns the API filters on.
type Resource struct {
	Kind    string
	Project string // "" for global resources such as service providers
	ID      string
	Status  string
	// Owner is the user a resource belongs to (porting, subscription).
	Owner string
	// Ref is one more resource it points to (a porting's subscription, …).
	Ref string
	// Unique, when set, must be unique among the project's resources of the
	// kind (a user's email, an API key's hash).
	Unique string
	// DueAt is when the scheduler must next look at the resource.
	DueAt *time.Time
	// Body is the document, encoded as JSON.
	Body any
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func nullMS(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ms(*t), Valid: true}
}

// Put inserts the resource or replaces the stored one with the same ID.
func (tx *Tx) Put(ctx context.Context, r Resource) error {
	body, err := wirejson.Marshal(r.Body)
	if err != nil {
		return fmt.Errorf("store: encode %s %s: %w", r.Kind, r.ID, err)
	}
	k := rowKey{r.Kind, r.Project, r.ID}
	cols := columnsOf(r)
	if tx.defers(r.Kind, cols) {
		tx.puts.add(k, cols, string(body))
	} else if kept, ok := tx.rows[k]; ok && kept.locked {
		// The row is known, and no other transaction may change it: write
		// what changed. SQLite rewrites every index whose columns an
		// UPDATE sets, changed or not.
		err = tx.update(ctx, r, body, kept.cols, cols)
	} else {
		_, err = tx.exec(ctx, putsInsert+putRow+putsConflict, r.ID, r.Kind, r.Project, cols.status, cols.owner, cols.ref, cols.uniq, cols.due, string(body))
	}
	if err != nil {
		return fmt.Errorf("store: put %s %s: %w", r.Kind, r.ID, err)
	}
	tx.keep(k, body, cols, true)
	return tx.bumpGeneration(ctx, r.Kind, r.Project)
}

// columns are a resource's filter columns as stored.
type columns struct {
	status, owner, ref string
	uniq               sql.NullString
	due                sql.NullInt64
}

func columnsOf(r Resource) columns {
	return columns{status: r.Status, owner: r.Owner, ref: r.Ref, uniq: nullString(r.Unique), due: nullMS(r.DueAt)}
}

// update rewrites a row known to hold old: its body, and the columns that
// differ.
func (tx *Tx) update(ctx context.Context, r Resource, body []byte, old, cols columns) error {
	q := []byte("UPDATE resources SET body = ?")
	args := []any{string(body)}
	set := func(name string, changed bool, v any) {
		if changed {
			q = append(q, ", "+name+" = ?"...)
			args = append(args, v)
		}
	}
	set("status", cols.status != old.status, cols.status)
	set("owner", cols.owner != old.owner, cols.owner)
	set("ref", cols.ref != old.ref, cols.ref)
	set("uniq", cols.uniq != old.uniq, cols.uniq)
	set("due_at", cols.due != old.due, cols.due)
	q = append(q, " WHERE id = ? AND kind = ? AND project = ?"...)
	args = append(args, r.ID, r.Kind, r.Project)
	res, err := tx.exec(ctx, string(q), args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%d rows where one was read", n)
	}
	return nil
}

// GetForUpdate decodes the body of the project's resource of that kind and ID into v.
// In a write transaction the row stays locked until the transaction ends:
// use GetForUpdate for the resource the transaction changes, and Read for those it
// only refers to.
func (tx *Tx) GetForUpdate(ctx context.Context, kind, project, id string, v any) error {
	return tx.get(ctx, kind, project, id, v, tx.forUpdate())
}

// Read is Get without the lock: for resources the transaction reads but
// does not change (a plan, a carrier, the objects a subscription embeds).
// Locking those would make transactions that share them — every
// subscription of a plan — wait for each other, and can deadlock them with
// the event log's lock.
func (tx *Tx) Read(ctx context.Context, kind, project, id string, v any) error {
	return tx.get(ctx, kind, project, id, v, "")
}

func (tx *Tx) get(ctx context.Context, kind, project, id string, v any, lock string) error {
	k := rowKey{kind, project, id}
	if b, ok := tx.rows[k]; ok && (b.locked || lock == "") {
		return decode(kind, id, b.body, v)
	}
	var body []byte
	var c columns
	// A row pending in tx.puts is kept, so this read needs no flush.
	err := tx.queryRowNow(ctx, "SELECT status, owner, ref, uniq, due_at, body FROM resources WHERE id = ? AND kind = ? AND project = ?"+lock,
		id, kind, project).Scan(&c.status, &c.owner, &c.ref, &c.uniq, &c.due, &body)
	if err != nil {
		return fmt.Errorf("store: get %s %s: %w", kind, id, tx.s.rowErr(err))
	}
	tx.keep(k, body, c, lock != "")
	return decode(kind, id, body, v)
}

// Key names one resource.
type Key struct {
	Kind, Project, ID string
}

// Prefetch reads, in one statement, the resources of keys the transaction
// does not hold yet, without locking them, so that the Reads that follow
// cost no round trip: a subscription's view reads its plan, user, porting
// and SIM. It is for PostgreSQL, where each statement is a round trip; on
// SQLite, whose reads are calls into the process, it does nothing. A
// resource that does not exist is not an error here: its Read says so.
func (tx *Tx) Prefetch(ctx context.Context, keys ...Key) error {
	if !tx.s.d.roundTrips {
		return nil
	}
	var ids []string
	for _, k := range keys {
		if _, ok := tx.rows[rowKey{k.Kind, k.Project, k.ID}]; !ok && k.ID != "" {
			ids = append(ids, k.ID)
		}
	}
	if len(ids) < 2 {
		return nil // the Read is the one round trip
	}
	for len(ids) > 0 {
		n := min(len(ids), prefetchArity)
		if err := tx.prefetch(ctx, keys, ids[:n]); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// prefetchArity is how many IDs one prefetch statement takes: always that
// many, the unused ones empty (no resource's ID), so that PostgreSQL plans
// the statement once per connection. With an array (= ANY) it would plan
// it at every call: the plan for an array of unknown length looks dearer
// than one for the array given, so the cached plan is never chosen.
const prefetchArity = 4

var prefetchQuery = "SELECT kind, project, id, status, owner, ref, uniq, due_at, body FROM resources WHERE id IN (?" +
	strings.Repeat(", ?", prefetchArity-1) + ")"

func (tx *Tx) prefetch(ctx context.Context, keys []Key, ids []string) error {
	args := make([]any, prefetchArity)
	for i := range args {
		args[i] = ""
		if i < len(ids) {
			args[i] = ids[i]
		}
	}
	// No pending Put is among them (a Put keeps its row): no flush.
	rows, err := tx.queryNow(ctx, prefetchQuery, args...)
	if err != nil {
		return fmt.Errorf("store: prefetch %d resources: %w", len(ids), err)
	}
	defer rows.Close()
	for rows.Next() {
		var k rowKey
		var c columns
		var body []byte
		if err := rows.Scan(&k.kind, &k.project, &k.id, &c.status, &c.owner, &c.ref, &c.uniq, &c.due, &body); err != nil {
			return fmt.Errorf("store: prefetch %d resources: %w", len(ids), tx.s.mapErr(err))
		}
		if _, ok := tx.rows[k]; !ok && slices.Contains(keys, Key{k.kind, k.project, k.id}) {
			tx.keep(k, body, c, false)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: prefetch %d resources: %w", len(ids), tx.s.mapErr(err))
	}
	return nil
}

// A transaction keeps the resources it has read or written, so that reading
// one again — a subscription's plan, user, porting and SIM are read for its
// view before and after each change — costs no query, and writing one it
// knows sets only the columns that changed. Put and Delete keep it current;
// nothing else writes resources.

type rowKey struct{ kind, project, id string }

type keptRow struct {
	body   []byte
	cols   columns // as stored
	locked bool    // read FOR UPDATE or written: Get may use it on PostgreSQL
}

func (tx *Tx) keep(k rowKey, body []byte, cols columns, locked bool) {
	if tx.rows == nil {
		tx.rows = make(map[rowKey]keptRow)
	}
	tx.rows[k] = keptRow{body: body, cols: cols, locked: locked || tx.s.d.singleWriter}
}

// GetUnique decodes the resource whose Unique column is key.
func (tx *Tx) GetUnique(ctx context.Context, kind, project, key string, v any) error {
	var id string
	var body []byte
	err := tx.queryRow(ctx, "SELECT id, body FROM resources WHERE project = ? AND kind = ? AND uniq = ?"+tx.forUpdate(),
		project, kind, key).Scan(&id, &body)
	if err != nil {
		return fmt.Errorf("store: get %s by key: %w", kind, tx.s.rowErr(err))
	}
	return decode(kind, id, body, v)
}

func decode(kind, id string, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("store: decode %s %s: %w", kind, id, err)
	}
	return nil
}

// Delete removes the resource.
func (tx *Tx) Delete(ctx context.Context, kind, project, id string) error {
	res, err := tx.exec(ctx, "DELETE FROM resources WHERE id = ? AND kind = ? AND project = ?", id, kind, project)
	if err != nil {
		return fmt.Errorf("store: delete %s %s: %w", kind, id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete %s %s: %w", kind, id, ErrNotFound)
	}
	delete(tx.rows, rowKey{kind, project, id})
	return tx.bumpGeneration(ctx, kind, project)
}

// Query selects a page of a project's resources of one kind.
type Query struct {
	Kind    string
	Project string
	Status  string // filter when set
	Owner   string // filter when set
	Ref     string // filter when set
	Page
}

// Page selects a page of a list ordered newest first: After returns the items
// older than the given ID, Before those newer; Limit bounds the count.
type Page struct {
	After  string
	Before string
	Limit  int
}

// Cursors point to the pages beside a page.
type Cursors struct {
	// MoreAfter is the last item's ID when older items exist.
	MoreAfter string
	// MoreBefore is the first item's ID when newer items exist.
	MoreBefore string
}

// List returns a page of resources' bodies, newest first.
func (tx *Tx) List(ctx context.Context, q Query) ([][]byte, Cursors, error) {
	where := []string{"project = ?", "kind = ?"}
	args := []any{q.Project, q.Kind}
	for _, f := range []struct{ col, val string }{{"status", q.Status}, {"owner", q.Owner}, {"ref", q.Ref}} {
		if f.val != "" {
			where = append(where, f.col+" = ?")
			args = append(args, f.val)
		}
	}
	return page(ctx, tx, "SELECT id, body FROM resources", where, args, q.Page, func(rows *sql.Rows) (string, []byte, error) {
		var id string
		var body []byte
		err := rows.Scan(&id, &body)
		return id, body, err
	})
}

// page runs a keyset-paginated, newest-first query; scan reads one row and
// returns its ID and item.
func page[T any](ctx context.Context, tx *Tx, sel string, where []string, args []any, p Page,
	scan func(*sql.Rows) (string, T, error)) ([]T, Cursors, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 10
	}
	order := "DESC"
	switch {
	case p.After != "":
		where = append(where, "id < ?")
		args = append(args, p.After)
	case p.Before != "":
		where = append(where, "id > ?")
		args = append(args, p.Before)
		order = "ASC"
	}
	query := fmt.Sprintf("%s WHERE %s ORDER BY id %s LIMIT %d", sel, strings.Join(where, " AND "), order, limit+1)
	rows, err := tx.query(ctx, query, args...)
	if err != nil {
		return nil, Cursors{}, fmt.Errorf("store: list: %w", err)
	}
	defer rows.Close()
	var ids []string
	var items []T
	for rows.Next() {
		id, item, err := scan(rows)
		if err != nil {
			return nil, Cursors{}, fmt.Errorf("store: list: %w", err)
		}
		ids = append(ids, id)
		items = append(items, item)
	}
	if err := rows.Err(); err != nil {
		return nil, Cursors{}, fmt.Errorf("store: list: %w", tx.s.mapErr(err))
	}
	more := len(items) > limit
	if more {
		ids, items = ids[:limit], items[:limit]
	}
	if order == "ASC" { // fetched oldest first: turn newest first
		slices.Reverse(ids)
		slices.Reverse(items)
	}
	var c Cursors
	if len(ids) == 0 {
		return items, c, nil
	}
	// Older items exist past the last one when the query ran newest first
	// and found more, or ran from a Before cursor (the cursor itself is older).
	if (order == "DESC" && more) || p.Before != "" {
		c.MoreAfter = ids[len(ids)-1]
	}
	if (order == "ASC" && more) || p.After != "" {
		c.MoreBefore = ids[0]
	}
	return items, c, nil
}

// Due is a resource whose timer has come.
type Due struct {
	Kind    string
	Project string
	ID      string
	// At is when the timer came due (its DueAt).
	At time.Time
}

// Due lists up to limit resources, of every project, whose DueAt is not
// after now, oldest timer first.
func (tx *Tx) Due(ctx context.Context, now time.Time, limit int) ([]Due, error) {
	return tx.due(ctx, "SELECT kind, project, id, due_at FROM resources WHERE due_at <= ? ORDER BY due_at LIMIT ?", ms(now), limit)
}

// due runs a query of timers (kind, project, id, due_at) and collects them.
func (tx *Tx) due(ctx context.Context, query string, args ...any) ([]Due, error) {
	rows, err := tx.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: due: %w", err)
	}
	defer rows.Close()
	var out []Due
	for rows.Next() {
		var d Due
		var at int64
		if err := rows.Scan(&d.Kind, &d.Project, &d.ID, &at); err != nil {
			return nil, fmt.Errorf("store: due: %w", err)
		}
		d.At = fromMS(at)
		out = append(out, d)
	}
	return out, tx.s.mapErr(rows.Err())
}
