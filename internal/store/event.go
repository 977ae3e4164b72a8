package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// EventRow is the canonical record of one event; every version's rendering is
// derived from it.
type EventRow struct {
	// Seq orders events in the log; set by InsertEvent.
	Seq      int64
	ID       string
	Project  string
	Type     string
	Resource string // the ID of the resource the event is about
	Time     time.Time
	Source   string
	// Data is the resource as JSON, in the newest version's shape.
	Data []byte
	// PreviousData is the shallow diff of *.updated events, or nil.
	PreviousData []byte
	// Actor is who caused the change, as JSON, or nil.
	Actor []byte
}

func nullBytes(b []byte) sql.NullString {
	return sql.NullString{String: string(b), Valid: b != nil}
}

// eventLock is the PostgreSQL advisory lock class that serialises the
// transactions appending to one project's event log. Advisory locks are
// database-wide, so the second key hashes the schema with the project:
// installations (and tests) in other schemas of the database do not wait.
const eventLock = 7_340_002

// SerializeEvents makes the transaction's events of the project take their
// seqs in commit order: on PostgreSQL it takes the project's event lock (a
// transaction-scoped advisory lock) and holds it until commit or rollback;
// SQLite, with its single writer, always commits in seq order. Call it
// before the first InsertEvent of the project in the transaction.
//
// Where every writer of a project serializes, a reader that has seen seq N
// never later finds a committed event of the project below N: ordered
// webhook endpoints rely on that across processes, and so does tailing the
// log with EventsSince. The price is that those transactions commit one at
// a time, so the event log takes the lock only for projects that need it.
func (tx *Tx) SerializeEvents(ctx context.Context, project string) error {
	if tx.s.d.eventLock == "" || tx.eventLocks[project] {
		return nil
	}
	if _, err := tx.exec(ctx, tx.s.d.eventLock, eventLock, project); err != nil {
		return fmt.Errorf("store: lock event log of %s: %w", project, err)
	}
	if tx.eventLocks == nil {
		tx.eventLocks = map[string]bool{}
	}
	tx.eventLocks[project] = true
	return nil
}

// eventInsert is the start of the INSERT of events; a row of eventRow
// each, with eventArgs, follows.
const (
	eventInsert = "INSERT INTO events (id, project, type, resource, time, source, data, previous_data, actor) VALUES "
	eventRow    = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

// eventArgs appends the values of e's row to args.
func eventArgs(args []any, e *EventRow) []any {
	return append(args, e.ID, e.Project, e.Type, e.Resource, ms(e.Time), e.Source, string(e.Data),
		nullBytes(e.PreviousData), nullBytes(e.Actor))
}

// InsertEvent appends e to the log and sets its Seq.
func (tx *Tx) InsertEvent(ctx context.Context, e *EventRow) error {
	err := tx.queryRow(ctx, eventInsert+eventRow+" RETURNING seq", eventArgs(nil, e)...).Scan(&e.Seq)
	if err != nil {
		return fmt.Errorf("store: insert event %s: %w", e.ID, tx.s.mapErr(err))
	}
	return nil
}

// AppendEvents appends the events to the log, in order, and queues their
// deliveries: it sets each event's Seq and each delivery's EventSeq (from
// the event whose ID the delivery names, which must be among evs). On
// PostgreSQL it is one statement (appendStatement), with the
// transaction's pending Puts: a transaction that records its events this
// way makes one round trip for its writes instead of one per resource,
// one per event and one for the deliveries.
func (tx *Tx) AppendEvents(ctx context.Context, evs []*EventRow, ds []*DeliveryRow) error {
	if len(evs) == 0 {
		if len(ds) > 0 {
			return fmt.Errorf("store: %d deliveries of no event", len(ds))
		}
		return nil
	}
	if !tx.s.d.roundTrips {
		for _, e := range evs {
			if err := tx.InsertEvent(ctx, e); err != nil {
				return err
			}
		}
		if err := setEventSeqs(evs, ds); err != nil {
			return err
		}
		return tx.InsertDeliveries(ctx, ds)
	}
	query, args := tx.appendStatement(evs, ds)
	rows, err := tx.queryNow(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: append %d events: %w", len(evs), err)
	}
	defer rows.Close()
	seqs := make(map[string]int64, len(evs))
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return fmt.Errorf("store: append %d events: %w", len(evs), tx.s.mapErr(err))
		}
		seqs[id] = seq
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: append %d events: %w", len(evs), tx.s.mapErr(err))
	}
	for _, e := range evs {
		seq, ok := seqs[e.ID]
		if !ok {
			return fmt.Errorf("store: append %d events: no seq for %s", len(evs), e.ID)
		}
		e.Seq = seq
	}
	// A delivery whose event was not among evs found no seq: the
	// statement failed on its NOT NULL. The rest have the seqs they took.
	return setEventSeqs(evs, ds)
}

// setEventSeqs sets each delivery's EventSeq from its event.
func setEventSeqs(evs []*EventRow, ds []*DeliveryRow) error {
	for _, d := range ds {
		i := slices.IndexFunc(evs, func(e *EventRow) bool { return e.ID == d.EventID })
		if i < 0 {
			return fmt.Errorf("store: delivery %s of event %s, which is not appended with it", d.ID, d.EventID)
		}
		d.EventSeq = evs[i].Seq
	}
	return nil
}

// appendStatement is AppendEvents on PostgreSQL, with the transaction's
// pending Puts (puts.go), which it takes: one statement whose CTEs insert
// the resources, the events, and the deliveries, each delivery's seq
// looked up among the events' (the CTEs see each other's RETURNING, not
// each other's rows). The events take their seqs in the order of their
// VALUES rows. VALUES rather than arrays: see putsInsert; each shape — so
// many puts, events and deliveries — is one text, prepared once per
// connection.
func (tx *Tx) appendStatement(evs []*EventRow, ds []*DeliveryRow) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 9*len(tx.puts.rows)+9*len(evs)+15*len(ds))
	b.WriteString("WITH ")
	if !tx.puts.empty() {
		b.WriteString("r AS (")
		args = tx.puts.take(&b, args)
		b.WriteString("), ")
	}
	b.WriteString("e AS (" + eventInsert)
	for i, e := range evs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(eventRow)
		args = eventArgs(args, e)
	}
	b.WriteString(" RETURNING id, seq)")
	if len(ds) > 0 {
		b.WriteString(", d AS (" + deliveryInsert + "VALUES ")
		for i, d := range ds {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, (SELECT seq FROM e WHERE e.id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, d.ID, d.Project, d.EndpointID, d.EventID, d.EventID, d.Status, boolInt(d.Ordered), boolInt(d.Paused),
				d.Attempts, ms(d.NextAttemptAt), ms(d.CreatedAt), ms(d.UpdatedAt), d.ClaimID, leaseOf(d))
		}
		b.WriteString(")")
	}
	b.WriteString(" SELECT id, seq FROM e")
	return b.String(), args
}

const eventColumns = "seq, id, project, type, resource, time, source, data, previous_data, actor"

func scanEvent(sc interface{ Scan(...any) error }) (EventRow, error) {
	var e EventRow
	var t int64
	var prev, actor sql.NullString
	var data string
	if err := sc.Scan(&e.Seq, &e.ID, &e.Project, &e.Type, &e.Resource, &t, &e.Source, &data, &prev, &actor); err != nil {
		return EventRow{}, err
	}
	e.Time = fromMS(t)
	e.Data = []byte(data)
	if prev.Valid {
		e.PreviousData = []byte(prev.String)
	}
	if actor.Valid {
		e.Actor = []byte(actor.String)
	}
	return e, nil
}

// GetEvent returns the project's event with that ID.
func (tx *Tx) GetEvent(ctx context.Context, project, id string) (EventRow, error) {
	e, err := scanEvent(tx.queryRow(ctx, "SELECT "+eventColumns+" FROM events WHERE id = ? AND project = ?", id, project))
	if err != nil {
		return EventRow{}, fmt.Errorf("store: get event %s: %w", id, tx.s.rowErr(err))
	}
	return e, nil
}

// EventQuery selects a page of a project's events.
type EventQuery struct {
	Project string
	Types   []string // filter when set
	// Resource, when set, selects the events about that resource.
	Resource string
	Page
}

// ListEvents returns a page of events, newest first.
func (tx *Tx) ListEvents(ctx context.Context, q EventQuery) ([]EventRow, Cursors, error) {
	where := []string{"project = ?"}
	args := []any{q.Project}
	if len(q.Types) > 0 {
		where = append(where, "type IN (?"+strings.Repeat(", ?", len(q.Types)-1)+")")
		for _, t := range q.Types {
			args = append(args, t)
		}
	}
	if q.Resource != "" {
		where = append(where, "resource = ?")
		args = append(args, q.Resource)
	}
	return page(ctx, tx, "SELECT "+eventColumns+" FROM events", where, args, q.Page, func(rows *sql.Rows) (string, EventRow, error) {
		ev, err := scanEvent(rows)
		return ev.ID, ev, err
	})
}

// EventsSince returns up to limit of the project's events whose Seq is
// greater than afterSeq, oldest first. A consumer that tails the log by
// passing the last Seq it saw misses nothing where the project's writers
// serialize their events (always on SQLite; see SerializeEvents): then no
// event below a seen one commits later.
func (tx *Tx) EventsSince(ctx context.Context, project string, afterSeq int64, limit int) ([]EventRow, error) {
	if limit <= 0 {
		limit = 100
	}
	evs, err := tx.eventsWhere(ctx, "project = ? AND seq > ? ORDER BY seq LIMIT ?", project, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("store: events since %d: %w", afterSeq, err)
	}
	return evs, nil
}

// EventsByID returns the events with the given IDs, of any project.
func (tx *Tx) EventsByID(ctx context.Context, ids []string) (map[string]EventRow, error) {
	if len(ids) == 0 {
		return map[string]EventRow{}, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	evs, err := tx.eventsWhere(ctx, "id IN (?"+strings.Repeat(", ?", len(ids)-1)+")", args...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]EventRow, len(evs))
	for _, e := range evs {
		out[e.ID] = e
	}
	return out, nil
}

func (tx *Tx) eventsWhere(ctx context.Context, where string, args ...any) ([]EventRow, error) {
	rows, err := tx.query(ctx, "SELECT "+eventColumns+" FROM events WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: load events: %w", err)
	}
	defer rows.Close()
	var out []EventRow
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("store: load events: %w", err)
		}
		out = append(out, e)
	}
	return out, tx.s.mapErr(rows.Err())
}
