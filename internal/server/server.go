package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-dev/switchboard/internal/api"
	"github.com/switchboard-dev/switchboard/internal/apikey"
	"github.com/switchboard-dev/switchboard/internal/catalog"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/contract"
	"github.com/switchboard-dev/switchboard/internal/dashboard"
	"github.com/switchboard-dev/switchboard/internal/delivery"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/limits"
	"github.com/switchboard-dev/switchboard/internal/project"
	"github.com/switchboard-dev/switchboard/internal/scheduler"
	"github.com/switchboard-dev/switchboard/internal/secret"
	"github.com/switchboard-dev/switchboard/internal/simulator"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Config configures a server. The zero value serves on 127.0.0.1:8080 with
// switchboard.db in the working directory.
type Config struct {
	// Addr is the address to listen on; "127.0.0.1:0" picks a port.
	Addr string
	// DB is a SQLite file path, a "sqlite:" URL or a "postgres://" URL.
	DB string
	// Schema, for PostgreSQL, is the schema to use.
	Schema string
	// Writers, for PostgreSQL: store.Options.Writers.
	Writers int
	// Project is the default project's ID.
	Project string
	// APIKey is the default project's API key; when empty, one is made on
	// first start and printed to Out once. When it changes between starts,
	// the previous one is revoked.
	APIKey string
	// AdminKey is the operator key, which manages projects and their keys;
	// when empty, the stored one stays, or on first start one is made and
	// printed to Out once. Only its hash is stored.
	AdminKey string
	// MetricsAddr, when set, serves /metrics on a listener of its own, open
	// to whoever reaches it; otherwise /metrics is served beside the API
	// and requires the operator key.
	MetricsAddr string
	// Source is the events' source URI.
	Source string
	// Simulator is "on" (the simulate endpoints and the magic phone
	// numbers), "auto" (also drive every pending porting forward by itself)
	// or "off".
	Simulator string
	// SimulatorDelay is how long the simulator waits before each step it
	// takes; simulator.DefaultDelay when zero.
	SimulatorDelay time.Duration
	// Logger receives the logs; slog.Default() when nil.
	Logger *slog.Logger
	// Out receives what the operator must see once (a generated API key).
	Out io.Writer
	// PortingTimeout is how long an opened porting may take before it
	// expires; porting.DefaultTimeout when zero.
	PortingTimeout time.Duration
	// PortOutLifetime is how long port-out credentials stay valid;
	// portout.DefaultLifetime when zero.
	PortOutLifetime time.Duration
	// SecretKey is the server secret key: base64 32-byte keys, separated by
	// commas, the current first (SWITCHBOARD_SECRET_KEY). When empty, the
	// keys are read from KeyFile, or for SQLite from the key file beside
	// the database (created on first start); PostgreSQL needs one of them.
	SecretKey string
	// KeyFile is a key file to read the keys from when SecretKey is empty.
	KeyFile string
	// Delivery configures webhook delivery; the zero value uses the
	// defaults. Its RefusePrivate and HidePrivateResponses are set by New
	// from AllowPrivateEndpoints and Addr (RefusePrivate set here already
	// refuses whatever the rule says).
	Delivery delivery.Config
	// AllowPrivateEndpoints says whether webhook endpoints may be at
	// loopback, private and link-local addresses. When nil, the rule
	// decides: they are allowed only while the API listens on loopback
	// addresses alone (a laptop), refused as soon as it listens on
	// anything else.
	AllowPrivateEndpoints *bool
	// APIRateLimit is how many requests a second one API key may make; 0
	// is no limit (the binary's default is limits.DefaultAPIRate).
	APIRateLimit float64
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout bound
	// the API's connections; the limits package's defaults when zero.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

func (c *Config) defaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.DB == "" {
		c.DB = "switchboard.db"
	}
	if c.Project == "" {
		c.Project = "dev"
	}
	if c.Source == "" {
		c.Source = eventlog.DefaultSource
	}
	if c.Simulator == "" {
		c.Simulator = "on"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = limits.DefaultReadHeaderTimeout
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = limits.DefaultReadTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = limits.DefaultWriteTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = limits.DefaultIdleTimeout
	}
	refuse, hide := PrivatePolicy(c.Addr, c.AllowPrivateEndpoints)
	c.Delivery.RefusePrivate = c.Delivery.RefusePrivate || refuse
	c.Delivery.HidePrivateResponses = c.Delivery.HidePrivateResponses || hide
}

// Server is a running Switchboard.
type Server struct {
	cfg   Config
	log   *slog.Logger
	Store *store.Store
	// Clocks tells each project's time: the wall clock plus the offset of
	// its test clock.
	Clocks *clock.Projects
	// DeliveryClock is the clock webhook delivery runs on: the wall clock,
	// which no project's test clock moves. Tests move it to cross retry,
	// disabling and grace windows.
	DeliveryClock *clock.Offset
	Events        *eventlog.Log
	API           *api.Server
	// Dashboard is the web dashboard at /dashboard, a client of API.
	Dashboard *dashboard.Dashboard
	// Projects manages projects and their test clocks.
	Projects *project.Service
	// APIKeys manages the projects' API keys.
	APIKeys *apikey.Service
	// Scheduler fires each project's timers by that project's clock.
	Scheduler *scheduler.Scheduler
	// Simulator drives portings as the network provider would; nil when
	// the simulator is off.
	Simulator *simulator.Simulator
	// Dispatcher delivers the event log to the webhook endpoints.
	Dispatcher *delivery.Dispatcher
	// Metrics is the registry /metrics serves.
	Metrics *prometheus.Registry
	// Keys seals the secrets at rest and keys the hashes.
	Keys *secret.Keyring

	process  string // this process's ID (process.go)
	http     *http.Server
	listener net.Listener
	metrics  *http.Server
	// metricsAddr is where metrics listens.
	metricsAddr string
	stop        context.CancelFunc
	wg          sync.WaitGroup
}

// New opens the store, migrates and seeds it, and assembles the services.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg.defaults()
	// Exclusive: on SQLite a second process fails here, before it has
	// read or written anything.
	st, err := store.Open(ctx, cfg.DB, store.Options{Logger: cfg.Logger, Schema: cfg.Schema, Exclusive: true,
		Writers: cfg.Writers})
	if err != nil {
		return nil, err
	}
	cfg.Delivery.Process = newProcessID()
	s := &Server{cfg: cfg, log: cfg.Logger, Store: st, Clocks: &clock.Projects{}, DeliveryClock: &clock.Offset{},
		process: cfg.Delivery.Process}
	if err := s.openKeys(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := s.takeOverLeases(ctx); err != nil {
		st.Close()
		return nil, err
	}
	s.assembleDelivery()
	s.Projects = &project.Service{Store: st, Clock: clock.Wall{}, Clocks: s.Clocks,
		Seed: func(ctx context.Context, tx *store.Tx, p *project.Project) error {
			return catalog.SeedPlans(ctx, tx, p.ID, p.CreatedAt)
		}}
	s.APIKeys = &apikey.Service{Store: st, Events: s.Events, Clock: clock.Wall{}, Logger: cfg.Logger, Secrets: s.Keys}
	if err := s.bootstrap(ctx); err != nil {
		st.Close()
		return nil, err
	}
	deps, err := s.assemble(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	s.API = api.New(deps)
	s.Dashboard = dashboard.New(dashboard.Config{API: s.API, Store: st, Logger: cfg.Logger, DefaultProject: cfg.Project})
	return s, nil
}

// NewAPIKey makes a new API key for the project, creating the project (in
// test mode) if it is new, and returns its token. Tests and tools use it;
// the API's POST /projects/{p}/apiKeys is the way for everyone else.
func (s *Server) NewAPIKey(ctx context.Context, projectID string) (string, error) {
	p, err := s.Projects.Ensure(ctx, projectID, projectID, project.Test)
	if err != nil {
		return "", err
	}
	token, err := apikey.NewToken(apikey.Prefix(p.Mode))
	if err != nil {
		return "", err
	}
	if _, err := s.APIKeys.Add(ctx, projectID, token, "NewAPIKey", apikey.OriginAPI); err != nil {
		return "", err
	}
	return token, nil
}

// Start listens and serves in the background.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Addr, err)
	}
	s.listener = ln
	mux, _ := s.handler()
	if s.cfg.MetricsAddr != "" {
		if err := s.startMetrics(); err != nil {
			ln.Close()
			return err
		}
	}
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: s.cfg.ReadHeaderTimeout, ReadTimeout: s.cfg.ReadTimeout,
		WriteTimeout: s.cfg.WriteTimeout, IdleTimeout: s.cfg.IdleTimeout}
	s.http.RegisterOnShutdown(s.Dashboard.Close) // live tails end, so that Shutdown need not wait them out
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	s.startBackground(bg)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("server: serve", "err", err)
		}
	}()
	private := "allowed"
	if s.cfg.Delivery.RefusePrivate {
		private = "refused"
	}
	s.log.Info("switchboard: serving", "addr", ln.Addr().String(), "db", s.Store.Backend(), "project", s.cfg.Project,
		"privateEndpoints", private, "apiRateLimit", s.cfg.APIRateLimit)
	return nil
}

// startMetrics serves /metrics, open, on a listener of its own
// (--metrics-addr), for a scraper on a network the API's clients do not
// reach.
func (s *Server) startMetrics() error {
	ln, err := net.Listen("tcp", s.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("server: listen for metrics on %s: %w", s.cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler())
	s.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: s.cfg.ReadHeaderTimeout, ReadTimeout: s.cfg.ReadTimeout,
		WriteTimeout: s.cfg.WriteTimeout, IdleTimeout: s.cfg.IdleTimeout}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.metrics.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("server: serve metrics", "err", err)
		}
	}()
	s.metricsAddr = ln.Addr().String()
	s.log.Info("switchboard: serving metrics", "addr", s.metricsAddr)
	return nil
}

// MetricsAddr returns the address of the metrics listener; "" when the
// metrics are served beside the API.
func (s *Server) MetricsAddr() string { return s.metricsAddr }

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// URL returns the server's base URL.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Shutdown stops accepting requests, lets in-flight work finish within
// ctx's deadline, and closes the store.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.http != nil {
		errs = append(errs, s.http.Shutdown(ctx))
	}
	if s.metrics != nil {
		errs = append(errs, s.metrics.Shutdown(ctx))
	}
	if s.stop != nil {
		s.stop()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("server: background work did not stop: %w", ctx.Err()))
	}
	errs = append(errs, s.Store.Close())
	return errors.Join(errs...)
}

// handler returns the server's router: the API, and beside it health,
// metrics and the published contracts (none of which needs a key), with
// the patterns of the routes registered beside the API.
func (s *Server) handler() (*http.ServeMux, []string) {
	mux := &recordingMux{ServeMux: http.NewServeMux()}
	s.health(mux)
	if s.cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", s.operatorOnly(s.metricsHandler()))
	}
	contract.Register(mux)
	mux.Handle(dashboard.Prefix+"/", s.Dashboard)
	mux.Handle("GET /{$}", http.RedirectHandler(dashboard.Prefix+"/", http.StatusSeeOther))
	mux.ServeMux.Handle("/", s.API)
	methodNotAllowed(mux.ServeMux, mux.patterns)
	return mux.ServeMux, mux.patterns
}

// methodNotAllowed answers 405, with Allow and the error object, a request
// for one of the server's own paths (patterns with a method) in a method
// none of them serves, as the API does for its routes: without it, the
// request would fall through to the API's catch-all and answer 404.
func methodNotAllowed(mux *http.ServeMux, patterns []string) {
	allowed := map[string][]string{}
	var paths []string
	for _, p := range patterns {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			continue // every method is served there already
		}
		if _, seen := allowed[path]; !seen {
			paths = append(paths, path)
		}
		allowed[path] = append(allowed[path], method)
		if method == http.MethodGet {
			allowed[path] = append(allowed[path], http.MethodHead)
		}
	}
	for _, path := range paths {
		allow := strings.Join(allowed[path], ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, "malformed", "methodNotAllowed",
				fmt.Sprintf("%s is not allowed on %s; allowed: %s.", r.Method, r.URL.Path, allow))
		})
	}
}

// recordingMux is a ServeMux that keeps the patterns registered on it.
type recordingMux struct {
	*http.ServeMux
	patterns []string
}

func (m *recordingMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *recordingMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// Routes returns every route the server answers: the API's and those
// served beside it. The published contract is checked against them.
func (s *Server) Routes() []api.Route {
	_, own := s.handler()
	routes := s.API.Routes()
	for _, p := range own {
		routes = append(routes, api.ParseRoute(p))
	}
	return routes
}

func (s *Server) health(mux *recordingMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Store.Ping(ctx); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
}

// goBackground runs fn until the server shuts down.
func (s *Server) goBackground(fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
}
