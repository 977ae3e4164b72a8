package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the result as one JSON object on one line.
func (r *Result) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("bench: encode result: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// WriteTable writes the result as a table, each rate beside the raw
// ceiling.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	ratio := func(v float64) string {
		if r.RawRequestsPerSec <= 0 {
			return ""
		}
		return fmt.Sprintf("%.2f× raw", v/r.RawRequestsPerSec)
	}
	row := func(name, value, note string) { fmt.Fprintf(tw, "%s\t%s\t%s\t\n", name, value, note) }
	fmt.Fprintf(w, "scenario %s  backend %s  servers %d  workers %d  endpoints %d", r.Scenario, r.Backend, r.Servers, r.Workers, r.Endpoints)
	if r.Ordered {
		fmt.Fprint(w, "  ordered")
	}
	if r.Rate > 0 {
		fmt.Fprintf(w, "  target %.0f events/s", r.Rate)
	}
	fmt.Fprintln(w)
	if r.APIRateLimit != "" {
		fmt.Fprintf(w, "API rate limit: %s\n", r.APIRateLimit)
	}
	if r.Scenario != Raw {
		row("lifecycles (failed)", fmt.Sprintf("%d (%d)", r.Lifecycles, r.LifecyclesFailed), "")
		row("duration (first call → last delivery)", fmt.Sprintf("%.2f s", r.DurationSec), "")
		row("API requests", fmt.Sprintf("%d (%d errors)", r.APIRequests, r.APIErrors), "")
		row("API requests/s", fmt.Sprintf("%.0f", r.APIRequestsPerSec), ratio(r.APIRequestsPerSec))
		row("API latency p50 / p99", fmt.Sprintf("%.2f / %.2f ms", r.APIP50, r.APIP99), "")
		row("events committed", fmt.Sprint(r.Events), "")
		row("events committed/s (API phase)", fmt.Sprintf("%.0f", r.CommittedPerSec), ratio(r.CommittedPerSec))
		row("events committed+delivered/s", fmt.Sprintf("%.0f", r.EventsPerSec), ratio(r.EventsPerSec))
	}
	row("deliveries received", fmt.Sprint(r.Deliveries), "")
	row("deliveries/s", fmt.Sprintf("%.0f", r.DeliveriesPerSec), ratio(r.DeliveriesPerSec))
	if r.Scenario == Drain {
		row("drain backlog", fmt.Sprint(r.DrainBacklog), "")
		row("drain time (due → last delivery)", fmt.Sprintf("%.2f s", r.DrainSec), "")
	} else {
		label := "commit→receipt latency p50/p95/p99/max"
		if r.Scenario == Raw {
			label = "request latency p50/p95/p99/max"
		}
		row(label, fmt.Sprintf("%.1f / %.1f / %.1f / %.1f ms", r.LatencyP50, r.LatencyP95, r.LatencyP99, r.LatencyMax), "")
		if r.Scenario != Raw {
			row("request→receipt latency p50/p99/max", fmt.Sprintf("%.1f / %.1f / %.1f ms", r.SendLatencyP50, r.SendLatencyP99, r.SendLatencyMax), "what a user sees")
		}
	}
	if r.Scenario == Noisy {
		row("noisy endpoints (mode, backlog each, project)", fmt.Sprintf("%d (%s, %d, %s)", r.NoisyEndpoints, r.NoisyMode, r.NoisyBacklog, r.NoisyProject), "")
		row("requests to the noisy endpoints", fmt.Sprint(r.NoisyRequests), "")
	}
	if r.Scenario != Raw {
		row("delivered before the API answered", fmt.Sprint(r.BeforeAnswer), "")
		row("missing / duplicate deliveries", fmt.Sprintf("%d / %d", r.Missing, r.Duplicates), "")
		row("signatures verified / bad", fmt.Sprintf("%d / %d", r.Verified, r.BadSignatures), "")
		row("server peak RSS", fmt.Sprintf("%.1f MB", float64(r.PeakRSS)/(1<<20)), "")
		row("server CPU (harness CPU)", fmt.Sprintf("%.2f s (%.2f s)", r.CPUSeconds, r.HarnessCPUSeconds), "")
		if r.PGBackends > 0 {
			row("PostgreSQL backends' CPU", fmt.Sprintf("%.2f s (%d backends)", r.PGCPUSeconds, r.PGBackends), "")
		}
		if r.CPUPerEventMs > 0 {
			row("CPU per event (servers + PostgreSQL)", fmt.Sprintf("%.3f ms", r.CPUPerEventMs), "")
		}
		row("backlog at the end", fmt.Sprint(r.Backlog), "")
	}
	row("raw ceiling (receiver alone)", fmt.Sprintf("%.0f req/s, p50 %.2f ms, p99 %.2f ms, %d senders", r.RawRequestsPerSec, r.RawP50, r.RawP99, r.RawConcurrency), "")
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("bench: write table: %w", err)
	}
	if r.UsageSource != "" {
		fmt.Fprintf(w, "RSS/CPU: %s\n", r.UsageSource)
	}
	if len(r.Unmatched) > 0 {
		var parts []string
		for t, n := range r.Unmatched {
			parts = append(parts, fmt.Sprintf("%s %d", t, n))
		}
		sort.Strings(parts)
		fmt.Fprintf(w, "deliveries no call was known to cause: %s\n", strings.Join(parts, ", "))
	}
	if r.APIFirstError != "" {
		fmt.Fprintf(w, "first API error: %s\n", r.APIFirstError)
	}
	return nil
}
