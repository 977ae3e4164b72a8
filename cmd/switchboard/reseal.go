package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/secret"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/store"
)

func init() {
	commands["reseal"] = command{"re-seal the database's secrets under a new secret key", reseal}
	commands["keygen"] = command{"print a new secret key (for SWITCHBOARD_SECRET_KEY)", keygen}
}

func keygen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", stderr)
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	fmt.Fprintln(stdout, secret.Generate())
	return nil
}

// reseal re-seals every secret of a database under a new key. The servers
// must be stopped: one still running would go on sealing under the old key.
func reseal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("reseal", stderr)
	db := fs.String("db", "switchboard.db", "SQLite file, sqlite: URL or postgres:// URL")
	oldKey := fs.String("old-key", "",
		"the key(s) the database is sealed with, comma-separated (default SWITCHBOARD_SECRET_KEY); for SQLite, the key file beside the database when neither is set")
	keyFile := fs.String("secret-key-file", "", "read the old keys from this key file")
	newKey := fs.String("new-key", "", "the new key (default SWITCHBOARD_NEW_SECRET_KEY); a new one is generated when neither is set")
	if err := bindEnv(fs); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	// Keys are read from the environment after parsing, never into a
	// flag's default: -h prints defaults.
	if *oldKey == "" {
		*oldKey = env("SWITCHBOARD_SECRET_KEY", "")
	}
	if *newKey == "" {
		*newKey = env("SWITCHBOARD_NEW_SECRET_KEY", "")
	}
	if *oldKey == "" && *keyFile == "" && !strings.HasPrefix(*db, "postgres") {
		*keyFile = server.KeyFilePath(*db) // read it, never make it
	}
	old, path, _, err := server.LoadKeys(*db, *oldKey, *keyFile)
	if err != nil {
		return err
	}
	generated := *newKey == ""
	if generated {
		*newKey = secret.Generate()
	}
	fresh, err := secret.Parse(*newKey)
	if err != nil {
		return fmt.Errorf("--new-key: %w", err)
	}
	if len(fresh.IDs()) != 1 {
		return errors.New("--new-key: give one key")
	}
	keys, err := old.Under(fresh)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, *db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := server.CheckKeys(ctx, st, old); err != nil {
		return err
	}
	rep, err := server.Reseal(ctx, st, keys)
	if err != nil {
		return err
	}
	// Older keys stay only while keyed hashes made with them remain (a
	// hash cannot be remade without the value it hashes).
	var drop, keep []string
	for _, id := range keys.IDs()[1:] {
		if rep.OldHashes[id] > 0 {
			keep = append(keep, fmt.Sprintf("%s (%d hashes)", id, rep.OldHashes[id]))
		} else {
			drop = append(drop, id)
		}
	}
	if keys, err = keys.Drop(drop...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Re-sealed %s under key %s: %d sealed from clear text, %d re-sealed, %d hashes keyed", st.Backend(), keys.Current(),
		rep.Sealed, rep.Resealed, rep.Rehashed)
	if rep.Skipped > 0 {
		fmt.Fprintf(stdout, ", %d changed meanwhile (is a server running? run reseal again with it stopped)", rep.Skipped)
	}
	fmt.Fprintln(stdout, ".")
	if len(keep) > 0 {
		sort.Strings(keep)
		fmt.Fprintf(stdout, "Kept older keys for verifying the hashes made with them: %s.\n", strings.Join(keep, ", "))
	}
	if path != "" && *oldKey == "" {
		if err := secret.WriteFile(path, keys); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Wrote the new keyring to %s. Back it up now; the old backup no longer opens new secrets.\n", path)
		return nil
	}
	fmt.Fprintf(stdout, "Start every server with SWITCHBOARD_SECRET_KEY=%s\n", strings.Join(strings.Fields(keys.String()), ","))
	if generated {
		fmt.Fprintln(stdout, "(the new key was generated: back it up now.)")
	}
	return nil
}
