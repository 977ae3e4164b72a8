// Command receiver is a complete webhook receiver for Switchboard events: it
// verifies each delivery, logs every event and reports declined portings.
//
//	SWITCHBOARD_WEBHOOK_SECRET=whsec_… go run ./examples/receiver -addr :3000 -path /webhooks
//
// During a secret rotation, set SWITCHBOARD_WEBHOOK_SECRET to the new and the
// old secret separated by a space.
package main
