package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of a secret key in bytes.
const KeySize = 32

// Prefixes of sealed values and keyed hashes.
const (
	SealedPrefix = "seal1:"
	HashPrefix   = "hmac1:"
)

// Errors of opening and parsing.
var (
	// ErrUnknownKey is the error of a value sealed under a key the keyring
	// does not hold.
	ErrUnknownKey = errors.New("secret: sealed under a key this keyring does not hold")
	// ErrNotSealed is the error of opening a value that is not sealed.
	ErrNotSealed = errors.New("secret: not a sealed value")
	// ErrTampered is the error of a sealed value that does not open.
	ErrTampered = errors.New("secret: sealed value does not open (tampered, or another purpose)")
)

// key is one secret key with its derived sealing and hashing keys.
type key struct {
	id   string
	aead cipher.AEAD
	mac  []byte
}

// Keyring is a set of secret keys, the first current. The zero value is
// not usable; build one with New or Parse.
type Keyring struct {
	keys []key
	raw  [][]byte
}

func derive(master []byte, label string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("switchboard " + label))
	return m.Sum(nil)
}

// KeyID returns the ID of a raw key: 8 hex digits derived from it.
func KeyID(raw []byte) string {
	return hex.EncodeToString(derive(raw, "key id")[:4])
}

// New returns a keyring of raw 32-byte keys, the first current.
func New(raw ...[]byte) (*Keyring, error) {
	if len(raw) == 0 {
		return nil, errors.New("secret: no key")
	}
	k := &Keyring{}
	seen := map[string]bool{}
	for _, r := range raw {
		if len(r) != KeySize {
			return nil, fmt.Errorf("secret: a key must be %d bytes, not %d", KeySize, len(r))
		}
		id := KeyID(r)
		if seen[id] {
			continue
		}
		seen[id] = true
		block, err := aes.NewCipher(derive(r, "seal v1"))
		if err != nil {
			return nil, fmt.Errorf("secret: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secret: %w", err)
		}
		k.keys = append(k.keys, key{id: id, aead: aead, mac: derive(r, "hash v1")})
		k.raw = append(k.raw, append([]byte(nil), r...))
	}
	return k, nil
}

// Generate returns a new random key, encoded as Parse reads it.
func Generate() string {
	b := make([]byte, KeySize)
	rand.Read(b) // never fails: crypto/rand crashes the program rather than return short
	return base64.StdEncoding.EncodeToString(b)
}

// Parse reads a keyring from text: base64 keys (standard or URL alphabet,
// padded or not) separated by commas, spaces or newlines, the first
// current; lines starting with # are comments.
func Parse(text string) (*Keyring, error) {
	var raw [][]byte
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' }) {
			b, err := decodeKey(f)
			if err != nil {
				return nil, err
			}
			raw = append(raw, b)
		}
	}
	return New(raw...)
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("secret: a key must be %d bytes (base64), this one is %d", KeySize, len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("secret: a key must be base64")
}

// String encodes the keyring as Parse reads it, one key a line, the
// current first. It is the secret key material itself: keep it secret.
func (k *Keyring) String() string {
	var b strings.Builder
	for _, r := range k.raw {
		b.WriteString(base64.StdEncoding.EncodeToString(r))
		b.WriteByte('\n')
	}
	return b.String()
}

// IDs returns the IDs of the keyring's keys, the current first.
func (k *Keyring) IDs() []string {
	ids := make([]string, len(k.keys))
	for i, key := range k.keys {
		ids[i] = key.id
	}
	return ids
}

// Current returns the ID of the key that seals and hashes.
func (k *Keyring) Current() string { return k.keys[0].id }

// Under returns a keyring whose keys are newer's (its current key current)
// followed by k's, kept to open and verify older values.
func (k *Keyring) Under(newer *Keyring) (*Keyring, error) {
	return New(append(append([][]byte(nil), newer.raw...), k.raw...)...)
}

// Drop returns the keyring without the keys whose IDs are given; the
// current key stays.
func (k *Keyring) Drop(ids ...string) (*Keyring, error) {
	var raw [][]byte
	for i, key := range k.keys {
		drop := false
		for _, id := range ids {
			drop = drop || (i > 0 && id == key.id)
		}
		if !drop {
			raw = append(raw, k.raw[i])
		}
	}
	return New(raw...)
}

func (k *Keyring) find(id string) (key, bool) {
	for _, key := range k.keys {
		if key.id == id {
			return key, true
		}
	}
	return key{}, false
}

// Seal encrypts plaintext for purpose under the current key.
func (k *Keyring) Seal(purpose, plaintext string) string {
	cur := k.keys[0]
	nonce := make([]byte, cur.aead.NonceSize(), cur.aead.NonceSize()+len(plaintext)+cur.aead.Overhead())
	rand.Read(nonce)
	out := cur.aead.Seal(nonce, nonce, []byte(plaintext), []byte(purpose))
	return SealedPrefix + cur.id + ":" + base64.RawURLEncoding.EncodeToString(out)
}

// IsSealed reports whether s is a sealed value.
func IsSealed(s string) bool { return strings.HasPrefix(s, SealedPrefix) }

// SealedWith returns the ID of the key a sealed value or a keyed hash was
// made with ("" when it is neither).
func SealedWith(s string) string {
	for _, p := range []string{SealedPrefix, HashPrefix} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			id, _, _ := strings.Cut(rest, ":")
			return id
		}
	}
	return ""
}

// Open decrypts a value sealed for purpose by any key of the keyring.
func (k *Keyring) Open(purpose, sealed string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, SealedPrefix)
	if !ok {
		return "", ErrNotSealed
	}
	id, enc, ok := strings.Cut(rest, ":")
	if !ok {
		return "", ErrNotSealed
	}
	key, ok := k.find(id)
	if !ok {
		return "", fmt.Errorf("%w (key %s)", ErrUnknownKey, id)
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(b) < key.aead.NonceSize() {
		return "", ErrTampered
	}
	n := key.aead.NonceSize()
	plain, err := key.aead.Open(nil, b[:n], b[n:], []byte(purpose))
	if err != nil {
		return "", ErrTampered
	}
	return string(plain), nil
}

// Reseal opens a sealed value and seals it again under the current key; a
// value not sealed yet is sealed. changed is false when it was sealed under
// the current key already.
func (k *Keyring) Reseal(purpose, v string) (out string, changed bool, err error) {
	if !IsSealed(v) {
		return k.Seal(purpose, v), true, nil
	}
	if SealedWith(v) == k.Current() {
		return v, false, nil
	}
	plain, err := k.Open(purpose, v)
	if err != nil {
		return "", false, err
	}
	return k.Seal(purpose, plain), true, nil
}

// Hash returns the keyed hash of value for purpose under the current key.
func (k *Keyring) Hash(purpose, value string) string {
	d := sha256.Sum256([]byte(value))
	return k.hashDigest(k.keys[0], purpose, d[:])
}

// Hashes returns the keyed hashes of value for purpose under every key, the
// current first: what to look a stored hash up by.
func (k *Keyring) Hashes(purpose, value string) []string {
	d := sha256.Sum256([]byte(value))
	out := make([]string, len(k.keys))
	for i, key := range k.keys {
		out[i] = k.hashDigest(key, purpose, d[:])
	}
	return out
}

// HashLegacy turns the unkeyed hex SHA-256 of a value, as stored before
// keyed hashes, into the value's keyed hash under the current key (keyed
// hashes are made over the SHA-256 of the value, so none needs the value).
func (k *Keyring) HashLegacy(purpose, sha256Hex string) (string, error) {
	d, err := hex.DecodeString(sha256Hex)
	if err != nil || len(d) != sha256.Size {
		return "", fmt.Errorf("secret: %q is not a hex SHA-256", sha256Hex)
	}
	return k.hashDigest(k.keys[0], purpose, d), nil
}

func (k *Keyring) hashDigest(key key, purpose string, digest []byte) string {
	m := hmac.New(sha256.New, key.mac)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(digest)
	return HashPrefix + key.id + ":" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Verify reports whether stored is value's keyed hash for purpose, under
// whichever key of the keyring it names.
func (k *Keyring) Verify(purpose, stored, value string) bool {
	key, ok := k.find(SealedWith(stored))
	if !ok || !strings.HasPrefix(stored, HashPrefix) {
		return false
	}
	d := sha256.Sum256([]byte(value))
	return hmac.Equal([]byte(stored), []byte(k.hashDigest(key, purpose, d[:])))
}
