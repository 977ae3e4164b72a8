package endpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/id"
	"github.com/switchboard-dev/switchboard/internal/limits"
	projectpkg "github.com/switchboard-dev/switchboard/internal/project"
	"github.com/switchboard-dev/switchboard/internal/secret"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// DefaultSecretGrace is how long a rotated-out secret keeps signing.
const DefaultSecretGrace = 24 * time.Hour

// Service manages a project's webhook endpoints. Set Store and Clock.
type Service struct {
	Store *store.Store
	Clock clock.Clock
	// Notify, when set, is called after a change that made deliveries due
	// (an endpoint enabled again), to wake the dispatcher.
	Notify func()
	// SecretGrace is how long a rotated-out secret keeps signing;
	// DefaultSecretGrace when zero.
	SecretGrace time.Duration
	// RefusePrivate refuses URLs that name a private address literally.
	RefusePrivate bool
	// Keys seals the signing secrets at rest; nil stores them in clear.
	Keys *secret.Keyring
}

// Input creates an endpoint.
type Input struct {
	URL           string   `json:"url"`
	EnabledEvents []string `json:"enabledEvents"`
	Version       string   `json:"version"`
	Description   *string  `json:"description"`
	Ordered       bool     `json:"ordered"`
	RateLimit     *int     `json:"rateLimit"`
}

// Nullable is a field that a PATCH may set, clear (null) or leave alone
// (absent).
type Nullable[T any] struct {
	// Set reports whether the field was present.
	Set bool
	// Value is the new value; nil for null.
	Value *T
}

// UnmarshalJSON records that the field was present.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.Value = &v
	return nil
}

// Patch changes an endpoint; absent fields stay as they are.
type Patch struct {
	URL           *string          `json:"url"`
	EnabledEvents *[]string        `json:"enabledEvents"`
	Version       *string          `json:"version"`
	Status        *string          `json:"status"`
	Description   Nullable[string] `json:"description"`
	Ordered       *bool            `json:"ordered"`
	RateLimit     Nullable[int]    `json:"rateLimit"`
}

func (s *Service) grace() time.Duration {
	if s.SecretGrace > 0 {
		return s.SecretGrace
	}
	return DefaultSecretGrace
}

func (s *Service) notify(tx *store.Tx) {
	if s.Notify != nil {
		tx.AfterCommit(s.Notify)
	}
}

// ErrNotFound is the failure for an endpoint the project does not have.
func errNotFound(id string) error {
	return failure.New(failure.NotFound, "webhookEndpointNotFound", "The webhook endpoint %s was not found.", id)
}

// Create validates and stores a new endpoint, and returns it with its
// secret, which no later call shows.
func (s *Service) Create(ctx context.Context, project string, in Input) (Endpoint, string, error) {
	if in.EnabledEvents == nil {
		in.EnabledEvents = []string{"*"}
	}
	if in.Version == "" {
		in.Version = switchboard.LatestVersion
	}
	if err := errors.Join(ValidateURL(in.URL, s.RefusePrivate), ValidateEvents(in.EnabledEvents),
		ValidateVersion(in.Version), ValidateDescription(in.Description), ValidateRateLimit(in.RateLimit)); err != nil {
		return Endpoint{}, "", firstFailure(err)
	}
	now := clock.Second(s.Clock.Now())
	secret := NewSecret()
	e := Endpoint{
		ID: id.New(id.Endpoint), Project: project, URL: in.URL, EnabledEvents: in.EnabledEvents,
		Version: in.Version, Status: Enabled, Description: in.Description, Ordered: in.Ordered,
		RateLimit: in.RateLimit, Secrets: []Secret{{Value: s.seal(secret)}}, CreatedAt: now, UpdatedAt: now,
	}
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		// Lock the project's row, when it has one, so that concurrent
		// creations count one after the other (PostgreSQL; SQLite has one
		// writer anyway).
		var p json.RawMessage
		if err := tx.GetForUpdate(ctx, projectpkg.Kind, "", project, &p); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		items, _, err := tx.List(ctx, store.Query{Kind: Kind, Project: project, Page: store.Page{Limit: limits.MaxEndpointsPerProject}})
		if err != nil {
			return err
		}
		if len(items) >= limits.MaxEndpointsPerProject {
			return failure.New(failure.Invalid, "tooManyWebhookEndpoints",
				"A project may have at most %d webhook endpoints; delete one first.", limits.MaxEndpointsPerProject)
		}
		return tx.Put(ctx, e.Record())
	})
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("endpoint: create: %w", err)
	}
	return e, secret, nil
}

// firstFailure returns the first failure of a joined validation error, so
// that the caller sees one problem at a time, in field order.
func firstFailure(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			return e
		}
	}
	return err
}

// Get returns the project's endpoint.
func (s *Service) Get(ctx context.Context, project, endpointID string) (Endpoint, error) {
	var e Endpoint
	err := s.Store.View(ctx, func(tx *store.Tx) error { return tx.GetForUpdate(ctx, Kind, project, endpointID, &e) })
	if errors.Is(err, store.ErrNotFound) {
		return Endpoint{}, errNotFound(endpointID)
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("endpoint: get: %w", err)
	}
	return e, nil
}

// List returns a page of the project's endpoints, newest first.
func (s *Service) List(ctx context.Context, project string, p store.Page) ([]Endpoint, store.Cursors, error) {
	var out []Endpoint
	var cur store.Cursors
	err := s.Store.View(ctx, func(tx *store.Tx) error {
		items, c, err := tx.List(ctx, store.Query{Kind: Kind, Project: project, Page: p})
		if err != nil {
			return err
		}
		cur = c
		out = make([]Endpoint, len(items))
		for i, b := range items {
			if err := json.Unmarshal(b, &out[i]); err != nil {
				return fmt.Errorf("decode: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, store.Cursors{}, fmt.Errorf("endpoint: list: %w", err)
	}
	return out, cur, nil
}

// Update applies a patch. Disabling pauses the endpoint's pending
// deliveries; enabling resumes them, due at once. Changing ordered applies
// to the pending deliveries too.
func (s *Service) Update(ctx context.Context, project, endpointID string, p Patch) (Endpoint, error) {
	if err := s.validatePatch(p); err != nil {
		return Endpoint{}, err
	}
	var e Endpoint
	err := s.modify(ctx, project, endpointID, func(tx *store.Tx, ep *Endpoint, now time.Time) error {
		if p.URL != nil {
			ep.URL = *p.URL
		}
		if p.EnabledEvents != nil {
			ep.EnabledEvents = *p.EnabledEvents
		}
		if p.Version != nil {
			ep.Version = *p.Version
		}
		if p.Description.Set {
			ep.Description = p.Description.Value
		}
		if p.RateLimit.Set {
			ep.RateLimit = p.RateLimit.Value
		}
		if p.Ordered != nil && *p.Ordered != ep.Ordered {
			ep.Ordered = *p.Ordered
			if err := tx.OrderDeliveries(ctx, ep.ID, ep.Ordered); err != nil {
				return err
			}
		}
		if p.Status != nil && *p.Status != ep.Status {
			var err error
			if *p.Status == Enabled {
				err = s.enable(ctx, tx, ep, now)
			} else {
				err = Disable(ctx, tx, ep, "", now)
			}
			if err != nil {
				return err
			}
		}
		e = *ep
		return nil
	})
	return e, err
}

func (s *Service) validatePatch(p Patch) error {
	var errs []error
	if p.URL != nil {
		errs = append(errs, ValidateURL(*p.URL, s.RefusePrivate))
	}
	if p.EnabledEvents != nil {
		errs = append(errs, ValidateEvents(*p.EnabledEvents))
	}
	if p.Version != nil {
		errs = append(errs, ValidateVersion(*p.Version))
	}
	if p.Status != nil && *p.Status != Enabled && *p.Status != Disabled {
		errs = append(errs, invalid("invalidStatus", "The field status must be %s or %s.", Enabled, Disabled))
	}
	errs = append(errs, ValidateDescription(p.Description.Value), ValidateRateLimit(p.RateLimit.Value))
	if err := errors.Join(errs...); err != nil {
		return firstFailure(err)
	}
	return nil
}

// enable turns a disabled endpoint on and resumes its deliveries.
func (s *Service) enable(ctx context.Context, tx *store.Tx, e *Endpoint, now time.Time) error {
	e.Status, e.FailingSince, e.DisabledReason, e.ResumedAt = Enabled, nil, nil, &now
	if err := tx.ResumeDeliveries(ctx, e.ID, now); err != nil {
		return err
	}
	s.notify(tx)
	return nil
}

// Disable turns the endpoint off in tx and pauses its pending deliveries;
// reason says why when the platform did it ("" when the customer did).
func Disable(ctx context.Context, tx *store.Tx, e *Endpoint, reason string, now time.Time) error {
	e.Status, e.UpdatedAt = Disabled, clock.Second(now)
	e.DisabledReason = nil
	if reason != "" {
		e.DisabledReason = &reason
	}
	if err := tx.PauseDeliveries(ctx, e.ID); err != nil {
		return fmt.Errorf("endpoint: disable %s: %w", e.ID, err)
	}
	if err := tx.Put(ctx, e.Record()); err != nil {
		return fmt.Errorf("endpoint: disable %s: %w", e.ID, err)
	}
	return nil
}

// Delete removes the endpoint with its deliveries and their attempts.
func (s *Service) Delete(ctx context.Context, project, endpointID string) error {
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		if err := tx.Delete(ctx, Kind, project, endpointID); err != nil {
			return err
		}
		return tx.DeleteDeliveries(ctx, endpointID)
	})
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound(endpointID)
	}
	if err != nil {
		return fmt.Errorf("endpoint: delete: %w", err)
	}
	return nil
}

// RotateSecret gives the endpoint a new secret and returns it; the old one
// keeps signing for the grace period. Secrets whose grace has ended are
// dropped.
func (s *Service) RotateSecret(ctx context.Context, project, endpointID string) (Endpoint, string, error) {
	secret := NewSecret()
	var e Endpoint
	err := s.modify(ctx, project, endpointID, func(tx *store.Tx, ep *Endpoint, now time.Time) error {
		expires := s.Clock.Now().Add(s.grace())
		kept := []Secret{{Value: s.seal(secret)}}
		for _, old := range ep.Secrets {
			if old.ExpiresAt == nil {
				old.ExpiresAt = &expires
			}
			if now.Before(*old.ExpiresAt) {
				kept = append(kept, old)
			}
		}
		if len(kept) > limits.MaxEndpointSecrets {
			oldest := *kept[len(kept)-1].ExpiresAt
			for _, k := range kept[1:] {
				if k.ExpiresAt.Before(oldest) {
					oldest = *k.ExpiresAt
				}
			}
			return failure.New(failure.Conflict, "tooManySecrets",
				"An endpoint holds at most %d signing secrets at once, rotated-out ones in their grace period included; "+
					"the oldest stops signing at %s.", limits.MaxEndpointSecrets, clock.Second(oldest).Format(time.RFC3339))
		}
		ep.Secrets = kept
		e = *ep
		return nil
	})
	if err != nil {
		return Endpoint{}, "", err
	}
	return e, secret, nil
}

// modify loads the endpoint for update, lets fn change it, and stores it.
func (s *Service) modify(ctx context.Context, project, endpointID string, fn func(*store.Tx, *Endpoint, time.Time) error) error {
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		var e Endpoint
		if err := tx.GetForUpdate(ctx, Kind, project, endpointID, &e); err != nil {
			return err
		}
		now := s.Clock.Now()
		if err := fn(tx, &e, now); err != nil {
			return err
		}
		e.UpdatedAt = clock.Second(now)
		return tx.Put(ctx, e.Record())
	})
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound(endpointID)
	}
	if err != nil {
		return fmt.Errorf("endpoint: update: %w", err)
	}
	return nil
}
