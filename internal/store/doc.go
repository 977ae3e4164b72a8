// Package store keeps the platform's state in SQLite (embedded, the default)
// or PostgreSQL (several processes on one database) behind one small API: a
// write transaction, a read transaction, and typed operations on resources,
// events, deliveries, idempotency keys and settings. Both backends run the
// same SQL apart from what the dialect rewrites, and one conformance suite
// proves they behave alike.
package store
