package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/delivery"
)

// deliveryFlags binds the webhook delivery flags to cfg and returns a
// function that completes cfg once the flags are parsed; shutdownGrace is
// the whole server's, of which the dispatcher takes half.
func deliveryFlags(cfg *delivery.Config, fs *flag.FlagSet, shutdownGrace *time.Duration) func() error {
	fs.DurationVar(&cfg.Timeout, "webhook-timeout", delivery.DefaultTimeout, "how long an endpoint has to answer")
	schedule := fs.String("webhook-retry-schedule", "",
		"comma-separated delays before each retry (default 5s,5m,30m,2h,5h,10h,10h)")
	fs.DurationVar(&cfg.DisableAfter, "webhook-disable-after", delivery.DefaultDisableAfter,
		"disable an endpoint that has failed continuously this long (platform clock)")
	fs.DurationVar(&cfg.SecretGrace, "webhook-secret-grace", 24*time.Hour,
		"how long a rotated-out signing secret keeps signing")
	fs.DurationVar(&cfg.Lease, "webhook-lease", delivery.DefaultLease,
		"how long a claimed delivery stays with this process; after a crash, others wait this long to retry it")
	fs.IntVar(&cfg.Workers, "webhook-workers", delivery.DefaultWorkers, "how many delivery attempts run at once")
	return func() error {
		cfg.ShutdownGrace = *shutdownGrace / 2
		if *schedule == "" {
			return nil
		}
		cfg.Schedule = nil
		for _, part := range strings.Split(*schedule, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(part))
			if err != nil || d <= 0 {
				return fmt.Errorf("invalid --webhook-retry-schedule %q: want positive durations such as 5s,5m", *schedule)
			}
			cfg.Schedule = append(cfg.Schedule, d)
		}
		return nil
	}
}
