package store

import (
	"context"
	"fmt"
	"sync"
)

// Some views are read by nearly every transaction and change rarely: a
// project's enabled webhook endpoints are listed and decoded each time an
// event is recorded. For such a kind of resource the store keeps a
// generation per project, a counter that every Put and Delete of the kind
// increments in the same transaction, and Memo serves a view computed at the
// current generation from memory. Reading the counter is one primary-key
// lookup, and it is transactional: a transaction sees its own changes, and a
// change committed by another process, on PostgreSQL, bumps the counter the
// next transaction reads, so no process serves a stale view.

// memoKinds are the kinds whose generations Put and Delete keep.
var memoKinds sync.Map // kind → true

// Memoize makes the store keep a generation for each project's resources of
// kind, so that Memo can serve views of them. Call it from an init function
// of the package that owns the kind, before any store is opened.
func Memoize(kind string) { memoKinds.Store(kind, true) }

func memoized(kind string) bool {
	_, ok := memoKinds.Load(kind)
	return ok
}

// maxMemos bounds the views kept per store; past it they are dropped and
// recomputed as they are asked for.
const maxMemos = 10000

type memoKey struct{ kind, project string }

type memoEntry struct {
	gen   int64
	value any
}

// memos holds a store's memoized views.
type memos struct {
	mu sync.Mutex
	m  map[memoKey]memoEntry
}

func (ms *memos) get(k memoKey, gen int64) (any, bool) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	e, ok := ms.m[k]
	if !ok || e.gen != gen {
		return nil, false
	}
	return e.value, true
}

func (ms *memos) put(k memoKey, gen int64, v any) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.m == nil || len(ms.m) >= maxMemos {
		ms.m = make(map[memoKey]memoEntry)
	}
	if e, ok := ms.m[k]; ok && e.gen > gen {
		return // a newer view got there first
	}
	ms.m[k] = memoEntry{gen: gen, value: v}
}

func genKey(kind, project string) string { return "gen:" + kind + ":" + project }

// bumpGeneration advances the generation of the project's resources of kind,
// if the kind is memoized.
func (tx *Tx) bumpGeneration(ctx context.Context, kind, project string) error {
	if !memoized(kind) {
		return nil
	}
	_, err := tx.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, '1')
		ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT)`, genKey(kind, project))
	if err != nil {
		return fmt.Errorf("store: bump generation of %s in %s: %w", kind, project, err)
	}
	delete(tx.gens, memoKey{kind, project}) // read again, with the change
	return nil
}

// Memo returns the view of the project's resources of kind that load
// computes, from memory when it was computed at their current generation.
// load runs in tx; its result is kept only once tx has committed, and is
// shared by every caller afterwards: neither load's caller nor Memo's may
// modify it. kind must have been registered with Memoize.
func (tx *Tx) Memo(ctx context.Context, kind, project string, load func() (any, error)) (any, error) {
	if !memoized(kind) {
		return nil, fmt.Errorf("store: Memo of %s, a kind without generations (Memoize it)", kind)
	}
	k := memoKey{kind, project}
	gen, err := tx.generation(ctx, k)
	if err != nil {
		return nil, err
	}
	if v, ok := tx.s.memos.get(k, gen); ok {
		return v, nil
	}
	v, err := load()
	if err != nil {
		return nil, err
	}
	tx.AfterCommit(func() { tx.s.memos.put(k, gen, v) })
	return v, nil
}

// generation reads the generation of k once per transaction: a
// transaction that records events twice uses one view of the endpoints
// throughout, the one current when it first asked, until it changes them
// itself (bumpGeneration forgets the generation it read).
func (tx *Tx) generation(ctx context.Context, k memoKey) (int64, error) {
	if gen, ok := tx.gens[k]; ok {
		return gen, nil
	}
	var gen int64
	// No resource written since the transaction began changes a
	// generation but through bumpGeneration, which writes at once: the
	// pending Puts may wait.
	err := tx.queryRowNow(ctx, "SELECT CAST(value AS BIGINT) FROM settings WHERE key = ?", genKey(k.kind, k.project)).Scan(&gen)
	if err != nil {
		if err = tx.s.rowErr(err); err != ErrNotFound {
			return 0, fmt.Errorf("store: generation of %s in %s: %w", k.kind, k.project, err)
		}
		gen = 0 // never changed
	}
	if tx.gens == nil {
		tx.gens = map[memoKey]int64{}
	}
	tx.gens[k] = gen
	return gen, nil
}
