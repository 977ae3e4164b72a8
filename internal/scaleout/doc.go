// Package scaleout holds the tests of Switchboard scaled out on PostgreSQL:
// several serve processes on one database, processes killed mid-load, and
// PostgreSQL restarted under a running server. It has no code of its own
// beyond the harness that starts and watches the processes.
package scaleout
