package clock

import (
	"sync"
	"sync/atomic"
	"time"
)

// Clock tells the platform time.
type Clock interface {
	Now() time.Time
}

// Source tells each project's time.
type Source interface {
	// For returns the project's clock.
	For(project string) Clock
}

// Wall is the wall clock, in UTC.
type Wall struct{}

// Now returns the wall-clock time in UTC.
func (Wall) Now() time.Time { return time.Now().UTC() }

// Offset is a clock that runs with the wall clock plus an adjustable offset.
// The zero value is the wall clock. Tests use it to move the server's own
// time (webhook delivery's retries and disabling window).
type Offset struct {
	offset atomic.Int64 // nanoseconds
}

// Now returns the wall-clock time plus the offset, in UTC.
func (c *Offset) Now() time.Time {
	return time.Now().Add(time.Duration(c.offset.Load())).UTC()
}

// Advance moves the clock forward by d.
func (c *Offset) Advance(d time.Duration) {
	c.offset.Add(int64(d))
}

// Set sets the offset from the wall clock.
func (c *Offset) Set(d time.Duration) { c.offset.Store(int64(d)) }

// Offset returns the current offset from the wall clock.
func (c *Offset) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// Same is a Source that gives every project the same clock.
type Same struct{ Clock Clock }

// For returns the one clock.
func (s Same) For(string) Clock { return s.Clock }

// Projects is a Source of per-project offsets from a base clock (the wall
// clock when Base is nil). A project without an offset runs on the base
// clock. The offsets are set from the store, which holds them for every
// process (see internal/project); Projects only caches them.
type Projects struct {
	// Base is the clock the offsets are added to; Wall when nil.
	Base Clock

	mu      sync.RWMutex
	offsets map[string]time.Duration
}

// For returns the project's clock.
func (p *Projects) For(project string) Clock { return projectClock{p, project} }

// Now returns the project's time.
func (p *Projects) Now(project string) time.Time {
	p.mu.RLock()
	d := p.offsets[project]
	p.mu.RUnlock()
	return p.base().Now().Add(d).UTC()
}

// Offset returns the project's offset from the base clock.
func (p *Projects) Offset(project string) time.Duration {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.offsets[project]
}

// Offsets returns every project's non-zero offset.
func (p *Projects) Offsets() map[string]time.Duration {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make(map[string]time.Duration, len(p.offsets))
	for k, v := range p.offsets {
		out[k] = v
	}
	return out
}

// Set sets the project's offset, unless the one known is ahead already:
// a project's clock never runs backwards, even when an older reading of
// the store arrives late.
func (p *Projects) Set(project string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.offsets == nil {
		p.offsets = make(map[string]time.Duration)
	}
	if d > p.offsets[project] {
		p.offsets[project] = d
	}
}

func (p *Projects) base() Clock {
	if p.Base != nil {
		return p.Base
	}
	return Wall{}
}

// projectClock is one project's clock of a Projects.
type projectClock struct {
	p       *Projects
	project string
}

func (c projectClock) Now() time.Time { return c.p.Now(c.project) }

// Second truncates t to the second in UTC, the precision of the wire format.
func Second(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
