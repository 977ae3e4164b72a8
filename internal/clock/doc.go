// Package clock is the platform's notion of time. Every component reads a
// Clock instead of time.Now, so that a test project's clock can be moved
// forward and a 30-day expiry is testable in milliseconds.
//
// Time is per project: a Source tells each project's clock. Test projects
// run on the wall clock plus an offset of their own that only moves
// forward (a test clock); live projects and everything outside projects
// (webhook delivery, API keys, idempotency keys) run on the wall clock.
package clock
