package subscription

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/catalog"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/field"
	"github.com/switchboard-dev/switchboard/internal/id"
	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/user"
)

// Kind is the store kind of subscriptions.
const Kind = "subscription"

// record is a subscription as stored: the embedded objects by reference.
type record struct {
	ID                  string                           `json:"id"`
	CancellationDetails *switchboard.CancellationDetails `json:"cancellationDetails"`
	CurrentPeriod       *switchboard.Period              `json:"currentPeriod"`
	PhoneNumber         *string                          `json:"phoneNumber"`
	Plan                string                           `json:"plan"`
	Porting             *string                          `json:"porting"`
	Sim                 *string                          `json:"sim"`
	Status              string                           `json:"status"`
	User                string                           `json:"user"`
	ActivatedAt         *time.Time                       `json:"activatedAt"`
	CanceledAt          *time.Time                       `json:"canceledAt"`
	CreatedAt           time.Time                        `json:"createdAt"`
	EarliestEndAt       *time.Time                       `json:"earliestEndAt"`
	EndedAt             *time.Time                       `json:"endedAt"`
	FirstUsageAt        *time.Time                       `json:"firstUsageAt"`
}

// Service runs subscriptions.
type Service struct {
	Store  *store.Store
	Events *eventlog.Log
	Clock  clock.Source
	// Portings is the porting service this one drives and is driven by;
	// New sets it.
	Portings *porting.Service
	// Numbers assigns a phone number to a subscription without a porting;
	// RandomNumber when nil.
	Numbers func() string
}

// New returns the subscription service s with its porting service p: each
// needs the other, so they are built together. A subscription opens its
// porting (p); every change of the porting it embeds updates it, and the
// porting's completion activates it, an end (cancel, expiry) ends it (p's
// Hooks, set here). s.Portings and p.Hooks are ignored; p is s.Portings
// once built.
func New(s Service, p porting.Service) *Service {
	subs := &s
	p.Hooks = porting.Hooks{Changed: subs.portingChanged}
	subs.Portings = &p
	return subs
}

func (s *Service) now(project string) time.Time { return clock.Second(s.Clock.For(project).Now()) }

// CreateParams are the fields of a new subscription.
type CreateParams struct {
	User    string  `json:"user"`
	Plan    string  `json:"plan"`
	Porting *string `json:"porting"`
	Sim     *string `json:"sim"`
}

// Create creates a subscription. With a porting, it waits for the porting to
// complete; without one it is activated at once with a new number.
func (s *Service) Create(ctx context.Context, project string, p CreateParams) (*switchboard.Subscription, error) {
	switch {
	case p.User == "":
		return nil, field.Required("user")
	case p.Plan == "":
		return nil, field.Required("plan")
	}
	var view *switchboard.Subscription
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		now := s.now(project)
		if _, err := user.Load(ctx, tx, project, p.User); err != nil {
			return err
		}
		plan, err := catalog.LoadPlan(ctx, tx, project, p.Plan)
		if err != nil {
			return err
		}
		r := &record{ID: id.New(id.Subscription), Plan: plan.ID, User: p.User, CreatedAt: now}
		if err := r.move(switchboard.SubscriptionPending, OnCreate); err != nil {
			return err
		}
		sim, err := s.sim(ctx, tx, project, p.Sim, plan, now)
		if err != nil {
			return err
		}
		r.Sim = &sim.ID
		if p.Porting != nil {
			prt, err := s.Portings.Open(ctx, tx, project, *p.Porting, p.User, r.ID)
			if err != nil {
				return err
			}
			r.Porting, r.PhoneNumber = &prt.ID, &prt.PhoneNumber
		}
		if err := s.save(ctx, tx, project, r); err != nil {
			return err
		}
		if view, err = s.view(ctx, tx, project, r); err != nil {
			return err
		}
		if _, err := s.Events.Record(ctx, tx, project, eventlog.Change{Type: switchboard.TypeSubscriptionCreated, Resource: r.ID, Data: view}); err != nil {
			return err
		}
		if p.Porting == nil {
			number := RandomNumber
			if s.Numbers != nil {
				number = s.Numbers
			}
			view, err = s.change(ctx, tx, project, r, func(r *record) ([]string, error) {
				return s.activate(ctx, tx, project, r, number(), now)
			})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return view, nil
}

// sim returns the SIM the subscription runs on: the given one, which must be
// inactive, or a newly provisioned eSIM.
func (s *Service) sim(ctx context.Context, tx *store.Tx, project string, simID *string, plan *switchboard.Plan, now time.Time) (*switchboard.Sim, error) {
	if simID == nil {
		sim := catalog.NewESIM(plan.Provider, now)
		return sim, catalog.PutSim(ctx, tx, project, sim)
	}
	sim, err := catalog.LoadSim(ctx, tx, project, *simID)
	if err != nil {
		return nil, err
	}
	if sim.Status != catalog.SimInactive {
		return nil, failure.New(failure.Conflict, "simNotAvailable", "The SIM %s is %s, not available.", sim.ID, sim.Status)
	}
	return sim, nil
}

func (s *Service) save(ctx context.Context, tx *store.Tx, project string, r *record) error {
	res := store.Resource{Kind: Kind, Project: project, ID: r.ID, Status: r.Status, Owner: r.User, Ref: deref(r.Porting), Body: r}
	if r.Status == switchboard.SubscriptionActive && r.CurrentPeriod != nil {
		due := r.CurrentPeriod.End
		if r.EndedAt != nil && r.EndedAt.Before(due) {
			due = *r.EndedAt
		}
		res.DueAt = &due
	}
	if err := tx.Put(ctx, res); err != nil {
		return fmt.Errorf("subscription: save: %w", err)
	}
	return nil
}

func load(ctx context.Context, tx *store.Tx, project, subID string) (*record, error) {
	var r record
	if err := tx.GetForUpdate(ctx, Kind, project, subID, &r); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, failure.New(failure.NotFound, "subscriptionNotFound", "The subscription %s was not found.", subID)
		}
		return nil, fmt.Errorf("subscription: %w", err)
	}
	return &r, nil
}

// loadForEnd locks a subscription that may end, and first the porting it
// may still wait on: ending cancels that porting, and a porting's change
// locks the porting, then its subscription. Taking them in the same order
// keeps the two from deadlocking on PostgreSQL (the store would retry, but
// need not).
func (s *Service) loadForEnd(ctx context.Context, tx *store.Tx, project, subID string) (*record, error) {
	var peek record
	if err := tx.Read(ctx, Kind, project, subID, &peek); err == nil && peek.Porting != nil &&
		peek.Status == switchboard.SubscriptionPending {
		if err := s.Portings.Lock(ctx, tx, project, *peek.Porting); err != nil {
			return nil, err
		}
	}
	return load(ctx, tx, project, subID)
}

// view assembles the wire subscription with its objects embedded whole.
func (s *Service) view(ctx context.Context, tx *store.Tx, project string, r *record) (*switchboard.Subscription, error) {
	v := &switchboard.Subscription{
		Object: "subscription", ID: r.ID, CancellationDetails: r.CancellationDetails, CurrentPeriod: r.CurrentPeriod,
		PhoneNumber: r.PhoneNumber, Status: r.Status, ActivatedAt: r.ActivatedAt, CanceledAt: r.CanceledAt,
		CreatedAt: r.CreatedAt, EarliestEndAt: r.EarliestEndAt, EndedAt: r.EndedAt, FirstUsageAt: r.FirstUsageAt,
	}
	// What the view embeds, in one read where each read is a round trip.
	keys := []store.Key{{Kind: catalog.PlanKind, Project: project, ID: r.Plan}, {Kind: user.Kind, Project: project, ID: r.User}}
	if r.Porting != nil {
		keys = append(keys, store.Key{Kind: porting.Kind, Project: project, ID: *r.Porting})
	}
	if r.Sim != nil {
		keys = append(keys, store.Key{Kind: catalog.SimKind, Project: project, ID: *r.Sim})
	}
	if err := tx.Prefetch(ctx, keys...); err != nil {
		return nil, fmt.Errorf("subscription: %w", err)
	}
	plan, err := catalog.LoadPlan(ctx, tx, project, r.Plan)
	if err != nil {
		return nil, err
	}
	v.Plan = *plan
	u, err := user.LoadEmbedded(ctx, tx, project, r.User)
	if err != nil {
		return nil, err
	}
	v.User = *u
	if r.Porting != nil {
		if v.Porting, err = porting.Load(ctx, tx, project, *r.Porting); err != nil && !failure.Is(err, failure.NotFound, "") {
			return nil, err
		}
	}
	if r.Sim != nil {
		if v.Sim, err = catalog.LoadSim(ctx, tx, project, *r.Sim); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// change applies fn to the subscription, saves it, and records the events
// fn names followed by the update with its previous data.
func (s *Service) change(ctx context.Context, tx *store.Tx, project string, r *record, fn func(*record) ([]string, error)) (*switchboard.Subscription, error) {
	before, err := s.view(ctx, tx, project, r)
	if err != nil {
		return nil, err
	}
	return s.changeFrom(ctx, tx, project, r, before, fn)
}

// changeFrom is change from a given "before" view: fn (nil when only an
// embedded object changed) changes the subscription, which is saved; its
// events follow, then the update with the previous data, then the events
// of its SIM if fn changed the SIM's status (com.gigs.sim.retired when it
// retired, and com.gigs.sim.updated with the SIM's previous data).
//
// The SIM events follow the public record, checked for this change: the
// platform's event schema pages list com.gigs.sim.updated (with
// previousData) and com.gigs.sim.retired (in 2024-10-28 and 2024-12-20),
// and no com.gigs.sim.activated, so an activation emits only sim.updated.
// The pages say nothing of their order beside the subscription's events:
// we choose the subscription's first (it caused the change), and a
// status event before its *.updated, as portings do.
func (s *Service) changeFrom(ctx context.Context, tx *store.Tx, project string, r *record, before *switchboard.Subscription, fn func(*record) ([]string, error)) (*switchboard.Subscription, error) {
	var types []string
	if fn != nil {
		var err error
		if types, err = fn(r); err != nil {
			return nil, err
		}
		if err := s.save(ctx, tx, project, r); err != nil {
			return nil, err
		}
	}
	after, err := s.view(ctx, tx, project, r)
	if err != nil {
		return nil, err
	}
	var changes []eventlog.Change
	for _, t := range types {
		changes = append(changes, eventlog.Change{Type: t, Resource: r.ID, Data: after})
	}
	changes = append(changes, eventlog.Change{Type: switchboard.TypeSubscriptionUpdated, Resource: r.ID, Data: after, Before: before})
	if b, a := before.Sim, after.Sim; b != nil && a != nil && b.ID == a.ID && b.Status != a.Status {
		if a.Status == catalog.SimRetired {
			changes = append(changes, eventlog.Change{Type: switchboard.TypeSimRetired, Resource: a.ID, Data: a})
		}
		changes = append(changes, eventlog.Change{Type: switchboard.TypeSimUpdated, Resource: a.ID, Data: a, Before: b})
	}
	_, err = s.Events.Record(ctx, tx, project, changes...)
	return after, err
}

// Get returns a subscription.
func (s *Service) Get(ctx context.Context, project, subID string) (*switchboard.Subscription, error) {
	var v *switchboard.Subscription
	err := s.Store.View(ctx, func(tx *store.Tx) error {
		r, err := load(ctx, tx, project, subID)
		if err != nil {
			return err
		}
		v, err = s.view(ctx, tx, project, r)
		return err
	})
	return v, err
}

// Filter selects subscriptions to list.
type Filter struct {
	Status string
	User   string
	store.Page
}

// List returns a page of subscriptions, newest first.
func (s *Service) List(ctx context.Context, project string, f Filter) ([]*switchboard.Subscription, store.Cursors, error) {
	var out []*switchboard.Subscription
	var cur store.Cursors
	err := s.Store.View(ctx, func(tx *store.Tx) error {
		items, c, err := tx.List(ctx, store.Query{Kind: Kind, Project: project, Status: f.Status, Owner: f.User, Page: f.Page})
		if err != nil {
			return err
		}
		cur = c
		for _, b := range items {
			var r record
			if err := json.Unmarshal(b, &r); err != nil {
				return fmt.Errorf("subscription: decode: %w", err)
			}
			v, err := s.view(ctx, tx, project, &r)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, cur, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Load reads the wire subscription in tx.
func (s *Service) Load(ctx context.Context, tx *store.Tx, project, subID string) (*switchboard.Subscription, error) {
	r, err := load(ctx, tx, project, subID)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, tx, project, r)
}
