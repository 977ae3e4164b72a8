// Package api is the platform's REST API: authentication, request decoding
// and validation, idempotency keys, pagination and the error object, in the
// platform's conventions, over the services that do the work.
package api
