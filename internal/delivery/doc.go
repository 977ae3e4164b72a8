// Package delivery sends the event log to the customers' webhook endpoints:
// a dispatcher claims due deliveries in batches under a lease, renders each
// event in its endpoint's version, signs it per Standard Webhooks, POSTs it,
// and records the attempts in batches — retrying on a schedule, slowing
// down when an endpoint asks, and disabling an endpoint that keeps failing.
// A Queue lets operators see deliveries and send them again.
package delivery
