package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"

	"github.com/switchboard-dev/switchboard/internal/client"
)

// listen's temporary endpoint names the host and process that made it, so
// that a later listen on the same host can delete one whose process died
// without deleting it (killed, or its machine slept through the deletion):
// left behind, it would collect deliveries to a dead port, retried for days.

// temporaryDescription is the description of listen's temporary endpoint.
func temporaryDescription(host string, pid int) string {
	return fmt.Sprintf("switchboard listen (temporary; host %s, pid %d)", host, pid)
}

var temporaryPattern = regexp.MustCompile(`^switchboard listen \(temporary; host (.+), pid (\d+)\)$`)

// reapTemporary deletes the temporary endpoints that listen processes on
// this host left behind: those whose process no longer runs. It reports
// what it deleted; failing to list or delete is not fatal to listen.
func reapTemporary(ctx context.Context, c *client.Client, host string, alive func(pid int) (bool, bool), stdout, stderr io.Writer) {
	page := client.Page{Limit: 200}
	var stale []client.Endpoint
	for {
		l, err := c.ListEndpoints(ctx, page)
		if err != nil {
			fmt.Fprintf(stderr, "switchboard listen: look for temporary endpoints left behind: %v\n", err)
			return
		}
		for _, e := range l.Items {
			if e.Description == nil {
				continue
			}
			m := temporaryPattern.FindStringSubmatch(*e.Description)
			if m == nil || m[1] != host {
				continue
			}
			pid, err := strconv.Atoi(m[2])
			if err != nil {
				continue
			}
			if running, known := alive(pid); known && !running {
				stale = append(stale, e)
			}
		}
		if l.MoreItemsAfter == nil {
			break
		}
		page.After = *l.MoreItemsAfter
	}
	for _, e := range stale {
		if err := c.DeleteEndpoint(ctx, e.ID); err != nil {
			fmt.Fprintf(stderr, "switchboard listen: delete the temporary endpoint %s left behind: %v\n", e.ID, err)
			continue
		}
		fmt.Fprintf(stdout, "Deleted the temporary endpoint %s an earlier listen left behind (%s).\n", e.ID, *e.Description)
	}
}

// hostname names this machine in temporary endpoints' descriptions.
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown"
	}
	return h
}
