package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/delivery"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/portout"
	"github.com/switchboard-dev/switchboard/internal/secret"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/subscription"
	"github.com/switchboard-dev/switchboard/internal/user"
)

// Deps are what the API serves. Each area of the API reads the services it
// needs from here.
type Deps struct {
	Store  *store.Store
	Clock  clock.Clock
	Events *eventlog.Log
	Logger *slog.Logger
	// DefaultVersion is the version events are rendered in when a request
	// names none: the newest supported.
	DefaultVersion string

	Users         *user.Service
	Portings      *porting.Service
	Subscriptions *subscription.Service
	PortOut       *portout.Service
	// Endpoints manages the webhook endpoints; Deliveries shows and repeats
	// their deliveries.
	Endpoints  *endpoint.Service
	Deliveries *delivery.Queue

	// Keys keys the hashes of API keys and idempotent requests; nil leaves
	// them unkeyed.
	Keys *secret.Keyring
	// RateLimit is how many requests a second one API key may make
	// (bursting to limits.APIBurst seconds' worth); 0 is no limit.
	RateLimit float64

	// Simulator serves the network-provider simulator's endpoints.
	Simulator bool
	// AdvanceClock moves the platform clock forward, runs the timers that
	// fall due, and returns how many fired and the clock's new offset.
	AdvanceClock func(ctx context.Context, d time.Duration) (fired int, offset time.Duration, err error)
}

// routes registers every area's routes.
func (s *Server) routes() {
	s.routeEvents()
	s.routeCatalog()
	s.routeUsers()
	s.routePortings()
	s.routeSubscriptions()
	s.routeSimulator()
	s.routeEndpoints()
	s.routeDeliveries()
}
