package server

import (
	"context"

	"github.com/switchboard-dev/switchboard/internal/api"
)

// assemble builds the services into the API's dependencies.
func (s *Server) assemble(deps *api.Deps) {
}

// startBackground starts the scheduler, the dispatcher and the simulator.
func (s *Server) startBackground(ctx context.Context) {
}
