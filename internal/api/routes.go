package api

import (
	"slices"
	"strings"
)

// SubscriptionActions lists the actions of a subscription's simulate
// route, for the published contract.
func SubscriptionActions() []string { return slices.Clone(subscriptionActions) }

// Route is a registered route: a method and a path pattern in the syntax of
// net/http's ServeMux ("/projects/{project}/portings/{id}").
type Route struct {
	Method string
	Path   string
}

// String returns the route as a ServeMux pattern, "GET /path".
func (r Route) String() string { return r.Method + " " + r.Path }

// ParseRoute splits a ServeMux pattern "METHOD /path" into a Route.
func ParseRoute(pattern string) Route {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return Route{Path: pattern}
	}
	return Route{Method: method, Path: strings.TrimSpace(path)}
}

// Routes returns the routes the API serves, in registration order (the
// catch-all that answers routeNotFound is not one). The published contract
// is checked against them.
func (s *Server) Routes() []Route {
	out := make([]Route, len(s.patterns))
	for i, p := range s.patterns {
		out[i] = ParseRoute(p)
	}
	return out
}

// The API's own wire types, exported under the names the published
// contract gives them, so that it is generated from the types the handlers
// answer with.
type (
	// ErrorObject is the platform's error object.
	ErrorObject = errorBody
	// EndpointObject is a webhook endpoint.
	EndpointObject = endpointObject
	// DeliveryObject is one event's delivery to one endpoint.
	DeliveryObject = deliveryObject
	// AttemptObject is one delivery attempt.
	AttemptObject = attemptObject
	// RecoveryObject answers a recover request.
	RecoveryObject = recoveryObject
	// ClockObject is the simulator's platform clock.
	ClockObject = clockBody
	// SimulatePortingParams ask the simulator to act on a porting.
	SimulatePortingParams = simulatePortingParams
	// SimulateSubscriptionParams ask the simulator to end a subscription.
	SimulateSubscriptionParams = simulateSubscriptionParams
	// AdvanceClockParams move the platform clock forward.
	AdvanceClockParams = advanceClockParams
	// ResendParams name the endpoint an event is resent to.
	ResendParams = resendParams
	// RecoverParams say from when on failed deliveries are requeued.
	RecoverParams = recoverParams
	// ListObject is the list envelope; the contract describes its items per
	// operation.
	ListObject = list
)
