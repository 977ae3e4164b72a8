package store

import (
	"context"
	"database/sql"
	"sync"
)

// SQLite compiles every statement it runs; go-sqlite3 keeps nothing, so a
// query text run a million times is parsed and planned a million times
// (sqlite3_prepare_v2 was an eighth of the server's CPU under load). A
// stmtCache keeps one prepared statement per query text and database handle;
// transactions run it through sql.Tx.StmtContext, which reuses the
// connection's prepared copy.
//
// Preparing needs a free connection, and the transaction that first meets a
// query holds the only write connection, so a miss is run as before and its
// text noted; whoever ends the transaction prepares the noted texts once the
// connection is back (prepareMissed). PostgreSQL needs none of this: pgx
// caches its prepared statements itself.

// maxCachedStmts bounds the cache: texts built from a variable number of
// rows (multi-row VALUES) make a few hundred variants at most; past the
// bound, new texts are simply not cached.
const maxCachedStmts = 1024

// stmtCache holds the statements prepared on one database handle.
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	missed map[string]struct{} // seen, not prepared yet
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: make(map[string]*sql.Stmt), missed: make(map[string]struct{})}
}

// get returns the prepared statement for query, or nil after noting the miss.
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st
	}
	if len(c.stmts)+len(c.missed) < maxCachedStmts {
		c.missed[query] = struct{}{}
	}
	return nil
}

// prepareMissed prepares the texts noted since the last call. It must be
// called without holding a connection of c.db. A text that fails to prepare
// is dropped: it runs unprepared, as every text did before this cache.
func (c *stmtCache) prepareMissed(ctx context.Context) {
	c.mu.Lock()
	if len(c.missed) == 0 {
		c.mu.Unlock()
		return
	}
	todo := make([]string, 0, len(c.missed))
	for q := range c.missed {
		todo = append(todo, q)
	}
	clear(c.missed)
	c.mu.Unlock()
	for _, q := range todo {
		st, err := c.db.PrepareContext(ctx, q)
		c.mu.Lock()
		if err == nil {
			if _, dup := c.stmts[q]; dup {
				st.Close()
			} else {
				c.stmts[q] = st
			}
		} else {
			// Never prepared, never retried: a cached failure would
			// hide nothing, the statement reports its error when run.
			c.stmts[q] = nil
		}
		c.mu.Unlock()
	}
}

// close closes the cached statements.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		if st != nil {
			st.Close()
		}
		delete(c.stmts, q)
	}
}

// stmt returns query's prepared statement bound to the transaction, or nil
// when it should run unprepared: no cache (PostgreSQL), not prepared yet, or
// its prepared copy is busy with rows of this transaction that may still be
// open (multi-row queries check their statement out until the Tx ends, so
// a nested run of the same text does not reset the outer one's cursor).
func (tx *Tx) stmt(ctx context.Context, query string, rows bool) *sql.Stmt {
	if tx.stmts == nil {
		return nil
	}
	st := tx.stmts.get(query)
	if st == nil {
		return nil
	}
	if rows {
		if tx.busy == nil {
			tx.busy = make(map[*sql.Stmt]bool)
		}
		if tx.busy[st] {
			return nil
		}
		tx.busy[st] = true
	}
	return tx.tx.StmtContext(ctx, st)
}
