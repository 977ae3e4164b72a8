// Package storetest gives tests a fresh database on every backend: a SQLite
// file in a temporary folder, and a PostgreSQL schema of its own on the
// server named by SWITCHBOARD_TEST_POSTGRES (default the local server's
// "test" database), so that tests run in parallel.
//
// Without a reachable PostgreSQL the PostgreSQL cases are skipped, saying so,
// unless SWITCHBOARD_REQUIRE_POSTGRES=1 (as CI sets it): then they fail.
package storetest
