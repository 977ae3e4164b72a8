// Package contracttest holds tests to the published contracts: a transport
// that validates every response a test receives against the OpenAPI
// document (kin-openapi finds the operation and checks the status and
// headers; the body is validated against the response's schema with
// santhosh-tekuri/jsonschema, as kin-openapi does for OpenAPI 3.1, but
// compiled once), and a validator of rendered events against their JSON
// Schemas (santhosh-tekuri/jsonschema, draft 2020-12).
package contracttest
