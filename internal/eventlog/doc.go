// Package eventlog records every change as the platform's event, in the same
// transaction as the change, together with a delivery row for each endpoint
// that wants it (the outbox), and renders stored events in any supported API
// version.
package eventlog
