package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apikey"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/delivery"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/portout"
	"github.com/switchboard-dev/switchboard/internal/project"
	"github.com/switchboard-dev/switchboard/internal/secret"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/subscription"
	"github.com/switchboard-dev/switchboard/internal/user"
)

// Deps are what the API serves. Each area of the API reads the services it
// needs from here.
type Deps struct {
	Store *store.Store
	// Clock tells each project's time.
	Clock clock.Source
	// Wall is the server's own clock (idempotency keys, webhook
	// delivery), which no test clock moves.
	Wall   clock.Clock
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

	// Projects manages the projects and their test clocks.
	Projects *project.Service
	// APIKeys manages and authenticates the projects' API keys.
	APIKeys *apikey.Service
	// Operator reports whether a token is the operator key.
	Operator func(ctx context.Context, token string) (bool, error)

	// Keys keys the hashes of idempotent requests; nil leaves them unkeyed.
	Keys *secret.Keyring
	// RateLimit is how many requests a second one API key may make
	// (bursting to limits.APIBurst seconds' worth); 0 is no limit.
	RateLimit float64

	// Simulator serves the network-provider simulator's endpoints (in test
	// projects only).
	Simulator bool
	// AdvanceClock moves a test project's clock forward, runs the
	// project's timers that fall due, and returns how many fired and the
	// clock's new offset.
	AdvanceClock func(ctx context.Context, project string, d time.Duration) (fired int, offset time.Duration, err error)
}

// routes registers every area's routes.
func (s *Server) routes() {
	s.routeProjects()
	s.routeAPIKeys()
	s.routeEvents()
	s.routeCatalog()
	s.routeUsers()
	s.routePortings()
	s.routeSubscriptions()
	s.routeSimulator()
	s.routeEndpoints()
	s.routeDeliveries()
}
