package subscription

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/catalog"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/field"
	"github.com/switchboard-dev/switchboard/internal/limits"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// addPeriods returns t plus n periods of the plan's validity. Months are
// calendar months, clamped to the month's last day (a period that starts on
// January 31st ends on February 28th or 29th), and always counted from t,
// the subscription's activation, so that periods do not drift.
func addPeriods(t time.Time, v switchboard.Validity, n int) time.Time {
	if v.Unit != switchboard.UnitMonth {
		return t.AddDate(0, 0, v.Value*n)
	}
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(v.Value*n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// activate starts the first period with the phone number and the SIM.
func (s *Service) activate(ctx context.Context, tx *store.Tx, project string, r *record, phone string, now time.Time) ([]string, error) {
	if r.Status != switchboard.SubscriptionPending {
		return nil, failure.New(failure.Conflict, "subscriptionNotActivatable", "A subscription in status %s cannot be activated.", r.Status)
	}
	plan, err := catalog.LoadPlan(ctx, tx, project, r.Plan)
	if err != nil {
		return nil, err
	}
	end := addPeriods(now, plan.Validity, 1)
	earliest := addPeriods(now, plan.Validity, max(plan.Validity.MinimumPeriods, 1))
	if err := r.move(switchboard.SubscriptionActive, OnActivate); err != nil {
		return nil, err
	}
	r.ActivatedAt, r.PhoneNumber, r.EarliestEndAt = &now, &phone, &earliest
	r.CurrentPeriod = &switchboard.Period{Number: 1, Start: now, End: end}
	if err := s.setSim(ctx, tx, project, r, catalog.SimActive); err != nil {
		return nil, err
	}
	return []string{switchboard.TypeSubscriptionActivated}, nil
}

func (s *Service) setSim(ctx context.Context, tx *store.Tx, project string, r *record, status string) error {
	if r.Sim == nil {
		return nil
	}
	sim, err := catalog.LoadSim(ctx, tx, project, *r.Sim)
	if err != nil {
		return err
	}
	sim.Status = status
	return catalog.PutSim(ctx, tx, project, sim)
}

// end ends the subscription at the given time by the operation on, for the
// given cause unless a cancellation already named one. A porting it still
// waited on is canceled: the number can no longer come to a subscription
// that ended.
func (s *Service) end(ctx context.Context, tx *store.Tx, project string, r *record, at time.Time, on, cause string) error {
	if err := r.move(switchboard.SubscriptionEnded, on); err != nil {
		return err
	}
	r.EndedAt, r.CurrentPeriod = &at, nil
	if r.CancellationDetails == nil {
		r.CancellationDetails = &switchboard.CancellationDetails{Cause: cause}
	}
	if r.CanceledAt == nil {
		r.CanceledAt = &at
	}
	if r.Porting != nil {
		if _, err := s.Portings.Close(ctx, tx, project, *r.Porting); err != nil {
			return err
		}
	}
	return s.setSim(ctx, tx, project, r, catalog.SimRetired)
}

// endFor ends a subscription that has not ended, now, for a cause that is
// not the customer's request (userDeleted, phoneNumberPortedOut,
// paymentFailed, paymentDisputed): the cause replaces a cancellation
// scheduled for the period's end, since the subscription ends earlier and
// for another reason; userReason is only for cancellationRequested.
func (s *Service) endFor(ctx context.Context, tx *store.Tx, project string, r *record, now time.Time, cause string) ([]string, error) {
	if r.Status == switchboard.SubscriptionEnded {
		return nil, failure.New(failure.Conflict, "subscriptionNotCancelable", "The subscription has ended.")
	}
	r.CancellationDetails, r.CanceledAt = &switchboard.CancellationDetails{Cause: cause}, &now
	return []string{switchboard.TypeSubscriptionEnded}, s.end(ctx, tx, project, r, now, endedFor[cause], cause)
}

// Causes the simulator may end a subscription with (SimulateEnd).
var simulatedCauses = []string{switchboard.CausePaymentFailed, switchboard.CausePaymentDisputed}

// SimulateEnd ends a pending or active subscription now for a billing
// cause, paymentFailed or paymentDisputed, as the billing system would
// (test projects only: the API serves it with the simulator).
func (s *Service) SimulateEnd(ctx context.Context, project, subID, cause string) (*switchboard.Subscription, error) {
	if err := field.OneOf("cause", cause, simulatedCauses...); err != nil {
		return nil, err
	}
	return s.updateTx(ctx, project, subID, func(tx *store.Tx, r *record, now time.Time) ([]string, error) {
		return s.endFor(ctx, tx, project, r, now, cause)
	})
}

// EndPortedOut ends the active subscription whose number another carrier
// took (cause phoneNumberPortedOut), in the port-out's transaction.
func (s *Service) EndPortedOut(ctx context.Context, tx *store.Tx, project, subID string) (*switchboard.Subscription, error) {
	r, err := load(ctx, tx, project, subID)
	if err != nil {
		return nil, err
	}
	if r.Status != switchboard.SubscriptionActive {
		return nil, failure.New(failure.Conflict, "subscriptionNotActive", "Only an active subscription's number can be ported out; this one is %s.", r.Status)
	}
	now := s.now(project)
	return s.change(ctx, tx, project, r, func(r *record) ([]string, error) {
		return s.endFor(ctx, tx, project, r, now, switchboard.CausePhoneNumberPortedOut)
	})
}

// UserDeleted ends every subscription of a deleted user that has not ended
// (cause userDeleted; a porting one waited on is canceled), oldest first,
// then has the user's remaining portings disposed of.
func (s *Service) UserDeleted(ctx context.Context, tx *store.Tx, project, userID string) error {
	var ids []string
	after := ""
	for {
		items, cur, err := tx.List(ctx, store.Query{Kind: Kind, Project: project, Owner: userID, Page: store.Page{After: after, Limit: 200}})
		if err != nil {
			return fmt.Errorf("subscription: list: %w", err)
		}
		for _, b := range items {
			var r record
			if err := json.Unmarshal(b, &r); err != nil {
				return fmt.Errorf("subscription: decode: %w", err)
			}
			if r.Status != switchboard.SubscriptionEnded {
				ids = append(ids, r.ID)
			}
		}
		if cur.MoreAfter == "" {
			break
		}
		after = cur.MoreAfter
	}
	slices.Reverse(ids)
	now := s.now(project)
	for _, id := range ids {
		r, err := s.loadForEnd(ctx, tx, project, id)
		if err != nil {
			return err
		}
		if _, err := s.change(ctx, tx, project, r, func(r *record) ([]string, error) {
			return s.endFor(ctx, tx, project, r, now, switchboard.CauseUserDeleted)
		}); err != nil {
			return err
		}
	}
	return s.Portings.UserDeleted(ctx, tx, project, userID)
}

// User reasons for a requested cancellation.
var userReasons = []string{"connectivityIssues", "customerService", "noDetails", "other", "tooExpensive", "unused"}

// CancelParams are the fields of a cancellation.
type CancelParams struct {
	// Immediately ends the subscription now, for good; otherwise it ends
	// with its current period and can be resumed until then.
	Immediately bool    `json:"immediately"`
	UserReason  *string `json:"userReason"`
	UserComment *string `json:"userComment"`
}

func (p *CancelParams) validate() error {
	if p.UserReason != nil {
		if err := field.OneOf("userReason", *p.UserReason, userReasons...); err != nil {
			return err
		}
	}
	if p.UserComment != nil {
		if p.UserReason == nil || *p.UserReason != "other" {
			return failure.New(failure.Invalid, "invalidUserComment", "The field userComment goes only with the userReason other.")
		}
		if err := field.Length("userComment", *p.UserComment, 1, limits.MaxUserComment); err != nil {
			return err
		}
	}
	return nil
}

// Cancel cancels the subscription: immediately, or at the end of the
// current period (it stays active until then and can be resumed).
func (s *Service) Cancel(ctx context.Context, project, subID string, p CancelParams) (*switchboard.Subscription, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	return s.updateTx(ctx, project, subID, func(tx *store.Tx, r *record, now time.Time) ([]string, error) {
		switch {
		case r.Status == switchboard.SubscriptionEnded:
			return nil, failure.New(failure.Conflict, "subscriptionNotCancelable", "The subscription has ended.")
		case r.CanceledAt != nil && !p.Immediately:
			return nil, failure.New(failure.Conflict, "subscriptionAlreadyCanceled", "The subscription is canceled already; it ends at %s.", r.EndedAt.Format(time.RFC3339))
		}
		details := &switchboard.CancellationDetails{Cause: switchboard.CauseCancellationRequested, UserReason: p.UserReason, UserComment: p.UserComment}
		if p.UserReason == nil {
			noDetails := "noDetails"
			details.UserReason = &noDetails
		}
		r.CancellationDetails, r.CanceledAt = details, &now
		if p.Immediately || r.Status == switchboard.SubscriptionPending {
			if err := s.end(ctx, tx, project, r, now, OnCancel, switchboard.CauseCancellationRequested); err != nil {
				return nil, err
			}
			return []string{switchboard.TypeSubscriptionCanceled, switchboard.TypeSubscriptionEnded}, nil
		}
		end := r.CurrentPeriod.End
		if r.EarliestEndAt != nil && r.EarliestEndAt.After(end) {
			end = *r.EarliestEndAt
		}
		r.EndedAt = &end
		return []string{switchboard.TypeSubscriptionCanceled}, nil
	})
}

// Resume undoes a cancellation scheduled for the end of the period.
func (s *Service) Resume(ctx context.Context, project, subID string) (*switchboard.Subscription, error) {
	return s.updateTx(ctx, project, subID, func(_ *store.Tx, r *record, now time.Time) ([]string, error) {
		if r.Status != switchboard.SubscriptionActive || r.CanceledAt == nil || r.EndedAt == nil || !r.EndedAt.After(now) {
			return nil, failure.New(failure.Conflict, "subscriptionNotResumable", "Only an active subscription canceled for the end of its period can be resumed.")
		}
		r.CanceledAt, r.EndedAt, r.CancellationDetails = nil, nil, nil
		return []string{switchboard.TypeSubscriptionResumed}, nil
	})
}

// updateTx loads a subscription and changes it in its own transaction.
func (s *Service) updateTx(ctx context.Context, project, subID string, fn func(*store.Tx, *record, time.Time) ([]string, error)) (*switchboard.Subscription, error) {
	var view *switchboard.Subscription
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		r, err := s.loadForEnd(ctx, tx, project, subID)
		if err != nil {
			return err
		}
		now := s.now(project)
		view, err = s.change(ctx, tx, project, r, func(r *record) ([]string, error) { return fn(tx, r, now) })
		return err
	})
	return view, err
}

// Tick runs the subscription's timer if it is due: a scheduled end ends it,
// a period's end renews a recurring plan and ends a one-time one. It does
// nothing otherwise, so a timer seen twice fires once.
func (s *Service) Tick(ctx context.Context, tx *store.Tx, project, subID string) error {
	r, err := load(ctx, tx, project, subID)
	if err != nil {
		if failure.Is(err, failure.NotFound, "") {
			return nil
		}
		return err
	}
	if r.Status != switchboard.SubscriptionActive || r.CurrentPeriod == nil {
		return nil
	}
	now := s.Clock.For(project).Now()
	if r.EndedAt != nil && !r.EndedAt.After(now) {
		_, err = s.change(ctx, tx, project, r, func(r *record) ([]string, error) {
			return []string{switchboard.TypeSubscriptionEnded}, s.end(ctx, tx, project, r, *r.EndedAt, OnEnd, switchboard.CauseCancellationRequested)
		})
		return err
	}
	if r.CurrentPeriod.End.After(now) {
		return nil
	}
	plan, err := catalog.LoadPlan(ctx, tx, project, r.Plan)
	if err != nil {
		return err
	}
	_, err = s.change(ctx, tx, project, r, func(r *record) ([]string, error) {
		p := r.CurrentPeriod
		if plan.Validity.Type == switchboard.ValidityOneTime {
			return []string{switchboard.TypeSubscriptionEnded}, s.end(ctx, tx, project, r, p.End, OnEnd, switchboard.CauseSubscriptionEnded)
		}
		r.CurrentPeriod = &switchboard.Period{Number: p.Number + 1, Start: p.End, End: addPeriods(*r.ActivatedAt, plan.Validity, p.Number+1)}
		return []string{switchboard.TypeSubscriptionRenewed}, nil
	})
	return err
}

// portingChanged follows a change of the subscription's porting: the
// subscription embeds it, so its update shows the porting's previous state
// in previousData.porting, read from the porting as it was before the
// change (the porting is saved already when this runs). While the
// subscription is pending, the porting's completion activates it, a
// cancellation ends it (cancellationRequested) and an expiry ends it
// (portingExpired).
func (s *Service) portingChanged(ctx context.Context, tx *store.Tx, project string, before, after *switchboard.Porting) error {
	if after.Subscription == nil {
		return nil
	}
	r, err := load(ctx, tx, project, *after.Subscription)
	if err != nil {
		return err
	}
	prev, err := s.view(ctx, tx, project, r)
	if err != nil {
		return err
	}
	if prev.Porting != nil && prev.Porting.ID == before.ID {
		prev.Porting = before
	}
	var fn func(*record) ([]string, error)
	if r.Status == switchboard.SubscriptionPending && before.Status != after.Status {
		now := s.now(project)
		switch after.Status {
		case switchboard.PortingCompleted:
			fn = func(r *record) ([]string, error) { return s.activate(ctx, tx, project, r, after.PhoneNumber, now) }
		case switchboard.PortingCanceled:
			fn = func(r *record) ([]string, error) {
				return []string{switchboard.TypeSubscriptionEnded}, s.end(ctx, tx, project, r, now, OnPorting, switchboard.CauseCancellationRequested)
			}
		case switchboard.PortingExpired:
			fn = func(r *record) ([]string, error) {
				return []string{switchboard.TypeSubscriptionEnded}, s.end(ctx, tx, project, r, now, OnPorting, switchboard.CausePortingExpired)
			}
		}
	}
	_, err = s.changeFrom(ctx, tx, project, r, prev, fn)
	return err
}

// RandomNumber returns a random valid US phone number for a subscription
// without a porting.
func RandomNumber() string {
	for {
		n, err := rand.Int(rand.Reader, big.NewInt(10_000_000))
		if err != nil {
			panic("subscription: no randomness: " + err.Error())
		}
		number := fmt.Sprintf("+1415%07d", n.Int64())
		if field.PhoneNumber("phoneNumber", number) == nil {
			return number
		}
	}
}
