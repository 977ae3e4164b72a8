package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/bench"
)

func init() {
	commands["bench"] = command{"measure throughput and latency under load: max, steady, fanout, drain, raw, noisy", benchCmd}
}

const benchUsage = `Usage: switchboard bench <scenario> [flags]

Scenarios:
  max      a fixed number of lifecycles as fast as they go (--lifecycles)
  steady   a fixed event rate for a while (--rate, --duration): latency at load
  fanout   every event to many endpoints (--endpoints, default 50): deliveries/s
  drain    the receiver down (503) while a backlog builds (--deliveries), then up
  raw      the receiver alone, hit by an HTTP client set up as the dispatcher's
  noisy    endpoints that hang (or answer slowly) with a backlog (--noisy-endpoints,
           --noisy-backlog, --noisy-mode), beside one endpoint at a steady rate
           (--rate, default 200, --duration): that endpoint's latency

The harness starts its own server as a child process ("switchboard serve" on
127.0.0.1, a fresh SQLite file, or a fresh schema with --db postgres://…)
unless --api-url names running ones, and its own webhook receiver.
`

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, benchUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return errors.New("name a scenario")
	}
	opts := bench.Options{Scenario: args[0]}
	fs := newFlags("bench "+args[0], stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage, "\nFlags:\n"); fs.PrintDefaults() }
	fs.IntVar(&opts.Lifecycles, "lifecycles", 0, "lifecycles to run (max default 2000, fanout 150; drain: as many as --deliveries needs)")
	fs.IntVar(&opts.Workers, "workers", 32, "lifecycles run at once (concurrent API clients)")
	fs.Float64Var(&opts.Rate, "rate", 0, "steady, noisy: target events per second (steady default 1000, noisy 200)")
	fs.IntVar(&opts.NoisyEndpoints, "noisy-endpoints", 10, "noisy: endpoints that hang or answer slowly")
	fs.IntVar(&opts.NoisyBacklog, "noisy-backlog", 1000, "noisy: deliveries queued to each noisy endpoint before the measurement")
	fs.StringVar(&opts.NoisyMode, "noisy-mode", bench.NoisyHang, "noisy: hang (never answer) or slow (answer after --noisy-delay)")
	fs.BoolVar(&opts.NoisySameProject, "noisy-same-project", false, "noisy: the noisy endpoints in the measured project, not a project of their own")
	fs.DurationVar(&opts.NoisyDelay, "noisy-delay", 0, "noisy, slow mode: how long each answer takes (default 2s)")
	fs.DurationVar(&opts.Duration, "duration", 0, "steady: how long to issue calls (default 30s); raw: how long to send (default 5s)")
	fs.IntVar(&opts.Endpoints, "endpoints", 0, "webhook endpoints receiving every event (fanout default 50, otherwise 1)")
	fs.BoolVar(&opts.Ordered, "ordered", false, "make the endpoints ordered (deliveries strictly in log order)")
	fs.IntVar(&opts.Deliveries, "deliveries", 100000, "drain: the backlog to build")
	fs.DurationVar(&opts.DrainTimeout, "drain-timeout", 0, "how long to wait for the deliveries after the calls end (default 5m)")
	fs.StringVar(&opts.DB, "db", "", "database of the servers started: a fresh SQLite file when empty, or a postgres:// URL (a fresh schema is used)")
	fs.BoolVar(&opts.KeepSchema, "keep-schema", false, "keep the PostgreSQL schema afterwards")
	fs.IntVar(&opts.Servers, "servers", 1, "server processes to start (more than one needs --db postgres://…); the API load is split")
	fs.StringVar(&opts.CPUProfile, "cpuprofile", "", "write the server's CPU profile to this file (.N appended per server when several)")
	fs.StringVar(&opts.Exe, "exe", "", "the switchboard binary to start as the servers (default: this one), e.g. another build to compare")
	serveArgs := fs.String("serve-args", "", "extra flags for the started servers' serve command, space-separated (e.g. \"--webhook-workers 64\")")
	fs.StringVar(&opts.APIURL, "api-url", "", "drive running servers at this base URL (comma-separated for several) instead of starting one")
	fs.StringVar(&opts.APIKey, "api-key", "", "API key of --api-url's project (SWITCHBOARD_API_KEY)")
	fs.StringVar(&opts.AdminKey, "admin-key", "", "operator key of --api-url's servers, to read their /metrics (SWITCHBOARD_ADMIN_KEY)")
	fs.StringVar(&opts.Project, "project", "dev", "project of the API key")
	fs.Int64Var(&opts.VerifyEvery, "verify-every", 10, "fully verify the signature of one delivery in this many (1: all; headers are always checked)")
	fs.DurationVar(&opts.RawDuration, "raw-duration", 0, "how long to measure the raw ceiling before the run (default 3s; negative: skip)")
	fs.IntVar(&opts.RawConcurrency, "raw-concurrency", 0, "raw senders (default: the dispatcher's default worker count)")
	harnessProfile := fs.String("harness-cpuprofile", "", "write the harness's own CPU profile (client, receiver) to this file")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	quiet := fs.Bool("quiet", false, "no progress lines")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if opts.APIKey == "" {
		opts.APIKey = env("SWITCHBOARD_API_KEY", "") // not the flag's default: -h would print it
	}
	if opts.AdminKey == "" {
		opts.AdminKey = env("SWITCHBOARD_ADMIN_KEY", "")
	}
	if *serveArgs != "" {
		opts.ServeArgs = strings.Fields(*serveArgs)
	}
	opts.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if !*quiet {
		opts.Progress = stderr
	}
	stopProfile, err := startCPUProfile(*harnessProfile)
	if err != nil {
		return err
	}
	res, err := bench.Run(ctx, opts)
	stopProfile()
	if res != nil {
		if *asJSON {
			if werr := res.WriteJSON(stdout); werr != nil {
				return werr
			}
		} else if werr := res.WriteTable(stdout); werr != nil {
			return werr
		}
	}
	return err
}

// startCPUProfile starts a CPU profile written to path when the server
// stops (SWITCHBOARD_CPUPROFILE; the bench harness sets it for its child
// servers). It returns the function that stops it.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
