package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// DeliveryRow is one event on its way to one endpoint. It stays pending until a
// success is recorded or its retries are exhausted.
//
// Two clocks govern a delivery: NextAttemptAt is platform time (the clock
// the simulator may advance, so that retries come due), while LeaseUntil is
// wall time (a lease measures how long a live process may hold the row).
type DeliveryRow struct {
	ID         string
	Project    string
	EndpointID string
	EventID    string
	EventSeq   int64
	Status     string
	Ordered    bool
	Paused     bool
	Attempts   int
	// RetryBase is the attempt count when the delivery was last queued by
	// hand: the retry schedule restarts there.
	RetryBase     int
	NextAttemptAt time.Time
	// LeaseUntil and ClaimID name the dispatcher holding the delivery.
	LeaseUntil time.Time
	ClaimID    string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	LastStatus int
	LastError  string
}

// Attempt is one try to deliver: what the endpoint answered, or the error.
type Attempt struct {
	DeliveryID string
	// N numbers the delivery's attempts from 1.
	N            int
	At           time.Time
	StatusCode   int // 0 when no response arrived
	ResponseBody string
	Latency      time.Duration
	Error        string
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const deliveryColumns = `id, project, endpoint_id, event_id, event_seq, status, ordered, paused, attempts, retry_base,
	next_attempt_at, lease_until, claim_id, created_at, updated_at, last_status, last_error`

func scanDelivery(sc interface{ Scan(...any) error }) (DeliveryRow, error) {
	var d DeliveryRow
	var ordered, paused, next, lease, created, updated int64
	err := sc.Scan(&d.ID, &d.Project, &d.EndpointID, &d.EventID, &d.EventSeq, &d.Status, &ordered, &paused,
		&d.Attempts, &d.RetryBase, &next, &lease, &d.ClaimID, &created, &updated, &d.LastStatus, &d.LastError)
	if err != nil {
		return DeliveryRow{}, err
	}
	d.Ordered, d.Paused = ordered != 0, paused != 0
	d.NextAttemptAt, d.LeaseUntil = fromMS(next), fromMS(lease)
	d.CreatedAt, d.UpdatedAt = fromMS(created), fromMS(updated)
	return d, nil
}

// InsertDelivery queues a delivery; it commits with the event it delivers.
func (tx *Tx) InsertDelivery(ctx context.Context, d *DeliveryRow) error {
	return tx.InsertDeliveries(ctx, []*DeliveryRow{d})
}

// insertChunk bounds the rows of one INSERT where there are no arrays: an
// event to many endpoints queues its deliveries in a few statements rather
// than one per endpoint.
const insertChunk = 64

// deliveryInsert is the start of the INSERT of deliveries; the rows follow.
const deliveryInsert = `INSERT INTO deliveries (id, project, endpoint_id, event_id, event_seq, status, ordered, paused,
			attempts, next_attempt_at, created_at, updated_at, claim_id, lease_until) `

// deliveryInsertArrays inserts the rows of its arguments' arrays, one array
// a column, in one statement text whatever their number.
const deliveryInsertArrays = deliveryInsert + `SELECT * FROM unnest(?::TEXT[], ?::TEXT[], ?::TEXT[], ?::TEXT[],
			?::BIGINT[], ?::TEXT[], ?::BIGINT[], ?::BIGINT[], ?::BIGINT[], ?::BIGINT[], ?::BIGINT[], ?::BIGINT[], ?::TEXT[], ?::BIGINT[])`

// InsertDeliveries queues deliveries; they commit with the events they
// deliver. A delivery with a ClaimID is queued claimed already, leased to
// that claim until its LeaseUntil, as ClaimDeliveries would have left it.
// On PostgreSQL more than one are one statement of arrays, whatever their
// number; one alone (an event to one endpoint, most often) takes the
// VALUES row, which costs PostgreSQL half as much as unnest's arrays.
func (tx *Tx) InsertDeliveries(ctx context.Context, ds []*DeliveryRow) error {
	if len(ds) == 0 {
		return nil
	}
	if tx.s.d.arrays && len(ds) > 1 {
		return tx.insertDeliveriesArrays(ctx, ds)
	}
	for len(ds) > 0 {
		chunk := ds[:min(len(ds), insertChunk)]
		ds = ds[len(chunk):]
		var q strings.Builder
		q.WriteString(deliveryInsert + `VALUES `)
		args := make([]any, 0, 14*len(chunk))
		for i, d := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, d.ID, d.Project, d.EndpointID, d.EventID, d.EventSeq, d.Status, boolInt(d.Ordered),
				boolInt(d.Paused), d.Attempts, ms(d.NextAttemptAt), ms(d.CreatedAt), ms(d.UpdatedAt), d.ClaimID, leaseOf(d))
		}
		if _, err := tx.exec(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("store: insert deliveries: %w", err)
		}
	}
	return nil
}

// insertDeliveriesArrays is InsertDeliveries in one statement of arrays.
func (tx *Tx) insertDeliveriesArrays(ctx context.Context, ds []*DeliveryRow) error {
	texts := func() []string { return make([]string, 0, len(ds)) }
	ints := func() []int64 { return make([]int64, 0, len(ds)) }
	ids, projects, endpoints, events, statuses, claims := texts(), texts(), texts(), texts(), texts(), texts()
	seqs, ordered, paused, attempts := ints(), ints(), ints(), ints()
	next, created, updated, leases := ints(), ints(), ints(), ints()
	for _, d := range ds {
		ids = append(ids, d.ID)
		projects = append(projects, d.Project)
		endpoints = append(endpoints, d.EndpointID)
		events = append(events, d.EventID)
		seqs = append(seqs, d.EventSeq)
		statuses = append(statuses, d.Status)
		ordered = append(ordered, int64(boolInt(d.Ordered)))
		paused = append(paused, int64(boolInt(d.Paused)))
		attempts = append(attempts, int64(d.Attempts))
		next = append(next, ms(d.NextAttemptAt))
		created = append(created, ms(d.CreatedAt))
		updated = append(updated, ms(d.UpdatedAt))
		claims = append(claims, d.ClaimID)
		leases = append(leases, leaseOf(d))
	}
	_, err := tx.exec(ctx, deliveryInsertArrays, ids, projects, endpoints, events, seqs, statuses, ordered, paused,
		attempts, next, created, updated, claims, leases)
	if err != nil {
		return fmt.Errorf("store: insert %d deliveries: %w", len(ds), err)
	}
	return nil
}

// leaseOf is the lease_until a delivery is queued with: none unless claimed.
func leaseOf(d *DeliveryRow) int64 {
	if d.ClaimID == "" {
		return 0
	}
	return ms(d.LeaseUntil)
}

// Claim asks ClaimDeliveries for due deliveries.
type Claim struct {
	// ID marks the claimed rows; only a result carrying it is recorded.
	ID string
	// Now is the platform time: deliveries due by then are claimed.
	Now time.Time
	// Wall is the wall-clock time; rows whose lease ended by then are free.
	Wall time.Time
	// Lease is how long the claim holds the rows.
	Lease time.Duration
	// Limit bounds the batch.
	Limit int
	// Skip names endpoints whose unordered deliveries are not to be
	// claimed now (the dispatcher holds as many of theirs as it will).
	// IDs must not contain commas.
	Skip []string
}

// claimPick picks a batch of due, unpaused, unleased pending deliveries:
// for each ordered endpoint only its head (its pending delivery of the
// lowest event_seq), then unordered ones by due time on deliveries_due (the
// heads come first: there is at most one per endpoint, and they need no
// sort of the whole batch). The heads are found endpoint by endpoint: a loose scan of deliveries_ordered lists the
// ordered endpoints with pending deliveries, and deliveries_pending gives
// each one's head. The cost is O(log n) per unordered row and per ordered
// endpoint, whatever the endpoints' backlogs (the former NOT EXISTS probe
// walked an ordered endpoint's whole backlog on every claim). Unordered rows
// of the endpoints in @skip (a comma-separated list) are passed over.
//
// On PostgreSQL it locks the rows it picks, skipping those another claimer
// holds; SQLite has a single writer, so q() drops the lock clauses there.
// The head is found without locking (in the statement's snapshot), then
// locked: a head another claimer holds is skipped, never passed over for the
// endpoint's next delivery, and one whose claim committed meanwhile fails
// the lease check when PostgreSQL re-reads it. A head stays its endpoint's
// head while leased, so an ordered endpoint has at most one delivery in
// flight.
//
// The statements take named arguments (@now, @wall, @limit, @claim, @lease,
// @skip), which named() turns into positional ones.
const claimPick = `SELECT p.id FROM (
		SELECT h.id FROM (
			WITH RECURSIVE eps (endpoint_id) AS (
				SELECT (SELECT o.endpoint_id FROM deliveries o WHERE o.status = 'pending' AND o.ordered = 1
					ORDER BY o.endpoint_id LIMIT 1)
				UNION ALL
				SELECT (SELECT o.endpoint_id FROM deliveries o WHERE o.status = 'pending' AND o.ordered = 1
					AND o.endpoint_id > eps.endpoint_id ORDER BY o.endpoint_id LIMIT 1)
				FROM eps WHERE eps.endpoint_id IS NOT NULL)
			SELECT d.id FROM deliveries d
			WHERE d.id IN (SELECT (SELECT e.id FROM deliveries e ` + pendingIndex + `
					WHERE e.endpoint_id = eps.endpoint_id AND e.status = 'pending' ORDER BY e.event_seq LIMIT 1)
				FROM eps WHERE eps.endpoint_id IS NOT NULL)
			AND d.status = 'pending' AND d.ordered = 1 AND d.paused = 0 AND d.next_attempt_at <= @now AND d.lease_until <= @wall
			ORDER BY d.next_attempt_at
			LIMIT @limit FOR UPDATE SKIP LOCKED) h
		UNION ALL
		SELECT u.id FROM (` + claimUnordered + ` FOR UPDATE SKIP LOCKED) u
	) p LIMIT @limit`

// claimUnordered picks due unordered deliveries by due time, passing over
// the endpoints in @skip. (/*instr*/ is strpos on PostgreSQL.)
const claimUnordered = `SELECT d.id FROM deliveries d
			WHERE d.status = 'pending' AND d.paused = 0 AND d.ordered = 0 AND d.next_attempt_at <= @now AND d.lease_until <= @wall
			AND (CAST(@skip AS TEXT) = '' OR /*instr*/instr(',' || CAST(@skip AS TEXT) || ',', ',' || d.endpoint_id || ',') = 0)
			ORDER BY d.next_attempt_at
			LIMIT @limit`

// pendingIndex marks where SQLite is told to find a head on
// deliveries_pending: its planner may otherwise walk another index of the
// endpoint's, through every delivered row of it.
const pendingIndex = `/*pending*/`

// claimUpdate marks the picked rows, checking the lease again. The pick must
// run once: as a plain IN subquery PostgreSQL may run it again per row and
// claim more than the limit, so there it is an array built once (an
// InitPlan, which also lets the update find the rows by primary key); on
// SQLite a materialized CTE.
const (
	claimSet      = ` UPDATE deliveries SET claim_id = @claim, lease_until = @lease WHERE `
	claimRecheck  = ` AND status = 'pending' AND paused = 0 AND lease_until <= @wall RETURNING ` + deliveryColumns
	claimPostgres = claimSet + `id = ANY(ARRAY(` + claimPick + `))` + claimRecheck
	claimSQLite   = `WITH picked AS MATERIALIZED (` + claimPick + `)` + claimSet + `id IN (SELECT id FROM picked)` + claimRecheck
)

// claimUnorderedSQLite is the claim when no ordered delivery is pending, as
// SQLite is quicker to prepare it: SQLite prepares each statement anew, and
// preparing the heads' recursive query costs more than a probe of
// deliveries_ordered.
const (
	claimHasOrdered      = `SELECT 1 FROM deliveries WHERE status = 'pending' AND ordered = 1 LIMIT 1`
	claimUnorderedSQLite = `WITH picked AS MATERIALIZED (` + claimUnordered + `)` + claimSet +
		`id IN (SELECT id FROM picked)` + claimRecheck
)

// The claim statements with their named arguments made positional, per
// backend, built once.
var (
	claimSQLiteStmt          = named(strings.Replace(claimSQLite, pendingIndex, "INDEXED BY deliveries_pending", 1))
	claimUnorderedSQLiteStmt = named(claimUnorderedSQLite)
	claimPostgresStmt        = named(strings.Replace(claimPostgres, "/*instr*/instr(", "strpos(", 1))
)

// namedStmt is a statement whose named arguments (@name) were replaced by
// positional ones: names lists the name of each position.
type namedStmt struct {
	query string
	names []string
}

// named turns a statement's @name arguments into positional ones.
func named(query string) namedStmt {
	var b strings.Builder
	var names []string
	for i := 0; i < len(query); i++ {
		if query[i] != '@' {
			b.WriteByte(query[i])
			continue
		}
		j := i + 1
		for j < len(query) && (query[j] == '_' || query[j] >= 'a' && query[j] <= 'z') {
			j++
		}
		names = append(names, query[i+1:j])
		b.WriteByte('?')
		i = j - 1
	}
	return namedStmt{query: b.String(), names: names}
}

// args returns the statement's positional arguments from their values by
// name; a name without a value is a programming error.
func (n namedStmt) args(values map[string]any) []any {
	out := make([]any, len(n.names))
	for i, name := range n.names {
		v, ok := values[name]
		if !ok {
			panic("store: no value for @" + name)
		}
		out[i] = v
	}
	return out
}

// ClaimDeliveries leases up to c.Limit due deliveries to the claim c.ID.
func (tx *Tx) ClaimDeliveries(ctx context.Context, c Claim) ([]DeliveryRow, error) {
	values := map[string]any{
		"now": ms(c.Now), "wall": ms(c.Wall), "lease": ms(c.Wall.Add(c.Lease)), "limit": c.Limit, "claim": c.ID,
		"skip": strings.Join(c.Skip, ","),
	}
	stmt := claimSQLiteStmt
	if tx.s.backend == Postgres {
		stmt = claimPostgresStmt
	} else {
		var one int
		err := tx.queryRow(ctx, claimHasOrdered).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			stmt = claimUnorderedSQLiteStmt
		} else if err != nil {
			return nil, fmt.Errorf("store: claim deliveries: %w", tx.s.mapErr(err))
		}
	}
	rows, err := tx.query(ctx, stmt.query, stmt.args(values)...)
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	defer rows.Close()
	// Grown as rows come: most claims are far below the limit.
	var out []DeliveryRow
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("store: claim deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", tx.s.mapErr(err))
	}
	return out, nil
}

// Result is the outcome of one attempt, recorded only while its claim holds.
type Result struct {
	DeliveryID string
	ClaimID    string
	// Status is the delivery's new status: pending (to retry at
	// NextAttemptAt), succeeded or failed.
	Status        string
	NextAttemptAt time.Time
	// Attempt is what happened; its DeliveryID and N are filled in.
	Attempt Attempt
}

// RecordResult records an attempt and the delivery's new state if the
// delivery is still held by r.ClaimID, and reports whether it was.
func (tx *Tx) RecordResult(ctx context.Context, r Result) (bool, error) {
	a := r.Attempt
	var n int
	err := tx.queryRow(ctx, `UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?,
			lease_until = 0, claim_id = '', updated_at = ?, last_status = ?, last_error = ?
		WHERE id = ? AND claim_id = ? RETURNING attempts`,
		r.Status, ms(r.NextAttemptAt), ms(a.At), a.StatusCode, a.Error, r.DeliveryID, r.ClaimID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: record delivery %s: %w", r.DeliveryID, tx.s.mapErr(err))
	}
	_, err = tx.exec(ctx, `INSERT INTO attempts (delivery_id, n, at, status_code, response_body, latency_ms, error)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.DeliveryID, n, ms(a.At), a.StatusCode, a.ResponseBody, a.Latency.Milliseconds(), a.Error)
	if err != nil {
		return false, fmt.Errorf("store: record attempt of %s: %w", r.DeliveryID, err)
	}
	return true, nil
}

// recordChunk bounds the results one statement records where there are no
// arrays (and so its size: 7 parameters a row); arrayChunk bounds the rows
// of one statement of arrays, whose text does not depend on their number.
const (
	recordChunk = 100
	arrayChunk  = 1000
)

// chunkLimit is the most rows a bookkeeping statement takes in the dialect.
func (tx *Tx) chunkLimit() int {
	if tx.s.d.arrays {
		return arrayChunk
	}
	return recordChunk
}

// RecordResults records a batch of results as RecordResult does each:
// results are taken in chunks of up to chunkLimit results, each recorded by
// one UPDATE of the deliveries still held by their result's claim and one
// INSERT of the attempts of those. On SQLite those statements are not
// constant (SQLite prepares them anew, so one result alone takes
// RecordResult's); on PostgreSQL they are one statement of arrays, the same
// text for any chunk. ok[i] reports whether rs[i] was recorded.
func (tx *Tx) RecordResults(ctx context.Context, rs []Result) (ok []bool, err error) {
	ok = make([]bool, len(rs))
	limit := tx.chunkLimit()
	chunk := make(map[string]int, min(len(rs), limit)) // delivery ID → index in rs
	lo := 0
	for i := 0; i <= len(rs); i++ {
		if i < len(rs) {
			_, dup := chunk[rs[i].DeliveryID]
			if !dup && i-lo < limit {
				chunk[rs[i].DeliveryID] = i
				continue
			}
		}
		// A chunk names each delivery once (a result of an older claim may
		// share a batch with the current claim's), so that the rows the
		// UPDATE returns say which results held their claim.
		switch {
		case i == lo+1 && !tx.s.d.arrays: // one result: RecordResult's statements are simpler
			if ok[lo], err = tx.RecordResult(ctx, rs[lo]); err != nil {
				return nil, err
			}
		case i > lo:
			if err := tx.recordResults(ctx, rs, lo, i, chunk, ok); err != nil {
				return nil, err
			}
		}
		clear(chunk)
		if i < len(rs) {
			chunk[rs[i].DeliveryID] = i
		}
		lo = i
	}
	return ok, nil
}

// recordUpdate sets each delivery of the VALUES list still held by its
// claim and returns the attempt count each reached. v's columns: id,
// claim_id, status, next_attempt_at, at, status_code, error.
const (
	recordSet = ` SET status = v.status, attempts = deliveries.attempts + 1, next_attempt_at = v.next_attempt_at,
			lease_until = 0, claim_id = '', updated_at = v.at, last_status = v.status_code, last_error = v.error`
	recordWhere = ` WHERE deliveries.id = v.id AND deliveries.claim_id = v.claim_id RETURNING deliveries.id, deliveries.attempts`
	recordCols  = `(id, claim_id, status, next_attempt_at, at, status_code, error)`
	recordRow   = `(?, ?, ?, ?, ?, ?, ?)`
)

// recordArrays records the results whose columns are its arguments' arrays
// (v's columns, then the IDs again) in one statement, one round trip, one
// text whatever their number: the UPDATE of the deliveries still held by
// their claims, in a CTE, returns what the INSERT of their attempts needs,
// and the INSERT returns the deliveries recorded.
//
// It is planned for its arguments each run (dialect.planEach), and
// deliveries.id = ANY(…) repeats the join's condition so that the plan finds
// the rows on deliveries_pkey: with the join alone, PostgreSQL hashes a
// sequential scan of deliveries for a few hundred results on a table of a
// few tens of thousands of rows.
const recordArrays = `WITH u AS (UPDATE deliveries` + recordSet + `
		FROM unnest(?::TEXT[], ?::TEXT[], ?::TEXT[], ?::BIGINT[], ?::BIGINT[], ?::BIGINT[], ?::TEXT[], ?::TEXT[], ?::BIGINT[])
			AS v (id, claim_id, status, next_attempt_at, at, status_code, error, body, latency)
		WHERE deliveries.id = ANY(?::TEXT[]) AND deliveries.id = v.id AND deliveries.claim_id = v.claim_id
		RETURNING deliveries.id, deliveries.attempts, v.at, v.status_code, v.body, v.latency, v.error)
	INSERT INTO attempts (delivery_id, n, at, status_code, response_body, latency_ms, error)
	SELECT id, attempts, at, status_code, body, latency, error FROM u
	RETURNING delivery_id`

// recordResults records the chunk rs[lo:hi], whose deliveries index maps to
// their index in rs (and ok).
func (tx *Tx) recordResults(ctx context.Context, rs []Result, lo, hi int, index map[string]int, ok []bool) error {
	if tx.s.backend == Postgres {
		return tx.recordResultsPostgres(ctx, rs, lo, hi, index, ok)
	}
	args := make([]any, 0, 7*(hi-lo))
	for i := lo; i < hi; i++ {
		r := &rs[i]
		args = append(args, r.DeliveryID, r.ClaimID, r.Status, ms(r.NextAttemptAt), ms(r.Attempt.At), r.Attempt.StatusCode, r.Attempt.Error)
	}
	rows, err := tx.query(ctx, tx.s.d.valuesUpdate("deliveries", recordSet, recordCols, recordRow, hi-lo, recordWhere), args...)
	if err != nil {
		return fmt.Errorf("store: record %d deliveries: %w", hi-lo, err)
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO attempts (delivery_id, n, at, status_code, response_body, latency_ms, error) VALUES `)
	args = args[:0]
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return fmt.Errorf("store: record %d deliveries: %w", hi-lo, err)
		}
		i, found := index[id]
		if !found || ok[i] {
			rows.Close()
			return fmt.Errorf("store: record %d deliveries: unexpected row %s updated", hi-lo, id)
		}
		ok[i] = true
		if len(args) > 0 {
			b.WriteString(", ")
		}
		b.WriteString(recordRow)
		a := &rs[i].Attempt
		args = append(args, id, n, ms(a.At), a.StatusCode, a.ResponseBody, a.Latency.Milliseconds(), a.Error)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return fmt.Errorf("store: record %d deliveries: %w", hi-lo, tx.s.mapErr(err))
	}
	rows.Close()
	if len(args) == 0 {
		return nil
	}
	if _, err := tx.exec(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("store: record %d attempts: %w", len(args)/7, err)
	}
	return nil
}

// recordResultsPostgres is recordResults in one statement of arrays,
// recordArrays.
func (tx *Tx) recordResultsPostgres(ctx context.Context, rs []Result, lo, hi int, index map[string]int, ok []bool) error {
	n := hi - lo
	texts := func() []string { return make([]string, 0, n) }
	ints := func() []int64 { return make([]int64, 0, n) }
	ids, claims, statuses, errs, bodies := texts(), texts(), texts(), texts(), texts()
	next, at, codes, latencies := ints(), ints(), ints(), ints()
	for i := lo; i < hi; i++ {
		r := &rs[i]
		a := &r.Attempt
		ids = append(ids, r.DeliveryID)
		claims = append(claims, r.ClaimID)
		statuses = append(statuses, r.Status)
		next = append(next, ms(r.NextAttemptAt))
		at = append(at, ms(a.At))
		codes = append(codes, int64(a.StatusCode))
		errs = append(errs, a.Error)
		bodies = append(bodies, a.ResponseBody)
		latencies = append(latencies, a.Latency.Milliseconds())
	}
	rows, err := tx.query(ctx, recordArrays, tx.planEach(ids, claims, statuses, next, at, codes, errs, bodies, latencies, ids)...)
	if err != nil {
		return fmt.Errorf("store: record %d deliveries: %w", n, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("store: record %d deliveries: %w", n, err)
		}
		i, found := index[id]
		if !found || ok[i] {
			return fmt.Errorf("store: record %d deliveries: unexpected row %s recorded", n, id)
		}
		ok[i] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: record %d deliveries: %w", n, tx.s.mapErr(err))
	}
	return nil
}

// ReleaseDelivery gives up the claim on a delivery without an attempt, due
// again at next, and reports whether the claim still held it.
func (tx *Tx) ReleaseDelivery(ctx context.Context, id, claimID string, next time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE deliveries SET claim_id = '', lease_until = 0, next_attempt_at = ?
		WHERE id = ? AND claim_id = ?`, ms(next), id, claimID)
	if err != nil {
		return false, fmt.Errorf("store: release delivery %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Release gives up a claim on a delivery without an attempt.
type Release struct {
	DeliveryID string
	ClaimID    string
	// NextAttemptAt is when the delivery is due again.
	NextAttemptAt time.Time
	// Seen is the delivery's UpdatedAt when it was claimed. When the row
	// has been updated since (queued again by hand, resumed with its
	// endpoint), the release keeps the due time that set; zero: always
	// set NextAttemptAt.
	Seen time.Time
}

// The release of a batch: each delivery of v still held by its claim is
// freed, due again at v.next unless updated since v.seen.
const (
	releaseSet = ` SET claim_id = '', lease_until = 0,
			next_attempt_at = CASE WHEN v.seen IS NULL OR deliveries.updated_at = v.seen THEN v.next ELSE deliveries.next_attempt_at END`
	releaseWhere = ` WHERE deliveries.id = v.id AND deliveries.claim_id = v.claim_id RETURNING deliveries.id`
	// releaseArrays takes v's columns as arrays, then the IDs again (the
	// = ANY(…) finds the rows on deliveries_pkey, as in recordArrays).
	releaseArrays = `UPDATE deliveries` + releaseSet + `
		FROM unnest(?::TEXT[], ?::TEXT[], ?::BIGINT[], ?::BIGINT[]) AS v (id, claim_id, next, seen)
		WHERE deliveries.id = ANY(?::TEXT[]) AND deliveries.id = v.id AND deliveries.claim_id = v.claim_id
		RETURNING deliveries.id`
)

// ReleaseDeliveries releases a batch as ReleaseDelivery does each, in one
// statement per chunk of up to chunkLimit, and reports which releases found
// their claim still holding the delivery. On PostgreSQL the statement is
// one of arrays, the same text for any chunk.
func (tx *Tx) ReleaseDeliveries(ctx context.Context, rs []Release) ([]bool, error) {
	ok := make([]bool, len(rs))
	limit := tx.chunkLimit()
	for lo := 0; lo < len(rs); lo += limit {
		hi := min(lo+limit, len(rs))
		query, args := tx.releaseStatement(rs[lo:hi])
		rows, err := tx.query(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("store: release %d deliveries: %w", hi-lo, err)
		}
		released := make(map[string]bool, hi-lo)
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: release %d deliveries: %w", hi-lo, err)
			}
			released[id] = true
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: release %d deliveries: %w", hi-lo, tx.s.mapErr(err))
		}
		rows.Close()
		for i := lo; i < hi; i++ {
			ok[i] = released[rs[i].DeliveryID]
		}
	}
	return ok, nil
}

// releaseStatement returns the statement releasing rs and its arguments:
// releaseArrays, or a VALUES list of as many rows as rs.
func (tx *Tx) releaseStatement(rs []Release) (string, []any) {
	seen := func(r *Release) *int64 { // NULL: always set the due time
		if r.Seen.IsZero() {
			return nil
		}
		t := ms(r.Seen)
		return &t
	}
	if tx.s.d.arrays {
		ids, claims := make([]string, len(rs)), make([]string, len(rs))
		next, seens := make([]int64, len(rs)), make([]*int64, len(rs))
		for i := range rs {
			ids[i], claims[i], next[i], seens[i] = rs[i].DeliveryID, rs[i].ClaimID, ms(rs[i].NextAttemptAt), seen(&rs[i])
		}
		return releaseArrays, tx.planEach(ids, claims, next, seens, ids)
	}
	args := make([]any, 0, 4*len(rs))
	for i := range rs {
		var s any
		if p := seen(&rs[i]); p != nil {
			s = *p
		}
		args = append(args, rs[i].DeliveryID, rs[i].ClaimID, ms(rs[i].NextAttemptAt), s)
	}
	return tx.s.d.valuesUpdate("deliveries", releaseSet, `(id, claim_id, next, seen)`, `(?, ?, ?, ?)`, len(rs), releaseWhere), args
}

// PauseDeliveries stops the endpoint's pending deliveries (it was disabled).
func (tx *Tx) PauseDeliveries(ctx context.Context, endpointID string) error {
	_, err := tx.exec(ctx, "UPDATE deliveries SET paused = 1 WHERE endpoint_id = ? AND status = 'pending' AND paused = 0", endpointID)
	if err != nil {
		return fmt.Errorf("store: pause deliveries of %s: %w", endpointID, err)
	}
	return nil
}

// ResumeDeliveries makes the endpoint's paused deliveries due at now, with
// their retry schedule started over.
func (tx *Tx) ResumeDeliveries(ctx context.Context, endpointID string, now time.Time) error {
	_, err := tx.exec(ctx, `UPDATE deliveries SET paused = 0, next_attempt_at = ?, retry_base = attempts, updated_at = ?
		WHERE endpoint_id = ? AND status = 'pending' AND paused = 1`, ms(now), ms(now), endpointID)
	if err != nil {
		return fmt.Errorf("store: resume deliveries of %s: %w", endpointID, err)
	}
	return nil
}

// OrderDeliveries sets whether the endpoint's pending deliveries go out
// strictly in log order.
func (tx *Tx) OrderDeliveries(ctx context.Context, endpointID string, ordered bool) error {
	_, err := tx.exec(ctx, "UPDATE deliveries SET ordered = ? WHERE endpoint_id = ? AND status = 'pending'",
		boolInt(ordered), endpointID)
	if err != nil {
		return fmt.Errorf("store: order deliveries of %s: %w", endpointID, err)
	}
	return nil
}

// DeferDeliveries makes none of the endpoint's pending deliveries due before
// until (the endpoint asked to slow down, or its breaker opened). On
// PostgreSQL it passes over rows another transaction holds — a claim, or
// another recorder's results for the endpoint, which set their rows' due
// times themselves — rather than wait for them: two recorders deferring one
// endpoint's backlog would otherwise deadlock, each holding rows of it.
func (tx *Tx) DeferDeliveries(ctx context.Context, endpointID string, until time.Time) error {
	_, err := tx.exec(ctx, `UPDATE deliveries SET next_attempt_at = ?
		WHERE id IN (SELECT id FROM deliveries
			WHERE endpoint_id = ? AND status = 'pending' AND next_attempt_at < ? FOR UPDATE SKIP LOCKED)`,
		ms(until), endpointID, ms(until))
	if err != nil {
		return fmt.Errorf("store: defer deliveries of %s: %w", endpointID, err)
	}
	return nil
}

// DeleteDeliveries removes the endpoint's deliveries and their attempts.
func (tx *Tx) DeleteDeliveries(ctx context.Context, endpointID string) error {
	if _, err := tx.exec(ctx, "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE endpoint_id = ?)",
		endpointID); err != nil {
		return fmt.Errorf("store: delete attempts of %s: %w", endpointID, err)
	}
	if _, err := tx.exec(ctx, "DELETE FROM deliveries WHERE endpoint_id = ?", endpointID); err != nil {
		return fmt.Errorf("store: delete deliveries of %s: %w", endpointID, err)
	}
	return nil
}

// DeliveryOf returns the delivery of an event to an endpoint.
func (tx *Tx) DeliveryOf(ctx context.Context, eventID, endpointID string) (DeliveryRow, error) {
	d, err := scanDelivery(tx.queryRow(ctx, "SELECT "+deliveryColumns+" FROM deliveries WHERE event_id = ? AND endpoint_id = ?",
		eventID, endpointID))
	if err != nil {
		return DeliveryRow{}, fmt.Errorf("store: delivery of %s to %s: %w", eventID, endpointID, tx.s.rowErr(err))
	}
	return d, nil
}

// RequeueDelivery makes a delivery pending and due at now, its retry
// schedule started over; paused when its endpoint is disabled.
func (tx *Tx) RequeueDelivery(ctx context.Context, id string, now time.Time, paused bool) error {
	// A claim still holding the delivery is ended: the result of an attempt
	// in flight then records nothing (it finds its claim gone), so it
	// cannot mark the delivery succeeded over this requeue, and the event
	// is sent again as asked.
	_, err := tx.exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, paused = ?, retry_base = attempts,
			claim_id = '', lease_until = 0, updated_at = ? WHERE id = ?`, ms(now), boolInt(paused), ms(now), id)
	if err != nil {
		return fmt.Errorf("store: requeue delivery %s: %w", id, err)
	}
	return nil
}

// RecoverDeliveries requeues the endpoint's failed deliveries created at or
// after since, and returns how many.
func (tx *Tx) RecoverDeliveries(ctx context.Context, endpointID string, since, now time.Time, paused bool) (int64, error) {
	res, err := tx.exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, paused = ?, retry_base = attempts,
			updated_at = ? WHERE endpoint_id = ? AND status = 'failed' AND created_at >= ?`,
		ms(now), boolInt(paused), ms(now), endpointID, ms(since))
	if err != nil {
		return 0, fmt.Errorf("store: recover deliveries of %s: %w", endpointID, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeliveryQuery selects a page of a project's deliveries, of one endpoint
// or of one event.
type DeliveryQuery struct {
	Project    string
	EndpointID string // filter when set
	EventID    string // filter when set
	Page
}

// ListDeliveries returns a page of deliveries, newest first.
func (tx *Tx) ListDeliveries(ctx context.Context, q DeliveryQuery) ([]DeliveryRow, Cursors, error) {
	where := []string{"project = ?"}
	args := []any{q.Project}
	if q.EndpointID != "" {
		where = append(where, "endpoint_id = ?")
		args = append(args, q.EndpointID)
	}
	if q.EventID != "" {
		where = append(where, "event_id = ?")
		args = append(args, q.EventID)
	}
	return page(ctx, tx, "SELECT "+deliveryColumns+" FROM deliveries", where, args, q.Page, func(rows *sql.Rows) (string, DeliveryRow, error) {
		d, err := scanDelivery(rows)
		return d.ID, d, err
	})
}

// AttemptsOf returns the attempts of the deliveries, oldest first.
func (tx *Tx) AttemptsOf(ctx context.Context, deliveryIDs []string) (map[string][]Attempt, error) {
	out := make(map[string][]Attempt, len(deliveryIDs))
	if len(deliveryIDs) == 0 {
		return out, nil
	}
	cond, args := tx.oneOf("delivery_id", deliveryIDs)
	rows, err := tx.query(ctx, `SELECT delivery_id, n, at, status_code, response_body, latency_ms, error FROM attempts
		WHERE `+cond+` ORDER BY delivery_id, n`, tx.planEach(args...)...)
	if err != nil {
		return nil, fmt.Errorf("store: attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a Attempt
		var at, latency int64
		if err := rows.Scan(&a.DeliveryID, &a.N, &at, &a.StatusCode, &a.ResponseBody, &latency, &a.Error); err != nil {
			return nil, fmt.Errorf("store: attempts: %w", err)
		}
		a.At, a.Latency = fromMS(at), time.Duration(latency)*time.Millisecond
		out[a.DeliveryID] = append(out[a.DeliveryID], a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: attempts: %w", tx.s.mapErr(err))
	}
	return out, nil
}

// QueueStat is the pending queue of one endpoint.
type QueueStat struct {
	EndpointID string
	Pending    int64
	// Oldest is when the oldest pending delivery was queued.
	Oldest time.Time
}

// QueueStats returns the pending queue of every endpoint that has one.
func (tx *Tx) QueueStats(ctx context.Context) ([]QueueStat, error) {
	rows, err := tx.query(ctx, `SELECT endpoint_id, COUNT(*), MIN(created_at) FROM deliveries
		WHERE status = 'pending' GROUP BY endpoint_id`)
	if err != nil {
		return nil, fmt.Errorf("store: queue stats: %w", err)
	}
	defer rows.Close()
	var out []QueueStat
	for rows.Next() {
		var q QueueStat
		var oldest int64
		if err := rows.Scan(&q.EndpointID, &q.Pending, &oldest); err != nil {
			return nil, fmt.Errorf("store: queue stats: %w", err)
		}
		q.Oldest = fromMS(oldest)
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: queue stats: %w", tx.s.mapErr(err))
	}
	return out, nil
}

// Bodies returns the bodies of the resources of a kind with the given IDs,
// of any project, by ID; missing IDs are absent from the map.
func (tx *Tx) Bodies(ctx context.Context, kind string, ids []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	cond, args := tx.oneOf("id", ids)
	rows, err := tx.query(ctx, "SELECT id, body FROM resources WHERE kind = ? AND "+cond, tx.planEach(append([]any{kind}, args...)...)...)
	if err != nil {
		return nil, fmt.Errorf("store: load %s: %w", kind, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var body []byte
		if err := rows.Scan(&id, &body); err != nil {
			return nil, fmt.Errorf("store: load %s: %w", kind, err)
		}
		out[id] = body
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: load %s: %w", kind, tx.s.mapErr(err))
	}
	return out, nil
}

// planEach returns a statement's arguments, after what makes the dialect
// plan the statement for them each time it runs (see dialect.planEach).
func (tx *Tx) planEach(args ...any) []any {
	return slices.Concat(tx.s.d.planEach, args)
}

// oneOf returns the condition that column is one of values, and its
// arguments: = ANY(?) of one array where the dialect has arrays, one text
// whatever the number of values; otherwise an IN list of as many
// placeholders. values must not be empty.
func (tx *Tx) oneOf(column string, values []string) (string, []any) {
	if tx.s.d.arrays {
		return column + " = ANY(?::TEXT[])", []any{values}
	}
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return column + " IN (?" + strings.Repeat(", ?", len(values)-1) + ")", args
}
