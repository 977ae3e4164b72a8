package endpoint

import (
	"errors"
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/secret"
)

// SecretPurpose is the purpose signing secrets are sealed for.
const SecretPurpose = "webhookSecret"

// SigningKey returns the HMAC key of a stored signing secret: sealed, and
// opened with keys, or in clear as stored before secrets were sealed.
func SigningKey(keys *secret.Keyring, stored string) ([]byte, error) {
	v := stored
	if secret.IsSealed(stored) {
		if keys == nil {
			return nil, errors.New("endpoint: the secret is sealed and no secret key was given")
		}
		var err error
		if v, err = keys.Open(SecretPurpose, stored); err != nil {
			return nil, fmt.Errorf("endpoint: open signing secret: %w", err)
		}
	}
	return SecretKey(v)
}

// seal returns a new secret as it is stored: sealed, unless the service
// has no keys.
func (s *Service) seal(v string) string {
	if s.Keys == nil {
		return v
	}
	return s.Keys.Seal(SecretPurpose, v)
}
