package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// SQLite has one writer, so write transactions queue in the process anyway.
// Rather than commit each on its own, one goroutine takes every transaction
// that is waiting, runs each inside a savepoint of one database transaction,
// and commits them together: a transaction whose function fails is rolled
// back to its savepoint alone, the others commit. Nothing waits for company:
// a transaction that finds the writer idle commits by itself, so batching
// adds no latency; under load, the cost of a commit is shared.
//
// PostgreSQL's write transactions (Update, not UpdateLazy) go the same way
// unless Options.Writers is negative: a few writers (DefaultWriters), each
// a connection that runs its batch's transactions one after the other, so
// a process's API writes are a few backends instead of a pool's worth
// fighting over the machine's locks and WAL, and a batch makes one
// synchronous commit. Writers take turns at the queue: a transaction goes
// to whichever is free. A transaction that fails — a statement's error
// included, which PostgreSQL recovers from by rolling back to the
// savepoint — changes nothing and leaves the others alone; one chosen as a
// deadlock's victim runs again in a later batch (updateQueued's caller).

// maxBatch bounds how many transactions commit together.
const maxBatch = 64

// ErrClosed: the store was closed.
var ErrClosed = errors.New("store: closed")

// writeReq is one write transaction waiting for the writer.
type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan writeResult
}

type writeResult struct {
	err   error
	panic any // fn panicked: re-panicked in the caller's goroutine
}

// DefaultWriters is how many connections run a PostgreSQL store's write
// transactions when Options.Writers is zero.
const DefaultWriters = 3

// startWriters starts n writer goroutines; writerDone closes when every
// one has stopped.
func (s *Store) startWriters(n int) {
	s.writes = make(chan *writeReq, 4*maxBatch)
	s.writerDone = make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(s.writer)
	}
	go func() { wg.Wait(); close(s.writerDone) }()
}

func (s *Store) writer() {
	for {
		var first *writeReq
		select {
		case <-s.ctx.Done():
			for { // fail what is queued; nothing of it ran
				select {
				case r := <-s.writes:
					r.done <- writeResult{err: ErrClosed}
				default:
					return
				}
			}
		case first = <-s.writes:
		}
		batch := []*writeReq{first}
	collect:
		for len(batch) < maxBatch {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			default:
				break collect
			}
		}
		s.commitBatch(batch)
	}
}

// commitBatch runs the batch's functions, each in a savepoint, and commits.
func (s *Store) commitBatch(batch []*writeReq) {
	results := make([]writeResult, len(batch))
	hooks := make([][]func(), len(batch))
	sqlTx, err := s.beginBatch()
	if err != nil {
		for _, r := range batch {
			r.done <- writeResult{err: fmt.Errorf("store: begin: %w", s.mapErr(err))}
		}
		return
	}
	bg := context.WithoutCancel(s.ctx) // a batch that began finishes
	broken := error(nil)               // a savepoint statement failed: the rest cannot run
	// A transaction alone in its batch needs no savepoint: if it fails,
	// the database transaction is rolled back instead. That saves two
	// round trips on PostgreSQL whenever the writer is idle.
	alone, failed := len(batch) == 1, false
	for i, r := range batch {
		if broken != nil {
			results[i].err = broken
			continue
		}
		if err := r.ctx.Err(); err != nil {
			results[i].err = err
			continue
		}
		tx := &Tx{s: s, tx: sqlTx, write: true, stmts: s.writeStmts, batched: true}
		if alone {
			results[i] = call(r.fn, tx)
			if results[i].err == nil && results[i].panic == nil {
				results[i].err = tx.flush(bg)
			}
			if failed = results[i].err != nil || results[i].panic != nil; !failed {
				hooks[i] = tx.afterCommit
			}
			continue
		}
		if _, err := tx.exec(bg, "SAVEPOINT w"); err != nil {
			broken = fmt.Errorf("store: savepoint: %w", s.mapErr(err))
			results[i].err = broken
			continue
		}
		results[i] = call(r.fn, tx)
		if results[i].err == nil && results[i].panic == nil {
			results[i].err = tx.flush(bg) // its pending Puts (puts.go), before the savepoint goes
		}
		if results[i].err != nil || results[i].panic != nil {
			if _, err := tx.exec(bg, "ROLLBACK TO w"); err != nil {
				broken = fmt.Errorf("store: rollback to savepoint: %w", s.mapErr(err))
				continue
			}
		} else {
			hooks[i] = tx.afterCommit
		}
		if _, err := tx.exec(bg, "RELEASE w"); err != nil {
			broken = fmt.Errorf("store: release savepoint: %w", s.mapErr(err))
			hooks[i] = nil
			if results[i].err == nil {
				results[i].err = broken
			}
		}
	}
	var commitErr error
	if broken != nil || failed {
		_ = sqlTx.Rollback()
		commitErr = broken
	} else if err := sqlTx.Commit(); err != nil {
		commitErr = fmt.Errorf("store: commit: %w", s.mapErr(err))
	}
	if s.writeStmts != nil {
		s.writeStmts.prepareMissed(bg) // the connection is free again
	}
	for i, r := range batch {
		if results[i].err == nil && results[i].panic == nil {
			if commitErr != nil {
				results[i].err = commitErr
			} else {
				for _, f := range hooks[i] {
					f()
				}
			}
		}
		r.done <- results[i]
	}
}

// beginBatch begins the writer's transaction.
func (s *Store) beginBatch() (*sql.Tx, error) {
	if s.d.singleWriter {
		return s.beginSQLite()
	}
	return s.write.BeginTx(context.WithoutCancel(s.ctx), nil)
}

// beginSQLite begins the writer's transaction on SQLite. BEGIN IMMEDIATE waits for
// other processes' writers up to the busy timeout, but SQLite answers
// "locked" at once in a few moments (another connection creating the
// database, switching it to WAL, or recovering its WAL): those pass, so it
// tries again for a while.
func (s *Store) beginSQLite() (*sql.Tx, error) {
	ctx := context.WithoutCancel(s.ctx)
	deadline := time.Now().Add(busyRetry)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		tx, err := s.write.BeginTx(ctx, nil)
		if err == nil || !errors.Is(s.mapErr(err), ErrUnavailable) || time.Now().After(deadline) {
			return tx, err
		}
		time.Sleep(wait)
	}
}

// busyRetry bounds how long beginSQLite retries a locked database.
const busyRetry = 5 * time.Second

// call runs fn, turning a panic into a result.
func call(fn func(*Tx) error, tx *Tx) (res writeResult) {
	defer func() {
		if p := recover(); p != nil {
			res = writeResult{panic: p}
		}
	}()
	return writeResult{err: fn(tx)}
}

// updateQueued hands fn to the writer and waits for its outcome. Once
// queued, a transaction is waited for even if ctx ends (it may commit); the
// writer skips it if ctx ended before its turn.
func (s *Store) updateQueued(ctx context.Context, fn func(*Tx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan writeResult, 1)}
	select {
	case s.writes <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.writerDone:
		return ErrClosed
	}
	var res writeResult
	select {
	case res = <-r.done:
	case <-s.writerDone:
		select {
		case res = <-r.done:
		default:
			return ErrClosed
		}
	}
	if res.panic != nil {
		panic(res.panic)
	}
	return res.err
}
