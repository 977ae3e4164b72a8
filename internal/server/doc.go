// Package server assembles Switchboard: the store, the services, the API,
// the scheduler and the dispatcher, listening on one address. The binary and
// the end-to-end tests start it the same way.
package server
