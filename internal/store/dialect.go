package store

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// dialect is everything that differs between the backends, in one value
// chosen at Open: the SQL text (placeholders, row-locking clauses, the
// statements that take locks and send notifications), the drivers' errors,
// how write transactions run, and how processes wake each other. The rest
// of the store asks its dialect and names no backend, but for the claim
// and the recording of results (delivery.go), whose strategies differ in
// more than syntax.
type dialect struct {
	// name is SQLite or Postgres; it names the migrations' folder too.
	name string
	// numbered: placeholders are $1, $2, … rather than the ? the store's
	// queries are written with.
	numbered bool
	// rowLocks: FOR UPDATE and FOR UPDATE SKIP LOCKED lock rows. Without
	// them (SQLite) the clauses are dropped: a single writer serialises
	// every write transaction anyway.
	rowLocks bool
	// singleWriter: write transactions queue for one writer goroutine,
	// which commits those waiting together (batch.go); a row a write
	// transaction reads is as good as locked.
	singleWriter bool
	// cancelStatements: the driver may be handed the caller's cancellable
	// context with each statement (see Tx.driverCtx for why SQLite is not).
	cancelStatements bool
	// readTx are the options of a read-only transaction.
	readTx sql.TxOptions
	// eventLock is the statement that holds a project's event log until
	// the transaction ends (arguments: the lock class, the project); empty
	// where writes commit in seq order anyway.
	eventLock string
	// migrationLock is the statement that holds the schema's migrations
	// until the transaction ends (argument: the lock class); empty where
	// the single writer serialises migrations anyway.
	migrationLock string
	// arrays: a statement may take an array as one argument (a Go []string,
	// []int64 or []*int64, for text[] and bigint[]), so that a batch of any
	// size is one statement text, which the driver prepares once per
	// connection: rows come from unnest(?::TEXT[], ?::BIGINT[], …), lists
	// from = ANY(?). Otherwise (SQLite) a batch is a VALUES list or an IN
	// list of as many rows, or a statement per row.
	arrays bool
	// roundTrips: each statement is a round trip to a server, so that a
	// transaction's writes are worth holding and sending together, and its
	// reads worth combining (puts.go, AppendEvents, Prefetch); otherwise
	// (SQLite) a statement is a call into the process.
	roundTrips bool
	// planEach starts the arguments of a statement that must be planned
	// for its arguments each time it runs (arrays of IDs looked up on a
	// table that grows): a plan the server caches for a prepared statement
	// is made once, after a few runs, for the table as it was then, and a
	// table still small then is scanned whole by that plan, however much
	// it grows, until its next ANALYZE (PostgreSQL's generic plans). With
	// pgx's QueryExecModeCacheDescribe the text's description is cached
	// but the statement is parsed and planned each run, as an unnamed one.
	planEach []any
	// notify is the statement that wakes the listeners of a channel in
	// every process (argument: the channel's name); empty where there is
	// one process, whose store wakes its own listeners.
	notify string
	// scrub are the statements that make the database forget the old
	// versions of rewritten rows (Store.Scrub); none where only an
	// operator's VACUUM FULL can.
	scrub []string
	// mapErr maps the driver's errors to the store's sentinels.
	mapErr func(error) error
	// retryable reports whether a transaction that failed with the error
	// may run again from the start (a serialization failure, a deadlock).
	retryable func(error) bool

	rebound sync.Map // numbered: query text → the backend's text
}

func newSQLiteDialect() *dialect {
	return &dialect{
		name:         SQLite,
		singleWriter: true,
		scrub:        []string{"PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"},
		mapErr:       mapSQLiteErr,
		retryable:    func(error) bool { return false },
	}
}

func newPostgresDialect() *dialect {
	return &dialect{
		name:             Postgres,
		numbered:         true,
		rowLocks:         true,
		arrays:           true,
		roundTrips:       true,
		planEach:         []any{pgx.QueryExecModeCacheDescribe},
		cancelStatements: true,
		// A read transaction sees one snapshot throughout, as SQLite's do
		// (a read-only REPEATABLE READ transaction never fails to
		// serialise).
		readTx:        sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead},
		eventLock:     "SELECT pg_advisory_xact_lock(?, hashtext(current_schema() || '/' || ?))",
		migrationLock: "SELECT pg_advisory_xact_lock(?, hashtext(current_schema()))",
		notify:        "SELECT pg_notify(?, '')",
		mapErr:        mapPostgresErr,
		retryable:     postgresRetryable,
	}
}

// crossProcess reports whether several processes may share the database,
// waking each other with notifications.
func (d *dialect) crossProcess() bool { return d.notify != "" }

// rebind returns the query, written with ? placeholders and FOR UPDATE
// clauses, in the dialect: numbered placeholders, row-locking clauses
// dropped where rows are not locked.
func (d *dialect) rebind(query string) string {
	if !d.rowLocks && strings.Contains(query, " FOR UPDATE") {
		query = strings.ReplaceAll(strings.ReplaceAll(query, " FOR UPDATE SKIP LOCKED", ""), " FOR UPDATE", "")
	}
	if !d.numbered {
		return query
	}
	if v, ok := d.rebound.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(query[i])
	}
	out := b.String()
	d.rebound.Store(query, out)
	return out
}

// valuesUpdate returns an UPDATE of table, set by set from a list of n rows
// of VALUES named v with the columns cols, and then where (which may end in
// RETURNING). Each row is row. It is for dialects without arrays: the text
// differs with n.
func (d *dialect) valuesUpdate(table, set, cols, row string, n int, where string) string {
	var b strings.Builder
	b.WriteString("WITH v " + cols + " AS (VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(") UPDATE " + table + set + " FROM v" + where)
	return b.String()
}
