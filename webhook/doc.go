// Package webhook signs and verifies webhook deliveries as the Standard
// Webhooks specification (https://www.standardwebhooks.com/) describes, and
// provides [Handler], an http.Handler that receives the platform's events.
//
// A delivery carries three headers: webhook-id, webhook-timestamp (Unix
// seconds) and webhook-signature, a space-separated list of "v1,<base64>"
// entries, each the HMAC-SHA256 of "<id>.<timestamp>.<body>" under one
// secret. A secret is "whsec_" followed by the base64 of its key bytes.
// Wherever a secret is accepted, several may be given separated by spaces, so
// that a secret can be rotated without losing deliveries.
package webhook
