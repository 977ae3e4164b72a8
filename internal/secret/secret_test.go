package secret_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/secret"
)

func keyring(t *testing.T, keys ...string) *secret.Keyring {
	t.Helper()
	k, err := secret.Parse(strings.Join(keys, ","))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	oldKey, newKey := secret.Generate(), secret.Generate()
	old := keyring(t, oldKey)
	sealed := old.Seal("accountPin", "7351")
	if !secret.IsSealed(sealed) || strings.Contains(sealed, "7351") || secret.SealedWith(sealed) != old.Current() {
		t.Fatalf("sealed %q", sealed)
	}
	if again := old.Seal("accountPin", "7351"); again == sealed {
		t.Fatal("two seals of one value are equal: the nonce is not fresh")
	}
	rotated := keyring(t, newKey, oldKey)
	tests := []struct {
		name    string
		k       *secret.Keyring
		purpose string
		value   string
		want    string
		err     error
	}{
		{"same key", old, "accountPin", sealed, "7351", nil},
		{"rotated keyring", rotated, "accountPin", sealed, "7351", nil},
		{"another purpose", old, "webhookSecret", sealed, "", secret.ErrTampered},
		{"unknown key", keyring(t, newKey), "accountPin", sealed, "", secret.ErrUnknownKey},
		{"tampered", old, "accountPin", sealed[:len(sealed)-2] + "AA", "", secret.ErrTampered},
		{"clear text", old, "accountPin", "7351", "", secret.ErrNotSealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.k.Open(tt.purpose, tt.value)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Fatalf("Open = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
	resealed, changed, err := rotated.Reseal("accountPin", sealed)
	if err != nil || !changed || secret.SealedWith(resealed) != rotated.Current() {
		t.Fatalf("Reseal = %q, %v, %v", resealed, changed, err)
	}
	if got, err := keyring(t, newKey).Open("accountPin", resealed); got != "7351" || err != nil {
		t.Fatalf("the new key alone opens the resealed value as %q, %v", got, err)
	}
	if _, changed, _ := rotated.Reseal("accountPin", resealed); changed {
		t.Fatal("resealing a value sealed under the current key changed it")
	}
}

func TestHash(t *testing.T) {
	k1, k2 := secret.Generate(), secret.Generate()
	a, b := keyring(t, k1), keyring(t, k2)
	h := a.Hash("portOutPin", "123456")
	if !strings.HasPrefix(h, secret.HashPrefix) || h != a.Hash("portOutPin", "123456") {
		t.Fatalf("hash %q is not deterministic", h)
	}
	if h == b.Hash("portOutPin", "123456") || h == a.Hash("apiToken", "123456") {
		t.Fatal("the hash does not depend on the key and purpose")
	}
	plain := sha256.Sum256([]byte("123456"))
	if strings.Contains(h, hex.EncodeToString(plain[:])) {
		t.Fatal("the hash holds the unkeyed SHA-256")
	}
	if !a.Verify("portOutPin", h, "123456") || a.Verify("portOutPin", h, "123457") || b.Verify("portOutPin", h, "123456") {
		t.Fatal("Verify is wrong")
	}
	both := keyring(t, k2, k1)
	if hs := both.Hashes("portOutPin", "123456"); len(hs) != 2 || hs[1] != h || !both.Verify("portOutPin", h, "123456") {
		t.Fatalf("a rotated keyring does not find the old hash: %v", hs)
	}
	legacy, err := a.HashLegacy("portOutPin", hex.EncodeToString(plain[:]))
	if err != nil || legacy != h {
		t.Fatalf("HashLegacy = %q, %v; want %q", legacy, err, h)
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchboard.db.key")
	k, created, err := secret.LoadOrCreateFile(path)
	if err != nil || !created {
		t.Fatalf("create: %v, %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	again, created, err := secret.LoadOrCreateFile(path)
	if err != nil || created || again.Current() != k.Current() {
		t.Fatalf("reload: %v, %v, key %s want %s", created, err, again.Current(), k.Current())
	}
	rotated, err := k.Under(keyring(t, secret.Generate()))
	if err != nil {
		t.Fatal(err)
	}
	if err := secret.WriteFile(path, rotated); err != nil {
		t.Fatal(err)
	}
	back, err := secret.LoadFile(path)
	if err != nil || strings.Join(back.IDs(), ",") != strings.Join(rotated.IDs(), ",") || len(back.IDs()) != 2 {
		t.Fatalf("written keyring %v, %v; want %v", back.IDs(), err, rotated.IDs())
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("rewritten key file mode %v", fi.Mode().Perm())
	}
}
