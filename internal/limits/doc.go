// Package limits names every quota and size limit Switchboard enforces, in
// one place, so that the API, the services and the documentation agree.
// A request that exceeds one gets a 4xx error that names the limit.
package limits
