package webhook

import (
	"context"
	"sync"
)

// DedupStore remembers which events were processed, so that a redelivered
// event is acknowledged without being handled again.
//
// [Handler] calls Seen before handling an event and Mark only after its
// handler succeeded, so an event whose handling failed is handled again when
// the sender retries (at-least-once). Within one process, Handler never runs
// two deliveries of the same event at once; receivers that run several
// processes behind one endpoint should share a store (a database table keyed
// by event id) and still keep their handlers idempotent.
type DedupStore interface {
	// Seen reports whether the event with this id was processed.
	Seen(ctx context.Context, id string) (bool, error)
	// Mark records that the event with this id was processed.
	Mark(ctx context.Context, id string) error
}

// DefaultDedupCapacity is how many event ids a [MemoryDedup] remembers when
// no capacity is given.
const DefaultDedupCapacity = 10_000

// MemoryDedup is a DedupStore that remembers the most recently marked ids in
// memory, forgetting the oldest beyond its capacity. It is lost on restart.
// The zero value remembers DefaultDedupCapacity ids. It is safe for
// concurrent use.
type MemoryDedup struct {
	mu       sync.Mutex
	capacity int
	ids      map[string]struct{}
	ring     []string // ids in marking order, oldest at next once full
	next     int
}

// NewMemoryDedup returns a MemoryDedup that remembers capacity ids;
// capacity <= 0 means DefaultDedupCapacity.
func NewMemoryDedup(capacity int) *MemoryDedup {
	return &MemoryDedup{capacity: capacity}
}

// Seen reports whether id is among the remembered ids.
func (m *MemoryDedup) Seen(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.ids[id]
	return ok, nil
}

// Mark remembers id, forgetting the oldest id when full.
func (m *MemoryDedup) Mark(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.ids[id]; ok {
		return nil
	}
	if m.ids == nil {
		if m.capacity <= 0 {
			m.capacity = DefaultDedupCapacity
		}
		m.ids = make(map[string]struct{})
	}
	if len(m.ring) < m.capacity {
		m.ring = append(m.ring, id)
	} else {
		delete(m.ids, m.ring[m.next])
		m.ring[m.next] = id
		m.next = (m.next + 1) % m.capacity
	}
	m.ids[id] = struct{}{}
	return nil
}

// keyedMutex serializes work per key. The zero value is ready to use.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

// keyLock is the lock of one key; waiters counts its holder and waiters.
type keyLock struct {
	sem     chan struct{}
	waiters int
}

// lock waits until key is free or ctx is done, and returns the function that
// frees it.
func (k *keyedMutex) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = make(map[string]*keyLock)
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{sem: make(chan struct{}, 1)}
		k.locks[key] = l
	}
	l.waiters++
	k.mu.Unlock()

	select {
	case l.sem <- struct{}{}:
		return func() {
			<-l.sem
			k.release(key, l)
		}, nil
	case <-ctx.Done():
		k.release(key, l)
		return nil, ctx.Err()
	}
}

// release drops one holder or waiter of key's lock, deleting it when unused.
func (k *keyedMutex) release(key string, l *keyLock) {
	k.mu.Lock()
	defer k.mu.Unlock()
	l.waiters--
	if l.waiters == 0 {
		delete(k.locks, key)
	}
}
