package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/portout"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/store"
)

func init() {
	commands["serve"] = command{"run the server", serve}
	commands["migrate"] = command{"migrate the database and exit", migrate}
}

// serverFlags binds the flags shared by serve and the commands that start a
// server of their own; their environment variables are in flagEnv.
func serverFlags(cfg *server.Config, fs interface {
	StringVar(*string, string, string, string)
}) {
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&cfg.DB, "db", "switchboard.db", "SQLite file, sqlite: URL or postgres:// URL")
	fs.StringVar(&cfg.Project, "project", "dev", "the default project's ID")
	fs.StringVar(&cfg.Source, "source", "https://api.gigs.com", "the events' source URI")
	fs.StringVar(&cfg.Simulator, "simulator", "true", "network-provider simulator: true, false or auto")
}

func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid log level %q", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("invalid log format %q: want text or json", format)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg server.Config
	fs := newFlags("serve", stderr)
	serverFlags(&cfg, fs)
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", "",
		"serve /metrics, without authentication, on this address of its own; when empty /metrics is served beside the API and requires the operator key")
	fs.IntVar(&cfg.Writers, "pg-writers", store.DefaultWriters,
		"PostgreSQL: how many connections run the write transactions, each committing those waiting for it together; -1: each on a connection of its own, committed alone")
	fs.DurationVar(&cfg.SimulatorDelay, "simulator-delay", 0,
		"how long the simulator waits before each step it takes (default 2s)")
	fs.DurationVar(&cfg.PortingTimeout, "porting-timeout", porting.DefaultTimeout,
		"how long an opened porting may take before it expires")
	fs.DurationVar(&cfg.PortOutLifetime, "port-out-lifetime", portout.DefaultLifetime,
		"how long issued port-out credentials stay valid")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	grace := fs.Duration("shutdown-grace", 10*time.Second, "how long shutdown waits for in-flight work")
	finishDelivery := deliveryFlags(&cfg.Delivery, fs, grace)
	safetyFlags(&cfg, fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: switchboard serve [flags]\n\nFlags (each also set by the environment variable it names):")
		fs.PrintDefaults()
		printEnvOnly(stderr, serveEnvOnly)
	}
	if err := bindEnv(fs); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	if err := finishDelivery(); err != nil {
		return err
	}
	log, err := newLogger(*logFormat, *logLevel, stderr)
	if err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(env("SWITCHBOARD_CPUPROFILE", ""))
	if err != nil {
		return err
	}
	defer stopProfile()
	if os.Getenv("GOGC") == "" {
		// The live heap is small (tens of MB) and churns fast: collecting
		// at twice it, not at once more, halves the collector's share of
		// the CPU under load for a few tens of MB. GOGC overrides it.
		debug.SetGCPercent(200)
	}
	cfg.APIKey = env("SWITCHBOARD_API_KEY", "")
	cfg.AdminKey = env("SWITCHBOARD_ADMIN_KEY", "")
	cfg.SecretKey = env("SWITCHBOARD_SECRET_KEY", "")
	cfg.Logger, cfg.Out = log, stdout
	switch cfg.Simulator {
	case "true", "on":
		cfg.Simulator = "on"
	case "false", "off":
		cfg.Simulator = "off"
	case "auto":
	default:
		return fmt.Errorf("invalid --simulator %q: want true, false or auto", cfg.Simulator)
	}
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	fmt.Fprintf(stdout, "Switchboard is listening on %s (project %q, %s)\n", srv.URL(), cfg.Project, srv.Store.Backend())
	<-ctx.Done()
	log.Info("switchboard: shutting down", "grace", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	return srv.Shutdown(sctx)
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	db := fs.String("db", "switchboard.db", "SQLite file, sqlite: URL or postgres:// URL")
	if err := bindEnv(fs); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	st, err := store.Open(ctx, *db, store.Options{})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrated %s\n", st.Backend())
	return st.Close()
}
