package api

import (
	"log/slog"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/store"
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
}

// routes registers every area's routes.
func (s *Server) routes() {
	s.routeEvents()
}
