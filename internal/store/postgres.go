package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// DefaultMaxConns is the size of a process's PostgreSQL pool unless
// Options.MaxConns or the URL's pool_max_conns say otherwise. Several
// processes share the server's max_connections (100 by default), so the
// pool stays small: a transaction holds its connection only briefly.
const DefaultMaxConns = 10

// poolMaxConns is the URL parameter that sizes the pool (the name pgxpool
// uses); it is taken out of the URL before pgx sees it, since PostgreSQL
// would refuse it as a run-time parameter.
const poolMaxConns = "pool_max_conns"

// splitPoolSize removes pool_max_conns from a PostgreSQL URL and returns it.
func splitPoolSize(dsn string) (string, int, error) {
	if !strings.Contains(dsn, poolMaxConns) {
		return dsn, 0, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", 0, fmt.Errorf("store: parse PostgreSQL URL: %w", err)
	}
	q := u.Query()
	v := q.Get(poolMaxConns)
	q.Del(poolMaxConns)
	u.RawQuery = q.Encode()
	if v == "" {
		return u.String(), 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return "", 0, fmt.Errorf("store: invalid %s=%q: want a positive integer", poolMaxConns, v)
	}
	return u.String(), n, nil
}

func (s *Store) openPostgres(ctx context.Context, dsn string, opts Options) error {
	dsn, maxConns, err := splitPoolSize(dsn)
	if err != nil {
		return err
	}
	s.dsn = dsn
	if opts.MaxConns > 0 {
		maxConns = opts.MaxConns
	}
	if maxConns == 0 {
		maxConns = DefaultMaxConns
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("store: parse PostgreSQL URL: %w", err)
	}
	if opts.Schema == "" {
		// A search_path=name parameter in the URL names the schema too
		// (the way to choose one from the command line), when it is one
		// plain name.
		if sp := cfg.RuntimeParams["search_path"]; schemaName.MatchString(sp) && sp != "public" {
			opts.Schema = sp
			s.schema = sp
		}
	}
	if opts.Schema != "" {
		if !schemaName.MatchString(opts.Schema) {
			return fmt.Errorf("store: invalid schema name %q", opts.Schema)
		}
		if err := createSchema(ctx, cfg, opts.Schema); err != nil {
			return err
		}
		cfg.RuntimeParams["search_path"] = opts.Schema
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "switchboard"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	// Idle connections go after a while, so that a quiet process does not
	// hold its share of max_connections; old ones are replaced now and
	// then. Connections that died with the server are found by the
	// driver's liveness check before reuse and replaced.
	db.SetConnMaxIdleTime(2 * time.Minute)
	db.SetConnMaxLifetime(30 * time.Minute)
	s.write, s.read = db, db
	// The lazy pool: the same connections' settings, but commits that do
	// not wait for the WAL to reach the disk (UpdateLazy).
	lazyCfg := cfg.Copy()
	lazyCfg.RuntimeParams["synchronous_commit"] = "off"
	lazy := stdlib.OpenDB(*lazyCfg)
	lazyConns := max(1, min(8, maxConns/2))
	lazy.SetMaxOpenConns(lazyConns)
	lazy.SetMaxIdleConns(lazyConns)
	lazy.SetConnMaxIdleTime(2 * time.Minute)
	lazy.SetConnMaxLifetime(30 * time.Minute)
	s.lazy = lazy
	return nil
}

func createSchema(ctx context.Context, cfg *pgx.ConnConfig, schema string) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("store: connect to PostgreSQL: %w", mapPostgresErr(err))
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23505" { // a concurrent creator won
			return fmt.Errorf("store: create schema %s: %w", schema, err)
		}
	}
	return nil
}

// ConnConfig returns the pgx configuration of a PostgreSQL store, for
// connections of its own such as LISTEN.
func (s *Store) ConnConfig() (*pgx.ConnConfig, error) {
	if s.d.name != Postgres {
		return nil, errors.New("store: not PostgreSQL")
	}
	cfg, err := pgx.ParseConfig(s.dsn)
	if err != nil {
		return nil, err
	}
	if s.schema != "" {
		cfg.RuntimeParams["search_path"] = s.schema
	}
	return cfg, nil
}

// mapPostgresErr maps a unique violation to ErrDuplicate and every sign of
// a database that cannot be reached or is going away (connection refused or
// reset, the server shutting down or starting up, too many connections) to
// ErrUnavailable. A cancelled or expired context stays what it is.
func mapPostgresErr(err error) error {
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrDuplicate) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			return fmt.Errorf("%w: %v", ErrDuplicate, err)
		case pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || // admin/crash shutdown, cannot connect now
			pe.Code == "53300" || strings.HasPrefix(pe.Code, "08"): // too many connections, connection exceptions
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	if errors.As(err, &ne) || errors.As(err, &ce) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		strings.Contains(err.Error(), "conn closed") {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return err
}

func postgresRetryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
