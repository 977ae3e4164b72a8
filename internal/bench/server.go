package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-dev/switchboard/internal/secret"
	"github.com/switchboard-dev/switchboard/internal/server"
)

// servers are the Switchboard servers a run drives: child processes of the
// harness, one in-process server, or servers that run elsewhere.
type servers struct {
	urls []string
	key  string
	// adminKey is the operator key, which /metrics requires.
	adminKey string
	backend  string
	source   string // where the resource figures come from
	// rateLimit says how the servers limit API requests per key.
	rateLimit string
	// secretKey is the server secret key of the servers started.
	secretKey string

	// pgDSN and pgApp, with PostgreSQL, find the servers' backends: their
	// connections carry application_name pgApp.
	pgDSN, pgApp string

	procs   []*exec.Cmd
	inproc  *server.Server
	logs    []string // the children's log files
	cleanup []func()
}

// RateLimitOff is what a report says of the API rate limit of the servers
// the harness starts: off, so that the load measured is not the limit's.
const RateLimitOff = "off (the harness starts its servers with --api-rate-limit 0)"

// rateLimitOf says how servers started with the harness's flags and then
// serveArgs limit API requests: off, unless serveArgs set the limit.
func rateLimitOf(serveArgs []string) string {
	out := RateLimitOff
	for i, a := range serveArgs {
		if v, ok := strings.CutPrefix(strings.TrimLeft(a, "-"), "api-rate-limit"); ok && (v == "" || v[0] == '=') {
			if v == "" && i+1 < len(serveArgs) {
				v = serveArgs[i+1]
			}
			out = "--api-rate-limit " + strings.TrimPrefix(v, "=") + " per key (from --serve-args)"
		}
	}
	return out
}

// newKey returns a random API key.
func newKey() string {
	b := make([]byte, 18)
	rand.Read(b)
	return "sk_bench_" + hex.EncodeToString(b)
}

func randomTag() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// startServers starts what opts ask for.
func startServers(ctx context.Context, opts *Options) (*servers, error) {
	if opts.APIURL != "" {
		if opts.APIKey == "" {
			return nil, errors.New("bench: --api-url needs --api-key")
		}
		s := &servers{urls: strings.Split(opts.APIURL, ","), key: opts.APIKey, adminKey: opts.AdminKey,
			backend: "external", source: "none (external server)",
			rateLimit: "as the running servers are configured (--api-rate-limit)"}
		return s, nil
	}
	s := &servers{key: newKey(), adminKey: newKey(), secretKey: secret.Generate()}
	db := opts.DB
	if db == "" || !isPostgres(db) {
		s.backend = "sqlite"
		if db == "" {
			db = filepath.Join(opts.TempDir, "switchboard.db")
		}
	} else {
		s.backend = "postgres"
		schema := "bench_" + randomTag()
		u, err := url.Parse(db)
		if err != nil {
			return nil, fmt.Errorf("bench: parse --db: %w", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		s.pgDSN, s.pgApp = opts.DB, "switchboard-"+schema
		q.Set("application_name", s.pgApp)
		u.RawQuery = q.Encode()
		db = u.String()
		if !opts.KeepSchema {
			s.cleanup = append(s.cleanup, func() { dropSchema(opts.DB, schema, opts.Log) })
		}
	}
	if s.backend == "sqlite" && opts.Servers > 1 {
		return nil, errors.New("bench: several server processes need PostgreSQL (--db postgres://…)")
	}
	if opts.InProcess {
		if opts.Servers > 1 {
			return nil, errors.New("bench: an in-process server is one server")
		}
		if err := s.startInProcess(ctx, db, opts); err != nil {
			s.stop(context.Background())
			return nil, err
		}
		return s, nil
	}
	for i := range opts.Servers {
		if err := s.startChild(ctx, i, db, opts); err != nil {
			s.stop(context.Background())
			return nil, err
		}
	}
	s.source = "child process: /proc/<pid>/status VmHWM, /proc/<pid>/stat utime+stime"
	s.rateLimit = rateLimitOf(opts.ServeArgs)
	return s, nil
}

func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

func (s *servers) startInProcess(ctx context.Context, db string, opts *Options) error {
	cfg := server.Config{Addr: "127.0.0.1:0", DB: db, Project: opts.Project, APIKey: s.key, AdminKey: s.adminKey, SecretKey: s.secretKey,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cfg.Delivery = opts.Delivery
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bench: start server: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		srv.Shutdown(context.Background())
		return fmt.Errorf("bench: start server: %w", err)
	}
	s.inproc = srv
	s.urls = []string{srv.URL()}
	s.source = "in-process server: getrusage of the harness (includes the harness and the receiver)"
	s.rateLimit = RateLimitOff // cfg.APIRateLimit is zero
	return nil
}

var listening = regexp.MustCompile(`listening on (http://[^\s]+)`)

func (s *servers) startChild(ctx context.Context, i int, db string, opts *Options) error {
	exe := opts.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("bench: find the switchboard binary: %w", err)
		}
	}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--project", opts.Project,
		"--simulator", "true", "--log-level", "warn", "--api-rate-limit", "0"}
	args = append(args, opts.ServeArgs...)
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "SWITCHBOARD_API_KEY="+s.key, "SWITCHBOARD_ADMIN_KEY="+s.adminKey)
	if os.Getenv("SWITCHBOARD_SECRET_KEY") == "" {
		// Every server of one run shares a fresh secret key.
		cmd.Env = append(cmd.Env, "SWITCHBOARD_SECRET_KEY="+s.secretKey)
	}
	if opts.CPUProfile != "" {
		p := opts.CPUProfile
		if opts.Servers > 1 {
			p += "." + strconv.Itoa(i)
		}
		cmd.Env = append(cmd.Env, "SWITCHBOARD_CPUPROFILE="+p)
	}
	logPath := filepath.Join(opts.TempDir, fmt.Sprintf("serve-%d.log", i))
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("bench: server log: %w", err)
	}
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return fmt.Errorf("bench: server stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("bench: start %s serve: %w", exe, err)
	}
	s.procs = append(s.procs, cmd)
	s.logs = append(s.logs, logPath)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		logFile.Close()
		if !sent {
			found <- "" // the server exited before it listened
		}
	}()
	select {
	case u := <-found:
		if u == "" {
			// The temporary directory, log included, goes with the run:
			// the log's end goes in the error.
			return fmt.Errorf("bench: %s serve exited before it listened (another build must take the same serve flags); its log ends: %s",
				exe, logTail(logPath))
		}
		s.urls = append(s.urls, u)
	case <-time.After(60 * time.Second):
		return fmt.Errorf("bench: server %d did not start within 60s: %s", i, logTail(logPath))
	case <-ctx.Done():
		return ctx.Err()
	}
	return waitHealthy(ctx, s.urls[len(s.urls)-1])
}

func waitHealthy(ctx context.Context, base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("bench: %s not healthy within 30s", base)
}

// usage is what the servers cost.
type usage struct {
	peakRSS int64 // bytes, the largest of the processes
	cpu     time.Duration
	perProc []procUsage
}

type procUsage struct {
	PID     int     `json:"pid"`
	PeakRSS int64   `json:"peak_rss_bytes"`
	RSS     int64   `json:"rss_bytes"`
	CPU     float64 `json:"cpu_seconds"`
}

// usage reads the servers' peak RSS and CPU time so far.
func (s *servers) usage() usage {
	var u usage
	if s.inproc != nil {
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			u.peakRSS = ru.Maxrss * 1024
			u.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
		return u
	}
	for _, p := range s.procs {
		if p.Process == nil {
			continue
		}
		pu := readProc(p.Process.Pid)
		u.perProc = append(u.perProc, pu)
		u.peakRSS = max(u.peakRSS, pu.PeakRSS)
		u.cpu += time.Duration(pu.CPU * float64(time.Second))
	}
	return u
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times (100 on Linux).
const clockTicks = 100

// readProc reads a process's peak and current RSS and CPU time from /proc.
func readProc(pid int) procUsage {
	pu := procUsage{PID: pid}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			name, val, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			f := strings.Fields(val)
			if len(f) == 0 {
				continue
			}
			kb, _ := strconv.ParseInt(f[0], 10, 64)
			switch name {
			case "VmHWM":
				pu.PeakRSS = kb * 1024
			case "VmRSS":
				pu.RSS = kb * 1024
			}
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command name, which is in parentheses and may
		// hold spaces: state is field 3, utime 14, stime 15.
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 {
			f := strings.Fields(string(b[i+1:]))
			if len(f) > 12 {
				ut, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				pu.CPU = float64(ut+st) / clockTicks
			}
		}
	}
	return pu
}

// currentRSS returns the servers' current RSS, summed (0 when unknown).
func (s *servers) currentRSS() int64 {
	var n int64
	for _, p := range s.procs {
		if p.Process != nil {
			n += readProc(p.Process.Pid).RSS
		}
	}
	return n
}

// stop shuts the servers down: SIGTERM, then a kill after the grace period.
func (s *servers) stop(ctx context.Context) error {
	var errs []error
	if s.inproc != nil {
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		errs = append(errs, s.inproc.Shutdown(sctx))
		cancel()
	}
	for _, p := range s.procs {
		if p.Process == nil {
			continue
		}
		p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range s.procs {
		if p.Process == nil {
			continue
		}
		done := make(chan error, 1)
		go func() { done <- p.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				errs = append(errs, fmt.Errorf("bench: server %d: %w", p.Process.Pid, err))
			}
		case <-time.After(20 * time.Second):
			p.Process.Kill()
			<-done
			errs = append(errs, fmt.Errorf("bench: server %d did not stop within 20s; killed", p.Process.Pid))
		}
	}
	for _, f := range s.cleanup {
		f()
	}
	return errors.Join(errs...)
}

// dropSchema removes a run's PostgreSQL schema.
func dropSchema(dsn, schema string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		log.Warn("bench: drop schema", "schema", schema, "err", err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		log.Warn("bench: drop schema", "schema", schema, "err", err)
	}
}

// backlog reads the pending deliveries from the first server's /metrics
// (with the operator key); -1 when it cannot.
func (s *servers) backlog(ctx context.Context) int64 {
	req, err := http.NewRequestWithContext(ctx, "GET", s.urls[0]+"/metrics", nil)
	if err != nil {
		return -1
	}
	req.Header.Set("Authorization", "Bearer "+s.adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "switchboard_webhook_pending "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return -1
			}
			return int64(f)
		}
	}
	return -1
}

// pgCPU returns the CPU time so far of each PostgreSQL backend serving the
// servers (by pid; from pg_stat_activity and /proc, so PostgreSQL must run
// on this machine), or nil without PostgreSQL. A backend that exits during
// a run takes its CPU time with it: the figure is a floor.
func (s *servers) pgCPU(ctx context.Context) map[int]float64 {
	if s.pgApp == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.pgDSN)
	if err != nil {
		return nil
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, s.pgApp)
	if err != nil {
		return nil
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil
	}
	out := make(map[int]float64, len(pids))
	for _, pid := range pids {
		out[int(pid)] = readProc(int(pid)).CPU
	}
	return out
}

// logTail returns the last lines of a server's log, for an error.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}
