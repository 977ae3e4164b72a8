package server

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/delivery"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
)

// assembleDelivery builds the metrics registry, the dispatcher, and the
// event log that queues deliveries for it: a commit that queues deliveries
// hands the fresh ones to the dispatcher or wakes it.
func (s *Server) assembleDelivery() {
	s.Metrics = prometheus.NewRegistry()
	s.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg := s.cfg.Delivery
	cfg.Logger, cfg.Registerer, cfg.Keys = s.log, s.Metrics, s.Keys
	dispatcher, st := delivery.New(s.Store, s.DeliveryClock, cfg), s.Store
	s.Dispatcher = dispatcher
	s.Events = eventlog.New(eventlog.Config{
		Source: s.cfg.Source, Clock: s.Clocks, Delivery: s.DeliveryClock, Endpoints: endpoint.Targets,
		// A commit that queues deliveries for a claim wakes this process's
		// dispatcher at once and the other processes' through the store
		// (LISTEN/NOTIFY on PostgreSQL), which listenDeliveries passes on.
		Notify: func() {
			dispatcher.Wake()
			st.Signal(deliveriesChannel)
		},
		// Fresh deliveries to unordered endpoints go to this process's
		// dispatcher straight from the committing transaction.
		Handoff: dispatcher,
	})
}

// endpoints returns the webhook endpoint service, which wakes the
// dispatcher when it makes deliveries due.
func (s *Server) endpoints() *endpoint.Service {
	return &endpoint.Service{
		Store: s.Store, Clock: s.DeliveryClock, Notify: s.Dispatcher.Wake,
		SecretGrace: s.cfg.Delivery.SecretGrace, RefusePrivate: s.cfg.Delivery.RefusePrivate, Keys: s.Keys,
	}
}

// deliveriesChannel is the store channel on which processes tell each other
// that deliveries were queued.
const deliveriesChannel = "deliveries"

// listenDeliveries wakes the dispatcher whenever another process queues
// deliveries, until ctx ends. The dispatcher's poll stays the backstop.
func (s *Server) listenDeliveries(ctx context.Context) {
	if !s.Store.CrossProcess() {
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

// operatorOnly serves h to the operator key alone: beside the API, the
// metrics name every project's endpoints. Anyone else gets the API's
// error object.
func (s *Server) operatorOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := api.BearerToken(r)
		if !ok {
			writeError(w, http.StatusUnauthorized, "unauthenticated", "unauthenticated",
				"Authenticate with the operator key: Authorization: Bearer <SWITCHBOARD_ADMIN_KEY>.")
			return
		}
		operator, err := s.isOperator(r.Context(), token)
		switch {
		case err != nil:
			writeError(w, http.StatusServiceUnavailable, "unavailable", "databaseUnavailable",
				"The service is temporarily unavailable; retry later.")
		case !operator:
			writeError(w, http.StatusForbidden, "permissionDenied", "operatorKeyRequired",
				"Only the operator key (SWITCHBOARD_ADMIN_KEY) may read the metrics.")
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// writeError answers with the API's error object.
func writeError(w http.ResponseWriter, status int, typ, code, message string) {
	b, _ := json.Marshal(struct {
		Object  string `json:"object"`
		Type    string `json:"type"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}{"error", typ, code, message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// slogPrinter passes promhttp's errors to the server's logger.
type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) { p.s.log.Error("metrics: serve", "err", v) }
