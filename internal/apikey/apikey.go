package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/secret"
)

// Kind is the store kind of API keys, kept outside any project (Owner is
// the project) so that a token's hash finds its key whatever the project.
const Kind = "apiKey"

// Origins of a key: how it came to be.
const (
	// OriginAPI keys were created through the API.
	OriginAPI = ""
	// OriginEnv is the key SWITCHBOARD_API_KEY gives the default project.
	OriginEnv = "env"
	// OriginGenerated is the key generated for the default project on
	// first start, when SWITCHBOARD_API_KEY is unset.
	OriginGenerated = "generated"
)

// Key is an API key as stored: its hash, never its token.
type Key struct {
	ID      string `json:"id"`
	Project string `json:"project"`
	Name    string `json:"name,omitempty"`
	Hash    string `json:"hash"`
	// Redacted is the token's prefix and "••••".
	Redacted  string     `json:"redacted,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	// Origin is OriginAPI, OriginEnv or OriginGenerated. Keys stored
	// before origins were recorded have none and count as OriginAPI,
	// except for the default project's (see server.bootstrap).
	Origin string `json:"origin,omitempty"`
}

// Expired reports whether the key has expired at now.
func (k *Key) Expired(now time.Time) bool { return k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) }

// View renders the key with its token redacted.
func (k *Key) View() *switchboard.APIKey {
	red := k.Redacted
	if red == "" {
		red = Mask
	}
	return &switchboard.APIKey{Object: "apiKey", ID: k.ID, Name: k.Name, Token: red, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt}
}

// Mask stands for the hidden part of a redacted token.
const Mask = "••••"

// TokenPurpose is the purpose tokens are hashed for (package secret).
const TokenPurpose = "apiToken"

// Hash returns what is stored of a token: its HMAC-SHA-256 keyed with the
// server secret key's current key, or, with no keys, its unkeyed SHA-256
// (as stored before hashes were keyed).
func Hash(keys *secret.Keyring, token string) string {
	if keys == nil {
		return legacyHash(token)
	}
	return keys.Hash(TokenPurpose, token)
}

// Hashes returns every hash a token may be stored under: under each key of
// the keyring (the current first), then unkeyed. Look a token up by them.
func Hashes(keys *secret.Keyring, token string) []string {
	if keys == nil {
		return []string{legacyHash(token)}
	}
	return append(keys.Hashes(TokenPurpose, token), legacyHash(token))
}

// Matches reports whether stored is a hash of token, under any key of the
// keyring or unkeyed, in constant time.
func Matches(keys *secret.Keyring, stored, token string) bool {
	ok := 0
	for _, h := range Hashes(keys, token) {
		ok |= subtle.ConstantTimeCompare([]byte(h), []byte(stored))
	}
	return ok == 1
}

func legacyHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Prefix is how a project's tokens begin, by the project's mode: sk_test_
// or sk_live_.
func Prefix(mode string) string { return "sk_" + mode + "_" }

const (
	// tokenChars is the alphabet of a token's random part.
	tokenChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	// tokenLen random characters: 32 base62 characters are 190 bits.
	tokenLen = 32
	// shown is how many random characters a redacted token keeps.
	shown = 4
)

// NewToken returns a fresh random token with the prefix.
func NewToken(prefix string) (string, error) {
	var b strings.Builder
	b.WriteString(prefix)
	max := big.NewInt(int64(len(tokenChars)))
	for range tokenLen {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("apikey: new token: %w", err)
		}
		b.WriteByte(tokenChars[n.Int64()])
	}
	return b.String(), nil
}

// Redact returns the token's prefix (up to its last underscore) and, when
// the rest is long enough to spare them (16 characters or more), its first
// few characters, then Mask.
func Redact(token string) string {
	i := strings.LastIndexByte(token, '_') + 1
	n := 0
	if len(token)-i >= 4*shown {
		n = shown
	}
	return token[:i+n] + Mask
}
