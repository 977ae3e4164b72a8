// Package portout issues port-out credentials: the account number and PIN a
// customer needs to move a subscription's number to another carrier. The PIN
// is shown once, in the response that issues it; events carry null.
package portout

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/id"
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
	sum := sha256.Sum256([]byte(pin))
	r := &record{ID: id.New(id.PortOut), AccountNumber: randomDigits(9), PinHash: hex.EncodeToString(sum[:]),
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
		if err := s.expire(ctx, tx, project, &old); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) expire(ctx context.Context, tx *store.Tx, project string, r *record) error {
	r.Status = Expired
	if err := tx.Put(ctx, store.Resource{Kind: Kind, Project: project, ID: r.ID, Status: r.Status, Ref: r.Subscription, Body: r}); err != nil {
		return fmt.Errorf("portout: expire: %w", err)
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
	return s.expire(ctx, tx, project, &r)
}

func decode(b []byte, r *record) error {
	if err := json.Unmarshal(b, r); err != nil {
		return fmt.Errorf("portout: decode: %w", err)
	}
	return nil
}
