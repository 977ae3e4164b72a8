// Package e2e holds the end-to-end tests of the connectivity core: each
// starts the real server on a loopback port, on SQLite and on PostgreSQL,
// and drives it through HTTP only, checking the exact events every
// lifecycle emits against golden files.
package e2e
