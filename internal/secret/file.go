package secret

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LoadFile reads a keyring from a key file.
func LoadFile(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret: read key file: %w", err)
	}
	k, err := Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("secret: key file %s: %w", path, err)
	}
	return k, nil
}

// LoadOrCreateFile reads the keyring of a key file, creating the file with
// a new key (mode 0600) when it does not exist; created says it did.
func LoadOrCreateFile(path string) (k *Keyring, created bool, err error) {
	k, err = LoadFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	k, err = Parse(Generate())
	if err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process made it first
		k, err = LoadFile(path)
		return k, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("secret: create key file: %w", err)
	}
	if _, err := f.WriteString(fileHeader + k.String()); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("secret: write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("secret: write key file: %w", err)
	}
	return k, true, f.Close()
}

// WriteFile replaces a key file with the keyring (mode 0600), atomically.
func WriteFile(path string, k *Keyring) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".switchboard-key-*")
	if err != nil {
		return fmt.Errorf("secret: write key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.WriteString(fileHeader + k.String())
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("secret: write key file: %w", err)
	}
	return nil
}

const fileHeader = "# Switchboard secret key: the first key seals and hashes; the others open older values.\n" +
	"# Back this file up apart from the database: without it no sealed secret can be read.\n"
