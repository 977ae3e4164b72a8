// Package contract publishes Switchboard's machine-readable contracts,
// generated from one source of truth: the Go wire types (the root package's
// resources and events, the API's request and response types), a table of
// the operations the router serves, and the version-change chain of
// internal/eventlog.
//
// It builds the OpenAPI 3.1 document of the REST API (with its webhooks),
// a JSON Schema (2020-12) per event type and API version, and an AsyncAPI
// 3.0 document of the webhooks, and serves them with a human-readable API
// reference (/docs) rendered from the OpenAPI document by Go templates.
//
// Nothing here is maintained by hand twice: schemas come from reflection
// over the types, with small annotations (enums, formats, patterns) for
// what a Go type cannot say; the committed copies in the repository
// (openapi.json, asyncapi.json, schemas/) are checked by a golden test.
package contract
