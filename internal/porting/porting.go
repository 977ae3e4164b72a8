package porting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/catalog"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/field"
	"github.com/switchboard-dev/switchboard/internal/id"
	"github.com/switchboard-dev/switchboard/internal/limits"
	"github.com/switchboard-dev/switchboard/internal/secret"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/user"
)

// Kind is the store kind of portings.
const Kind = "porting"

// Defaults of the porting timers.
const (
	// DefaultTimeout is how long an opened porting may take before it expires.
	DefaultTimeout = 30 * 24 * time.Hour
	// DraftTTL is how long a draft waits for a subscription before it is deleted.
	DraftTTL = 30 * 24 * time.Hour
)

// Hooks let the resources a porting serves react in the same transaction.
type Hooks struct {
	// Changed runs after every change of a porting that serves a
	// subscription (but its opening, which the subscription's creation
	// makes), with the porting before and after the change: the
	// subscription embeds it, so it records its own update, and a
	// completion activates it, a cancellation or expiry ends it.
	Changed func(ctx context.Context, tx *store.Tx, project string, before, after *switchboard.Porting) error
}

// Service runs portings.
type Service struct {
	Store  *store.Store
	Events *eventlog.Log
	Clock  clock.Source
	// Timeout is how long an opened porting may take; DefaultTimeout when 0.
	Timeout time.Duration
	Hooks   Hooks
	// Keys seals account PINs at rest; nil stores them in clear.
	Keys *secret.Keyring
}

// PinPurpose is the purpose account PINs are sealed for.
const PinPurpose = "accountPin"

// sealPin replaces a given account PIN by its sealed form, which is all
// that is stored: only whether a PIN exists is ever shown.
func (s *Service) sealPin(p *UpdateParams) {
	if p.AccountPin == nil || s.Keys == nil {
		return
	}
	sealed := s.Keys.Seal(PinPurpose, *p.AccountPin)
	p.AccountPin = &sealed
}

// UpdateParams are the porting details a customer may give or correct; nil
// means not given.
type UpdateParams struct {
	AccountNumber         *string              `json:"accountNumber"`
	AccountPin            *string              `json:"accountPin"`
	Address               *switchboard.Address `json:"address"`
	Birthday              *string              `json:"birthday"`
	DonorProvider         *string              `json:"donorProvider"`
	DonorProviderApproval *bool                `json:"donorProviderApproval"`
	FirstName             *string              `json:"firstName"`
	LastName              *string              `json:"lastName"`
}

// CreateParams are the fields of a new porting.
type CreateParams struct {
	PhoneNumber string `json:"phoneNumber"`
	User        string `json:"user"`
	// Provider is the recipient network provider (p1, p3, p9).
	Provider string `json:"provider"`
	UpdateParams
}

var (
	digits  = regexp.MustCompile(fmt.Sprintf(`^[0-9]{1,%d}$`, limits.MaxAccountPin))
	account = regexp.MustCompile(fmt.Sprintf(`^[A-Za-z0-9-]{1,%d}$`, limits.MaxAccountNumber))
	usZIP   = regexp.MustCompile(`^[0-9]{5}(-[0-9]{4})?$`)
)

func (p *UpdateParams) validate(now time.Time) error {
	if p.AccountNumber != nil && !account.MatchString(*p.AccountNumber) {
		return failure.New(failure.Invalid, "invalidAccountNumber", "The field accountNumber must be 1 to %d letters, digits or dashes.", limits.MaxAccountNumber)
	}
	if p.AccountPin != nil && !digits.MatchString(*p.AccountPin) {
		// The message never repeats the PIN.
		return failure.New(failure.Invalid, "invalidAccountPin", "The field accountPin must be 1 to %d digits.", limits.MaxAccountPin)
	}
	if a := p.Address; a != nil {
		for name, v := range map[string]string{"address.line1": a.Line1, "address.city": a.City, "address.postalCode": a.PostalCode, "address.country": a.Country} {
			if v == "" {
				return field.Required(name)
			}
		}
		lines := map[string]*string{"address.line1": &a.Line1, "address.line2": a.Line2, "address.city": &a.City,
			"address.postalCode": &a.PostalCode, "address.state": a.State}
		for name, v := range lines {
			if v != nil {
				if err := field.Length(name, *v, 0, limits.MaxAddressLine); err != nil {
					return err
				}
			}
		}
		if err := field.Country("address.country", a.Country); err != nil {
			return err
		}
		if a.Country == "US" && !usZIP.MatchString(a.PostalCode) {
			return failure.New(failure.Invalid, "invalidPostalCode", "The field address.postalCode must be a US ZIP code.")
		}
	}
	if p.Birthday != nil {
		if err := field.Date("birthday", *p.Birthday, now); err != nil {
			return err
		}
	}
	for name, v := range map[string]*string{"firstName": p.FirstName, "lastName": p.LastName} {
		if v != nil {
			if err := field.Length(name, *v, 1, limits.MaxPersonName); err != nil {
				return err
			}
		}
	}
	return nil
}

// apply writes the given details into the porting.
func (p *UpdateParams) apply(ctx context.Context, tx *store.Tx, r *record) error {
	if p.DonorProvider != nil {
		donor, err := catalog.DonorProvider(ctx, tx, *p.DonorProvider)
		if err != nil {
			return err
		}
		if !slices.Contains(donor.RecipientProviders, r.Provider) {
			return failure.New(failure.Invalid, "portingProviderNotSupported", "The donor provider %s does not port to %s.", donor.Name, r.Provider)
		}
		r.DonorProvider = &donor.ServiceProvider
		r.Required = requiredFields(donor)
	}
	if p.AccountNumber != nil {
		r.AccountNumber = p.AccountNumber
	}
	if p.AccountPin != nil {
		r.AccountPin, r.AccountPinExists = p.AccountPin, true
	}
	if p.Address != nil {
		r.Address = p.Address
	}
	if p.Birthday != nil {
		r.Birthday = p.Birthday
	}
	if p.DonorProviderApproval != nil {
		r.DonorProviderApproval = p.DonorProviderApproval
	}
	if p.FirstName != nil {
		r.FirstName = p.FirstName
	}
	if p.LastName != nil {
		r.LastName = p.LastName
	}
	return nil
}

// requiredFields are the fields the donor (or, before one is known, any
// donor) needs, in the platform's order.
func requiredFields(donor *catalog.Provider) []string {
	if donor == nil {
		return []string{catalog.FieldAccountNumber, catalog.FieldAccountPin, catalog.FieldDonorProvider,
			catalog.FieldFirstName, catalog.FieldLastName}
	}
	out := slices.Clone(donor.Required)
	slices.Sort(out)
	return out
}

func (s *Service) now(project string) time.Time { return clock.Second(s.Clock.For(project).Now()) }

// Create creates a draft porting after checking that it is eligible.
func (s *Service) Create(ctx context.Context, project string, p CreateParams) (*switchboard.Porting, error) {
	switch {
	case p.PhoneNumber == "":
		return nil, field.Required("phoneNumber")
	case p.User == "":
		return nil, field.Required("user")
	case p.Provider == "":
		return nil, field.Required("provider")
	}
	if err := field.PhoneNumber("phoneNumber", p.PhoneNumber); err != nil {
		return nil, err
	}
	now := s.now(project)
	if err := p.validate(now); err != nil {
		return nil, err
	}
	s.sealPin(&p.UpdateParams)
	r := &record{Porting: switchboard.Porting{
		Object: "porting", ID: id.New(id.Porting), PhoneNumber: p.PhoneNumber, Provider: p.Provider,
		User: p.User, Status: switchboard.PortingDraft, CreatedAt: now, Required: requiredFields(nil),
	}}
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		if _, err := user.Load(ctx, tx, project, p.User); err != nil {
			return err
		}
		recipient, err := catalog.RecipientProvider(ctx, tx, p.Provider)
		if err != nil {
			return err
		}
		r.RecipientProvider = recipient.ServiceProvider
		if err := p.apply(ctx, tx, r); err != nil {
			return err
		}
		if err := s.save(ctx, tx, project, r); err != nil {
			return err
		}
		_, err = s.Events.Record(ctx, tx, project, eventlog.Change{Type: switchboard.TypePortingCreated, Resource: r.ID, Data: &r.Porting})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r.Porting, nil
}

// save stores the porting with the columns its lists and timers need.
func (s *Service) save(ctx context.Context, tx *store.Tx, project string, r *record) error {
	res := store.Resource{Kind: Kind, Project: project, ID: r.ID, Status: r.Status, Owner: r.User,
		Ref: deref(r.Subscription), DueAt: s.due(r), Body: r}
	if r.open() {
		res.Unique = r.PhoneNumber // one open porting per number
	}
	if err := tx.Put(ctx, res); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return conflict("portingAlreadyExists", "A porting for %s is in progress already.", r.PhoneNumber)
		}
		return fmt.Errorf("porting: save: %w", err)
	}
	return nil
}

// due is when the porting's timer fires: a draft's clean-up, an opened
// porting's expiry.
func (s *Service) due(r *record) *time.Time {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	var t time.Time
	switch {
	case r.Status == switchboard.PortingDraft:
		t = r.CreatedAt.Add(DraftTTL)
	case r.open() && r.OpenedAt != nil:
		t = r.OpenedAt.Add(timeout)
	default:
		return nil
	}
	return &t
}

// getter reads a stored resource: store.Tx.Get (locking) or Read.
type getter func(ctx context.Context, kind, project, id string, v any) error

// load reads the porting a transaction is about to change, locked.
func load(ctx context.Context, tx *store.Tx, project, portingID string) (*record, error) {
	return fetch(ctx, tx.GetForUpdate, project, portingID)
}

func fetch(ctx context.Context, get getter, project, portingID string) (*record, error) {
	var r record
	if err := get(ctx, Kind, project, portingID, &r); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, failure.New(failure.NotFound, "portingNotFound", "The porting %s was not found.", portingID)
		}
		return nil, fmt.Errorf("porting: %w", err)
	}
	return &r, nil
}

// Lock locks the porting for the rest of tx (a missing one is no error):
// for a change of its subscription that may cancel it, taken before the
// subscription's lock, in the order a porting's own change takes them.
func (s *Service) Lock(ctx context.Context, tx *store.Tx, project, portingID string) error {
	var r record
	if err := tx.GetForUpdate(ctx, Kind, project, portingID, &r); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("porting: lock: %w", err)
	}
	return nil
}

// Load reads the porting in tx, without locking it (to embed it in a
// subscription, say).
func Load(ctx context.Context, tx *store.Tx, project, portingID string) (*switchboard.Porting, error) {
	r, err := fetch(ctx, tx.Read, project, portingID)
	if err != nil {
		return nil, err
	}
	return &r.Porting, nil
}

// Get returns a porting.
func (s *Service) Get(ctx context.Context, project, portingID string) (*switchboard.Porting, error) {
	var p *switchboard.Porting
	err := s.Store.View(ctx, func(tx *store.Tx) (err error) {
		p, err = Load(ctx, tx, project, portingID)
		return err
	})
	return p, err
}

// Filter selects portings to list.
type Filter struct {
	Status       string
	User         string
	Subscription string
	store.Page
}

// List returns a page of portings, newest first.
func (s *Service) List(ctx context.Context, project string, f Filter) ([]switchboard.Porting, store.Cursors, error) {
	var out []switchboard.Porting
	var cur store.Cursors
	err := s.Store.View(ctx, func(tx *store.Tx) error {
		items, c, err := tx.List(ctx, store.Query{Kind: Kind, Project: project, Status: f.Status, Owner: f.User, Ref: f.Subscription, Page: f.Page})
		if err != nil {
			return err
		}
		cur = c
		for _, b := range items {
			var r record
			if err := json.Unmarshal(b, &r); err != nil {
				return fmt.Errorf("porting: decode: %w", err)
			}
			out = append(out, r.Porting)
		}
		return nil
	})
	return out, cur, err
}

// transition loads a porting, changes it with fn, saves it and records its
// events: the event of the status it entered, if any (only when the status
// really changes), then the update with its previous data. Then, when
// notify is set, Hooks.Changed lets its subscription follow.
func (s *Service) transition(ctx context.Context, tx *store.Tx, project, portingID string, notify bool, fn func(r *record, now time.Time) error) (*record, error) {
	r, err := load(ctx, tx, project, portingID)
	if err != nil {
		return nil, err
	}
	before := r.Porting
	if err := fn(r, s.now(project)); err != nil {
		return nil, err
	}
	if err := s.save(ctx, tx, project, r); err != nil {
		return nil, err
	}
	var changes []eventlog.Change
	if typ, ok := statusEvent[r.Status]; ok && r.Status != before.Status {
		changes = append(changes, eventlog.Change{Type: typ, Resource: r.ID, Data: &r.Porting})
	}
	changes = append(changes, eventlog.Change{Type: switchboard.TypePortingUpdated, Resource: r.ID, Data: &r.Porting, Before: &before})
	if _, err := s.Events.Record(ctx, tx, project, changes...); err != nil {
		return nil, err
	}
	if notify && r.Subscription != nil && s.Hooks.Changed != nil {
		after := r.Porting
		err = s.Hooks.Changed(ctx, tx, project, &before, &after)
	}
	return r, err
}

// change runs a transition in its own transaction.
func (s *Service) change(ctx context.Context, project, portingID string, fn func(r *record, now time.Time) error) (*switchboard.Porting, error) {
	var r *record
	err := s.Store.Update(ctx, func(tx *store.Tx) (err error) {
		r, err = s.transition(ctx, tx, project, portingID, true, fn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r.Porting, nil
}

// Update gives or corrects a porting's details; an informationRequired or
// (curably) declined porting is retried.
func (s *Service) Update(ctx context.Context, project, portingID string, p UpdateParams) (*switchboard.Porting, error) {
	if err := p.validate(s.now(project)); err != nil {
		return nil, err
	}
	s.sealPin(&p)
	var r *record
	err := s.Store.Update(ctx, func(tx *store.Tx) (err error) {
		r, err = s.transition(ctx, tx, project, portingID, true, func(r *record, now time.Time) error {
			if err := r.updatable(); err != nil {
				return err
			}
			if err := p.apply(ctx, tx, r); err != nil {
				return err
			}
			r.retry()
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r.Porting, nil
}

// Cancel cancels a porting that has not been decided.
func (s *Service) Cancel(ctx context.Context, project, portingID string) (*switchboard.Porting, error) {
	return s.change(ctx, project, portingID, (*record).cancel)
}

// Delete deletes a draft porting.
func (s *Service) Delete(ctx context.Context, project, portingID string) (*switchboard.Porting, error) {
	var r *record
	err := s.Store.Update(ctx, func(tx *store.Tx) (err error) {
		r, err = s.delete(ctx, tx, project, portingID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r.Porting, nil
}

func (s *Service) delete(ctx context.Context, tx *store.Tx, project, portingID string) (*record, error) {
	r, err := load(ctx, tx, project, portingID)
	if err != nil {
		return nil, err
	}
	if err := r.deletable(); err != nil {
		return nil, err
	}
	if err := tx.Delete(ctx, Kind, project, portingID); err != nil {
		return nil, fmt.Errorf("porting: delete: %w", err)
	}
	_, err = s.Events.Record(ctx, tx, project, eventlog.Change{Type: switchboard.TypePortingDeleted, Resource: r.ID, Data: &r.Porting})
	return r, err
}

// Open takes a draft porting out of draft for the subscription: it becomes
// pending, or informationRequired while required fields are missing.
func (s *Service) Open(ctx context.Context, tx *store.Tx, project, portingID, userID, subscriptionID string) (*switchboard.Porting, error) {
	r, err := s.transition(ctx, tx, project, portingID, false, func(r *record, now time.Time) error {
		if r.User != userID {
			return failure.New(failure.Invalid, "portingUserMismatch", "The porting %s belongs to another user.", r.ID)
		}
		return r.take(subscriptionID, now)
	})
	if err != nil {
		return nil, err
	}
	return &r.Porting, nil
}

// Actions the network provider (or its simulator) performs.
const (
	ActionRequest            = "request"
	ActionDecline            = "decline"
	ActionRequireInformation = "requireInformation"
	ActionComplete           = "complete"
	ActionExpire             = "expire"
)

// Actions lists the provider's actions.
var Actions = []string{ActionRequest, ActionDecline, ActionRequireInformation, ActionComplete, ActionExpire}

// Act performs what the network provider would: request, decline (with a
// decline code), require information, complete, or expire the porting.
func (s *Service) Act(ctx context.Context, project, portingID, action, declinedCode string) (*switchboard.Porting, error) {
	if err := field.OneOf("action", action, Actions...); err != nil {
		return nil, err
	}
	if action == ActionDecline && declinedCode == "" {
		return nil, field.Required("declinedCode")
	}
	if action != ActionDecline && declinedCode != "" {
		return nil, failure.New(failure.Invalid, "invalidDeclinedCode", "The field declinedCode goes only with the action decline.")
	}
	return s.change(ctx, project, portingID, func(r *record, now time.Time) error {
		switch action {
		case ActionRequest:
			return r.request(now)
		case ActionDecline:
			return r.decline(declinedCode, now)
		case ActionRequireInformation:
			return r.requireInformation()
		case ActionComplete:
			return r.complete(now)
		}
		return r.expire(now)
	})
}

// Tick runs the porting's timer if it is due: a forgotten draft is deleted,
// an opened porting past its timeout expires. It does nothing otherwise, so
// that a timer seen by two processes fires once.
func (s *Service) Tick(ctx context.Context, tx *store.Tx, project, portingID string) error {
	r, err := load(ctx, tx, project, portingID)
	if err != nil {
		if failure.Is(err, failure.NotFound, "") {
			return nil
		}
		return err
	}
	due := s.due(r)
	if due == nil || due.After(s.Clock.For(project).Now()) {
		return nil
	}
	if r.Status == switchboard.PortingDraft {
		_, err = s.delete(ctx, tx, project, portingID)
		return err
	}
	_, err = s.transition(ctx, tx, project, portingID, true, (*record).expire)
	return err
}

// Close cancels the open porting of a subscription that ends for another
// reason (canceled while pending, its user deleted, a payment failed): a
// porting for a subscription that will never activate must not complete.
// It is the subscription's own change, so no hook runs; a porting that is
// no longer open (completed, canceled, expired) is left alone, and nil is
// returned for it.
func (s *Service) Close(ctx context.Context, tx *store.Tx, project, portingID string) (*switchboard.Porting, error) {
	r, err := load(ctx, tx, project, portingID)
	if err != nil {
		if failure.Is(err, failure.NotFound, "") {
			return nil, nil
		}
		return nil, err
	}
	if !r.open() || r.Status == switchboard.PortingDraft {
		return nil, nil
	}
	r, err = s.transition(ctx, tx, project, portingID, false, (*record).close)
	if err != nil {
		return nil, err
	}
	return &r.Porting, nil
}

// UserDeleted disposes of the portings of a deleted user that no
// subscription closed: drafts are deleted (a draft cannot be canceled, and
// no subscription can take it any more), open ones canceled. It runs after
// the user's subscriptions ended, which closed the portings they waited on.
func (s *Service) UserDeleted(ctx context.Context, tx *store.Tx, project, userID string) error {
	var ids []string
	after := ""
	for {
		items, cur, err := tx.List(ctx, store.Query{Kind: Kind, Project: project, Owner: userID, Page: store.Page{After: after, Limit: 200}})
		if err != nil {
			return fmt.Errorf("porting: list: %w", err)
		}
		for _, b := range items {
			var r record
			if err := json.Unmarshal(b, &r); err != nil {
				return fmt.Errorf("porting: decode: %w", err)
			}
			if r.open() {
				ids = append(ids, r.ID)
			}
		}
		if cur.MoreAfter == "" {
			break
		}
		after = cur.MoreAfter
	}
	slices.Reverse(ids) // oldest first, as they were made
	for _, portingID := range ids {
		r, err := load(ctx, tx, project, portingID)
		if err != nil {
			return err
		}
		if r.Status == switchboard.PortingDraft {
			_, err = s.delete(ctx, tx, project, portingID)
		} else {
			_, err = s.Close(ctx, tx, project, portingID)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
