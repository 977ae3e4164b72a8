package clock

import (
	"sync/atomic"
	"time"
)

// Clock tells the platform time.
type Clock interface {
	Now() time.Time
}

// Offset is a clock that runs with the wall clock plus an adjustable offset.
// The zero value is the wall clock.
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

// Set sets the offset from the wall clock (as stored by another process).
func (c *Offset) Set(d time.Duration) { c.offset.Store(int64(d)) }

// Offset returns the current offset from the wall clock.
func (c *Offset) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// Second truncates t to the second in UTC, the precision of the wire format.
func Second(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
