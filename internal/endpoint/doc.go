// Package endpoint holds the customer's webhook endpoints as the platform
// stores them: where to deliver, which event types, in which version, signed
// with which secrets.
package endpoint
