package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func (s *Store) openPostgres(ctx context.Context, dsn string, opts Options) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("store: parse PostgreSQL URL: %w", err)
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
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	s.write, s.read = db, db
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
	if s.backend != Postgres {
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

func mapPostgresErr(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return fmt.Errorf("%w: %v", ErrDuplicate, err)
		case pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code[:2] == "08":
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
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
