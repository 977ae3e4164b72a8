package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
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
	// Writers, for PostgreSQL, is how many connections run the write
	// transactions (Update), each committing those waiting for it
	// together, each in a savepoint (batch.go): DefaultWriters when zero;
	// negative runs each on a pool connection of its own, committed alone.
	Writers int
	// Exclusive, for SQLite, holds an OS lock on the database file while
	// the store is open: a second exclusive store on the file, in this
	// process or another, fails with ErrInUse before it reads or writes
	// anything. `serve` opens its store so.
	Exclusive bool
}

// ErrInUse is the error of opening, exclusively, a SQLite file another
// store holds.
var ErrInUse = errors.New("store: the SQLite database is in use by another switchboard process")

// Store is a handle on the database. It is safe for concurrent use.
type Store struct {
	d *dialect // what differs between the backends (dialect.go)
	// backend is d.name, which the claim and the recording of results in
	// delivery.go branch on.
	backend string
	dsn     string
	write   *sql.DB // SQLite: one connection, so writers queue in-process
	read    *sql.DB
	log     *slog.Logger
	schema  string

	memos memos // views of memoized kinds (memo.go)

	hub    hub // in-process listeners (SQLite)
	sigMu  sync.Mutex
	sigs   map[string]chan struct{} // Signal's pending wake-up per channel
	ctx    context.Context          // done when the store closes
	cancel context.CancelFunc       // closes ctx

	writes     chan *writeReq // SQLite: transactions waiting for the writer
	writerDone chan struct{}  // closed when the writers have stopped

	lazy       *sql.DB    // PostgreSQL: connections with synchronous_commit off (UpdateLazy)
	lock       io.Closer  // SQLite with Options.Exclusive: the file's lock
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
		s.d, s.backend = newPostgresDialect(), Postgres
		if err = s.openPostgres(ctx, dsn, opts); err == nil && opts.Writers >= 0 {
			s.startWriters(cmp.Or(opts.Writers, DefaultWriters))
		}
	} else {
		s.d, s.backend = newSQLiteDialect(), SQLite
		if err = s.openSQLite(dsn, opts); err == nil {
			s.startWriters(1)
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
	if opts.Exclusive {
		lock, err := lockFile(path)
		if err != nil {
			return err
		}
		s.lock = lock
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
		s.unlock()
		return err
	}
	if s.read, err = open("&_txlock=deferred&_query_only=1", 4); err != nil {
		s.write.Close()
		s.unlock()
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
func (s *Store) Backend() string { return s.d.name }

// SingleWriter reports whether one writer, in one process, writes the
// database (SQLite): a row a transaction has read cannot change under it.
// On PostgreSQL other processes and UpdateLazy's connections write too,
// whether or not this process batches its Updates (BatchesWrites).
func (s *Store) SingleWriter() bool { return s.d.singleWriter }

// CrossProcess reports whether other processes may share the database, so
// that a process learns of their changes only through Listen (PostgreSQL);
// on SQLite the store's own process is the only one.
func (s *Store) CrossProcess() bool { return s.d.crossProcess() }

// Close closes the store's connections.
func (s *Store) Close() error {
	s.cancel()
	if s.writerDone != nil {
		<-s.writerDone // the batches being committed finish first
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
	if s.lazy != nil {
		errs = append(errs, s.lazy.Close())
	}
	s.unlock() // after SQLite has closed the file
	return errors.Join(errs...)
}

func (s *Store) unlock() {
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
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
	gens        map[memoKey]int64  // generations read (memo.go)
	puts        pendingPuts        // Puts not yet written (puts.go)
	batched     bool               // one of the writer's batch (batch.go)
	flushErr    error              // writing puts failed: the transaction cannot commit
}

// AfterCommit registers fn to run once the transaction has committed.
func (tx *Tx) AfterCommit(fn func()) { tx.afterCommit = append(tx.afterCommit, fn) }

// Backend names the database behind the transaction.
func (tx *Tx) Backend() string { return tx.s.d.name }

// maxRetries bounds how often Update reruns a transaction that PostgreSQL
// aborted for a serialization failure or a deadlock.
const maxRetries = 5

// Update runs fn in a write transaction and commits it if fn returns nil.
// fn may run more than once (after a serialization failure): it must not have
// side effects outside the transaction, other than through AfterCommit.
//
// Transactions that wait for the writer at the same time commit together,
// each in a savepoint of its own (see batch.go): a failing one changes
// nothing and does not affect the others. That is always so on SQLite, and
// on PostgreSQL unless Options.Writers is negative. fn must not call Update.
func (s *Store) Update(ctx context.Context, fn func(*Tx) error) error {
	if s.writes != nil {
		return s.retry(ctx, func() error { return s.updateQueued(ctx, fn) })
	}
	return s.updatePostgres(ctx, s.write, fn)
}

// BatchesWrites reports whether write transactions queue for one
// connection, which commits those waiting together (batch.go): always on
// SQLite, by default on PostgreSQL.
func (s *Store) BatchesWrites() bool { return s.writes != nil }

// UpdateLazy runs fn as Update does, in a transaction whose commit does not
// wait for the disk: on PostgreSQL synchronous_commit is off for it, so a
// crash of PostgreSQL (not of this process) may lose the last such commits
// (a fraction of a second's; never one made by Update, nor one before it).
// It is for bookkeeping that a loss cannot harm: the dispatcher's claims
// and results, whose loss means a delivery sent again with the same
// webhook-id, which at-least-once delivery allows. On SQLite it is Update
// (whose commits, in WAL mode with synchronous=NORMAL, do not wait for the
// disk either).
func (s *Store) UpdateLazy(ctx context.Context, fn func(*Tx) error) error {
	if s.d.singleWriter {
		return s.updateQueued(ctx, fn)
	}
	return s.updatePostgres(ctx, s.lazy, fn)
}

func (s *Store) updatePostgres(ctx context.Context, db *sql.DB, fn func(*Tx) error) error {
	return s.retry(ctx, func() error { return s.run(ctx, db, true, fn) })
}

// retry runs a write transaction, and again, a few times, while the
// database aborts it for a serialization failure or a deadlock.
func (s *Store) retry(ctx context.Context, run func() error) error {
	for attempt := 0; ; attempt++ {
		err := run()
		if err != nil && attempt < maxRetries && s.d.retryable(err) {
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
	if !write {
		opts = &s.d.readTx
	}
	txCtx := ctx
	if !s.d.cancelStatements {
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
	err = fn(tx)
	if err == nil {
		err = tx.flush(ctx)
	}
	if tx.flushErr != nil {
		err = tx.flushErr // the cause of what failed after it
	}
	if err != nil {
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

// q returns the query in the store's dialect (dialect.rebind).
func (s *Store) q(query string) string { return s.d.rebind(query) }

// exec, query and queryRow run a statement of the transaction, after
// writing its pending Puts (puts.go); the …Now forms do not write them.
func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := tx.flush(ctx); err != nil {
		return nil, err
	}
	return tx.execNow(ctx, query, args...)
}

func (tx *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := tx.flush(ctx); err != nil {
		return nil, err
	}
	return tx.queryNow(ctx, query, args...)
}

func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	// A failed flush has aborted the transaction (PostgreSQL): the
	// statement fails, and the transaction reports the flush's error.
	_ = tx.flush(ctx)
	return tx.queryRowNow(ctx, query, args...)
}

func (tx *Tx) execNow(ctx context.Context, query string, args ...any) (sql.Result, error) {
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

func (tx *Tx) queryNow(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
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

func (tx *Tx) queryRowNow(ctx context.Context, query string, args ...any) *sql.Row {
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
//
// Nor is it for a transaction of the writer's batch on PostgreSQL: pgx
// interrupts a cancelled statement by cutting its connection short, which
// would end every transaction of the batch.
func (tx *Tx) driverCtx(ctx context.Context) context.Context {
	if !tx.s.d.cancelStatements || tx.batched {
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
