// Command switchboard runs the Switchboard server and the integrator's
// tools that talk to it.
//
//	switchboard serve        run the server (SQLite switchboard.db by default)
//	switchboard migrate      migrate the database and exit
//	switchboard trigger      create resources and drive them until an event fires
//	switchboard listen       forward the project's events, signed, to a local URL
//	switchboard events       list, show and resend events
//	switchboard endpoints    list, create and delete webhook endpoints
//	switchboard bench        measure throughput and latency under load
//	switchboard openapi      print the OpenAPI 3.1 document of the API
//	switchboard asyncapi     print the AsyncAPI 3.0 document of the webhooks
//	switchboard schemas      print the JSON Schema of an event type in a version
//
// Run "switchboard help" for every command.
package main
