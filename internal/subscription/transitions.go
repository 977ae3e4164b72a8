package subscription

import (
	"fmt"
	"slices"

	"github.com/switchboard-dev/switchboard"
)

// Transition is one edge of the subscription state machine: On moves a
// subscription from the status From to the status To. An empty From is
// its creation.
type Transition struct {
	From, To, On string
}

// The operations that move a subscription, as the transition table names
// them.
const (
	OnCreate   = "create"
	OnActivate = "activate"     // at once without a porting, else when the porting completes
	OnCancel   = "cancel"       // immediately, or a pending subscription
	OnPorting  = "portingEnded" // its porting was canceled or expired
	OnEnd      = "end"          // the timer: a scheduled end, or a one-time plan's period end
	OnDeleted  = "userDeleted"  // its user was deleted
	OnPortOut  = "portedOut"    // another carrier took its number
	OnBilling  = "billing"      // a payment failed or was disputed (simulated)
)

// endedFor is the operation that ends a subscription for a cause other
// than the customer's request (endFor).
var endedFor = map[string]string{
	switchboard.CauseUserDeleted:          OnDeleted,
	switchboard.CausePhoneNumberPortedOut: OnPortOut,
	switchboard.CausePaymentFailed:        OnBilling,
	switchboard.CausePaymentDisputed:      OnBilling,
}

// transitions is the subscription state machine. Every change of status
// goes through record.move, which refuses one the table lacks;
// TestTransitionTable drives each row through a real server; and
// docs/architecture.md draws it. Renewals, cancellations for the period's
// end and resumptions keep the subscription active: they are not
// transitions.
var transitions = []Transition{
	{"", switchboard.SubscriptionPending, OnCreate},
	{switchboard.SubscriptionPending, switchboard.SubscriptionActive, OnActivate},
	{switchboard.SubscriptionPending, switchboard.SubscriptionEnded, OnCancel},
	{switchboard.SubscriptionPending, switchboard.SubscriptionEnded, OnPorting},
	{switchboard.SubscriptionPending, switchboard.SubscriptionEnded, OnDeleted},
	{switchboard.SubscriptionPending, switchboard.SubscriptionEnded, OnBilling},
	{switchboard.SubscriptionActive, switchboard.SubscriptionEnded, OnCancel},
	{switchboard.SubscriptionActive, switchboard.SubscriptionEnded, OnDeleted},
	{switchboard.SubscriptionActive, switchboard.SubscriptionEnded, OnPortOut},
	{switchboard.SubscriptionActive, switchboard.SubscriptionEnded, OnBilling},
	{switchboard.SubscriptionActive, switchboard.SubscriptionEnded, OnEnd},
}

// Transitions returns the subscription state machine's transitions, a copy
// the caller may keep.
func Transitions() []Transition { return slices.Clone(transitions) }

// move changes the subscription's status by the operation on, which must be
// a transition of the table.
func (r *record) move(to, on string) error {
	if !slices.Contains(transitions, Transition{r.Status, to, on}) {
		return fmt.Errorf("subscription: %s cannot move from %q to %q on %s", r.ID, r.Status, to, on)
	}
	r.Status = to
	return nil
}
