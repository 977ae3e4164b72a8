package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/client"
)

func init() {
	commands["events"] = command{"list, show and resend the project's events", eventsCmd}
}

const eventsUsage = `Usage:
  switchboard events list [--type T[,T…]] [--limit N] [--after ID] [--json]
  switchboard events get <event id> [--version V] [--json]
  switchboard events resend <event id> [--endpoint ID] [--json]`

func eventsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, eventsUsage)
		return usageError("events needs a subcommand: list, get or resend")
	}
	fs := newFlags("events "+args[0], stderr)
	api := addAPIFlags(fs)
	fs.Usage = func() { fmt.Fprintln(stderr, eventsUsage+"\n\nFlags:"); fs.PrintDefaults() }
	switch args[0] {
	case "list":
		types := fs.String("type", "", "only events of these types, comma-separated")
		limit := fs.Int("limit", 20, "how many events, 1 to 200")
		after := fs.String("after", "", "only events older than this event ID (the next page)")
		version := fs.String("version", "", "the API version to render the events in (default the newest)")
		if err := parseNone(fs, args[1:]); err != nil {
			return err
		}
		c, err := api.client()
		if err != nil {
			return err
		}
		l, err := c.ListEvents(ctx, client.EventFilter{Types: splitList(*types), Version: *version,
			Page: client.Page{Limit: *limit, After: *after}})
		if err != nil {
			return err
		}
		if api.json {
			return writeJSON(stdout, l)
		}
		return writeEventTable(stdout, l)
	case "get":
		version := fs.String("version", "", "the API version to render the event in (default the newest)")
		id, err := parseOne(fs, args[1:], "an event ID")
		if err != nil {
			return err
		}
		c, err := api.client()
		if err != nil {
			return err
		}
		q := url.Values{}
		if *version != "" {
			q.Set("version", *version)
		}
		raw, err := c.Raw(ctx, http.MethodGet, "/projects/"+url.PathEscape(c.Project)+"/events/"+url.PathEscape(id), q, nil)
		if err != nil {
			return err
		}
		if api.json {
			_, err := stdout.Write(append(raw, '\n'))
			return err
		}
		return writeEventDetail(stdout, raw)
	case "resend":
		endpointID := fs.String("endpoint", "", "resend only to this webhook endpoint (default every matching one)")
		id, err := parseOne(fs, args[1:], "an event ID")
		if err != nil {
			return err
		}
		c, err := api.client()
		if err != nil {
			return err
		}
		ds, err := c.ResendEvent(ctx, id, *endpointID)
		if err != nil {
			return err
		}
		if api.json {
			return writeJSON(stdout, ds)
		}
		if len(ds) == 0 {
			fmt.Fprintf(stdout, "No endpoint wants %s: nothing was queued.\n", id)
			return nil
		}
		rows := make([][]string, len(ds))
		for i, d := range ds {
			rows[i] = []string{d.ID, d.Endpoint, d.Status}
		}
		return writeTable(stdout, []string{"DELIVERY", "ENDPOINT", "STATUS"}, rows)
	case "-h", "--help", "help":
		bindEnv(fs) // only to name the variables
		fs.Usage()
		return nil
	}
	return usageError("unknown events subcommand %q: want list, get or resend", args[0])
}

// parseNone parses flags and refuses positional arguments.
func parseNone(fs *flag.FlagSet, args []string) error {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("unexpected argument %q", pos[0])
	}
	return nil
}

// parseOne parses flags around exactly one positional argument.
func parseOne(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", usageError("want %s", what)
	}
	return pos[0], nil
}

// writeEventTable writes a page of events as a table.
func writeEventTable(w io.Writer, l *client.List[switchboard.Event]) error {
	rows := make([][]string, len(l.Items))
	for i := range l.Items {
		e := &l.Items[i]
		rows[i] = []string{e.ID, e.Type, orDash(client.ResourceID(e)), formatTime(e.Time)}
	}
	if err := writeTable(w, []string{"ID", "TYPE", "RESOURCE", "TIME"}, rows); err != nil {
		return err
	}
	if l.MoreItemsAfter != nil {
		fmt.Fprintf(w, "More: --after %s\n", *l.MoreItemsAfter)
	}
	return nil
}

// writeEventDetail writes one event: its envelope as a table, then its data.
func writeEventDetail(w io.Writer, raw []byte) error {
	var e switchboard.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		return fmt.Errorf("decode event: %w", err)
	}
	rows := [][]string{
		{"Type", e.Type},
		{"Time", formatTime(e.Time)},
		{"Resource", orDash(client.ResourceID(&e))},
		{"Project", e.Project},
		{"Version", e.Version},
		{"Source", e.Source},
	}
	if e.Actor != nil {
		who := e.Actor.APIKey + e.Actor.User + e.Actor.Member
		rows = append(rows, []string{"Actor", e.Actor.Type + " " + who})
	}
	if err := writeTable(w, []string{"EVENT", e.ID}, rows); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nData:")
	var data any
	if err := json.Unmarshal(e.Data, &data); err != nil {
		return fmt.Errorf("decode event data: %w", err)
	}
	if err := writeJSON(w, data); err != nil {
		return err
	}
	if len(e.PreviousData) > 0 {
		fmt.Fprintln(w, "\nPrevious data:")
		var prev any
		if err := json.Unmarshal(e.PreviousData, &prev); err != nil {
			return fmt.Errorf("decode previous data: %w", err)
		}
		return writeJSON(w, prev)
	}
	return nil
}
