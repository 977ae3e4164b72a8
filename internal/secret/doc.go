// Package secret protects the secrets Switchboard keeps at rest with a
// server secret key: it seals what must be read back (an account PIN, a
// webhook signing secret) with AES-256-GCM, and keys the hashes of what is
// only ever compared (API tokens, port-out PINs) with HMAC-SHA-256.
//
// A Keyring holds one or more 32-byte keys; the first is current and seals
// and hashes everything new, the others open and verify what they sealed or
// hashed before a rotation. Every sealed value and hash names the key it
// was made with (a key ID derived from the key), so keys can rotate:
//
//	seal1:<key ID>:<base64url(nonce ‖ ciphertext)>
//	hmac1:<key ID>:<base64url(HMAC-SHA-256)>
//
// Each value is sealed or hashed for a purpose ("accountPin", "webhookSecret",
// …) that is bound into it, so a value cannot be moved to another field.
package secret
