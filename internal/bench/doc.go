// Package bench is Switchboard's load harness: it starts servers (or uses
// running ones), a webhook receiver of its own, and drives realistic work
// through the public REST API — users, portings and subscriptions through
// their lifecycles, so that every event type flows — measuring API
// throughput and latency, events committed and delivered per second,
// commit-to-receipt latency, the servers' peak RSS and CPU time, and the
// backlog left. Every figure is printed beside the ceiling the machine
// allows: the receiver alone, hit by an HTTP client set up as the
// dispatcher's (the raw scenario).
//
// Loops are bounded in count and time, and everything runs on 127.0.0.1.
package bench
