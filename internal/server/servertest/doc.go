// Package servertest runs a real Switchboard server for a test: on a
// loopback port, quiet unless told otherwise, shut down (and checked to shut
// down cleanly) when the test ends.
package servertest
