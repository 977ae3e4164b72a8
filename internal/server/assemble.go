package server

import (
	"context"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/catalog"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/delivery"
	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/portout"
	"github.com/switchboard-dev/switchboard/internal/project"
	"github.com/switchboard-dev/switchboard/internal/scheduler"
	"github.com/switchboard-dev/switchboard/internal/simulator"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/subscription"
	"github.com/switchboard-dev/switchboard/internal/user"
)

// assemble seeds the catalog, builds the services, the scheduler and the
// simulator, and returns the API's dependencies. The event log and the
// dispatcher are built already (assembleDelivery).
func (s *Server) assemble(ctx context.Context) (api.Deps, error) {
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		if err := catalog.SeedProviders(ctx, tx); err != nil {
			return err
		}
		return catalog.SeedPlans(ctx, tx, s.cfg.Project, clock.Second(s.Clocks.Now(s.cfg.Project)))
	})
	if err != nil {
		return api.Deps{}, err
	}
	subs := subscription.New(
		subscription.Service{Store: s.Store, Events: s.Events, Clock: s.Clocks},
		porting.Service{Store: s.Store, Events: s.Events, Clock: s.Clocks, Timeout: s.cfg.PortingTimeout, Keys: s.Keys})
	portings := subs.Portings
	portOut := &portout.Service{Store: s.Store, Events: s.Events, Clock: s.Clocks, Subscriptions: subs,
		Lifetime: s.cfg.PortOutLifetime, Keys: s.Keys}
	s.Scheduler = &scheduler.Scheduler{
		Store: s.Store, Clock: s.Clocks, Logger: s.log,
		Handlers: map[string]scheduler.Handler{
			porting.Kind:      portings.Tick,
			subscription.Kind: subs.Tick,
			portout.Kind:      portOut.Tick,
		},
		// Other processes may have moved a project's clock.
		BeforeScan: s.Projects.LoadClocks,
	}
	simulate := s.cfg.Simulator != "off"
	if simulate {
		testProjects := func(ctx context.Context) ([]string, error) { return s.Projects.IDs(ctx, project.Test) }
		s.Simulator = &simulator.Simulator{Store: s.Store, Portings: portings, Projects: testProjects, Auto: s.cfg.Simulator == "auto",
			Delay: s.cfg.SimulatorDelay, Logger: s.log}
	}
	return api.Deps{
		Store: s.Store, Clock: s.Clocks, Wall: s.DeliveryClock, Events: s.Events, Logger: s.log,
		DefaultVersion: switchboard.LatestVersion, RateLimit: s.cfg.APIRateLimit, Keys: s.Keys,
		Projects: s.Projects, APIKeys: s.APIKeys, Operator: s.isOperator,
		Users: &user.Service{Store: s.Store, Events: s.Events, Clock: s.Clocks,
			Hooks: user.Hooks{Deleted: subs.UserDeleted}},
		Portings:      portings,
		Subscriptions: subs,
		PortOut:       portOut,
		Endpoints:     s.endpoints(),
		Deliveries:    &delivery.Queue{Store: s.Store, Clock: s.DeliveryClock, Notify: s.Dispatcher.Wake},
		Simulator:     simulate,
		AdvanceClock:  s.advanceClock,
	}, nil
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
	// The first requests' deliveries are handed over, not left to a claim.
	<-s.Dispatcher.Ready()
	s.goBackground(func() { s.listenDeliveries(ctx) })
	s.goBackground(func() { s.heartbeat(ctx) })
	s.goBackground(func() { s.APIKeys.Run(ctx) })
	s.goBackground(func() {
		if err := s.Projects.WatchClocks(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("server: watch other processes' clocks; reloading every second only", "err", err)
		}
	})
}
