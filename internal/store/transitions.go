package store

import "slices"

// DeliveryTransition is one edge of the delivery state machine: On moves a
// delivery from the status From to the status To. An empty From is the
// delivery's queueing, an empty To its deletion.
type DeliveryTransition struct {
	From, To, On string
}

// The operations that move a delivery, as the transition table names them.
const (
	DeliveryOnQueue   = "queue"   // InsertDelivery(s): an event recorded, or resent to a new endpoint
	DeliveryOnSucceed = "succeed" // RecordResult(s) of a 2xx
	DeliveryOnRetry   = "retry"   // RecordResult(s) of a failure while the retry schedule lasts
	DeliveryOnGiveUp  = "giveUp"  // RecordResult(s) of a failure once the schedule is exhausted
	DeliveryOnResend  = "resend"  // RequeueDelivery
	DeliveryOnRecover = "recover" // RecoverDeliveries
	DeliveryOnDelete  = "delete"  // DeleteDeliveries: the endpoint was deleted
)

// deliveryTransitions is the delivery state machine. A claim, a release and
// pausing or deferring an endpoint's deliveries change a pending delivery's
// lease, pause or due time, not its status. TestDeliveryTransitions drives
// every row through the store on each backend; docs/architecture.md draws
// it.
var deliveryTransitions = []DeliveryTransition{
	{"", DeliveryPending, DeliveryOnQueue},
	{DeliveryPending, DeliverySucceeded, DeliveryOnSucceed},
	{DeliveryPending, DeliveryPending, DeliveryOnRetry},
	{DeliveryPending, DeliveryFailed, DeliveryOnGiveUp},
	{DeliverySucceeded, DeliveryPending, DeliveryOnResend},
	{DeliveryFailed, DeliveryPending, DeliveryOnResend},
	{DeliveryFailed, DeliveryPending, DeliveryOnRecover},
	{DeliveryPending, "", DeliveryOnDelete},
	{DeliverySucceeded, "", DeliveryOnDelete},
	{DeliveryFailed, "", DeliveryOnDelete},
}

// DeliveryTransitions returns the delivery state machine's transitions, a
// copy the caller may keep.
func DeliveryTransitions() []DeliveryTransition { return slices.Clone(deliveryTransitions) }
