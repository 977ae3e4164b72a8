package user

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/field"
	"github.com/switchboard-dev/switchboard/internal/id"
	"github.com/switchboard-dev/switchboard/internal/limits"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Kind is the store kind of users.
const Kind = "user"

// DefaultLocale is a user's preferredLocale when none was given. The public
// user schema types preferredLocale string (not nullable) and gives no
// default; en-US is the example of the schema and the first locale of the
// platform's example project, so it is our choice.
const DefaultLocale = "en-US"

// Statuses of stored users (the store's status column; not rendered: the
// newest public user schema has a status field, active, blocked or
// deleted, which the seeds' user of 2024-10-28 lacks and no version we
// render documents).
const (
	Active  = "active"
	Deleted = "deleted"
)

// Hooks let the resources of a user react in the same transaction.
type Hooks struct {
	// Deleted runs when the user is deleted, after its event is recorded:
	// it ends the user's subscriptions and cancels their portings.
	Deleted func(ctx context.Context, tx *store.Tx, project, userID string) error
}

// Service creates, changes and deletes users.
type Service struct {
	Store  *store.Store
	Events *eventlog.Log
	Clock  clock.Source
	Hooks  Hooks
}

// stored is a user as stored: the wire object and its deletion.
type stored struct {
	switchboard.User
	// DeletedAt is when the user was deleted; nil while it exists.
	DeletedAt *time.Time `json:"deletedAt,omitempty"`
}

// Params are the fields of a create or update request; nil means not given.
type Params struct {
	Email           *string `json:"email"`
	EmailVerified   *bool   `json:"emailVerified"`
	FullName        *string `json:"fullName"`
	Birthday        *string `json:"birthday"`
	PreferredLocale *string `json:"preferredLocale"`
}

func (p *Params) validate(now clock.Clock) error {
	if p.Email != nil {
		if err := field.Email("email", *p.Email); err != nil {
			return err
		}
	}
	if p.FullName != nil {
		if err := field.Length("fullName", *p.FullName, 1, limits.MaxFullName); err != nil {
			return err
		}
	}
	if p.Birthday != nil {
		if err := field.Date("birthday", *p.Birthday, now.Now()); err != nil {
			return err
		}
	}
	if p.PreferredLocale != nil {
		if err := field.Length("preferredLocale", *p.PreferredLocale, 2, 35); err != nil {
			return err
		}
	}
	return nil
}

func (p *Params) apply(u *switchboard.User) {
	if p.Email != nil {
		u.Email = *p.Email
	}
	if p.EmailVerified != nil {
		u.EmailVerified = *p.EmailVerified
	}
	if p.FullName != nil {
		u.FullName = p.FullName
	}
	if p.Birthday != nil {
		u.Birthday = p.Birthday
	}
	if p.PreferredLocale != nil {
		u.PreferredLocale = *p.PreferredLocale
	}
}

func record(project string, u *stored) store.Resource {
	if u.DeletedAt != nil {
		// A deleted user's e-mail is free for a new user.
		return store.Resource{Kind: Kind, Project: project, ID: u.ID, Status: Deleted, Body: u}
	}
	return store.Resource{Kind: Kind, Project: project, ID: u.ID, Status: Active, Unique: strings.ToLower(u.Email), Body: u}
}

// emailTaken maps a duplicate e-mail to the API's conflict.
func emailTaken(err error, email string) error {
	if errors.Is(err, store.ErrDuplicate) {
		return failure.New(failure.Conflict, "userAlreadyExists", "A user with the e-mail %s exists already.", email)
	}
	return err
}

// Create creates a user.
func (s *Service) Create(ctx context.Context, project string, p Params) (*switchboard.User, error) {
	if p.Email == nil {
		return nil, field.Required("email")
	}
	if err := p.validate(s.Clock.For(project)); err != nil {
		return nil, err
	}
	u := &stored{User: switchboard.User{Object: "user", ID: id.New(id.User), PreferredLocale: DefaultLocale,
		CreatedAt: clock.Second(s.Clock.For(project).Now())}}
	p.apply(&u.User)
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		if err := tx.Put(ctx, record(project, u)); err != nil {
			return emailTaken(err, u.Email)
		}
		_, err := s.Events.Record(ctx, tx, project, eventlog.Change{Type: switchboard.TypeUserCreated, Resource: u.ID, Data: &u.User})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &u.User, nil
}

// Update changes the given fields of a user.
func (s *Service) Update(ctx context.Context, project, userID string, p Params) (*switchboard.User, error) {
	if err := p.validate(s.Clock.For(project)); err != nil {
		return nil, err
	}
	var u *stored
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		var err error
		if u, err = fetch(ctx, tx.GetForUpdate, project, userID, false); err != nil {
			return err
		}
		before := u.User
		p.apply(&u.User)
		if err := tx.Put(ctx, record(project, u)); err != nil {
			return emailTaken(err, u.Email)
		}
		_, err = s.Events.Record(ctx, tx, project,
			eventlog.Change{Type: switchboard.TypeUserUpdated, Resource: u.ID, Data: &u.User, Before: &before})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &u.User, nil
}

// Delete deletes a user: com.gigs.user.deleted carries the user as it was,
// then Hooks.Deleted ends the user's subscriptions and cancels their
// portings, all in one transaction. A deleted user is userNotFound.
func (s *Service) Delete(ctx context.Context, project, userID string) (*switchboard.User, error) {
	var u *stored
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		var err error
		if u, err = fetch(ctx, tx.GetForUpdate, project, userID, false); err != nil {
			return err
		}
		now := clock.Second(s.Clock.For(project).Now())
		u.DeletedAt = &now
		if err := tx.Put(ctx, record(project, u)); err != nil {
			return fmt.Errorf("user: delete: %w", err)
		}
		if _, err := s.Events.Record(ctx, tx, project,
			eventlog.Change{Type: switchboard.TypeUserDeleted, Resource: u.ID, Data: &u.User}); err != nil {
			return err
		}
		if s.Hooks.Deleted != nil {
			return s.Hooks.Deleted(ctx, tx, project, u.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &u.User, nil
}

// List returns a page of the project's users that exist, newest first.
func (s *Service) List(ctx context.Context, project string, page store.Page) ([]switchboard.User, store.Cursors, error) {
	var out []switchboard.User
	var cur store.Cursors
	err := s.Store.View(ctx, func(tx *store.Tx) error {
		items, c, err := tx.List(ctx, store.Query{Kind: Kind, Project: project, Status: Active, Page: page})
		if err != nil {
			return err
		}
		cur = c
		for _, b := range items {
			var u stored
			if err := json.Unmarshal(b, &u); err != nil {
				return fmt.Errorf("user: decode: %w", err)
			}
			out = append(out, normalize(&u).User)
		}
		return nil
	})
	return out, cur, err
}

// Get returns a user.
func (s *Service) Get(ctx context.Context, project, userID string) (*switchboard.User, error) {
	var u *switchboard.User
	err := s.Store.View(ctx, func(tx *store.Tx) (err error) {
		u, err = Load(ctx, tx, project, userID)
		return err
	})
	return u, err
}

// Load reads a user in tx without locking it, to refer to it; a missing
// or deleted one is the API's userNotFound.
func Load(ctx context.Context, tx *store.Tx, project, userID string) (*switchboard.User, error) {
	u, err := fetch(ctx, tx.Read, project, userID, false)
	if err != nil {
		return nil, err
	}
	return &u.User, nil
}

// LoadEmbedded reads a user in tx without locking it, to embed it in the
// resources that keep it after it was deleted (its subscriptions).
func LoadEmbedded(ctx context.Context, tx *store.Tx, project, userID string) (*switchboard.User, error) {
	u, err := fetch(ctx, tx.Read, project, userID, true)
	if err != nil {
		return nil, err
	}
	return &u.User, nil
}

func fetch(ctx context.Context, get func(ctx context.Context, kind, project, id string, v any) error, project, userID string, deleted bool) (*stored, error) {
	var u stored
	if err := get(ctx, Kind, project, userID, &u); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound(userID)
		}
		return nil, fmt.Errorf("user: %w", err)
	}
	if u.DeletedAt != nil && !deleted {
		return nil, notFound(userID)
	}
	return normalize(&u), nil
}

func notFound(userID string) error {
	return failure.New(failure.NotFound, "userNotFound", "The user %s was not found.", userID)
}

// normalize gives a user stored before preferredLocale had a default
// (migration 0016 fills stored ones in too) the default locale.
func normalize(u *stored) *stored {
	if u.PreferredLocale == "" {
		u.PreferredLocale = DefaultLocale
	}
	return u
}
