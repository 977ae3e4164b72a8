package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apikey"
	"github.com/switchboard-dev/switchboard/internal/project"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Settings the server keeps in the store.
const (
	// legacyClockSetting held the one platform clock's offset before each
	// project had its own; bootstrap moves it to the default project.
	legacyClockSetting = "clock.offsetNanos"
	// operatorSetting holds the operator key's hash.
	operatorSetting = "operator.keyHash"
)

// bootstrap makes sure the store has what the server starts with: the
// default project (a test project), a project for every project older
// databases knew only by its keys, the operator key and the default
// project's key.
func (s *Server) bootstrap(ctx context.Context) error {
	if s.cfg.AdminKey != "" && s.cfg.AdminKey == s.cfg.APIKey {
		return errors.New("server: SWITCHBOARD_ADMIN_KEY must differ from SWITCHBOARD_API_KEY")
	}
	if _, err := s.Projects.Ensure(ctx, s.cfg.Project, s.cfg.Project, project.Test); err != nil {
		return err
	}
	if err := s.adoptProjects(ctx); err != nil {
		return err
	}
	if err := s.adoptLegacyClock(ctx); err != nil {
		return err
	}
	if err := s.Projects.LoadClocks(ctx); err != nil {
		return err
	}
	if err := s.bootstrapOperator(ctx); err != nil {
		return err
	}
	return s.bootstrapAPIKey(ctx)
}

// adoptProjects makes a (test) project of every project that has API keys
// but no project: databases made before projects were.
func (s *Server) adoptProjects(ctx context.Context) error {
	seen := map[string]bool{}
	err := s.Store.View(ctx, func(tx *store.Tx) error {
		page := store.Page{Limit: 200}
		for {
			items, cur, err := tx.List(ctx, store.Query{Kind: apikey.Kind, Page: page})
			if err != nil {
				return err
			}
			for _, b := range items {
				var k apikey.Key
				if err := json.Unmarshal(b, &k); err != nil {
					return fmt.Errorf("server: decode API key: %w", err)
				}
				seen[k.Project] = true
			}
			if cur.MoreAfter == "" {
				return nil
			}
			page.After = cur.MoreAfter
		}
	})
	if err != nil {
		return err
	}
	for id := range seen {
		if _, err := s.Projects.Ensure(ctx, id, id, project.Test); err != nil {
			return err
		}
	}
	return nil
}

// adoptLegacyClock moves the one clock of older databases to the default
// project, once.
func (s *Server) adoptLegacyClock(ctx context.Context) error {
	return s.Store.Update(ctx, func(tx *store.Tx) error {
		v, err := tx.Setting(ctx, legacyClockSetting)
		if err != nil || v == "" {
			return err
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("server: stored clock offset %q: %w", v, err)
		}
		cur, err := tx.ClockOffset(ctx, s.cfg.Project)
		if err != nil {
			return err
		}
		if d := min(time.Duration(n), project.MaxOffset); d > cur {
			if err := tx.SetClockOffset(ctx, s.cfg.Project, d); err != nil {
				return err
			}
		}
		return tx.SetSetting(ctx, legacyClockSetting, "")
	})
}

// bootstrapOperator stores the operator key's hash: the configured key's,
// replacing any other; or, when none is configured and none is stored, a
// generated key's, which is printed once.
func (s *Server) bootstrapOperator(ctx context.Context) error {
	token := s.cfg.AdminKey
	generated := false
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		stored, err := tx.Setting(ctx, operatorSetting)
		if err != nil {
			return err
		}
		if token == "" {
			if stored != "" {
				return nil
			}
			if token, err = apikey.NewToken("sk_admin_"); err != nil {
				return err
			}
			generated = true
		}
		if !apikey.Matches(s.Keys, stored, token) {
			h := apikey.Hash(s.Keys, token)
			if stored != "" {
				s.log.Warn("server: the operator key changed (SWITCHBOARD_ADMIN_KEY); the previous one no longer works")
			}
			return tx.SetSetting(ctx, operatorSetting, h)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("server: operator key: %w", err)
	}
	if generated {
		fmt.Fprintf(s.cfg.Out, "Generated the operator key (SWITCHBOARD_ADMIN_KEY; shown once): %s\n", token)
	}
	return nil
}

// isOperator reports whether the token is the operator key. It reads the
// stored hash every time: the operator key changes only at a restart, but
// the restart may be another process's.
func (s *Server) isOperator(ctx context.Context, token string) (bool, error) {
	var stored string
	err := s.Store.View(ctx, func(tx *store.Tx) (err error) {
		stored, err = tx.Setting(ctx, operatorSetting)
		return err
	})
	if err != nil {
		return false, err
	}
	return stored != "" && apikey.Matches(s.Keys, stored, token), nil
}

// bootstrapAPIKey gives the default project its key, so that an earlier
// SWITCHBOARD_API_KEY never stays valid silently:
//   - with SWITCHBOARD_API_KEY set, that key is stored, and the keys an
//     earlier SWITCHBOARD_API_KEY gave the project are revoked, as are the
//     key generated at first start and the project's keys from before keys
//     had origins (they came from the environment or were generated);
//   - without it, the keys an earlier SWITCHBOARD_API_KEY gave are revoked,
//     and a project left without any key gets a generated one, printed
//     once.
//
// Keys made through the API are never touched. Each revocation is logged.
func (s *Server) bootstrapAPIKey(ctx context.Context) error {
	keys, err := s.APIKeys.Keys(ctx, s.cfg.Project)
	if err != nil {
		return err
	}
	configured := s.cfg.APIKey != ""
	left := 0
	for _, k := range keys {
		legacy := k.Origin == "" && k.Name == ""
		isConfigured := configured && apikey.Matches(s.Keys, k.Hash, s.cfg.APIKey)
		stale := !isConfigured &&
			(k.Origin == apikey.OriginEnv || (configured && (k.Origin == apikey.OriginGenerated || legacy)))
		if !stale {
			left++
			continue
		}
		if err := s.APIKeys.Revoke(ctx, s.cfg.Project, k.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		s.log.Warn("server: revoked the default project's previous configured or generated API key",
			"project", s.cfg.Project, "apiKey", k.ID, "origin", k.Origin)
	}
	if s.cfg.APIKey != "" {
		_, err := s.APIKeys.Add(ctx, s.cfg.Project, s.cfg.APIKey, "SWITCHBOARD_API_KEY", apikey.OriginEnv)
		return err
	}
	if left > 0 {
		return nil
	}
	token, err := apikey.NewToken(apikey.Prefix(project.Test))
	if err != nil {
		return err
	}
	if _, err := s.APIKeys.Add(ctx, s.cfg.Project, token, "generated", apikey.OriginGenerated); err != nil {
		return err
	}
	fmt.Fprintf(s.cfg.Out, "Generated an API key for project %q (shown once): %s\n", s.cfg.Project, token)
	return nil
}
