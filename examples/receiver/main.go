package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/webhook"
)

func main() {
	addr := flag.String("addr", ":3000", "address to listen on")
	path := flag.String("path", "/webhooks", "path that receives webhooks")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, *path, os.Getenv("SWITCHBOARD_WEBHOOK_SECRET"), log); err != nil {
		log.Error("receiver failed", "err", err)
		os.Exit(1)
	}
}

func run(addr, path, secret string, log *slog.Logger) error {
	if secret == "" {
		return errors.New("SWITCHBOARD_WEBHOOK_SECRET is not set")
	}
	h, err := webhook.NewHandler(secret, webhook.WithLogger(log))
	if err != nil {
		return fmt.Errorf("webhook handler: %w", err)
	}

	h.On(switchboard.TypePortingDeclined, func(ctx context.Context, ev *switchboard.ParsedEvent) error {
		p, ok := ev.Porting()
		if !ok {
			return fmt.Errorf("event %s carries no porting", ev.ID)
		}
		code, message := "", ""
		if p.DeclinedCode != nil {
			code = *p.DeclinedCode
		}
		if p.DeclinedMessage != nil {
			message = *p.DeclinedMessage
		}
		log.InfoContext(ctx, "porting declined", "event", ev.ID, "porting", p.ID,
			"phone_number", p.PhoneNumber, "code", code, "message", message, "attempts", p.DeclinedAttempts)
		fmt.Printf("porting %s declined: %s\n", p.ID, code)
		return nil
	})
	h.Fallback(func(ctx context.Context, ev *switchboard.ParsedEvent) error {
		log.InfoContext(ctx, "event", "event", ev.ID, "type", ev.Type, "version", ev.Version,
			"time", ev.Time, "known", ev.Resource != nil)
		return nil
	})

	mux := http.NewServeMux()
	mux.Handle("POST "+path, h)
	srv := &http.Server{
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		log.Info("listening", "addr", addr, "path", path)
		errc <- srv.ListenAndServe()
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
