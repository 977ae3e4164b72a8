package server

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/delivery"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// assembleDelivery builds webhook delivery: the metrics registry, the
// dispatcher (woken by every commit that queues deliveries), the endpoint
// service and the delivery queue.
func (s *Server) assembleDelivery(deps *api.Deps) {
	s.Metrics = prometheus.NewRegistry()
	s.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg := s.cfg.Delivery
	cfg.Logger, cfg.Registerer, cfg.Keys = s.log, s.Metrics, s.Keys
	s.Dispatcher = delivery.New(s.Store, s.Clock, cfg)
	// A commit that queues deliveries wakes this process's dispatcher at
	// once and the other processes' through the store (LISTEN/NOTIFY on
	// PostgreSQL), which listenDeliveries passes on.
	s.Events.Notify = func() {
		s.Dispatcher.Wake()
		s.Store.Signal(deliveriesChannel)
	}
	// Fresh deliveries to unordered endpoints go to this process's
	// dispatcher straight from the committing transaction.
	s.Events.Handoff = s.Dispatcher
	deps.Endpoints = &endpoint.Service{
		Store: s.Store, Clock: s.Clock, Notify: s.Dispatcher.Wake,
		SecretGrace: cfg.SecretGrace, RefusePrivate: cfg.RefusePrivate, Keys: s.Keys,
	}
	deps.Deliveries = &delivery.Queue{Store: s.Store, Clock: s.Clock, Notify: s.Dispatcher.Wake}
}

// deliveriesChannel is the store channel on which processes tell each other
// that deliveries were queued.
const deliveriesChannel = "deliveries"

// listenDeliveries wakes the dispatcher whenever another process queues
// deliveries, until ctx ends. The dispatcher's poll stays the backstop.
func (s *Server) listenDeliveries(ctx context.Context) {
	if s.Store.Backend() != store.Postgres {
		return // one process: the commit woke the dispatcher already
	}
	wake, err := s.Store.Listen(ctx, deliveriesChannel)
	if err != nil {
		s.log.Warn("delivery: listen for other processes' deliveries; polling only", "err", err)
		return
	}
	for range wake {
		s.Dispatcher.Wake()
	}
}

// metricsHandler serves the Prometheus metrics.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{ErrorLog: slogPrinter{s}})
}

// slogPrinter passes promhttp's errors to the server's logger.
type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) { p.s.log.Error("metrics: serve", "err", v) }
