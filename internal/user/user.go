// Package user keeps the end users of a project: created, updated, each change
// recorded as its event.
package user

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/field"
	"github.com/switchboard-dev/switchboard/internal/id"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Kind is the store kind of users.
const Kind = "user"

// Service creates and changes users.
type Service struct {
	Store  *store.Store
	Events *eventlog.Log
	Clock  clock.Source
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
		if err := field.Length("fullName", *p.FullName, 1, 200); err != nil {
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
		u.PreferredLocale = p.PreferredLocale
	}
}

func record(project string, u *switchboard.User) store.Resource {
	return store.Resource{Kind: Kind, Project: project, ID: u.ID, Unique: strings.ToLower(u.Email), Body: u}
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
	u := &switchboard.User{Object: "user", ID: id.New(id.User), CreatedAt: clock.Second(s.Clock.For(project).Now())}
	p.apply(u)
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		if err := tx.Put(ctx, record(project, u)); err != nil {
			return emailTaken(err, u.Email)
		}
		_, err := s.Events.Record(ctx, tx, project, eventlog.Change{Type: switchboard.TypeUserCreated, Resource: u.ID, Data: u})
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// Update changes the given fields of a user.
func (s *Service) Update(ctx context.Context, project, userID string, p Params) (*switchboard.User, error) {
	if err := p.validate(s.Clock.For(project)); err != nil {
		return nil, err
	}
	var u *switchboard.User
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		var err error
		if u, err = fetch(ctx, tx.GetForUpdate, project, userID); err != nil {
			return err
		}
		before := *u
		p.apply(u)
		if err := tx.Put(ctx, record(project, u)); err != nil {
			return emailTaken(err, u.Email)
		}
		_, err = s.Events.Record(ctx, tx, project,
			eventlog.Change{Type: switchboard.TypeUserUpdated, Resource: u.ID, Data: u, Before: &before})
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
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

// Load reads a user in tx without locking it (to refer to it, or embed it);
// a missing one is the API's userNotFound.
func Load(ctx context.Context, tx *store.Tx, project, userID string) (*switchboard.User, error) {
	return fetch(ctx, tx.Read, project, userID)
}

func fetch(ctx context.Context, get func(ctx context.Context, kind, project, id string, v any) error, project, userID string) (*switchboard.User, error) {
	var u switchboard.User
	if err := get(ctx, Kind, project, userID, &u); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, failure.New(failure.NotFound, "userNotFound", "The user %s was not found.", userID)
		}
		return nil, fmt.Errorf("user: %w", err)
	}
	return &u, nil
}
