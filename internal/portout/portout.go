package portout

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/field"
	"github.com/switchboard-dev/switchboard/internal/id"
	"github.com/switchboard-dev/switchboard/internal/secret"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/subscription"
)

// Kind is the store kind of port-out credentials.
const Kind = "portOutCredentials"

// DefaultLifetime is how long credentials stay valid when no lifetime is set.
const DefaultLifetime = 30 * 24 * time.Hour

// Statuses of stored credentials.
const (
	Valid   = "valid"
	Expired = "expired"
	// Replaced credentials were superseded by newer ones.
	Replaced = "replaced"
	// Used credentials ported the number out.
	Used = "used"
)

// record is credentials as stored: the PIN only as a hash.
type record struct {
	ID            string    `json:"id"`
	AccountNumber string    `json:"accountNumber"`
	PinHash       string    `json:"pinHash"`
	Subscription  string    `json:"subscription"`
	Status        string    `json:"status"`
	ExpiresAt     time.Time `json:"expiresAt"`
	CreatedAt     time.Time `json:"createdAt"`
}

// Service issues credentials.
type Service struct {
	Store         *store.Store
	Events        *eventlog.Log
	Clock         clock.Source
	Subscriptions *subscription.Service
	// Lifetime of issued credentials; DefaultLifetime when 0.
	Lifetime time.Duration
	// Keys keys the PIN's hash; nil hashes it with unkeyed SHA-256, which a
	// six-digit PIN does not survive.
	Keys *secret.Keyring
}

// PinPurpose is the purpose port-out PINs are hashed for.
const PinPurpose = "portOutPin"

// matches reports whether stored is the hash of pin: keyed under any key of
// the keyring, or unkeyed as stored before hashes were keyed.
func (s *Service) matches(stored, pin string) bool {
	if s.Keys != nil && strings.HasPrefix(stored, secret.HashPrefix) {
		return s.Keys.Verify(PinPurpose, stored, pin)
	}
	sum := sha256.Sum256([]byte(pin))
	return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(stored)) == 1
}

// hash returns the PIN's hash as stored.
func (s *Service) hash(pin string) string {
	if s.Keys != nil {
		return s.Keys.Hash(PinPurpose, pin)
	}
	sum := sha256.Sum256([]byte(pin))
	return hex.EncodeToString(sum[:])
}

func randomDigits(n int) string {
	out := make([]byte, n)
	for i := range out {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			panic("portout: no randomness: " + err.Error())
		}
		out[i] = byte('0' + d.Int64())
	}
	return string(out)
}

// Issue issues new credentials for an active subscription, replacing any
// earlier ones. The result is the only place the PIN is ever shown.
func (s *Service) Issue(ctx context.Context, project, subID string) (*switchboard.PortOutCredentials, error) {
	lifetime := s.Lifetime
	if lifetime == 0 {
		lifetime = DefaultLifetime
	}
	now := clock.Second(s.Clock.For(project).Now())
	pin := randomDigits(6)
	r := &record{ID: id.New(id.PortOut), AccountNumber: randomDigits(9), PinHash: s.hash(pin),
		Subscription: subID, Status: Valid, ExpiresAt: now.Add(lifetime), CreatedAt: now}
	creds := &switchboard.PortOutCredentials{Object: "portOutCredentials", AccountNumber: r.AccountNumber,
		Subscription: subID, ExpiresAt: r.ExpiresAt}
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		sub, err := s.Subscriptions.Load(ctx, tx, project, subID)
		if err != nil {
			return err
		}
		if sub.Status != switchboard.SubscriptionActive {
			return failure.New(failure.Conflict, "subscriptionNotActive", "Port-out credentials are issued only for an active subscription; this one is %s.", sub.Status)
		}
		if err := s.expireEarlier(ctx, tx, project, subID); err != nil {
			return err
		}
		if err := tx.Put(ctx, store.Resource{Kind: Kind, Project: project, ID: r.ID, Status: r.Status, Ref: subID,
			DueAt: &r.ExpiresAt, Body: r}); err != nil {
			return fmt.Errorf("portout: save: %w", err)
		}
		// The event carries no PIN: creds.AccountPin is still nil here.
		_, err = s.Events.Record(ctx, tx, project, eventlog.Change{Type: switchboard.TypePortOutCredentialsIssued, Resource: subID, Data: creds})
		return err
	})
	if err != nil {
		return nil, err
	}
	shown := *creds
	shown.AccountPin = &pin
	return &shown, nil
}

// expireEarlier invalidates the subscription's earlier valid credentials.
func (s *Service) expireEarlier(ctx context.Context, tx *store.Tx, project, subID string) error {
	items, _, err := tx.List(ctx, store.Query{Kind: Kind, Project: project, Status: Valid, Ref: subID, Page: store.Page{Limit: 200}})
	if err != nil {
		return fmt.Errorf("portout: list: %w", err)
	}
	for _, b := range items {
		var old record
		if err := decode(b, &old); err != nil {
			return err
		}
		if err := s.setStatus(ctx, tx, project, &old, Replaced); err != nil {
			return err
		}
	}
	return nil
}

// setStatus voids credentials (expired, replaced, used); no event tells it.
func (s *Service) setStatus(ctx context.Context, tx *store.Tx, project string, r *record, status string) error {
	r.Status = status
	if err := tx.Put(ctx, store.Resource{Kind: Kind, Project: project, ID: r.ID, Status: r.Status, Ref: r.Subscription, Body: r}); err != nil {
		return fmt.Errorf("portout: mark %s: %w", status, err)
	}
	return nil
}

// Tick expires credentials whose lifetime has passed.
func (s *Service) Tick(ctx context.Context, tx *store.Tx, project, credID string) error {
	var r record
	if err := tx.GetForUpdate(ctx, Kind, project, credID, &r); err != nil {
		return fmt.Errorf("portout: %w", err)
	}
	if r.Status != Valid || r.ExpiresAt.After(s.Clock.For(project).Now()) {
		return nil
	}
	return s.setStatus(ctx, tx, project, &r, Expired)
}

// PortOut completes a port-out of the subscription's number to another
// carrier, as the simulator of the network provider (test projects only):
// the subscription's valid, unexpired credentials must exist and the
// account PIN must match their stored hash. Then the credentials are used
// up and the subscription ends with cause phoneNumberPortedOut, in one
// transaction with its events. A wrong PIN is declined and changes nothing;
// no error message or log line ever shows the PIN.
func (s *Service) PortOut(ctx context.Context, project, subID, accountPin string) (*switchboard.Subscription, error) {
	if accountPin == "" {
		return nil, field.Required("accountPin")
	}
	if !pinPattern.MatchString(accountPin) {
		return nil, failure.New(failure.Invalid, "invalidAccountPin", "The field accountPin must be 1 to 20 digits.")
	}
	var view *switchboard.Subscription
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		r, err := s.current(ctx, tx, project, subID)
		if err != nil {
			return err
		}
		if !s.matches(r.PinHash, accountPin) {
			return failure.New(failure.Invalid, "portingAccountPinRequiredOrInvalid",
				"The account PIN does not match the subscription's port-out credentials; the port-out is declined.")
		}
		if err := s.setStatus(ctx, tx, project, r, Used); err != nil {
			return err
		}
		view, err = s.Subscriptions.EndPortedOut(ctx, tx, project, subID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return view, nil
}

var pinPattern = regexp.MustCompile(`^[0-9]{1,20}$`)

// current returns the subscription's newest credentials, locked, if they
// are valid and unexpired: expired ones (by their timer, or past expiresAt
// before it fired) are portOutCredentialsExpired; none, or used ones, are
// portOutCredentialsNotFound. IDs sort by time, so the newest is first.
func (s *Service) current(ctx context.Context, tx *store.Tx, project, subID string) (*record, error) {
	if _, err := s.Subscriptions.Load(ctx, tx, project, subID); err != nil {
		return nil, err
	}
	items, _, err := tx.List(ctx, store.Query{Kind: Kind, Project: project, Ref: subID, Page: store.Page{Limit: 1}})
	if err != nil {
		return nil, fmt.Errorf("portout: list: %w", err)
	}
	notFound := failure.New(failure.Conflict, "portOutCredentialsNotFound",
		"The subscription has no valid port-out credentials; issue them first.")
	if len(items) == 0 {
		return nil, notFound
	}
	var listed record
	if err := decode(items[0], &listed); err != nil {
		return nil, err
	}
	var r record
	if err := tx.GetForUpdate(ctx, Kind, project, listed.ID, &r); err != nil {
		return nil, fmt.Errorf("portout: %w", err)
	}
	switch {
	case r.Status == Expired || r.Status == Valid && !r.ExpiresAt.After(s.Clock.For(project).Now()):
		return nil, failure.New(failure.Conflict, "portOutCredentialsExpired",
			"The subscription's port-out credentials expired at %s; issue new ones.", r.ExpiresAt.Format(time.RFC3339))
	case r.Status != Valid:
		return nil, notFound
	}
	return &r, nil
}

func decode(b []byte, r *record) error {
	if err := json.Unmarshal(b, r); err != nil {
		return fmt.Errorf("portout: decode: %w", err)
	}
	return nil
}
