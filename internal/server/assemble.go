package server

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/catalog"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/portout"
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
		return catalog.SeedPlans(ctx, tx, s.cfg.Project, clock.Second(s.Clock.Now()))
	})
	if err != nil {
		return err
	}
	deps.Users = &user.Service{Store: s.Store, Events: s.Events, Clock: s.Clock}
	portings := &porting.Service{Store: s.Store, Events: s.Events, Clock: s.Clock, Timeout: s.cfg.PortingTimeout, Keys: s.Keys}
	subs := &subscription.Service{Store: s.Store, Events: s.Events, Clock: s.Clock, Portings: portings}
	portings.Hooks = subs.Hooks()
	deps.Portings, deps.Subscriptions = portings, subs
	deps.PortOut = &portout.Service{Store: s.Store, Events: s.Events, Clock: s.Clock, Subscriptions: subs,
		Lifetime: s.cfg.PortOutLifetime, Keys: s.Keys}
	s.Scheduler = &scheduler.Scheduler{
		Store: s.Store, Clock: s.Clock, Logger: s.log,
		Handlers: map[string]scheduler.Handler{
			porting.Kind:      portings.Tick,
			subscription.Kind: subs.Tick,
			portout.Kind:      deps.PortOut.Tick,
		},
		BeforeScan: s.loadClock,
	}
	deps.Simulator = s.cfg.Simulator != "off"
	if deps.Simulator {
		s.Simulator = &simulator.Simulator{Store: s.Store, Portings: portings, Auto: s.cfg.Simulator == "auto",
			Delay: s.cfg.SimulatorDelay, Logger: s.log}
	}
	deps.AdvanceClock = s.advanceClock
	s.assembleDelivery(deps)
	return nil
}

// advanceClock moves the platform clock forward for every process (the
// offset is a shared setting) and fires the timers that fall due.
func (s *Server) advanceClock(ctx context.Context, d time.Duration) (int, time.Duration, error) {
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		v, err := tx.Setting(ctx, clockSetting)
		if err != nil {
			return err
		}
		var offset int64
		if v != "" {
			if offset, err = strconv.ParseInt(v, 10, 64); err != nil {
				return fmt.Errorf("server: stored clock offset %q: %w", v, err)
			}
		}
		offset += int64(d)
		if err := tx.SetSetting(ctx, clockSetting, strconv.FormatInt(offset, 10)); err != nil {
			return err
		}
		tx.AfterCommit(func() { s.Clock.Set(time.Duration(offset)) })
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	fired, err := s.Scheduler.RunDue(ctx)
	return fired, s.Clock.Offset(), err
}

// startBackground starts the scheduler, the dispatcher and the simulator.
func (s *Server) startBackground(ctx context.Context) {
	s.goBackground(func() { s.Scheduler.Run(ctx) })
	if s.Simulator != nil {
		s.goBackground(func() { s.Simulator.Run(ctx) })
	}
	s.goBackground(func() { s.Dispatcher.Run(ctx) })
	s.goBackground(func() { s.listenDeliveries(ctx) })
}
