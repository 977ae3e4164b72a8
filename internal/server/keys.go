package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/apikey"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/portout"
	"github.com/switchboard-dev/switchboard/internal/secret"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Settings that record which key the database's secrets are under.
const (
	// keyCheckSetting holds a known text sealed under the current key, so
	// that a server started with the wrong key refuses to start instead of
	// writing secrets no other process can read.
	keyCheckSetting = "secret.check"
	// sealedUnderSetting is the ID of the key everything was last sealed
	// under: a start with another current key re-seals.
	sealedUnderSetting = "secret.sealedUnder"
	keyCheckPurpose    = "keyCheck"
	keyCheckText       = "switchboard"
)

// ErrNoSecretKey is the error of a PostgreSQL server started without a
// secret key: every process must use the same one, so none is generated.
var ErrNoSecretKey = errors.New("server: PostgreSQL needs a secret key shared by every process: " +
	"set SWITCHBOARD_SECRET_KEY (make one with: switchboard keygen) or --secret-key-file")

// KeyFilePath returns the key file kept beside a SQLite database: the
// database's path with ".key" added.
func KeyFilePath(db string) string {
	return strings.TrimPrefix(strings.TrimPrefix(db, "sqlite://"), "sqlite:") + ".key"
}

// LoadKeys returns the keyring a server over db uses: secretKey when set
// (base64 keys, comma-separated, the current first), else keyFile when
// set, else for SQLite the key file beside the database, created on first
// start (created says so); PostgreSQL has no default.
func LoadKeys(db, secretKey, keyFile string) (k *secret.Keyring, path string, created bool, err error) {
	switch {
	case secretKey != "":
		k, err = secret.Parse(secretKey)
		if err != nil {
			err = fmt.Errorf("server: SWITCHBOARD_SECRET_KEY: %w", err)
		}
		return k, "", false, err
	case keyFile != "":
		k, err = secret.LoadFile(keyFile)
		return k, keyFile, false, err
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return nil, "", false, ErrNoSecretKey
	}
	path = KeyFilePath(db)
	k, created, err = secret.LoadOrCreateFile(path)
	return k, path, created, err
}

// CheckKeys verifies that the keyring opens the database's secrets, and on
// a database that has none yet records a check value under its current key.
func CheckKeys(ctx context.Context, st *store.Store, keys *secret.Keyring) error {
	return st.Update(ctx, func(tx *store.Tx) error {
		v, err := tx.Setting(ctx, keyCheckSetting)
		if err != nil {
			return err
		}
		if v == "" {
			return tx.SetSetting(ctx, keyCheckSetting, keys.Seal(keyCheckPurpose, keyCheckText))
		}
		if got, err := keys.Open(keyCheckPurpose, v); err != nil || got != keyCheckText {
			return fmt.Errorf("server: the secret key (key IDs %s) does not open this database's secrets, sealed under key %s: "+
				"start with the key the database was sealed with", strings.Join(keys.IDs(), ", "), secret.SealedWith(v))
		}
		return nil
	})
}

// ResealReport says what a re-sealing pass did.
type ResealReport struct {
	// Sealed counts values stored in clear until now; Resealed values
	// moved from an older key to the current one; Rehashed unkeyed hashes
	// made keyed; Skipped resources that changed while the pass ran (a
	// pass run again takes them).
	Sealed, Resealed, Rehashed, Skipped int
	// OldHashes counts, per older key ID, the keyed hashes still made with
	// it: a hash cannot be remade without the value, so that key must stay
	// in the keyring (for verifying only) until they are gone.
	OldHashes map[string]int
}

// Reseal brings every secret of the database under the keyring's current
// key: values in clear (stored before sealing) are sealed, values sealed
// under an older key of the keyring are re-sealed, unkeyed hashes are made
// keyed. Each batch commits on its own; it is safe to run again after a
// failure. The check value is re-sealed last.
func Reseal(ctx context.Context, st *store.Store, keys *secret.Keyring) (ResealReport, error) {
	rep := ResealReport{OldHashes: map[string]int{}}
	passes := []struct {
		kind string
		fn   func(map[string]json.RawMessage, *store.Stored) (bool, error)
	}{
		{endpoint.Kind, func(body map[string]json.RawMessage, _ *store.Stored) (bool, error) {
			var secrets []endpoint.Secret
			if err := json.Unmarshal(body["secrets"], &secrets); err != nil {
				return false, err
			}
			changed := false
			for i := range secrets {
				c, err := rep.reseal(keys, endpoint.SecretPurpose, &secrets[i].Value)
				if err != nil {
					return false, err
				}
				changed = changed || c
			}
			if changed {
				b, err := json.Marshal(secrets)
				body["secrets"] = b
				return true, err
			}
			return false, nil
		}},
		{porting.Kind, func(body map[string]json.RawMessage, _ *store.Stored) (bool, error) {
			return rep.resealField(keys, body, "accountPin", porting.PinPurpose)
		}},
		{portout.Kind, func(body map[string]json.RawMessage, _ *store.Stored) (bool, error) {
			var h string
			if err := json.Unmarshal(body["pinHash"], &h); err != nil || h == "" {
				return false, err
			}
			changed, err := rep.rehash(keys, portout.PinPurpose, &h)
			if changed {
				body["pinHash"], err = json.Marshal(h)
			}
			return changed, err
		}},
		{apikey.Kind, func(body map[string]json.RawMessage, r *store.Stored) (bool, error) {
			var h string
			if err := json.Unmarshal(body["hash"], &h); err != nil || h == "" {
				return false, err
			}
			changed, err := rep.rehash(keys, apikey.TokenPurpose, &h)
			if changed {
				body["hash"], err = json.Marshal(h)
				r.Unique = h
			}
			return changed, err
		}},
	}
	for _, p := range passes {
		after := ""
		for {
			var n int
			err := st.Update(ctx, func(tx *store.Tx) error {
				rows, err := tx.ScanKind(ctx, p.kind, after, 200)
				if err != nil {
					return err
				}
				n = len(rows)
				for i := range rows {
					r := &rows[i]
					var body map[string]json.RawMessage
					if err := json.Unmarshal(r.Body, &body); err != nil {
						return fmt.Errorf("server: reseal %s %s: %w", p.kind, r.ID, err)
					}
					changed, err := p.fn(body, r)
					if err != nil {
						return fmt.Errorf("server: reseal %s %s: %w", p.kind, r.ID, err)
					}
					if !changed {
						continue
					}
					old := r.Body
					if r.Body, err = json.Marshal(body); err != nil {
						return err
					}
					ok, err := tx.Rewrite(ctx, p.kind, old, *r)
					if err != nil {
						return err
					}
					if !ok {
						rep.Skipped++
					}
				}
				if n > 0 {
					after = rows[n-1].ID
				}
				return nil
			})
			if err != nil {
				return rep, err
			}
			if n < 200 {
				break
			}
		}
	}
	err := st.Update(ctx, func(tx *store.Tx) error {
		op, err := tx.Setting(ctx, operatorSetting)
		if err != nil {
			return err
		}
		if op != "" {
			if changed, err := rep.rehash(keys, apikey.TokenPurpose, &op); err != nil {
				return err
			} else if changed {
				if err := tx.SetSetting(ctx, operatorSetting, op); err != nil {
					return err
				}
			}
		}
		if err := tx.SetSetting(ctx, keyCheckSetting, keys.Seal(keyCheckPurpose, keyCheckText)); err != nil {
			return err
		}
		if rep.Skipped > 0 { // not all under the current key: the next start passes again
			return nil
		}
		return tx.SetSetting(ctx, sealedUnderSetting, keys.Current())
	})
	if err == nil && rep.Sealed+rep.Resealed+rep.Rehashed > 0 {
		// The rows' old versions must not outlive them in the file.
		err = st.Scrub(ctx)
	}
	return rep, err
}

// reseal brings one value under the current key.
func (rep *ResealReport) reseal(keys *secret.Keyring, purpose string, v *string) (bool, error) {
	wasSealed := secret.IsSealed(*v)
	out, changed, err := keys.Reseal(purpose, *v)
	if err != nil || !changed {
		return false, err
	}
	if wasSealed {
		rep.Resealed++
	} else {
		rep.Sealed++
	}
	*v = out
	return true, nil
}

// resealField reseals a string field of a body that may be null or absent.
func (rep *ResealReport) resealField(keys *secret.Keyring, body map[string]json.RawMessage, name, purpose string) (bool, error) {
	raw, ok := body[name]
	if !ok || string(raw) == "null" {
		return false, nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, err
	}
	changed, err := rep.reseal(keys, purpose, &v)
	if changed {
		body[name], err = json.Marshal(v)
	}
	return changed, err
}

// rehash makes an unkeyed hash keyed, and counts keyed hashes made with
// an older key.
func (rep *ResealReport) rehash(keys *secret.Keyring, purpose string, h *string) (bool, error) {
	if id := secret.SealedWith(*h); id != "" {
		if id != keys.Current() {
			rep.OldHashes[id]++
		}
		return false, nil
	}
	out, err := keys.HashLegacy(purpose, *h)
	if err != nil {
		return false, err
	}
	rep.Rehashed++
	*h = out
	return true, nil
}

// openKeys loads the server's keyring, checks it against the database and,
// when the database's secrets are not all under its current key yet (a
// database from before sealing, or a new current key), re-seals them.
func (s *Server) openKeys(ctx context.Context) error {
	keys, path, created, err := LoadKeys(s.cfg.DB, s.cfg.SecretKey, s.cfg.KeyFile)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(s.cfg.Out, "Created the secret key file %s (mode 0600). Back it up apart from the database: "+
			"without it no sealed secret can be read.\n", path)
		s.log.Info("secret: created the key file", "path", path, "key", keys.Current())
	}
	if err := CheckKeys(ctx, s.Store, keys); err != nil {
		return err
	}
	var under string
	err = s.Store.View(ctx, func(tx *store.Tx) (err error) {
		under, err = tx.Setting(ctx, sealedUnderSetting)
		return err
	})
	if err != nil {
		return err
	}
	if under != keys.Current() {
		rep, err := Reseal(ctx, s.Store, keys)
		if err != nil {
			return err
		}
		if rep.Sealed+rep.Resealed+rep.Rehashed > 0 {
			s.log.Info("secret: sealed the database's secrets under the current key", "key", keys.Current(),
				"sealed", rep.Sealed, "resealed", rep.Resealed, "rehashed", rep.Rehashed)
		}
	}
	s.Keys = keys
	return nil
}
