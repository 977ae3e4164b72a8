package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of a delivery.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix begins every secret.
const SecretPrefix = "whsec_"

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock, either way.
const DefaultTolerance = 5 * time.Minute

// Key sizes a secret may decode to, in bytes.
const (
	minKeySize = 24
	maxKeySize = 64
	newKeySize = 32
)

// Errors returned by signing and verification. Match them with [errors.Is].
var (
	// ErrInvalidSecret means a secret is not "whsec_" followed by the
	// standard base64 of 24 to 64 bytes.
	ErrInvalidSecret = errors.New("webhook: invalid secret")
	// ErrMissingHeaders means a webhook-id, webhook-timestamp or
	// webhook-signature header is missing or empty.
	ErrMissingHeaders = errors.New("webhook: missing webhook headers")
	// ErrInvalidTimestamp means webhook-timestamp is not a Unix time in
	// seconds.
	ErrInvalidTimestamp = errors.New("webhook: invalid timestamp")
	// ErrInvalidSignature means no v1 signature matches any secret.
	ErrInvalidSignature = errors.New("webhook: no matching signature")
	// ErrTimestampTooOld means a correctly signed delivery is older than the
	// tolerance: a replay, or a sender whose clock runs late.
	ErrTimestampTooOld = errors.New("webhook: timestamp too old")
	// ErrTimestampTooNew means a correctly signed delivery is dated further
	// in the future than the tolerance.
	ErrTimestampTooNew = errors.New("webhook: timestamp too new")
)

// NewSecret returns a new secret: "whsec_" and the base64 of 32 random bytes.
func NewSecret() (string, error) {
	key := make([]byte, newKeySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("webhook: generating secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// parseSecrets decodes one or more space-separated secrets into their keys.
func parseSecrets(secrets string) ([][]byte, error) {
	var keys [][]byte
	for i, s := range strings.Fields(secrets) {
		enc, ok := strings.CutPrefix(s, SecretPrefix)
		if !ok {
			return nil, fmt.Errorf("%w: secret %d lacks the %q prefix", ErrInvalidSecret, i+1, SecretPrefix)
		}
		key, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, fmt.Errorf("%w: secret %d: %w", ErrInvalidSecret, i+1, err)
		}
		if len(key) < minKeySize || len(key) > maxKeySize {
			return nil, fmt.Errorf("%w: secret %d has %d bytes, want %d to %d", ErrInvalidSecret, i+1, len(key), minKeySize, maxKeySize)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no secret given", ErrInvalidSecret)
	}
	return keys, nil
}

// mac returns the HMAC-SHA256 of "<msgID>.<timestamp>.<body>" under key.
func mac(key []byte, msgID, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msgID))
	h.Write([]byte{'.'})
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Signer signs deliveries with one or more secrets. It is safe for
// concurrent use.
type Signer struct {
	keys [][]byte
}

// NewSigner returns a Signer for secrets, space-separated when there are
// several (during a rotation, the new and the old one).
func NewSigner(secrets string) (*Signer, error) {
	keys, err := parseSecrets(secrets)
	if err != nil {
		return nil, err
	}
	return &Signer{keys: keys}, nil
}

// Sign returns the webhook-signature header value for a delivery: one
// "v1,<base64>" entry per secret, separated by spaces. ts is sent in whole
// seconds.
func (s *Signer) Sign(msgID string, ts time.Time, body []byte) string {
	timestamp := strconv.FormatInt(ts.Unix(), 10)
	var b strings.Builder
	for i, key := range s.keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.WriteString(base64.StdEncoding.EncodeToString(mac(key, msgID, timestamp, body)))
	}
	return b.String()
}

// SetHeaders sets the three webhook headers of a delivery on h.
func (s *Signer) SetHeaders(h http.Header, msgID string, ts time.Time, body []byte) {
	h.Set(HeaderID, msgID)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, s.Sign(msgID, ts, body))
}

// Sign returns the webhook-signature header value for a delivery signed with
// secret (or several space-separated secrets). See [Signer.Sign].
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	s, err := NewSigner(secret)
	if err != nil {
		return "", err
	}
	return s.Sign(msgID, ts, body), nil
}

// Verifier checks the signatures of deliveries. Create one with
// [NewVerifier], then adjust its fields before first use. It is safe for
// concurrent use.
type Verifier struct {
	// Tolerance is how far the delivery's timestamp may be from Now, either
	// way; zero or negative means DefaultTolerance.
	Tolerance time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	keys [][]byte
}

// NewVerifier returns a Verifier that accepts deliveries signed with any of
// secrets, space-separated when there are several (during a rotation, the new
// and the old one).
func NewVerifier(secrets string) (*Verifier, error) {
	keys, err := parseSecrets(secrets)
	if err != nil {
		return nil, err
	}
	return &Verifier{keys: keys}, nil
}

// Verify checks that body was signed for the webhook headers in header. It
// passes when any "v1" entry of webhook-signature matches under any secret;
// entries of other versions are ignored. Signatures are checked before the
// timestamp, so [ErrTimestampTooOld] and [ErrTimestampTooNew] are only
// reported for authentic deliveries.
func (v *Verifier) Verify(header http.Header, body []byte) error {
	msgID := header.Get(HeaderID)
	timestamp := header.Get(HeaderTimestamp)
	signatures := header.Get(HeaderSignature)
	if msgID == "" || timestamp == "" || signatures == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrInvalidTimestamp, timestamp)
	}
	if !v.matches(msgID, timestamp, signatures, body) {
		return ErrInvalidSignature
	}

	tolerance := v.Tolerance
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	ts, t := time.Unix(sec, 0), now()
	switch {
	case ts.Before(t.Add(-tolerance)):
		return fmt.Errorf("%w: %s before now", ErrTimestampTooOld, t.Sub(ts).Truncate(time.Second))
	case ts.After(t.Add(tolerance)):
		return fmt.Errorf("%w: %s after now", ErrTimestampTooNew, ts.Sub(t).Truncate(time.Second))
	}
	return nil
}

// matches reports whether any v1 entry of signatures is the MAC of the
// message under any key.
func (v *Verifier) matches(msgID, timestamp, signatures string, body []byte) bool {
	want := make([][]byte, len(v.keys))
	for i, key := range v.keys {
		want[i] = mac(key, msgID, timestamp, body)
	}
	for _, entry := range strings.Fields(signatures) {
		version, enc, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.Strict().DecodeString(enc)
		if err != nil || len(got) != sha256.Size {
			continue
		}
		for _, w := range want {
			if hmac.Equal(got, w) {
				return true
			}
		}
	}
	return false
}

// Verify checks a delivery's signature with secret (or several
// space-separated secrets) and the default tolerance. See [Verifier.Verify].
func Verify(secret string, header http.Header, body []byte) error {
	v, err := NewVerifier(secret)
	if err != nil {
		return err
	}
	return v.Verify(header, body)
}
