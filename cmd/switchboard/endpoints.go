package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/client"
)

func init() {
	commands["endpoints"] = command{"list, create and delete webhook endpoints", endpointsCmd}
}

const endpointsUsage = `Usage:
  switchboard endpoints list [--limit N] [--after ID] [--json]
  switchboard endpoints create --url URL [--events T,T…] [--version V] [--description D] [--json]
  switchboard endpoints delete <endpoint id> [--json]`

func endpointsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, endpointsUsage)
		return usageError("endpoints needs a subcommand: list, create or delete")
	}
	fs := newFlags("endpoints "+args[0], stderr)
	api := addAPIFlags(fs)
	fs.Usage = func() { fmt.Fprintln(stderr, endpointsUsage+"\n\nFlags:"); fs.PrintDefaults() }
	switch args[0] {
	case "list":
		limit := fs.Int("limit", 50, "how many endpoints, 1 to 200")
		after := fs.String("after", "", "only endpoints older than this endpoint ID (the next page)")
		if err := parseNone(fs, args[1:]); err != nil {
			return err
		}
		c, err := api.client()
		if err != nil {
			return err
		}
		l, err := c.ListEndpoints(ctx, client.Page{Limit: *limit, After: *after})
		if err != nil {
			return err
		}
		if api.json {
			return writeJSON(stdout, l)
		}
		return writeEndpointTable(stdout, l)
	case "create":
		u := fs.String("url", "", "where to deliver the events (required)")
		events := fs.String("events", "*", "event types or wildcards to deliver, comma-separated (com.gigs.porting.*)")
		version := fs.String("version", "", "the API version to render events in (default the newest)")
		desc := fs.String("description", "", "a description")
		if err := parseNone(fs, args[1:]); err != nil {
			return err
		}
		if *u == "" {
			return usageError("endpoints create needs --url")
		}
		c, err := api.client()
		if err != nil {
			return err
		}
		p := client.EndpointParams{URL: *u, EnabledEvents: splitList(*events), Version: *version}
		if *desc != "" {
			p.Description = desc
		}
		e, err := c.CreateEndpoint(ctx, p)
		if err != nil {
			return err
		}
		if api.json {
			return writeJSON(stdout, e)
		}
		if err := writeEndpointTable(stdout, &client.List[client.Endpoint]{Items: []client.Endpoint{*e}}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nSigning secret (shown once, keep it): %s\n", e.Secret)
		return nil
	case "delete":
		id, err := parseOne(fs, args[1:], "an endpoint ID")
		if err != nil {
			return err
		}
		c, err := api.client()
		if err != nil {
			return err
		}
		if err := c.DeleteEndpoint(ctx, id); err != nil {
			return err
		}
		if api.json {
			return writeJSON(stdout, map[string]any{"id": id, "deleted": true})
		}
		fmt.Fprintf(stdout, "Deleted %s\n", id)
		return nil
	case "-h", "--help", "help":
		bindEnv(fs) // only to name the variables
		fs.Usage()
		return nil
	}
	return usageError("unknown endpoints subcommand %q: want list, create or delete", args[0])
}

// writeEndpointTable writes a page of endpoints as a table.
func writeEndpointTable(w io.Writer, l *client.List[client.Endpoint]) error {
	rows := make([][]string, len(l.Items))
	for i, e := range l.Items {
		desc := "-"
		if e.Description != nil && *e.Description != "" {
			desc = *e.Description
		}
		rows[i] = []string{e.ID, e.URL, e.Status, e.Version, strings.Join(e.EnabledEvents, ","), desc, formatTime(e.CreatedAt)}
	}
	if err := writeTable(w, []string{"ID", "URL", "STATUS", "VERSION", "EVENTS", "DESCRIPTION", "CREATED"}, rows); err != nil {
		return err
	}
	if l.MoreItemsAfter != nil {
		fmt.Fprintf(w, "More: --after %s\n", *l.MoreItemsAfter)
	}
	return nil
}
