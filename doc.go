// Package switchboard is the wire model of the connectivity platform's events:
// the CloudEvents envelope and every resource an event can carry (porting,
// subscription, user, port-out credentials, …), encoded exactly as the
// platform documents them.
//
// Integrators decode webhook bodies with [Parse] and verify their signatures
// with the webhook sub-package. Fields that the platform documents as nullable
// are pointers: they encode as null, never go missing.
package switchboard
