// Package apikey is a project's API keys: the model, token generation,
// hashing, storage and the service that creates, lists, revokes and
// authenticates them. The REST API and the simulator both use it.
//
// A token is shown whole once, in the response that creates it; the store
// keeps only Hash(token) and a redacted prefix. Authentication caches a
// key for at most CacheTTL, never past its expiry, and a revocation empties
// the cache of this process at once and of the other processes on the same
// PostgreSQL database through a notification (the TTL bounds a missed one).
package apikey
