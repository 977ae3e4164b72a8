package apikey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/field"
	"github.com/switchboard-dev/switchboard/internal/id"
	"github.com/switchboard-dev/switchboard/internal/secret"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// CacheTTL is the longest a process trusts a key it read: a revocation on
// another process whose notification was missed takes effect here within
// it.
const CacheTTL = 500 * time.Millisecond

// revokedChannel is the store channel on which processes tell each other
// that a key was revoked.
const revokedChannel = "apiKeyRevoked"

// Service manages API keys. Set Store, Events and Clock.
type Service struct {
	Store  *store.Store
	Events *eventlog.Log
	// Clock is the wall clock: keys expire in real time, whatever a test
	// project's clock says.
	Clock  clock.Clock
	Logger *slog.Logger
	// Secrets keys the tokens' hashes; nil leaves them unkeyed.
	Secrets *secret.Keyring

	mu    sync.Mutex
	cache map[string]cached // by hash
	// gen counts the times the cache was emptied: a read that began
	// before a revocation is not cached after it.
	gen uint64
}

type cached struct {
	key    Key
	readAt time.Time
}

// CreateParams are the fields of a create request.
type CreateParams struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expiresAt"`
}

func notFound(keyID string) error {
	return failure.New(failure.NotFound, "apiKeyNotFound", "The API key %s was not found.", keyID)
}

// Create makes a new key for the project, whose mode names its prefix, and
// records com.gigs.apiKey.created (with the token redacted) in the same
// transaction. The result is the only place the token is ever shown.
func (s *Service) Create(ctx context.Context, project, mode string, p CreateParams) (*switchboard.APIKey, error) {
	if p.Name == "" {
		return nil, field.Required("name")
	}
	if err := field.Length("name", p.Name, 1, 200); err != nil {
		return nil, err
	}
	now := clock.Second(s.Clock.Now())
	if p.ExpiresAt != nil {
		at := p.ExpiresAt.UTC().Truncate(time.Second)
		if !at.After(now) {
			return nil, failure.New(failure.Invalid, "invalidValue", "The field expiresAt must be in the future.")
		}
		p.ExpiresAt = &at
	}
	token, err := NewToken(Prefix(mode))
	if err != nil {
		return nil, err
	}
	k := Key{ID: id.New(id.APIKey), Project: project, Name: p.Name, Hash: Hash(s.Secrets, token), Redacted: Redact(token),
		CreatedAt: now, ExpiresAt: p.ExpiresAt, Origin: OriginAPI}
	err = s.Store.Update(ctx, func(tx *store.Tx) error {
		if err := tx.Put(ctx, record(&k)); err != nil {
			return fmt.Errorf("apikey: %w", err)
		}
		_, err := s.Events.Record(ctx, tx, k.Project,
			eventlog.Change{Type: switchboard.TypeAPIKeyCreated, Resource: k.ID, Data: k.View()})
		return err
	})
	if err != nil {
		return nil, err
	}
	v := k.View()
	v.Token = token
	return v, nil
}

func record(k *Key) store.Resource {
	return store.Resource{Kind: Kind, ID: k.ID, Owner: k.Project, Unique: k.Hash, Body: k}
}

// Add stores a token chosen elsewhere (SWITCHBOARD_API_KEY, a generated
// one) as a key of the project, unless it is stored already. A token of
// another project is an error. It records no event: these keys are the
// server's configuration, made at its start, not a change through the API.
func (s *Service) Add(ctx context.Context, project, token, name, origin string) (*Key, error) {
	var out *Key
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		var existing Key
		err := s.lookup(ctx, tx, token, &existing)
		switch {
		case err == nil && existing.Project != project:
			return fmt.Errorf("apikey: the API key belongs to project %q already", existing.Project)
		case err == nil:
			out = &existing
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		out = &Key{ID: id.New(id.APIKey), Project: project, Name: name, Hash: Hash(s.Secrets, token), Redacted: Redact(token),
			CreatedAt: clock.Second(s.Clock.Now()), Origin: origin}
		if err := tx.Put(ctx, record(out)); err != nil {
			return fmt.Errorf("apikey: %w", err)
		}
		return nil
	})
	return out, err
}

// Keys returns every key of the project.
func (s *Service) Keys(ctx context.Context, project string) ([]Key, error) {
	var out []Key
	err := s.Store.View(ctx, func(tx *store.Tx) error {
		page := store.Page{Limit: 200}
		for {
			keys, cur, err := list(ctx, tx, project, page)
			if err != nil {
				return err
			}
			out = append(out, keys...)
			if cur.MoreAfter == "" {
				return nil
			}
			page.After = cur.MoreAfter
		}
	})
	return out, err
}

func list(ctx context.Context, tx *store.Tx, project string, page store.Page) ([]Key, store.Cursors, error) {
	items, cur, err := tx.List(ctx, store.Query{Kind: Kind, Owner: project, Page: page})
	if err != nil {
		return nil, cur, fmt.Errorf("apikey: list: %w", err)
	}
	out := make([]Key, 0, len(items))
	for _, b := range items {
		var k Key
		if err := json.Unmarshal(b, &k); err != nil {
			return nil, cur, fmt.Errorf("apikey: decode: %w", err)
		}
		out = append(out, k)
	}
	return out, cur, nil
}

// List returns a page of the project's keys, redacted, newest first.
func (s *Service) List(ctx context.Context, project string, page store.Page) ([]*switchboard.APIKey, store.Cursors, error) {
	var keys []Key
	var cur store.Cursors
	err := s.Store.View(ctx, func(tx *store.Tx) (err error) {
		keys, cur, err = list(ctx, tx, project, page)
		return err
	})
	if err != nil {
		return nil, cur, err
	}
	out := make([]*switchboard.APIKey, len(keys))
	for i := range keys {
		out[i] = keys[i].View()
	}
	return out, cur, nil
}

// Get returns one of the project's keys, redacted.
func (s *Service) Get(ctx context.Context, project, keyID string) (*switchboard.APIKey, error) {
	var k Key
	err := s.Store.View(ctx, func(tx *store.Tx) error { return tx.Read(ctx, Kind, "", keyID, &k) })
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.Project != project) {
		return nil, notFound(keyID)
	}
	if err != nil {
		return nil, fmt.Errorf("apikey: %w", err)
	}
	return k.View(), nil
}

// Revoke deletes one of the project's keys: from the moment it returns, no
// process accepts it (the others within CacheTTL at most, at once when the
// notification arrives).
func (s *Service) Revoke(ctx context.Context, project, keyID string) error {
	var k Key
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		if err := tx.GetForUpdate(ctx, Kind, "", keyID, &k); err != nil {
			return err
		}
		if k.Project != project {
			return store.ErrNotFound
		}
		if err := tx.Delete(ctx, Kind, "", keyID); err != nil {
			return err
		}
		return tx.Notify(ctx, revokedChannel)
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound(keyID)
	}
	if err != nil {
		return fmt.Errorf("apikey: revoke: %w", err)
	}
	s.forget()
	return nil
}

// forget empties this process's cache.
func (s *Service) forget() {
	s.mu.Lock()
	s.cache = nil
	s.gen++
	s.mu.Unlock()
}

// Authenticate returns the key of the token; invalidApiKey when there is
// none, or it expired.
func (s *Service) Authenticate(ctx context.Context, token string) (Key, error) {
	hash := Hash(s.Secrets, token)
	now := time.Now()
	s.mu.Lock()
	c, ok := s.cache[hash]
	gen := s.gen
	s.mu.Unlock()
	if !ok || now.Sub(c.readAt) >= CacheTTL {
		var k Key
		err := s.Store.View(ctx, func(tx *store.Tx) error { return s.lookup(ctx, tx, token, &k) })
		if errors.Is(err, store.ErrNotFound) {
			return Key{}, invalid()
		}
		if err != nil {
			return Key{}, err
		}
		c = cached{key: k, readAt: now}
		s.mu.Lock()
		if s.gen == gen {
			if s.cache == nil {
				s.cache = make(map[string]cached)
			}
			s.cache[hash] = c
		}
		s.mu.Unlock()
	}
	if c.key.Expired(s.Clock.Now()) {
		return Key{}, invalid()
	}
	return c.key, nil
}

func invalid() error {
	return failure.New(failure.Unauthenticated, "invalidApiKey", "The API key is not valid.")
}

// Run empties the cache whenever another process revokes a key, until ctx
// ends.
func (s *Service) Run(ctx context.Context) {
	wake, err := s.Store.Listen(ctx, revokedChannel)
	if err != nil {
		if s.Logger != nil {
			s.Logger.Warn("apikey: listen for revocations; relying on the cache TTL", "err", err)
		}
		return
	}
	for range wake {
		s.forget()
	}
}

// lookup reads the key of a token by its hash under each key of the
// keyring, the current first (a start re-hashes unkeyed hashes, so none is
// looked for).
func (s *Service) lookup(ctx context.Context, tx *store.Tx, token string, k *Key) error {
	hashes := []string{legacyHash(token)}
	if s.Secrets != nil {
		hashes = s.Secrets.Hashes(TokenPurpose, token)
	}
	var err error
	for _, h := range hashes {
		if err = tx.GetUnique(ctx, Kind, "", h, k); !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return err
}
