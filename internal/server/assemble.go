package server

import (
	"context"
	"time"

	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/catalog"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/portout"
	"github.com/switchboard-dev/switchboard/internal/project"
	"github.com/switchboard-dev/switchboard/internal/scheduler"
	"github.com/switchboard-dev/switchboard/internal/simulator"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/subscription"
	"github.com/switchboard-dev/switchboard/internal/user"
)

// assemble seeds the catalog and builds the services into the API's
// dependencies.
func (s *Server) assemble(ctx context.Context, deps *api.Deps) error {
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		if err := catalog.SeedProviders(ctx, tx); err != nil {
			return err
		}
		return catalog.SeedPlans(ctx, tx, s.cfg.Project, clock.Second(s.Clocks.Now(s.cfg.Project)))
	})
	if err != nil {
		return err
	}
	portings := &porting.Service{Store: s.Store, Events: s.Events, Clock: s.Clocks, Timeout: s.cfg.PortingTimeout}
	subs := &subscription.Service{Store: s.Store, Events: s.Events, Clock: s.Clocks, Portings: portings}
	portings.Hooks = subs.Hooks()
	deps.Portings, deps.Subscriptions = portings, subs
	deps.Users = &user.Service{Store: s.Store, Events: s.Events, Clock: s.Clocks,
		Hooks: user.Hooks{Deleted: subs.UserDeleted}}
	deps.PortOut = &portout.Service{Store: s.Store, Events: s.Events, Clock: s.Clocks, Subscriptions: subs,
		Lifetime: s.cfg.PortOutLifetime}
	s.Scheduler = &scheduler.Scheduler{
		Store: s.Store, Clock: s.Clocks, Logger: s.log,
		Handlers: map[string]scheduler.Handler{
			porting.Kind:      portings.Tick,
			subscription.Kind: subs.Tick,
			portout.Kind:      deps.PortOut.Tick,
		},
		// Other processes may have moved a project's clock.
		BeforeScan: s.Projects.LoadClocks,
	}
	deps.Simulator = s.cfg.Simulator != "off"
	if deps.Simulator {
		testProjects := func(ctx context.Context) ([]string, error) { return s.Projects.IDs(ctx, project.Test) }
		s.Simulator = &simulator.Simulator{Store: s.Store, Portings: portings, Projects: testProjects, Auto: s.cfg.Simulator == "auto",
			Delay: s.cfg.SimulatorDelay, Logger: s.log}
	}
	deps.AdvanceClock = s.advanceClock
	s.assembleDelivery(deps)
	return nil
}

// advanceClock moves a test project's clock forward for every process
// (the offset is stored) and fires the project's timers that fall due, and
// no other project's.
func (s *Server) advanceClock(ctx context.Context, projectID string, d time.Duration) (int, time.Duration, error) {
	offset, err := s.Projects.AdvanceClock(ctx, projectID, d)
	if err != nil {
		return 0, 0, err
	}
	fired, err := s.Scheduler.RunDueIn(ctx, projectID)
	return fired, offset, err
}

// startBackground starts the scheduler, the dispatcher and the simulator.
func (s *Server) startBackground(ctx context.Context) {
	s.goBackground(func() { s.Scheduler.Run(ctx) })
	if s.Simulator != nil {
		s.goBackground(func() { s.Simulator.Run(ctx) })
	}
	s.goBackground(func() { s.Dispatcher.Run(ctx) })
	s.goBackground(func() { s.listenDeliveries(ctx) })
	s.goBackground(func() { s.APIKeys.Run(ctx) })
	s.goBackground(func() {
		if err := s.Projects.WatchClocks(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("server: watch other processes' clocks; reloading every second only", "err", err)
		}
	})
}
