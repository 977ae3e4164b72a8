// Package store keeps the platform's state in SQLite (embedded, the default)
// or PostgreSQL (several processes on one database) behind one small API: a
// write transaction, a read transaction, and typed operations on resources,
// events, deliveries, idempotency keys and settings. Both backends run the
// same SQL apart from what the dialect rewrites, and one conformance suite
// proves they behave alike.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Sentinel errors, mapped from each driver's own at this seam.
var (
	// ErrNotFound: no row matched.
	ErrNotFound = errors.New("store: not found")
	// ErrDuplicate: a unique key is taken.
	ErrDuplicate = errors.New("store: duplicate key")
	// ErrUnavailable: the database cannot be reached right now.
	ErrUnavailable = errors.New("store: database unavailable")
)

// Backend names.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Options configure Open. The zero value works.
type Options struct {
	// Logger receives the store's logs; slog.Default() when nil.
	Logger *slog.Logger
	// SyncFull asks SQLite for synchronous=FULL (durable on power loss)
	// instead of NORMAL (durable on process crash).
	SyncFull bool
	// Schema, for PostgreSQL, is the schema to use (created if missing);
	// tests give each their own. When empty, a search_path=name parameter
	// of the URL names it.
	Schema string
	// MaxConns bounds the PostgreSQL connection pool of this process
	// (DefaultMaxConns when zero); a pool_max_conns=N parameter in the URL
	// sets it too. LISTEN connections come on top.
	MaxConns int
}

// Store is a handle on the database. It is safe for concurrent use.
type Store struct {
	backend string
	dsn     string
	write   *sql.DB // SQLite: one connection, so writers queue in-process
	read    *sql.DB
	log     *slog.Logger
	schema  string

	rebound sync.Map // query text → dialect's text
	memos   memos    // views of memoized kinds (memo.go)

	hub    hub // in-process listeners (SQLite)
	sigMu  sync.Mutex
	sigs   map[string]chan struct{} // Signal's pending wake-up per channel
	ctx    context.Context          // done when the store closes
	cancel context.CancelFunc       // closes ctx

	writes     chan *writeReq // SQLite: transactions waiting for the writer
	writerDone chan struct{}  // SQLite: closed when the writer has stopped

	writeStmts *stmtCache // SQLite: statements prepared on the write handle
	readStmts  *stmtCache // SQLite: statements prepared on the read pool
}

// Open connects to the database named by dsn — a PostgreSQL URL
// ("postgres://…"), a "sqlite:" URL or a plain file path — and migrates it.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Store{dsn: dsn, log: log, schema: opts.Schema}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s.backend = Postgres
		err = s.openPostgres(ctx, dsn, opts)
	} else {
		s.backend = SQLite
		if err = s.openSQLite(dsn, opts); err == nil {
			s.startWriter()
		}
	}
	if err != nil {
		s.cancel()
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) openSQLite(dsn string, opts Options) error {
	if !sqliteBuilt {
		return ErrSQLiteNeedsCgo
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:")
	if path == "" {
		return fmt.Errorf("store: empty SQLite path in %q", dsn)
	}
	sync := "NORMAL"
	if opts.SyncFull {
		sync = "FULL"
	}
	params := "_journal_mode=WAL&_synchronous=" + sync + "&_busy_timeout=10000&_cache_size=-32000"
	open := func(extra string, conns int) (*sql.DB, error) {
		db, err := sql.Open(sqliteDriver, "file:"+url.PathEscape(path)+"?"+params+extra)
		if err != nil {
			return nil, fmt.Errorf("store: open SQLite %s: %w", path, err)
		}
		db.SetMaxOpenConns(conns)
		db.SetMaxIdleConns(conns)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		return db, nil
	}
	var err error
	if s.write, err = open("&_txlock=immediate", 1); err != nil {
		return err
	}
	if s.read, err = open("&_txlock=deferred&_query_only=1", 4); err != nil {
		s.write.Close()
		return err
	}
	s.writeStmts, s.readStmts = newStmtCache(s.write), newStmtCache(s.read)
	return nil
}

// stmtsFor returns the statement cache of db, nil when it has none.
func (s *Store) stmtsFor(db *sql.DB) *stmtCache {
	switch {
	case s.writeStmts != nil && db == s.write:
		return s.writeStmts
	case s.readStmts != nil && db == s.read:
		return s.readStmts
	}
	return nil
}

// Backend names the database behind the store: SQLite or Postgres.
func (s *Store) Backend() string { return s.backend }

// Close closes the store's connections.
func (s *Store) Close() error {
	s.cancel()
	if s.writerDone != nil {
		<-s.writerDone // the batch being committed finishes first
	}
	var errs []error
	for _, c := range []*stmtCache{s.writeStmts, s.readStmts} {
		if c != nil {
			c.close()
		}
	}
	if s.write != nil {
		errs = append(errs, s.write.Close())
	}
	if s.read != nil && s.read != s.write {
		errs = append(errs, s.read.Close())
	}
	return errors.Join(errs...)
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	// The read pool: on SQLite the single writer may be busy with a long
	// transaction, which says nothing about the database's health.
	if err := s.read.PingContext(ctx); err != nil {
		return s.mapErr(err)
	}
	return nil
}

// Tx is a transaction. Methods of a Tx opened by Update may write; those of a
// Tx opened by View may not.
type Tx struct {
	s           *Store
	tx          *sql.Tx
	write       bool
	afterCommit []func()
	eventLocks  map[string]bool // projects whose event sequence this Tx holds
	stmts       *stmtCache      // SQLite: prepared statements; nil on PostgreSQL
	busy        map[*sql.Stmt]bool
	rows        map[rowKey]keptRow // resources read or written (resource.go)
}

// AfterCommit registers fn to run once the transaction has committed.
func (tx *Tx) AfterCommit(fn func()) { tx.afterCommit = append(tx.afterCommit, fn) }

// Backend names the database behind the transaction.
func (tx *Tx) Backend() string { return tx.s.backend }

// maxRetries bounds how often Update reruns a transaction that PostgreSQL
// aborted for a serialization failure or a deadlock.
const maxRetries = 5

// Update runs fn in a write transaction and commits it if fn returns nil.
// fn may run more than once (after a serialization failure): it must not have
// side effects outside the transaction, other than through AfterCommit.
//
// On SQLite, transactions that wait for the single writer at the same time
// commit together, each in a savepoint of its own (see batch.go): a failing
// one changes nothing and does not affect the others.
func (s *Store) Update(ctx context.Context, fn func(*Tx) error) error {
	if s.backend == SQLite {
		return s.updateSQLite(ctx, fn)
	}
	for attempt := 0; ; attempt++ {
		err := s.run(ctx, s.write, true, fn)
		if err != nil && attempt < maxRetries && s.retryable(err) {
			select {
			case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
				continue
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			}
		}
		return err
	}
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(*Tx) error) error {
	return s.run(ctx, s.read, false, fn)
}

func (s *Store) run(ctx context.Context, db *sql.DB, write bool, fn func(*Tx) error) (err error) {
	opts := &sql.TxOptions{}
	if !write && s.backend == Postgres {
		// A read transaction sees one snapshot throughout, as SQLite's do
		// (a read-only REPEATABLE READ transaction never fails to serialise).
		opts.ReadOnly, opts.Isolation = true, sql.LevelRepeatableRead
	}
	txCtx := ctx
	if s.backend == SQLite {
		if err := ctx.Err(); err != nil {
			return err
		}
		txCtx = context.WithoutCancel(ctx) // see driverCtx
	}
	sqlTx, err := db.BeginTx(txCtx, opts)
	if err != nil {
		return fmt.Errorf("store: begin: %w", s.mapErr(err))
	}
	stmts := s.stmtsFor(db)
	tx := &Tx{s: s, tx: sqlTx, write: write, stmts: stmts}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
	}()
	if stmts != nil {
		defer stmts.prepareMissed(context.WithoutCancel(ctx)) // the connection is back by then
	}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", s.mapErr(err))
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// q returns the query in the store's dialect: PostgreSQL numbers its
// placeholders ($1, $2 …) where SQLite takes '?', and "FOR UPDATE" locks rows
// only on PostgreSQL (SQLite has a single writer).
func (s *Store) q(query string) string {
	if s.backend == SQLite {
		if strings.Contains(query, " FOR UPDATE") {
			query = strings.ReplaceAll(strings.ReplaceAll(query, " FOR UPDATE SKIP LOCKED", ""), " FOR UPDATE", "")
		}
		return query
	}
	if v, ok := s.rebound.Load(query); ok {
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
	s.rebound.Store(query, out)
	return out
}

func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx, query = tx.driverCtx(ctx), tx.s.q(query)
	var res sql.Result
	var err error
	if st := tx.stmt(ctx, query, false); st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = tx.tx.ExecContext(ctx, query, args...)
	}
	if err != nil {
		return nil, tx.s.mapErr(err)
	}
	return res, nil
}

func (tx *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx, query = tx.driverCtx(ctx), tx.s.q(query)
	var rows *sql.Rows
	var err error
	if st := tx.stmt(ctx, query, true); st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = tx.tx.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, tx.s.mapErr(err)
	}
	return rows, nil
}

func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	ctx, query = tx.driverCtx(ctx), tx.s.q(query)
	if st := tx.stmt(ctx, query, false); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, query, args...)
}

// driverCtx returns the context to hand the driver with a statement. On
// SQLite it is never cancelled: go-sqlite3 runs every statement, and every
// step of a result set, in a goroutine of its own when the context can be
// cancelled (so that it can interrupt it), which cost a goroutine, a channel
// and two context switches per row, and an interrupt could abort a statement
// of the writer's shared batch. SQLite's statements are short; the caller's
// context still decides whether a transaction begins and whether it commits.
func (tx *Tx) driverCtx(ctx context.Context) context.Context {
	if tx.s.backend == SQLite {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// forUpdate is appended to reads in write transactions so that PostgreSQL
// locks the rows a service is about to change.
func (tx *Tx) forUpdate() string {
	if tx.write {
		return " FOR UPDATE"
	}
	return ""
}

// rowErr maps sql.ErrNoRows to ErrNotFound and driver errors to sentinels.
func (s *Store) rowErr(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return s.mapErr(err)
}

// ms converts a time to the Unix milliseconds the schema stores.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts stored Unix milliseconds to a UTC time.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
