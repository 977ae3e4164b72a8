// Package clock is the platform's notion of time. Every component reads a
// Clock instead of time.Now, so that the simulator can move time forward and
// a 30-day expiry is testable in milliseconds.
package clock
